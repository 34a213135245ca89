"""Re-issues told by CMS's version marker in the file name, and reinstating a retraction.

File names are written by the tests (`_v2`, date stamps); contents are the project's own sample
releases, cut to make distinct contents of one quarter. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from tests.conftest import SAMPLES
from tests.store.test_migrations import _store_at_0001
from tracker import api
from tracker.codesets.hcpcs.filenames import read_file_name
from tracker.errors import ReleaseError, StoreError
from tracker.release import marker_is_later
from tracker.store.database import _alembic_config, create_store_engine

JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"
APR = SAMPLES / "HCPC2026_APR_SAMPLE.txt"


def _variant(tmp_path: Path, name: str, drop: int) -> Path:
    """The JAN sample without its last `drop` lines: a distinct content of the same quarter."""
    lines = JAN.read_bytes().rstrip(b"\r\n").split(b"\r\n")
    target = tmp_path / name
    target.write_bytes(b"\r\n".join(lines[: len(lines) - drop] if drop else lines) + b"\r\n")
    return target


@pytest.mark.parametrize(
    ("name", "label", "marker"),
    [
        ("HCPC2025_JAN_ANWEB.xlsx", "2025-JAN", None),
        ("HCPC2025_JAN_ANWEB_v4.xlsx", "2025-JAN", "v4"),
        ("HCPC2025_JAN_ANWEB_V2.txt", "2025-JAN", "v2"),
        ("HCPC2025_JAN_ANWEB_12172024.xlsx", "2025-JAN", "12172024"),
        ("HCPC2025_JAN_ANWEB_01062025.txt", "2025-JAN", "01062025"),
        ("HCPC2025_APR_ANWEB_v5.zip", "2025-APR", "v5"),
        ("HCPC2020_OCT_ANWEB_v3.xlsx", "2020-OCT", "v3"),
        ("20anweb_v2.zip", "2020-JAN", "v2"),
        ("HCPC2020_ANWEB_w_disclaimer.txt", "2020-JAN", None),
        ("HCPC17_CONTR_ANWEB.txt", "2017-JAN", None),
        ("2020-Alpha-Numeric-HCPCS-File.zip", "2020-JAN", None),
        # Not a date (month 13): no marker rather than a wrong one.
        ("HCPC2025_JAN_ANWEB_13172024.txt", "2025-JAN", None),
        ("jul2021anweb_v2.zip", "2021-JUL", "v2"),
    ],
)
def test_file_name_to_label_and_marker(name: str, label: str, marker: str | None) -> None:
    found = read_file_name(name)
    assert found is not None
    assert (str(found.label), found.marker) == (label, marker)


@pytest.mark.parametrize(
    ("new", "stored", "later"),
    [
        ("v2", None, True),
        ("v1", None, False),
        ("v4", "v2", True),
        ("v2", "v4", False),
        ("v3", "v3", False),
        ("01062025", "12172024", True),
        ("12172024", "01062025", False),
        ("01062025", "v2", None),
        (None, "v2", False),
    ],
)
def test_marker_order(new: str | None, stored: str | None, later: bool | None) -> None:
    assert marker_is_later(new, stored) is later


def test_later_version_is_the_next_issue_without_reissue(db_url: str, tmp_path: Path) -> None:
    store = api.open_store(db_url)
    first = api.ingest(store, _variant(tmp_path, "HCPC2026_JAN_SAMPLE.txt", 0))
    assert first.release.version_marker is None
    second = api.ingest(store, _variant(tmp_path, "HCPC2026_JAN_SAMPLE_v2.txt", 1))
    assert (second.created, second.release.issue, second.release.version_marker) == (
        True,
        2,
        "v2",
    )
    assert "CMS version v2" in second.message
    third = api.ingest(store, _variant(tmp_path, "HCPC2026_JAN_SAMPLE_v4.txt", 2))
    assert (third.release.issue, third.release.version_marker) == (3, "v4")
    assert api.resolve(store, "2026-JAN").issue == 3
    # An earlier or equal marker with different content is refused, naming both versions.
    for name in ("HCPC2026_JAN_SAMPLE_v3.txt", "HCPC2026_JAN_SAMPLE_v4.txt"):
        with pytest.raises(StoreError) as caught:
            api.ingest(store, _variant(tmp_path, name, 3))
        marker = name.rsplit("_", 1)[1].split(".")[0]
        assert str(caught.value) == (
            f"{name}: CMS version {marker} is not later than 2026-JAN#3's version v4, and the"
            " content differs; pass --reissue to store it as issue 4 anyway"
        )
    # No marker: refused as before, unless --reissue.
    with pytest.raises(StoreError, match=r"pass --reissue to store it as issue 4$"):
        api.ingest(store, _variant(tmp_path, "HCPC2026_JAN_SAMPLE_fixed.txt", 3))
    # A date stamp cannot be ordered against a version.
    with pytest.raises(StoreError, match="cannot be ordered against"):
        api.ingest(store, _variant(tmp_path, "HCPC2026_JAN_SAMPLE_01062026.txt", 3))
    assert len(api.releases(store, include_retracted=True)) == 3
    store.close()


def test_later_date_stamp_is_the_next_issue(db_url: str, tmp_path: Path) -> None:
    store = api.open_store(db_url)
    api.ingest(store, _variant(tmp_path, "HCPC2026_JAN_ANWEB_12172025.txt", 0))
    later = api.ingest(store, _variant(tmp_path, "HCPC2026_JAN_ANWEB_01062026.txt", 1))
    assert (later.release.issue, later.release.version_marker) == (2, "01062026")
    with pytest.raises(StoreError, match="CMS version 12202025 is not later than"):
        api.ingest(store, _variant(tmp_path, "HCPC2026_JAN_ANWEB_12202025.txt", 2))
    # Identical content under a later marker is still recognised as already stored.
    again = api.ingest(store, _variant(tmp_path, "HCPC2026_JAN_ANWEB_02012026.txt", 1))
    assert not again.created and again.release.issue == 2
    store.close()


# --- Reinstating --------------------------------------------------------------------------


def test_retract_then_reinstate(db_url: str) -> None:
    store = api.open_store(db_url)
    api.ingest(store, JAN)
    api.ingest(store, APR)
    api.retract(store, "2026-APR", "wrong file")
    with pytest.raises(StoreError, match=r"^release 2026-APR is already retracted$"):
        api.retract(store, "2026-APR#1", "again")
    info = api.reinstate(store, "2026-APR", "it was the right file")
    assert (info.retracted, info.last_event, info.last_event_reason) == (
        False,
        "reinstate",
        "it was the right file",
    )
    assert [r.display for r in api.releases(store)] == ["2026-JAN", "2026-APR"]
    assert api.resolve(store, "2026-APR").id == info.id
    with pytest.raises(StoreError, match=r"^release 2026-APR is not retracted; nothing to"):
        api.reinstate(store, "2026-APR", "twice")
    with pytest.raises(StoreError, match="needs a reason"):
        api.reinstate(store, "2026-JAN", " ")
    again = api.retract(store, "2026-APR", "wrong after all")
    assert again.retracted and again.retraction_reason == "wrong after all"
    assert [r.display for r in api.releases(store)] == ["2026-JAN"]
    store.close()


def _store_at_0002_with_retraction(url: str) -> None:
    """Schema 0002 with JAN retracted the way 0002-era code did: a `retractions` row."""
    _store_at_0001(url)
    engine = create_store_engine(url)
    with engine.connect().execution_options(write=True) as connection, connection.begin():
        command.upgrade(_alembic_config(connection), "0002")
        connection.execute(
            text(
                "INSERT INTO retractions (release_id, reason, retracted_at)"
                " SELECT id, 'old reason', CURRENT_TIMESTAMP FROM releases"
            )
        )
    engine.dispose()


def test_retraction_made_at_schema_0002_is_reinstated(db_url: str) -> None:
    _store_at_0002_with_retraction(db_url)
    store = api.open_store(db_url)  # upgrades to 0003
    (old,) = api.releases(store, include_retracted=True)
    assert (old.retracted, old.retraction_reason, old.last_event) == (True, "old reason", "retract")
    with pytest.raises(ReleaseError, match="is retracted"):
        api.resolve(store, "2026-JAN")
    with pytest.raises(StoreError, match="already retracted"):
        api.retract(store, "2026-JAN#1", "again")
    info = api.reinstate(store, "2026-JAN", "restored")
    assert not info.retracted and info.last_event_reason == "restored"
    assert api.resolve(store, "2026-JAN").id == old.id
    assert api.retract(store, "2026-JAN", "second time").retracted
    assert api.verify(store).ok
    store.close()


def test_zip_member_names_the_quarter(db_url: str, tmp_path: Path) -> None:
    store = api.open_store(db_url)
    archive = tmp_path / "HCPCS2026.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("HCPC2026_APR_ANWEB.txt", APR.read_bytes())
    result = api.ingest(store, archive)
    assert result.release.label == "2026-APR"
    clash = tmp_path / "HCPC2026_JUL_ANWEB.zip"
    with zipfile.ZipFile(clash, "w") as zipped:
        zipped.writestr("HCPC2026_OCT_ANWEB.txt", JAN.read_bytes())
    with pytest.raises(ReleaseError) as caught:
        api.ingest(store, clash)
    assert str(caught.value) == (
        "HCPC2026_JUL_ANWEB.zip: the zip's name says 2026-JUL but its data file"
        " HCPC2026_OCT_ANWEB.txt says 2026-OCT; give the release with --release"
    )
    other_year = tmp_path / "HCPCS2025.zip"
    with zipfile.ZipFile(other_year, "w") as zipped:
        zipped.writestr("HCPC2026_APR_ANWEB.txt", JAN.read_bytes())
    with pytest.raises(ReleaseError, match="says 2025-JAN but its data file"):
        api.ingest(store, other_year)
    # A member naming only a year leaves the quarter to the zip's name.
    (tmp_path / "later").mkdir()
    quarter = tmp_path / "later" / "HCPC2026_JUL_ANWEB.zip"
    with zipfile.ZipFile(quarter, "w") as zipped:
        zipped.writestr("HCPC2026_ANWEB.txt", JAN.read_bytes())
    assert api.ingest(store, quarter).release.label == "2026-JUL"
    assert [r.label for r in api.releases(store)] == ["2026-APR", "2026-JUL"]
    store.close()
