"""A posted code list and its two releases, read from any of the forms a client sends.

The impact page and `POST /api/impact` accept the same question in three shapes: a JSON object
(`{"codes": [...], "from": ..., "to": ...}`), the list itself as a text or CSV body (releases in
the query string), or an HTML form (pasted text and/or an uploaded file). Each is read here into
one `ImpactQuestion`, so the page and the API refuse the same mistakes with the same messages.
Multipart forms are read with the standard library's MIME parser: an upload form needs nothing
more, and it keeps the server free of another dependency.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from tracker.codelist import CodeList, parse_codes
from tracker.server.codesets import BY_KEY, CodeSet
from tracker.server.errors import HTTPProblem, bad_request, not_found

# A value set or charge master is hundreds to a few thousand codes; every code of a release is
# under 80,000 (ICD-10-CM). Longer lists belong to `tracker impact`, which has no time limit.
MAX_IMPACT_BYTES = 1024 * 1024
MAX_IMPACT_CODES = 10_000


@dataclass(frozen=True, slots=True)
class ImpactQuestion:
    codes: CodeList
    code_set: CodeSet
    from_release: str | None
    to_release: str | None
    # The pasted text (for the page to show it again); None when the list came otherwise.
    text: str | None = None


def too_large(what: str) -> HTTPProblem:
    return HTTPProblem(413, what)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise bad_request(f"{what} is not UTF-8 text") from None


def _text_field(value: Any, name: str, limit: int = 40) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string")
    text = value.strip()
    if len(text) > limit:
        raise bad_request(f"{name}: longer than {limit} characters")
    return text or None


def code_set_of(key: str | None) -> CodeSet:
    code_set = BY_KEY.get(key or "hcpcs")
    if code_set is None:
        raise bad_request(f"code_set {key!r}: not a code set (known: {', '.join(BY_KEY)})")
    if not code_set.served:
        raise not_found(f"no releases of {code_set.title} are stored on this server")
    return code_set


def _list(text: str, source: str, column: str | None) -> CodeList:
    """The codes of `text`; a list too long is 413, a list with mistakes 400 (via SourceError)."""
    if len(text.encode("utf-8")) > MAX_IMPACT_BYTES:
        raise too_large(_size_message())
    codes = parse_codes(text, source, column=column)
    if len(codes.codes) > MAX_IMPACT_CODES:
        raise too_large(
            f"{source}: {len(codes.codes)} codes; the limit is {MAX_IMPACT_CODES} codes a request"
            " (check a longer list with `tracker impact`)"
        )
    return codes


def _size_message() -> str:
    return (
        f"the code list is larger than the limit of {MAX_IMPACT_BYTES} bytes"
        " (check a longer list with `tracker impact`)"
    )


def from_json(body: bytes, query: dict[str, str]) -> ImpactQuestion:
    """`{"codes": ["G0202", ...] or "list text", "from", "to", "column", "code_set"}`."""
    try:
        value = json.loads(_decode(body, "the body"))
    except ValueError:
        raise bad_request("the body is not JSON") from None
    if not isinstance(value, dict):
        raise bad_request('the body must be a JSON object: {"codes": ["G0202", ...]}')
    unknown = sorted(set(value) - {"codes", "from", "to", "column", "code_set"})
    if unknown:
        raise bad_request(f"{unknown[0]}: not a field (codes, from, to, column, code_set)")
    codes = value.get("codes")
    column = _text_field(value.get("column", query.get("column")), "column", 100)
    if isinstance(codes, list):
        if not all(isinstance(code, str) for code in codes):
            raise bad_request("codes: each code must be a string")
        if any(any(mark in code for mark in "\r\n#,") for code in codes):
            raise bad_request("codes: a code holds no line break, comma or #")
        if column is not None:
            raise bad_request("column: only for a CSV list given as text")
        text = "\n".join(codes)
    elif isinstance(codes, str):
        text = codes
    else:
        raise bad_request("codes is required: a list of codes or the text of a list or CSV")
    return ImpactQuestion(
        codes=_list(text, "codes", column),
        code_set=code_set_of(_text_field(value.get("code_set", query.get("code_set")), "code_set")),
        from_release=_text_field(value.get("from", query.get("from")), "from"),
        to_release=_text_field(value.get("to", query.get("to")), "to"),
    )


def from_text(body: bytes, query: dict[str, str]) -> ImpactQuestion:
    """The list itself as the body (one code a line, or a CSV with `column`)."""
    text = _decode(body, "the code list")
    return ImpactQuestion(
        codes=_list(text, "codes", _text_field(query.get("column"), "column", 100)),
        code_set=code_set_of(_text_field(query.get("code_set"), "code_set")),
        from_release=_text_field(query.get("from"), "from"),
        to_release=_text_field(query.get("to"), "to"),
    )


def form_fields(body: bytes, content_type: str) -> tuple[dict[str, str], tuple[str, bytes] | None]:
    """The text fields of a form, and the uploaded file (name, bytes) if one was chosen."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        pairs = parse_qsl(_decode(body, "the form"), keep_blank_values=True)
        return dict(pairs), None
    header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise bad_request("the form is not multipart/form-data with a boundary")
    fields: dict[str, str] = {}
    upload: tuple[str, bytes] | None = None
    parts: list[Message] = list(message.iter_parts()) if hasattr(message, "iter_parts") else []
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        payload = data if isinstance(data, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if payload:
                upload = (filename[:200], payload)
            continue
        fields[name] = _decode(payload, f"form field {name}")
    return fields, upload


def from_form(body: bytes, content_type: str) -> ImpactQuestion:
    """An HTML form: `codes` (pasted), `file` (uploaded), `column`, `from`, `to`, `code_set`."""
    fields, upload = form_fields(body, content_type)
    column = _text_field(fields.get("column"), "column", 100)
    pasted = fields.get("codes", "")
    if upload is not None:
        name, data = upload
        if pasted.strip():
            raise bad_request("give the codes once: paste them or upload a file, not both")
        codes = _list(_decode(data, name), name, column)
        text = None
    elif pasted.strip():
        codes = _list(pasted, "pasted list", column)
        text = pasted
    else:
        raise bad_request("no codes: paste a list or choose a file")
    return ImpactQuestion(
        codes=codes,
        code_set=code_set_of(_text_field(fields.get("code_set"), "code_set")),
        from_release=_text_field(fields.get("from"), "from"),
        to_release=_text_field(fields.get("to"), "to"),
        text=text,
    )


def from_request(body: bytes, content_type: str, query: dict[str, str]) -> ImpactQuestion:
    """The question in whichever shape the body has (by its Content-Type)."""
    if len(body) > MAX_IMPACT_BYTES:
        raise too_large(_size_message())
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in ("application/json", ""):
        return from_json(body, query)
    if kind in ("text/plain", "text/csv"):
        return from_text(body, query)
    if kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return from_form(body, content_type)
    raise HTTPProblem(
        415,
        f"content type {kind}: send application/json, text/plain, text/csv or a form",
    )
