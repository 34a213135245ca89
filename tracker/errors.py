"""The project's exceptions: one base, one subclass per stage.

The CLI turns any `TrackerError` into `Error: <message>` and exit code 1, so every message must
stand alone on one line, naming the file (and line or member) first and the problem second.
"""

from __future__ import annotations

import re

# Characters that would let a file or member name break the one-line message or act on the
# terminal showing it: C0/C1 controls (newline, escape), line separators, bidi controls.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every unsafe character shown as an escape, so it prints as one plain line."""
    return _UNSAFE.sub(_escape, text)


class TrackerError(Exception):
    """Base of every error a user can cause; never shown with a traceback."""

    def __str__(self) -> str:
        # Names inside messages come from outside (paths, zip members, cells).
        return printable(super().__str__())


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
