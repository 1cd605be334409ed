"""Errors a person can act on: a page in their language with a reference that is in the
server log, nothing of the server's insides, and what they typed kept (issue 10 §2)."""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from shouhu.children import registration
from tests.test_views_register import form
from tests.world import World


def _locked(*args: object, **kwargs: object) -> None:
    raise OperationalError("database is locked")


@pytest.fixture
def no_debug(settings):  # type: ignore[no-untyped-def]
    settings.DEBUG = False
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False


def _client(user: object, language: str = "zh-hans") -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_a_server_error_shows_a_reference_that_is_in_the_log(
    world: World, no_debug: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("shouhu.children.views_register.registrable_villages", _locked)
    caplog.set_level(logging.ERROR, logger="shouhu.errors")
    response = _client(world.director_a).get(reverse("children:register"))
    assert response.status_code == 500
    page = response.content.decode()
    logged = [r for r in caplog.records if r.name == "shouhu.errors"]
    assert len(logged) == 1 and logged[0].exc_info is not None
    reference = logged[0].getMessage().split()[1].rstrip(":")
    assert len(reference) == 8 and reference in page
    assert "出错了" in page or "出现错误" in page
    for inside in ("Traceback", "OperationalError", "database is locked", "SECRET", "DATABASE"):
        assert inside not in page


def test_the_error_page_speaks_english_to_an_english_reader(
    world: World, no_debug: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shouhu.children.views_register.registrable_villages", _locked)
    page = _client(world.director_a, "en").get(reverse("children:register")).content.decode()
    assert "Something went wrong" in page and "Error reference" in page


def test_a_save_that_fails_comes_back_with_everything_typed(
    world: World, no_debug: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registration, "child_register", _locked)
    client = _client(world.director_a)
    url = reverse("children:register")
    typed = form(name="周小溪", **{"household-address": "全山村三组 12 号"})
    response = client.post(url, typed, HTTP_REFERER=f"http://testserver{url}")
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url).content.decode()
    assert 'data-testid="recovered-input"' in page and 'id="recovered-input"' in page
    assert "周小溪" in page and "全山村三组 12 号" in page and "周大山" in page
    assert "csrfmiddlewaretoken" not in page.split('id="recovered-input"')[1].split("</script>")[0]
    assert "could not be saved" in page or "没有保存" in page or "未能保存" in page
    from django.contrib.sessions.models import Session

    assert not any("周小溪" in str(s.get_decoded()) for s in Session.objects.all())  # sealed
    again = client.get(url).content.decode()
    assert 'data-testid="recovered-input"' not in again  # given back once


def test_an_api_error_is_json_without_insides(
    world: World, no_debug: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registration, "child_register", _locked)
    client = _client(world.director_a)
    response = client.post("/api/v1/children", {"name": "x"}, content_type="application/json")
    assert response.status_code in {400, 401, 422, 500}
    assert "Traceback" not in response.content.decode()


def test_an_api_server_error_names_its_logged_reference(
    world: World, no_debug: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.test_api_children import api, new_child

    monkeypatch.setattr(registration, "child_register", _locked)
    caplog.set_level(logging.ERROR)
    client = Client(raise_request_exception=False)
    headers = api(client, world, "director_a")
    response = client.post(
        "/api/v1/children", new_child(), content_type="application/json", **headers
    )
    assert response.status_code == 500
    body = response.json()
    assert body["reference"] in body["detail"]
    assert any(body["reference"] in r.getMessage() for r in caplog.records)
    assert "locked" not in response.content.decode()


@pytest.mark.parametrize(
    ("language", "words"), [("zh-hans", "页面已过期"), ("en", "This page has expired")]
)
def test_a_stale_form_gets_a_page_in_the_persons_language(
    world: World, no_debug: None, language: str, words: str
) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(world.director_a)
    response = client.post(reverse("children:register"), {"name": "李小明"})
    assert response.status_code == 403
    page = response.content.decode()
    assert words in page and 'data-testid="csrf-failure"' in page
    assert "DEBUG" not in page and "CSRF_" not in page and "李小明" not in page


def test_the_site_has_an_icon(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    page = client.get(reverse("children:list")).content.decode()
    assert 'rel="icon"' in page
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon["Location"].endswith("favicon.svg")
