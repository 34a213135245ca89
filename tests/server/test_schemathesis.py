"""Schemathesis against the committed OpenAPI document: generated requests for every operation
never get a 500, and every error is one JSON message."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.server.test_api import OPENAPI
from tracker.server import create_app

EXAMPLES = 25


@pytest.mark.parametrize("store", ["sample_url", "mixed_sample_url"])
def test_no_request_gets_a_server_error(store: str, request: pytest.FixtureRequest) -> None:
    """On the HCPCS samples, and on a store that also holds ICD-10-CM (diffs, impact and
    codes of a code set without end dates, labels such as FY2020)."""
    app = create_app(request.getfixturevalue(store))
    schema = schemathesis.openapi.from_dict(json.loads(OPENAPI.read_text()))
    schema.app = app
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(app=app)
            statuses.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])
            assert response.status_code < 500, (case.path, response.text)
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}, response.text

        check()
    # Requests were made, and some were answered (not all refused).
    assert len(statuses) >= len(operations) * 5 and 200 in statuses
