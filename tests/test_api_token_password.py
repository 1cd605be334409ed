"""A bearer token does not outlive the password it was issued under (issue 10, 6.8): however
the password changes (a service, `manage.py changepassword`, the admin), the token is 401."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from shouhu.accounts.models import User
from shouhu.accounts.services import api_tokens_revoke
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db


def _token(client: Client, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token",
        {"username": username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


def test_token_is_401_after_the_password_changes(world: World, client: Client) -> None:
    headers = _token(client, "director_a")
    other = _token(client, "director_b")
    assert client.get("/api/v1/children", **headers).status_code == 200
    user = User.objects.get(username="director_a")
    user.set_password("a-new-long-password-1")
    user.save()
    assert client.get("/api/v1/children", **headers).status_code == 401
    assert client.get("/api/v1/children", **other).status_code == 200
    # A token asked for with the new password works.
    fresh = client.post(
        "/api/v1/auth/token",
        {"username": "director_a", "password": "a-new-long-password-1"},
        content_type="application/json",
    )
    token = fresh.json()["token"]
    assert client.get("/api/v1/children", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_changepassword_command_ends_the_tokens(
    world: World, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = _token(client, "director_a")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-new-long-password-1")
    call_command("changepassword", "director_a", stdout=io.StringIO())
    assert client.get("/api/v1/children", **headers).status_code == 401


def test_revoking_every_token_of_a_user(world: World, client: Client) -> None:
    first, second = _token(client, "director_a"), _token(client, "director_a")
    assert api_tokens_revoke(user=world.director_a) == 2
    for headers in (first, second):
        assert client.get("/api/v1/children", **headers).status_code == 401
