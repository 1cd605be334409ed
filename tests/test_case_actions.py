"""Every action the case page offers, posted as the page posts it (issue 11 §2): each saves
and says so, each refused input comes back on the page next to its field and in the
summary at the top, and a stale page is refused without saving."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.cases import intakes, members, plan, stages
from shouhu.cases.models import (
    Case,
    CaseMember,
    CaseNote,
    Conference,
    ExternalReferral,
    Goal,
    PlanAction,
    Resource,
    ServiceRecord,
    Transfer,
)
from shouhu.children import consents
from shouhu.lib import clock
from shouhu.tasks.models import Task
from tests.world import COUNTY, World

pytestmark = pytest.mark.django_db


def _client(user: Any, language: str = "en") -> Client:
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    client.force_login(user)
    return client


def _case(world: World, stage: str = "intake") -> Case:
    case = intakes.case_open(
        actor=world.socialworker, child=world.children["a1"], channel="service", reason="x"
    )
    assert isinstance(case, Case)
    for to in ("assessment", "plan", "services", "review"):
        if case.stage == stage:
            break
        if to == "services":
            plan.goal_add(
                actor=world.socialworker,
                case=case,
                version=case.version,
                domain="safety",
                description="safe at home",
            )
            case.refresh_from_db()
            case.organisation.case_policy.plan_needs_approval = False
            case.organisation.case_policy.save()
        case = stages.transition(actor=world.socialworker, case=case, to=to, version=case.version)
    assert case.stage == stage
    return case


def _post(client: Client, name: str, case: Case, data: dict[str, Any], *args: Any) -> Any:
    return client.post(reverse(f"cases:{name}", args=[case.pk, *args]), data)


def _saved(response: Any, case: Case) -> None:
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response.url == reverse("cases:detail", args=[case.pk])


def _refused(response: Any, field_id: str, message: str) -> str:
    """The page again (400), the error next to its field and linked from the summary."""
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-summary"' in page
    assert f'href="#{field_id}"' in page, page[:4000]
    assert message in page
    return page


@pytest.fixture(autouse=True)
def _policy(world: World) -> None:
    from shouhu.cases.models import CasePolicy

    CasePolicy.objects.get_or_create(organisation=world.orgs["swo"])


def test_every_stage_action_saves_and_says_so(world: World) -> None:
    case = _case(world)
    client = _client(world.socialworker)
    response = _post(client, "move", case, {"move-to": "assessment", "move-version": case.version})
    _saved(response, case)
    page = client.get(response.url).content.decode()
    assert "Saved: the case moved on." in page
    case.refresh_from_db()
    assert case.stage == "assessment"

    refused = _post(client, "close", case, {"close-version": case.version, "close-outcome": ""})
    _refused(refused, "id_close-outcome", "This field is required.")
    assert 'href="#id_close-reason"' in refused.content.decode()
    case.refresh_from_db()
    assert case.stage == "assessment"
    policy = case.organisation.case_policy
    policy.closure_needs_approval = False
    policy.save()
    _saved(
        _post(
            client,
            "close",
            case,
            {"close-version": case.version, "close-outcome": "moved_away", "close-reason": "left"},
        ),
        case,
    )
    case.refresh_from_db()
    assert case.stage == "closed" and case.outcome == "moved_away"

    _refused(
        _post(client, "reopen", case, {"reopen-version": case.version, "reopen-reason": ""}),
        "id_reopen-reason",
        "This field is required.",
    )
    _saved(
        _post(client, "reopen", case, {"reopen-version": case.version, "reopen-reason": "back"}),
        case,
    )
    case.refresh_from_db()
    assert case.stage == "assessment"


def test_a_stale_page_saves_nothing(world: World) -> None:
    case = _case(world, "assessment")
    client = _client(world.socialworker)
    stale = case.version - 1
    response = client.post(
        reverse("cases:goal_add", args=[case.pk]),
        {"goal-version": stale, "goal-domain": "safety", "goal-description": "g"},
        follow=True,
    )
    assert "Reload it" in response.content.decode()
    assert not Goal.objects.filter(description="g").exists()


def test_approval_is_given_and_sent_back_on_the_page(world: World) -> None:
    case = _case(world, "assessment")
    members.member_add(actor=world.socialworker, case=case, user=world.counselor, role="counsellor")
    case = stages.close(
        actor=world.socialworker, case=case, version=case.version, outcome="goals_met", reason="ok"
    )
    approval = case.approvals.get(decided_at__isnull=True)
    page = _client(world.supervisor).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-testid="approve"' in page and 'data-testid="send-back"' in page
    supervisor = _client(world.supervisor)
    data = {"approval-approval": approval.pk, "approval-approve": "0", "approval-note": ""}
    _refused(_post(supervisor, "approval", case, data), "id_approval-note", "Say what must change")
    _saved(
        _post(supervisor, "approval", case, {**data, "approval-note": "talk to the mother"}), case
    )
    approval.refresh_from_db()
    assert approval.approved is False and approval.note == "talk to the mother"
    case.refresh_from_db()
    case = stages.close(
        actor=world.socialworker, case=case, version=case.version, outcome="goals_met", reason="ok"
    )
    again = case.approvals.get(decided_at__isnull=True)
    _saved(
        _post(
            supervisor, "approval", case, {"approval-approval": again.pk, "approval-approve": "1"}
        ),
        case,
    )
    case.refresh_from_db()
    assert case.stage == "closed"
    # A decided approval cannot be decided again.
    response = _post(
        supervisor, "approval", case, {"approval-approval": again.pk, "approval-approve": "1"}
    )
    assert response.status_code in (400, 404)


def test_plan_actions_on_the_page(world: World) -> None:
    case = _case(world, "assessment")
    client = _client(world.socialworker)
    _refused(
        _post(client, "goal_add", case, {"goal-version": case.version, "goal-domain": "x"}),
        "id_goal-domain",
        "Select a valid choice",
    )
    _saved(
        _post(
            client,
            "goal_add",
            case,
            {"goal-version": case.version, "goal-domain": "safety", "goal-description": "safe"},
        ),
        case,
    )
    case.refresh_from_db()
    goal = case.goals.get()
    prefix = f"action-{goal.pk}"
    bad = _post(
        client,
        "action_add",
        case,
        {f"{prefix}-version": case.version, f"{prefix}-owner": "family", f"{prefix}-due_on": "x"},
        goal.pk,
    )
    _refused(bad, f"id_{prefix}-description", "This field is required.")
    assert f'href="#id_{prefix}-due_on"' in bad.content.decode()
    _saved(
        _post(
            client,
            "action_add",
            case,
            {
                f"{prefix}-version": case.version,
                f"{prefix}-description": "call every Sunday",
                f"{prefix}-owner": "family",
                f"{prefix}-due_on": clock.today().isoformat(),
            },
            goal.pk,
        ),
        case,
    )
    action = PlanAction.objects.get(goal=goal)
    case.refresh_from_db()
    _saved(
        _post(client, "action_done", case, {f"done-{action.pk}-version": case.version}, action.pk),
        case,
    )
    action.refresh_from_db()
    assert action.status == "done"
    # Another case's goal is not this case's.
    other = intakes.case_open(
        actor=world.counselor, child=world.children["b1"], channel="service", reason="y"
    )
    assert isinstance(other, Case)
    counselor = _client(world.counselor)
    assert _post(counselor, "action_add", other, {}, goal.pk).status_code == 404


def test_review_on_the_page(world: World) -> None:
    case = _case(world, "review")
    goal = case.goals.get()
    client = _client(world.socialworker)
    _refused(
        _post(
            client,
            "review",
            case,
            {"review-version": case.version, f"review-status_{goal.pk}": "?"},
        ),
        f"id_review-status_{goal.pk}",
        "Select a valid choice",
    )
    _saved(
        _post(
            client,
            "review",
            case,
            {
                "review-version": case.version,
                f"review-status_{goal.pk}": "partly",
                f"review-note_{goal.pk}": "calls most weeks",
            },
        ),
        case,
    )
    goal.refresh_from_db()
    assert goal.status == "partly" and goal.review_note == "calls most weeks"


def test_services_tasks_and_notes_on_the_page(world: World) -> None:
    case = _case(world, "services")
    client = _client(world.socialworker)
    service = {
        "service-version": case.version,
        "service-service_type": "counselling",
        "service-delivered_on": "",
        "service-minutes": "0",
        "service-participants": "1",
        "service-provider": case.organisation_id,
    }
    bad = _post(client, "service_add", case, service)
    _refused(bad, "id_service-delivered_on", "This field is required.")
    assert 'href="#id_service-minutes"' in bad.content.decode()
    service.update({"service-delivered_on": clock.today().isoformat(), "service-minutes": "45"})
    _saved(_post(client, "service_add", case, service), case)
    assert ServiceRecord.objects.get(case=case).minutes == 45
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Counselling" in page or "counselling" not in page  # the name, never the code

    _refused(
        _post(client, "task_add", case, {"task-kind": "call", "task-title": "ring"}),
        "id_task-due_on",
        "This field is required.",
    )
    _saved(
        _post(
            client,
            "task_add",
            case,
            {"task-kind": "call", "task-title": "ring", "task-due_on": clock.today().isoformat()},
        ),
        case,
    )
    task = Task.objects.get(case=case, title="ring")
    _saved(_post(client, "task_done", case, {f"task-{task.pk}-note": "rang"}, task.pk), case)
    task.refresh_from_db()
    assert task.done_at is not None

    _refused(_post(client, "note_add", case, {"note-text": ""}), "id_note-text", "required")
    _saved(_post(client, "note_add", case, {"note-text": "grandmother is better"}), case)
    assert CaseNote.objects.filter(case=case).count() == 1


def test_people_conferences_referrals_and_transfers_on_the_page(world: World) -> None:
    case = _case(world, "services")
    client = _client(world.socialworker)
    _saved(
        _post(
            client,
            "member_add",
            case,
            {"member-person": world.volunteer.pk, "member-role": "volunteer"},
        ),
        case,
    )
    _saved(_post(client, "member_remove", case, {}, world.volunteer.pk), case)
    assert not CaseMember.objects.get(case=case, user=world.volunteer).active

    _refused(
        _post(client, "conference_add", case, {"conference-held_on": "2026-02-30"}),
        "id_conference-held_on",
        "Enter a valid date",
    )
    _saved(
        _post(
            client,
            "conference_add",
            case,
            {
                "conference-held_on": clock.today().isoformat(),
                "conference-organisations": [case.organisation_id],
                "conference-decisions": "school meets the family",
            },
        ),
        case,
    )
    assert Conference.objects.get(case=case).decisions == "school meets the family"

    resource = Resource.objects.create(name="县医院心理科", kind="health", place_id=COUNTY)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-testid="external-form"' in page
    _refused(
        _post(client, "external_add", case, {"external-resource": resource.pk}),
        "id_external-reason",
        "This field is required.",
    )
    _saved(
        _post(
            client,
            "external_add",
            case,
            {"external-resource": resource.pk, "external-reason": "sleep problems"},
        ),
        case,
    )
    referral = ExternalReferral.objects.get(case=case)
    _refused(
        _post(
            client,
            "external_outcome",
            case,
            {f"referral-{referral.pk}-outcome": "pending"},
            referral.pk,
        ),
        f"id_referral-{referral.pk}-outcome",
        "Select a valid choice",
    )
    _saved(
        _post(
            client,
            "external_outcome",
            case,
            {f"referral-{referral.pk}-outcome": "received"},
            referral.pk,
        ),
        case,
    )
    referral.refresh_from_db()
    assert referral.outcome == "received"

    transfer = {
        "transfer-kind": "referral",
        "transfer-to": world.orgs["clinic"].pk,
        "transfer-reason": "needs a counsellor",
    }
    refused = _post(client, "transfer_add", case, transfer)
    assert refused.status_code == 400
    assert (
        "needs the guardian&#x27;s consent to sharing" in refused.content.decode()
    )  # the rule, on top
    assert not Transfer.objects.exists()
    consents.processing_basis_record(
        actor=world.director_a,
        child=case.child,
        purpose="sharing",
        basis="statutory_duty",
        note="未保法第11条",
    )
    _saved(_post(client, "transfer_add", case, transfer), case)
    assert Transfer.objects.get(case=case).to_organisation == world.orgs["clinic"]


def test_readers_and_strangers_cannot_post_actions(world: World) -> None:
    case = _case(world)
    data = {"note-text": "x"}
    assert _post(_client(world.teacher_a), "note_add", case, data).status_code == 404
    assert _post(_client(world.supervisor), "note_add", case, data).status_code == 403
    assert not CaseNote.objects.exists()


def test_a_get_on_an_action_address_goes_to_the_case_page(world: World) -> None:
    case = _case(world, "assessment")
    goal = plan.goal_add(
        actor=world.socialworker, case=case, version=case.version, domain="safety", description="g"
    )
    client = _client(world.socialworker)
    response = client.get(reverse("cases:action_add", args=[case.pk, goal.pk]))
    assert response.status_code == 302 and response.url == reverse("cases:detail", args=[case.pk])


def test_the_refused_form_in_chinese(world: World) -> None:
    case = _case(world)
    response = _post(_client(world.socialworker, "zh-hans"), "note_add", case, {"note-text": ""})
    page = response.content.decode()
    assert response.status_code == 400 and "此项为必填项" in page and "需要改正" in page


def test_a_supervisor_sees_every_decision_waiting_with_its_age(world: World) -> None:
    case = _case(world, "assessment")
    stages.close(
        actor=world.socialworker, case=case, version=case.version, outcome="goals_met", reason="ok"
    )
    consents.processing_basis_record(
        actor=world.director_b,
        child=world.children["b1"],
        purpose="sharing",
        basis="statutory_duty",
        note="未保法第11条",
    )
    intakes.intake_create(
        actor=world.teacher_b,
        child=world.children["b1"],
        channel="school_referral",
        reason="absent",
        organisation=world.orgs["swo"],
    )
    supervisor = _client(world.supervisor)
    page = supervisor.get(reverse("cases:decisions")).content.decode()
    assert 'data-testid="decision-approval"' in page and 'data-testid="decision-intake"' in page
    assert "Approval of the closure" in page and "0 days" in page
    assert 'data-testid="decisions-link"' in page
    worker = _client(world.socialworker).get(reverse("cases:decisions")).content.decode()
    assert 'data-testid="decision-approval"' not in worker  # nobody approves their own
    teacher = _client(world.teacher_a).get(reverse("cases:decisions")).content.decode()
    assert "Nothing is waiting for your decision." in teacher


def test_the_technology_envoys_menu_offers_only_what_they_use(world: World) -> None:
    client = _client(world.techenvoy)
    start = client.get(reverse("children:list"))
    assert start.status_code == 302 and start.url == reverse("reunion:tickets")
    page = client.get(reverse("reunion:tickets")).content.decode()
    nav = page.split('aria-label="Main"')[1].split("</nav>")[0]
    for hidden in ("Children", "Worklist", "Alerts", "Reports", "Cases"):
        assert f">{hidden}<" not in nav, hidden
    assert "Reunions" in nav and "Inbox" in nav


def test_the_api_offers_the_pages_case_actions_with_the_same_rules(world: World) -> None:
    from tests.test_api_cases import Api

    case = _case(world, "services")
    api = Api("socialworker")
    base = f"/api/v1/cases/{case.pk}"
    note = api.post(f"{base}/notes", {"text": "奶奶好多了"})
    assert note.status_code == 201, note.content
    assert CaseNote.objects.filter(case=case).count() == 1
    assert api.post(f"{base}/notes", {"text": ""}).status_code == 400
    conference = api.post(
        f"{base}/conferences",
        {
            "held_on": clock.today().isoformat(),
            "organisations": [case.organisation_id],
            "participants": [world.users["admin"].pk],  # nobody the case could have: refused
            "decisions": "school meets the family",
        },
    )
    assert conference.status_code == 400 and "participants" in conference.json()["errors"]
    conference = api.post(
        f"{base}/conferences",
        {
            "held_on": clock.today().isoformat(),
            "organisations": [case.organisation_id],
            "participants": [world.socialworker.pk],
            "decisions": "school meets the family",
        },
    )
    assert conference.status_code == 201, conference.content
    assert conference.json()["decisions"] == "school meets the family"
    resource = Resource.objects.create(name="县医院心理科", kind="health", place_id=COUNTY)
    referral = api.post(f"{base}/referrals", {"resource": resource.pk, "reason": "sleep"})
    assert referral.status_code == 201, referral.content
    rid = referral.json()["id"]
    outcome = api.post(f"{base}/referrals/{rid}/outcome", {"outcome": "received"})
    assert outcome.status_code == 200 and outcome.json()["outcome"] == "received"
    transfer = {"kind": "referral", "to": world.orgs["clinic"].pk, "reason": "counselling"}
    refused = api.post(f"{base}/transfers", transfer)
    assert refused.status_code == 400 and "consent" in refused.json()["errors"]
    consents.processing_basis_record(
        actor=world.director_a,
        child=case.child,
        purpose="sharing",
        basis="statutory_duty",
        note="未保法第11条",
    )
    made = api.post(f"{base}/transfers", transfer)
    assert made.status_code == 201, made.content
    clinic = Api("counselor")
    waiting = clinic.client.get("/api/v1/transfers", **clinic.headers).json()
    assert [t["id"] for t in waiting] == [made.json()["id"]]
    decided = clinic.post(f"/api/v1/transfers/{made.json()['id']}/decision", {"accept": True})
    assert decided.status_code == 200, decided.content
    assert decided.json()["transfer"]["status"] == "accepted" and decided.json()["case"]
    assert Api("teacher_a").post(f"{base}/notes", {"text": "x"}).status_code == 404


def test_the_api_decides_approvals_reopens_and_changes_members_as_the_page(world: World) -> None:
    from tests.test_api_cases import Api

    case = _case(world, "assessment")
    members.member_add(actor=world.socialworker, case=case, user=world.counselor, role="counsellor")
    case = stages.close(
        actor=world.socialworker, case=case, version=case.version, outcome="goals_met", reason="ok"
    )
    approval = case.approvals.get(decided_at__isnull=True)
    base = f"/api/v1/cases/{case.pk}"
    supervisor = Api("supervisor")
    url = f"{base}/approvals/{approval.pk}/decision"
    refused = supervisor.post(url, {"approve": False, "note": ""})
    assert refused.status_code == 400 and "note" in refused.json()["errors"]
    assert supervisor.post(url, {"approve": True}).status_code == 200
    case.refresh_from_db()
    assert case.stage == "closed"
    assert supervisor.post(url, {"approve": True}).status_code in (400, 409)  # decided already
    worker = Api("socialworker")
    assert worker.post(f"{base}/reopen", {"version": case.version, "reason": ""}).status_code == 400
    reopened = worker.post(f"{base}/reopen", {"version": case.version, "reason": "奶奶去世"})
    assert reopened.status_code == 200, reopened.content
    case.refresh_from_db()
    assert case.stage != "closed"
    added = worker.post(f"{base}/members", {"user": world.volunteer.pk, "role": "volunteer"})
    assert added.status_code == 201, added.content
    assert case.members.filter(user=world.volunteer, active=True).exists()
    removed = worker.client.delete(f"{base}/members/{world.volunteer.pk}", **worker.headers)
    assert removed.status_code == 200, removed.content
    assert not case.members.filter(user=world.volunteer, active=True).exists()
    assert (
        Api("teacher_a").post(f"{base}/members", {"user": 1, "role": "volunteer"}).status_code
        == 404
    )
