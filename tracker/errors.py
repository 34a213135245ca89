"""The project's exceptions: one base, one subclass per stage.

The CLI turns any `TrackerError` into `Error: <message>` and exit code 1, so every message must
stand alone on one line, naming the file (and line or member) first and the problem second.
"""

from __future__ import annotations


class TrackerError(Exception):
    """Base of every error a user can cause; never shown with a traceback."""


class SourceError(TrackerError):
    """A source file or directory cannot be read or is not a usable CMS release."""

    def __init__(self, location: str, problem: str, line: int | None = None) -> None:
        self.location = location
        self.line = line
        self.problem = problem
        where = f"{location}:{line}" if line is not None else location
        super().__init__(f"{where}: {problem}")


class ParseError(SourceError):
    """A record inside a source breaks the CMS layout."""


class ReleaseError(TrackerError):
    """A release label, issue or effective date is missing, unknown or conflicting."""


class StoreError(TrackerError):
    """The database refused or could not complete an operation."""


class IntegrityError(StoreError):
    """Stored bytes or records no longer match their recorded hashes."""
