"""Audit log: entries and signed tree heads, append-only by trigger.

Revision ID: 0001_audit
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0001_audit"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ("audit_entries", "audit_tree_heads")


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("time", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("object_type", sa.String(length=100), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("legal_basis", sa.String(length=200), nullable=True),
        sa.Column("purpose", sa.String(length=500), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("details_digest", sa.String(length=64), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
    )
    for column in ("time", "actor", "action", "object_type", "object_id"):
        op.create_index(op.f(f"ix_audit_entries_{column}"), "audit_entries", [column])

    op.create_table(
        "audit_tree_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_tree_heads")),
    )
    op.create_index(op.f("ix_audit_tree_heads_tree_size"), "audit_tree_heads", ["tree_size"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'the audit log is append-only: % on % refused',
                TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
            )
    else:
        for table in TABLES:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} "
                    f"ON {table} BEGIN SELECT RAISE(ABORT, "
                    f"'the audit log is append-only - {operation} on {table} refused'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    else:
        for table in TABLES:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    op.drop_index(op.f("ix_audit_tree_heads_tree_size"), table_name="audit_tree_heads")
    op.drop_table("audit_tree_heads")
    for column in ("time", "actor", "action", "object_type", "object_id"):
        op.drop_index(op.f(f"ix_audit_entries_{column}"), table_name="audit_entries")
    op.drop_table("audit_entries")
