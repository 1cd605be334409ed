"""One follow-up model (issue 11 §4): home visits and case follow-ups are rows of one table,
on one worklist, and the migration that merged the two old tables keeps every row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from shouhu.cases import intakes
from shouhu.tasks import selectors
from shouhu.tasks.models import Task, TaskKind, TaskStatus
from tests.test_api_cases import Api
from tests.world import TODAY, World


def _case(world: World):  # type: ignore[no-untyped-def]
    return intakes.case_open(
        actor=world.socialworker, child=world.children["a1"], channel="service", reason="x"
    )


def test_home_visits_and_case_follow_ups_are_one_worklist(world: World) -> None:
    case = _case(world)
    follow_up = case.tasks.get()
    assert follow_up.child == world.children["a1"] and follow_up.kind == TaskKind.VISIT
    # The village's child director owes the risk-level home visits of the village's children.
    visits = selectors.tasks_for(world.director_a).filter(kind=TaskKind.HOME_VISIT)
    assert visits.exists() and all(t.case_id is None for t in visits)
    # The supervisor follows both kinds in the township, on one list in due order.
    rows = list(selectors.tasks_for(world.supervisor))
    kinds = {t.kind for t in rows}
    assert {TaskKind.HOME_VISIT, TaskKind.VISIT} <= kinds
    assert [t.due_on for t in rows] == sorted(t.due_on for t in rows)
    client = Client()
    client.force_login(world.supervisor)
    page = client.get(reverse("screening:worklist")).content.decode()
    assert 'data-testid="task-home_visit"' in page and 'data-testid="task-case"' in page


def test_the_api_worklist_has_home_visits_and_tasks_has_only_cases(world: World) -> None:
    _case(world)
    api = Api("supervisor")
    everything = api.get("/api/v1/worklist").json()["items"]
    assert {i["kind"] for i in everything} >= {"home_visit", "visit"}
    assert any(i["case"] is None for i in everything)
    cases_only = api.get("/api/v1/tasks").json()["items"]
    assert cases_only and all(i["case"] is not None for i in cases_only)


def test_a_home_visit_is_not_done_through_the_case_endpoint(world: World) -> None:
    visit = Task.objects.filter(kind=TaskKind.HOME_VISIT, assignee=world.director_a).first()
    assert visit is not None
    response = Api("director_a").post(f"/api/v1/tasks/{visit.pk}/done", {"note": "去过了"})
    assert response.status_code == 404
    visit.refresh_from_db()
    assert visit.status == TaskStatus.OPEN


@pytest.mark.django_db(transaction=True)
def test_the_merge_migration_keeps_every_follow_up(world: World) -> None:
    """Migrate back to the two old tables, write a row in each, migrate forward: both rows
    are in the one table with what they said."""
    case = _case(world)
    child = world.children["b1"]
    Task.objects.all().delete()
    before = [("cases", "0005_worklist_indexes"), ("screening", "0006_home_visits")]
    executor = MigrationExecutor(connection)
    executor.migrate([*before, ("tasks", None)])
    old = executor.loader.project_state(before).apps
    now = dt.datetime.combine(TODAY, dt.time(9), tzinfo=dt.UTC)
    old.get_model("screening", "FollowUpTask").objects.create(
        child_id=child.pk,
        kind="home_visit",
        due_on=TODAY + dt.timedelta(days=30),
        reason="left_behind",
        level="yellow",
        assignee_id=world.director_b.pk,
        status="open",
        created_at=now,
    )
    old.get_model("cases", "CaseTask").objects.create(
        case_id=case.pk,
        kind="call",
        title="给外出父母打电话",
        assignee_id=world.socialworker.pk,
        due_on=TODAY + dt.timedelta(days=3),
        recurring=True,
        done_at=now,
        done_note="已联系",
        residence=case.residence,
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    visit = Task.objects.get(kind="home_visit")
    assert (visit.child_id, visit.case_id, visit.level, visit.reason, visit.status) == (
        child.pk,
        None,
        "yellow",
        "left_behind",
        "open",
    )
    assert visit.assignee_id == world.director_b.pk and visit.residence == child.residence_id
    call = Task.objects.get(kind="call")
    assert (call.child_id, call.case_id, call.title, call.status, call.done_note) == (
        case.child_id,
        case.pk,
        "给外出父母打电话",
        "done",
        "已联系",
    )
    assert call.recurring and call.created_at == case.opened_at


def test_the_worklist_shows_all_mine_home_visits_or_cases(world: World) -> None:
    _case(world)
    client = Client()
    client.force_login(world.supervisor)
    for show, testid in (("home_visits", "task-home_visit"), ("cases", "task-case")):
        page = client.get(reverse("screening:worklist"), {"show": show}).content.decode()
        other = {"task-home_visit", "task-case"} - {testid}
        assert f'data-testid="{testid}"' in page and f'data-testid="{other.pop()}"' not in page
    mine = client.get(reverse("screening:worklist"), {"show": "mine"}).content.decode()
    assert 'data-testid="task-' not in mine  # the supervisor owes none of them
    assert client.get(reverse("screening:worklist"), {"show": "<x>"}).status_code == 200
    api = Api("supervisor")
    kinds = {i["kind"] for i in api.get("/api/v1/worklist", show="home_visits").json()["items"]}
    assert kinds == {"home_visit"}
    assert api.get("/api/v1/worklist", show="bogus").status_code == 400
