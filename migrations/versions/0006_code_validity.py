"""The validity-interval table in the store, and the view claims join against.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

A team whose claims live in the same database validates them with one join:

    SELECT ... FROM claims c
    LEFT JOIN tracker_code_validity v
      ON v.code_set = 'hcpcs' AND v.code = upper(trim(c.code))
     AND c.dos BETWEEN v.valid_from AND v.valid_to

The rows cannot be a plain SQL view over the snapshot tables: a code's answer on a date comes
from its whole release sequence as known at K (terminations corrected retroactively,
re-activations that keep their gap, reused codes, purges closed at the next stored release,
changes declared effective before the release that publishes them, what each code set says is
billable), which the tracker computes in one place (`tracker.query.CodeIndex`). Writing those
rules a second time in SQL would give two answers that can drift apart.

So the tracker writes the rows (`tracker export intervals --format database`) and the view
shows the latest of them. The store stays append-only: each write is a new *generation*
(`validity_generations`: the code set, the release K it is known at, the exact releases it was
computed from, the tracker version, when) with its rows (`validity_intervals`); neither table
accepts UPDATE, DELETE or TRUNCATE, so what the table said when a claim was validated stays
readable. A write is made only when the releases known (or the tracker version) changed since
the latest generation, so generations grow with ingests and retractions, not with runs.

`tracker_code_validity`: the rows of each code set's latest generation, with the columns of the
exported file (`code_set, code, valid_from, valid_to, status, meaning, termination_date,
replacements, release, known_at`) plus `generation`. Days run from 0001-01-01 to 9999-12-31,
both ends inclusive, so BETWEEN needs no NULL handling; a code with no row is `unknown`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CODE_WIDTH = 16
NEW_TABLES = ("validity_generations", "validity_intervals")

VIEW = """
CREATE VIEW tracker_code_validity AS
SELECT g.code_set, v.code, v.valid_from, v.valid_to, v.status, v.meaning,
       v.termination_date, v.replacements, v.release, g.known_at, g.id AS generation
FROM validity_intervals v
JOIN validity_generations g ON g.id = v.generation_id
WHERE g.id = (
    SELECT max(latest.id) FROM validity_generations latest WHERE latest.code_set = g.code_set
)
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "validity_generations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code_set", sa.String(16), nullable=False),
        sa.Column("known_at_release_id", sa.Integer, sa.ForeignKey("releases.id"), nullable=False),
        sa.Column("known_at", sa.String(40), nullable=False),
        sa.Column("releases_known", sa.Text, nullable=False),
        sa.Column("tracker_version", sa.String(32), nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_validity_generations_code_set", "validity_generations", ["code_set", "id"])
    op.create_table(
        "validity_intervals",
        sa.Column(
            "generation_id",
            sa.Integer,
            sa.ForeignKey("validity_generations.id"),
            primary_key=True,
        ),
        sa.Column("code", sa.String(CODE_WIDTH), primary_key=True),
        sa.Column("valid_from", sa.Date, primary_key=True),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("meaning", sa.Text, nullable=False),
        sa.Column("termination_date", sa.Date, nullable=True),
        sa.Column("replacements", sa.Text, nullable=False),
        sa.Column("release", sa.String(40), nullable=False),
    )
    for table in NEW_TABLES:
        _append_only(dialect, table)
    op.execute(VIEW)


def _append_only(dialect: str, table: str) -> None:
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: stored snapshots"
                " cannot be changed'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION tracker_reject_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION tracker_reject_change()"
        )
    else:
        raise NotImplementedError(f"immutability triggers are not written for {dialect}")


def downgrade() -> None:
    raise NotImplementedError("the store is append-only: stored generations cannot be dropped")
