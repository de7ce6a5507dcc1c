"""Secrets at rest: TOTP secrets are stored sealed (AES-256-GCM, key file beside the
database); existing ones are sealed in place.

Revision ID: 0011_sealed_secrets
Revises: 0010_dissemination
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from mamori.db.sealed import open_sealed, seal, sealed_length

revision = "0011_sealed_secrets"
down_revision = "0010_dissemination"
branch_labels = None
depends_on = None

LABEL = "access.totp_secret"
users = sa.table("users", sa.column("id", sa.Integer()),
                 sa.column("totp_secret", sa.String()))


def _rewrite(convert: Callable[[str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.totp_secret)
                              .where(users.c.totp_secret.is_not(None))).all()
    for row_id, value in rows:
        connection.execute(users.update().where(users.c.id == row_id)
                           .values(totp_secret=convert(value)))


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(length=64),
                           type_=sa.String(length=sealed_length(64)), existing_nullable=True)
    _rewrite(lambda value: seal(value, label=LABEL))


def downgrade() -> None:
    _rewrite(lambda value: open_sealed(value, label=LABEL))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(length=sealed_length(64)),
                           type_=sa.String(length=64), existing_nullable=True)
