"""Selection: selector-set versions, the domestic-prefix table, the mechanical-information
item set, receipts and the selected records (partitioned by day on PostgreSQL).

Configuration versions and receipts are immutable by trigger. The per-day partitions
of ``selection_record`` are created on demand in the schema ``selection_parts``.

Revision ID: 0006_selection
Revises: 0005_reporting
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0006_selection"
down_revision = "0005_reporting"
branch_labels = None
depends_on = None

PARTITION_SCHEMA = "selection_parts"
IMMUTABLE = (
    "selection_selector_version",
    "selection_prefix_version",
    "selection_item_set",
    "selection_receipt",
)
TABLES = (
    "selection_record",
    "selection_receipt",
    "selection_item_set",
    "selection_prefix_version",
    "selection_selector_version",
    "selection_selector_set",
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "selection_selector_set",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_selector_set")),
        sa.UniqueConstraint("name", name=op.f("uq_selection_selector_set_name")),
    )
    op.create_table(
        "selection_selector_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"], ["selection_selector_set.id"],
            name=op.f("fk_selection_selector_version_set_id_selection_selector_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_selector_version")),
        sa.UniqueConstraint("set_id", "version", name=op.f("uq_selection_selector_version_set_id")),
    )
    op.create_index(
        op.f("ix_selection_selector_version_set_id"), "selection_selector_version", ["set_id"]
    )
    op.create_table(
        "selection_prefix_version",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_selection_prefix_version")),
    )
    op.create_table(
        "selection_item_set",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("public_comment_ref", sa.String(length=200), nullable=False),
        sa.Column("consultation_ref", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_selection_item_set")),
    )
    op.create_table(
        "selection_receipt",
        sa.Column("batch_id", sa.String(length=100), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("measure_id", sa.String(length=20), nullable=False),
        sa.Column("selector_version_id", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("records_out", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["selector_version_id"], ["selection_selector_version.id"],
            name=op.f("fk_selection_receipt_selector_version_id_selection_selector_version"),
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_selection_receipt")),
        sa.UniqueConstraint("audit_seq", name=op.f("uq_selection_receipt_audit_seq")),
    )
    op.create_index(op.f("ix_selection_receipt_measure_id"), "selection_receipt", ["measure_id"])
    op.create_index(op.f("ix_selection_receipt_created_at"), "selection_receipt", ["created_at"])
    op.create_index(
        op.f("ix_selection_receipt_selector_version_id"), "selection_receipt",
        ["selector_version_id"],
    )
    op.create_table(
        "selection_record",
        sa.Column("batch_id", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("measure_id", sa.String(length=20), nullable=False),
        sa.Column("receipt_seq", sa.BigInteger(), nullable=False),
        sa.Column("item_set_version", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("key_epoch", sa.String(length=40), nullable=False),
        sa.Column("pseudonymisation", sa.String(length=40), nullable=False),
        sa.Column("family", sa.SmallInteger(), nullable=False),
        sa.Column("first_seen", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("last_seen", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("src_addr", sa.String(length=45), nullable=True),
        sa.Column("dst_addr", sa.String(length=45), nullable=True),
        sa.Column("src_pseudonymised", sa.Boolean(), nullable=False),
        sa.Column("dst_pseudonymised", sa.Boolean(), nullable=False),
        sa.Column("src_port", sa.Integer(), nullable=True),
        sa.Column("dst_port", sa.Integer(), nullable=True),
        sa.Column("protocol", sa.SmallInteger(), nullable=True),
        sa.Column("tcp_flags", sa.Integer(), nullable=True),
        sa.Column("packets", sa.BigInteger(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("ttl_min", sa.SmallInteger(), nullable=True),
        sa.Column("ttl_max", sa.SmallInteger(), nullable=True),
        sa.Column("icmp_type", sa.SmallInteger(), nullable=True),
        sa.Column("icmp_code", sa.SmallInteger(), nullable=True),
        sa.Column("dns_qname", sa.String(length=255), nullable=True),
        sa.Column("dns_qtype", sa.Integer(), nullable=True),
        sa.Column("dns_rcode", sa.SmallInteger(), nullable=True),
        sa.Column("tls_sni", sa.String(length=255), nullable=True),
        sa.Column("ja3", sa.String(length=32), nullable=True),
        sa.Column("ja4", sa.String(length=64), nullable=True),
        sa.Column("http_host", sa.String(length=255), nullable=True),
        sa.Column("matched_selectors", sa.JSON(), nullable=True),
        sa.Column("matched_rules", sa.JSON(), nullable=True),
        sa.Column("command_tokens", sa.JSON(), nullable=True),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "seq", "day", name=op.f("pk_selection_record")),
        postgresql_partition_by="RANGE (day)",
    )
    op.create_index("ix_selection_record_measure_id", "selection_record", ["measure_id"])
    op.create_index("ix_selection_record_created_at", "selection_record", ["created_at"])
    if postgresql:
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTITION_SCHEMA}")
        op.execute(
            "CREATE FUNCTION selection_immutable() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'selection configuration versions and receipts are immutable "
            "- % refused', TG_OP; END; $$ LANGUAGE plpgsql"
        )
        for table in IMMUTABLE:
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION selection_immutable()"
            )
    else:
        for table in IMMUTABLE:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                    f"ON {table} BEGIN SELECT RAISE(ABORT, "
                    f"'selection configuration versions and receipts are immutable - "
                    f"{operation} refused'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in IMMUTABLE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS selection_immutable()")
        op.drop_table("selection_record")
        op.execute(f"DROP SCHEMA IF EXISTS {PARTITION_SCHEMA} CASCADE")
    else:
        for table in IMMUTABLE:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    for table in TABLES:
        if table != "selection_record" or op.get_bind().dialect.name != "postgresql":
            op.drop_table(table)
