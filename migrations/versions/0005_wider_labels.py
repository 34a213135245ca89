"""Release labels wide enough for every code set.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

HCPCS labels are at most 8 characters (`2020-APR`); ICD-10 labels name a fiscal year, a
mid-year month and an errata (`FY2022-APR-ERRATA`, 17 characters), over the 16 that
`releases.label` was declared with. The column widens to 32.

As in 0004, only PostgreSQL enforces a declared length (widening a VARCHAR there rewrites
nothing); SQLite stores any length, so its table is left as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LABEL_WIDTH = 32


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column(
        "releases",
        "label",
        existing_type=sa.String(16),
        type_=sa.String(LABEL_WIDTH),
        existing_nullable=False,
    )


def downgrade() -> None:
    raise NotImplementedError("releases are immutable: stored labels may not fit 16 characters")
