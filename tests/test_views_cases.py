"""Case pages: opening, the case page per role, actions through the page with versions,
referrals to decide, the coordination page and the support network on the child's page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.cases import intakes, notes, stages
from shouhu.cases.models import Case, Intake
from tests.world import World

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(user)
    return client


def _case(world: World) -> Case:
    case = intakes.case_open(
        actor=world.socialworker, child=world.children["a1"], channel="service", reason="x"
    )
    assert isinstance(case, Case)
    return case


def test_worker_opens_a_case_from_the_child_page(world: World) -> None:
    client = _client(world.socialworker)
    child = world.children["a1"]
    page = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert 'data-testid="case-link"' in page
    response = client.post(
        reverse("cases:new", args=[child.pk]),
        {
            "organisation": world.orgs["swo"].pk,
            "channel": "service",
            "reason": "grandmother ill",
            "urgency": "high",
        },
    )
    case = Case.objects.get()
    assert response.url == reverse("cases:detail", args=[case.pk])
    page = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert 'data-testid="support-network"' in page and world.orgs["swo"].name in page


def test_stale_form_is_refused_with_a_message(world: World) -> None:
    case = _case(world)
    client = _client(world.socialworker)
    url = reverse("cases:move", args=[case.pk])
    client.post(url, {"move-to": "assessment", "move-version": case.version})
    response = client.post(
        url, {"move-to": "assessment", "move-version": case.version}, follow=True
    )
    assert "Reload it" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == "assessment" and case.version == 2


def test_a_refused_save_keeps_what_was_typed(world: World) -> None:
    """Two workers edit the plan: the second save is refused and their text is shown back."""
    case = _case(world)
    case = stages.transition(
        actor=world.socialworker, case=case, version=case.version, to="assessment"
    )
    case = stages.transition(actor=world.socialworker, case=case, version=case.version, to="plan")
    first, second = _client(world.socialworker), _client(world.socialworker)
    url = reverse("cases:goal_add", args=[case.pk])
    goal = {"goal-domain": "family_bonds", "goal-version": case.version}
    first.post(url, {**goal, "goal-description": "每周与父母视频一次"})
    refused = second.post(url, {**goal, "goal-description": "奶奶学会用微信视频"}, follow=True)
    page = refused.content.decode()
    assert 'data-testid="recovered-input"' in page and "奶奶学会用微信视频" in page
    case.refresh_from_db()
    assert [g.description for g in case.goals.all()] == ["每周与父母视频一次"]
    again = second.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-testid="recovered-input"' not in again  # shown once
    from django.contrib.sessions.models import Session

    assert not any("奶奶" in str(s.get_decoded()) for s in Session.objects.all())


def test_case_page_per_role(world: World) -> None:
    case = _case(world)
    notes.note_add(actor=world.socialworker, case=case, text="grandmother drinks")
    url = reverse("cases:detail", args=[case.pk])
    worker = _client(world.socialworker).get(url).content.decode()
    assert "grandmother drinks" in worker and 'data-testid="move-assessment"' in worker
    supervisor = _client(world.supervisor).get(url)
    assert supervisor.status_code == 200
    assert "grandmother drinks" not in supervisor.content.decode()  # follows, does not work on it
    for persona in ("teacher_a", "socialworker_dest", "volunteer", "director_b"):
        assert _client(world.users[persona]).get(url).status_code == 404


@pytest.mark.usefixtures("sharing_allowed")
def test_referral_decided_on_the_intakes_page(world: World) -> None:
    intakes.intake_create(
        actor=world.users["teacher_b"],
        child=world.children["b1"],
        channel="school_referral",
        reason="absent for two weeks",
        consent="guardian",
        organisation=world.orgs["swo"],
    )
    intake = Intake.objects.get()
    client = _client(world.socialworker)
    page = client.get(reverse("cases:intakes")).content.decode()
    assert "absent for two weeks" in page
    response = client.post(reverse("cases:intakes"), {f"intake-{intake.pk}-accept": "1"})
    case = Case.objects.get()
    assert response.url == reverse("cases:detail", args=[case.pk])
    assert (
        _client(world.users["teacher_a"])
        .get(reverse("cases:intakes"))
        .content.decode()
        .count("absent for two weeks")
        == 0
    )


def test_coordination_page(world: World) -> None:
    _case(world)
    page = _client(world.supervisor).get(reverse("cases:coordination")).content.decode()
    for section in ("gaps", "duplicates", "overdue", "caseload"):
        assert f'data-testid="{section}"' in page
    assert "socialworker" in page
    from shouhu.audit.models import AccessLog

    assert AccessLog.objects.filter(user=world.supervisor, purpose="coordination").exists()
