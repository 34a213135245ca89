"""Code columns wide enough for every code set.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

HCPCS Level II codes are five characters; ICD-10-CM and ICD-10-PCS codes are up to seven
(stored without ICD-10-CM's dot), and code sets to come may be longer still. The code columns
of `record_versions`, `snapshot_entries` and `snapshot_removals` widen from 5 to 16 characters.

Only PostgreSQL enforces a declared length (widening a VARCHAR there rewrites nothing and fires
no trigger). SQLite stores any length in a VARCHAR column, so its tables are left as they are:
rebuilding an append-only table would mean dropping its immutability triggers. The columns the
store indexes beside a record (`added_date`, `termination_date`, `action_code`) stay: a code
set whose records have no such value stores no dates and an empty action code.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CODE_TABLES = ("record_versions", "snapshot_entries", "snapshot_removals")
CODE_WIDTH = 16


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in CODE_TABLES:
        op.alter_column(
            table,
            "code",
            existing_type=sa.String(5),
            type_=sa.String(CODE_WIDTH),
            existing_nullable=False,
        )


def downgrade() -> None:
    raise NotImplementedError("snapshots are immutable: stored codes may not fit 5 characters")
