"""The store: the only package that imports SQLAlchemy."""

from tracker.store.store import Store
from tracker.store.writer import PreparedRelease, WriteResult, prepare

__all__ = ["PreparedRelease", "Store", "WriteResult", "prepare"]
