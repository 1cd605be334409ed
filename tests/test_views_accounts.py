"""Signing in and out, lockout, idle expiry and the language switch."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog, Action
from shouhu.lib import clock
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_login_page_is_chinese_by_default_and_english_on_request(client: Client) -> None:
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200
    assert 'lang="zh-Hans"' in page.content.decode()
    english = client.get(reverse("accounts:login"), headers={"accept-language": "en"})
    assert 'lang="en"' in english.content.decode()
    assert "Log in to Shouhu" in english.content.decode()


def test_language_switch_sticks_for_later_pages(client: Client) -> None:
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("accounts:login")}
    )
    assert response.status_code == 302
    page = client.get(reverse("accounts:login"))
    assert 'lang="en"' in page.content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert 'lang="zh-Hans"' in client.get(reverse("accounts:login")).content.decode()


def test_wrong_password_is_refused_and_logged(client: Client, world: World) -> None:
    response = _login(client, "director_a", "wrong-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert AccessLog.objects.filter(action=Action.LOGIN_FAILED).exists()


def test_successful_login_signs_in_and_is_logged(client: Client, world: World) -> None:
    response = _login(client, "director_a", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(world.director_a.pk)
    assert AccessLog.objects.filter(action=Action.LOGIN, user=world.director_a).exists()


def test_repeated_failures_lock_the_account_even_with_the_right_password(
    client: Client, world: World, settings
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "director_a", "wrong-password")
    locked = _login(client, "director_a", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked by director_a's failures.
    assert _login(Client(), "director_b", PASSWORD).status_code == 302


def test_logout_needs_post_and_ends_the_session(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_idle_session_expires(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    key = client.session.session_key
    session = Session.objects.get(session_key=key)
    assert session.expire_date <= clock.now() + dt.timedelta(minutes=31)
    Session.objects.filter(session_key=key).update(
        expire_date=clock.now() - dt.timedelta(seconds=1)
    )
    response = client.get(reverse("audit:log"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_pages_are_not_cached(client: Client) -> None:
    response = client.get(reverse("accounts:login"))
    assert "no-store" in response["Cache-Control"]
