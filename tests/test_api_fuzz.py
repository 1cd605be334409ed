"""The API under a fuzzer: schemathesis sends generated requests to every operation of the
OpenAPI schema (token endpoints excluded) as a child director, a social worker and a
teacher; no request may give a server error (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings

from tests.test_api_auth import token_for
from tests.world import World

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application()).exclude(
    path_regex="token"
)
PERSONAS = ("director_a", "socialworker", "teacher_b")


@pytest.fixture
def tokens(world: World) -> Iterator[dict[str, str]]:
    """A token for each persona; then, while the fuzzer runs, the request signals do not close
    the connection that holds the test's transaction. The requests go to the WSGI application,
    not through Django's test client (which does the same per request); on PostgreSQL a closed
    connection would fail every later query."""
    client = Client()
    issued = {persona: token_for(client, persona) for persona in PERSONAS}
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield issued
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_gives_a_server_error(case: schemathesis.Case, tokens: dict[str, str]) -> None:
    for persona in PERSONAS:
        response = case.call(headers={"Authorization": f"Bearer {tokens[persona]}"})
        assert response.status_code < 500, (
            f"{persona}: {case.method} {case.formatted_path} -> {response.status_code}\n"
            f"{case.as_curl_command()}\n{response.text[:500]}"
        )
