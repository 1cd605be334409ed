"""Who sees whom over the API: every persona of the world against every child, on every
endpoint. A child out of scope answers exactly as a child that does not exist."""

from __future__ import annotations

import pytest
from django.test import Client

from shouhu.audit.models import AccessLog, Action
from shouhu.children.models import Child
from tests.test_api_auth import bearer, token_for
from tests.world import ID_A1, World

pytestmark = pytest.mark.django_db

URL = "/api/v1/children"
MISSING = 10**9

VISIBLE: dict[str, set[str]] = {
    "director_a": {"a1"},
    "director_b": {"b1"},
    "director_c": {"c1"},
    "director_dest": {"dest1"},
    "supervisor": {"a1", "b1"},
    "official": {"a1", "b1", "c1"},
    "teacher_a": {"a1"},
    "teacher_b": {"b1"},
    "socialworker": {"a1"},
    "socialworker_dest": set(),
    "counselor": {"b1"},
    "volunteer": {"a1"},
    "techenvoy": set(),
    "admin": set(),
}
EDITS = {"director_a", "director_b", "director_c", "director_dest", "supervisor"}


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_list_shows_exactly_the_children_in_scope(
    client: Client, world: World, username: str
) -> None:
    body = client.get(URL, {"limit": 500}, **bearer(token_for(client, username))).json()
    expected = {world.children[key].pk for key in VISIBLE[username]}
    assert {item["id"] for item in body["items"]} == expected
    assert body["count"] == len(expected)


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_search_and_filters_never_reach_out_of_scope(
    client: Client, world: World, username: str
) -> None:
    headers = bearer(token_for(client, username))
    for key, child in world.children.items():
        if key in VISIBLE[username]:
            body = client.get(URL, {"q": child.name_pinyin}, **headers).json()
            assert child.pk in {item["id"] for item in body["items"]}
            continue
        searches: list[dict[str, object]] = [
            {"q": child.name},
            {"q": child.name_pinyin},
            {"q": child.name_initials},
            {"place": child.residence_id},
        ]
        if child.school_id is not None:
            searches.append({"school": child.school_id})
        for params in searches:
            body = client.get(URL, params, **headers).json()
            assert child.pk not in {item["id"] for item in body["items"]}, (key, params)
    assert client.get(URL, {"q": ID_A1[-4:]}, **headers).json()["count"] == (
        1 if username in {"director_a", "supervisor", "socialworker"} else 0
    )


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_a_child_out_of_scope_is_404_like_a_missing_one(
    client: Client, world: World, username: str
) -> None:
    headers = bearer(token_for(client, username))
    missing_get = client.get(f"{URL}/{MISSING}", **headers)
    missing_patch = client.patch(
        f"{URL}/{MISSING}", {"version": 1, "grade": "x"}, content_type="application/json", **headers
    )
    assert missing_get.status_code == missing_patch.status_code == 404
    for key, child in world.children.items():
        got = client.get(f"{URL}/{child.pk}", **headers)
        revealed = client.get(f"{URL}/{child.pk}", {"reveal": "identifying"}, **headers)
        changed = client.patch(
            f"{URL}/{child.pk}",
            {"version": child.version, "grade": "x"},
            content_type="application/json",
            **headers,
        )
        if key in VISIBLE[username]:
            assert got.status_code == 200
            assert changed.status_code == (200 if username in EDITS else 403)
            continue
        for response, missing in (
            (got, missing_get),
            (revealed, missing_get),
            (changed, missing_patch),
        ):
            assert response.status_code == 404, (key, response.content)
            assert response.content == missing.content
            assert child.name not in response.content.decode()
        assert Child.objects.get(pk=child.pk).grade == child.grade


def test_refused_reads_are_logged_as_denied(client: Client, world: World) -> None:
    headers = bearer(token_for(client, "teacher_a"))
    b1 = world.children["b1"].pk
    client.get(f"{URL}/{b1}", **headers)
    client.patch(f"{URL}/{b1}", {"version": 1}, content_type="application/json", **headers)
    denied = AccessLog.objects.filter(action=Action.DENIED, child_id=b1, user=world.teacher_a)
    assert sorted(denied.values_list("purpose", flat=True)) == ["api_edit", "api_view"]
    assert not AccessLog.objects.filter(action=Action.VIEW_CHILD, child_id=b1).exists()
    # A missing child leaves no trace under a child id.
    client.get(f"{URL}/{MISSING}", **headers)
    assert not AccessLog.objects.filter(child_id=MISSING).exists()


def test_teacher_of_school_a_cannot_reach_a_child_of_school_b(client: Client, world: World) -> None:
    b1 = world.children["b1"]
    headers = bearer(token_for(client, "teacher_a"))
    assert client.get(URL, {"school": b1.school_id}, **headers).json()["count"] == 0
    assert client.get(URL, {"q": "李娜"}, **headers).json()["count"] == 0
    assert client.get(URL, {"q": "lina"}, **headers).json()["count"] == 0
    assert client.get(f"{URL}/{b1.pk}", **headers).status_code == 404
    response = client.patch(
        f"{URL}/{b1.pk}", {"version": b1.version}, content_type="application/json", **headers
    )
    assert response.status_code == 404


def test_director_of_village_a_cannot_reach_village_b(client: Client, world: World) -> None:
    b1 = world.children["b1"]
    headers = bearer(token_for(client, "director_a"))
    assert client.get(URL, {"place": b1.residence_id}, **headers).json()["count"] == 0
    assert client.get(URL, {"q": "李"}, **headers).json()["count"] == 0
    assert client.get(f"{URL}/{b1.pk}", **headers).status_code == 404
    response = client.patch(
        f"{URL}/{b1.pk}",
        {"version": b1.version, "grade": "x"},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 404
    payload = {
        "child": {
            "name": "李小",
            "sex": "F",
            "birth_date": "2018-01-01",
            "residence_code": b1.residence_id,
            "living_arrangement": "both_parents",
        },
        "household_id": b1.household_id,
    }
    response = client.post(URL, payload, content_type="application/json", **headers)
    assert response.status_code in {400, 403}
    assert not Child.objects.filter(name="李小").exists()


def test_a_revoked_membership_closes_access_at_once(client: Client, world: World) -> None:
    headers = bearer(token_for(client, "teacher_a"))
    a1 = world.children["a1"].pk
    assert client.get(f"{URL}/{a1}", **headers).status_code == 200
    world.teacher_a.memberships.update(active=False)
    assert client.get(f"{URL}/{a1}", **headers).status_code == 404
    assert client.get(URL, **headers).json() == {"items": [], "count": 0}
