"""Governance: cooperation requests to telecom carriers under a measure (協力の求め,
Art 20), their advance explanations and the evaluations of a refusal's reason.

Revision ID: 0012_carrier_cooperation
Revises: 0011_sealed_secrets
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0012_carrier_cooperation"
down_revision = "0011_sealed_secrets"
branch_labels = None
depends_on = None

REQUEST = "gov_cooperation_request"
EXPLANATION = "gov_cooperation_explanation"
EVALUATION = "gov_refusal_evaluation"
INDEXED = {
    REQUEST: ("created_at", "measure_id", "responded_at", "sent_at", "status", "withdrawn_at"),
    EXPLANATION: ("request_id",),
    EVALUATION: ("evaluated_at", "request_id"),
}


def _create_child(table: str, *columns: sa.Column[object]) -> None:
    """A table of rows that belong to one request and go with it."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=20), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["request_id"], [f"{REQUEST}.id"], name=op.f(f"fk_{table}_request_id_{REQUEST}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )


def upgrade() -> None:
    when = mamori.db.base.UTCDateTime
    op.create_table(
        REQUEST,
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("measure_id", sa.String(length=20), nullable=False),
        sa.Column("carrier", sa.String(length=300), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("burden", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("sent_by", sa.String(length=200), nullable=True),
        sa.Column("sent_at", when(), nullable=True),
        sa.Column("responded_by", sa.String(length=200), nullable=True),
        sa.Column("responded_at", when(), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.Column("withdrawn_at", when(), nullable=True),
        sa.ForeignKeyConstraint(["measure_id"], ["gov_measure.id"],
                                name=op.f(f"fk_{REQUEST}_measure_id_gov_measure")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{REQUEST}")),
    )
    _create_child(
        EXPLANATION,
        sa.Column("explained_at", when(), nullable=False),
        sa.Column("explained_by", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("document_digest", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", when(), nullable=False),
    )
    _create_child(
        EVALUATION,
        sa.Column("evaluation", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("evaluated_by", sa.String(length=200), nullable=False),
        sa.Column("evaluated_at", when(), nullable=False),
    )
    for table, columns in INDEXED.items():
        for column in columns:
            op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table in (EVALUATION, EXPLANATION, REQUEST):
        for column in INDEXED[table]:
            op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        op.drop_table(table)
