"""Intel: the STIX 2.1 object store (every version, labels, provenance, lineage), the
correlation index with its prefix lengths, the references, findings, partners' TAXII
collections and the ingest cursors.

Revision ID: 0008_intel
Revises: 0007_vulns
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0008_intel"
down_revision = "0007_vulns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intel_cursor",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("updated_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_intel_cursor")),
    )
    op.create_table(
        "intel_index",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("plen", sa.SmallInteger(), nullable=False),
        sa.Column("label_set_id", sa.Integer(), nullable=False),
        sa.Column(
            "object_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "kind", "key", "plen", "label_set_id", "object_id", name=op.f("pk_intel_index")
        ),
    )
    op.create_index(op.f("ix_intel_index_object_id"), "intel_index", ["object_id"], unique=False)
    op.create_table(
        "intel_prefix_length",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("plen", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "plen", name=op.f("pk_intel_prefix_length")),
    )
    op.create_table(
        "intel_label_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=1000), nullable=False),
        sa.Column("comms", sa.Boolean(), nullable=False),
        sa.Column("provision_derived", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_label_set")),
        sa.UniqueConstraint("key", name=op.f("uq_intel_label_set_key")),
    )
    op.create_table(
        "intel_ref",
        sa.Column("ref", sa.String(length=300), nullable=False),
        sa.Column("label_set_id", sa.Integer(), nullable=False),
        sa.Column(
            "object_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("prop", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "ref", "label_set_id", "object_id", "prop", name=op.f("pk_intel_ref")
        ),
    )
    op.create_index(op.f("ix_intel_ref_object_id"), "intel_ref", ["object_id"], unique=False)
    op.create_table(
        "intel_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label_set_id", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("stix_id", sa.String(length=300), nullable=True),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["label_set_id"],
            ["intel_label_set.id"],
            name=op.f("fk_intel_finding_label_set_id_intel_label_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_finding")),
        sa.UniqueConstraint("key", name=op.f("uq_intel_finding_key")),
    )
    op.create_index(op.f("ix_intel_finding_kind"), "intel_finding", ["kind"], unique=False)
    op.create_index(
        op.f("ix_intel_finding_label_set_id"), "intel_finding", ["label_set_id"], unique=False
    )
    op.create_index(op.f("ix_intel_finding_status"), "intel_finding", ["status"], unique=False)
    op.create_table(
        "intel_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("label_set_id", sa.Integer(), nullable=False),
        sa.Column("started_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["label_set_id"],
            ["intel_label_set.id"],
            name=op.f("fk_intel_import_label_set_id_intel_label_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_import")),
    )
    op.create_index(op.f("ix_intel_import_kind"), "intel_import", ["kind"], unique=False)
    op.create_index(
        op.f("ix_intel_import_label_set_id"), "intel_import", ["label_set_id"], unique=False
    )
    op.create_table(
        "intel_taxii_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=True),
        sa.Column("password_env", sa.String(length=100), nullable=True),
        sa.Column("label_set_id", sa.Integer(), nullable=False),
        sa.Column("added_after", sa.String(length=40), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_pulled_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["label_set_id"],
            ["intel_label_set.id"],
            name=op.f("fk_intel_taxii_source_label_set_id_intel_label_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_taxii_source")),
        sa.UniqueConstraint("name", name=op.f("uq_intel_taxii_source_name")),
    )
    op.create_table(
        "intel_object",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("stix_id", sa.String(length=300), nullable=False),
        sa.Column("stix_type", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("modified", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("label_set_id", sa.Integer(), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("stored_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["intel_import.id"], name=op.f("fk_intel_object_import_id_intel_import")
        ),
        sa.ForeignKeyConstraint(
            ["label_set_id"],
            ["intel_label_set.id"],
            name=op.f("fk_intel_object_label_set_id_intel_label_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_object")),
        sa.UniqueConstraint(
            "stix_id", "label_set_id", "version", name=op.f("uq_intel_object_stix_id")
        ),
    )
    op.create_index(op.f("ix_intel_object_import_id"), "intel_object", ["import_id"], unique=False)
    op.create_index(
        op.f("ix_intel_object_label_set_id"), "intel_object", ["label_set_id"], unique=False
    )
    op.create_index(
        "ix_intel_object_type_latest", "intel_object", ["stix_type", "latest"], unique=False
    )
    op.create_table(
        "intel_lineage",
        sa.Column(
            "object_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("derived_from", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["intel_object.id"],
            name=op.f("fk_intel_lineage_object_id_intel_object"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("object_id", "derived_from", name=op.f("pk_intel_lineage")),
    )
    op.create_index(
        op.f("ix_intel_lineage_derived_from"), "intel_lineage", ["derived_from"], unique=False
    )
    op.create_table(
        "intel_provenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "object_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("recorded_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["intel_import.id"],
            name=op.f("fk_intel_provenance_import_id_intel_import"),
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["intel_object.id"],
            name=op.f("fk_intel_provenance_object_id_intel_object"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_provenance")),
    )
    op.create_index(
        op.f("ix_intel_provenance_import_id"), "intel_provenance", ["import_id"], unique=False
    )
    op.create_index(
        op.f("ix_intel_provenance_object_id"), "intel_provenance", ["object_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_intel_provenance_object_id"), table_name="intel_provenance")
    op.drop_index(op.f("ix_intel_provenance_import_id"), table_name="intel_provenance")
    op.drop_table("intel_provenance")
    op.drop_index(op.f("ix_intel_lineage_derived_from"), table_name="intel_lineage")
    op.drop_table("intel_lineage")
    op.drop_index("ix_intel_object_type_latest", table_name="intel_object")
    op.drop_index(op.f("ix_intel_object_label_set_id"), table_name="intel_object")
    op.drop_index(op.f("ix_intel_object_import_id"), table_name="intel_object")
    op.drop_table("intel_object")
    op.drop_table("intel_taxii_source")
    op.drop_index(op.f("ix_intel_import_label_set_id"), table_name="intel_import")
    op.drop_index(op.f("ix_intel_import_kind"), table_name="intel_import")
    op.drop_table("intel_import")
    op.drop_index(op.f("ix_intel_finding_status"), table_name="intel_finding")
    op.drop_index(op.f("ix_intel_finding_label_set_id"), table_name="intel_finding")
    op.drop_index(op.f("ix_intel_finding_kind"), table_name="intel_finding")
    op.drop_table("intel_finding")
    op.drop_index(op.f("ix_intel_ref_object_id"), table_name="intel_ref")
    op.drop_table("intel_ref")
    op.drop_table("intel_label_set")
    op.drop_table("intel_prefix_length")
    op.drop_index(op.f("ix_intel_index_object_id"), table_name="intel_index")
    op.drop_table("intel_index")
    op.drop_table("intel_cursor")
