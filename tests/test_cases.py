"""The case process: intake from every channel, acceptance with consent, stages with
approvals, plan with optimistic versioning, services, follow-ups with a controlled clock,
transfers between organisations, access per role, and the coordination worklist."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from shouhu import access
from shouhu.cases import (
    delivery,
    followups,
    intakes,
    members,
    notes,
    plan,
    referrals,
    selectors,
    stages,
)
from shouhu.cases.models import (
    Case,
    CaseMember,
    CasePolicy,
    Intake,
    IntakeStatus,
    ServiceRecord,
    Stage,
    Transfer,
)
from shouhu.children import consents, editing
from shouhu.children.data import ConflictError
from shouhu.children.models import Child
from shouhu.notify.models import Notification
from shouhu.screening.models import RiskLevel
from shouhu.tasks import selectors as task_selectors
from shouhu.tasks.models import Task
from tests.world import NOW, TODAY, World

pytestmark = pytest.mark.django_db


def _open(world: World, child: Child | None = None, **kw: object) -> Case:
    case = intakes.case_open(
        actor=world.socialworker,
        child=child or world.children["a1"],
        channel=str(kw.pop("channel", "service")),
        reason="father away, grandmother ill",
        now=NOW,
        **kw,  # type: ignore[arg-type]
    )
    assert isinstance(case, Case)
    return case


def _allow_sharing(world: World, child: Child) -> None:
    director = (
        world.users["director_a"]
        if child.residence_id.endswith("204")
        else world.users["director_b"]
    )
    consents.processing_basis_record(
        actor=director, child=child, purpose="sharing", basis="statutory_duty", note="未保法第11条"
    )


# --- intake -----------------------------------------------------------------------------


def test_worker_opens_a_case_in_their_organisation(world: World) -> None:
    case = _open(world)
    assert case.stage == Stage.INTAKE and case.lead == world.socialworker
    assert case.organisation == world.orgs["swo"]
    assert case.intake is not None and case.intake.status == IntakeStatus.ACCEPTED
    assert CaseMember.objects.filter(case=case, user=world.socialworker).exists()
    visit = Task.objects.get(case=case)
    assert visit.recurring and visit.assignee == world.socialworker
    level = RiskLevel.objects.get(child=case.child)
    assert visit.due_on == TODAY + dt.timedelta(days=level.interval_days)


def test_a_second_open_case_in_the_same_organisation_is_a_conflict(world: World) -> None:
    _open(world)
    with pytest.raises(ConflictError):
        _open(world)
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    "channel",
    [
        "family_referral",
        "school_referral",
        "community_referral",
        "self",
        "hotline",
        "screening_alert",
        "mandatory_report",
    ],
)
@pytest.mark.usefixtures("sharing_allowed")
def test_referral_from_a_school_waits_for_the_organisation(world: World, channel: str) -> None:
    child = world.children["b1"]
    intake = intakes.intake_create(
        actor=world.users["teacher_b"],
        child=child,
        channel=channel,
        reason="stopped coming to school",
        urgency="high",
        consent="guardian",
        organisation=world.orgs["swo"],
        now=NOW,
    )
    assert intake.status == IntakeStatus.PENDING
    assert Notification.objects.filter(user=world.socialworker, category="case_intake").exists()
    assert child not in access.children_visible_to(world.socialworker)
    case = intakes.intake_decide(actor=world.socialworker, intake=intake, accept=True, now=NOW)
    assert case is not None and case.urgency == "high"
    assert child in access.children_visible_to(world.socialworker)  # the assignment opens it


def test_referral_without_consent_or_legal_basis_cannot_be_made_or_accepted(
    world: World,
) -> None:
    """One rule (`rules.referral_basis`): a referral to another organisation needs the
    guardian's sharing consent or a legal basis on record, the child's own request or an
    emergency; it is checked again on acceptance (a consent withdrawn in between)."""
    child = world.children["b1"]
    referral = {
        "actor": world.users["teacher_b"],
        "child": child,
        "channel": "school_referral",
        "reason": "bruises",
        "organisation": world.orgs["swo"],
    }
    with pytest.raises(ValidationError) as refused:
        intakes.intake_create(**referral, consent="guardian")  # a word is not a record
    assert "consent" in refused.value.message_dict
    assert not Intake.objects.exists()
    crisis = intakes.intake_create(**{**referral, "urgency": "crisis"})
    assert crisis.consent == "legal_basis"
    own = intakes.intake_create(
        **{**referral, "channel": "self", "organisation": world.orgs["clinic"]}
    )
    assert own.consent == "child"
    father = child.household.members.filter(is_guardian=True).first()
    assert father is not None
    consent = consents.consent_record(
        actor=world.users["teacher_b"],
        child=child,
        given_by=father,
        given_on=TODAY,
        version="v1",
        scopes=["sharing"],
    )
    intakes.intake_decide(actor=world.socialworker, intake=crisis, accept=False, reason="dup")
    intake = intakes.intake_create(**referral)
    assert intake.consent == "guardian"
    consents.consent_withdraw(actor=world.users["teacher_b"], consent=consent)
    with pytest.raises(ValidationError) as refused:
        intakes.intake_decide(actor=world.socialworker, intake=intake, accept=True)
    assert "consent" in refused.value.message_dict
    _allow_sharing(world, child)
    assert intakes.intake_decide(actor=world.socialworker, intake=intake, accept=True)


@pytest.mark.usefixtures("sharing_allowed")
def test_decline_needs_a_reason_and_only_the_receiver_or_supervisor_decides(
    world: World,
) -> None:
    intake = intakes.intake_create(
        actor=world.users["teacher_b"],
        child=world.children["b1"],
        channel="school_referral",
        reason="x",
        consent="guardian",
        organisation=world.orgs["swo"],
    )
    with pytest.raises(PermissionDenied):
        intakes.intake_decide(actor=world.users["teacher_b"], intake=intake, accept=True)
    with pytest.raises(ValidationError):
        intakes.intake_decide(actor=world.supervisor, intake=intake, accept=False)
    intakes.intake_decide(
        actor=world.supervisor, intake=intake, accept=False, reason="served by the school"
    )
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.DECLINED and intake.decided_by == world.supervisor


def test_volunteers_cannot_refer(world: World) -> None:
    with pytest.raises(PermissionDenied):
        intakes.intake_create(
            actor=world.volunteer,
            child=world.children["a1"],
            channel="service",
            reason="x",
            organisation=world.orgs["swo"],
        )


# --- stages and approvals ---------------------------------------------------------------


def _to_plan(world: World, case: Case) -> Case:
    case = stages.transition(
        actor=world.socialworker,
        case=case,
        to="assessment",
        version=case.version,
        now=NOW + dt.timedelta(hours=1),
    )
    return stages.transition(
        actor=world.socialworker,
        case=case,
        to="plan",
        version=case.version,
        now=NOW + dt.timedelta(hours=2),
    )


def test_stages_in_order_with_plan_approval(world: World) -> None:
    case = _open(world)
    with pytest.raises(ValidationError):
        stages.transition(actor=world.socialworker, case=case, to="services", version=1)
    case = _to_plan(world, case)
    with pytest.raises(ValidationError):  # no goals yet
        stages.transition(actor=world.socialworker, case=case, to="services", version=case.version)
    plan.goal_add(
        actor=world.socialworker,
        case=case,
        version=case.version,
        domain="family_bonds",
        description="weekly video call with father",
    )
    case.refresh_from_db()
    case = stages.transition(
        actor=world.socialworker,
        case=case,
        to="services",
        version=case.version,
        now=NOW + dt.timedelta(hours=3),
    )
    assert case.stage == Stage.PLAN and case.pending_approval == "plan"
    approval = case.approvals.get()
    assert access.approvers(case) == [world.supervisor]
    with pytest.raises(PermissionDenied):
        stages.approval_decide(actor=world.socialworker, approval=approval, approve=True)
    case = stages.approval_decide(
        actor=world.supervisor, approval=approval, approve=True, now=NOW + dt.timedelta(hours=4)
    )
    assert case.stage == Stage.SERVICES and not case.pending_approval
    assert [c.stage for c in case.stage_changes.all()] == [
        "intake",
        "assessment",
        "plan",
        "services",
    ]


def test_without_approval_policy_the_plan_moves_at_once_and_closure_is_direct(
    world: World,
) -> None:
    CasePolicy.objects.create(
        organisation=world.orgs["swo"], plan_needs_approval=False, closure_needs_approval=False
    )
    case = _to_plan(world, _open(world))
    plan.goal_add(
        actor=world.socialworker,
        case=case,
        version=case.version,
        domain="self_concept",
        description="joins the drawing group",
    )
    case.refresh_from_db()
    case = stages.transition(
        actor=world.socialworker, case=case, to="services", version=case.version
    )
    assert case.stage == Stage.SERVICES
    with pytest.raises(ValidationError):
        stages.close(
            actor=world.socialworker, case=case, version=case.version, outcome="x", reason=""
        )
    case = stages.close(
        actor=world.socialworker,
        case=case,
        version=case.version,
        outcome="goals_met",
        reason="back at school, weekly calls",
    )
    assert case.stage == Stage.CLOSED and case.outcome == "goals_met"
    # Closing cancels what was still open (done, with the closure as the note).
    assert not Task.objects.filter(case=case, status="open").exists()
    cancelled = Task.objects.get(case=case, status="cancelled")
    assert cancelled.done_at is not None and cancelled.done_by == world.socialworker
    case = stages.reopen(
        actor=world.socialworker, case=case, version=case.version, reason="grandmother died"
    )
    assert case.stage == Stage.ASSESSMENT and case.closed_at is None


def test_closure_waits_for_approval(world: World) -> None:
    case = _open(world)
    case = stages.close(
        actor=world.socialworker,
        case=case,
        version=case.version,
        outcome="moved_away",
        reason="family moved to Hangzhou",
    )
    assert case.stage == Stage.INTAKE and case.pending_approval == "closure"
    approval = case.approvals.get()
    with pytest.raises(ValidationError):
        stages.approval_decide(actor=world.supervisor, approval=approval, approve=False)
    case = stages.approval_decide(actor=world.supervisor, approval=approval, approve=True)
    assert case.stage == Stage.CLOSED and case.outcome == "moved_away"


# --- plan and versioning ------------------------------------------------------------------


def test_second_save_from_a_stale_read_is_refused_and_nothing_is_lost(world: World) -> None:
    case = _to_plan(world, _open(world))
    read_by_both = case.version
    plan.goal_add(
        actor=world.socialworker,
        case=case,
        version=read_by_both,
        domain="peer_network",
        description="first worker's goal",
    )
    with pytest.raises(ConflictError, match=f"{read_by_both + 1}.*{read_by_both}"):
        plan.goal_add(
            actor=world.socialworker,
            case=case,
            version=read_by_both,
            domain="safety",
            description="second worker's goal",
        )
    assert [g.description for g in case.goals.all()] == ["first worker's goal"]


def test_actions_assigned_across_the_network(world: World) -> None:
    case = _to_plan(world, _open(world))
    goal = plan.goal_add(
        actor=world.socialworker,
        case=case,
        version=case.version,
        domain="school_community",
        description="stays in school",
    )
    case.refresh_from_db()
    for owner in ("family", "school", "community", "social_worker", "volunteer"):
        plan.action_add(
            actor=world.socialworker,
            goal=goal,
            version=case.version,
            description=f"{owner} does",
            owner=owner,
            due_on=TODAY + dt.timedelta(days=14),
        )
        case.refresh_from_db()
    view = selectors.present_case(world.socialworker, case)
    assert {a["owner"] for a in view["goals"][0]["actions"]} == {
        "family",
        "school",
        "community",
        "social_worker",
        "volunteer",
    }
    with pytest.raises(ValidationError):
        plan.action_add(
            actor=world.socialworker,
            goal=goal,
            version=case.version,
            description="x",
            owner="grandma",
        )


# --- services and follow-ups --------------------------------------------------------------


def test_service_records_count_person_times_and_are_validated(world: World) -> None:
    case = _open(world)
    record = delivery.service_record(
        actor=world.socialworker,
        case=case,
        service_type="education_support",
        delivered_on=TODAY,
        minutes=90,
        participants=3,
    )
    assert record.provider == world.orgs["swo"] and record.child == case.child
    with pytest.raises(ValidationError) as bad:
        delivery.service_record(
            actor=world.socialworker,
            case=case,
            service_type="magic",
            delivered_on=TODAY + dt.timedelta(days=3),
            minutes=0,
        )
    assert set(bad.value.message_dict) == {"service_type", "delivered_on", "minutes"}


def test_recurring_visit_follows_the_risk_interval(world: World) -> None:
    case = _open(world)
    Child.objects.filter(pk=case.child_id).update(living_arrangement="alone")
    from shouhu.screening import risk

    risk.recompute(case.child, now=NOW)  # red: weekly
    visit = Task.objects.get(case=case)
    following = followups.task_done(actor=world.socialworker, task=visit, note="seen", now=NOW)
    assert following is not None and following.due_on == TODAY + dt.timedelta(days=7)
    assert (
        followups.task_done(
            actor=world.socialworker,
            task=followups.task_add(
                actor=world.socialworker,
                case=case,
                kind="task",
                title="call school",
                due_on=TODAY,
            ),
            now=NOW,
        )
        is None
    )


def test_reminder_before_due_and_supervisor_told_when_overdue(world: World) -> None:
    case = _open(world)
    Task.objects.filter(case=case).delete()
    task = followups.task_add(
        actor=world.socialworker,
        case=case,
        kind="call",
        title="call the father",
        due_on=TODAY + dt.timedelta(days=2),
    )
    assert followups.remind(NOW) == (0, 0)
    assert followups.remind(NOW + dt.timedelta(days=1)) == (1, 0)
    assert followups.remind(NOW + dt.timedelta(days=1)) == (0, 0)  # once
    assert followups.remind(NOW + dt.timedelta(days=3)) == (0, 1)
    assert followups.remind(NOW + dt.timedelta(days=4)) == (0, 0)
    assert Notification.objects.filter(user=world.socialworker, category="case_reminder").exists()
    assert Notification.objects.filter(user=world.supervisor, category="case_overdue").exists()
    overdue = list(
        task_selectors.tasks_for(
            world.socialworker, status="overdue", today=TODAY + dt.timedelta(days=3)
        )
    )
    assert overdue == [task]
    assert list(
        task_selectors.tasks_for(
            world.supervisor, status="overdue", today=TODAY + dt.timedelta(days=3)
        )
    ) == [task]


# --- access -------------------------------------------------------------------------------


def test_another_organisation_cannot_see_the_case_until_referred(world: World) -> None:
    from django.http import Http404

    case = _open(world)
    other = world.users["socialworker_dest"]
    assert case not in access.cases_visible_to(other)
    with pytest.raises(Http404):
        access.get_case_for_user(other, case.pk, purpose="test")
    with pytest.raises(ValidationError) as no_consent:
        referrals.transfer_request(
            actor=world.socialworker,
            case=case,
            to=world.orgs["swo2"],
            kind="referral",
            reason="family moved to Bao'an",
        )
    assert "consent" in no_consent.value.message_dict
    _allow_sharing(world, case.child)
    transfer = referrals.transfer_request(
        actor=world.socialworker,
        case=case,
        to=world.orgs["swo2"],
        kind="transfer",
        reason="family moved to Bao'an",
    )
    with pytest.raises(PermissionDenied):
        referrals.transfer_decide(actor=world.socialworker, transfer=transfer, accept=True)
    new = referrals.transfer_decide(actor=other, transfer=transfer, accept=True, now=NOW)
    assert new is not None and new.organisation == world.orgs["swo2"] and new.lead == other
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED and case.outcome == "transferred"
    assert new in access.cases_visible_to(other)
    assert case.child in access.children_visible_to(other)
    assert Transfer.objects.get().status == IntakeStatus.ACCEPTED


def test_volunteer_on_the_case_sees_it_without_notes(world: World) -> None:
    case = _open(world)
    notes.note_add(actor=world.socialworker, case=case, text="grandmother drinks")
    members.member_add(actor=world.socialworker, case=case, user=world.volunteer, role="volunteer")
    assert case in access.cases_visible_to(world.volunteer)
    view = selectors.present_case(world.volunteer, case)
    assert "notes" not in view and not view["may_work"]
    with pytest.raises(PermissionDenied):
        notes.note_add(actor=world.volunteer, case=case, text="x")
    worker_view = selectors.present_case(world.socialworker, case)
    assert worker_view["notes"][0]["text"] == "grandmother drinks"
    assert "grandmother" not in case.notes.get().text_enc  # encrypted at rest


def test_teacher_and_other_village_director_see_no_case(world: World) -> None:
    _open(world)
    for persona in ("teacher_b", "director_b", "counselor"):
        assert not access.cases_visible_to(world.users[persona]).exists()
    assert access.cases_visible_to(world.supervisor).exists()  # follows the township


# --- coordination -------------------------------------------------------------------------


def test_coordination_finds_gaps_duplicates_overdue_and_caseloads(world: World) -> None:
    a1, b1 = world.children["a1"], world.children["b1"]
    for child in (a1, b1):
        Child.objects.filter(pk=child.pk).update(living_arrangement="alone")
        from shouhu.screening import risk

        risk.recompute(child, now=NOW)  # both red
    case = _open(world)  # a1 has a case, no service yet
    board = selectors.coordination(world.supervisor, today=TODAY)
    gaps = {g["child"]: g for g in board["gaps"]}
    assert gaps[b1.pk]["open_case"] is False
    assert gaps[a1.pk]["open_case"] is True and gaps[a1.pk]["served_recently"] is False
    from shouhu.cases.models import ServiceType

    clinic = ServiceRecord.objects.create(  # recorded elsewhere three days earlier
        child=a1,
        residence=a1.residence_id,
        service_type=ServiceType.objects.get(code="counselling"),
        provider=world.orgs["clinic"],
        delivered_on=TODAY - dt.timedelta(days=3),
        minutes=50,
        recorded_by=world.counselor,
    )
    ours = delivery.service_record(
        actor=world.socialworker,
        case=case,
        service_type="counselling",
        delivered_on=TODAY,
        minutes=45,
    )
    clinic.refresh_from_db()
    assert ours.duplicate and clinic.duplicate  # flagged when the second was recorded
    board = selectors.coordination(world.supervisor, today=TODAY)
    assert a1.pk not in {g["child"] for g in board["gaps"]}
    assert board["duplicates"] == [
        {"child": a1.pk, "child_name": a1.name, "service_type": "counselling", "providers": 2}
    ]
    Task.objects.filter(case=case).update(due_on=TODAY - dt.timedelta(days=2))
    board = selectors.coordination(world.supervisor, today=TODAY)
    assert board["overdue_by_worker"] == [
        {"worker": world.socialworker.pk, "name": "socialworker", "overdue": 1}
    ]
    assert board["caseload"][0]["open_cases"] == 1
    outsider = selectors.coordination(world.users["director_dest"], today=TODAY)
    for key in ("gaps", "duplicates", "overdue_by_worker", "caseload", "double_aid", "unaided"):
        assert outsider[key] == [], key
    assert outsider["double_aid_count"] == outsider["unaided_count"] == 0


def test_support_network_lists_everyone_serving_the_child(world: World) -> None:
    case = _open(world)
    members.member_add(actor=world.socialworker, case=case, user=world.volunteer, role="volunteer")
    network = selectors.support_network(world.users["director_a"], case.child, detailed=True)
    assert network["cases"][0]["organisation"] == world.orgs["swo"].name
    assert {m["role"] for m in network["cases"][0]["members"]} == {"worker", "volunteer"}
    assert Intake.objects.count() == 1


def test_bulk_duplicate_flagging_needs_two_providers_within_the_window(world: World) -> None:
    from shouhu.cases.models import ServiceType

    kind = ServiceType.objects.get(code="material_aid")
    a1 = world.children["a1"]

    def record(org: str, days_ago: int) -> ServiceRecord:
        return ServiceRecord.objects.create(
            child=a1,
            service_type=kind,
            provider=world.orgs[org],
            delivered_on=TODAY - dt.timedelta(days=days_ago),
            minutes=30,
            recorded_by=world.socialworker,
        )

    same_org = [record("swo", 1), record("swo", 5)]
    far = record("clinic", 80)  # outside 30 days of the others
    assert delivery.flag_all_duplicates(since=TODAY - dt.timedelta(days=365)) == 0
    near = record("clinic", 20)
    assert delivery.flag_all_duplicates(since=TODAY - dt.timedelta(days=365)) == 3
    for row in (*same_org, near):
        row.refresh_from_db()
        assert row.duplicate
    far.refresh_from_db()
    assert not far.duplicate


def test_a_child_who_moves_takes_the_area_columns_along(world: World) -> None:
    from tests.world import VILLAGE_B

    case = _open(world)
    child = case.child
    assert case.residence == child.residence_id
    editing.child_update(
        actor=world.supervisor,
        child=child,
        version=child.version,
        changes={"residence_code": VILLAGE_B},
    )
    case.refresh_from_db()
    assert case.residence == VILLAGE_B
    assert set(Task.objects.filter(case=case).values_list("residence", flat=True)) == {VILLAGE_B}
