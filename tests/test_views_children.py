"""The list, search and a child's file in the web UI: scope, masking, audit, query counts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog, Action
from tests.world import ID_A1, World, child_data, register

pytestmark = pytest.mark.django_db


def _list(client: Client, **params: str):  # type: ignore[no-untyped-def]
    return client.get(reverse("children:list"), params)


def _names(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_users_are_sent_to_log_in(client: Client, world: World) -> None:
    for url in (
        reverse("children:list"),
        reverse("children:detail", args=[world.children["a1"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_list_shows_only_children_in_scope(client: Client, world: World) -> None:
    client.force_login(world.teacher_a)
    page = _names(_list(client))
    assert "张伟" in page and "李娜" not in page and "王芳" not in page
    client.force_login(world.director_b)
    page = _names(_list(client))
    assert "李娜" in page and "张伟" not in page
    client.force_login(world.supervisor)  # township 1 holds villages A and B
    page = _names(_list(client))
    assert "张伟" in page and "李娜" in page and "王芳" not in page


@pytest.mark.parametrize("query", ["zhangwei", "zw", "ZW", "张伟", "张"])
def test_search_by_name_pinyin_and_initials(client: Client, world: World, query: str) -> None:
    client.force_login(world.supervisor)
    page = _names(_list(client, q=query))
    assert "张伟" in page and "李娜" not in page


def test_search_by_id_tail_only_where_identifying_fields_are_visible(
    client: Client, world: World
) -> None:
    client.force_login(world.director_a)
    assert "张伟" in _names(_list(client, q=ID_A1[-4:]))
    assert "张伟" in _names(_list(client, q=ID_A1))
    client.force_login(world.teacher_a)  # sees the child, but not the ID number
    assert "张伟" not in _names(_list(client, q=ID_A1[-4:]))


def test_search_is_logged_without_id_digits(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    _list(client, q=ID_A1[-6:])
    entry = AccessLog.objects.filter(action=Action.LIST_CHILDREN, user=world.director_a).latest(
        "id"
    )
    assert ID_A1[-6:] not in str(entry.detail)
    assert entry.detail["filters"]["q"] == "[digits]"


def test_filters_by_place_school_category_and_age(client: Client, world: World) -> None:
    client.force_login(world.supervisor)
    assert "李娜" not in _names(_list(client, place="341524101204"))
    assert "张伟" in _names(_list(client, place="341524101204"))
    assert "张伟" not in _names(_list(client, school=str(world.orgs["school_b"].pk)))
    assert "张伟" in _names(_list(client, category="left_behind_mca"))
    assert "张伟" not in _names(_list(client, age_min="17"))


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "99999"},
        {"age_min": "x"},
        {"school": "-1"},
        {"school": "99999999999999999999"},
        {"place": "'; drop table"},
        {"category": "nonsense"},
        {"q": "x" * 500},
    ],
)
def test_bad_query_parameters_never_fail(
    client: Client, world: World, params: dict[str, str]
) -> None:
    client.force_login(world.supervisor)
    assert _list(client, **params).status_code == 200


def test_htmx_request_returns_only_the_rows(client: Client, world: World) -> None:
    client.force_login(world.supervisor)
    response = client.get(
        reverse("children:list"),
        {"q": "zw"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    body = response.content.decode()
    assert "张伟" in body and "<html" not in body and "<form" not in body


def test_list_query_count_does_not_grow_with_rows(
    client: Client, world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        register(
            world.director_a,
            child_data(f"儿童{i}", "341524101204", school_id=world.orgs["school_a"].pk),
        )
    client.force_login(world.supervisor)
    with django_assert_max_num_queries(15):
        assert _list(client).status_code == 200


def test_child_page_outside_scope_is_404_like_a_missing_child(client: Client, world: World) -> None:
    b1 = world.children["b1"]
    client.force_login(world.teacher_a)
    assert client.get(reverse("children:detail", args=[b1.pk])).status_code == 404
    assert client.get(reverse("children:detail", args=[10**9])).status_code == 404
    assert AccessLog.objects.filter(
        action=Action.DENIED, user=world.teacher_a, child_id=b1.pk
    ).exists()
    client.force_login(world.director_a)
    assert client.get(reverse("children:detail", args=[b1.pk])).status_code == 404


def test_child_page_shows_the_file_masked_and_is_logged(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.teacher_a)
    page = _names(client.get(reverse("children:detail", args=[a1.pk])))
    assert "张伟" in page
    assert ID_A1 not in page and ID_A1[6:14] not in page
    assert AccessLog.objects.filter(
        action=Action.VIEW_CHILD, user=world.teacher_a, child_id=a1.pk
    ).exists()
    client.force_login(world.director_a)
    page = _names(client.get(reverse("children:detail", args=[a1.pk])))
    assert ID_A1 not in page  # masked until revealed, even within the ceiling
    assert ID_A1[:4] in page


def test_reveal_within_ceiling_shows_the_number_and_is_logged(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.director_a)
    response = client.post(reverse("children:reveal", args=[a1.pk]), {"field_class": "identifying"})
    assert response.status_code == 200
    assert ID_A1 in response.content.decode()
    entry = AccessLog.objects.filter(action=Action.REVEAL, user=world.director_a).latest("id")
    assert entry.child_id == a1.pk and entry.fields == ["identifying"]


def test_reveal_above_ceiling_is_refused_or_needs_a_reason(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    url = reverse("children:reveal", args=[a1.pk])
    client.force_login(world.teacher_a)
    refused = client.post(
        url, {"field_class": "identifying", "reason": "I want to know this number"}
    )
    assert refused.status_code == 403 and ID_A1 not in refused.content.decode()
    client.force_login(world.official)
    assert client.post(url, {"field_class": "identifying", "reason": "short"}).status_code == 403
    shown = client.post(
        url, {"field_class": "identifying", "reason": "Emergency placement, case 2026-17"}
    )
    assert shown.status_code == 200 and ID_A1 in shown.content.decode()
    entry = AccessLog.objects.filter(action=Action.REVEAL, user=world.official).latest("id")
    assert entry.purpose == "break_glass" and "Emergency" in entry.reason


def test_reveal_of_a_child_out_of_scope_is_404(client: Client, world: World) -> None:
    client.force_login(world.teacher_a)
    url = reverse("children:reveal", args=[world.children["b1"].pk])
    assert client.post(url, {"field_class": "identifying"}).status_code == 404
    assert client.get(reverse("children:reveal", args=[world.children["a1"].pk])).status_code == 405


def test_sensitive_fields_hidden_from_teachers(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.teacher_a)
    page = _names(client.get(reverse("children:detail", args=[a1.pk])))
    assert "Not visible to your role" in page or "您的角色" in page


@pytest.mark.parametrize("q", ["\x00", "张\x00伟", "\x1b[0m"])
def test_control_characters_in_search_never_fail(client: Client, world: World, q: str) -> None:
    client.force_login(world.supervisor)
    assert _list(client, q=q).status_code == 200
    client.force_login(world.director_a)
    duplicates = client.get(reverse("children:duplicates"), {"name": q, "residence_code": q})
    assert duplicates.status_code == 200
    client.force_login(world.official)
    assert client.get(reverse("audit:log"), {"user": q}).status_code == 200
