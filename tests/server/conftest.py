"""Stores and clients for the server tests: the samples, the real releases on SQLite and on
PostgreSQL, and a read-only copy of each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import REAL_FILES, SAMPLES, fresh_pg_database, shared_path
from tracker import api
from tracker.server import create_app


def client(url: str, **kwargs: int) -> TestClient:
    """The app over `url` in this process; server errors come back as responses, as a real
    client would see them."""
    return TestClient(create_app(url, **kwargs), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def sample_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store of the three 2026 sample releases."""
    url = f"sqlite:///{tmp_path_factory.mktemp('samples') / 'tracker.db'}"
    store = api.open_store(url)
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, SAMPLES / f"HCPC2026_{name}_SAMPLE.txt")
    store.close()
    return url


@pytest.fixture(scope="session")
def real_pg_url() -> Iterator[str]:
    """A PostgreSQL database with the seven real releases (created once, dropped at the end)."""
    paths = [shared_path("cms-hcpcs", *name.split("/")) for name in REAL_FILES]
    with fresh_pg_database("tracker_serve") as url:
        store = api.open_store(url)
        for path in paths:
            api.ingest(store, path)
        store.close()
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def real_url(request: pytest.FixtureRequest) -> str:
    """The real releases, once on SQLite and once on PostgreSQL."""
    name = "real_store_url" if request.param == "sqlite" else "real_pg_url"
    url: str = request.getfixturevalue(name)
    return url


def shared(*parts: str) -> Path:
    return shared_path("cms-hcpcs", *parts)


@pytest.fixture(scope="module")
def mixed_sample_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store of the three 2026 HCPCS samples and the two ICD-10-CM samples (the
    project's own small FY2019 and FY2020 zips in CMS's layout)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('mixed') / 'tracker.db'}"
    store = api.open_store(url)
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, SAMPLES / f"HCPC2026_{name}_SAMPLE.txt")
    for year in ("2019", "2020"):
        api.ingest(store, SAMPLES / f"icd10cm_FY{year}_SAMPLE.zip")
    store.close()
    return url
