"""`tracker serve`: web pages, a JSON API and FHIR R4 terminology operations over a store.

`create_app` is imported on first use, so that `tracker --help` (which lists the `serve`
command from `tracker.server.command`) does not load the web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from tracker.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
