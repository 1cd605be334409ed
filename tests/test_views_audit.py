"""The auditor's page: who may read the access log, and searching it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog, Action
from shouhu.lib import clock
from tests.world import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "persona", ["director_a", "supervisor", "teacher_a", "socialworker", "volunteer"]
)
def test_only_auditors_read_the_log(client: Client, world: World, persona: str) -> None:
    client.force_login(getattr(world, persona))
    assert client.get(reverse("audit:log")).status_code == 403


def test_official_and_admin_read_and_filter_the_log(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.teacher_a)
    client.get(reverse("children:detail", args=[a1.pk]))
    client.get(reverse("children:detail", args=[world.children["b1"].pk]))  # denied
    for persona in ("official", "admin"):
        client.force_login(getattr(world, persona))
        page = client.get(reverse("audit:log"), {"user": "teacher_a", "action": Action.VIEW_CHILD})
        assert page.status_code == 200
        body = page.content.decode()
        assert "teacher_a" in body and str(a1.pk) in body
        denied = client.get(
            reverse("audit:log"), {"action": Action.DENIED, "child": str(world.children["b1"].pk)}
        )
        assert "teacher_a" in denied.content.decode()
        none = client.get(reverse("audit:log"), {"user": "nobody-like-this"})
        assert "teacher_a" not in none.content.decode()


def test_failed_logins_appear_in_the_log(client: Client, world: World) -> None:
    client.post(reverse("accounts:login"), {"username": "director_a", "password": "nope-nope"})
    client.force_login(world.official)
    page = client.get(reverse("audit:log"), {"action": Action.LOGIN_FAILED})
    assert "director_a" in page.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-13-45"},
        {"until": "0000-00-00"},
        {"child": "x" * 40},
        {"child": "9" * 40},
        {"child": "-1"},
        {"page": "-3"},
        {"page": "zz"},
        {"action": "bogus"},
        {"user": "x" * 400},
    ],
)
def test_bad_filters_never_fail(client: Client, world: World, params: dict[str, str]) -> None:
    client.force_login(world.official)
    assert client.get(reverse("audit:log"), params).status_code == 200


def test_break_glass_filter(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.official)
    client.post(
        reverse("children:reveal", args=[a1.pk]),
        {
            "field_class": "identifying",
            "reason": "Emergency placement tonight",
            "purpose": "emergency",
        },
    )
    page = client.get(reverse("audit:log"), {"break_glass": "1"})
    assert "Emergency placement tonight" in page.content.decode()
    assert AccessLog.objects.filter(purpose="break_glass").count() == 1


def test_an_official_reads_only_the_log_of_their_jurisdiction(client: Client, world: World) -> None:
    from shouhu.accounts.models import Membership, Organisation, OrgKind, Role, User
    from tests.world import DESTINATION, PASSWORD

    bureau = Organisation.objects.create(
        name="宝安区民政局", kind=OrgKind.CIVIL_AFFAIRS, jurisdiction_id=DESTINATION
    )
    official_dest = User.objects.create_user(username="official_dest", password=PASSWORD)
    Membership.objects.create(user=official_dest, organisation=bureau, role=Role.OFFICIAL)
    a1, dest1 = world.children["a1"], world.children["dest1"]
    client.force_login(world.teacher_a)
    client.get(reverse("children:detail", args=[a1.pk]))
    client.force_login(world.director_dest)
    client.get(reverse("children:detail", args=[dest1.pk]))
    client.force_login(official_dest)
    body = client.get(reverse("audit:log")).content.decode()
    assert "director_dest" in body and "teacher_a" not in body
    client.force_login(world.official)  # 金寨县: sees the teacher, not 宝安's director
    body = client.get(reverse("audit:log")).content.decode()
    assert "teacher_a" in body and "director_dest" not in body
    client.force_login(world.admin)
    body = client.get(reverse("audit:log")).content.decode()
    assert "teacher_a" in body and "director_dest" in body


def test_anonymous_is_sent_to_log_in(client: Client) -> None:
    response = client.get(reverse("audit:log"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("persona", ["techenvoy", "counselor", "teacher_b", "director_dest"])
def test_other_roles_are_refused_and_nothing_is_shown(
    client: Client, world: World, persona: str
) -> None:
    client.force_login(world.director_a)
    client.get(reverse("children:detail", args=[world.children["a1"].pk]))
    client.force_login(getattr(world, persona))
    response = client.get(reverse("audit:log"))
    assert response.status_code == 403 and "director_a" not in response.content.decode()
    assert not AccessLog.objects.filter(action=Action.READ_LOG).exists()


def test_reading_the_log_is_logged_with_the_search(client: Client, world: World) -> None:
    client.force_login(world.official)
    a1 = world.children["a1"]
    client.get(
        reverse("audit:log"),
        {
            "user": "teacher",
            "child": str(a1.pk),
            "action": Action.VIEW_CHILD,
            "since": "2026-01-01",
        },
    )
    entry = AccessLog.objects.filter(action=Action.READ_LOG, user=world.official).get()
    assert entry.child_id == a1.pk and entry.purpose == "audit"
    assert entry.detail["filters"] == {
        "user": "teacher",
        "child": str(a1.pk),
        "action": Action.VIEW_CHILD,
        "since": "2026-01-01",
    }
    # The auditor's own reading shows up on the next search.
    page = client.get(reverse("audit:log"), {"action": Action.READ_LOG})
    assert "official" in page.content.decode()


def test_entries_show_who_when_what_child_purpose_and_ip(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.director_a)
    client.get(reverse("children:detail", args=[a1.pk]), REMOTE_ADDR="10.1.2.3")
    client.get(reverse("children:list"), {"q": "zw"})
    client.force_login(world.official)
    body = client.get(reverse("audit:log"), {"user": "director_a"}).content.decode()
    # The person, their role and purpose in words, not codes (issue 11 §1).
    assert str(world.director_a) in body and "儿童主任" in body and "全山村村民委员会" in body
    assert "child_director" not in body
    assert "10.1.2.3" in body and "查看档案" in body
    assert f'href="{reverse("children:detail", args=[a1.pk])}"' in body
    assert "搜索: zw" in body  # the search the director made


def test_logins_and_failed_logins_appear(client: Client, world: World) -> None:
    from tests.world import PASSWORD

    client.post(reverse("accounts:login"), {"username": "director_a", "password": PASSWORD})
    Client().post(reverse("accounts:login"), {"username": "director_b", "password": "wrong-one"})
    client.force_login(world.official)
    logins = client.get(reverse("audit:log"), {"action": Action.LOGIN}).content.decode()
    assert "director_a" in logins and "director_b" not in logins
    failed = client.get(reverse("audit:log"), {"action": Action.LOGIN_FAILED}).content.decode()
    assert "director_b" in failed and "director_a" not in failed


def test_date_range(client: Client, world: World) -> None:

    client.force_login(world.teacher_a)
    client.get(reverse("children:detail", args=[world.children["a1"].pk]))
    today = clock.today()
    client.force_login(world.admin)

    def found(**params: str) -> bool:
        body = client.get(reverse("audit:log"), {"user": "teacher_a", **params})
        return "teacher_a</td>" in body.content.decode().replace("<div", "</td><div")

    assert found(since=today.isoformat(), until=today.isoformat())
    assert found(since=(today - dt.timedelta(days=3)).isoformat())
    assert not found(since=(today + dt.timedelta(days=1)).isoformat())
    assert not found(until=(today - dt.timedelta(days=1)).isoformat())
    assert found(since="not a date", until="2026-02-30")  # ignored, never an error


def test_pages_keep_the_filters(client: Client, world: World) -> None:
    from shouhu.audit.services import log_access

    for _ in range(105):
        log_access(user=world.teacher_a, action=Action.VIEW_CHILD, child_id=world.children["a1"].pk)
    client.force_login(world.admin)
    first = client.get(reverse("audit:log"), {"user": "teacher_a", "action": Action.VIEW_CHILD})
    body = first.content.decode()
    assert first.status_code == 200 and "105" in body
    assert "user=teacher_a&amp;action=view_child&amp;page=2" in body
    second = client.get(
        reverse("audit:log"), {"user": "teacher_a", "action": Action.VIEW_CHILD, "page": "2"}
    )
    assert second.status_code == 200 and body.count("<tr>") > second.content.decode().count("<tr>")


@pytest.mark.parametrize("persona", ["official", "admin"])
def test_query_count_does_not_grow_with_entries(
    client: Client, world: World, persona: str, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shouhu.audit.services import log_access

    client.force_login(getattr(world, persona))
    client.get(reverse("audit:log"))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("audit:log")).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(60):
        log_access(user=world.teacher_a, action=Action.VIEW_CHILD, child_id=world.children["a1"].pk)
    assert queries() == few
    with django_assert_max_num_queries(18):  # 17 + the top bar's unread-message count
        assert client.get(reverse("audit:log")).status_code == 200


def test_every_purpose_the_code_logs_has_words() -> None:
    """A purpose written anywhere in the code (`purpose="..."`) is shown in words on the
    access-log page, never as its code."""
    import re
    from pathlib import Path

    from shouhu.audit.present import PURPOSES

    root = Path(__file__).resolve().parent.parent / "shouhu"
    used = {
        code.removeprefix("api_")
        for path in root.rglob("*.py")
        for code in re.findall(r'purpose="([a-z_]+)"', path.read_text(encoding="utf-8"))
    }
    assert used and not used - PURPOSES.keys(), sorted(used - PURPOSES.keys())
