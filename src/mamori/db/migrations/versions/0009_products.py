"""Products: versioned products (one current version per product), the versioned
criteria for releasable selected information and the determinations made under them,
and the record of every tier output built.

Revision ID: 0009_products
Revises: 0008_intel
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mamori.db.base

revision = "0009_products"
down_revision = "0008_intel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products_product",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("superseded_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("title_ja", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("narrative_ja", sa.Text(), nullable=False),
        sa.Column("narrative_en", sa.Text(), nullable=False),
        sa.Column("actions_ja", sa.Text(), nullable=False),
        sa.Column("actions_en", sa.Text(), nullable=False),
        sa.Column("use", sa.String(length=16), nullable=False),
        sa.Column("readers", sa.JSON(), nullable=False),
        sa.Column("object_ids", sa.JSON(), nullable=False),
        sa.Column("labels", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products_product")),
        sa.UniqueConstraint("product_id", "version",
                            name=op.f("uq_products_product_product_id")),
    )
    op.create_index(op.f("ix_products_product_product_id"), "products_product",
                    ["product_id"], unique=False)
    op.create_index(op.f("ix_products_product_current"), "products_product", ["current"],
                    unique=False)
    op.create_index(op.f("ix_products_product_labels"), "products_product", ["labels"],
                    unique=False)
    op.create_table(
        "products_criteria",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("reassess", sa.Boolean(), nullable=False),
        sa.Column("decision_ref", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products_criteria")),
        sa.UniqueConstraint("version", name=op.f("uq_products_criteria_version")),
    )
    op.create_table(
        "products_determination",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stix_id", sa.String(length=300), nullable=False),
        sa.Column("source_id", sa.String(length=300), nullable=False),
        sa.Column("criteria_version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.Column("decision_ref", sa.String(length=200), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", mamori.db.base.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products_determination")),
    )
    op.create_index(op.f("ix_products_determination_stix_id"), "products_determination",
                    ["stix_id"], unique=False)
    op.create_table(
        "products_tier_build",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("audience_category", sa.String(length=64), nullable=False),
        sa.Column("audience_organisation_id", sa.Integer(), nullable=True),
        sa.Column("audience_key", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("lint_passed", sa.Boolean(), nullable=False),
        sa.Column("lint", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("built_by", sa.String(length=200), nullable=False),
        sa.Column("built_at", mamori.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products_tier_build")),
    )
    op.create_index(op.f("ix_products_tier_build_product_id"), "products_tier_build",
                    ["product_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_products_tier_build_product_id"), table_name="products_tier_build")
    op.drop_table("products_tier_build")
    op.drop_index(op.f("ix_products_determination_stix_id"),
                  table_name="products_determination")
    op.drop_table("products_determination")
    op.drop_table("products_criteria")
    op.drop_index(op.f("ix_products_product_labels"), table_name="products_product")
    op.drop_index(op.f("ix_products_product_current"), table_name="products_product")
    op.drop_index(op.f("ix_products_product_product_id"), table_name="products_product")
    op.drop_table("products_product")
