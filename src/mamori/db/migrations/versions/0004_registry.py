"""Registry: special infrastructure operators, sites, specified critical computers,
components (CPE 2.3, purl), computer versions, consultations and registry settings.

Revision ID: 0004_registry
Revises: 0003_governance
Create Date: 2025-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0004_registry"
down_revision = "0003_governance"
branch_labels = None
depends_on = None

TABLES = (
    "registry_consultation",
    "registry_computer_version",
    "registry_component",
    "registry_computer",
    "registry_site",
    "registry_operator",
    "registry_config_version",
)


def upgrade() -> None:
    op.create_table(
        "registry_config_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_config_version")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_registry_config_version_key")),
    )
    op.create_index(
        op.f("ix_registry_config_version_key"), "registry_config_version", ["key"], unique=False
    )
    op.create_table(
        "registry_operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("sector", sa.String(length=64), nullable=False),
        sa.Column("supervising_ministry", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_operator")),
        sa.UniqueConstraint("name", name=op.f("uq_registry_operator_name")),
    )
    op.create_index(
        op.f("ix_registry_operator_organisation_id"),
        "registry_operator",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_registry_operator_sector"), "registry_operator", ["sector"], unique=False
    )
    op.create_index(
        op.f("ix_registry_operator_supervising_ministry"),
        "registry_operator",
        ["supervising_ministry"],
        unique=False,
    )
    op.create_table(
        "registry_site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["registry_operator.id"],
            name=op.f("fk_registry_site_operator_id_registry_operator"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_site")),
        sa.UniqueConstraint("operator_id", "name", name=op.f("uq_registry_site_operator_id")),
    )
    op.create_index(
        op.f("ix_registry_site_operator_id"), "registry_site", ["operator_id"], unique=False
    )
    op.create_table(
        "registry_computer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("device_category", sa.String(length=64), nullable=True),
        sa.Column("taxonomy_version", sa.Integer(), nullable=False),
        sa.Column("facility", sa.String(length=300), nullable=True),
        sa.Column("zone", sa.String(length=32), nullable=True),
        sa.Column("directly_managed", sa.Boolean(), nullable=False),
        sa.Column("manager_name", sa.String(length=200), nullable=True),
        sa.Column("manager_contact", sa.String(length=200), nullable=True),
        sa.Column("cloud_form", sa.String(length=16), nullable=True),
        sa.Column("cloud_provider", sa.String(length=200), nullable=True),
        sa.Column("product_vendor", sa.String(length=200), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=True),
        sa.Column("product_version", sa.String(length=200), nullable=True),
        sa.Column("custom_designed", sa.Boolean(), nullable=False),
        sa.Column("exemption_reason", sa.Text(), nullable=True),
        sa.Column("existing", sa.Boolean(), nullable=False),
        sa.Column("in_service_since", sa.Date(), nullable=True),
        sa.Column("linked_to_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("notified_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("changed_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["linked_to_id"],
            ["registry_computer.id"],
            name=op.f("fk_registry_computer_linked_to_id_registry_computer"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["registry_operator.id"],
            name=op.f("fk_registry_computer_operator_id_registry_operator"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["registry_site.id"],
            name=op.f("fk_registry_computer_site_id_registry_site"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_computer")),
        sa.UniqueConstraint("operator_id", "name", name=op.f("uq_registry_computer_operator_id")),
    )
    op.create_index(
        op.f("ix_registry_computer_device_category"),
        "registry_computer",
        ["device_category"],
        unique=False,
    )
    op.create_index(
        op.f("ix_registry_computer_operator_id"), "registry_computer", ["operator_id"], unique=False
    )
    op.create_index(
        op.f("ix_registry_computer_site_id"), "registry_computer", ["site_id"], unique=False
    )
    op.create_index(
        op.f("ix_registry_computer_status"), "registry_computer", ["status"], unique=False
    )
    op.create_table(
        "registry_component",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("computer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("supplier", sa.String(length=300), nullable=True),
        sa.Column("component_type", sa.String(length=32), nullable=True),
        sa.Column("bom_ref", sa.String(length=300), nullable=True),
        sa.Column("cpe", sa.String(length=1024), nullable=True),
        sa.Column("cpe_part", sa.String(length=1), nullable=True),
        sa.Column("cpe_vendor", sa.String(length=300), nullable=True),
        sa.Column("cpe_product", sa.String(length=300), nullable=True),
        sa.Column("cpe_version", sa.String(length=300), nullable=True),
        sa.Column("purl", sa.String(length=2048), nullable=True),
        sa.Column("purl_type", sa.String(length=64), nullable=True),
        sa.Column("purl_namespace", sa.String(length=512), nullable=True),
        sa.Column("purl_name", sa.String(length=512), nullable=True),
        sa.Column("purl_version", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["computer_id"],
            ["registry_computer.id"],
            name=op.f("fk_registry_component_computer_id_registry_computer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_component")),
    )
    op.create_index(
        op.f("ix_registry_component_computer_id"),
        "registry_component",
        ["computer_id"],
        unique=False,
    )
    op.create_index(
        "ix_registry_component_cpe",
        "registry_component",
        ["cpe_vendor", "cpe_product"],
        unique=False,
    )
    op.create_index(
        "ix_registry_component_purl", "registry_component", ["purl_type", "purl_name"], unique=False
    )
    op.create_table(
        "registry_computer_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("computer_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notification", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_digest", sa.String(length=64), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["computer_id"],
            ["registry_computer.id"],
            name=op.f("fk_registry_computer_version_computer_id_registry_computer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_computer_version")),
        sa.UniqueConstraint(
            "computer_id", "version", name=op.f("uq_registry_computer_version_computer_id")
        ),
    )
    op.create_index(
        op.f("ix_registry_computer_version_computer_id"),
        "registry_computer_version",
        ["computer_id"],
        unique=False,
    )
    op.create_table(
        "registry_consultation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("computer_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("asked_by", sa.String(length=64), nullable=False),
        sa.Column("asked_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("conclusion", sa.String(length=32), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answered_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["computer_id"],
            ["registry_computer.id"],
            name=op.f("fk_registry_consultation_computer_id_registry_computer"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["registry_operator.id"],
            name=op.f("fk_registry_consultation_operator_id_registry_operator"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_consultation")),
    )
    op.create_index(
        op.f("ix_registry_consultation_computer_id"),
        "registry_consultation",
        ["computer_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_registry_consultation_operator_id"),
        "registry_consultation",
        ["operator_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_registry_consultation_status"), "registry_consultation", ["status"], unique=False
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
