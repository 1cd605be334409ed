"""Login lockout counts failures per username and address, and per username across
addresses (issue 10, 6.9): guessing one account's password from many addresses locks it."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db


def _token(username: str, password: str, address: str) -> int:
    response = Client(REMOTE_ADDR=address).post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
    )
    return response.status_code


def test_failures_from_many_addresses_lock_the_username(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    per_username = getattr(settings, "SHOUHU_LOGIN_USERNAME_FAILURE_LIMIT", 20)
    assert per_username > settings.AXES_FAILURE_LIMIT
    for i in range(per_username - 1):
        assert _token("director_a", "wrong-password", f"203.0.113.{i + 1}") == 401
    assert len(set(AccessAttempt.objects.values_list("ip_address", flat=True))) == per_username - 1
    # Below the limit the right password still works, from a new address.
    assert _token("director_a", PASSWORD, "198.51.100.1") == 200
    assert _token("director_a", "wrong-password", "198.51.100.2") in {401, 429}
    # Now locked from everywhere: the token endpoint and the web login.
    assert _token("director_a", PASSWORD, "198.51.100.3") == 429
    web = Client(REMOTE_ADDR="198.51.100.4")
    response = web.post(reverse("accounts:login"), {"username": "director_a", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in web.session
    # Other accounts are not affected.
    assert _token("director_b", PASSWORD, "203.0.113.1") == 200


def test_one_address_still_locks_at_the_lower_limit(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _token("director_a", "wrong-password", "203.0.113.9")
    assert _token("director_a", PASSWORD, "203.0.113.9") == 429
    # Another address is not locked by five failures.
    assert _token("director_a", PASSWORD, "203.0.113.10") == 200
