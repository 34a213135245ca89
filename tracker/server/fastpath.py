"""`$validate-code` and `$lookup` by GET, answered before the framework's routing, and
remembered.

A claims system asks the same few thousand codes on the same few dates all day. Measured on
the real releases, FastAPI's routing, dependency solving and middleware took about four fifths
of such a request; the answer itself (a bisection in memory) the rest. This layer answers
those two GET operations itself, through the very functions the routes call (so the answers
and refusals are the same), and keeps the finished responses in a bounded LRU.

Remembering is sound because an answer is a function of the query string and the stored
releases alone, and releases are immutable: the cache is keyed by the raw query string and
dropped whenever the store's release list changes (`Answers.generation`, checked every few
seconds). Anything out of the ordinary (a POST, an index not yet in memory, an unexpected
error) goes to the application, which answers it the usual way.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response

from tracker.server import fhir, library
from tracker.server.errors import HTTPProblem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# About a kilobyte a response: 20,000 answers are ~20 MB, next to ~1 GB of indexes.
CACHE_SIZE = 20_000
# Longer query strings are not what a terminology client sends; they are not remembered.
_MAX_KEY = 2048


class TerminologyFastPath:
    """ASGI middleware: GET `$validate-code`/`$lookup` answered from memory, else passed on."""

    def __init__(self, app: ASGIApp, size: int = CACHE_SIZE) -> None:
        self.app = app
        self.size = size
        self._cache: OrderedDict[tuple[str, bytes], tuple[int, Response]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        operation = fhir.OPERATIONS.get(path)
        if operation is None:
            await self.app(scope, receive, send)
            return
        answers: library.Answers = scope["app"].state.answers
        query: bytes = scope.get("query_string", b"")
        response = self._answer(answers, operation, path, query)
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    def _answer(
        self,
        answers: library.Answers,
        operation: Callable[[library.Answers, dict[str, str]], dict[str, Any]],
        path: str,
        query: bytes,
    ) -> Response | None:
        """The response, remembered or computed now; None to leave it to the application."""
        key = (path, query)
        generation = answers.generation()
        remembered = self._cache.get(key)
        if remembered is not None and remembered[0] == generation:
            self._cache.move_to_end(key)
            self.hits += 1
            return remembered[1]
        self.misses += 1
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        named = dict(pairs)
        code_set = fhir.code_set_key(named)
        # No known system: refused before the store is asked. Else the index must be in memory.
        if code_set is not None and not answers.warm(named.get("version"), code_set):
            return None  # the index must be read from the store: in a worker thread
        try:
            found = fhir.query_parameters(pairs, fhir.ALLOWED[operation])
            response: Response = fhir.FHIRResponse(operation(answers, found))
        except HTTPProblem as problem:
            response = fhir.operation_outcome(problem.status, problem.message)
        except Exception:  # the application answers it again: logged, 500
            return None
        if len(query) <= _MAX_KEY:
            self._cache[key] = (generation, response)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return response
