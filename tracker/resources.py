"""Where the files that ship beside the code live: `templates/` and `migrations/`.

In a built wheel they sit inside the package (`tracker/templates`); in a source checkout or an
editable install they are the top-level folders of the project. One lookup serves both.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder is missing from this installation")
