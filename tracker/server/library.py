"""The one place the server reaches into the tracker's library.

Every page, API route and FHIR operation asks its questions through these functions, so a
change to `tracker.api` (or to where the diff's JSON form is made) is answered here alone.
Results are the library's own objects (`CodeState`, `ReleaseInfo`, `Record`) or plain JSON
values; nothing here writes to the store.
"""

from __future__ import annotations

import functools
import gc
import io
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import Environment

from tracker import api, jsonout, query
from tracker.codesets import get_code_set
from tracker.codesets.hcpcs.record import Record
from tracker.diff import ReleaseDiff
from tracker.errors import ReleaseError, TrackerError
from tracker.impact import ImpactReport, impact
from tracker.query import CodeIndex, CodeState, CodeView, Status
from tracker.release import ReleaseInfo
from tracker.server.impact_request import ImpactQuestion
from tracker.store import Store
from tracker.validity import ValidityInterval

# The code sets whose releases the server reads (the store's `code_set` values).
SERVED_KEYS = ("hcpcs", "icd10cm", "icd10pcs")

__all__ = [
    "CodeState",
    "CodeView",
    "Record",
    "ReleaseError",
    "ReleaseInfo",
    "Status",
    "Store",
    "TrackerError",
    "ValidityInterval",
]


def open_store(url: str | None) -> Store:
    """The store at `url`; a read-only file or a select-only role is enough."""
    return api.open_store(url)


def releases(store: Store, code_set: str) -> list[ReleaseInfo]:
    """The releases of one code set that count (latest issue of each label, not retracted)."""
    return store.current_releases(code_set)


def all_releases(store: Store, code_set: str) -> list[ReleaseInfo]:
    """Every stored release of the code set, retracted ones and earlier issues included."""
    return store.all_releases(code_set)


def resolve(store: Store, label: str | None, code_set: str = "hcpcs") -> ReleaseInfo:
    """A label of `code_set` to its release (labels are per code set: FY2024 is a release of
    ICD-10-CM and one of ICD-10-PCS)."""
    return store.resolve(label, code_set)


def normalize(code_set: str, text: str) -> str:
    """A code as typed (`e11.9`) in its stored form (`E119`); text that cannot be a code of the
    set only trimmed and upper-cased, so that it is answered as unknown."""
    return get_code_set(code_set).normalize_code(text) or text.strip().upper()


def display_code(code_set: str, code: str) -> str:
    """A stored code as people write it (ICD-10-CM with its dot)."""
    return get_code_set(code_set).display_code(code)


def describe(record: Any) -> str:
    """A record's description, whatever its code set (long description or long title)."""
    text = getattr(record, "long_description", None) or getattr(record, "long_title", None)
    return str(text or "")


def short_text(record: Any) -> str:
    text = getattr(record, "short_description", None) or getattr(record, "short_title", None)
    return str(text or "")


def release_dict(info: ReleaseInfo) -> dict[str, Any]:
    """A release's identity and provenance as JSON values: the diff JSON's release, with every
    provenance field always present (an API client reads a fixed shape)."""
    return {
        **jsonout.release_json(info),
        "parser": info.parser,
        "parser_version": info.parser_version,
        "ingested_at": info.ingested_at.isoformat(),
        "version_marker": info.version_marker,
        "retracted": info.retracted,
        "retraction_reason": info.retraction_reason,
        "anomalies": [str(anomaly) for anomaly in info.anomalies],
    }


def diff_json(store: Store, old: str, new: str, code_set: str = "hcpcs") -> dict[str, Any]:
    """The diff of two releases of `code_set`: the same JSON as `tracker diff --format json
    --code-set CODE_SET` (labels are per code set: FY2020 is one of ICD-10-CM and of PCS)."""
    result = api.diff(store, old, new, code_set=code_set)
    value: dict[str, Any] = json.loads(json.dumps(jsonout.diff_json(result), default=str))
    return value


def year_report_html(store: Store, year: int) -> str:
    """The annual report as the standalone HTML page `tracker report --year` writes."""
    return api.report_year(store, year, "html")


def history_json(store: Store, code: str, code_set: str = "hcpcs") -> list[dict[str, Any]]:
    """Every release where the code first appears, changes, ends, is purged or comes back."""
    from tracker.history import code_history

    normalized = normalize(code_set, code)
    stored = releases(store, code_set)
    if not stored:
        raise ReleaseError(f"no releases of {get_code_set(code_set).title} are stored")
    found = code_history(store, normalized, stored)
    if not found:
        raise ReleaseError(f"code {code.strip().upper()} is in none of the stored releases")
    events = []
    for event in found:
        change = event.change
        events.append(
            {
                "release": event.release.display,
                "effective_date": event.release.effective_date.isoformat(),
                "kind": event.kind.value,
                "record": event.record.to_dict() if event.record is not None else None,
                "fields": [
                    {
                        "field": field.field,
                        "category": field.category.value,
                        "old": _plain(field.old),
                        "new": _plain(field.new),
                    }
                    for field in (change.fields if change is not None else ())
                ],
                "flags": sorted(flag.value for flag in change.flags) if change else [],
            }
        )
    return events


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def code_state(store: Store, code: str, on: date, known_at: str | None) -> CodeState:
    return api.code_state(store, code, on, known_at=known_at)


class Answers:
    """Code states answered from memory: one `CodeIndex` per known-at release, kept warm.

    Loading an index reads every stored record once (seconds for years of releases); after
    that a question is a bisection in memory, which is what lets `$validate-code` answer in
    about a millisecond. The store is read-only to the server, but another process may ingest
    or retract: the list of releases is checked again at most every `ttl` seconds, and any
    change drops every index.
    """

    def __init__(self, store: Store, *, ttl: float = 5.0, size: int = 4) -> None:
        self.store = store
        self.ttl = ttl
        self.size = size
        self._lock = threading.Lock()
        self._indexes: OrderedDict[int, CodeIndex] = OrderedDict()
        self._fingerprint: tuple[object, ...] = ()
        self._checked = 0.0
        self._releases: dict[str, list[ReleaseInfo]] = {}
        self._diffs: OrderedDict[tuple[int, int], ReleaseDiff] = OrderedDict()
        # Counts changes of the stored release list: an answer remembered under one
        # generation is stale under the next.
        self._generation = 0

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._fingerprint and now - self._checked < self.ttl:
            return
        infos = [i for key in SERVED_KEYS for i in self.store.all_releases(key)]
        fingerprint = tuple((i.id, i.retracted, i.last_event) for i in infos)
        if fingerprint != self._fingerprint:
            self._indexes.clear()
            self._diffs.clear()
            self._generation += 1
            self._fingerprint = fingerprint
            self._releases = {key: self.store.current_releases(key) for key in SERVED_KEYS}
        self._checked = now

    def known_at(self, label: str | None, code_set: str = "hcpcs") -> ReleaseInfo:
        """The release of `code_set` a question is asked as known at (None: the latest)."""
        with self._lock:
            self._refresh()
            current = self._releases.get(code_set, [])
            if not current:
                title = get_code_set(code_set).title
                raise ReleaseError(f"no releases of {title} are stored on this server")
            if label is None:
                return current[-1]
            for info in current:
                if label in (info.label, info.display):
                    return info
        return self.store.resolve(label, code_set)

    def generation(self) -> int:
        """Which release list answers are computed from now (checked every `ttl` seconds)."""
        with self._lock:
            self._refresh()
            return self._generation

    def warm(self, label: str | None = None, code_set: str | None = "hcpcs") -> bool:
        """Whether a question as known at `label` (None: latest) needs no reading of the store:
        the release list was checked within `ttl` and that release's index is in memory."""
        current = self._releases.get(code_set or "", [])
        if time.monotonic() - self._checked >= self.ttl or not current:
            return False
        if label is None:
            return current[-1].id in self._indexes
        return any(
            info.id in self._indexes for info in current if label in (info.label, info.display)
        )

    def ready(self, known_at: ReleaseInfo) -> bool:
        """Whether questions as known at this release are answered from memory already."""
        return known_at.id in self._indexes and time.monotonic() - self._checked < self.ttl

    def index(self, known_at: ReleaseInfo) -> CodeIndex:
        with self._lock:
            self._refresh()
            index = self._indexes.get(known_at.id)
            if index is None:
                index = CodeIndex.load(self.store, known_at.display, known_at.code_set)
                self._indexes[known_at.id] = index
                # Hundreds of thousands of long-lived records: a full garbage collection walking
                # them would stall every request in flight; they are set aside from it instead.
                gc.collect()
                gc.freeze()
                while len(self._indexes) > self.size:
                    self._indexes.popitem(last=False)
            self._indexes.move_to_end(known_at.id)
            return index

    def diff(self, old: ReleaseInfo, new: ReleaseInfo) -> ReleaseDiff:
        """The diff of two releases, kept for the next question about the same pair.

        Releases are immutable, so a pair's diff never changes; it is computed outside the
        lock (half a second on real releases) so that other questions are not held up.
        """
        key = (old.id, new.id)
        with self._lock:
            self._refresh()
            found = self._diffs.get(key)
            if found is not None:
                self._diffs.move_to_end(key)
                return found
        result = api.diff(self.store, old.display, new.display, code_set=new.code_set)
        with self._lock:
            self._diffs[key] = result
            while len(self._diffs) > self.size:
                self._diffs.popitem(last=False)
        return result

    def state(self, code: str, on: date, known_at: ReleaseInfo) -> CodeState:
        """As `tracker.api.code_state(store, code, on, known_at=...)`, from memory."""
        return self.index(known_at).state(normalize(known_at.code_set, code), on)


def impact_report(answers: Answers, question: ImpactQuestion) -> ImpactReport:
    """`tracker impact` for a posted list: `to` defaults to the code set's latest release,
    `from` to the one before it; the pair's diff comes from the cache."""
    codes = question.codes
    code_set, title = question.code_set.key, question.code_set.title
    from_release, to_release = question.from_release, question.to_release
    store = answers.store
    stored = releases(store, code_set)
    if not stored:
        raise ReleaseError(f"no releases of {title} are stored")
    new = _release_of(store, to_release, "to", code_set, title) if to_release else stored[-1]
    if from_release:
        old = _release_of(store, from_release, "from", code_set, title)
    else:
        earlier = [info for info in stored if info.effective_date < new.effective_date]
        if not earlier:
            raise ReleaseError(
                f"to {new.display}: no stored release of {title} is effective before it to"
                " compare it with; choose two releases"
            )
        old = max(earlier, key=lambda info: (info.effective_date, info.label))
    if old.effective_date > new.effective_date:
        raise ReleaseError(
            f"from {old.display} is effective after to {new.display}; name the earlier first"
        )
    return impact(
        store,
        codes,
        from_release=old.display,
        to_release=new.display,
        diff=answers.diff(old, new),
        code_set=code_set,
    )


def _release_of(store: Store, label: str, option: str, code_set: str, title: str) -> ReleaseInfo:
    try:
        info = api.resolve(store, label, code_set=code_set)
    except ReleaseError as exc:
        raise ReleaseError(f"{option} {label}: {exc}") from None
    if info.code_set != code_set:
        raise ReleaseError(f"{option} {label}: release {label} is not a release of {title}")
    return info


def code_view(
    store: Store, code: str, release: str | None = None, code_set: str = "hcpcs"
) -> CodeView:
    return query.code_view(store, code, release, code_set)


def codes_as_of(index: CodeIndex, on: date, *, prefix: str, status: str) -> list[CodeState]:
    """The code set as it stood on a date (as `tracker.api.codes_as_of`), from an index."""
    states = (index.state(code, on) for code in index.codes(prefix))
    return [state for state in states if status == "all" or state.status.value == status]


def search(index: CodeIndex, text: str, *, limit: int = 100) -> list[Any]:
    """Codes of the index whose code starts with `text` (as typed: `e11.9` finds E119) or whose
    descriptions hold every word of it (case-insensitive)."""
    wanted = normalize(index.code_set.name, text) if text.strip() else ""
    words = text.lower().split()
    found: list[Any] = []
    for code in index.codes():
        record = index.latest[code]
        haystack = f"{describe(record)} {short_text(record)}".lower()
        if (wanted and code.startswith(wanted)) or (words and all(w in haystack for w in words)):
            found.append(record)
            if len(found) >= limit:
                break
    return found


@dataclass(frozen=True, slots=True)
class Validated:
    """A checked claims file: the annotated CSV and the counts."""

    csv: str
    rows: int
    invalid: int
    statuses: dict[str, int]


def validate_csv(
    index: CodeIndex,
    text: str,
    *,
    code_column: str,
    date_column: str,
    name: str = "claims.csv",
) -> Validated:
    """Check every row's code on its date of service, as `tracker validate` does for a file."""
    from tracker.validate import validate_claims

    out = io.StringIO()
    summary = validate_claims(
        index,
        io.StringIO(text, newline=""),
        out,
        code_column=code_column,
        date_column=date_column,
        source_name=name,
    )
    return Validated(out.getvalue(), summary.rows, summary.invalid, dict(summary.statuses))


@functools.cache
def templates() -> Environment:
    """The project's Jinja environment (autoescaped HTML) with the server's templates, made
    once: compiling templates on every request would cost more than answering it."""
    from tracker.report.render import environment

    env = environment()
    env.filters["value"] = _shown
    env.filters["describe"] = describe
    env.filters["short"] = short_text
    # `code|display_code(code_set.key)`: a stored code as people write it (E119 -> E11.9).
    env.filters["display_code"] = lambda code, key: display_code(key, str(code))
    return env


def _shown(value: Any) -> str:
    """A field's value as a person reads it: lists joined, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def field_rows(record: Any) -> list[tuple[str, str, str]]:
    """A record's fields with the publisher's labels and decoded meanings, as the code pages
    show them (an ICD-10 record has four: code, billable, short and long title)."""
    if isinstance(record, Record):
        from tracker.codesets.hcpcs.codepage import field_rows as rows

        return list(rows(record))
    values = record.to_dict()
    billable = values.get("billable")
    return [
        ("Code", display_code(values["code_set"], values["code"]), ""),
        (
            "Valid for submission",
            "1" if billable else "0",
            "billable" if billable else "header, not billable",
        ),
        ("Short title", str(values.get("short_title", "")), ""),
        ("Long title", str(values.get("long_title", "")), ""),
    ]
