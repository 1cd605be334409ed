"""The auditor's page: who may read the access log, and searching it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog, Action
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
    "params", [{"since": "2026-13-45"}, {"child": "x" * 40}, {"page": "-3"}, {"action": "bogus"}]
)
def test_bad_filters_never_fail(client: Client, world: World, params: dict[str, str]) -> None:
    client.force_login(world.official)
    assert client.get(reverse("audit:log"), params).status_code == 200


def test_break_glass_filter(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.official)
    client.post(
        reverse("children:reveal", args=[a1.pk]),
        {"field_class": "identifying", "reason": "Emergency placement tonight"},
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
