"""The roll call of a session is saved in one request with a fixed number of queries (issue
12): the page's POST and the API's are measured with 5 participants and with 60, must not
differ, and are pinned so that a new query per roll call shows up here. The service alone
is compared in tests/test_programmes.py; these are whole requests (session, access checks,
the participant list logged as read, the roll call, the month's pre-aggregate, the follow-up
of children absent three times in a row)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shouhu.lib.clock import SHANGHAI
from shouhu.places.models import Place
from shouhu.programmes import attendance, running
from shouhu.programmes.models import (
    Attendance,
    Design,
    Enrolment,
    Kind,
    Programme,
    ProgrammeSession,
    Project,
    Served,
)
from shouhu.tasks.models import Task
from tests.test_api_cases import Api
from tests.world import NOW, TODAY, TOWNSHIP_1, VILLAGE_A, World, child_data, register

pytestmark = pytest.mark.django_db

# Pinned: the same for 5 participants and for 60, on SQLite and on PostgreSQL.
PAGE_QUERIES = 33  # the first roll call of a session
API_QUERIES = 26  # the first of another session (its absences already followed up)
RETAKE_QUERIES = 26  # the roll call of a session taken again (its headcount recounted)
# Each participant's mark in turn: every roll call has someone absent (three times in a row
# by the third session: a follow-up task for the village's child director).
MARKS = ("present", "late", "absent", "excused")


def _at(days: int) -> dt.datetime:
    return dt.datetime.combine(TODAY + dt.timedelta(days=days), dt.time(15), tzinfo=SHANGHAI)


def _rows(enrolments: list[Enrolment]) -> list[dict[str, Any]]:
    return [{"participant": e.pk, "status": MARKS[i % 4]} for i, e in enumerate(enrolments)]


def _programme(world: World, n: int) -> tuple[list[Enrolment], list[ProgrammeSession]]:
    """A programme of a project with `n` children and four sessions held in the last days,
    the roll call of the first two taken."""
    project = Project.objects.create(
        name=f"项目{n}",
        funder=world.orgs["bureau"],
        implementer=world.orgs["village_a"],
        starts_on=TODAY - dt.timedelta(days=60),
        ends_on=TODAY + dt.timedelta(days=60),
        target_groups=["left_behind_mca"],
        created_at=NOW,
        created_by=world.official,
    )
    project.places.set([Place.objects.get(pk=TOWNSHIP_1)])
    design = Design.objects.filter(organisation=None, kind=Kind.GROUP_ACTIVITY).first()
    assert design is not None
    programme: Programme = running.programme_create(
        actor=world.director_a,
        organisation=world.orgs["village_a"],
        design=design,
        title=f"{design.name}（{n}人）",
        starts_on=TODAY - dt.timedelta(days=30),
        ends_on=TODAY + dt.timedelta(days=30),
        project=project,
    )
    enrolments = [
        running.enrol(
            actor=world.director_a,
            programme=programme,
            child=register(world.director_a, child_data(f"孩{n}-{i}", VILLAGE_A)),
        )
        for i in range(n)
    ]
    sessions = [
        running.session_add(
            actor=world.director_a, programme=programme, starts_at=_at(day), minutes=90
        )
        for day in (-4, -3, -2, -1)
    ]
    for session in sessions[:2]:
        attendance.roll_call(actor=world.director_a, session=session, rows=_rows(enrolments))
    return enrolments, sessions


def _page_post(client: Client, session: ProgrammeSession, enrolments: list[Enrolment]) -> int:
    url = reverse("programmes:roll_call", args=[session.pk])
    data = {f"p-{r['participant']}": r["status"] for r in _rows(enrolments)}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data)
    assert response.status_code == 302, response.content
    return len(queries)


def _api_post(api: Api, session: ProgrammeSession, enrolments: list[Enrolment]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.post(
            f"/api/v1/sessions/{session.pk}/attendance", {"rows": _rows(enrolments)}
        )
    assert response.status_code == 200, response.content
    return len(queries)


def test_a_roll_call_request_of_60_reads_and_writes_as_often_as_one_of_5(world: World) -> None:
    few, few_sessions = _programme(world, 5)
    many, many_sessions = _programme(world, 60)
    page = Client()
    page.force_login(world.director_a)
    page.get(reverse("programmes:roll_call", args=[few_sessions[2].pk]))  # the session settles
    api = Api("director_a")

    # The third session: the first roll call (rows inserted, the session marked held, a task
    # for each child absent three times in a row).
    page_few = _page_post(page, few_sessions[2], few)
    page_many = _page_post(page, many_sessions[2], many)
    # The fourth by the API, then the third again: a re-take updates the rows.
    api_few = _api_post(api, few_sessions[3], few)
    api_many = _api_post(api, many_sessions[3], many)
    retake_few = _api_post(api, few_sessions[2], few)
    retake_many = _api_post(api, many_sessions[2], many)

    assert page_many == page_few, f"page: {page_few} queries for 5, {page_many} for 60"
    assert api_many == api_few, f"API: {api_few} queries for 5, {api_many} for 60"
    assert retake_many == retake_few, f"re-take: {retake_few} for 5, {retake_many} for 60"
    assert (page_many, api_many, retake_many) == (PAGE_QUERIES, API_QUERIES, RETAKE_QUERIES)

    # What the requests wrote: every row, the month's pre-aggregate, the follow-ups.
    assert Attendance.objects.filter(session__in=many_sessions).count() == 4 * 60
    absent = [e.child_id for i, e in enumerate(many) if MARKS[i % 4] == "absent"]
    assert set(
        Task.objects.filter(child_id__in=absent, reason__contains="60").values_list(
            "child_id", flat=True
        )
    ) == set(absent)
    attended = Served.objects.filter(child_id__in=[e.child_id for e in many]).aggregate(
        n=Sum("attended")
    )["n"]
    assert attended == 4 * 30  # present or late: half of them, at each of the four sessions
