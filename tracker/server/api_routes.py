"""`/api/`: the JSON API, one path per question, every code set under its own key.

Each route answers what the matching CLI command answers (`releases`, `diff --format json`,
`history`, `show --as-of`, `codes`, `validate`), read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tracker.server import impact_request, library
from tracker.server.codesets import BY_KEY, CODE_SETS, CodeSet
from tracker.server.errors import bad_request, not_found

router = APIRouter(prefix="/api", tags=["api"])

CodeSetKey = StrEnum("CodeSetKey", {c.key: c.key for c in CODE_SETS})  # type: ignore[misc]
StatusFilter = StrEnum(  # type: ignore[misc]
    "StatusFilter",
    {
        name: name
        for name in ("active", "not billable", "terminated", "removed", "not yet effective", "all")
    },
)


def store_of(request: Request) -> library.Store:
    store: library.Store = request.app.state.store
    return store


def served(key: Any, store: library.Store | None = None) -> CodeSet:
    """The code set asked for; 404 when the server does not hold any of its releases."""
    code_set = BY_KEY[str(key.value if hasattr(key, "value") else key)]
    if not code_set.served or (store is not None and not library.releases(store, code_set.key)):
        raise not_found(f"no releases of {code_set.title} are stored on this server")
    return code_set


def _check_code(code: str, code_set: CodeSet | None = None) -> str:
    """The code in its stored form (`E11.9` → `E119` for ICD-10-CM)."""
    normalized = code.strip().upper()
    if not normalized or len(normalized) > 16 or not normalized.replace(".", "").isalnum():
        raise bad_request(f"code {code!r}: a code is 1 to 16 letters and digits (and a dot)")
    return library.normalize(code_set.key, normalized) if code_set else normalized


def _check_release(store: library.Store, code_set: CodeSet, label: str | None) -> str | None:
    """A release label of this code set, or None (latest); 404 when not stored."""
    if label is None:
        return None
    info = library.resolve(store, label, code_set.key)
    if info.code_set != code_set.key:
        raise not_found(f"release {label} is not a release of {code_set.title}")
    return label


@router.get("/code-sets", summary="The code sets this server knows, and whether each is stored")
def code_sets() -> list[dict[str, Any]]:
    return [
        {"key": c.key, "title": c.title, "system": c.system, "served": c.served} for c in CODE_SETS
    ]


@router.get("/{code_set}/releases", summary="Stored releases with provenance and anomalies")
def releases(
    request: Request,
    code_set: CodeSetKey,
    all: Annotated[
        bool, Query(description="Include retracted releases and earlier issues")
    ] = False,
) -> list[dict[str, Any]]:
    store = store_of(request)
    chosen = served(code_set, store)
    infos = (library.all_releases if all else library.releases)(store, chosen.key)
    return [library.release_dict(info) for info in infos]


@router.get(
    "/{code_set}/diff",
    summary="Every change between two releases: the JSON of `tracker diff --format json`",
    description=(
        "Any served code set: HCPCS (labels such as 2020-JAN) and ICD-10-CM or ICD-10-PCS"
        " (labels such as FY2020, FY2021-JAN), each label read in the code set of the path."
    ),
)
def diff(
    request: Request,
    code_set: CodeSetKey,
    old: Annotated[str, Query(max_length=40, description="Release label, e.g. 2020-JAN or FY2019")],
    new: Annotated[str, Query(max_length=40, description="Release label, e.g. 2020-APR or FY2020")],
) -> dict[str, Any]:
    chosen = served(code_set)
    store = store_of(request)
    _check_release(store, chosen, old)
    _check_release(store, chosen, new)
    return library.diff_json(store, old, new, chosen.key)


@router.get("/{code_set}/codes/{code}/history", summary="Every release where the code changes")
def history(request: Request, code_set: CodeSetKey, code: str) -> list[dict[str, Any]]:
    chosen = served(code_set)
    return library.history_json(store_of(request), _check_code(code, chosen), chosen.key)


@router.get(
    "/{code_set}/codes/{code}",
    summary="Was the code valid on a date, and what did it mean then, as known at a release?",
)
def code_state(
    request: Request,
    code_set: CodeSetKey,
    code: str,
    on: Annotated[date, Query(description="The date asked about (YYYY-MM-DD)")],
    known_at: Annotated[
        str | None, Query(max_length=40, description="As known at this release (default latest)")
    ] = None,
) -> dict[str, Any]:
    chosen = served(code_set)
    store = store_of(request)
    _check_release(store, chosen, known_at)
    answers: library.Answers = request.app.state.answers
    state = answers.state(_check_code(code, chosen), on, answers.known_at(known_at, chosen.key))
    return state_dict(state)


@router.get("/{code_set}/codes", summary="The code set as it stood on a date")
def codes(
    request: Request,
    code_set: CodeSetKey,
    on: Annotated[date, Query(description="The date asked about (YYYY-MM-DD)")],
    prefix: Annotated[str, Query(max_length=16, pattern="^[A-Za-z0-9.]*$")] = "",
    status: StatusFilter = StatusFilter["active"],
    known_at: Annotated[str | None, Query(max_length=40)] = None,
) -> list[dict[str, Any]]:
    chosen = served(code_set)
    store = store_of(request)
    _check_release(store, chosen, known_at)
    answers: library.Answers = request.app.state.answers
    index = answers.index(answers.known_at(known_at, chosen.key))
    states = library.codes_as_of(
        index,
        on,
        prefix=library.normalize(chosen.key, prefix) if prefix else "",
        status=str(status.value),
    )
    return [
        {
            "code": state.code,
            "display_code": library.display_code(chosen.key, state.code),
            "status": state.status.value,
            "description": library.describe(state.meaning) if state.meaning else None,
            "release": state.meaning_release.display if state.meaning_release else None,
        }
        for state in states
    ]


@router.post(
    "/{code_set}/validate",
    summary="Check a posted claims CSV: each row with its answer columns, streamed back",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The annotated CSV"},
        413: {"description": "The body is larger than the limit"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def validate(
    request: Request,
    code_set: CodeSetKey,
    code_column: Annotated[str, Query(max_length=100)] = "hcpcs",
    date_column: Annotated[str, Query(max_length=100)] = "dos",
    known_at: Annotated[str | None, Query(max_length=40)] = None,
) -> StreamingResponse:
    chosen = served(code_set)
    store = store_of(request)
    body = await request.body()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise bad_request("the CSV is not UTF-8 text") from None
    if not text.strip():
        raise bad_request("the CSV is empty: send a header line and claim rows")
    _check_release(store, chosen, known_at)
    from starlette.concurrency import run_in_threadpool

    answers: library.Answers = request.app.state.answers
    known = await run_in_threadpool(answers.known_at, known_at, chosen.key)
    index = await run_in_threadpool(answers.index, known)
    result = await run_in_threadpool(
        library.validate_csv,
        index,
        text,
        code_column=code_column,
        date_column=date_column,
    )

    def chunks() -> Iterator[str]:
        step = 64 * 1024
        for start in range(0, len(result.csv), step):
            yield result.csv[start : start + step]

    headers = {
        "X-Tracker-Rows": str(result.rows),
        "X-Tracker-Invalid": str(result.invalid),
    }
    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers=headers)


_IMPACT_FORM = {
    "type": "object",
    "properties": {
        "codes": {"type": "string", "description": "The list, pasted: one code a line"},
        "file": {"type": "string", "format": "binary", "description": "The list, uploaded"},
        "column": {"type": "string"},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "code_set": {"type": "string", "enum": [c.key for c in CODE_SETS]},
    },
}


@router.post(
    "/impact",
    summary="What changed between two releases for a list of codes: `tracker impact --format json`",
    description=(
        "The list is a JSON object (`codes`: a list of codes or the text of a list or CSV), the"
        " list itself as a text/plain or text/csv body (a CSV names its `column`), or a form"
        " (`codes` pasted, `file` uploaded). `to` defaults to the code set's latest release,"
        " `from` to the release before it; in a JSON object or a form they are fields, else"
        " query parameters. `code_set` (hcpcs, icd10cm, icd10pcs; default hcpcs) says which code"
        " set the codes and labels are of; ICD-10-CM codes may be listed with or without the"
        " dot. The answer follows tracker/schemas/impact.schema.json. At most"
        f" {impact_request.MAX_IMPACT_CODES} codes and {impact_request.MAX_IMPACT_BYTES} bytes"
        " (413 beyond)."
    ),
    responses={
        200: {"description": "The impact report (tracker/schemas/impact.schema.json)"},
        400: {"description": "A mistake in the list or the parameters"},
        404: {"description": "A release not stored"},
        413: {"description": "The list is larger than the limit"},
        415: {"description": "A body of another content type"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["codes"],
                        "properties": {
                            "codes": {
                                "oneOf": [
                                    {"type": "array", "items": {"type": "string"}},
                                    {"type": "string"},
                                ]
                            },
                            "column": {"type": "string"},
                            "from": {"type": "string"},
                            "to": {"type": "string"},
                            "code_set": {"type": "string", "enum": [c.key for c in CODE_SETS]},
                        },
                        "additionalProperties": False,
                    }
                },
                "text/plain": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {"schema": _IMPACT_FORM},
                "application/x-www-form-urlencoded": {"schema": _IMPACT_FORM},
            },
        }
    },
)
async def impact(
    request: Request,
    code_set: Annotated[CodeSetKey | None, Query(description="Default hcpcs")] = None,
    from_release: Annotated[
        str | None, Query(alias="from", max_length=40, description="Earlier release")
    ] = None,
    to_release: Annotated[
        str | None, Query(alias="to", max_length=40, description="Later release")
    ] = None,
    column: Annotated[str | None, Query(max_length=100, description="A CSV's code column")] = None,
) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool

    query = {
        name: value
        for name, value in (
            ("code_set", code_set.value if code_set is not None else None),
            ("from", from_release),
            ("to", to_release),
            ("column", column),
        )
        if value is not None
    }
    body = await request.body()
    question = impact_request.from_request(body, request.headers.get("content-type", ""), query)
    answers: library.Answers = request.app.state.answers
    report = await run_in_threadpool(library.impact_report, answers, question)
    return JSONResponse(report.to_dict())


def state_dict(state: library.CodeState) -> dict[str, Any]:
    """A code's state on a date as JSON: status, meaning, and the release each part came from."""
    interval = state.interval
    code_set = state.known_at.code_set
    return {
        "code": state.code,
        "display_code": library.display_code(code_set, state.code),
        "on": state.on.isoformat(),
        "known_at": state.known_at.display,
        "status": state.status.value,
        "valid": state.status is library.Status.ACTIVE,
        "claim_status": state.claim_status,
        "meaning": state.meaning.to_dict() if state.meaning else None,
        "meaning_release": state.meaning_release.display if state.meaning_release else None,
        "interval": interval_dict(interval) if interval else None,
        "termination_date": (
            state.termination_date.isoformat() if state.termination_date else None
        ),
        "replaced_by": [{"code": r.code, "description": r.description} for r in state.replacements],
        "intervals": [interval_dict(i) for i in state.intervals],
    }


def interval_dict(interval: library.ValidityInterval) -> dict[str, Any]:
    return {
        "start": None if interval.start == date.min else interval.start.isoformat(),
        "end": interval.end.isoformat() if interval.end else None,
        "opening": interval.opening.value,
        "opened_by": interval.opened_by.display,
        "closure": interval.closure.value if interval.closure else None,
        "closed_by": interval.closed_by.display if interval.closed_by else None,
        "last_seen": interval.last_seen.display,
        "text": interval.text(),
    }
