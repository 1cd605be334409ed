"""What a case says about a child stays within the reader's ceiling: the support network
does not tell basic-only readers (teachers, volunteers) that a counsellor or a psychiatric
clinic serves the child, and readers below the sensitive class who follow a case
(officials) see that there is a case and how it moves, not why (intake reason, goals)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.accounts.models import User
from shouhu.cases import intakes, members, plan, stages
from shouhu.cases.models import Case
from tests.test_api_auth import bearer, token_for
from tests.world import World

pytestmark = pytest.mark.django_db

REASON = "孩子说继父打她"  # what an intake reason says
GOAL = "每周与母亲视频一次"
STRENGTHS = "喜欢画画"


def network(user: User, child_id: int) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("children:detail", args=[child_id]))
    assert response.status_code == 200
    body = response.content.decode()
    start = body.index('data-testid="support-network"')
    return body[start : body.index("</section>", start)]


def test_the_support_network_hides_counselling_from_basic_readers(world: World) -> None:
    """A case of the psychiatric clinic led by the counsellor (李娜), and the counsellor on
    a social-work case (张伟): the teacher and the volunteer see neither; readers of
    sensitive fields see both."""
    b1, a1 = world.children["b1"], world.children["a1"]
    intakes.case_open(actor=world.counselor, child=b1, channel="service", reason="焦虑")
    social = intakes.case_open(
        actor=world.socialworker, child=a1, channel="service", reason="奶奶生病"
    )
    assert isinstance(social, Case)
    members.member_add(
        actor=world.socialworker, case=social, user=world.counselor, role="counsellor"
    )
    clinic = world.orgs["clinic"].name
    for reader in (world.teacher_b, world.director_b):
        shown = network(reader, b1.pk)
        sees = reader == world.director_b
        assert (clinic in shown) is sees, reader
        assert ("counselor" in shown) is sees, reader
    for reader in (world.teacher_a, world.volunteer):
        shown = network(reader, a1.pk)
        assert world.orgs["swo"].name in shown  # the social-work case is no secret
        assert "counselor" not in shown, reader
    assert "counselor" in network(world.director_a, a1.pk)


def referred_case(world: World) -> Case:
    """A referral with its reason, accepted, planned with a goal."""
    intake = intakes.intake_create(
        actor=world.teacher_a,
        child=world.children["a1"],
        channel="school_referral",
        reason=REASON,
        consent="guardian",
        organisation=world.orgs["swo"],
    )
    case = intakes.intake_decide(
        actor=world.socialworker, intake=intake, accept=True, lead=world.socialworker
    )
    assert case is not None
    for stage in ("assessment", "plan"):
        case = stages.transition(
            actor=world.socialworker, case=case, version=case.version, to=stage
        )
    plan.goal_add(
        actor=world.socialworker,
        case=case,
        version=case.version,
        domain="family_bonds",
        description=GOAL,
        strengths=STRENGTHS,
    )
    return case


def api_case(username: str, case: Case) -> dict[str, Any]:
    client = Client()
    response = client.get(f"/api/v1/cases/{case.pk}", **bearer(token_for(client, username)))
    assert response.status_code == 200, response.content
    return dict(response.json())


@pytest.mark.usefixtures("sharing_allowed")
def test_an_official_reads_a_case_without_its_reasons_and_goals(world: World) -> None:
    case = referred_case(world)
    body = api_case("official", case)
    assert body["intake"]["reason"] == "***" and body["reasons_shown"] is False
    [goal] = body["goals"]
    assert (goal["description"], goal["strengths"], goal["domain"]) == ("***",) * 3
    assert goal["status"]  # how the plan moves is no secret
    client = Client()
    client.force_login(world.official)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert GOAL not in page and STRENGTHS not in page and REASON not in page
    # Those who work on the case, and the supervisor (sensitive class), read them.
    for username in ("socialworker", "supervisor"):
        body = api_case(username, case)
        assert body["intake"]["reason"] == REASON and body["goals"][0]["description"] == GOAL
    client.force_login(world.supervisor)
    assert GOAL in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
