"""`/fhir/`: FHIR R4 terminology operations that honour `date`.

`CodeSystem/$lookup` and `CodeSystem/$validate-code` answer for the code as in force on
`date`, as known at release `version` (default: the latest release). Without `date` the
question is asked on the effective date of that release. Each answer names the release whose
record gave it (`version` in the output) and the release it was known at (`known-at`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from tracker import __version__
from tracker.server import library
from tracker.server.codesets import BY_SYSTEM, CODE_SETS, SERVED, CodeSet
from tracker.server.errors import HTTPProblem, bad_request, not_found

router = APIRouter(prefix="/fhir", include_in_schema=False)

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(T[0-9:.+\-Z]*)?$")
_ISSUE_CODES = {400: "invalid", 404: "not-found", 405: "not-supported", 413: "too-costly"}


class FHIRResponse(JSONResponse):
    media_type = FHIR_JSON


def operation_outcome(status: int, message: str) -> Response:
    """An OperationOutcome with one issue, the FHIR form of an error."""
    issue = {
        "severity": "error",
        "code": _ISSUE_CODES.get(status, "exception"),
        "diagnostics": message,
    }
    return FHIRResponse({"resourceType": "OperationOutcome", "issue": [issue]}, status_code=status)


# --- Parameters in and out ---------------------------------------------------------------------


async def _parameters(request: Request, allowed: frozenset[str]) -> dict[str, str]:
    """The operation's parameters from the query string (GET) or a Parameters body (POST)."""
    found: dict[str, str] = {}
    if request.method == "POST":
        body = await request.body()
        try:
            resource = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise bad_request("the body is not JSON: POST a FHIR Parameters resource") from None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Parameters":
            raise bad_request("the body is not a FHIR Parameters resource")
        entries = resource.get("parameter", [])
        if not isinstance(entries, list):
            raise bad_request("Parameters.parameter must be a list")
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise bad_request("each parameter needs a name")
            name = entry["name"]
            if name == "coding" and isinstance(entry.get("valueCoding"), dict):
                coding = entry["valueCoding"]
                for part, key in (
                    ("system", "system"),
                    ("code", "code"),
                    ("display", "display"),
                    ("version", "version"),
                ):
                    if isinstance(coding.get(part), str):
                        _put(
                            found,
                            "url" if key == "system" and "url" in allowed else key,
                            coding[part],
                        )
                continue
            values = [v for k, v in entry.items() if k.startswith("value")]
            if len(values) != 1 or not isinstance(values[0], str | bool):
                raise bad_request(f"parameter {name}: give one value (valueCode, valueUri, ...)")
            _put(found, name, str(values[0]))
    else:
        return query_parameters(request.query_params.multi_items(), allowed)
    return _checked(found, allowed)


def query_parameters(items: Iterable[tuple[str, str]], allowed: frozenset[str]) -> dict[str, str]:
    """The operation's parameters from a query string's (name, value) pairs."""
    found: dict[str, str] = {}
    for name, value in items:
        _put(found, name, value)
    return _checked(found, allowed)


def _checked(found: dict[str, str], allowed: frozenset[str]) -> dict[str, str]:
    unknown = sorted(set(found) - allowed)
    if unknown:
        supported = ", ".join(sorted(allowed))
        raise bad_request(f"parameter {unknown[0]} is not supported (supported: {supported})")
    return found


# Parameters a client may repeat; the answer does not depend on them.
_REPEATABLE = frozenset({"property", "displayLanguage"})


def _put(found: dict[str, str], name: str, value: str) -> None:
    if name in found and name not in _REPEATABLE:
        raise bad_request(f"parameter {name} is given more than once")
    found[name] = value


def _out(name: str, kind: str, value: Any) -> dict[str, Any]:
    return {"name": name, f"value{kind}": value}


def _parse_date(text: str) -> date:
    match = _DATE.match(text.strip())
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise bad_request(f"date {text!r}: give a day as YYYY-MM-DD (or a dateTime)")


def _code_set(system: str | None, name: str) -> CodeSet:
    if not system:
        raise bad_request(f"parameter {name} is required (e.g. {SERVED[0].system})")
    code_set = BY_SYSTEM.get(system)
    if code_set is None:
        raise not_found(f"code system {system} is not known to this server")
    if not code_set.served:
        raise not_found(f"no releases of {code_set.title} ({system}) are stored on this server")
    return code_set


def _code(found: dict[str, str], code_set: CodeSet) -> str:
    """The code in its stored form (`E11.9` → `E119`); one that cannot be a code of the set is
    kept as typed, upper-cased, and answered as unknown."""
    code = found.get("code", "").strip()
    if not code:
        raise bad_request("parameter code is required")
    if len(code) > 16 or not code.replace(".", "").isalnum():
        raise bad_request(f"code {code!r}: a code is 1 to 16 letters and digits (and a dot)")
    return library.normalize(code_set.key, code)


def code_set_key(found: dict[str, str]) -> str | None:
    """The code set a question names (by `url` or `system`), None when it names none known."""
    chosen = BY_SYSTEM.get(found.get("url") or found.get("system") or "")
    return chosen.key if chosen is not None else None


def _ask(answers: library.Answers, code_set: CodeSet, found: dict[str, str], code: str) -> Any:
    """The code's state on `date` as known at `version`."""
    version = found.get("version")
    try:
        known = answers.known_at(version, code_set.key)  # in memory but every few seconds
    except library.ReleaseError as exc:
        raise not_found(str(exc)) from None
    if known.code_set != code_set.key:
        raise not_found(f"version {version} is not a release of {code_set.title}")
    on = _parse_date(found["date"]) if "date" in found else known.effective_date
    return answers.state(code, on, known)


async def _answer(
    request: Request, operation: Callable[[library.Answers, dict[str, str]], dict[str, Any]]
) -> Response:
    """An operation's answer: on the event loop when the index is in memory (a hop to a worker
    thread would cost more than the answer), in a worker thread when it must be loaded."""
    found = await _parameters(request, ALLOWED[operation])
    answers: library.Answers = request.app.state.answers
    key = code_set_key(found)
    if key is None or answers.warm(found.get("version"), key):
        return FHIRResponse(operation(answers, found))
    return FHIRResponse(await run_in_threadpool(operation, answers, found))


def _status_message(state: Any, code_set: CodeSet) -> str:
    """Why a code is not valid on the date, in one sentence naming the releases."""
    title = code_set.title
    code = library.display_code(code_set.key, state.code)
    on, known_at = state.on.isoformat(), state.known_at.display
    interval = state.interval
    status = state.status
    if status is library.Status.UNKNOWN:
        return f"{code} is not a code of {title} in any release known at {known_at}"
    if status is library.Status.ACTIVE:
        return f"{code} is valid on {on} (as known at {known_at})"
    if status is library.Status.NOT_BILLABLE:
        reason = state.claim_status or "not billable"
        return f"{code} is in force on {on} but a {reason} (as known at {known_at})"
    text = f"{code} is {status.value} on {on} (as known at {known_at})"
    if interval is not None:
        text += f": {interval.text()}"
    if state.replacements:
        text += "; replaced by " + ", ".join(r.code for r in state.replacements)
    return text


def _displays(record: Any) -> list[str]:
    return [text for text in (library.describe(record), library.short_text(record)) if text]


def _same_display(given: str, record: Any) -> bool:
    wanted = " ".join(given.split()).casefold()
    return any(" ".join(text.split()).casefold() == wanted for text in _displays(record))


# --- Operations ------------------------------------------------------------------------------

LOOKUP = frozenset({"system", "code", "version", "date", "displayLanguage", "property"})
VALIDATE = frozenset({"url", "code", "version", "display", "date", "displayLanguage"})


def lookup_answer(answers: library.Answers, found: dict[str, str]) -> dict[str, Any]:
    """`$lookup`'s Parameters for checked parameters (raises HTTPProblem for a refusal)."""
    code_set = _code_set(found.get("system"), "system")
    code = _code(found, code_set)
    state = _ask(answers, code_set, found, code)
    if state.status is library.Status.UNKNOWN or state.meaning is None:
        raise not_found(_status_message(state, code_set))
    meaning = state.meaning
    parameters = [
        _out("name", "String", code_set.title),
        _out("version", "String", state.meaning_release.display),
        _out("display", "String", library.describe(meaning)),
    ]
    if library.short_text(meaning):
        parameters.append(
            {
                "name": "designation",
                "part": [
                    {
                        "name": "use",
                        "valueCoding": {
                            "system": "http://terminology.hl7.org/CodeSystem/designation-usage",
                            "code": "display",
                            "display": "short description",
                        },
                    },
                    _out("value", "String", library.short_text(meaning)),
                ],
            }
        )
    properties: list[tuple[str, str, Any]] = [
        ("status", "Code", state.status.value.replace(" ", "-")),
        ("valid", "Boolean", state.status is library.Status.ACTIVE),
        *([("claim-status", "String", state.claim_status)] if state.claim_status else []),
        ("date", "DateTime", state.on.isoformat()),
        ("known-at", "String", state.known_at.display),
    ]
    interval = state.interval
    if interval is not None and interval.start != date.min:
        properties.append(("valid-from", "DateTime", interval.start.isoformat()))
    if interval is not None and interval.end is not None:
        properties.append(("valid-to", "DateTime", interval.end.isoformat()))
    properties.extend(("replaced-by", "Code", r.code) for r in state.replacements)
    for name, kind, value in properties:
        parameters.append(
            {"name": "property", "part": [_out("code", "Code", name), _out("value", kind, value)]}
        )
    return {"resourceType": "Parameters", "parameter": parameters}


def validate_answer(answers: library.Answers, found: dict[str, str]) -> dict[str, Any]:
    """`$validate-code`'s Parameters for checked parameters (HTTPProblem for a refusal)."""
    code_set = _code_set(found.get("url"), "url")
    code = _code(found, code_set)
    state = _ask(answers, code_set, found, code)
    valid = state.status is library.Status.ACTIVE
    message = _status_message(state, code_set)
    shown = library.display_code(code_set.key, code)
    meaning = state.meaning
    given = found.get("display")
    if given is not None and meaning is not None and not _same_display(given, meaning):
        valid = False
        texts = " or ".join(repr(text) for text in _displays(meaning))
        message += f"; the display {given!r} is not {shown}'s display on that date ({texts})"
    parameters = [_out("result", "Boolean", valid), _out("message", "String", message)]
    if meaning is not None:
        parameters.append(_out("display", "String", library.describe(meaning)))
    parameters.append(_out("code", "Code", shown))
    parameters.append(_out("system", "Uri", code_set.system))
    if state.meaning_release is not None:
        parameters.append(_out("version", "String", state.meaning_release.display))
    return {"resourceType": "Parameters", "parameter": parameters}


ALLOWED: dict[Callable[..., dict[str, Any]], frozenset[str]] = {
    lookup_answer: LOOKUP,
    validate_answer: VALIDATE,
}
OPERATIONS = {
    "/fhir/CodeSystem/$lookup": lookup_answer,
    "/fhir/CodeSystem/$validate-code": validate_answer,
}


@router.api_route("/CodeSystem/$lookup", methods=["GET", "POST"])
async def lookup(request: Request) -> Response:
    return await _answer(request, lookup_answer)


@router.api_route("/CodeSystem/$validate-code", methods=["GET", "POST"])
async def validate_code(request: Request) -> Response:
    return await _answer(request, validate_answer)


# --- Resources -------------------------------------------------------------------------------


def _resource_id(code_set: CodeSet, info: library.ReleaseInfo) -> str:
    return f"{code_set.key}-{info.display.lower().replace('#', '-')}"


def code_system(code_set: CodeSet, info: library.ReleaseInfo) -> dict[str, Any]:
    """One release as a CodeSystem resource (concepts are asked for with $lookup)."""
    return {
        "resourceType": "CodeSystem",
        "id": _resource_id(code_set, info),
        "url": code_set.system,
        "version": info.display,
        "name": re.sub(r"[^A-Za-z0-9]", "", code_set.title),
        "title": f"{code_set.title} {info.display}",
        "status": "retired" if info.retracted else "active",
        "date": info.effective_date.isoformat(),
        "publisher": code_set.publisher,
        "description": (
            f"{code_set.title} release {info.display}, effective {info.effective_date},"
            f" from {info.source_name} (sha256 {info.source_sha256})"
        ),
        "caseSensitive": False,
        "content": "not-present",
        "count": info.record_count,
    }


def _served_releases(request: Request) -> list[tuple[CodeSet, library.ReleaseInfo]]:
    store: library.Store = request.app.state.store
    return [(c, info) for c in SERVED for info in library.releases(store, c.key)]


@router.get("/metadata")
def metadata(request: Request) -> Response:
    base = str(request.base_url).rstrip("/") + "/fhir"
    return FHIRResponse(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": date.today().isoformat(),
            "kind": "instance",
            "software": {"name": "tracker", "version": __version__},
            "implementation": {"description": "tracker serve", "url": base},
            "fhirVersion": FHIR_VERSION,
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "resource": [
                        {
                            "type": "CodeSystem",
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "searchParam": [
                                {"name": "url", "type": "uri"},
                                {"name": "version", "type": "token"},
                            ],
                            "operation": [
                                {
                                    "name": "lookup",
                                    "definition": (
                                        "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"
                                    ),
                                },
                                {
                                    "name": "validate-code",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/"
                                    "CodeSystem-validate-code",
                                },
                            ],
                        }
                    ],
                }
            ],
        }
    )


@router.get("/CodeSystem")
def search(request: Request) -> Response:
    url = request.query_params.get("url")
    version = request.query_params.get("version")
    unknown = sorted(set(request.query_params) - {"url", "version"})
    if unknown:
        raise bad_request(f"search parameter {unknown[0]} is not supported (url, version)")
    matches = [
        code_system(c, info)
        for c, info in _served_releases(request)
        if (url is None or c.system == url) and (version is None or info.display == version)
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(matches),
        "entry": [
            {
                "fullUrl": f"{request.base_url}fhir/CodeSystem/{m['id']}",
                "resource": m,
                "search": {"mode": "match"},
            }
            for m in matches
        ],
    }
    return FHIRResponse(bundle)


@router.get("/CodeSystem/{resource_id}")
def read(request: Request, resource_id: str) -> Response:
    for c, info in _served_releases(request):
        if _resource_id(c, info) == resource_id:
            return FHIRResponse(code_system(c, info))
    raise HTTPProblem(404, f"CodeSystem/{resource_id} is not known to this server")


__all__ = ["CODE_SETS", "operation_outcome", "router"]
