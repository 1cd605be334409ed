"""Every list page reads the database a fixed number of times, however many rows it shows
(issue 11 §4): the count is measured with a few rows and again with more, must not grow,
and is pinned so that a new query per page shows up here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shouhu.cases import delivery, followups, intakes, notes, plan, stages
from shouhu.cases.models import Case
from shouhu.children import assignments
from shouhu.screening import risk, safeguarding
from shouhu.screening.models import Priority
from tests.world import TODAY, VILLAGE_A, World, child_data, register

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    client.force_login(user)
    client.get(reverse("children:list"))  # the session and the language settle
    return client


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def _steady(client: Client, url: str, grow: Callable[[], None], pinned: int) -> None:
    before = _queries(client, url)
    grow()
    after = _queries(client, url)
    assert after == before, f"{url}: {before} queries with a few rows, {after} with more"
    assert after <= pinned, f"{url}: {after} queries (pinned at {pinned})"


def _children(world: World, n: int, start: int) -> list[Any]:
    """`n` more children of village A, served by the social worker."""
    made = []
    for i in range(start, start + n):
        child = register(world.director_a, child_data(f"孩子{i}", VILLAGE_A))
        assignments.assignment_create(
            actor=None,
            child=child,
            organisation=world.orgs["swo"],
            kind="case_worker",
            user=world.socialworker,
        )
        made.append(child)
    return made


def _open(world: World, child: Any) -> Case:
    case = intakes.case_open(actor=world.socialworker, child=child, channel="service", reason="x")
    assert isinstance(case, Case)
    return case


def test_the_case_list_and_board(world: World) -> None:
    client = _client(world.socialworker)
    for child in _children(world, 2, 0):
        _open(world, child)
    counter = iter(range(100, 200))

    def grow() -> None:
        for child in _children(world, 3, next(counter)):
            _open(world, child)

    _steady(client, reverse("cases:list"), grow, pinned=14)
    _steady(_client(world.supervisor), reverse("cases:coordination"), grow, pinned=22)


def test_the_case_page(world: World) -> None:
    case = _open(world, world.children["a1"])
    case = stages.transition(actor=world.socialworker, case=case, to="assessment", version=1)
    client = _client(world.socialworker)
    url = reverse("cases:detail", args=[case.pk])

    def add(n: int) -> None:
        nonlocal case
        for i in range(n):
            case.refresh_from_db()
            goal = plan.goal_add(
                actor=world.socialworker,
                case=case,
                version=case.version,
                domain="safety",
                description=f"goal {i}",
            )
            case.refresh_from_db()
            plan.action_add(
                actor=world.socialworker,
                goal=goal,
                version=case.version,
                description=f"action {i}",
                owner="family",
            )
            followups.task_add(
                actor=world.socialworker,
                case=case,
                kind="call",
                title=f"call {i}",
                due_on=TODAY + dt.timedelta(days=i + 1),
            )
            notes.note_add(actor=world.socialworker, case=case, text=f"note {i}")
            delivery.service_record(
                actor=world.socialworker,
                case=case,
                service_type="counselling",
                delivered_on=TODAY,
                minutes=30,
            )

    add(1)
    # 53: the organisations where a linked record of the child lives come first (`linkage`)
    _steady(client, url, lambda: add(3), pinned=53)


def test_the_decisions_and_intakes(world: World) -> None:
    client = _client(world.supervisor)

    def grow() -> None:
        for child in _children(world, 2, 300 + len(Case.objects.all())):
            case = _open(world, child)
            stages.close(
                actor=world.socialworker,
                case=case,
                version=case.version,
                outcome="goals_met",
                reason="ok",
            )

    grow()
    _steady(client, reverse("cases:decisions"), grow, pinned=20)


def test_the_worklist(world: World) -> None:
    client = _client(world.director_a)
    counter = iter(range(400, 500))

    def grow() -> None:
        for child in _children(world, 3, next(counter)):
            risk.recompute(child)

    grow()
    _steady(client, reverse("screening:worklist"), grow, pinned=14)


def test_the_alerts(world: World) -> None:
    client = _client(world.director_a)
    counter = iter(range(500, 600))

    def grow() -> None:
        for child in _children(world, 2, next(counter)):
            safeguarding.raise_alert(
                child=child,
                by=world.director_a,
                instrument="home_visit",
                organisation_id=world.orgs["village_a"].pk,
                flags=[{"code": "hv_immediate_danger", "priority": Priority.URGENT}],
                administration=None,
            )

    grow()
    _steady(client, reverse("screening:alerts"), grow, pinned=13)


def test_the_reunion_week(world: World) -> None:
    from tests.test_reunion import make_site

    site = make_site(world)
    client = _client(world.users["teacher_b"])
    from shouhu.reunion import planning, sites

    monday = TODAY + dt.timedelta(days=7 - TODAY.weekday())
    url = reverse("reunion:site", args=[site.pk]) + f"?week={monday.isoformat()}"
    planning.plan_week(
        actor=world.users["teacher_b"], organisation=site.organisation, week_start=monday
    )

    counter = iter(range(0, 100, 3))

    def grow() -> None:
        from shouhu.children.models import FamilyMember
        from tests.world import VILLAGE_B

        first = next(counter)
        for i in range(first, first + 3):
            child = register(world.director_b, child_data(f"团聚{i}", VILLAGE_B))
            sites.participant_set(actor=world.director_b, child=child, sites=[site])
            father = FamilyMember.objects.get(household_id=child.household_id, relation="father")
            sites.parent_availability_set(
                actor=world.director_b,
                member=father,
                windows=[{"day": d, "start": "16:30", "end": "18:00"} for d in range(1, 8)],
            )
        planning.plan_week(
            actor=world.users["teacher_b"], organisation=site.organisation, week_start=monday
        )

    grow()
    _steady(client, url, grow, pinned=31)
