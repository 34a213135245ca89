"""Initial schema: immutable snapshots, content-addressed record versions, source bytes.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Immutability is enforced by the database itself: every table gets triggers that reject UPDATE
and DELETE (and TRUNCATE on PostgreSQL). Downgrade is deliberately impossible: dropping the
tables would destroy the stored evidence the tool exists to keep.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (
    "sources",
    "releases",
    "release_members",
    "record_versions",
    "snapshot_entries",
    "retractions",
)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("compression", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code_set", sa.String(16), nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("issue", sa.Integer, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), sa.ForeignKey("sources.sha256"), nullable=False),
        sa.Column("data_member", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("parser", sa.String(64), nullable=False),
        sa.Column("parser_version", sa.String(16), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code_set", "label", "issue", name="uq_release_label_issue"),
    )
    op.create_table(
        "release_members",
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("is_data", sa.Boolean, nullable=False),
    )
    op.create_table(
        "record_versions",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(5), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("added_date", sa.Date),
        sa.Column("termination_date", sa.Date),
        sa.Column("action_code", sa.String(1), nullable=False),
    )
    op.create_index("ix_record_versions_code", "record_versions", ["code"])
    op.create_table(
        "snapshot_entries",
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id"), primary_key=True),
        sa.Column("code", sa.String(5), primary_key=True),
        sa.Column(
            "record_hash", sa.String(64), sa.ForeignKey("record_versions.hash"), nullable=False
        ),
    )
    # History and as-of look a code up across releases.
    op.create_index("ix_snapshot_entries_code", "snapshot_entries", ["code", "release_id"])
    op.create_table(
        "retractions",
        sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id"), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=False),
    )
    _create_immutability_triggers()


def _create_immutability_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: stored snapshots"
                    f" cannot be changed'); END"
                )
    elif dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION tracker_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: stored snapshots cannot be changed',
                    TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION tracker_reject_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tracker_reject_change()"
            )
    else:
        raise NotImplementedError(f"immutability triggers are not written for {dialect}")


def downgrade() -> None:
    raise NotImplementedError("snapshots are immutable: the initial schema cannot be dropped")
