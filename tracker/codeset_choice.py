"""Which code set a command is about, when the user did not say (`--code-set`).

One store may hold several code sets, and each command works on one. Most of the time what
the user typed decides: a label is read by one code set only (`2020-APR` is HCPCS's, `FY2024`
an ICD-10 label), and a code is carried by one code set only (`E11.9` is ICD-10-CM's). Where
it does not (`FY2024` is stored for ICD-10-CM and ICD-10-PCS; `codes --as-of` names neither
a label nor a code), the command asks for `--code-set` instead of guessing.

A store holding one code set (or none) needs nothing: its code set (or the default one) is
the answer, so a store of HCPCS releases answers exactly as before other code sets existed.
"""

from __future__ import annotations

from collections.abc import Iterable

from tracker.codesets import DEFAULT_CODE_SET, get_code_set
from tracker.errors import ReleaseError, TrackerError
from tracker.store import Store

__all__ = ["choose_code_set"]


def _reads_label(name: str, label: str) -> str | None:
    """The canonical label `label` is in code set `name`, or None when it is not one of its."""
    try:
        return get_code_set(name).parse_label(label).label
    except TrackerError:
        return None


def _carries(store: Store, name: str, code: str) -> bool | None:
    """Whether a stored release of `name` carries `code`; None when it cannot be its code."""
    normalized = get_code_set(name).normalize_code(code)
    if normalized is None:
        return None
    releases = store.all_releases(name)
    return bool(store.code_timelines([normalized], releases).get(normalized))


def _ask(what: str, names: Iterable[str]) -> ReleaseError:
    choices = list(names)
    options = " or ".join(f"--code-set {name}" for name in choices)
    return ReleaseError(f"{what} in several code sets ({', '.join(choices)}); give {options}")


def choose_code_set(
    store: Store,
    code_set: str | None = None,
    *,
    labels: Iterable[str | None] = (),
    codes: Iterable[str] = (),
) -> str:
    """The code set a command means: `code_set` when given, else the one the stored code
    sets, the `labels` and the `codes` leave; a `ReleaseError` asks for `--code-set` when
    several remain."""
    if code_set is not None:
        return get_code_set(code_set).name
    stored = list(store.stored_code_sets())
    if len(stored) <= 1:
        return stored[0] if stored else DEFAULT_CODE_SET
    candidates = stored
    asked = ""
    for label in (text for text in labels if text):
        readers = [name for name in candidates if _reads_label(name, label) is not None]
        holders = [
            name
            for name in readers
            if any(info.label == _reads_label(name, label) for info in store.all_releases(name))
        ]
        # A label stored in one code set, or read by one only, decides; a label no code set
        # reads is left to the default code set, whose error says what a label looks like.
        if not readers:
            return DEFAULT_CODE_SET
        candidates = holders or readers
        if len(candidates) > 1:
            asked = f"release {label} is stored"
    for code in codes:
        if len(candidates) == 1:
            break
        verdicts = {name: _carries(store, name, code) for name in candidates}
        holders = [name for name, carried in verdicts.items() if carried]
        possible = [name for name, carried in verdicts.items() if carried is not None]
        candidates = holders or possible or candidates
        if len(candidates) > 1 and not asked:
            asked = (
                f"code {code.strip()} is stored"
                if holders
                else f"code {code.strip()} is stored in none of them, and could be a code"
            )
    if len(candidates) == 1:
        return candidates[0]
    raise _ask(asked or "releases are stored", candidates)
