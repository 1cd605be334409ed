"""The API never answers 500 to bad input: malformed JSON, wrong types, control characters,
oversized bodies, odd ids. Every error is JSON in one documented shape."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from shouhu.children.models import Child
from tests.test_api_auth import bearer, token_for
from tests.world import World

pytestmark = pytest.mark.django_db

URL = "/api/v1/children"


@pytest.fixture
def headers(client: Client, world: World) -> dict[str, str]:
    return bearer(token_for(client, "director_a"))


def assert_error(response: Any, status: int | set[int]) -> dict[str, Any]:
    expected = {status} if isinstance(status, int) else status
    assert response.status_code in expected, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) <= {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    if "errors" in body:
        for key, messages in body["errors"].items():
            assert isinstance(key, str)
            assert messages and all(isinstance(m, str) and m for m in messages)
    return body


@pytest.mark.parametrize(
    "path",
    [
        "0",
        "-1",
        "99999999999",
        "9223372036854775807",
        "9223372036854775808",
        "99999999999999999999999999999999",
    ],
)
def test_odd_ids_are_404_like_a_missing_child(
    client: Client, world: World, headers: dict[str, str], path: str
) -> None:
    a1 = world.children["a1"]
    assert_error(client.get(f"{URL}/{path}", **headers), 404)
    patch = client.patch(
        f"{URL}/{path}", {"version": 1, "grade": "x"}, content_type="application/json", **headers
    )
    assert_error(patch, 404)
    assert Child.objects.get(pk=a1.pk).grade == a1.grade


def test_an_id_that_is_not_a_number_is_a_field_error(
    client: Client, world: World, headers: dict[str, str]
) -> None:
    body = assert_error(client.get(f"{URL}/abc", **headers), 400)
    assert set(body["errors"]) == {"child_id"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"school": "abc"}, "school"),
        ({"school": 0}, "school"),
        ({"age": -1}, "age"),
        ({"age_min": -3}, "age_min"),
        ({"age_max": 1000}, "age_max"),
        ({"place": "1"}, "place"),
        ({"place": "34152410120x"}, "place"),
        ({"category": "poor"}, "category"),
        ({"q": "x" * 101}, "q"),
        ({"q": "张\x00伟"}, "q"),
    ],
)
def test_bad_list_parameters_are_400_with_the_field(
    client: Client, world: World, headers: dict[str, str], params: dict[str, Any], field: str
) -> None:
    body = assert_error(client.get(URL, params, **headers), 400)
    assert set(body["errors"]) == {field}


def test_unknown_list_parameters_are_ignored(
    client: Client, world: World, headers: dict[str, str]
) -> None:
    assert client.get(URL, {"colour": "red"}, **headers).json()["count"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [({"reveal": "everything"}, "reveal"), ({"reveal": "identifying", "reason": "\x00"}, "reason")],
)
def test_bad_detail_parameters_are_400(
    client: Client, world: World, headers: dict[str, str], params: dict[str, Any], field: str
) -> None:
    response = client.get(f"{URL}/{world.children['a1'].pk}", params, **headers)
    assert set(assert_error(response, 400)["errors"]) == {field}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("", "application/json"),
        ("null", "application/json"),
        ("[1, 2]", "application/json"),
        ('"text"', "application/json"),
        ("\xff\xfe", "application/json"),
        ("version=1&grade=x", "application/x-www-form-urlencoded"),
        ("grade", "text/plain"),
    ],
)
def test_malformed_bodies_are_400(
    client: Client, world: World, headers: dict[str, str], body: str, content_type: str
) -> None:
    a1 = world.children["a1"]
    for method, url in [("patch", f"{URL}/{a1.pk}"), ("post", URL)]:
        response = getattr(client, method)(url, body, content_type=content_type, **headers)
        assert_error(response, 400)
    assert Child.objects.count() == len(world.children)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"version": "abc"}, "version"),
        ({"version": 0}, "version"),
        ({"version": 2**70}, "version"),
        ({"version": 1, "name": None}, "name"),
        ({"version": 1, "name": "张\x00伟"}, "name"),
        ({"version": 1, "name": "x" * 101}, "name"),
        ({"version": 1, "birth_date": "2015-02-30"}, "birth_date"),
        ({"version": 1, "boarding": "sometimes"}, "boarding"),
        ({"version": 1, "school_id": -5}, "school_id"),
        ({"version": 1, "household_id": 3}, "household_id"),
    ],
)
def test_patch_schema_errors_name_the_field(
    client: Client, world: World, headers: dict[str, str], payload: dict[str, Any], field: str
) -> None:
    a1 = world.children["a1"]
    response = client.patch(f"{URL}/{a1.pk}", payload, content_type="application/json", **headers)
    assert set(assert_error(response, 400)["errors"]) == {field}
    assert Child.objects.get(pk=a1.pk).version == a1.version


def test_oversized_body_is_413(client: Client, world: World, headers: dict[str, str]) -> None:
    body = '{"child": {"name": "' + "x" * (21 * 1024 * 1024) + '"}}'
    assert_error(client.post(URL, body, content_type="application/json", **headers), 413)


def test_token_request_with_control_characters_is_400(client: Client, world: World) -> None:
    response = client.post(
        "/api/v1/auth/token",
        {"username": "director_a\x00", "password": "x"},
        content_type="application/json",
    )
    assert set(assert_error(response, 400)["errors"]) == {"username"}


def test_unknown_methods_are_405(client: Client, world: World, headers: dict[str, str]) -> None:
    assert client.put(URL, {}, content_type="application/json", **headers).status_code == 405
    assert client.delete(f"{URL}/{world.children['a1'].pk}", **headers).status_code == 405
    assert Child.objects.count() == len(world.children)


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/children/", "/api/v1/children/1/x"])
def test_unknown_api_paths_are_json_404(client: Client, path: str) -> None:
    for method in ("get", "post", "delete"):
        assert_error(getattr(client, method)(path), 404)


def test_web_pages_outside_the_api_keep_their_html_404(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
