"""Snapshots stored as deltas against a parent release, with periodic full checkpoints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Storing every code's entry for every release grows with releases x codes. From this revision a
release records only what differs from its parent release (changed or added codes in
`snapshot_entries`, vanished codes in `snapshot_removals`); a release at chain depth 0 is a full
checkpoint. Releases stored before this revision keep their full entries and become
checkpoints (depth 0, no parent), so nothing is rewritten. The new table is append-only like
the others.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # SQLite cannot add a column with a foreign key in place; there the parent link is checked
    # by `tracker verify` (every chain must rebuild to the recorded content hash).
    op.add_column("releases", sa.Column("parent_id", sa.Integer, nullable=True))
    if dialect == "postgresql":
        op.create_foreign_key("fk_releases_parent", "releases", "releases", ["parent_id"], ["id"])
    op.add_column(
        "releases",
        sa.Column("chain_depth", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "snapshot_removals",
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id"), primary_key=True),
        sa.Column("code", sa.String(5), primary_key=True),
    )
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER snapshot_removals_no_{action.lower()} BEFORE {action}"
                " ON snapshot_removals BEGIN SELECT RAISE(ABORT, 'snapshot_removals is"
                " append-only: stored snapshots cannot be changed'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER snapshot_removals_no_change BEFORE UPDATE OR DELETE ON"
            " snapshot_removals FOR EACH ROW EXECUTE FUNCTION tracker_reject_change()"
        )
        op.execute(
            "CREATE TRIGGER snapshot_removals_no_truncate BEFORE TRUNCATE ON snapshot_removals"
            " FOR EACH STATEMENT EXECUTE FUNCTION tracker_reject_change()"
        )
    else:
        raise NotImplementedError(f"immutability triggers are not written for {dialect}")


def downgrade() -> None:
    raise NotImplementedError("snapshots are immutable: stored deltas cannot be folded back")
