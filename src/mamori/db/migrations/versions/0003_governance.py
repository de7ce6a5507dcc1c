"""Governance: agreements, consultation notes, consents, arrangements, use decisions,
measures and their terms, committee notifications, deletion certificates and versioned
regulatory parameters.

Revision ID: 0003_governance
Revises: 0002_access
Create Date: 2025-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0003_governance"
down_revision = "0002_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gov_agreement",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("party_name", sa.String(length=300), nullable=False),
        sa.Column("party_organisation_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("deviations", sa.Text(), nullable=False),
        sa.Column("comm_scope", sa.Text(), nullable=False),
        sa.Column("party_identifiers", sa.JSON(), nullable=False),
        sa.Column("delivery_method", sa.Text(), nullable=False),
        sa.Column("signed_digest", sa.String(length=64), nullable=True),
        sa.Column("effective_from", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("effective_until", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("concluded_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("ended_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_agreement")),
    )
    op.create_index(
        op.f("ix_gov_agreement_party_organisation_id"),
        "gov_agreement",
        ["party_organisation_id"],
        unique=False,
    )
    op.create_index(op.f("ix_gov_agreement_status"), "gov_agreement", ["status"], unique=False)
    op.create_table(
        "gov_arrangement",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("body_organisation_id", sa.Integer(), nullable=False),
        sa.Column("body_name", sa.String(length=300), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("document_digest", sa.String(length=64), nullable=False),
        sa.Column("effective_from", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("effective_until", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_arrangement")),
    )
    op.create_index(
        op.f("ix_gov_arrangement_body_organisation_id"),
        "gov_arrangement",
        ["body_organisation_id"],
        unique=False,
    )
    op.create_table(
        "gov_deletion_certificate",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("data_class", sa.String(length=64), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("cutoff", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("oldest", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("newest", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("ids_digest", sa.String(length=64), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_deletion_certificate")),
    )
    op.create_index(
        op.f("ix_gov_deletion_certificate_created_at"),
        "gov_deletion_certificate",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_gov_deletion_certificate_data_class"),
        "gov_deletion_certificate",
        ["data_class"],
        unique=False,
    )
    op.create_table(
        "gov_measure",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("article", sa.Integer(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("target_act", sa.Text(), nullable=False),
        sa.Column("carrier", sa.String(length=300), nullable=False),
        sa.Column("facilities", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("ended_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.String(length=200), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_measure")),
    )
    op.create_index(op.f("ix_gov_measure_article"), "gov_measure", ["article"], unique=False)
    op.create_table(
        "gov_notification",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_gov_notification_dedupe_key")),
    )
    op.create_index(op.f("ix_gov_notification_event"), "gov_notification", ["event"], unique=False)
    op.create_index(
        op.f("ix_gov_notification_occurred_at"), "gov_notification", ["occurred_at"], unique=False
    )
    op.create_table(
        "gov_parameter_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decision_ref", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_parameter_version")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_gov_parameter_version_key")),
    )
    op.create_index(
        op.f("ix_gov_parameter_version_key"), "gov_parameter_version", ["key"], unique=False
    )
    op.create_table(
        "gov_use_decision",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("decided_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("basis_id", sa.String(length=20), nullable=False),
        sa.Column("user_body_id", sa.Integer(), nullable=True),
        sa.Column("purpose_code", sa.String(length=64), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("provision", sa.Boolean(), nullable=False),
        sa.Column("consent_id", sa.String(length=20), nullable=True),
        sa.Column("arrangement_id", sa.String(length=20), nullable=True),
        sa.Column("batch_count", sa.Integer(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_use_decision")),
    )
    op.create_index(
        op.f("ix_gov_use_decision_basis_id"), "gov_use_decision", ["basis_id"], unique=False
    )
    op.create_index(
        op.f("ix_gov_use_decision_decided_at"), "gov_use_decision", ["decided_at"], unique=False
    )
    op.create_table(
        "gov_consent",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("agreement_id", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scope_batches", sa.JSON(), nullable=False),
        sa.Column("scope_categories", sa.JSON(), nullable=False),
        sa.Column("scope_from", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("scope_until", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("user_body_id", sa.Integer(), nullable=True),
        sa.Column("user_body_name", sa.String(length=300), nullable=False),
        sa.Column("purpose_code", sa.String(length=64), nullable=False),
        sa.Column("purpose_text", sa.Text(), nullable=False),
        sa.Column("document_digest", sa.String(length=64), nullable=True),
        sa.Column("examination", sa.Text(), nullable=True),
        sa.Column("examined_by", sa.String(length=200), nullable=True),
        sa.Column("examined_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("activated_by", sa.String(length=200), nullable=True),
        sa.Column("activated_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["gov_agreement.id"],
            name=op.f("fk_gov_consent_agreement_id_gov_agreement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_consent")),
    )
    op.create_index(
        op.f("ix_gov_consent_agreement_id"), "gov_consent", ["agreement_id"], unique=False
    )
    op.create_index(op.f("ix_gov_consent_status"), "gov_consent", ["status"], unique=False)
    op.create_table(
        "gov_consultation_note",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agreement_id", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["gov_agreement.id"],
            name=op.f("fk_gov_consultation_note_agreement_id_gov_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_consultation_note")),
    )
    op.create_index(
        op.f("ix_gov_consultation_note_agreement_id"),
        "gov_consultation_note",
        ["agreement_id"],
        unique=False,
    )
    op.create_table(
        "gov_measure_term",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("measure_id", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("starts_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("ends_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["gov_measure.id"],
            name=op.f("fk_gov_measure_term_measure_id_gov_measure"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gov_measure_term")),
        sa.UniqueConstraint("measure_id", "seq", name=op.f("uq_gov_measure_term_measure_id")),
    )
    op.create_index(
        op.f("ix_gov_measure_term_decided_at"), "gov_measure_term", ["decided_at"], unique=False
    )
    op.create_index(
        op.f("ix_gov_measure_term_measure_id"), "gov_measure_term", ["measure_id"], unique=False
    )
    op.create_index(
        op.f("ix_gov_measure_term_requested_at"), "gov_measure_term", ["requested_at"], unique=False
    )
    op.create_index(
        op.f("ix_gov_measure_term_status"), "gov_measure_term", ["status"], unique=False
    )


def downgrade() -> None:
    op.drop_table("gov_measure_term")
    op.drop_table("gov_consultation_note")
    op.drop_table("gov_consent")
    op.drop_table("gov_use_decision")
    op.drop_table("gov_parameter_version")
    op.drop_table("gov_notification")
    op.drop_table("gov_measure")
    op.drop_table("gov_deletion_certificate")
    op.drop_table("gov_arrangement")
    op.drop_table("gov_agreement")
