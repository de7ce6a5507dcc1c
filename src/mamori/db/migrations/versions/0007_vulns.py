"""Vulnerabilities: feeds with their provenance, applicability statements, matches
against the register, suppressions, notices, the domestic exploited-vulnerability
catalogue, suppliers, coordination cases, requests for measures and CSAF advisories.

Revision ID: 0007_vulns
Revises: 0006_selection
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0007_vulns"
down_revision = "0006_selection"
branch_labels = None
depends_on = None

TABLES = (
    "vulns_measure_request",
    "vulns_catalogue_evidence",
    "vulns_case_event",
    "vulns_applicability",
    "vulns_suppression",
    "vulns_match",
    "vulns_fact",
    "vulns_catalogue_entry",
    "vulns_case",
    "vulns_alias",
    "vulns_vulnerability",
    "vulns_supplier",
    "vulns_source",
    "vulns_notification",
    "vulns_component_state",
    "vulns_advisory",
)


def upgrade() -> None:
    op.create_table(
        "vulns_advisory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_advisory")),
        sa.UniqueConstraint("tracking_id", "version", name=op.f("uq_vulns_advisory_tracking_id")),
    )
    op.create_index(
        op.f("ix_vulns_advisory_tracking_id"), "vulns_advisory", ["tracking_id"], unique=False
    )
    op.create_table(
        "vulns_component_state",
        sa.Column("slot", sa.String(length=400), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("computer_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("matched_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_vulns_component_state")),
    )
    op.create_index(
        op.f("ix_vulns_component_state_computer_id"),
        "vulns_component_state",
        ["computer_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_vulns_component_state_operator_id"),
        "vulns_component_state",
        ["operator_id"],
        unique=False,
    )
    op.create_table(
        "vulns_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("vulnerability_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("computers", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("read_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_vulns_notification_dedupe_key")),
    )
    op.create_index(
        op.f("ix_vulns_notification_organisation_id"),
        "vulns_notification",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "vulns_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("catalog_version", sa.String(length=64), nullable=True),
        sa.Column("released_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("fetched_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_source")),
    )
    op.create_index(op.f("ix_vulns_source_digest"), "vulns_source", ["digest"], unique=False)
    op.create_index(op.f("ix_vulns_source_kind"), "vulns_source", ["kind"], unique=False)
    op.create_table(
        "vulns_supplier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("business_ministry", sa.String(length=64), nullable=False),
        sa.Column("cpe_vendors", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_supplier")),
        sa.UniqueConstraint("name", name=op.f("uq_vulns_supplier_name")),
    )
    op.create_index(
        op.f("ix_vulns_supplier_organisation_id"),
        "vulns_supplier",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "vulns_vulnerability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("cve_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("title_ja", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("description_ja", sa.Text(), nullable=True),
        sa.Column("cvss_score", sa.Float(), nullable=True),
        sa.Column("cvss_vector", sa.String(length=200), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("cwes", sa.JSON(), nullable=False),
        sa.Column("published_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("kev", sa.Boolean(), nullable=False),
        sa.Column("kev_date_added", sa.Date(), nullable=True),
        sa.Column("kev_due_date", sa.Date(), nullable=True),
        sa.Column("exploited_in_japan", sa.Boolean(), nullable=False),
        sa.Column("confidentiality", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_vulnerability")),
        sa.UniqueConstraint("key", name=op.f("uq_vulns_vulnerability_key")),
    )
    op.create_index(
        op.f("ix_vulns_vulnerability_cve_id"), "vulns_vulnerability", ["cve_id"], unique=False
    )
    op.create_index(
        op.f("ix_vulns_vulnerability_exploited_in_japan"),
        "vulns_vulnerability",
        ["exploited_in_japan"],
        unique=False,
    )
    op.create_index(
        op.f("ix_vulns_vulnerability_kev"), "vulns_vulnerability", ["kev"], unique=False
    )
    op.create_table(
        "vulns_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("vulnerability_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vulnerability_id"],
            ["vulns_vulnerability.id"],
            name=op.f("fk_vulns_alias_vulnerability_id_vulns_vulnerability"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_alias")),
        sa.UniqueConstraint("alias", name=op.f("uq_vulns_alias_alias")),
    )
    op.create_index(
        op.f("ix_vulns_alias_vulnerability_id"), "vulns_alias", ["vulnerability_id"], unique=False
    )
    op.create_table(
        "vulns_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("vulnerability_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("embargo_until", sa.Date(), nullable=True),
        sa.Column("fix_version", sa.String(length=300), nullable=True),
        sa.Column("sent_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("fixed_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("published_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("closed_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["vulns_supplier.id"],
            name=op.f("fk_vulns_case_supplier_id_vulns_supplier"),
        ),
        sa.ForeignKeyConstraint(
            ["vulnerability_id"],
            ["vulns_vulnerability.id"],
            name=op.f("fk_vulns_case_vulnerability_id_vulns_vulnerability"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_case")),
        sa.UniqueConstraint("reference", name=op.f("uq_vulns_case_reference")),
    )
    op.create_index(op.f("ix_vulns_case_status"), "vulns_case", ["status"], unique=False)
    op.create_index(op.f("ix_vulns_case_supplier_id"), "vulns_case", ["supplier_id"], unique=False)
    op.create_table(
        "vulns_catalogue_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vulnerability_id", sa.Integer(), nullable=False),
        sa.Column("cve_id", sa.String(length=64), nullable=False),
        sa.Column("vendor_project", sa.String(length=300), nullable=False),
        sa.Column("product", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("name_ja", sa.String(length=300), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("description_ja", sa.Text(), nullable=False),
        sa.Column("action_en", sa.Text(), nullable=False),
        sa.Column("action_ja", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("ransomware", sa.String(length=16), nullable=False),
        sa.Column("cwes", sa.JSON(), nullable=False),
        sa.Column("date_added", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vulnerability_id"],
            ["vulns_vulnerability.id"],
            name=op.f("fk_vulns_catalogue_entry_vulnerability_id_vulns_vulnerability"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_catalogue_entry")),
        sa.UniqueConstraint("cve_id", name=op.f("uq_vulns_catalogue_entry_cve_id")),
        sa.UniqueConstraint(
            "vulnerability_id", name=op.f("uq_vulns_catalogue_entry_vulnerability_id")
        ),
    )
    op.create_index(
        op.f("ix_vulns_catalogue_entry_published"),
        "vulns_catalogue_entry",
        ["published"],
        unique=False,
    )
    op.create_table(
        "vulns_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vulnerability_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("locator", sa.String(length=300), nullable=True),
        sa.Column("record_updated_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("imported_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["vulns_source.id"], name=op.f("fk_vulns_fact_source_id_vulns_source")
        ),
        sa.ForeignKeyConstraint(
            ["vulnerability_id"],
            ["vulns_vulnerability.id"],
            name=op.f("fk_vulns_fact_vulnerability_id_vulns_vulnerability"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_fact")),
        sa.UniqueConstraint(
            "vulnerability_id", "origin", name=op.f("uq_vulns_fact_vulnerability_id")
        ),
    )
    op.create_index(op.f("ix_vulns_fact_source_id"), "vulns_fact", ["source_id"], unique=False)
    op.create_index(
        op.f("ix_vulns_fact_vulnerability_id"), "vulns_fact", ["vulnerability_id"], unique=False
    )
    op.create_table(
        "vulns_match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vulnerability_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=400), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("computer_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("sector", sa.String(length=64), nullable=True),
        sa.Column("device_category", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_reason", sa.String(length=32), nullable=True),
        sa.Column("applicability_id", sa.Integer(), nullable=False),
        sa.Column("component_version", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("first_matched_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("last_matched_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("ended_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["vulnerability_id"],
            ["vulns_vulnerability.id"],
            name=op.f("fk_vulns_match_vulnerability_id_vulns_vulnerability"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_match")),
        sa.UniqueConstraint(
            "vulnerability_id", "slot", name=op.f("uq_vulns_match_vulnerability_id")
        ),
    )
    op.create_index(op.f("ix_vulns_match_active"), "vulns_match", ["active"], unique=False)
    op.create_index(
        op.f("ix_vulns_match_component_id"), "vulns_match", ["component_id"], unique=False
    )
    op.create_index(
        op.f("ix_vulns_match_computer_id"), "vulns_match", ["computer_id"], unique=False
    )
    op.create_index(
        op.f("ix_vulns_match_device_category"), "vulns_match", ["device_category"], unique=False
    )
    op.create_index(
        op.f("ix_vulns_match_operator_id"), "vulns_match", ["operator_id"], unique=False
    )
    op.create_index(op.f("ix_vulns_match_sector"), "vulns_match", ["sector"], unique=False)
    op.create_index(op.f("ix_vulns_match_slot"), "vulns_match", ["slot"], unique=False)
    op.create_index(
        op.f("ix_vulns_match_vulnerability_id"), "vulns_match", ["vulnerability_id"], unique=False
    )
    op.create_table(
        "vulns_suppression",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vulnerability_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=400), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("computer_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("component_version", sa.String(length=300), nullable=True),
        sa.Column("component_identity", sa.String(length=1200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("lapsed_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("lapse_reason", sa.String(length=48), nullable=True),
        sa.ForeignKeyConstraint(
            ["vulnerability_id"],
            ["vulns_vulnerability.id"],
            name=op.f("fk_vulns_suppression_vulnerability_id_vulns_vulnerability"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_suppression")),
    )
    op.create_index(
        op.f("ix_vulns_suppression_active"), "vulns_suppression", ["active"], unique=False
    )
    op.create_index(
        op.f("ix_vulns_suppression_component_id"),
        "vulns_suppression",
        ["component_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_vulns_suppression_operator_id"), "vulns_suppression", ["operator_id"], unique=False
    )
    op.create_index(op.f("ix_vulns_suppression_slot"), "vulns_suppression", ["slot"], unique=False)
    op.create_index(
        op.f("ix_vulns_suppression_vulnerability_id"),
        "vulns_suppression",
        ["vulnerability_id"],
        unique=False,
    )
    op.create_table(
        "vulns_applicability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fact_id", sa.Integer(), nullable=False),
        sa.Column("vulnerability_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=8), nullable=False),
        sa.Column("key_1", sa.String(length=300), nullable=False),
        sa.Column("key_2", sa.String(length=300), nullable=False),
        sa.Column("key_3", sa.String(length=300), nullable=False),
        sa.Column("part", sa.String(length=1), nullable=False),
        sa.Column("rest", sa.JSON(), nullable=False),
        sa.Column("ranges", sa.JSON(), nullable=False),
        sa.Column("default_status", sa.String(length=16), nullable=False),
        sa.Column("version_scheme", sa.String(length=16), nullable=False),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("authority", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"],
            ["vulns_fact.id"],
            name=op.f("fk_vulns_applicability_fact_id_vulns_fact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_applicability")),
    )
    op.create_index(
        op.f("ix_vulns_applicability_fact_id"), "vulns_applicability", ["fact_id"], unique=False
    )
    op.create_index(
        "ix_vulns_applicability_key",
        "vulns_applicability",
        ["scheme", "key_1", "key_2", "key_3"],
        unique=False,
    )
    op.create_index(
        op.f("ix_vulns_applicability_vulnerability_id"),
        "vulns_applicability",
        ["vulnerability_id"],
        unique=False,
    )
    op.create_table(
        "vulns_case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["vulns_case.id"], name=op.f("fk_vulns_case_event_case_id_vulns_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_case_event")),
    )
    op.create_index(
        op.f("ix_vulns_case_event_case_id"), "vulns_case_event", ["case_id"], unique=False
    )
    op.create_table(
        "vulns_catalogue_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("analysis_ref", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["vulns_catalogue_entry.id"],
            name=op.f("fk_vulns_catalogue_evidence_entry_id_vulns_catalogue_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_catalogue_evidence")),
    )
    op.create_index(
        op.f("ix_vulns_catalogue_evidence_entry_id"),
        "vulns_catalogue_evidence",
        ["entry_id"],
        unique=False,
    )
    op.create_table(
        "vulns_measure_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requesting_organisation_id", sa.Integer(), nullable=True),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("computer_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("responded_by", sa.String(length=200), nullable=True),
        sa.Column("responded_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["vulns_case.id"], name=op.f("fk_vulns_measure_request_case_id_vulns_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulns_measure_request")),
    )
    op.create_index(
        op.f("ix_vulns_measure_request_case_id"), "vulns_measure_request", ["case_id"], unique=False
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
