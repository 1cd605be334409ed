"""Walk-ins at the roll call (issue 12): found by name among the children the organiser
reaches, enrolled even when the programme is full, a waiting-list child enrolled again,
refused before the session starts, on the page and over the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog
from shouhu.lib.clock import SHANGHAI
from shouhu.programmes import attendance, running
from shouhu.programmes.models import Design, Enrolment, Kind, ProgrammeSession
from tests.world import TODAY, VILLAGE_A, World, child_data, register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    from django.utils import translation

    with translation.override("en"):
        yield


def _session(world: World, days: int, capacity: int | None = None) -> ProgrammeSession:
    design = Design.objects.filter(organisation=None, kind=Kind.GROUP_ACTIVITY).first()
    assert design is not None
    programme = running.programme_create(
        actor=world.director_a,
        organisation=world.orgs["village_a"],
        design=design,
        title="小小志愿者",
        starts_on=TODAY - dt.timedelta(days=10),
        ends_on=TODAY + dt.timedelta(days=10),
        capacity=capacity,
    )
    when = dt.datetime.combine(TODAY + dt.timedelta(days=days), dt.time(9), tzinfo=SHANGHAI)
    return running.session_add(
        actor=world.director_a, programme=programme, starts_at=when, minutes=60
    )


def test_a_walk_in_takes_a_place_of_a_full_programme_and_is_marked(world: World) -> None:
    session = _session(world, -1, capacity=1)
    first, second, third = (
        register(world.director_a, child_data(name, VILLAGE_A)) for name in ("一", "二", "三")
    )
    running.enrol(actor=world.director_a, programme=session.programme, child=first)
    waiting = running.enrol(actor=world.director_a, programme=session.programme, child=second)
    assert waiting.status == "waiting"
    came = running.walk_in(actor=world.director_a, session=session, child=third)
    assert (came.status, came.walk_in) == ("enrolled", True)
    # The one on the waiting list came too: enrolled again, not a second row.
    again = running.walk_in(actor=world.director_a, session=session, child=second)
    assert again.pk == waiting.pk and again.status == "enrolled"
    with pytest.raises(ValidationError, match="already enrolled"):
        running.walk_in(actor=world.director_a, session=session, child=third)
    done = attendance.roll_call(
        actor=world.director_a,
        session=session,
        rows=[
            {"participant": e.pk, "status": "present"}
            for e in Enrolment.objects.filter(programme=session.programme)
        ],
    )
    assert done.saved == 3


def test_no_walk_in_before_the_session_starts_or_outside_reach(world: World) -> None:
    later = _session(world, 2)
    kid = register(world.director_a, child_data("四", VILLAGE_A))
    with pytest.raises(ValidationError, match="not started"):
        running.walk_in(actor=world.director_a, session=later, child=kid)
    now = _session(world, -1)
    with pytest.raises(ValidationError, match="outside your reach"):
        running.walk_in(actor=world.director_a, session=now, child=world.children["c1"])
    assert not Enrolment.objects.filter(child__in=[kid, world.children["c1"]]).exists()


def test_the_roll_call_page_finds_and_adds_a_walk_in(world: World) -> None:
    session = _session(world, -1)
    kid = register(world.director_a, child_data("王小明", VILLAGE_A))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.director_a)
    url = reverse("programmes:roll_call", args=[session.pk])
    page = client.get(url, {"q": "小明"}).content.decode()
    found = page.split('data-testid="walk-in-candidates"')[1].split("</ul>")[0]
    assert "王小明" in found and "张伟" not in found
    logged = AccessLog.objects.filter(purpose="programme_walk_in", user=world.director_a)
    assert list(logged.values_list("child_id", flat=True)) == [kid.pk]
    got = client.post(
        reverse("programmes:walk_in", args=[session.pk]), {"participant": f"c{kid.pk}"}
    )
    assert got.status_code == 302
    page = client.get(url).content.decode()
    assert "王小明" in page.split('data-testid="roll-call-form"')[1]
    # Someone out of reach, or nonsense, is refused with a message and nothing written.
    client.post(
        reverse("programmes:walk_in", args=[session.pk]),
        {"participant": f"c{world.children['c1'].pk}"},
    )
    bad = client.post(
        reverse("programmes:walk_in", args=[session.pk]), {"participant": "x1"}, follow=True
    )
    assert "Choose someone from the list." in bad.content.decode()
    assert Enrolment.objects.filter(programme=session.programme).count() == 1
    # A stranger cannot add anyone.
    outsider = Client()
    outsider.force_login(world.teacher_b)
    assert (
        outsider.post(
            reverse("programmes:walk_in", args=[session.pk]), {"participant": f"c{kid.pk}"}
        ).status_code
        == 404
    )


def test_a_walk_in_over_the_api(world: World) -> None:
    from tests.test_api_cases import Api

    session = _session(world, -1)
    kid = register(world.director_a, child_data("赵小红", VILLAGE_A, sex="F"))
    api = Api("director_a")
    got = api.post(f"/api/v1/sessions/{session.pk}/walk-ins", {"child": kid.pk})
    assert got.status_code == 201, got.content
    assert got.json()["walk_in"] is True and got.json()["status"] == "enrolled"
    twice = api.post(f"/api/v1/sessions/{session.pk}/walk-ins", {"child": kid.pk})
    assert twice.status_code == 400 and "participant" in twice.json()["errors"]
    away = api.post(f"/api/v1/sessions/{session.pk}/walk-ins", {"child": world.children["c1"].pk})
    assert away.status_code == 400 and "child" in away.json()["errors"]
    later = _session(world, 3)
    early = api.post(f"/api/v1/sessions/{later.pk}/walk-ins", {"child": kid.pk})
    assert early.status_code == 400


def test_a_caregiver_found_for_a_course_logs_their_households_children(world: World) -> None:
    design = Design.objects.filter(organisation=None, kind=Kind.CAREGIVER_COURSE).first()
    assert design is not None
    course = running.programme_create(
        actor=world.director_a,
        organisation=world.orgs["village_a"],
        design=design,
        title="如何说，孩子才会听",
        starts_on=TODAY - dt.timedelta(days=10),
        ends_on=TODAY + dt.timedelta(days=10),
    )
    lesson = running.session_add(
        actor=world.director_a,
        programme=course,
        starts_at=dt.datetime.combine(TODAY - dt.timedelta(days=1), dt.time(19), tzinfo=SHANGHAI),
        minutes=90,
    )
    kid = register(world.director_a, child_data("孙小草", VILLAGE_A))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.director_a)
    page = client.get(reverse("programmes:roll_call", args=[lesson.pk]), {"q": "奶奶"})
    found = page.content.decode().split('data-testid="walk-in-candidates"')[1].split("</ul>")[0]
    assert "奶奶" in found
    logged = set(
        AccessLog.objects.filter(purpose="programme_walk_in").values_list("child_id", flat=True)
    )
    assert kid.pk in logged
