"""The JSON API fuzzed from its own OpenAPI description (schemathesis): no 5xx, ever.

Every operation the schema lists at run time (the core routes and whatever the overdue and
admin routers add) gets generated requests, valid ones and, fewer, invalid ones, sent to
the real app (ASGI, in process) on a planned round, with the bearer token of an
administrator and of a rektor. Each answer must be no server error, have a status and a
content type the schema documents and a body that matches its schema; an invalid request
must be refused (checked with the administrator's token alone: validation comes before
any check of rights). Examples are few and derandomized, so a run is quick and repeatable;
Hypothesis's example database is off, so nothing is written into the checkout. SQLite
only: on PostgreSQL the same run takes twice as long, more than the suite should spend on
it; the request bodies refuse what PostgreSQL alone would choke on (NUL characters, ids
beyond 32 bits), and ``test_api.py`` runs every route on both databases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from .webkit import PASSWORD, ROLES

API = "/api/v1"
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}
"""Examples per operation, token and mode: few, so that the test takes about a minute."""
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CHECKS = {
    GenerationMode.POSITIVE: CONFORMANCE,
    GenerationMode.NEGATIVE: [*CONFORMANCE, negative_data_rejection],
}


def _token(web: FastAPI, email: str) -> str:
    answer = TestClient(web).post(f"{API}/session", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def _fuzz(strategy: Any, mode: GenerationMode, send: Callable[[Any], None]) -> None:
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        send(case)

    run()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_request_to_the_api_is_a_server_error(planned_web: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", planned_web)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27
    admin, rektor = (_token(planned_web, ROLES[who]) for who in ("admin", "rektor"))
    # invalid requests are refused before anyone's rights are looked at: one token is enough
    tokens = {GenerationMode.POSITIVE: [admin, rektor], GenerationMode.NEGATIVE: [admin]}
    # logging out ends the token it is sent with: that operation gets one of its own
    throwaway = _token(planned_web, ROLES["rektor"])
    statuses: Counter[int] = Counter()
    for operation in operations:
        ends_session = operation.method.upper() == "DELETE" and operation.path == f"{API}/session"
        for mode in EXAMPLES:
            for token in tokens[mode]:
                bearer = throwaway if ends_session else token

                def send(case: Any, bearer: str = bearer, mode: GenerationMode = mode) -> None:
                    answer = case.call_and_validate(
                        headers={"Authorization": f"Bearer {bearer}"}, checks=CHECKS[mode]
                    )
                    statuses[answer.status_code] += 1

                _fuzz(operation.as_strategy(generation_mode=mode), mode, send)
    # the requests reached the data, not only the refusals: reads and actions succeeded
    assert statuses[200] > len(operations)
    assert statuses[404]
    assert statuses[422]
    assert not [status for status in statuses if status >= 500]
