"""Reporting: incidents, immutable report versions, routing, drafts, reminders and
attack-precursor intake. Report versions are append-only by trigger.

Revision ID: 0005_reporting
Revises: 0004_registry
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0005_reporting"
down_revision = "0004_registry"
branch_labels = None
depends_on = None

TABLES = (
    "rep_version",
    "rep_routing",
    "rep_precursor",
    "rep_notification",
    "rep_indicator",
    "rep_draft",
    "rep_affected_computer",
    "rep_precursor_batch",
    "rep_incident",
)


def upgrade() -> None:
    op.create_table(
        "rep_incident",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("regulation", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("ministry_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=True),
        sa.Column("detected_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("aware_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("requested_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=True),
        sa.Column("request_due_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("scope_decision", sa.String(length=16), nullable=True),
        sa.Column("scope_rule", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_incident")),
    )
    op.create_index(
        op.f("ix_rep_incident_ministry_id"), "rep_incident", ["ministry_id"], unique=False
    )
    op.create_index(
        op.f("ix_rep_incident_operator_id"), "rep_incident", ["operator_id"], unique=False
    )
    op.create_index(
        op.f("ix_rep_incident_organisation_id"), "rep_incident", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_rep_incident_phase"), "rep_incident", ["phase"], unique=False)
    op.create_index(
        op.f("ix_rep_incident_regulation"), "rep_incident", ["regulation"], unique=False
    )
    op.create_table(
        "rep_precursor_batch",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        sa.Column("received_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_precursor_batch")),
    )
    op.create_index(
        op.f("ix_rep_precursor_batch_organisation_id"),
        "rep_precursor_batch",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "rep_affected_computer",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("computer_id", sa.Integer(), nullable=False),
        sa.Column("uncertain", sa.Boolean(), nullable=False),
        sa.Column("not_obtainable", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["rep_incident.id"],
            name=op.f("fk_rep_affected_computer_incident_id_rep_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_affected_computer")),
    )
    op.create_index(
        op.f("ix_rep_affected_computer_computer_id"),
        "rep_affected_computer",
        ["computer_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_rep_affected_computer_incident_id"),
        "rep_affected_computer",
        ["incident_id"],
        unique=False,
    )
    op.create_table(
        "rep_draft",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["rep_incident.id"], name=op.f("fk_rep_draft_incident_id_rep_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_draft")),
    )
    op.create_index(op.f("ix_rep_draft_incident_id"), "rep_draft", ["incident_id"], unique=False)
    op.create_index(
        op.f("ix_rep_draft_organisation_id"), "rep_draft", ["organisation_id"], unique=False
    )
    op.create_table(
        "rep_indicator",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=253), nullable=False),
        sa.Column("uncertain", sa.Boolean(), nullable=False),
        sa.Column("first_seen", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("last_seen", mamori.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["rep_incident.id"],
            name=op.f("fk_rep_indicator_incident_id_rep_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_indicator")),
    )
    op.create_index(
        op.f("ix_rep_indicator_incident_id"), "rep_indicator", ["incident_id"], unique=False
    )
    op.create_index(op.f("ix_rep_indicator_value"), "rep_indicator", ["value"], unique=False)
    op.create_table(
        "rep_notification",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("report_kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("lead_hours", sa.Float(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("read_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["rep_incident.id"],
            name=op.f("fk_rep_notification_incident_id_rep_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_rep_notification_dedupe_key")),
    )
    op.create_index(
        op.f("ix_rep_notification_incident_id"), "rep_notification", ["incident_id"], unique=False
    )
    op.create_index(
        op.f("ix_rep_notification_organisation_id"),
        "rep_notification",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "rep_precursor",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("stix_id", sa.String(length=100), nullable=False),
        sa.Column("stix_type", sa.String(length=20), nullable=False),
        sa.Column("modified", sa.String(length=40), nullable=False),
        sa.Column("object", sa.JSON(), nullable=False),
        sa.Column("received_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["rep_precursor_batch.id"],
            name=op.f("fk_rep_precursor_batch_id_rep_precursor_batch"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_precursor")),
        sa.UniqueConstraint(
            "organisation_id", "stix_id", "modified", name=op.f("uq_rep_precursor_organisation_id")
        ),
    )
    op.create_index(op.f("ix_rep_precursor_batch_id"), "rep_precursor", ["batch_id"], unique=False)
    op.create_index(
        op.f("ix_rep_precursor_organisation_id"), "rep_precursor", ["organisation_id"], unique=False
    )
    op.create_index(op.f("ix_rep_precursor_stix_id"), "rep_precursor", ["stix_id"], unique=False)
    op.create_table(
        "rep_routing",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("routed_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["rep_incident.id"],
            name=op.f("fk_rep_routing_incident_id_rep_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_routing")),
        sa.UniqueConstraint(
            "incident_id", "version_number", "recipient", name=op.f("uq_rep_routing_incident_id")
        ),
    )
    op.create_index(
        op.f("ix_rep_routing_incident_id"), "rep_routing", ["incident_id"], unique=False
    )
    op.create_index(
        op.f("ix_rep_routing_organisation_id"), "rep_routing", ["organisation_id"], unique=False
    )
    op.create_table(
        "rep_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("workflow_digest", sa.String(length=64), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["rep_incident.id"],
            name=op.f("fk_rep_version_incident_id_rep_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_version")),
        sa.UniqueConstraint("incident_id", "number", name=op.f("uq_rep_version_incident_id")),
    )
    op.create_index(
        op.f("ix_rep_version_incident_id"), "rep_version", ["incident_id"], unique=False
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION rep_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'a submitted report version is immutable: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER rep_version_immutable BEFORE UPDATE OR DELETE ON rep_version "
            "FOR EACH ROW EXECUTE FUNCTION rep_version_immutable()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER rep_version_no_{operation.lower()} BEFORE {operation} "
                "ON rep_version BEGIN SELECT RAISE(ABORT, "
                f"'a submitted report version is immutable - {operation} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS rep_version_immutable ON rep_version")
        op.execute("DROP FUNCTION IF EXISTS rep_version_immutable()")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS rep_version_no_{operation}")
    for table in TABLES:
        op.drop_table(table)
