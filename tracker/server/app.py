"""The application: FastAPI over one read-only store, with the pages, `/api/` and `/fhir/`.

FastAPI (on Starlette) is used rather than bare Starlette because it builds the OpenAPI
document from the typed route signatures and checks parameters against them, so the committed
document cannot drift from what the routes accept.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tracker import __version__
from tracker.server import library
from tracker.server.errors import HTTPProblem
from tracker.server.fastpath import CACHE_SIZE, TerminologyFastPath

log = logging.getLogger("tracker.server")

# Claims files are posted whole; 16 MiB is ~300,000 claim rows. Larger files belong to
# `tracker validate`, which streams from disk.
MAX_BODY_BYTES = 16 * 1024 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Refuses a request body over `limit` bytes with 413 before the route reads it all.

    A declared Content-Length is checked first; a body sent in chunks is counted as it
    arrives, so a client cannot get past the limit by leaving the length out.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await problem_response(path, 413, self.message)(scope, receive, send)
            return
        received = 0
        too_large = False

        async def counted() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    too_large = True
                    raise HTTPProblem(413, self.message)
            return message

        try:
            await self.app(scope, counted, send)
        except HTTPProblem:
            if not too_large:
                raise
            await problem_response(path, 413, self.message)(scope, receive, send)

    @property
    def message(self) -> str:
        return (
            f"the request body is larger than the limit of {self.limit} bytes;"
            " validate a file this large with `tracker validate`"
        )


def problem_response(path: str, status: int, message: str) -> Response:
    """One message, in the form of the part of the site asked: FHIR, JSON or a page."""
    if path.startswith("/fhir"):
        from tracker.server.fhir import operation_outcome

        return operation_outcome(status, message)
    if path.startswith("/api") or path.startswith("/openapi"):
        return JSONResponse({"error": message}, status_code=status)
    from tracker.server.pages import error_page

    return error_page(status, message)


def create_app(
    db: str | None = None, *, max_body: int = MAX_BODY_BYTES, remembered: int = CACHE_SIZE
) -> FastAPI:
    """The server over the store at `db` (a SQLAlchemy URL; None: `TRACKER_DB` or the default).

    The store is opened once, here: a missing or out-of-date database is reported before the
    server starts listening. `remembered` bounds the terminology answers kept in memory (0:
    none; `tracker.server.fastpath`).
    """
    from tracker.server import api_routes, fhir, pages

    store = library.open_store(db)
    app = FastAPI(
        title="tracker",
        version=__version__,
        summary="Code sets release by release: releases, diffs, code states as of a date.",
        description=(
            "The JSON API of `tracker serve`. Read-only. Errors are one JSON object"
            ' `{"error": "..."}` with the HTTP status. FHIR R4 terminology operations are'
            " under /fhir/ (not described here; see /fhir/metadata)."
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.store = store
    app.state.answers = library.Answers(store)
    app.include_router(api_routes.router)
    app.include_router(fhir.router)
    app.include_router(pages.router)

    @app.exception_handler(HTTPProblem)
    async def _problem(request: Request, exc: HTTPProblem) -> Response:
        return problem_response(request.url.path, exc.status, exc.message)

    @app.exception_handler(library.TrackerError)
    async def _tracker_error(request: Request, exc: library.TrackerError) -> Response:
        # The library's refusals are about what was asked: a release or code not stored, a
        # bad date or status.
        message = str(exc)
        status = 404 if _names_missing(message) else 400
        return problem_response(request.url.path, status, message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return problem_response(request.url.path, 400, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "the request cannot be answered"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page: {request.url.path}"
        return problem_response(request.url.path, exc.status_code, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error answering %s", request.url.path)
        return problem_response(
            request.url.path, 500, "the server could not answer this request (logged)"
        )

    app.add_middleware(BodyLimit, limit=max_body)
    # Outside the body limit: it answers GETs only, which carry no body.
    app.add_middleware(TerminologyFastPath, size=remembered)

    @app.get("/healthz", include_in_schema=False)
    def _health() -> Response:
        return HTMLResponse("ok")

    return app


def _names_missing(message: str) -> bool:
    missing = ("not stored", "is not in", "in none of", "no releases")
    return any(part in message for part in missing)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(item) for item in error.get("loc", ()) if item != "body")
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"
