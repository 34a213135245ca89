"""Errors a request can cause, turned into one JSON message (or a FHIR OperationOutcome).

No response ever carries a stack trace: anything unexpected is logged on the server and
answered with a 500 and one sentence.
"""

from __future__ import annotations


class HTTPProblem(Exception):
    """A request the server answers with `status` and one message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(message: str) -> HTTPProblem:
    return HTTPProblem(404, message)


def bad_request(message: str) -> HTTPProblem:
    return HTTPProblem(400, message)
