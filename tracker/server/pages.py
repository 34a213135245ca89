"""The web pages: releases, a diff with filters, a code's timeline, search, the annual report.

Server-rendered with the project's Jinja environment (autoescaped), no scripts and no external
assets; every view is a plain GET URL, so it can be bookmarked and shared.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tracker.codesets import get_code_set
from tracker.server import impact_request, library
from tracker.server.codesets import BY_KEY, CODE_SETS, CodeSet
from tracker.server.errors import HTTPProblem, bad_request, not_found

router = APIRouter(include_in_schema=False)


def _render(name: str, code: int = 200, **context: Any) -> HTMLResponse:
    html = library.templates().get_template(f"server/{name}").render(**context)
    return HTMLResponse(html, status_code=code)


def error_page(status: int, message: str) -> Response:
    return _render("error.html.j2", status, title=f"Error {status}", message=message)


def _code_set(key: str) -> CodeSet:
    code_set = BY_KEY.get(key)
    if code_set is None:
        raise not_found(f"no code set {key!r} (known: {', '.join(BY_KEY)})")
    if not code_set.served:
        raise not_found(f"no releases of {code_set.title} are stored on this server")
    return code_set


def _store(request: Request) -> library.Store:
    store: library.Store = request.app.state.store
    return store


@router.get("/")
def index(request: Request) -> Response:
    store = _store(request)
    sets = [(c, library.releases(store, c.key) if c.served else []) for c in CODE_SETS]
    return _render("index.html.j2", title="Code sets", sets=sets)


@router.get("/{key}/releases")
def releases(request: Request, key: str) -> Response:
    code_set = _code_set(key)
    if not library.all_releases(_store(request), code_set.key):
        raise not_found(f"no releases of {code_set.title} are stored on this server")
    infos = library.all_releases(_store(request), code_set.key)
    current = {info.id for info in library.releases(_store(request), code_set.key)}
    rows = [(info, info.id in current) for info in infos]
    counted = [info for info, kept in rows if kept]
    pairs = list(itertools.pairwise(counted))
    years = sorted({info.effective_date.year for info in counted}, reverse=True)
    return _render(
        "releases.html.j2",
        title=f"{code_set.title} releases",
        code_set=code_set,
        rows=rows,
        counted=counted,
        pairs=pairs,
        years=years,
    )


@router.get("/{key}/diff")
def diff(
    request: Request,
    key: str,
    old: str = "",
    new: str = "",
    kind: str = "",
    category: str = "",
    family: str = "",
    q: str = "",
) -> Response:
    code_set = _code_set(key)
    store = _store(request)
    if not old or not new:
        raise bad_request("choose two releases: /{key}/diff?old=LABEL&new=LABEL")
    for label in (old, new):
        if library.resolve(store, label, code_set.key).code_set != code_set.key:
            raise not_found(f"release {label} is not a release of {code_set.title}")
    data = library.diff_json(store, old, new, code_set.key)
    changes = data["changes"]
    rows = [_change_row(code_set.key, change) for change in changes]
    kinds = sorted({c["kind"] for c in changes})
    categories = sorted({cat for c in changes for cat in c["categories"]})
    present = {row.family for row in rows}
    if code_set.key == "hcpcs":
        families = sorted(present)
    else:
        # ICD-10 chapters (CM) and sections (PCS), in the code set's order.
        families = [name for name in get_code_set(code_set.key).families if name in present]
    words = q.lower().split()

    def keep(row: _ChangeRow) -> bool:
        change = row.change
        if kind and change["kind"] != kind:
            return False
        if category and category not in change["categories"]:
            return False
        if family and row.family != family:
            return False
        return all(word in row.text for word in words)

    shown = [row for row in rows if keep(row)]
    return _render(
        "diff.html.j2",
        title=f"{code_set.title}: {data['old']['display']} → {data['new']['display']}",
        code_set=code_set,
        data=data,
        shown=shown,
        kinds=kinds,
        categories=categories,
        families=families,
        chosen={"kind": kind, "category": category, "family": family, "q": q},
    )


@dataclass(frozen=True, slots=True)
class _ChangeRow:
    """One change of the diff JSON as the diff page lists it."""

    change: dict[str, Any]
    code: str  # as people write it (ICD-10-CM with its dot); the JSON keeps the stored form
    description: str
    family: str
    text: str  # what the text filter searches, lower case


def _change_row(key: str, change: dict[str, Any]) -> _ChangeRow:
    record = change["new"] or change["old"] or {}
    codes = get_code_set(key)
    shown = codes.display_code(change["code"])
    long_text = record.get("long_description") or record.get("long_title") or ""
    short_text = record.get("short_description") or record.get("short_title") or ""
    return _ChangeRow(
        change=change,
        code=shown,
        description=long_text,
        # HCPCS families are the code's first letter on this page, as before other code sets.
        family=change["code"][:1] if key == "hcpcs" else codes.family(change["code"]),
        text=" ".join([change["code"], shown, long_text, short_text]).lower(),
    )


@router.get("/{key}/codes/{code}")
def code_page(request: Request, key: str, code: str, known_at: str = "") -> Response:
    code_set = _code_set(key)
    store = _store(request)
    typed = code.strip().upper()
    if not typed.replace(".", "").isalnum() or len(typed) > 16:
        raise bad_request(f"code {code!r}: a code is 1 to 16 letters and digits (and a dot)")
    normalized = library.normalize(code_set.key, typed)
    view = library.code_view(store, normalized, known_at or None, code_set.key)
    answers: library.Answers = request.app.state.answers
    known = answers.known_at(known_at or None, code_set.key)
    intervals = answers.index(known).validity(normalized)
    events = library.history_json(store, normalized, code_set.key)
    shown = library.display_code(code_set.key, normalized)
    return _render(
        "code.html.j2",
        title=f"{shown} — {code_set.title}",
        shown=shown,
        code_set=code_set,
        view=view,
        intervals=intervals,
        events=events,
        fields=library.field_rows(view.record),
        known_at=known_at,
    )


@router.get("/{key}/search")
def search(request: Request, key: str, q: str = "") -> Response:
    code_set = _code_set(key)
    text = q.strip()
    if len(text) > 200:
        raise bad_request("search text is longer than 200 characters")
    answers: library.Answers = request.app.state.answers
    index = answers.index(answers.known_at(None, code_set.key)) if text else None
    found = library.search(index, text) if index is not None else []
    if len(found) == 1 and found[0].code == library.normalize(code_set.key, text):
        return RedirectResponse(f"/{code_set.key}/codes/{found[0].code}", status_code=303)
    return _render(
        "search.html.j2",
        title=f"Search {code_set.title}",
        code_set=code_set,
        q=text,
        found=found,
        shown=lambda code: library.display_code(code_set.key, code),
    )


@router.get("/{key}/year/{year}")
def year(request: Request, key: str, year: int) -> Response:
    _code_set(key)
    if not 1900 <= year <= 2999:
        raise bad_request(f"year {year}: give a four-digit year")
    return HTMLResponse(library.year_report_html(_store(request), year))


# Pasted lists up to this long get a link that asks the same question again (a GET URL).
_SHARE_LIMIT = 1500


@router.get("/impact")
async def impact_page(request: Request) -> Response:
    """The form; with `codes` in the query string, the answer too (a shareable URL)."""
    query = request.query_params
    unknown = sorted(set(query) - {"codes", "code_set", "from", "to", "column"})
    if unknown:
        raise bad_request(f"{unknown[0]}: not a parameter of this page")
    if not query.get("codes", "").strip():
        return _impact_render(request, None, dict(query))
    body = urlencode(list(query.multi_items())).encode()
    return await _impact_answer(request, body, "application/x-www-form-urlencoded", dict(query))


@router.post("/impact")
async def impact_post(request: Request) -> Response:
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise HTTPProblem(415, "post the form (multipart/form-data or url-encoded)")
    try:
        fields, _ = impact_request.form_fields(body, content_type)
    except HTTPProblem:
        fields = {}
    return await _impact_answer(request, body, content_type, fields)


async def _impact_answer(
    request: Request, body: bytes, content_type: str, fields: dict[str, str]
) -> Response:
    answers: library.Answers = request.app.state.answers
    try:
        if len(body) > impact_request.MAX_IMPACT_BYTES:
            raise impact_request.too_large(
                f"the form is larger than the limit of {impact_request.MAX_IMPACT_BYTES} bytes"
            )
        question = impact_request.from_form(body, content_type)
        report = await run_in_threadpool(library.impact_report, answers, question)
    except HTTPProblem as exc:
        return _impact_render(request, None, fields, error=exc.message, status=exc.status)
    except library.TrackerError as exc:
        message = str(exc)
        status = 404 if "not stored" in message else 400
        return _impact_render(request, None, fields, error=message, status=status)
    share = None
    if question.text is not None and len(question.text) <= _SHARE_LIMIT:
        params = {
            "code_set": question.code_set.key,
            "from": fields.get("from", ""),
            "to": fields.get("to", ""),
            "column": fields.get("column", ""),
            "codes": question.text,
        }
        share = "/impact?" + urlencode({k: v for k, v in params.items() if v})
    return _impact_render(request, report, fields, share=share)


def _impact_render(
    request: Request,
    report: Any,
    fields: dict[str, str],
    *,
    error: str = "",
    status: int = 200,
    share: str | None = None,
) -> HTMLResponse:
    from tracker.impact import impact_context

    store = _store(request)
    served = [c for c in CODE_SETS if c.served]
    chosen = {name: str(fields.get(name, ""))[:2000] for name in ("from", "to", "column", "codes")}
    chosen["code_set"] = str(fields.get("code_set") or "hcpcs")
    context: dict[str, Any] = impact_context(report) if report is not None else {"impact": None}
    return _render(
        "impact.html.j2",
        status,
        title="Your codes",
        sets=served,
        releases=[(c, library.releases(store, c.key)) for c in served],
        chosen=chosen,
        error=error,
        share=share,
        **context,
    )
