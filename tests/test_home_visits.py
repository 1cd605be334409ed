"""The home visit as a record of its own (issue 11 §3): recorded on the page and over the
API with the same rules, the notes encrypted and shown only to sensitive readers, the
visit task closed and the next one scheduled, dead parents never "at home"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from shouhu.children.models import FamilyMember
from shouhu.screening import risk, services, visits
from shouhu.screening.models import HomeVisit, RiskLevel
from shouhu.tasks.models import Task, TaskStatus
from tests.world import TODAY, World

pytestmark = pytest.mark.django_db


def _client(user: Any, language: str = "en") -> Client:
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    client.force_login(user)
    return client


def _father(world: World) -> FamilyMember:
    return world.children["a1"].household.members.get(relation="father")


def _post(client: Client, child_id: int, **data: Any) -> Any:
    values = {
        "visited_on": TODAY.isoformat(),
        "place": "home",
        "child_seen": "on",
        "notes": "奶奶腿脚不便，孩子晚饭自己做",
        "actions": "联系学校午餐补助",
        **data,
    }
    return client.post(reverse("screening:visit_new", args=[child_id]), values)


def test_a_director_records_a_visit_and_the_next_one_is_scheduled(world: World) -> None:
    child = world.children["a1"]
    risk.recompute(child)
    task = Task.objects.get(kind="home_visit", child=child, status=TaskStatus.OPEN)
    client = _client(world.director_a)
    form = client.get(reverse("screening:visit_new", args=[child.pk]))
    assert form.status_code == 200 and _father(world).name in form.content.decode()
    response = _post(client, child.pk, met=[_father(world).pk])
    assert response.status_code == 302
    assert response.url == reverse("screening:visits", args=[child.pk])
    visit = HomeVisit.objects.get(child=child)
    assert visit.by == world.director_a and list(visit.met.all()) == [_father(world)]
    assert "奶奶" not in visit.notes_enc  # encrypted at rest
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.done_by == world.director_a
    level = RiskLevel.objects.get(child=child)
    following = Task.objects.get(kind="home_visit", child=child, status=TaskStatus.OPEN)
    assert following.due_on == TODAY + dt.timedelta(days=level.interval_days)
    history = client.get(response.url, follow=True).content.decode()
    assert "奶奶腿脚不便" in history and "Saved: the home visit is recorded." in history
    # A sooner next visit brings the task forward.
    _post(client, child.pk, next_visit_on=(TODAY + dt.timedelta(days=3)).isoformat())
    following = Task.objects.get(kind="home_visit", child=child, status=TaskStatus.OPEN)
    assert following.due_on == TODAY + dt.timedelta(days=3)


def test_a_refused_visit_says_why_by_each_field(world: World) -> None:
    child = world.children["a1"]
    client = _client(world.director_a)
    response = _post(
        client,
        child.pk,
        visited_on=(TODAY + dt.timedelta(days=1)).isoformat(),
        place="elsewhere",
        next_visit_on=TODAY.isoformat(),
    )
    page = response.content.decode()
    assert response.status_code == 400 and 'data-testid="error-summary"' in page
    for field in ("visited_on", "place_note"):
        assert f'href="#id_{field}"' in page, field
    assert "The visit cannot be in the future." in page
    assert not HomeVisit.objects.exists()


def test_a_dead_parent_is_never_met_nor_at_home(world: World) -> None:
    child = world.children["a1"]
    father = _father(world)
    father.capacity, father.away = "deceased", False
    father.save()
    client = _client(world.director_a)
    assert (
        f'value="{father.pk}"'
        not in client.get(reverse("screening:visit_new", args=[child.pk])).content.decode()
    )
    refused = _post(client, child.pk, met=[father.pk])
    assert refused.status_code == 400 and not HomeVisit.objects.exists()
    family = (
        client.get(reverse("children:detail", args=[child.pk]))
        .content.decode()
        .split('data-testid="family"')[1]
        .split("</ul>")[0]
    )
    father_row = family.split(father.name)[1].split("</li>")[0]
    assert "At home" not in father_row and "Deceased" in father_row
    teacher_page = _client(world.teacher_a).get(reverse("children:detail", args=[child.pk]))
    row = teacher_page.content.decode().split(father.name)[1].split("</li>")[0]
    assert "At home" not in row and "Deceased" not in row  # the reason is sensitive
    with pytest.raises(ValidationError, match="living members"):  # the service refuses it too
        visits.visit_record(
            actor=world.director_a,
            child=child,
            visited_on=TODAY,
            place="home",
            met=[father],
        )


def test_the_notes_are_for_sensitive_readers_only(world: World) -> None:
    child = world.children["a1"]
    visits.visit_record(
        actor=world.director_a, child=child, visited_on=TODAY, place="home", notes="酒后打骂"
    )
    url = reverse("screening:visits", args=[child.pk])
    assert "酒后打骂" in _client(world.director_a).get(url).content.decode()
    teacher = _client(world.teacher_a).get(url).content.decode()
    assert "酒后打骂" not in teacher and "sensitive fields" in teacher
    assert _client(world.director_b).get(url).status_code == 404


def test_visits_over_the_api(world: World) -> None:
    from shouhu.screening import registry
    from tests.test_api_cases import Api

    child = world.children["a1"]
    inst = registry.definition("home_visit")
    administration = services.administer(
        actor=world.director_a,
        child=child,
        instrument="home_visit",
        answers={item.id: item.min_value for item in inst.items if item.show_if is None},
    )
    api = Api("director_a")
    url = f"/api/v1/children/{child.pk}/visits"
    created = api.post(
        url,
        {
            "visited_on": TODAY.isoformat(),
            "met": [_father(world).pk],
            "notes": "见到了孩子",
            "assessment": administration.pk,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["notes"] == "见到了孩子" and body["assessment"] == administration.pk
    again = api.post(url, {"visited_on": TODAY.isoformat(), "assessment": administration.pk})
    assert again.status_code == 400 and "assessment" in again.json()["errors"]
    future = api.post(url, {"visited_on": (TODAY + dt.timedelta(days=2)).isoformat()})
    assert future.status_code == 400 and "visited_on" in future.json()["errors"]
    listed = api.client.get(url, **api.headers).json()["items"]
    assert [v["id"] for v in listed] == [body["id"]]
    teacher = Api("teacher_a").client.get(url, **Api("teacher_a").headers).json()["items"]
    assert teacher[0]["notes"] is None and teacher[0]["notes_hidden"] is True
    volunteer = Api("volunteer").post(url, {"visited_on": TODAY.isoformat()})
    assert volunteer.status_code in (403, 404)


def test_the_worklist_leads_to_the_visit_form(world: World) -> None:
    child = world.children["a1"]
    risk.recompute(child)
    page = _client(world.director_a).get(reverse("screening:worklist")).content.decode()
    assert reverse("screening:visit_new", args=[child.pk]) in page


def test_one_worklist_holds_visits_and_case_follow_ups_by_due_date(world: World) -> None:
    from shouhu.cases import followups, intakes
    from shouhu.cases.models import Case

    child = world.children["a1"]
    risk.recompute(child)
    case = intakes.case_open(actor=world.socialworker, child=child, channel="service", reason="x")
    assert isinstance(case, Case)
    followups.task_add(
        actor=world.socialworker,
        case=case,
        kind="call",
        title="ring grandmother",
        due_on=TODAY + dt.timedelta(days=1),
    )
    page = _client(world.supervisor).get(reverse("screening:worklist")).content.decode()
    table = page.split('data-testid="worklist"')[1].split("</table>")[0]
    assert 'data-testid="task-home_visit"' in table and 'data-testid="task-case"' in table
    assert "ring grandmother" in table
    visit_due = Task.objects.get(kind="home_visit", child=child, status=TaskStatus.OPEN).due_on
    first = "task-case" if TODAY + dt.timedelta(days=1) <= visit_due else "task-home_visit"
    assert table.index(first) == min(table.index("task-case"), table.index("task-home_visit"))


def test_a_visit_with_its_assessment_closes_one_task_not_the_next(world: World) -> None:
    """The assessment submitted on the visit closes the visit task; recording the visit with
    that assessment must not also close the next visit's task."""
    from shouhu.screening import registry

    child = world.children["a1"]
    risk.recompute(child)
    inst = registry.definition("home_visit")
    administration = services.administer(
        actor=world.director_a,
        child=child,
        instrument="home_visit",
        answers={item.id: item.min_value for item in inst.items if item.show_if is None},
    )
    assert Task.objects.filter(kind="home_visit", child=child, status=TaskStatus.DONE).count() == 1
    visits.visit_record(
        actor=world.director_a,
        child=child,
        visited_on=TODAY,
        place="home",
        assessment=administration,
    )
    assert Task.objects.filter(kind="home_visit", child=child, status=TaskStatus.DONE).count() == 1
    following = Task.objects.get(kind="home_visit", child=child, status=TaskStatus.OPEN)
    level = RiskLevel.objects.get(child=child)
    assert following.due_on == TODAY + dt.timedelta(days=level.interval_days)
