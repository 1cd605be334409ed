"""The children endpoints: list/search/filters, a file, change, register; masking and audit.

Who may see whom is in `test_api_scope.py`; malformed input in `test_api_errors.py`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shouhu.audit.models import AccessLog, Action, ChangeRecord
from shouhu.children.models import Child
from shouhu.lib import clock, dates
from tests.test_api_auth import bearer, token_for
from tests.world import (
    BAD_ID,
    BORN,
    ID_A1,
    ID_OTHER,
    TOWNSHIP_1,
    VILLAGE_A,
    VILLAGE_B,
    WORK_CITY,
    World,
    child_data,
    register,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/children"
ROW_KEYS = {
    "id",
    "name",
    "sex",
    "birth_date",
    "age",
    "village_code",
    "village",
    "school_id",
    "school",
    "grade",
    "categories",
}
PHONES = ("13800138000", "13900139000")


def api(client: Client, world: World, username: str) -> dict[str, str]:
    return bearer(token_for(client, username))


def names(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["items"]]


def born_aged(years: int) -> dt.date:
    """A birth date that makes a child exactly `years` old today (birthday a month ago)."""
    return dates.add_years(clock.today(), -years) - dt.timedelta(days=30)


def post(client: Client, payload: dict[str, Any], headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(URL, payload, content_type="application/json", **headers)


def patch(client: Client, child_id: int, payload: dict[str, Any], headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.patch(f"{URL}/{child_id}", payload, content_type="application/json", **headers)


# ---------------------------------------------------------------- list and search


def test_list_gives_items_with_basic_fields_and_a_count(client: Client, world: World) -> None:
    response = client.get(URL, **api(client, world, "supervisor"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "count"}
    assert body["count"] == 2
    assert names(body) == ["李娜", "张伟"]  # pinyin order: li, zhang
    a1 = next(item for item in body["items"] if item["name"] == "张伟")
    assert set(a1) == ROW_KEYS
    assert a1["id"] == world.children["a1"].pk
    assert a1["village_code"] == VILLAGE_A
    assert a1["school_id"] == world.orgs["school_a"].pk
    assert a1["categories"] == ["left_behind_mca", "left_behind_census"]


@pytest.mark.parametrize(
    "q", ["张伟", "张", "zhangwei", "zhang", "ZhangWei", "zhang wei", "zw", "ZW", "zhangw"]
)
def test_search_by_name_pinyin_or_initials(client: Client, world: World, q: str) -> None:
    body = client.get(URL, {"q": q}, **api(client, world, "supervisor")).json()
    assert names(body) == ["张伟"] and body["count"] == 1


@pytest.mark.parametrize("q", ["王", "wangfang", "zz", "liu"])
def test_search_that_matches_nobody_visible_is_empty(client: Client, world: World, q: str) -> None:
    body = client.get(URL, {"q": q}, **api(client, world, "supervisor")).json()
    assert body == {"items": [], "count": 0}


@pytest.mark.parametrize("q", [ID_A1[-4:], ID_A1[-6:], ID_A1])
def test_search_by_id_digits_for_those_who_may_see_identifying_fields(
    client: Client, world: World, q: str
) -> None:
    assert names(client.get(URL, {"q": q}, **api(client, world, "director_a")).json()) == ["张伟"]
    assert names(client.get(URL, {"q": q}, **api(client, world, "supervisor")).json()) == ["张伟"]
    # Teachers, officials and volunteers see the child but not its ID number: no match.
    for username in ("teacher_a", "official", "volunteer"):
        assert client.get(URL, {"q": q}, **api(client, world, username)).json()["count"] == 0


def test_search_by_wrong_id_digits_is_empty(client: Client, world: World) -> None:
    body = client.get(URL, {"q": "9999"}, **api(client, world, "director_a")).json()
    assert body["count"] == 0


def test_filter_by_place_of_any_level(client: Client, world: World) -> None:
    headers = api(client, world, "official")
    assert names(client.get(URL, {"place": VILLAGE_B}, **headers).json()) == ["李娜"]
    assert names(client.get(URL, {"place": TOWNSHIP_1}, **headers).json()) == ["李娜", "张伟"]
    assert client.get(URL, {"place": "341524000000"}, **headers).json()["count"] == 3
    assert client.get(URL, {"place": "3415"}, **headers).json()["count"] == 3
    assert client.get(URL, {"place": "110000000000"}, **headers).json()["count"] == 0


def test_filter_by_school(client: Client, world: World) -> None:
    headers = api(client, world, "supervisor")
    school_a, school_b = world.orgs["school_a"].pk, world.orgs["school_b"].pk
    assert names(client.get(URL, {"school": school_b}, **headers).json()) == ["李娜"]
    assert names(client.get(URL, {"school": school_a}, **headers).json()) == ["张伟"]
    assert client.get(URL, {"school": 10**9}, **headers).json()["count"] == 0


def test_filter_by_category(client: Client, world: World) -> None:
    headers = api(client, world, "supervisor")
    assert client.get(URL, {"category": "left_behind_mca"}, **headers).json()["count"] == 2
    assert client.get(URL, {"category": "migrant"}, **headers).json()["count"] == 0
    body = client.get(URL, {"category": "migrant"}, **api(client, world, "director_dest")).json()
    assert names(body) == ["刘洋"]


def test_filter_by_a_sensitive_category_needs_sensitive_access(
    client: Client, world: World
) -> None:
    register(
        world.director_a,
        child_data("周杰", VILLAGE_A, disability_type="肢体", school_id=world.orgs["school_a"].pk),
    )
    params = {"category": "difficulty_disability"}
    assert names(client.get(URL, params, **api(client, world, "director_a")).json()) == ["周杰"]
    # The teacher and the official see the child, but not its health.
    for username in ("teacher_a", "official"):
        listed = client.get(URL, **api(client, world, username)).json()
        assert "周杰" in names(listed)
        assert client.get(URL, params, **api(client, world, username)).json()["count"] == 0


def test_filter_by_age(client: Client, world: World) -> None:
    register(world.director_a, child_data("赵小", VILLAGE_A, birth_date=born_aged(5)))
    register(world.director_a, child_data("钱大", VILLAGE_A, birth_date=born_aged(15)))
    headers = api(client, world, "director_a")
    a1_age = dates.age_on(world.children["a1"].birth_date, clock.today())

    def found(**params: int) -> list[str]:
        return names(client.get(URL, params, **headers).json())

    assert found(age=5) == ["赵小"]
    assert found(age=15) == ["钱大"]
    assert found(age=a1_age) == ["张伟"]
    assert found(age=6) == []
    assert found(age_min=a1_age) == ["钱大", "张伟"]
    assert found(age_max=a1_age) == ["张伟", "赵小"]
    assert found(age_min=6, age_max=14) == (["张伟"] if 6 <= a1_age <= 14 else [])
    # `age` and a range intersect.
    assert found(age=5, age_min=6) == []
    assert found(age=15, age_max=17) == ["钱大"]


def test_filters_combine(client: Client, world: World) -> None:
    headers = api(client, world, "supervisor")
    params = {"place": TOWNSHIP_1, "school": world.orgs["school_a"].pk, "q": "zw"}
    assert names(client.get(URL, params, **headers).json()) == ["张伟"]
    params["q"] = "ln"
    assert client.get(URL, params, **headers).json()["count"] == 0


def test_limit_offset_and_count_page_through_all(client: Client, world: World) -> None:
    for i in range(5):
        register(world.director_a, child_data(f"孙{'一二三四五'[i]}", VILLAGE_A))
    headers = api(client, world, "director_a")
    everyone = client.get(URL, **headers).json()
    assert everyone["count"] == 6 and len(everyone["items"]) == 6
    pages = [client.get(URL, {"limit": 2, "offset": o}, **headers).json() for o in (0, 2, 4)]
    assert all(p["count"] == 6 and len(p["items"]) == 2 for p in pages)
    assert [i["id"] for p in pages for i in p["items"]] == [i["id"] for i in everyone["items"]]
    past = client.get(URL, {"limit": 2, "offset": 6}, **headers).json()
    assert past == {"items": [], "count": 6}
    assert len(client.get(URL, {"limit": 500}, **headers).json()["items"]) == 6


def test_default_page_is_fifty(client: Client, world: World) -> None:
    for i in range(55):
        register(world.director_a, child_data(f"孙{i}", VILLAGE_A), members=[])
    body = client.get(URL, **api(client, world, "director_a")).json()
    assert body["count"] == 56 and len(body["items"]) == 50


def _list_queries(client: Client, headers: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL, {"limit": 500}, **headers).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_the_page(
    client: Client, world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    headers = api(client, world, "official")
    few = _list_queries(client, headers)
    for i in range(20):
        register(
            world.director_a,
            child_data(f"孙{i}", VILLAGE_A, school_id=world.orgs["school_a"].pk),
            members=[],
        )
    assert _list_queries(client, headers) == few
    # token, its last use, scope (memberships, assignments), count, page, access log (with
    # the user's memberships); a search by ID digits adds nothing.
    with django_assert_max_num_queries(8):
        assert client.get(URL, **headers).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(URL, {"q": "zhang", "place": TOWNSHIP_1}, **headers).status_code == 200


def test_every_list_call_is_logged_without_id_digits(client: Client, world: World) -> None:
    headers = api(client, world, "director_a")
    client.get(URL, {"place": VILLAGE_A, "limit": 10}, **headers)
    client.get(URL, {"q": ID_A1[-4:]}, **headers)
    logs = list(
        AccessLog.objects.filter(user=world.director_a, action=Action.LIST_CHILDREN).order_by("id")
    )
    assert len(logs) == 2
    assert all(log.purpose == "api_list" and log.detail["source"] == "api" for log in logs)
    assert logs[0].ip == "127.0.0.1"
    assert logs[0].detail["filters"] == {"place": VILLAGE_A}
    assert logs[0].detail["count"] == 1 and logs[0].detail["returned"] == 1
    assert logs[1].detail["filters"] == {"q": "[digits]"}
    assert ID_A1[-4:] not in json.dumps(logs[1].detail)


# ---------------------------------------------------------------- a child's file


def test_file_has_the_documented_fields(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    body = client.get(f"{URL}/{a1.pk}", **api(client, world, "director_a")).json()
    assert set(body) >= ROW_KEYS
    assert body["id"] == a1.pk and body["version"] == a1.version
    assert body["residence"].endswith("全山村委会")
    assert body["has_id_number"] is True
    household = body["household"]
    assert household["id"] == a1.household_id
    assert [m["relation"] for m in household["members"]] == [
        "father",
        "mother",
        "paternal_grandmother",
    ]
    assert body["revealed"] is None


def _file(client: Client, world: World, username: str, child: str) -> dict[str, Any]:
    response = client.get(f"{URL}/{world.children[child].pk}", **api(client, world, username))
    assert response.status_code == 200
    text = response.content.decode()
    # Identifying values never appear in plaintext without a reveal, whatever the role.
    assert ID_A1 not in text and not any(p in text for p in PHONES)
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("username", ["director_a", "supervisor", "socialworker"])
def test_full_access_roles_see_masked_identifying_and_plain_sensitive_fields(
    client: Client, world: World, username: str
) -> None:
    body = _file(client, world, username, "a1")
    assert body["field_classes"] == ["basic", "identifying", "sensitive"]
    assert body["id_number"] == f"3415**********{ID_A1[-4:]}"
    father = body["household"]["members"][0]
    assert father["phone"] == "138****8000"
    assert father["capacity"] == "able"
    assert body["health"] == "well"
    assert body["household"]["aid"] == "none"


@pytest.mark.parametrize(
    ("username", "child"),
    [("official", "a1"), ("teacher_a", "a1"), ("volunteer", "a1"), ("teacher_b", "b1")],
)
def test_basic_roles_see_protected_fields_masked(
    client: Client, world: World, username: str, child: str
) -> None:
    body = _file(client, world, username, child)
    assert body["field_classes"] == ["basic"]
    assert body["id_number"] in {"***", ""}
    assert body["name"] == world.children[child].name
    for key in ("health", "disability_type", "guardianship_type", "guardianship_rating"):
        assert body[key] == "***"
    assert body["household"]["aid"] == "***"
    for member in body["household"]["members"]:
        assert member["capacity"] == "***"
        assert member["phone"] in {"***", ""}


def test_official_sees_that_an_id_number_exists_but_not_its_digits(
    client: Client, world: World
) -> None:
    body = _file(client, world, "official", "a1")
    assert body["has_id_number"] is True and body["id_number"] == "***"
    assert body["household"]["members"][0]["phone"] == "***"


def test_counselor_sees_sensitive_but_not_identifying_fields(client: Client, world: World) -> None:
    body = _file(client, world, "counselor", "b1")
    assert body["field_classes"] == ["basic", "sensitive"]
    assert body["health"] == "well"
    assert body["household"]["members"][0]["capacity"] == "able"
    assert body["household"]["members"][0]["phone"] == "***"


def test_sensitive_categories_are_hidden_below_the_ceiling(client: Client, world: World) -> None:
    child = register(
        world.director_a,
        child_data("周杰", VILLAGE_A, disability_type="肢体", school_id=world.orgs["school_a"].pk),
    )
    director = client.get(f"{URL}/{child.pk}", **api(client, world, "director_a")).json()
    assert "difficulty_disability" in director["categories"]
    assert director["disability_type"] == "肢体"
    teacher = client.get(f"{URL}/{child.pk}", **api(client, world, "teacher_a")).json()
    assert "difficulty_disability" not in teacher["categories"]
    assert "肢体" not in json.dumps(teacher, ensure_ascii=False)
    rows = client.get(URL, **api(client, world, "director_a")).json()["items"]
    assert all("difficulty_disability" not in row["categories"] for row in rows)


def test_list_rows_never_carry_protected_fields(client: Client, world: World) -> None:
    for username in ("director_a", "supervisor", "official", "teacher_a", "counselor"):
        response = client.get(URL, **api(client, world, username))
        text = response.content.decode()
        assert ID_A1 not in text and not any(p in text for p in PHONES)
        assert all(set(item) == ROW_KEYS for item in response.json()["items"])


def test_reading_a_file_is_logged(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.get(f"{URL}/{a1.pk}", **api(client, world, "teacher_a"), REMOTE_ADDR="10.1.2.3")
    log = AccessLog.objects.get(action=Action.VIEW_CHILD, child_id=a1.pk)
    assert log.user == world.teacher_a
    assert log.purpose == "api_view"
    assert log.fields == ["basic"]
    assert log.ip == "10.1.2.3"
    assert log.detail["source"] == "api"
    assert "teacher" in log.roles


def test_reveal_is_logged(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    body = client.get(
        f"{URL}/{a1.pk}", {"reveal": "identifying"}, **api(client, world, "director_a")
    ).json()
    assert body["revealed"]["id_number"] == ID_A1
    assert set(body["revealed"]["phones"].values()) == set(PHONES)
    log = AccessLog.objects.get(action=Action.REVEAL, child_id=a1.pk)
    assert log.fields == ["identifying"] and log.purpose == "reveal"


def test_reveal_past_the_ceiling_is_refused_without_break_glass(
    client: Client, world: World
) -> None:
    a1 = world.children["a1"].pk
    for username in ("teacher_a", "volunteer"):
        refused = client.get(
            f"{URL}/{a1}",
            {"reveal": "identifying", "reason": "I would like to know it"},
            **api(client, world, username),
        )
        assert refused.status_code == 403 and ID_A1 not in refused.content.decode()
    assert not AccessLog.objects.filter(action=Action.REVEAL).exists()


def test_official_breaks_glass_only_with_a_reason(client: Client, world: World) -> None:
    a1 = world.children["a1"].pk
    headers = api(client, world, "official")
    short = client.get(f"{URL}/{a1}", {"reveal": "sensitive", "reason": "check"}, **headers)
    assert short.status_code == 403
    reason = "Police request 2026-118 about a missing child"
    query = {"reveal": "sensitive", "reason": reason, "purpose": "law_enforcement"}
    body = client.get(f"{URL}/{a1}", query, **headers).json()
    assert body["revealed"]["health"] == "well"
    log = AccessLog.objects.get(action=Action.REVEAL, child_id=a1)
    assert log.purpose == "break_glass" and log.reason == reason


# ---------------------------------------------------------------- PATCH


def test_patch_changes_the_file_bumps_the_version_and_records_history(
    client: Client, world: World
) -> None:
    a1 = world.children["a1"]
    response = patch(
        client, a1.pk, {"version": a1.version, "grade": "四年级"}, api(client, world, "director_a")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["grade"] == "四年级" and body["version"] == a1.version + 1
    assert body["id_number"] == f"3415**********{ID_A1[-4:]}"
    record = ChangeRecord.objects.filter(child_id=a1.pk, operation="update").latest("id")
    assert record.actor == world.director_a
    assert record.changes["grade"] == ["三年级", "四年级"]
    assert AccessLog.objects.filter(
        action=Action.VIEW_CHILD, child_id=a1.pk, purpose="api_edit"
    ).exists()


def test_patch_leaves_fields_not_sent_unchanged(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    headers = api(client, world, "director_a")
    assert patch(client, a1.pk, {"version": a1.version}, headers).status_code == 200
    after = Child.objects.get(pk=a1.pk)
    assert (after.name, after.grade, after.school_id) == (a1.name, a1.grade, a1.school_id)
    assert after.id_number_hash == a1.id_number_hash


def test_patch_of_a_name_updates_pinyin_search(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    headers = api(client, world, "director_a")
    assert patch(client, a1.pk, {"version": a1.version, "name": "张玮"}, headers).status_code == 200
    assert names(client.get(URL, {"q": "张玮"}, **headers).json()) == ["张玮"]
    assert names(client.get(URL, {"q": "zw"}, **headers).json()) == ["张玮"]


def test_patch_may_clear_nullable_fields(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    body = patch(
        client, a1.pk, {"version": a1.version, "school_id": None}, api(client, world, "director_a")
    ).json()
    assert body["school_id"] is None and body["school"] == ""
    assert Child.objects.get(pk=a1.pk).school_id is None


def test_patch_with_a_stale_version_is_409_and_writes_nothing(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    headers = api(client, world, "director_a")
    assert (
        patch(client, a1.pk, {"version": a1.version, "grade": "四年级"}, headers).status_code == 200
    )
    stale = patch(client, a1.pk, {"version": a1.version, "grade": "五年级"}, headers)
    assert stale.status_code == 409
    assert set(stale.json()) == {"detail"} and stale.json()["detail"]
    after = Child.objects.get(pk=a1.pk)
    assert after.grade == "四年级" and after.version == a1.version + 1
    future = patch(client, a1.pk, {"version": a1.version + 5, "grade": "五年级"}, headers)
    assert future.status_code == 409


def test_patch_without_version_writes_the_fields_sent_and_if_match_is_checked(
    client: Client, world: World
) -> None:
    a1 = world.children["a1"]
    headers = api(client, world, "director_a")
    plain = patch(client, a1.pk, {"grade": "四年级"}, headers)
    assert plain.status_code == 200 and plain.json()["grade"] == "四年级"
    version = plain.json()["version"]
    stale = patch(
        client, a1.pk, {"grade": "五年级"}, {**headers, "HTTP_IF_MATCH": f'"{a1.version}"'}
    )
    assert stale.status_code == 409
    fresh = patch(client, a1.pk, {"grade": "五年级"}, {**headers, "HTTP_IF_MATCH": f'"{version}"'})
    assert fresh.status_code == 200 and fresh.json()["version"] == version + 1
    bad = patch(client, a1.pk, {"grade": "六年级"}, {**headers, "HTTP_IF_MATCH": "*x"})
    assert bad.status_code == 400 and "If-Match" in bad.json()["errors"]
    assert Child.objects.get(pk=a1.pk).grade == "五年级"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"id_number": BAD_ID}, {"id_number"}),
        ({"sex": "X"}, {"sex", "id_number"}),
        ({"sex": "F"}, {"id_number"}),  # the ID number's sex digit says male
        ({"birth_date": "2099-01-01"}, {"birth_date", "id_number"}),
        ({"residence_code": "999999999999"}, {"residence_code"}),
        ({"residence_code": TOWNSHIP_1}, {"residence_code"}),
        ({"living_arrangement": "on_the_moon"}, {"living_arrangement"}),
        ({"school_id": 10**9}, {"school_id"}),
        ({"name": "  "}, {"name"}),
    ],
)
def test_patch_service_errors_name_the_fields(
    client: Client, world: World, changes: dict[str, Any], fields: set[str]
) -> None:
    a1 = world.children["a1"]
    response = patch(
        client, a1.pk, {"version": a1.version, **changes}, api(client, world, "director_a")
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body["errors"]) == fields
    assert all(body["errors"][f] for f in fields)
    assert Child.objects.get(pk=a1.pk).version == a1.version


def test_patch_moving_a_child_outside_ones_area_is_403(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    moved = patch(
        client,
        a1.pk,
        {"version": a1.version, "residence_code": VILLAGE_B},
        api(client, world, "director_a"),
    )
    assert moved.status_code == 403
    assert Child.objects.get(pk=a1.pk).residence_id == VILLAGE_A
    # The township supervisor covers both villages.
    moved = patch(
        client,
        a1.pk,
        {"version": a1.version, "residence_code": VILLAGE_B},
        api(client, world, "supervisor"),
    )
    assert moved.status_code == 200 and moved.json()["village_code"] == VILLAGE_B


@pytest.mark.parametrize("username", ["teacher_a", "official", "volunteer", "socialworker"])
def test_patch_by_roles_that_only_read_is_403(client: Client, world: World, username: str) -> None:
    a1 = world.children["a1"]
    response = patch(
        client, a1.pk, {"version": a1.version, "grade": "x"}, api(client, world, username)
    )
    assert response.status_code == 403
    assert Child.objects.get(pk=a1.pk).grade == a1.grade


# ---------------------------------------------------------------- POST


def new_child(village: str = VILLAGE_A, **child: Any) -> dict[str, Any]:
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
            **child,
        },
        "household": {"village_code": village, "address": "全山村三组12号"},
        "members": [
            {"name": "赵父", "relation": "father", "is_guardian": True, **away},
            {
                "name": "钱母",
                "relation": "mother",
                "is_guardian": True,
                **away,
                "phone": "13700137000",
            },
            {"name": "赵奶奶", "relation": "paternal_grandmother"},
        ],
    }


def test_post_registers_child_household_and_guardians(client: Client, world: World) -> None:
    response = post(client, new_child(), api(client, world, "director_a"))
    assert response.status_code == 201
    body = response.json()
    child = Child.objects.get(pk=body["id"])
    assert child.name == "赵小雨" and child.created_by == world.director_a
    assert child.name_pinyin == "zhaoxiaoyu" and child.name_initials == "zxy"
    assert "left_behind_mca" in body["categories"] and child.cat_left_behind_mca
    members = child.household.members.order_by("id")
    assert [(m.name, m.is_guardian) for m in members] == [
        ("赵父", True),
        ("钱母", True),
        ("赵奶奶", False),
    ]
    assert body["household"]["members"][1]["phone"] == "137****7000"
    assert "13700137000" not in response.content.decode()
    operations = ChangeRecord.objects.filter(child_id=child.pk, operation="create")
    assert operations.count() == 5  # household, three members, child
    assert names(client.get(URL, {"q": "zxy"}, **api(client, world, "director_a")).json()) == [
        "赵小雨"
    ]


def test_post_with_delegated_care_and_consent(client: Client, world: World) -> None:
    payload = new_child()
    payload["delegated_care"] = {"carer_index": 2, "capable_adult": True}
    payload["consent"] = {"given_by_index": 0, "given_on": "2026-01-05", "version": "v1"}
    response = post(client, payload, api(client, world, "director_a"))
    assert response.status_code == 201, response.content
    child = Child.objects.get(pk=response.json()["id"])
    assert child.household.delegated_care.carer.name == "赵奶奶"
    consent = child.consents.get()
    assert consent.given_by.name == "赵父" and consent.scopes == ["registry"]


def test_post_into_the_household_of_a_child_one_can_edit(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    payload = {
        "child": new_child()["child"],
        "household_id": a1.household_id,
    }
    response = post(client, payload, api(client, world, "director_a"))
    assert response.status_code == 201, response.content
    sibling = Child.objects.get(pk=response.json()["id"])
    assert sibling.household_id == a1.household_id
    # The parents already in the household make the sibling left behind too.
    assert sibling.cat_left_behind_mca


def test_post_into_a_household_out_of_reach_is_a_field_error(client: Client, world: World) -> None:
    for household_id in (world.children["b1"].household_id, 10**9):
        payload = {"child": new_child()["child"], "household_id": household_id}
        response = post(client, payload, api(client, world, "director_a"))
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"household_id"}
    assert not Child.objects.filter(name="赵小雨").exists()


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        (lambda p: p["child"].pop("sex"), {"sex"}),
        (lambda p: p["child"].update(sex="X"), {"sex"}),
        (lambda p: p["child"].update(birth_date="2099-01-01"), {"birth_date"}),
        (lambda p: p["child"].update(birth_date="2000-01-01"), {"birth_date"}),
        (lambda p: p["child"].update(id_number="341524201706010010"), {"id_number"}),
        (lambda p: p["child"].update(colour="red"), {"colour"}),
        (lambda p: p["members"][0].update(away_since=None), {"members.0.away_since"}),
        (lambda p: p["members"][1].pop("relation"), {"members.1.relation"}),
        (lambda p: p["members"][2].update(relation="uncle"), {"members.2.relation"}),
        (lambda p: p["members"][1].update(phone="12"), {"members.1.phone"}),
        (lambda p: p["household"].update(village_code="999999999999"), {"household.village_code"}),
        (lambda p: p["household"].update(aid="lots"), {"household.aid"}),
        (lambda p: p.pop("household"), {"household"}),
        (lambda p: p.update(household_id=1), {"household"}),
        (lambda p: p.update(delegated_care={"carer_index": 3}), {"delegated_care.carer_index"}),
        (
            lambda p: p.update(
                consent={
                    "given_by_index": 0,
                    "given_on": "2026-01-01",
                    "version": "v1",
                    "scopes": ["all"],
                }
            ),
            {"consent.scopes"},
        ),
        (lambda p: p.update(members=[{"name": "x", "relation": "father"}] * 51), {"members"}),
        (  # the grandmother is not a guardian
            lambda p: p.update(
                consent={"given_by_index": 2, "given_on": "2026-01-01", "version": "v1"}
            ),
            {"consent.given_by_index"},
        ),
    ],
)
def test_post_validation_errors_name_the_field_path(
    client: Client, world: World, change: Any, fields: set[str]
) -> None:
    payload = new_child()
    change(payload)
    response = post(client, payload, api(client, world, "director_a"))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] and set(body["errors"]) == fields
    assert not Child.objects.filter(name="赵小雨").exists()


def test_post_reports_all_field_errors_at_once(client: Client, world: World) -> None:
    payload = new_child(birth_date="2099-01-01")
    payload["members"][0]["away_since"] = None
    payload["household"]["aid"] = "lots"
    body = post(client, payload, api(client, world, "director_a")).json()
    assert set(body["errors"]) == {"birth_date", "members.0.away_since", "household.aid"}


def test_post_outside_ones_area_or_role_is_403(client: Client, world: World) -> None:
    outside = post(client, new_child(VILLAGE_B), api(client, world, "director_a"))
    assert outside.status_code == 403
    for username in ("teacher_a", "official", "volunteer", "socialworker", "admin"):
        assert post(client, new_child(), api(client, world, username)).status_code == 403
    assert not Child.objects.filter(name="赵小雨").exists()


def test_post_of_a_possible_duplicate_is_409_until_confirmed(client: Client, world: World) -> None:
    headers = api(client, world, "director_a")
    a1 = world.children["a1"]
    same_id = new_child(name="张小伟", sex="M", birth_date=BORN.isoformat(), id_number=ID_A1)
    response = post(client, same_id, headers)
    assert response.status_code == 409
    body = response.json()
    assert [row["id"] for row in body["duplicates"]] == [a1.pk]
    assert set(body["duplicates"][0]) == ROW_KEYS
    assert "hidden_duplicates" not in body and body["detail"]
    assert ID_A1 not in response.content.decode()
    assert AccessLog.objects.filter(purpose="duplicate_check", child_id=a1.pk).exists()
    assert not Child.objects.filter(name="张小伟").exists()

    same_person = new_child(name="张伟", sex="M", birth_date=BORN.isoformat())
    assert post(client, same_person, headers).status_code == 409

    response = post(client, {**same_id, "confirm_not_duplicate": True}, headers)
    assert response.status_code == 201
    assert Child.objects.filter(name="张小伟").exists()


def test_a_child_outside_the_area_is_neither_confirmed_nor_denied(
    client: Client, world: World
) -> None:
    """An ID number registered in another village is answered as one registered nowhere:
    the child is registered (no 409, no count), and the lookup is logged without the other
    child."""
    headers = api(client, world, "director_b")
    answers = []
    for name, number in (("李某", ID_A1), ("李另", ID_OTHER)):
        payload = new_child(
            VILLAGE_B, name=name, sex="M", birth_date=BORN.isoformat(), id_number=number
        )
        response = post(client, payload, headers)
        answers.append(response.status_code)
        assert "张伟" not in response.content.decode()
    assert answers == [201, 201]
    checks = AccessLog.objects.filter(purpose="duplicate_check", user=world.director_b)
    assert checks.count() == 2 and not checks.filter(child_id__isnull=False).exists()


def test_a_different_child_is_not_a_duplicate(client: Client, world: World) -> None:
    twin = new_child(name="张伟", sex="M", birth_date="2015-03-02")
    assert post(client, twin, api(client, world, "director_a")).status_code == 201
