"""Gaps closed in the case module: the lead worker chosen when accepting an intake, the
referrer recorded, a referral to an organisation where the child already has an open case
(409), people added to and taken off a case, assignees, providers and participants set from
the case page, and approvals, goal changes and reviews over the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from shouhu.cases import intakes, members, plan, selectors, stages
from shouhu.cases.models import (
    Case,
    CaseMember,
    CasePolicy,
    Conference,
    Intake,
    IntakeStatus,
    PlanAction,
    ServiceRecord,
)
from shouhu.children.data import ConflictError
from shouhu.children.models import ChildAssignment
from shouhu.lib import clock
from tests.test_api_cases import Api
from tests.world import World

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(user)
    return client


def _referral(world: World, **kw: Any) -> Intake:
    return intakes.intake_create(
        actor=world.users["teacher_b"],
        child=world.children["b1"],
        channel="school_referral",
        reason="absent for two weeks",
        consent="guardian",
        organisation=world.orgs["swo"],
        **kw,
    )


def _case(world: World) -> Case:
    case = intakes.case_open(
        actor=world.socialworker, child=world.children["a1"], channel="service", reason="x"
    )
    assert isinstance(case, Case)
    return case


# --- 1. the lead worker ---------------------------------------------------------------------


@pytest.mark.usefixtures("sharing_allowed")
def test_supervisor_accepts_an_intake_naming_the_lead_worker(world: World) -> None:
    intake = _referral(world)
    with pytest.raises(ValidationError) as no_lead:
        intakes.intake_decide(actor=world.supervisor, intake=intake, accept=True)
    assert "lead" in no_lead.value.message_dict
    assert world.orgs["swo"].name in no_lead.value.message_dict["lead"][0]  # says whose
    with pytest.raises(ValidationError) as not_eligible:
        intakes.intake_decide(
            actor=world.supervisor, intake=intake, accept=True, lead=world.users["teacher_b"]
        )
    assert "lead" in not_eligible.value.message_dict
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.PENDING and not Case.objects.exists()
    case = intakes.intake_decide(
        actor=world.supervisor, intake=intake, accept=True, lead=world.socialworker
    )
    assert case is not None and case.lead == world.socialworker
    assert case.organisation == world.orgs["swo"]
    assert CaseMember.objects.filter(case=case, user=world.socialworker, role="worker").exists()
    assert case.tasks.get().assignee == world.socialworker
    intake.refresh_from_db()
    assert intake.decided_by == world.supervisor


@pytest.mark.usefixtures("sharing_allowed")
def test_a_worker_of_the_organisation_still_leads_by_default(world: World) -> None:
    case = intakes.intake_decide(actor=world.socialworker, intake=_referral(world), accept=True)
    assert case is not None and case.lead == world.socialworker


@pytest.mark.usefixtures("sharing_allowed")
def test_lead_over_the_api(world: World) -> None:
    intake = _referral(world)
    supervisor = Api("supervisor")
    url = f"/api/v1/intakes/{intake.pk}/decision"
    refused = supervisor.post(url, {"accept": True})
    assert refused.status_code == 400 and "lead" in refused.json()["errors"]
    unknown = supervisor.post(url, {"accept": True, "lead": 999999})
    assert unknown.status_code == 400 and "lead" in unknown.json()["errors"]
    decided = supervisor.post(url, {"accept": True, "lead": world.socialworker.pk})
    assert decided.status_code == 200, decided.content
    assert decided.json()["case"]["lead"] == world.socialworker.pk


@pytest.mark.usefixtures("sharing_allowed")
def test_lead_chosen_on_the_intakes_page(world: World) -> None:
    intake = _referral(world)
    client = _client(world.supervisor)
    page = client.get(reverse("cases:intakes")).content.decode()
    assert f'data-testid="lead-{intake.pk}"' in page
    assert f'<option value="{world.socialworker.pk}">' in page  # the org's worker, not preset
    assert "Choose the lead worker" in page
    client.post(reverse("cases:intakes"), {f"intake-{intake.pk}-accept": "1"}, follow=True)
    assert not Case.objects.exists()
    response = client.post(
        reverse("cases:intakes"),
        {f"intake-{intake.pk}-accept": "1", f"intake-{intake.pk}-lead": world.socialworker.pk},
    )
    case = Case.objects.get()
    assert response.url == reverse("cases:detail", args=[case.pk])
    assert case.lead == world.socialworker
    worker_page = _client(world.socialworker).get(reverse("cases:intakes")).content.decode()
    assert "Choose the lead worker" not in worker_page


@pytest.mark.usefixtures("sharing_allowed")
def test_teacher_sees_own_referral_without_decision_buttons(world: World) -> None:
    intake = _referral(world)
    page = _client(world.users["teacher_b"]).get(reverse("cases:intakes")).content.decode()
    assert "absent for two weeks" in page and f'data-testid="accept-{intake.pk}"' not in page


# --- 3. the referrer ------------------------------------------------------------------------


@pytest.mark.usefixtures("sharing_allowed")
def test_referrer_over_the_api_is_stored_and_shown(world: World) -> None:
    teacher = Api("teacher_b")
    response = teacher.post(
        "/api/v1/cases",
        {
            "child": world.children["b1"].pk,
            "channel": "community_referral",
            "reason": "seen alone at night",
            "organisation": world.orgs["swo"].pk,
            "referrer": "  王主任（齐山村妇联）  ",
        },
    )
    assert response.status_code == 202, response.content
    intake = Intake.objects.get(pk=response.json()["intake"])
    assert intake.referrer_name == "王主任（齐山村妇联）"
    listed = Api("socialworker").get("/api/v1/intakes").json()["items"]
    assert listed[0]["referrer_name"] == "王主任（齐山村妇联）"
    page = _client(world.socialworker).get(reverse("cases:intakes")).content.decode()
    assert f'data-testid="referrer-{intake.pk}"' in page and "王主任" in page
    too_long = teacher.post(
        "/api/v1/cases",
        {"child": world.children["b1"].pk, "channel": "self", "reason": "x", "referrer": "x" * 101},
    )
    assert too_long.status_code == 400 and "referrer" in too_long.json()["errors"]


def test_referrer_from_the_new_case_form_is_on_the_case(world: World) -> None:
    client = _client(world.socialworker)
    child = world.children["a1"]
    form = client.get(reverse("cases:new", args=[child.pk])).content.decode()
    assert 'name="referrer_name"' in form
    client.post(
        reverse("cases:new", args=[child.pk]),
        {
            "organisation": world.orgs["swo"].pk,
            "channel": "hotline",
            "reason": "grandmother called the hotline",
            "referrer_name": "奶奶",
            "urgency": "normal",
        },
    )
    case = Case.objects.get()
    assert case.intake is not None and case.intake.referrer_name == "奶奶"
    assert selectors.present_case(world.socialworker, case)["intake"]["referrer_name"] == "奶奶"
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-testid="referrer"' in page and "奶奶" in page


# --- 4. a referral where the child already has an open case ---------------------------------


@pytest.mark.usefixtures("sharing_allowed")
def test_referral_to_an_organisation_with_an_open_case_is_409(world: World) -> None:
    intakes.intake_decide(actor=world.socialworker, intake=_referral(world), accept=True)
    assert Intake.objects.count() == 1
    response = Api("teacher_b").post(
        "/api/v1/cases",
        {
            "child": world.children["b1"].pk,
            "channel": "school_referral",
            "reason": "again",
            "organisation": world.orgs["swo"].pk,
        },
    )
    assert response.status_code == 409
    assert Intake.objects.count() == 1  # no second pending intake
    with pytest.raises(ConflictError):
        _referral(world)
    # Another organisation still takes the child.
    other = Api("teacher_b").post(
        "/api/v1/cases",
        {
            "child": world.children["b1"].pk,
            "channel": "school_referral",
            "reason": "counselling",
            "organisation": world.orgs["clinic"].pk,
        },
    )
    assert other.status_code == 202


# --- 2. people on the case, assignees, providers, participants ------------------------------


def test_members_added_and_taken_off_over_the_api(world: World) -> None:
    case = _case(world)
    api = Api("socialworker")
    url = f"/api/v1/cases/{case.pk}/members"
    added = api.post(url, {"user": world.volunteer.pk, "role": "volunteer"})
    assert added.status_code == 201, added.content
    assert {(m["user"], m["role"]) for m in added.json()["members"]} == {
        (world.socialworker.pk, "worker"),
        (world.volunteer.pk, "volunteer"),
    }
    assert api.post(url, {"user": world.volunteer.pk, "role": "volunteer"}).status_code == 400
    outsider = api.post(url, {"user": world.users["socialworker_dest"].pk, "role": "worker"})
    assert outsider.status_code == 400 and "user" in outsider.json()["errors"]
    assert api.post(url, {"user": world.volunteer.pk, "role": "boss"}).status_code == 400
    assert (
        Api("teacher_a").post(url, {"user": world.volunteer.pk, "role": "volunteer"}).status_code
        == 404
    )
    removed = api.client.delete(f"{url}/{world.volunteer.pk}", **api.headers)
    assert removed.status_code == 200
    assert [m["user"] for m in removed.json()["members"]] == [world.socialworker.pk]
    assert not CaseMember.objects.get(case=case, user=world.volunteer).active
    lead = api.client.delete(f"{url}/{world.socialworker.pk}", **api.headers)
    assert lead.status_code == 400


def test_a_volunteer_cannot_join_as_a_worker(world: World) -> None:
    case = _case(world)
    with pytest.raises(ValidationError) as refused:
        members.member_add(actor=world.socialworker, case=case, user=world.volunteer, role="worker")
    assert "role" in refused.value.message_dict
    assert not CaseMember.objects.filter(case=case, user=world.volunteer).exists()


def test_removed_member_loses_the_case_and_the_assignment_it_opened(world: World) -> None:
    from shouhu import access
    from tests.world import clear_volunteer, make_user

    case = _case(world)
    helper = make_user("helper", world.orgs["volunteers"], "volunteer")
    with pytest.raises(ValidationError) as refused:  # not yet vetted
        members.member_add(actor=world.socialworker, case=case, user=helper, role="volunteer")
    assert set(refused.value.message_dict) == {"user"}
    clear_volunteer(helper, world.orgs["volunteers"], by=world.admin)
    members.member_add(actor=world.socialworker, case=case, user=helper, role="volunteer")
    assert case in access.cases_visible_to(helper)
    assert case.child in access.children_visible_to(helper)
    members.member_remove(actor=world.socialworker, case=case, user=helper)
    helper = type(helper).objects.get(pk=helper.pk)  # fresh scope
    assert case not in access.cases_visible_to(helper)
    assert case.child not in access.children_visible_to(helper)
    assert not ChildAssignment.objects.filter(user=helper, active=True).exists()
    members.member_add(actor=world.socialworker, case=case, user=helper, role="volunteer")
    assert CaseMember.objects.get(case=case, user=helper).active  # comes back


def test_case_page_adds_members_and_sets_assignee_provider_and_participants(
    world: World,
) -> None:
    case = _case(world)
    client = _client(world.socialworker)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-testid="member-form"' in page and world.volunteer.get_full_name() in page
    members = reverse("cases:member_add", args=[case.pk])
    client.post(members, {"member-person": world.volunteer.pk, "member-role": "volunteer"})
    assert CaseMember.objects.filter(case=case, user=world.volunteer, active=True).exists()
    response = client.post(
        members,
        {"member-person": world.users["socialworker_dest"].pk, "member-role": "worker"},
    )
    assert response.status_code == 400
    assert "Choose a person from the list" in response.content.decode()
    client.post(
        reverse("cases:move", args=[case.pk]),
        {"move-to": "assessment", "move-version": case.version},
    )
    case.refresh_from_db()
    client.post(
        reverse("cases:goal_add", args=[case.pk]),
        {"goal-version": case.version, "goal-domain": "peer_network", "goal-description": "g"},
    )
    case.refresh_from_db()
    goal = case.goals.get()
    prefix = f"action-{goal.pk}"
    client.post(
        reverse("cases:action_add", args=[case.pk, goal.pk]),
        {
            f"{prefix}-version": case.version,
            f"{prefix}-description": "reads with him on Saturdays",
            f"{prefix}-owner": "volunteer",
            f"{prefix}-assignee": world.volunteer.pk,
            f"{prefix}-organisation": world.orgs["volunteers"].pk,
        },
    )
    action = PlanAction.objects.get()
    assert action.assignee == world.volunteer and action.organisation == world.orgs["volunteers"]
    case.refresh_from_db()
    client.post(
        reverse("cases:service_add", args=[case.pk]),
        {
            "service-version": case.version,
            "service-service_type": "counselling",
            "service-delivered_on": clock.today().isoformat(),
            "service-minutes": "50",
            "service-participants": "1",
            "service-provider": world.orgs["clinic"].pk,
        },
    )
    assert ServiceRecord.objects.get().provider == world.orgs["clinic"]
    response = client.post(
        reverse("cases:conference_add", args=[case.pk]),
        {
            "conference-held_on": clock.today().isoformat(),
            "conference-organisations": [world.orgs["swo"].pk, world.orgs["volunteers"].pk],
            "conference-participants": [
                world.socialworker.pk,
                world.volunteer.pk,
                world.users["admin"].pk,
            ],
            "conference-decisions": "weekly reading",
        },
    )
    assert response.status_code == 400  # the administrator is no one the case could have
    assert not Conference.objects.exists()
    client.post(
        reverse("cases:conference_add", args=[case.pk]),
        {
            "conference-held_on": clock.today().isoformat(),
            "conference-organisations": [world.orgs["swo"].pk, world.orgs["volunteers"].pk],
            "conference-participants": [world.socialworker.pk, world.volunteer.pk],
            "conference-decisions": "weekly reading",
        },
    )
    conference = Conference.objects.get()
    assert set(conference.participants.all()) == {world.socialworker, world.volunteer}
    client.post(reverse("cases:member_remove", args=[case.pk, world.volunteer.pk]))
    assert not CaseMember.objects.get(case=case, user=world.volunteer).active


def test_action_assignee_must_be_on_the_case(world: World) -> None:
    case = _case(world)
    case = stages.transition(
        actor=world.socialworker, case=case, to="assessment", version=case.version
    )
    goal = plan.goal_add(
        actor=world.socialworker, case=case, version=case.version, domain="safety", description="g"
    )
    case.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        plan.action_add(
            actor=world.socialworker,
            goal=goal,
            version=case.version,
            description="x",
            owner="school",
            assignee=world.users["teacher_b"],
        )
    assert "assignee" in refused.value.message_dict


# --- 5. approvals, goals and reviews over the API -------------------------------------------


def _plan_with_goal(api: Api, world: World) -> dict[str, Any]:
    case = api.post(
        "/api/v1/cases",
        {"child": world.children["a1"].pk, "channel": "service", "reason": "grandmother ill"},
    ).json()
    url = f"/api/v1/cases/{case['id']}"
    case = api.post(f"{url}/transitions", {"to": "assessment", "version": case["version"]}).json()
    case = api.post(f"{url}/transitions", {"to": "plan", "version": case["version"]}).json()
    case = api.post(
        f"{url}/goals",
        {"version": case["version"], "domain": "family_bonds", "description": "weekly call"},
    ).json()
    return dict(
        api.post(f"{url}/transitions", {"to": "services", "version": case["version"]}).json()
    )


def test_approval_decided_over_the_api(world: World) -> None:
    worker = Api("socialworker")
    case = _plan_with_goal(worker, world)
    assert case["pending_approval"] == "plan"
    approval = case["approvals"][0]["id"]
    url = f"/api/v1/cases/{case['id']}/approvals/{approval}/decision"
    assert worker.post(url, {"approve": True}).status_code == 403  # not an approver
    supervisor = Api("supervisor")
    no_note = supervisor.post(url, {"approve": False})
    assert no_note.status_code == 400 and "note" in no_note.json()["errors"]
    back = supervisor.post(url, {"approve": False, "note": "add a school goal"})
    assert back.status_code == 200, back.content
    body = back.json()
    assert body["stage"] == "plan" and body["pending_approval"] is None
    assert body["approvals"][0]["approved"] is False
    assert body["approvals"][0]["note"] == "add a school goal"
    assert supervisor.post(url, {"approve": True}).status_code == 400  # already decided
    again = worker.post(
        f"/api/v1/cases/{case['id']}/transitions", {"to": "services", "version": body["version"]}
    ).json()
    second = again["approvals"][0]["id"]
    approved = supervisor.post(
        f"/api/v1/cases/{case['id']}/approvals/{second}/decision", {"approve": True}
    ).json()
    assert approved["stage"] == "services"
    assert Api("teacher_a").post(url, {"approve": True}).status_code == 404


def test_goal_changed_and_review_recorded_over_the_api(world: World) -> None:
    CasePolicy.objects.create(organisation=world.orgs["swo"], plan_needs_approval=False)
    api = Api("socialworker")
    case = _plan_with_goal(api, world)
    assert case["stage"] == "services"
    url = f"/api/v1/cases/{case['id']}"
    goal = case["goals"][0]["id"]
    changed = api.patch(
        f"{url}/goals/{goal}", {"version": case["version"], "description": "two calls a week"}
    )
    assert changed.status_code == 200, changed.content
    case = changed.json()
    assert case["goals"][0]["description"] == "two calls a week"
    stale = api.patch(f"{url}/goals/{goal}", {"version": case["version"] - 1, "status": "met"})
    assert stale.status_code == 409
    early = api.post(
        f"{url}/review",
        {"version": case["version"], "goals": [{"goal": goal, "status": "met"}]},
    )
    assert early.status_code == 400  # not at the review stage
    case = api.post(f"{url}/transitions", {"to": "review", "version": case["version"]}).json()
    reviewed = api.post(
        f"{url}/review",
        {
            "version": case["version"],
            "goals": [{"goal": goal, "status": "partly", "note": "calls most weeks"}],
        },
    )
    assert reviewed.status_code == 200, reviewed.content
    body = reviewed.json()
    assert body["goals"][0]["status"] == "partly"
    assert body["goals"][0]["review_note"] == "calls most weeks"
    assert body["version"] == case["version"] + 1
    wrong = api.post(
        f"{url}/review",
        {"version": body["version"], "goals": [{"goal": 999999, "status": "met"}]},
    )
    assert wrong.status_code == 400 and "goals.0.goal" in wrong.json()["errors"]
    assert api.patch(f"{url}/goals/999999", {"version": 1}).status_code == 404


def test_review_form_on_the_case_page(world: World) -> None:
    CasePolicy.objects.create(organisation=world.orgs["swo"], plan_needs_approval=False)
    case = _case(world)
    for stage in ("assessment", "plan"):
        case = stages.transition(
            actor=world.socialworker, case=case, to=stage, version=case.version
        )
    goal = plan.goal_add(
        actor=world.socialworker, case=case, version=case.version, domain="safety", description="g"
    )
    case.refresh_from_db()
    for stage in ("services", "review"):
        case = stages.transition(
            actor=world.socialworker, case=case, to=stage, version=case.version
        )
    client = _client(world.socialworker)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-testid="review-form"' in page
    client.post(
        reverse("cases:review", args=[case.pk]),
        {
            "review-version": case.version,
            f"review-status_{goal.pk}": "met",
            f"review-note_{goal.pk}": "safe with aunt",
        },
    )
    goal.refresh_from_db()
    assert goal.status == "met" and goal.review_note == "safe with aunt"


def test_self_approval_is_refused_even_for_an_approver(world: World) -> None:
    case = _case(world)
    members.member_add(
        actor=world.socialworker, case=case, user=world.supervisor, role="supervisor"
    )
    closing = stages.close(
        actor=world.supervisor,
        case=case,
        version=case.version,
        outcome="moved_away",
        reason="moved",
    )
    approval = closing.approvals.get()
    with pytest.raises(PermissionDenied):
        stages.approval_decide(actor=world.supervisor, approval=approval, approve=True)
    approval.refresh_from_db()
    assert approval.decided_at is None
