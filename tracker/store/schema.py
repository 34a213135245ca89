"""Table definitions used by queries; the schema itself is created by the Alembic migration.

Every table here is append-only: the migration installs triggers that reject UPDATE and DELETE
(and TRUNCATE on PostgreSQL), so immutability holds even against direct SQL.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Wide enough for the code of every code set, stored without punctuation (HCPCS 5, ICD-10 7);
# migration 0004. `tests/store/test_schema_matches_migrations.py` checks it covers them all.
CODE_WIDTH = 16
# The widest release label of any code set (`FY2022-APR-ERRATA`), with room (migration 0005).
LABEL_WIDTH = 32

sources = Table(
    "sources",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("compression", String(16), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code_set", String(16), nullable=False),
    Column("label", String(LABEL_WIDTH), nullable=False),
    Column("issue", Integer, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("source_name", Text, nullable=False),
    Column("source_sha256", String(64), ForeignKey("sources.sha256"), nullable=False),
    Column("data_member", Text, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("record_count", Integer, nullable=False),
    Column("parser", String(64), nullable=False),
    Column("parser_version", String(16), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    # A release stores only what differs from its parent; depth 0 is a full checkpoint.
    Column("parent_id", Integer, ForeignKey("releases.id")),
    Column("chain_depth", Integer, nullable=False, server_default="0"),
    # CMS's own version marker of the file (`v4`, a date stamp), and for a correction the
    # release it corrects (migration 0003).
    Column("version_marker", Text),
    Column("base_release_id", Integer, ForeignKey("releases.id")),
    UniqueConstraint("code_set", "label", "issue", name="uq_release_label_issue"),
)

release_members = Table(
    "release_members",
    metadata,
    Column("release_id", Integer, ForeignKey("releases.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("is_data", Boolean, nullable=False),
)

record_versions = Table(
    "record_versions",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("code", String(CODE_WIDTH), nullable=False),
    Column("body", Text, nullable=False),
    Column("added_date", Date),
    Column("termination_date", Date),
    Column("action_code", String(1), nullable=False),
    Index("ix_record_versions_code", "code"),
)

snapshot_entries = Table(
    "snapshot_entries",
    metadata,
    Column("release_id", Integer, ForeignKey("releases.id"), primary_key=True),
    Column("code", String(CODE_WIDTH), primary_key=True),
    Column("record_hash", String(64), ForeignKey("record_versions.hash"), nullable=False),
    # History and as-of look a code up across releases.
    Index("ix_snapshot_entries_code", "code", "release_id"),
)

# Codes present in the parent release but absent from this one (delta releases only).
snapshot_removals = Table(
    "snapshot_removals",
    metadata,
    Column("release_id", Integer, ForeignKey("releases.id"), primary_key=True),
    Column("code", String(CODE_WIDTH), primary_key=True),
)

retractions = Table(
    "retractions",
    metadata,
    Column("release_id", Integer, ForeignKey("releases.id"), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("retracted_at", DateTime(timezone=True), nullable=False),
)

# Repairs made while parsing CMS's file (a stray byte, a TAB inside a description), per release.
release_anomalies = Table(
    "release_anomalies",
    metadata,
    Column("release_id", Integer, ForeignKey("releases.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("file", Text, nullable=False),
    Column("line", Integer),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=False),
)

# Companion files kept with a release: CMS's transaction report, corrections files.
release_attachments = Table(
    "release_attachments",
    metadata,
    Column("release_id", Integer, ForeignKey("releases.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("role", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("source_sha256", String(64), ForeignKey("sources.sha256"), nullable=False),
    Column("member", Text),
    Column("note", Text),
    Column("attached_at", DateTime(timezone=True), nullable=False),
)

# Retractions and reinstatements, append-only; a release's state is its latest event. Rows of
# the older `retractions` table count as retract events.
release_events = Table(
    "release_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("release_id", Integer, ForeignKey("releases.id"), nullable=False),
    Column("action", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_release_events_release", "release_id", "id"),
)

SNAPSHOT_TABLES: tuple[str, ...] = (
    "sources",
    "releases",
    "release_members",
    "record_versions",
    "snapshot_entries",
    "snapshot_removals",
    "retractions",
    "release_anomalies",
    "release_attachments",
    "release_events",
)
