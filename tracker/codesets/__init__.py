"""Code sets the tracker knows (HCPCS Level II, ICD-10-CM, ICD-10-PCS), one package each.

Each code set is a package here that implements `tracker.codesets.base.CodeSet`; registering
it is one line in `_REGISTERED` (module and attribute). Packages are imported when first asked
for, so importing this registry never imports a code set, and a code set's modules may import
`tracker.codesets.base` freely.
"""

from __future__ import annotations

import importlib

from tracker.codesets.base import CodeSet, SourceFile
from tracker.errors import TrackerError

# name -> "module:attribute" of its `CodeSet`, in the order listings show them (detection
# tries the default code set last, see `detect_code_set`).
_REGISTERED: dict[str, str] = {
    "hcpcs": "tracker.codesets.hcpcs:HCPCS",
    "icd10cm": "tracker.codesets.icd10.codeset:ICD10CM",
    "icd10pcs": "tracker.codesets.icd10.codeset:ICD10PCS",
}
_LOADED: dict[str, CodeSet] = {}
# The code set of commands and functions not told one: the one the tracker began with.
DEFAULT_CODE_SET = "hcpcs"


class CodeSetError(TrackerError):
    """A code set that is not registered, or a file that belongs to none."""


def _load(name: str) -> CodeSet:
    found = _LOADED.get(name)
    if found is None:
        module_name, attribute = _REGISTERED[name].split(":")
        found = getattr(importlib.import_module(module_name), attribute)
        _LOADED[name] = found
    return found


def code_set_names() -> tuple[str, ...]:
    return tuple(_REGISTERED)


def get_code_set(name: str) -> CodeSet:
    """The registered code set `name` (`hcpcs`); `CodeSetError` names the known ones."""
    key = name.strip().lower()
    if key not in _REGISTERED:
        known = ", ".join(_REGISTERED)
        raise CodeSetError(f"code set {name!r} is not known (known: {known})")
    return _load(key)


def code_sets() -> tuple[CodeSet, ...]:
    """Every registered code set, in registration order."""
    return tuple(_load(name) for name in _REGISTERED)


def detect_code_set(source: SourceFile) -> CodeSet | None:
    """The code set a source file belongs to (the first whose `detect` says so), or None.

    The default code set is asked last: HCPCS's reader claims any zip (CMS's release zips
    carry no marker of their own), while the others recognise their files by content (an
    ICD-10 order file's layout), so they must see a zip first.
    """
    names = [name for name in _REGISTERED if name != DEFAULT_CODE_SET]
    if DEFAULT_CODE_SET in _REGISTERED:
        names.append(DEFAULT_CODE_SET)
    for name in names:
        code_set = _load(name)
        if code_set.detect(source):
            return code_set
    return None


__all__ = [
    "DEFAULT_CODE_SET",
    "CodeSet",
    "CodeSetError",
    "SourceFile",
    "code_set_names",
    "code_sets",
    "detect_code_set",
    "get_code_set",
]
