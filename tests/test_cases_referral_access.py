"""Access to a case referred or transferred to another organisation (DESIGN.md: a child is
visible through "an accepted referral or transfer with consent"), the child's support
network beyond open cases, and the stage and approval rules not covered elsewhere."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse

from shouhu import access
from shouhu.accounts.models import User
from shouhu.cases import delivery, intakes, notes, plan, referrals, selectors
from shouhu.cases import stages as case_stages
from shouhu.cases.models import Case, CasePolicy, Stage, Transfer, TransferKind
from shouhu.children import consents
from shouhu.children.data import ConflictError
from shouhu.children.models import ChildAssignment
from shouhu.lib import clock
from tests.test_api_cases import Api
from tests.world import DESTINATION, NOW, World, make_user, org

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(user)
    return client


def _fresh(user: User) -> User:
    """The same user without the grants cached on the object."""
    return User.objects.get(pk=user.pk)


def _open(world: World) -> Case:
    case = intakes.case_open(
        actor=world.socialworker,
        child=world.children["a1"],
        channel="service",
        reason="father away",
        now=NOW,
    )
    assert isinstance(case, Case)
    return case


def _allow_sharing(world: World) -> None:
    consents.processing_basis_record(
        actor=world.users["director_a"],
        child=world.children["a1"],
        purpose="sharing",
        basis="statutory_duty",
        note="未保法第11条",
    )


def _with_plan(world: World, case: Case) -> Case:
    CasePolicy.objects.update_or_create(
        organisation=world.orgs["swo"], defaults={"plan_needs_approval": False}
    )
    for stage in ("assessment", "plan"):
        case = case_stages.transition(
            actor=world.socialworker, case=case, to=stage, version=case.version
        )
    plan.goal_add(
        actor=world.socialworker,
        case=case,
        version=case.version,
        domain="family_bonds",
        description="weekly video call with father",
    )
    case.refresh_from_db()
    case = case_stages.transition(
        actor=world.socialworker, case=case, to="services", version=case.version
    )
    delivery.service_record(
        actor=world.socialworker,
        case=case,
        service_type="education_support",
        delivered_on=clock.today(),
        minutes=60,
    )
    notes.note_add(actor=world.socialworker, case=case, text="grandmother drinks")
    return case


# --- 6. a referred case is readable by the receiving organisation ---------------------------


@pytest.mark.parametrize("kind", ["referral", "transfer"])
def test_referred_case_visible_to_the_receiver_only_after_acceptance(
    world: World, kind: str
) -> None:
    case = _with_plan(world, _open(world))
    receiver = world.users["socialworker_dest"]  # organisation B
    third_org = org("第三社工机构", "social_work", DESTINATION)  # organisation C
    third = make_user("socialworker_c", third_org, "social_worker")
    assert case not in access.cases_visible_to(receiver)
    _allow_sharing(world)
    transfer = referrals.transfer_request(
        actor=world.socialworker, case=case, to=world.orgs["swo2"], kind=kind, reason="moved"
    )
    receiver = _fresh(receiver)
    assert case not in access.cases_visible_to(receiver)  # offered, not accepted
    with pytest.raises(Http404):
        access.get_case_for_user(receiver, case.pk, purpose="test")
    new = referrals.transfer_decide(actor=receiver, transfer=transfer, accept=True, now=NOW)
    assert new is not None
    receiver = _fresh(receiver)
    assert case in access.cases_visible_to(receiver) and new in access.cases_visible_to(receiver)
    assert access.get_case_for_user(receiver, case.pk, purpose="test") == case
    third = _fresh(third)
    assert case not in access.cases_visible_to(third)
    assert new not in access.cases_visible_to(third)
    with pytest.raises(Http404):
        access.get_case_for_user(third, case.pk, purpose="test")
    # Read only: the plan, goals and services, never the notes; no changes.
    view = selectors.present_case(receiver, Case.objects.get(pk=case.pk))
    assert view["goals"][0]["description"] == "weekly video call with father"
    assert view["services"][0]["service_type"] == "education_support"
    assert "notes" not in view and view["may_work"] is False
    assert not access.may_work(receiver, case)
    with pytest.raises(PermissionDenied):
        notes.note_add(actor=receiver, case=case, text="x")
    with pytest.raises(PermissionDenied):
        plan.goal_add(
            actor=receiver, case=case, version=case.version, domain="safety", description="x"
        )
    # The new case points back to where it came from.
    origin = selectors.present_case(receiver, new)["referred_from"]
    assert origin == {
        "case": case.pk,
        "organisation": world.orgs["swo"].name,
        "kind": kind,
        "kind_label": TransferKind(kind).label,
    }


def test_declined_referral_opens_nothing(world: World) -> None:
    case = _open(world)
    _allow_sharing(world)
    transfer = referrals.transfer_request(
        actor=world.socialworker, case=case, to=world.orgs["swo2"], kind="referral", reason="x"
    )
    receiver = world.users["socialworker_dest"]
    referrals.transfer_decide(actor=receiver, transfer=transfer, accept=False, reason="full")
    assert case not in access.cases_visible_to(_fresh(receiver))


def test_the_grant_ends_with_the_referral_assignment(world: World) -> None:
    case = _open(world)
    _allow_sharing(world)
    transfer = referrals.transfer_request(
        actor=world.socialworker, case=case, to=world.orgs["swo2"], kind="referral", reason="x"
    )
    receiver = world.users["socialworker_dest"]
    referrals.transfer_decide(actor=receiver, transfer=transfer, accept=True)
    assert case in access.cases_visible_to(_fresh(receiver))
    ChildAssignment.objects.filter(organisation=world.orgs["swo2"], kind="referral").update(
        active=False
    )
    assert case not in access.cases_visible_to(_fresh(receiver))


def test_referred_case_over_the_api_and_the_page(world: World) -> None:
    case = _with_plan(world, _open(world))
    _allow_sharing(world)
    transfer = referrals.transfer_request(
        actor=world.socialworker, case=case, to=world.orgs["swo2"], kind="referral", reason="x"
    )
    api = Api("socialworker_dest")
    assert api.get(f"/api/v1/cases/{case.pk}").status_code == 404
    referrals.transfer_decide(
        actor=world.users["socialworker_dest"], transfer=transfer, accept=True
    )
    body = api.get(f"/api/v1/cases/{case.pk}").json()
    assert body["goals"] and "notes" not in body and body["may_work"] is False
    moved = api.post(
        f"/api/v1/cases/{case.pk}/transitions", {"to": "review", "version": body["version"]}
    )
    assert moved.status_code == 403
    page = _client(world.users["socialworker_dest"]).get(reverse("cases:detail", args=[case.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="read-only"' in html
    assert "grandmother drinks" not in html and 'data-testid="goal-form"' not in html
    assert Transfer.objects.get().status == "accepted"


# --- 7. the support network -----------------------------------------------------------------


def _reunion_site(world: World) -> User:
    from shouhu.reunion.models import Facilitator, Participant, Site

    site = Site.objects.create(
        name="齐山村儿童之家", organisation=world.orgs["village_b"], place_id="341524101205"
    )
    facilitator = make_user("facilitator_b", world.orgs["village_b"], "volunteer")
    facilitator.display_name = "陈老师"
    facilitator.save()
    Facilitator.objects.create(site=site, user=facilitator)
    participant = Participant.objects.create(child=world.children["b1"])
    participant.sites.add(site)
    return facilitator


def test_support_network_without_an_open_case(world: World) -> None:
    _reunion_site(world)
    child = world.children["b1"]
    network = selectors.support_network(world.users["director_b"], child, detailed=False)
    assert network["cases"] == []
    assert network["directors"] == ["director_b"]
    assert network["school"]["name"] == world.orgs["school_b"].name
    assert network["school"]["teachers"] == ["teacher_b"]
    assert network["facilitators"] == [{"name": "陈老师", "site": "齐山村儿童之家"}]
    page = _client(world.users["director_b"]).get(reverse("children:detail", args=[child.pk]))
    html = page.content.decode()
    assert 'data-testid="support-network"' in html
    assert "No open case." in html
    assert "director_b" in html and "teacher_b" in html and "陈老师" in html


def test_support_network_leaves_out_inactive_people(world: World) -> None:
    from shouhu.reunion.models import Facilitator

    _reunion_site(world)
    Facilitator.objects.update(active=False)
    world.users["teacher_b"].memberships.update(active=False)
    network = selectors.support_network(
        world.users["director_b"], world.children["b1"], detailed=False
    )
    assert network["facilitators"] == [] and network["school"]["teachers"] == []
    assert (
        selectors.support_network(world.users["director_c"], world.children["c1"], detailed=False)[
            "school"
        ]
        is None
    )


# --- 8. stages and approvals ----------------------------------------------------------------


def _at_services(world: World) -> Case:
    case = _open(world)
    case = _with_plan(world, case)
    assert case.stage == Stage.SERVICES
    return case


def test_services_to_review_and_back_to_services_or_plan(world: World) -> None:
    case = _at_services(world)
    case = case_stages.transition(
        actor=world.socialworker, case=case, to="review", version=case.version, note="3 months"
    )
    assert case.stage == Stage.REVIEW
    with pytest.raises(ValidationError):
        case_stages.transition(
            actor=world.socialworker, case=case, to="assessment", version=case.version
        )
    case = case_stages.transition(
        actor=world.socialworker, case=case, to="services", version=case.version
    )
    assert case.stage == Stage.SERVICES
    case = case_stages.transition(
        actor=world.socialworker, case=case, to="review", version=case.version
    )
    case = case_stages.transition(
        actor=world.socialworker, case=case, to="plan", version=case.version
    )
    assert case.stage == Stage.PLAN
    stages = list(case.stage_changes.order_by("id").values_list("stage", flat=True))
    assert stages[-5:] == ["services", "review", "services", "review", "plan"]
    assert case.stage_changes.filter(stage="review").first().note == "3 months"  # type: ignore[union-attr]


def test_rejected_plan_stays_in_plan_with_the_note_and_can_be_asked_again(world: World) -> None:
    case = _open(world)
    for stage in ("assessment", "plan"):
        case = case_stages.transition(
            actor=world.socialworker, case=case, to=stage, version=case.version
        )
    plan.goal_add(
        actor=world.socialworker, case=case, version=case.version, domain="safety", description="g"
    )
    case.refresh_from_db()
    case = case_stages.transition(
        actor=world.socialworker, case=case, to="services", version=case.version
    )
    approval = case.approvals.get()
    case = case_stages.approval_decide(
        actor=world.supervisor, approval=approval, approve=False, note="add a school goal"
    )
    approval.refresh_from_db()
    assert approval.approved is False and approval.note == "add a school goal"
    assert case.stage == Stage.PLAN and case.pending_approval == ""
    case = case_stages.transition(
        actor=world.socialworker, case=case, to="services", version=case.version
    )
    assert case.pending_approval == "plan" and case.approvals.count() == 2


def test_approvers_named_in_the_policy_replace_the_township_supervisor(world: World) -> None:
    director = make_user("swo_director", world.orgs["swo"], "social_worker")
    policy = CasePolicy.objects.create(organisation=world.orgs["swo"])
    policy.approvers.add(director)
    case = _open(world)
    assert access.approvers(case) == [director]
    case = case_stages.close(
        actor=world.socialworker, case=case, version=case.version, outcome="other", reason="x"
    )
    approval = case.approvals.get()
    with pytest.raises(PermissionDenied):
        case_stages.approval_decide(actor=world.supervisor, approval=approval, approve=True)
    case = case_stages.approval_decide(actor=director, approval=approval, approve=True)
    assert case.stage == Stage.CLOSED
    director.is_active = False
    director.save()
    assert access.approvers(case) == [world.supervisor]  # nobody active named: the township


def test_a_named_approver_outside_the_case_roles_reads_the_case_while_it_waits(
    world: World,
) -> None:
    """The organisation's director approves plans but holds no case role: the case opens
    for them exactly while a decision waits."""
    director = make_user("swo_head", world.orgs["swo"], "volunteer")
    CasePolicy.objects.create(organisation=world.orgs["swo"]).approvers.add(director)
    case = _open(world)
    assert not access.cases_visible_to(director).filter(pk=case.pk).exists()
    case = case_stages.close(
        actor=world.socialworker, case=case, version=case.version, outcome="other", reason="x"
    )
    assert access.get_case_for_user(director, case.pk, purpose="approve") == case
    case_stages.approval_decide(actor=director, approval=case.approvals.get(), approve=True)
    assert not access.cases_visible_to(director).filter(pk=case.pk).exists()


def test_self_approval_is_refused_for_a_named_approver(world: World) -> None:
    policy = CasePolicy.objects.create(organisation=world.orgs["swo"])
    policy.approvers.add(world.socialworker)
    case = _open(world)
    case = case_stages.close(
        actor=world.socialworker, case=case, version=case.version, outcome="other", reason="x"
    )
    with pytest.raises(PermissionDenied):
        case_stages.approval_decide(
            actor=world.socialworker, approval=case.approvals.get(), approve=True
        )
    case.refresh_from_db()
    assert case.pending_approval == "closure" and case.stage == Stage.INTAKE


def test_a_case_waiting_for_approval_does_not_move(world: World) -> None:
    case = _open(world)
    case = case_stages.transition(
        actor=world.socialworker, case=case, to="assessment", version=case.version
    )
    case = case_stages.close(
        actor=world.socialworker, case=case, version=case.version, outcome="other", reason="x"
    )
    assert case.pending_approval == "closure"
    with pytest.raises(ValidationError):
        case_stages.transition(actor=world.socialworker, case=case, to="plan", version=case.version)
    with pytest.raises(ValidationError):
        case_stages.close(
            actor=world.socialworker, case=case, version=case.version, outcome="other", reason="y"
        )
    case.refresh_from_db()
    assert case.stage == Stage.ASSESSMENT and case.approvals.count() == 1


def test_reopening_conflicts_with_a_newer_open_case(world: World) -> None:
    CasePolicy.objects.create(organisation=world.orgs["swo"], closure_needs_approval=False)
    old = _open(world)
    old = case_stages.close(
        actor=world.socialworker, case=old, version=old.version, outcome="other", reason="x"
    )
    newer = _open(world)
    assert newer.pk != old.pk
    with pytest.raises(ConflictError):
        case_stages.reopen(actor=world.socialworker, case=old, version=old.version, reason="back")
    old.refresh_from_db()
    assert old.stage == Stage.CLOSED
    with pytest.raises(ConflictError):  # and a stale version is a conflict too
        case_stages.reopen(
            actor=world.socialworker, case=old, version=old.version - 1, reason="back"
        )
