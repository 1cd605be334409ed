"""The children endpoints: list/search/filters, a file, change, register; scope and errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from shouhu.audit.models import AccessLog, Action, ChangeRecord
from shouhu.children.models import Child
from tests.test_api_auth import bearer, token_for
from tests.world import ID_A1, VILLAGE_A, VILLAGE_B, WORK_CITY, World

pytestmark = pytest.mark.django_db

URL = "/api/v1/children"


def api(client: Client, world: World, username: str) -> dict[str, str]:
    return bearer(token_for(client, username))


def names(body: dict[str, Any]) -> set[str]:
    return {item["name"] for item in body["items"]}


def test_no_token_is_401_for_every_endpoint(client: Client, world: World) -> None:
    a1 = world.children["a1"].pk
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{a1}").status_code == 401
    assert client.patch(f"{URL}/{a1}", {}, content_type="application/json").status_code == 401
    assert client.post(URL, {}, content_type="application/json").status_code == 401
    bad = bearer("not-a-real-token")
    assert client.get(URL, **bad).status_code == 401


def test_list_is_scoped_and_counts(client: Client, world: World) -> None:
    body = client.get(URL, **api(client, world, "teacher_a")).json()
    assert names(body) == {"张伟"} and body["count"] == 1
    assert set(body["items"][0]) >= {"id", "name", "age", "village", "categories"}
    body = client.get(URL, **api(client, world, "supervisor")).json()
    assert names(body) == {"张伟", "李娜"} and body["count"] == 2


@pytest.mark.parametrize("q", ["zhangwei", "zw", "张伟"])
def test_search_by_name_pinyin_initials(client: Client, world: World, q: str) -> None:
    body = client.get(URL, {"q": q}, **api(client, world, "supervisor")).json()
    assert names(body) == {"张伟"}


def test_search_by_id_tail_needs_identifying_access(client: Client, world: World) -> None:
    body = client.get(URL, {"q": ID_A1[-4:]}, **api(client, world, "director_a")).json()
    assert names(body) == {"张伟"}
    body = client.get(URL, {"q": ID_A1[-4:]}, **api(client, world, "teacher_a")).json()
    assert body["count"] == 0


def test_filters_limit_and_offset(client: Client, world: World) -> None:
    headers = api(client, world, "supervisor")
    assert names(client.get(URL, {"place": VILLAGE_B}, **headers).json()) == {"李娜"}
    school_b = world.orgs["school_b"].pk
    assert names(client.get(URL, {"school": school_b}, **headers).json()) == {"李娜"}
    assert client.get(URL, {"category": "left_behind_mca"}, **headers).json()["count"] == 2
    page = client.get(URL, {"limit": 1, "offset": 1}, **headers).json()
    assert page["count"] == 2 and len(page["items"]) == 1


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 100000}, {"offset": -1}, {"school": "abc"}, {"age_min": -3}]
)
def test_bad_list_parameters_are_4xx(client: Client, world: World, params: dict[str, Any]) -> None:
    response = client.get(URL, params, **api(client, world, "supervisor"))
    assert 400 <= response.status_code < 500


def test_list_query_count_is_constant(
    client: Client, world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    headers = api(client, world, "official")
    with django_assert_max_num_queries(12):
        assert client.get(URL, **headers).status_code == 200


def test_get_file_is_masked_logged_and_scoped(client: Client, world: World) -> None:
    a1, b1 = world.children["a1"].pk, world.children["b1"].pk
    headers = api(client, world, "teacher_a")
    body = client.get(f"{URL}/{a1}", **headers).json()
    assert body["name"] == "张伟" and ID_A1 not in str(body)
    assert AccessLog.objects.filter(action=Action.VIEW_CHILD, child_id=a1).exists()
    assert client.get(f"{URL}/{b1}", **headers).status_code == 404
    assert client.get(f"{URL}/999999999", **headers).status_code == 404
    assert client.get(f"{URL}/99999999999999999999999", **headers).status_code in {404, 422}


def test_reveal_over_api_is_logged(client: Client, world: World) -> None:
    a1 = world.children["a1"].pk
    body = client.get(
        f"{URL}/{a1}", {"reveal": "identifying"}, **api(client, world, "director_a")
    ).json()
    assert body["revealed"]["id_number"] == ID_A1
    assert AccessLog.objects.filter(action=Action.REVEAL, child_id=a1).exists()
    refused = client.get(
        f"{URL}/{a1}", {"reveal": "identifying"}, **api(client, world, "teacher_a")
    )
    assert refused.status_code == 403 and ID_A1 not in refused.content.decode()


def test_patch_changes_records_history_and_detects_conflicts(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    headers = api(client, world, "director_a")
    response = client.patch(
        f"{URL}/{a1.pk}",
        {"version": a1.version, "grade": "四年级"},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200 and response.json()["grade"] == "四年级"
    assert ChangeRecord.objects.filter(child_id=a1.pk, operation="update").exists()
    stale = client.patch(
        f"{URL}/{a1.pk}",
        {"version": a1.version, "grade": "五年级"},
        content_type="application/json",
        **headers,
    )
    assert stale.status_code == 409
    assert Child.objects.get(pk=a1.pk).grade == "四年级"


def test_patch_field_errors_and_scope(client: Client, world: World) -> None:
    a1, b1 = world.children["a1"], world.children["b1"]
    headers = api(client, world, "director_a")
    bad = client.patch(
        f"{URL}/{a1.pk}",
        {"version": a1.version, "id_number": "341524201503010016"},
        content_type="application/json",
        **headers,
    )
    assert bad.status_code in {400, 422}
    assert "id_number" in bad.content.decode()
    outside = client.patch(
        f"{URL}/{b1.pk}",
        {"version": b1.version, "grade": "x"},
        content_type="application/json",
        **headers,
    )
    assert outside.status_code == 404
    teacher = client.patch(
        f"{URL}/{a1.pk}",
        {"version": a1.version, "grade": "x"},
        content_type="application/json",
        **api(client, world, "teacher_a"),
    )
    assert teacher.status_code == 403
    garbage = client.patch(
        f"{URL}/{a1.pk}", "{not json", content_type="application/json", **headers
    )
    assert 400 <= garbage.status_code < 500


def _new_child(village: str = VILLAGE_A) -> dict[str, Any]:
    away = {
        "away": True,
        "away_place_code": WORK_CITY,
        "away_since": "2024-01-01",
        "away_reason": "work",
    }
    return {
        "child": {
            "name": "赵小雨",
            "sex": "F",
            "birth_date": "2017-06-01",
            "residence_code": village,
            "living_arrangement": "grandparents",
        },
        "household": {"village_code": village},
        "members": [
            {"name": "赵父", "relation": "father", "is_guardian": True, **away},
            {"name": "钱母", "relation": "mother", "is_guardian": True, **away},
        ],
    }


def test_post_registers_with_derived_categories(client: Client, world: World) -> None:
    response = client.post(
        URL, _new_child(), content_type="application/json", **api(client, world, "director_a")
    )
    assert response.status_code == 201
    body = response.json()
    assert "left_behind_mca" in body["categories"]
    assert Child.objects.filter(pk=body["id"], name="赵小雨").exists()


def test_post_outside_scope_or_invalid_is_refused(client: Client, world: World) -> None:
    headers = api(client, world, "director_a")
    outside = client.post(URL, _new_child(VILLAGE_B), content_type="application/json", **headers)
    assert outside.status_code == 403
    bad = _new_child()
    bad["child"]["birth_date"] = "2099-01-01"
    bad["members"][0]["away_since"] = None
    response = client.post(URL, bad, content_type="application/json", **headers)
    assert response.status_code in {400, 422}
    text = response.content.decode()
    assert "birth_date" in text and "members.0.away_since" in text
    teacher = client.post(
        URL, _new_child(), content_type="application/json", **api(client, world, "teacher_a")
    )
    assert teacher.status_code == 403
    assert not Child.objects.filter(name="赵小雨").exists()
