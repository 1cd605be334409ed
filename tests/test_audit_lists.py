"""Every list that shows children writes the access log, one row per child shown (so an
auditor who looks up a child finds every page that showed it): the case, intake, task and
coordination lists of the pages and the API, the alerts and mandatory-report pages, the
worklist and the registry list. A list that showed nobody still records the read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.accounts.models import User
from shouhu.audit.models import AccessLog, Action
from shouhu.cases import followups, intakes
from shouhu.cases.models import Case
from shouhu.screening import reporting
from shouhu.screening.models import Alert, RiskLevel, Trigger
from tests.test_api_auth import bearer, token_for
from tests.world import NOW, TODAY, World

pytestmark = pytest.mark.django_db


def web(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_get(username: str, url: str, **params: Any) -> Any:
    client = Client()
    response = client.get(url, params, **bearer(token_for(client, username)))
    assert response.status_code == 200, response.content
    return response.json()


def logged(user: User, purpose: str) -> list[int | None]:
    rows = AccessLog.objects.filter(user=user, purpose=purpose, action=Action.LIST_CHILDREN)
    return sorted(rows.values_list("child_id", flat=True), key=lambda pk: pk or 0)


def open_case(world: World) -> Case:
    case = intakes.case_open(
        actor=world.socialworker, child=world.children["a1"], channel="service", reason="x"
    )
    assert isinstance(case, Case)
    return case


def test_case_lists_log_the_children_shown(world: World) -> None:
    a1 = world.children["a1"].pk
    open_case(world)
    assert web(world.socialworker).get(reverse("cases:list")).status_code == 200
    assert logged(world.socialworker, "case_list") == [a1]
    assert web(world.supervisor).get(reverse("cases:list")).status_code == 200
    assert logged(world.supervisor, "case_list") == [a1]  # follows the township's cases
    assert len(api_get("socialworker", "/api/v1/cases")["items"]) == 1
    assert logged(world.socialworker, "api_case_list") == [a1]


def test_an_empty_list_still_records_the_read(world: World) -> None:
    open_case(world)
    assert web(world.teacher_a).get(reverse("cases:list")).status_code == 200
    assert logged(world.teacher_a, "case_list") == [None]


@pytest.mark.usefixtures("sharing_allowed")
def test_intake_lists_log_the_children_shown(world: World) -> None:
    b1 = world.children["b1"].pk
    intakes.intake_create(
        actor=world.teacher_b,
        child=world.children["b1"],
        channel="school_referral",
        reason="absent for two weeks",
        consent="guardian",
        organisation=world.orgs["swo"],
    )
    assert web(world.socialworker).get(reverse("cases:intakes")).status_code == 200
    assert logged(world.socialworker, "intakes") == [b1]
    assert logged(world.socialworker, "transfers") == [None]  # none waiting, read all the same
    assert len(api_get("socialworker", "/api/v1/intakes")["items"]) == 1
    assert logged(world.socialworker, "api_intake_list") == [b1]


def test_task_lists_and_the_worklist_log_the_children_shown(world: World) -> None:
    a1 = world.children["a1"].pk
    followups.task_add(
        actor=world.socialworker,
        case=open_case(world),
        kind="call",
        title="call the grandmother",
        due_on=TODAY + dt.timedelta(days=2),
    )
    items = api_get("socialworker", "/api/v1/tasks")["items"]
    assert {t["child"] for t in items} == {a1}
    assert logged(world.socialworker, "api_task_list") == [a1]
    assert web(world.socialworker).get(reverse("screening:worklist")).status_code == 200
    assert a1 in logged(world.socialworker, "worklist")
    # The supervisor's worklist: the home visits owed in the township, by child.
    assert web(world.supervisor).get(reverse("screening:worklist")).status_code == 200
    assert {a1, world.children["b1"].pk} <= set(logged(world.supervisor, "worklist"))


def test_the_coordination_board_logs_the_children_it_names(world: World) -> None:
    b1 = world.children["b1"]
    RiskLevel.objects.filter(child=b1).update(level="red")
    assert web(world.supervisor).get(reverse("cases:coordination")).status_code == 200
    assert logged(world.supervisor, "coordination") == [b1.pk]
    body = api_get("supervisor", "/api/v1/coordination")
    assert [g["child"] for g in body["gaps"]] == [b1.pk]
    assert logged(world.supervisor, "coordination") == [b1.pk, b1.pk]


def test_the_alerts_page_logs_the_children_shown(world: World) -> None:
    b1 = world.children["b1"]
    Alert.objects.create(
        child=b1,
        organisation=world.orgs["village_b"],
        priority="urgent",
        flags=[],
        raised_at=NOW,
        due_at=NOW + dt.timedelta(hours=4),
    )
    assert web(world.supervisor).get(reverse("screening:alerts")).status_code == 200
    assert logged(world.supervisor, "alerts") == [b1.pk]
    assert web(world.director_a).get(reverse("screening:alerts")).status_code == 200
    assert logged(world.director_a, "alerts") == [None]


def test_the_mandatory_reports_page_logs_the_children_shown(world: World) -> None:
    b1 = world.children["b1"]
    reporting.open_report(
        actor=world.director_b, child=b1, triggers=[Trigger.ABUSE], description="bruises", now=NOW
    )
    assert web(world.supervisor).get(reverse("screening:reports")).status_code == 200
    assert logged(world.supervisor, "mandatory_reports") == [b1.pk]


def test_the_registry_list_logs_the_children_on_the_page(world: World) -> None:
    a1, b1 = world.children["a1"].pk, world.children["b1"].pk
    assert web(world.supervisor).get(reverse("children:list")).status_code == 200
    assert logged(world.supervisor, "list") == sorted([a1, b1])
    entry = AccessLog.objects.filter(user=world.supervisor, purpose="list").first()
    assert entry is not None and entry.detail["children_shown"] == 2
    assert len(api_get("director_a", "/api/v1/children")["items"]) == 1
    assert logged(world.director_a, "api_list") == [a1]
