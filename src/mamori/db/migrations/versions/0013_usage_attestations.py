"""Dissemination: usage attestations after a provision of selected communications
information (利用状況の確認, R-2.3-12) — the request, the receiving body's statement and
the analysts' review.

Revision ID: 0013_usage_attestations
Revises: 0012_carrier_cooperation
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0013_usage_attestations"
down_revision = "0012_carrier_cooperation"
branch_labels = None
depends_on = None

REQUEST = "dis_usage_request"
ATTESTATION = "dis_usage_attestation"
INDEXED = {
    REQUEST: ("due_at", "organisation_id", "recipient_id", "requested_at", "reviewed_at",
              "status"),
    ATTESTATION: ("attested_at",),
}


def upgrade() -> None:
    when = mamori.db.base.UTCDateTime
    op.create_table(
        REQUEST,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provision_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("use_decision_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", when(), nullable=False),
        sa.Column("due_at", when(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", when(), nullable=True),
        sa.ForeignKeyConstraint(["provision_id"], ["dis_provision.id"],
                                name=op.f(f"fk_{REQUEST}_provision_id_dis_provision")),
        sa.ForeignKeyConstraint(["recipient_id"], ["dis_recipient.id"],
                                name=op.f(f"fk_{REQUEST}_recipient_id_dis_recipient")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{REQUEST}")),
        sa.UniqueConstraint("provision_id", name=op.f(f"uq_{REQUEST}_provision_id")),
    )
    op.create_table(
        ATTESTATION,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("usage", sa.Text(), nullable=False),
        sa.Column("shared_onward", sa.Boolean(), nullable=False),
        sa.Column("shared_with", sa.Text(), nullable=True),
        sa.Column("still_held", sa.Boolean(), nullable=False),
        sa.Column("kept_until", sa.Date(), nullable=True),
        sa.Column("attested_by", sa.String(length=64), nullable=False),
        sa.Column("attested_at", when(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], [f"{REQUEST}.id"],
                                name=op.f(f"fk_{ATTESTATION}_request_id_{REQUEST}")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{ATTESTATION}")),
        sa.UniqueConstraint("request_id", name=op.f(f"uq_{ATTESTATION}_request_id")),
    )
    for table, columns in INDEXED.items():
        for column in columns:
            op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, columns in reversed(INDEXED.items()):
        for column in columns:
            op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    op.drop_table(ATTESTATION)
    op.drop_table(REQUEST)
