"""Dissemination: recipients and what must be on record for them (provision bases,
council consent and safeguards, foreign-provision checks), the entitlement-matrix
versions used, provisions and the objects of each recipient's TAXII collection,
delivery notices and their attempts, acknowledgements, feedback and TAXII status.

Revision ID: 0010_dissemination
Revises: 0009_products
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0010_dissemination"
down_revision = "0009_products"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dis_matrix_version",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("first_used_by", sa.String(length=64), nullable=False),
        sa.Column("first_used_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_dis_matrix_version")),
    )
    op.create_table(
        "dis_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("name_ja", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("publishes", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("webhook_key_generation", sa.Integer(), nullable=False),
        sa.Column("attribution_consent", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_recipient")),
        sa.UniqueConstraint("code", name=op.f("uq_dis_recipient_code")),
        sa.UniqueConstraint(
            "organisation_id", "category", name=op.f("uq_dis_recipient_organisation_id")
        ),
    )
    op.create_index(op.f("ix_dis_recipient_category"), "dis_recipient", ["category"], unique=False)
    op.create_index(
        op.f("ix_dis_recipient_organisation_id"), "dis_recipient", ["organisation_id"], unique=False
    )
    op.create_table(
        "dis_signing_key",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_dis_signing_key")),
    )
    op.create_table(
        "dis_council_safeguard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("consent_on", sa.Date(), nullable=False),
        sa.Column("consent_reference", sa.String(length=200), nullable=False),
        sa.Column("safeguards_reference", sa.String(length=200), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["dis_recipient.id"],
            name=op.f("fk_dis_council_safeguard_recipient_id_dis_recipient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_council_safeguard")),
    )
    op.create_index(
        op.f("ix_dis_council_safeguard_recipient_id"),
        "dis_council_safeguard",
        ["recipient_id"],
        unique=False,
    )
    op.create_table(
        "dis_foreign_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("product_version", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["dis_recipient.id"],
            name=op.f("fk_dis_foreign_check_recipient_id_dis_recipient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_foreign_check")),
        sa.UniqueConstraint(
            "recipient_id",
            "product_id",
            "product_version",
            "tier",
            "kind",
            name=op.f("uq_dis_foreign_check_recipient_id"),
        ),
    )
    op.create_index(
        op.f("ix_dis_foreign_check_recipient_id"),
        "dis_foreign_check",
        ["recipient_id"],
        unique=False,
    )
    op.create_table(
        "dis_provision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("product_version", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("title_ja", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("narrative_ja", sa.Text(), nullable=False),
        sa.Column("narrative_en", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=128), nullable=False),
        sa.Column("object_count", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("legal_basis", sa.String(length=64), nullable=False),
        sa.Column("matrix_version", sa.Integer(), nullable=False),
        sa.Column("matrix_sha256", sa.String(length=64), nullable=False),
        sa.Column("use_decision_id", sa.Integer(), nullable=True),
        sa.Column("foreign_check_ids", sa.JSON(), nullable=False),
        sa.Column("contributors", sa.JSON(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("provided_by", sa.String(length=64), nullable=False),
        sa.Column("provided_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["dis_recipient.id"],
            name=op.f("fk_dis_provision_recipient_id_dis_recipient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_provision")),
    )
    op.create_index(op.f("ix_dis_provision_category"), "dis_provision", ["category"], unique=False)
    op.create_index(
        op.f("ix_dis_provision_organisation_id"), "dis_provision", ["organisation_id"], unique=False
    )
    op.create_index(
        op.f("ix_dis_provision_product_id"), "dis_provision", ["product_id"], unique=False
    )
    op.create_index(
        op.f("ix_dis_provision_provided_at"), "dis_provision", ["provided_at"], unique=False
    )
    op.create_index(
        op.f("ix_dis_provision_published"), "dis_provision", ["published"], unique=False
    )
    op.create_index(
        op.f("ix_dis_provision_recipient_id"), "dis_provision", ["recipient_id"], unique=False
    )
    op.create_table(
        "dis_provision_basis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("article", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["dis_recipient.id"],
            name=op.f("fk_dis_provision_basis_recipient_id_dis_recipient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_provision_basis")),
    )
    op.create_index(
        op.f("ix_dis_provision_basis_recipient_id"),
        "dis_provision_basis",
        ["recipient_id"],
        unique=False,
    )
    op.create_table(
        "dis_taxii_status",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("request_timestamp", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["dis_recipient.id"],
            name=op.f("fk_dis_taxii_status_recipient_id_dis_recipient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_taxii_status")),
    )
    op.create_index(
        op.f("ix_dis_taxii_status_recipient_id"), "dis_taxii_status", ["recipient_id"], unique=False
    )
    op.create_table(
        "dis_acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provision_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=False),
        sa.Column("acknowledged_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provision_id"],
            ["dis_provision.id"],
            name=op.f("fk_dis_acknowledgement_provision_id_dis_provision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_acknowledgement")),
        sa.UniqueConstraint("provision_id", name=op.f("uq_dis_acknowledgement_provision_id")),
    )
    op.create_table(
        "dis_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provision_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provision_id"],
            ["dis_provision.id"],
            name=op.f("fk_dis_delivery_provision_id_dis_provision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_delivery")),
    )
    op.create_index(
        op.f("ix_dis_delivery_provision_id"), "dis_delivery", ["provision_id"], unique=False
    )
    op.create_index(op.f("ix_dis_delivery_status"), "dis_delivery", ["status"], unique=False)
    op.create_table(
        "dis_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provision_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("action_taken", sa.Text(), nullable=False),
        sa.Column("given_by", sa.String(length=64), nullable=False),
        sa.Column("given_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provision_id"],
            ["dis_provision.id"],
            name=op.f("fk_dis_feedback_provision_id_dis_provision"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_feedback")),
    )
    op.create_index(
        op.f("ix_dis_feedback_provision_id"), "dis_feedback", ["provision_id"], unique=False
    )
    op.create_table(
        "dis_object",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("provision_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("stix_id", sa.String(length=200), nullable=False),
        sa.Column("stix_type", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("version_key", sa.String(length=32), nullable=False),
        sa.Column("spec_version", sa.String(length=8), nullable=False),
        sa.Column("date_added", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provision_id"],
            ["dis_provision.id"],
            name=op.f("fk_dis_object_provision_id_dis_provision"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["dis_recipient.id"],
            name=op.f("fk_dis_object_recipient_id_dis_recipient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_object")),
        sa.UniqueConstraint(
            "recipient_id", "stix_id", "version_key", name=op.f("uq_dis_object_recipient_id")
        ),
    )
    op.create_index(
        "ix_dis_object_position", "dis_object", ["recipient_id", "date_added", "id"], unique=False
    )
    op.create_index(
        op.f("ix_dis_object_provision_id"), "dis_object", ["provision_id"], unique=False
    )
    op.create_index(op.f("ix_dis_object_stix_id"), "dis_object", ["stix_id"], unique=False)
    op.create_table(
        "dis_delivery_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["dis_delivery.id"],
            name=op.f("fk_dis_delivery_attempt_delivery_id_dis_delivery"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dis_delivery_attempt")),
    )
    op.create_index(
        op.f("ix_dis_delivery_attempt_delivery_id"),
        "dis_delivery_attempt",
        ["delivery_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dis_delivery_attempt_delivery_id"), table_name="dis_delivery_attempt")
    op.drop_table("dis_delivery_attempt")
    op.drop_index(op.f("ix_dis_object_stix_id"), table_name="dis_object")
    op.drop_index(op.f("ix_dis_object_provision_id"), table_name="dis_object")
    op.drop_index("ix_dis_object_position", table_name="dis_object")
    op.drop_table("dis_object")
    op.drop_index(op.f("ix_dis_feedback_provision_id"), table_name="dis_feedback")
    op.drop_table("dis_feedback")
    op.drop_index(op.f("ix_dis_delivery_status"), table_name="dis_delivery")
    op.drop_index(op.f("ix_dis_delivery_provision_id"), table_name="dis_delivery")
    op.drop_table("dis_delivery")
    op.drop_table("dis_acknowledgement")
    op.drop_index(op.f("ix_dis_taxii_status_recipient_id"), table_name="dis_taxii_status")
    op.drop_table("dis_taxii_status")
    op.drop_index(op.f("ix_dis_provision_basis_recipient_id"), table_name="dis_provision_basis")
    op.drop_table("dis_provision_basis")
    op.drop_index(op.f("ix_dis_provision_recipient_id"), table_name="dis_provision")
    op.drop_index(op.f("ix_dis_provision_published"), table_name="dis_provision")
    op.drop_index(op.f("ix_dis_provision_provided_at"), table_name="dis_provision")
    op.drop_index(op.f("ix_dis_provision_product_id"), table_name="dis_provision")
    op.drop_index(op.f("ix_dis_provision_organisation_id"), table_name="dis_provision")
    op.drop_index(op.f("ix_dis_provision_category"), table_name="dis_provision")
    op.drop_table("dis_provision")
    op.drop_index(op.f("ix_dis_foreign_check_recipient_id"), table_name="dis_foreign_check")
    op.drop_table("dis_foreign_check")
    op.drop_index(op.f("ix_dis_council_safeguard_recipient_id"), table_name="dis_council_safeguard")
    op.drop_table("dis_council_safeguard")
    op.drop_table("dis_signing_key")
    op.drop_index(op.f("ix_dis_recipient_organisation_id"), table_name="dis_recipient")
    op.drop_index(op.f("ix_dis_recipient_category"), table_name="dis_recipient")
    op.drop_table("dis_recipient")
    op.drop_table("dis_matrix_version")
