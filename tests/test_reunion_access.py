"""Opening a reunion session or a child's parent goes through the access module: the site's
own people and those who may change a parent's windows get them, with the read written to
the access log with each child concerned; anyone else gets the same 404 as for a missing
one, on the pages and over the API alike."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.urls import reverse

from shouhu import access
from shouhu.audit.models import AccessLog, Action
from shouhu.children.models import FamilyMember
from shouhu.reunion.models import Session, Site
from tests.test_reunion import _session, make_site
from tests.test_reunion_dependable import _api, _client
from tests.world import World

pytestmark = pytest.mark.django_db

OUTSIDERS = ("teacher_a", "director_a", "supervisor", "techenvoy", "volunteer")


@pytest.fixture
def site(world: World) -> Site:
    return make_site(world)


@pytest.fixture
def session(world: World, site: Site) -> Session:
    return _session(world, site)


def _member(world: World, relation: str) -> FamilyMember:
    return FamilyMember.objects.get(
        household_id=world.children["b1"].household_id, relation=relation
    )


def _windows_read(world: World, persona: str, member: FamilyMember) -> tuple[int, int]:
    """The parent's windows read by `persona` on the page and over the API: the statuses."""
    page = _client(world.users[persona]).get(reverse("reunion:parent_windows", args=[member.pk]))
    api, auth = _api(persona)
    got = api.get(f"/api/v1/reunion/parents/{member.pk}/availability", **auth)
    return page.status_code, got.status_code


def test_a_session_opened_by_its_facilitator_logs_each_child(
    world: World, session: Session
) -> None:
    teacher = world.users["teacher_b"]
    assert access.get_session_for_user(teacher, session.pk, purpose="test") == session
    (row,) = AccessLog.objects.filter(user=teacher, purpose="test")
    assert row.action == Action.VIEW_CHILD and row.child_id == world.children["b1"].pk
    assert (row.object_type, row.object_id) == ("reunion_session", str(session.pk))


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_a_session_is_missing_for_anyone_outside_the_site(
    world: World, session: Session, persona: str
) -> None:
    """The area's supervisor and the technology envoy see the site, not its children."""
    user = world.users[persona]
    with pytest.raises(Http404):
        access.get_session_for_user(user, session.pk, purpose="test")
    for pk in (session.pk + 1000, "abc", -1, 2**63):
        with pytest.raises(Http404):
            access.get_session_for_user(world.users["teacher_b"], pk, purpose="test")
    assert not AccessLog.objects.filter(purpose="test").exists()


def test_the_attendance_page_and_endpoint_open_the_session_through_access(
    world: World, session: Session
) -> None:
    b1 = world.children["b1"]
    page = _client(world.users["teacher_b"]).get(reverse("reunion:attendance", args=[session.pk]))
    assert page.status_code == 200
    logged = AccessLog.objects.filter(purpose="reunion_attendance", object_type="reunion_session")
    assert list(logged.values_list("child_id", flat=True)) == [b1.pk]
    outsider = _client(world.users["director_a"])
    assert outsider.get(reverse("reunion:attendance", args=[session.pk])).status_code == 404
    cancel = outsider.post(reverse("reunion:cancel", args=[session.pk]), {"reason": "生病"})
    assert cancel.status_code == 404
    api, auth = _api("director_a")
    body = {"rows": [{"child": b1.pk, "present": True}]}
    marked = api.post(
        f"/api/v1/reunion/sessions/{session.pk}/attendance",
        body,
        content_type="application/json",
        **auth,
    )
    assert marked.status_code == 404
    assert not AccessLog.objects.filter(user=world.users["director_a"], child_id=b1.pk).exists()


def test_a_parent_opened_for_their_windows_logs_each_child_of_the_family(
    world: World, site: Site
) -> None:
    father = _member(world, "father")
    for persona in ("director_b", "teacher_b"):  # the village's director; the facilitator
        user = world.users[persona]
        assert access.get_parent_for_user(user, father.pk, purpose="test") == father
        (row,) = AccessLog.objects.filter(user=user, purpose="test")
        assert row.action == Action.VIEW_CHILD and row.child_id == world.children["b1"].pk
        assert (row.object_type, row.object_id) == ("family_member", str(father.pk))


def test_a_parent_is_missing_for_others_and_a_grandparent_is_no_parent(
    world: World, site: Site
) -> None:
    father, grandmother = _member(world, "father"), _member(world, "paternal_grandmother")
    for persona in ("director_a", "teacher_a", "techenvoy", "volunteer"):
        with pytest.raises(Http404):
            access.get_parent_for_user(world.users[persona], father.pk, purpose="test")
    with pytest.raises(Http404):
        access.get_parent_for_user(world.users["director_b"], grandmother.pk, purpose="test")
    assert not AccessLog.objects.filter(purpose="test").exists()
    assert _windows_read(world, "director_a", father) == (404, 404)


def test_the_parent_windows_page_and_endpoint_log_the_read(world: World, site: Site) -> None:
    father = _member(world, "father")
    assert _windows_read(world, "teacher_b", father) == (200, 200)
    for purpose in ("parent_windows", "api_parent_windows"):
        viewed = AccessLog.objects.filter(purpose=purpose, action=Action.VIEW_CHILD)
        assert list(viewed.values_list("child_id", flat=True)) == [world.children["b1"].pk]
