"""Release provenance: repairs, attachments, lineage, CMS version markers, reinstatement.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

CMS's own files carry debris that the parsers repair (a stray byte before a code, a TAB inside
a description), ship companions that declare what changed (transaction reports, corrections
files), and re-issue quarters under versioned names (`_v2`…`_v5`, new date stamps). This
revision records all of that beside the immutable release, append-only like everything else:

- `releases.version_marker`: CMS's own version marker of the file (`v4`, `12172024`), if any.
- `releases.base_release_id`: for a release of kind `correction`, the release it corrects.
- `release_anomalies`: one row per repair made while parsing (file, line, kind, what was done).
- `release_attachments`: companion files kept with a release (`transaction_report`,
  `corrections`), their bytes in `sources`, and a note (e.g. "already incorporated").
- `release_events`: retractions *and* reinstatements as an append-only log; a release's state is
  its latest event. Rows of the older `retractions` table still count as retract events.

Nothing existing is rewritten; downgrade is impossible for the same reason as 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_TABLES = ("release_anomalies", "release_attachments", "release_events")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("releases", sa.Column("version_marker", sa.Text, nullable=True))
    # SQLite cannot add a column with a foreign key in place (see 0002); `tracker verify`
    # checks that a correction's base release exists.
    op.add_column("releases", sa.Column("base_release_id", sa.Integer, nullable=True))
    if dialect == "postgresql":
        op.create_foreign_key(
            "fk_releases_base", "releases", "releases", ["base_release_id"], ["id"]
        )
    op.create_table(
        "release_anomalies",
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "release_attachments",
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), sa.ForeignKey("sources.sha256"), nullable=False),
        sa.Column("member", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "release_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_release_events_release", "release_events", ["release_id", "id"])
    for table in NEW_TABLES:
        _append_only(dialect, table)


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
    raise NotImplementedError("snapshots are immutable: provenance records cannot be dropped")
