"""The case process as typed service functions (each a transaction).

Who may do what (checked here, through the case section of `shouhu.access`):
- open an intake: anyone who may see the child's file, except volunteers;
- accept or decline an intake: a social worker or counsellor of the receiving organisation,
  or a township supervisor of the child's place (who names the lead worker: one of the
  organisation's social workers or counsellors, `lead_candidates`);
- work on a case (stages, plan, services, tasks, notes): the organisation's social workers
  and counsellors, and the workers added to the case (`member_add`: people serving the
  child's area, `member_candidates`; `member_remove` keeps them on record, inactive);
- read a case referred or transferred to one's organisation: see `access.cases_visible_to`;
- approve plans and closures (when the organisation's policy asks): the policy's approvers,
  or the township supervisors of the child's place when none are named.

Plans and stages carry the case's `version`: a save from a stale read is refused with
`ConflictError` (409 over the API) and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from shouhu import access as rules
from shouhu.accounts.models import Organisation, Role, User
from shouhu.cases.models import (
    ActionStatus,
    Approval,
    Case,
    CaseMember,
    CaseNote,
    CasePolicy,
    CaseRole,
    Channel,
    Conference,
    ConsentBasis,
    Domain,
    ExternalReferral,
    Goal,
    GoalStatus,
    Intake,
    IntakeStatus,
    Outcome,
    Owner,
    PlanAction,
    ReferralOutcome,
    Resource,
    ServiceRecord,
    ServiceType,
    Stage,
    StageChange,
    Transfer,
    TransferKind,
    Urgency,
)
from shouhu.children import assignments, consents
from shouhu.children.data import ConflictError
from shouhu.children.models import Child, ChildAssignment
from shouhu.lib import clock, protect
from shouhu.notify.services import Message, send
from shouhu.tasks.models import CASE_KINDS, Task, TaskKind, TaskStatus

# Forward moves of an open case; closing and reopening have their own functions.
NEXT = {
    Stage.INTAKE: {Stage.ASSESSMENT},
    Stage.ASSESSMENT: {Stage.PLAN},
    Stage.PLAN: {Stage.SERVICES},
    Stage.SERVICES: {Stage.REVIEW},
    Stage.REVIEW: {Stage.SERVICES, Stage.PLAN},
}
DEFAULT_INTERVAL_DAYS = 30
REFERRER_MAX = 100  # Intake.referrer_name


def _choice(errors: dict[str, list[str]], name: str, value: str, choices: Any) -> None:
    if value not in choices.values:
        errors.setdefault(name, []).append(_("Choose one of the listed values."))


def _check(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _locked(case: Case, version: int | None) -> Case:
    """The case row, locked; a stale `version` is a conflict (nothing is written)."""
    current = Case.objects.select_for_update().get(pk=case.pk)
    if version is not None and current.version != version:
        raise ConflictError(
            _(
                "Someone else changed this case since you opened it (version %(theirs)s, "
                "yours %(yours)s). Reload it; your changes were not saved."
            )
            % {"theirs": current.version, "yours": version}
        )
    return current


def _bump(case: Case) -> None:
    case.version += 1
    case.save(update_fields=["version"])


def _enter(case: Case, stage: str, actor: User, now: dt.datetime, note: str = "") -> None:
    case.stage = stage
    StageChange.objects.create(case=case, stage=stage, at=now, by=actor, note=note.strip())


def has_open_case(child: Child, organisation: Organisation) -> bool:
    return (
        Case.objects.filter(child=child, organisation=organisation)
        .exclude(stage=Stage.CLOSED)
        .exists()
    )


def policy_of(organisation_id: int) -> CasePolicy:
    policy = CasePolicy.objects.filter(organisation_id=organisation_id).first()
    return policy or CasePolicy(organisation_id=organisation_id)


# ---------------------------------------------------------------- intake


SHARING_REFUSED = gettext_lazy(
    "Referring the child to another organisation shares the child's file: it needs the "
    "guardian's consent to sharing (record it on the child's page), a recorded legal basis, "
    "the child's own request or an emergency."
)


def referral_basis(child: Child, *, channel: str, urgency: str) -> str:
    """The one rule for sharing a child's file with another organisation (a referral, its
    acceptance, a transfer): the guardian's sharing consent or a legal basis on record
    (`consents.sharing_allowed`, the rule the child's page shows), the child's own request,
    or an emergency (PIPL Art. 13(4)). The basis as a `ConsentBasis` value; "" = none."""
    if consents.sharing_consent(child) is not None:
        return ConsentBasis.GUARDIAN
    if consents.sharing_allowed(child) or urgency == Urgency.CRISIS:
        return ConsentBasis.LEGAL
    if channel == Channel.SELF:
        return ConsentBasis.CHILD
    return ""


@transaction.atomic
def intake_create(
    *,
    actor: User,
    child: Child,
    channel: str,
    reason: str,
    urgency: str = Urgency.NORMAL,
    consent: str = ConsentBasis.NONE,
    organisation: Organisation | None = None,
    referrer_name: str = "",
    now: dt.datetime | None = None,
) -> Intake:
    """A referral of the child to `organisation` (default: the actor's own). The basis for
    sharing the child's file is derived from the records (`referral_basis`); `consent` is
    checked as a choice and otherwise not taken: nobody's word replaces a recorded consent."""
    now = now or clock.now()
    if not rules.may_refer(actor, child):
        raise PermissionDenied(_("You may not refer this child."))
    errors: dict[str, list[str]] = {}
    _choice(errors, "channel", channel, Channel)
    _choice(errors, "urgency", urgency, Urgency)
    _choice(errors, "consent", consent, ConsentBasis)
    if not reason.strip():
        errors["reason"] = [_("Say why the child needs help.")]
    if len(referrer_name.strip()) > REFERRER_MAX:
        errors["referrer_name"] = [_("At most 100 characters.")]
    if organisation is None:
        organisation = rules.own_case_organisation(actor)
        if organisation is None:
            errors["organisation"] = [_("Choose the organisation that should take the case.")]
    elif not rules.takes_cases(organisation):
        errors["organisation"] = [_("This organisation does not take cases.")]
    assert organisation is not None or errors
    basis = referral_basis(child, channel=channel, urgency=urgency)
    if organisation is not None and not basis and not rules.works_in(actor, organisation):
        errors.setdefault("consent", []).append(str(SHARING_REFUSED))
    _check(errors)
    assert organisation is not None
    if has_open_case(child, organisation):
        raise ConflictError(_("This child already has an open case in this organisation."))
    intake = Intake.objects.create(
        child=child,
        organisation=organisation,
        channel=channel,
        reason=reason.strip(),
        urgency=urgency,
        consent=basis or ConsentBasis.NONE,
        referred_by=actor,
        referrer_name=referrer_name.strip(),
        created_at=now,
    )
    if not rules.works_in(actor, organisation):
        send(
            rules.intake_deciders(intake),
            lambda: Message(
                "case_intake",
                _("New referral waiting for your decision"),
                _("Urgency: %(urgency)s") % {"urgency": Urgency(urgency).label},
                f"/cases/intakes/{intake.pk}/",
            ),
            now=now,
        )
    return intake


@transaction.atomic
def intake_decide(
    *,
    actor: User,
    intake: Intake,
    accept: bool,
    reason: str = "",
    lead: User | None = None,
    now: dt.datetime | None = None,
) -> Case | None:
    """Accept (opening a case with `lead`; without one the decider, when they may lead, else
    a field error on `lead`) or decline with a reason. Accepting a referral from outside the
    organisation checks `referral_basis` again (a consent may have been withdrawn since)."""
    now = now or clock.now()
    intake = Intake.objects.select_for_update().get(pk=intake.pk)
    if not rules.may_decide_intake(actor, intake):
        raise PermissionDenied(_("Only the receiving organisation or a supervisor decides."))
    if intake.status != IntakeStatus.PENDING:
        raise ValidationError(_("This intake has already been decided."))
    if not accept:
        if not reason.strip():
            raise ValidationError({"reason": [_("Say why the intake is declined.")]})
        intake.status = IntakeStatus.DECLINED
        intake.decided_by, intake.decided_at = actor, now
        intake.decision_reason = reason.strip()
        intake.save()
        return None
    from_outside = not rules.works_in(intake.referred_by, intake.organisation)
    if from_outside and not referral_basis(
        intake.child, channel=intake.channel, urgency=intake.urgency
    ):
        raise ValidationError({"consent": [SHARING_REFUSED]})
    lead = _lead(lead, actor, intake.organisation)
    intake.status = IntakeStatus.ACCEPTED
    intake.decided_by, intake.decided_at = actor, now
    intake.decision_reason = reason.strip()
    intake.save()
    return _open_case(intake=intake, lead=lead, actor=actor, now=now)


def lead_candidates(organisation: Organisation) -> list[User]:
    """Who may lead a case of the organisation: its social workers and counsellors."""
    return sorted(
        {u.pk: u for u in rules.members_with_case_roles(organisation)}.values(),
        key=lambda u: (u.get_full_name() or u.username, u.pk),
    )


def _lead(lead: User | None, actor: User, organisation: Organisation) -> User:
    """The chosen lead worker; without a choice the decider, if they may lead."""
    if lead is None:
        if rules.works_in(actor, organisation):
            return actor
        raise ValidationError(
            {
                "lead": [
                    _("Choose the lead worker: a social worker or counsellor of %(organisation)s.")
                    % {"organisation": organisation.name}
                ]
            }
        )
    if not lead.is_active or not rules.works_in(lead, organisation):
        raise ValidationError(
            {
                "lead": [
                    _("The lead worker must be a social worker or counsellor of %(organisation)s.")
                    % {"organisation": organisation.name}
                ]
            }
        )
    return lead


def _open_case(*, intake: Intake, lead: User, actor: User, now: dt.datetime) -> Case:
    if (
        Case.objects.filter(child=intake.child, organisation=intake.organisation)
        .exclude(stage=Stage.CLOSED)
        .exists()
    ):
        raise ConflictError(_("This child already has an open case in this organisation."))
    try:
        with transaction.atomic():
            case = Case.objects.create(
                child=intake.child,
                organisation=intake.organisation,
                intake=intake,
                lead=lead,
                urgency=intake.urgency,
                opened_at=now,
                residence=intake.child.residence_id,
            )
    except IntegrityError:  # a concurrent open of the same case
        raise ConflictError(
            _("This child already has an open case in this organisation.")
        ) from None
    StageChange.objects.create(case=case, stage=Stage.INTAKE, at=now, by=actor)
    CaseMember.objects.create(case=case, user=lead, role=_role_of(lead, case), added_at=now)
    _assign(case, lead, now)
    Task.objects.create(
        child=case.child,
        case=case,
        residence=case.residence,
        kind=TaskKind.VISIT,
        title=gettext_noop("Home visit"),  # kept in English, shown in the reader's language
        assignee=lead,
        due_on=timezone.localtime(now).date() + dt.timedelta(days=interval_days(case.child)),
        recurring=True,
        created_at=now,
    )
    return case


def _role_of(user: User, case: Case) -> str:
    return CaseRole.COUNSELLOR if rules.is_counsellor(user, case.organisation) else CaseRole.WORKER


def _assign(case: Case, user: User, now: dt.datetime, kind: str = "case_worker") -> None:
    """Open the child to the worker (DESIGN: an assignment makes the child visible)."""
    if not ChildAssignment.objects.filter(
        child=case.child, organisation=case.organisation, user=user, kind=kind, active=True
    ).exists():
        assignments.assignment_create(
            actor=None,
            child=case.child,
            organisation=case.organisation,
            kind=kind,
            user=user,
            started_on=timezone.localtime(now).date(),
        )


def case_open(
    *,
    actor: User,
    child: Child,
    channel: str,
    reason: str,
    urgency: str = Urgency.NORMAL,
    consent: str = ConsentBasis.NONE,
    organisation: Organisation | None = None,
    referrer_name: str = "",
    now: dt.datetime | None = None,
) -> Case | Intake:
    """`POST /cases`: a worker opens a case in their own organisation at once; naming
    another organisation makes a pending intake for it to decide."""
    with transaction.atomic():
        intake = intake_create(
            actor=actor,
            child=child,
            channel=channel,
            reason=reason,
            urgency=urgency,
            consent=consent,
            organisation=organisation,
            referrer_name=referrer_name,
            now=now,
        )
        if not rules.works_in(actor, intake.organisation):
            return intake
        case = intake_decide(actor=actor, intake=intake, accept=True, now=now)
        assert case is not None
        return case


def interval_days(child: Child) -> int:
    """Days between follow-up visits: the child's risk level sets it."""
    from shouhu.screening.models import RiskLevel

    level = RiskLevel.objects.filter(child=child).only("interval_days").first()
    return level.interval_days if level else DEFAULT_INTERVAL_DAYS


# ---------------------------------------------------------------- stages and approvals


@transaction.atomic
def transition(
    *,
    actor: User,
    case: Case,
    to: str,
    version: int,
    note: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """Move an open case to the next stage. Moving a plan into services needs the plan
    approved when the organisation's policy says so: the move then waits for the approver."""
    now = now or clock.now()
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    case = _locked(case, version)
    allowed = NEXT.get(Stage(case.stage), set()) if case.stage != Stage.CLOSED else set()
    if to not in allowed:
        raise ValidationError(
            {
                "to": [
                    _("A case at %(stage)s cannot move to %(to)s.")
                    % {"stage": Stage(case.stage).label, "to": to}
                ]
            }
        )
    if case.pending_approval:
        raise ValidationError(_("The case is waiting for approval."))
    if to == Stage.SERVICES and case.stage == Stage.PLAN:
        if not case.goals.exists():
            raise ValidationError({"to": [_("The plan has no goals yet.")]})
        if policy_of(case.organisation_id).plan_needs_approval:
            _request_approval(case, "plan", actor, now)
            _bump(case)
            return case
    _enter(case, to, actor, now, note)
    case.version += 1
    case.save(update_fields=["stage", "version"])
    return case


def _request_approval(
    case: Case, subject: str, actor: User, now: dt.datetime, outcome: str = "", reason: str = ""
) -> Approval:
    approval = Approval.objects.create(
        case=case,
        subject=subject,
        requested_by=actor,
        requested_at=now,
        outcome=outcome,
        reason=reason,
    )
    case.pending_approval = subject
    case.save(update_fields=["pending_approval"])
    send(
        rules.approvers(case),
        lambda: Message(
            "case_approval",
            _("A case is waiting for your approval"),
            "",
            f"/cases/{case.pk}/",
        ),
        now=now,
    )
    return approval


@transaction.atomic
def approval_decide(
    *,
    actor: User,
    approval: Approval,
    approve: bool,
    note: str = "",
    now: dt.datetime | None = None,
) -> Case:
    now = now or clock.now()
    approval = Approval.objects.select_for_update().get(pk=approval.pk)
    case = _locked(approval.case, None)
    if actor not in rules.approvers(case):
        raise PermissionDenied(_("You are not an approver of this case."))
    if approval.decided_at is not None:
        raise ValidationError(_("This approval has already been decided."))
    if actor.pk == approval.requested_by_id:
        raise PermissionDenied(_("Nobody approves their own request."))
    if not approve and not note.strip():
        raise ValidationError({"note": [_("Say what must change.")]})
    approval.decided_by, approval.decided_at = actor, now
    approval.approved, approval.note = approve, note.strip()
    approval.save()
    case.pending_approval = ""
    if approve and approval.subject == "plan":
        _enter(case, Stage.SERVICES, actor, now, _("Plan approved"))
    elif approve and approval.subject == "closure":
        _close(case, actor, now, approval.outcome, approval.reason)
    case.version += 1
    case.save()
    return case


OUTCOMES = tuple(Outcome.values)


@transaction.atomic
def close(
    *,
    actor: User,
    case: Case,
    version: int,
    outcome: str,
    reason: str,
    now: dt.datetime | None = None,
) -> Case:
    """Close with an outcome and reason (after the organisation's approver agrees, when its
    policy says so). Open follow-ups end with the case."""
    now = now or clock.now()
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    case = _locked(case, version)
    errors: dict[str, list[str]] = {}
    if case.stage == Stage.CLOSED:
        errors["to"] = [_("The case is already closed.")]
    if outcome not in OUTCOMES:
        errors["outcome"] = [_("Choose one of the listed values.")]
    if not reason.strip():
        errors["reason"] = [_("Say why the case closes.")]
    if case.pending_approval:
        errors.setdefault("to", []).append(_("The case is waiting for approval."))
    _check(errors)
    if policy_of(case.organisation_id).closure_needs_approval:
        _request_approval(case, "closure", actor, now, outcome, reason.strip())
    else:
        _close(case, actor, now, outcome, reason.strip())
    case.version += 1
    case.save()
    return case


def _close(case: Case, actor: User, now: dt.datetime, outcome: str, reason: str) -> None:
    _enter(case, Stage.CLOSED, actor, now, reason)
    case.closed_at, case.outcome, case.closure_reason = now, outcome, reason
    Task.objects.filter(case=case, status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED, done_at=now, done_by=actor, done_note=_("Case closed")
    )


@transaction.atomic
def reopen(
    *, actor: User, case: Case, version: int, reason: str, now: dt.datetime | None = None
) -> Case:
    now = now or clock.now()
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    case = _locked(case, version)
    if case.stage != Stage.CLOSED:
        raise ValidationError({"to": [_("Only a closed case can be reopened.")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the case reopens.")]})
    if (
        Case.objects.filter(child=case.child, organisation=case.organisation)
        .exclude(stage=Stage.CLOSED)
        .exists()
    ):
        raise ConflictError(_("This child already has an open case in this organisation."))
    _enter(case, Stage.ASSESSMENT, actor, now, reason)
    case.closed_at, case.outcome, case.closure_reason = None, "", ""
    case.version += 1
    case.save()
    return case


# ---------------------------------------------------------------- members


# Which membership role lets a person take each role on a case (volunteers: anyone who may
# be a candidate; a volunteer never becomes a worker, who reads the case notes).
MEMBER_ROLES: dict[str, frozenset[str]] = {
    CaseRole.WORKER: frozenset({Role.SOCIAL_WORKER}),
    CaseRole.COUNSELLOR: frozenset({Role.COUNSELOR}),
    CaseRole.SUPERVISOR: frozenset({Role.SUPERVISOR}),
    CaseRole.VOLUNTEER: frozenset(
        {Role.VOLUNTEER, Role.SOCIAL_WORKER, Role.COUNSELOR, Role.TEACHER}
    ),
}


def member_candidates(case: Case) -> list[User]:
    """Who may be added to a case: the organisation's social workers and counsellors, and
    the volunteers, social workers, counsellors and supervisors of organisations over the
    child's place (its village, township, county, city or province)."""
    people = {u.pk: u for u in rules.members_with_case_roles(case.organisation)}
    for user in rules.members_over(
        case.child, [Role.VOLUNTEER, Role.SOCIAL_WORKER, Role.COUNSELOR, Role.SUPERVISOR]
    ):
        people.setdefault(user.pk, user)
    return sorted(people.values(), key=lambda u: (u.get_full_name() or u.username, u.pk))


def _roles_of(user: User) -> set[str]:
    return set(user.memberships.filter(active=True).values_list("role", flat=True))


@transaction.atomic
def member_add(
    *, actor: User, case: Case, user: User, role: str, now: dt.datetime | None = None
) -> CaseMember:
    """Add a worker or volunteer to the case with their role (a removed one comes back)."""
    now = now or clock.now()
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    errors: dict[str, list[str]] = {}
    _choice(errors, "role", role, CaseRole)
    if CaseMember.objects.filter(case=case, user=user, active=True).exists():
        errors["user"] = [_("Already on the case.")]
    elif user.pk not in {u.pk for u in member_candidates(case)}:
        errors["user"] = [
            _("Only workers and volunteers serving the child's area can join the case.")
        ]
    elif role in MEMBER_ROLES and not (_roles_of(user) & MEMBER_ROLES[role]):
        errors["role"] = [_("This person cannot take that role on a case.")]
    if case.stage == Stage.CLOSED:
        errors.setdefault("__all__", []).append(_("The case is closed."))
    _check(errors)
    member, _created = CaseMember.objects.update_or_create(
        case=case, user=user, defaults={"role": role, "active": True, "added_at": now}
    )
    kind = "volunteer" if role == CaseRole.VOLUNTEER else "case_worker"
    _assign(case, user, now, kind=kind)
    return member


@transaction.atomic
def member_remove(
    *, actor: User, case: Case, user: User, now: dt.datetime | None = None
) -> CaseMember:
    """Take someone off the case (kept, inactive, for the record). The lead stays; the
    assignment that opened the child to them ends unless another open case needs it."""
    now = now or clock.now()
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    member = CaseMember.objects.select_for_update().filter(case=case, user=user, active=True)
    found = member.first()
    if found is None:
        raise ValidationError({"user": [_("Not on the case.")]})
    if user.pk == case.lead_id:
        raise ValidationError({"user": [_("The lead worker cannot be removed.")]})
    found.active = False
    found.save(update_fields=["active"])
    still = (
        CaseMember.objects.filter(
            user=user, active=True, case__child=case.child, case__organisation=case.organisation
        )
        .exclude(case__stage=Stage.CLOSED)
        .exists()
    )
    if not still:
        ChildAssignment.objects.filter(
            child=case.child,
            organisation=case.organisation,
            user=user,
            kind__in=["case_worker", "volunteer"],
            active=True,
        ).update(active=False, ended_on=timezone.localtime(now).date())
        rules.forget_assignments()  # a queryset update sends no signal
    return found


# ---------------------------------------------------------------- plan


@transaction.atomic
def goal_add(
    *,
    actor: User,
    case: Case,
    version: int,
    domain: str,
    description: str,
    strengths: str = "",
) -> Goal:
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    case = _locked(case, version)
    errors: dict[str, list[str]] = {}
    _choice(errors, "domain", domain, Domain)
    if not description.strip():
        errors["description"] = [_("Describe the goal.")]
    if case.stage in {Stage.INTAKE, Stage.CLOSED}:
        errors.setdefault("__all__", []).append(_("Plan goals after the assessment."))
    _check(errors)
    goal = Goal.objects.create(
        case=case, domain=domain, description=description.strip(), strengths=strengths.strip()
    )
    _bump(case)
    return goal


@transaction.atomic
def goal_update(
    *,
    actor: User,
    goal: Goal,
    version: int,
    status: str | None = None,
    review_note: str | None = None,
    description: str | None = None,
) -> Goal:
    if not rules.may_work(actor, goal.case):
        raise PermissionDenied(_("You do not work on this case."))
    case = _locked(goal.case, version)
    errors: dict[str, list[str]] = {}
    if status is not None:
        _choice(errors, "status", status, GoalStatus)
    if description is not None and not description.strip():
        errors["description"] = [_("Describe the goal.")]
    _check(errors)
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    if status is not None:
        goal.status = status
    if review_note is not None:
        goal.review_note = review_note.strip()
    if description is not None:
        goal.description = description.strip()
    goal.save()
    _bump(case)
    return goal


@dataclass(frozen=True)
class GoalReview:
    goal: int
    status: str
    note: str = ""


@transaction.atomic
def review_record(*, actor: User, case: Case, version: int, reviews: list[GoalReview]) -> Case:
    """The review against the plan's goals, at the review stage: each goal's status and
    what was seen, saved together (one version)."""
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    case = _locked(case, version)
    errors: dict[str, list[str]] = {}
    goals = {g.pk: g for g in Goal.objects.select_for_update().filter(case=case)}
    if case.stage != Stage.REVIEW:
        errors["__all__"] = [_("Goals are reviewed at the review stage.")]
    if not reviews:
        errors["goals"] = [_("Review at least one goal.")]
    for i, review in enumerate(reviews):
        if review.goal not in goals:
            errors[f"goals.{i}.goal"] = [_("No such goal in this case.")]
        _choice(errors, f"goals.{i}.status", review.status, GoalStatus)
    _check(errors)
    for review in reviews:
        goal = goals[review.goal]
        goal.status, goal.review_note = review.status, review.note.strip()
        goal.save(update_fields=["status", "review_note"])
    _bump(case)
    return case


@transaction.atomic
def action_add(
    *,
    actor: User,
    goal: Goal,
    version: int,
    description: str,
    owner: str,
    due_on: dt.date | None = None,
    assignee: User | None = None,
    organisation: Organisation | None = None,
) -> PlanAction:
    if not rules.may_work(actor, goal.case):
        raise PermissionDenied(_("You do not work on this case."))
    case = _locked(goal.case, version)
    errors: dict[str, list[str]] = {}
    _choice(errors, "owner", owner, Owner)
    if not description.strip():
        errors["description"] = [_("Describe the action.")]
    if due_on is not None and due_on < case.opened_at.date() - dt.timedelta(days=1):
        errors["due_on"] = [_("The due date is before the case was opened.")]
    if assignee is not None and not (
        rules.may_work(assignee, case)
        or CaseMember.objects.filter(case=case, user=assignee, active=True).exists()
    ):
        errors["assignee"] = [_("The assignee is not on the case.")]
    if organisation is not None and not organisation.active:
        errors["organisation"] = [_("This organisation is no longer active.")]
    _check(errors)
    action = PlanAction.objects.create(
        goal=goal,
        description=description.strip(),
        owner=owner,
        due_on=due_on,
        assignee=assignee,
        organisation=organisation,
    )
    _bump(case)
    return action


@transaction.atomic
def action_update(*, actor: User, action: PlanAction, version: int, status: str) -> PlanAction:
    case_obj = action.goal.case
    if not rules.may_work(actor, case_obj) and action.assignee_id != actor.pk:
        raise PermissionDenied(_("You do not work on this case."))
    case = _locked(case_obj, version)
    errors: dict[str, list[str]] = {}
    _choice(errors, "status", status, ActionStatus)
    _check(errors)
    action.status = status
    action.save(update_fields=["status"])
    _bump(case)
    return action


# ---------------------------------------------------------------- services and follow-ups


@transaction.atomic
def service_record(
    *,
    actor: User,
    case: Case,
    service_type: str,
    delivered_on: dt.date,
    minutes: int,
    participants: int = 1,
    provider: Organisation | None = None,
    note: str = "",
) -> ServiceRecord:
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    errors: dict[str, list[str]] = {}
    kind = ServiceType.objects.filter(code=service_type, active=True).first()
    if kind is None:
        errors["service_type"] = [_("Choose a service from the catalogue.")]
    if delivered_on > clock.today():
        errors["delivered_on"] = [_("The date is in the future.")]
    if delivered_on < case.opened_at.date() - dt.timedelta(days=1):
        errors["delivered_on"] = [_("The date is before the case was opened.")]
    if not 1 <= minutes <= 24 * 60:
        errors["minutes"] = [_("Between 1 minute and 24 hours.")]
    if not 1 <= participants <= 1000:
        errors["participants"] = [_("Between 1 and 1,000.")]
    if case.stage == Stage.CLOSED:
        errors.setdefault("__all__", []).append(_("The case is closed."))
    _check(errors)
    assert kind is not None
    record = ServiceRecord.objects.create(
        case=case,
        child=case.child,
        residence=case.child.residence_id,
        service_type=kind,
        provider=provider or case.organisation,
        delivered_on=delivered_on,
        minutes=minutes,
        participants=participants,
        recorded_by=actor,
        note=note.strip(),
    )
    _flag_duplicates(record)
    return record


DUPLICATE_DAYS = 30


def _flag_duplicates(record: ServiceRecord) -> None:
    """Another organisation gave the child the same service within `DUPLICATE_DAYS`: both
    records are flagged for the coordination board."""
    window = dt.timedelta(days=DUPLICATE_DAYS)
    others = ServiceRecord.objects.filter(
        child_id=record.child_id,
        service_type_id=record.service_type_id,
        delivered_on__gte=record.delivered_on - window,
        delivered_on__lte=record.delivered_on + window,
    ).exclude(provider_id=record.provider_id)
    if others.exists():
        others.filter(duplicate=False).update(duplicate=True)
        record.duplicate = True
        record.save(update_fields=["duplicate"])


def flag_all_duplicates(*, since: dt.date) -> int:
    """Flag, set-based, every service since `since` that another organisation duplicated
    within the window (after a bulk load; `service_record` flags as it goes)."""
    from django.db.models import Exists, OuterRef

    window = dt.timedelta(days=DUPLICATE_DAYS)
    other = ServiceRecord.objects.filter(
        child_id=OuterRef("child_id"),
        service_type_id=OuterRef("service_type_id"),
        delivered_on__gte=OuterRef("delivered_on") - window,
        delivered_on__lte=OuterRef("delivered_on") + window,
    ).exclude(provider_id=OuterRef("provider_id"))
    return (
        ServiceRecord.objects.filter(delivered_on__gte=since, duplicate=False)
        .filter(Exists(other))
        .update(duplicate=True)
    )


def child_moved(child: Child) -> None:
    """Keep the area columns of the child's cases and services in step with the registry
    (`tasks` keeps its follow-ups' own)."""
    Case.objects.filter(child=child).exclude(residence=child.residence_id).update(
        residence=child.residence_id
    )
    ServiceRecord.objects.filter(child=child).exclude(residence=child.residence_id).update(
        residence=child.residence_id
    )


@transaction.atomic
def task_add(
    *,
    actor: User,
    case: Case,
    kind: str,
    title: str,
    due_on: dt.date,
    assignee: User | None = None,
    recurring: bool = False,
) -> Task:
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    assignee = assignee or actor
    errors: dict[str, list[str]] = {}
    if kind not in CASE_KINDS:
        errors["kind"] = [_("Choose a visit, a call or a task.")]
    if not title.strip():
        errors["title"] = [_("Say what is to be done.")]
    if recurring and kind == TaskKind.TASK:
        errors["recurring"] = [_("Only visits and calls recur.")]
    if not rules.may_work(assignee, case):
        errors["assignee"] = [_("The assignee does not work on this case.")]
    if case.stage == Stage.CLOSED:
        errors.setdefault("__all__", []).append(_("The case is closed."))
    _check(errors)
    return Task.objects.create(
        child=case.child,
        case=case,
        residence=case.residence,
        kind=kind,
        title=title.strip()[:200],
        due_on=due_on,
        assignee=assignee,
        recurring=recurring,
        created_at=clock.now(),
    )


@transaction.atomic
def task_done(
    *, actor: User, task: Task, note: str = "", now: dt.datetime | None = None
) -> Task | None:
    """Mark a follow-up done; a recurring one schedules the next on the interval the
    child's risk level sets (returned)."""
    now = now or clock.now()
    task = Task.objects.select_related("case").select_for_update(of=("self",)).get(pk=task.pk)
    case = task.case
    if case is None:
        raise ValidationError(_("This follow-up does not belong to a case."))
    if task.assignee_id != actor.pk and not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    if task.status != TaskStatus.OPEN:
        raise ValidationError(_("This follow-up is already done."))
    task.status, task.done_at, task.done_by, task.done_note = (
        TaskStatus.DONE,
        now,
        actor,
        note.strip(),
    )
    task.save(update_fields=["status", "done_at", "done_by", "done_note"])
    if task.recurring and case.is_open:
        return Task.objects.create(
            child_id=task.child_id,
            case=case,
            residence=case.residence,
            kind=task.kind,
            title=task.title,
            assignee=task.assignee,
            due_on=timezone.localtime(now).date() + dt.timedelta(days=interval_days(case.child)),
            recurring=True,
            created_at=now,
        )
    return None


def remind(now: dt.datetime | None = None) -> tuple[int, int]:
    """The periodic job: remind assignees a day before a follow-up is due, and tell the
    case's approvers (supervisors) once it is overdue. Idempotent."""
    now = now or clock.now()
    today = timezone.localtime(now).date()
    reminded = escalated = 0
    soon = Task.objects.filter(
        case__isnull=False,
        status=TaskStatus.OPEN,
        reminded_at__isnull=True,
        due_on__lte=today + dt.timedelta(days=1),
    ).select_related("assignee", "case")
    for task in soon:
        send(
            [task.assignee] if task.assignee else [],
            lambda task=task: Message(  # type: ignore[misc]
                "case_reminder",
                _("Follow-up due %(due)s: %(title)s")
                % {"due": task.due_on, "title": _(task.title)},
                "",
                f"/cases/{task.case_id}/",
            ),
            now=now,
        )
        task.reminded_at = now
        task.save(update_fields=["reminded_at"])
        reminded += 1
    late = Task.objects.filter(
        case__isnull=False, status=TaskStatus.OPEN, escalated_at__isnull=True, due_on__lt=today
    ).select_related("case__child", "assignee")
    for task in late:
        send(
            rules.approvers(task.case) if task.case else [],
            lambda task=task: Message(  # type: ignore[misc]
                "case_overdue",
                _("Overdue follow-up of %(worker)s (due %(due)s)")
                % {"worker": str(task.assignee), "due": task.due_on},
                "",
                f"/cases/{task.case_id}/",
            ),
            now=now,
        )
        task.escalated_at = now
        task.save(update_fields=["escalated_at"])
        escalated += 1
    return reminded, escalated


# ---------------------------------------------------------------- notes, conferences


@transaction.atomic
def note_add(*, actor: User, case: Case, text: str, now: dt.datetime | None = None) -> CaseNote:
    if not rules.may_read_notes(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    if not text.strip():
        raise ValidationError({"text": [_("The note is empty.")]})
    return CaseNote.objects.create(
        case=case,
        author=actor,
        written_at=now or clock.now(),
        text_enc=protect.seal(text.strip()),
    )


@transaction.atomic
def conference_add(
    *,
    actor: User,
    case: Case,
    held_on: dt.date,
    organisations: list[Organisation],
    decisions: str,
    participants: list[User] | None = None,
) -> Conference:
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    errors: dict[str, list[str]] = {}
    if not decisions.strip():
        errors["decisions"] = [_("Record what was decided.")]
    if not organisations:
        errors["organisations"] = [_("Name the organisations that took part.")]
    if held_on > clock.today():
        errors["held_on"] = [_("The date is in the future.")]
    _check(errors)
    conference = Conference.objects.create(
        case=case, held_on=held_on, decisions=decisions.strip(), recorded_by=actor
    )
    conference.organisations.set(organisations)
    conference.participants.set(participants or [])
    return conference


# ---------------------------------------------------------------- referrals and transfers


@transaction.atomic
def external_referral(
    *, actor: User, case: Case, resource: Resource, reason: str, referred_on: dt.date
) -> ExternalReferral:
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why.")]})
    return ExternalReferral.objects.create(
        case=case, resource=resource, reason=reason.strip(), referred_on=referred_on, by=actor
    )


@transaction.atomic
def external_outcome(
    *, actor: User, referral: ExternalReferral, outcome: str, on: dt.date
) -> ExternalReferral:
    if not rules.may_work(actor, referral.case):
        raise PermissionDenied(_("You do not work on this case."))
    errors: dict[str, list[str]] = {}
    _choice(errors, "outcome", outcome, ReferralOutcome)
    _check(errors)
    referral.outcome, referral.outcome_on = outcome, on
    referral.save(update_fields=["outcome", "outcome_on"])
    return referral


@transaction.atomic
def transfer_request(
    *,
    actor: User,
    case: Case,
    to: Organisation,
    kind: str,
    reason: str,
    now: dt.datetime | None = None,
) -> Transfer:
    """Refer (both keep working) or transfer (the case moves) to another organisation in the
    system. Sharing the child's file needs the guardian's sharing consent or a legal basis."""
    now = now or clock.now()
    if not rules.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    errors: dict[str, list[str]] = {}
    _choice(errors, "kind", kind, TransferKind)
    if to.pk == case.organisation_id:
        errors["to"] = [_("Choose another organisation.")]
    elif not rules.takes_cases(to):
        errors["to"] = [_("This organisation does not take cases.")]
    if not reason.strip():
        errors["reason"] = [_("Say why.")]
    if not referral_basis(case.child, channel="", urgency=case.urgency):
        errors["consent"] = [str(SHARING_REFUSED)]
    if case.stage == Stage.CLOSED:
        errors.setdefault("__all__", []).append(_("The case is closed."))
    _check(errors)
    transfer = Transfer.objects.create(
        case=case,
        kind=kind,
        to_organisation=to,
        reason=reason.strip(),
        requested_by=actor,
        requested_at=now,
    )
    send(
        rules.members_with_case_roles(to),
        lambda: Message(
            "case_transfer", _("A case is offered to your organisation"), "", "/cases/intakes/"
        ),
        now=now,
    )
    return transfer


@transaction.atomic
def transfer_decide(
    *,
    actor: User,
    transfer: Transfer,
    accept: bool,
    reason: str = "",
    lead: User | None = None,
    now: dt.datetime | None = None,
) -> Case | None:
    now = now or clock.now()
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if not rules.works_in(actor, transfer.to_organisation):
        raise PermissionDenied(_("Only the receiving organisation decides."))
    if transfer.status != IntakeStatus.PENDING:
        raise ValidationError(_("This has already been decided."))
    transfer.decided_by, transfer.decided_at = actor, now
    transfer.decision_reason = reason.strip()
    if not accept:
        if not reason.strip():
            raise ValidationError({"reason": [_("Say why.")]})
        transfer.status = IntakeStatus.DECLINED
        transfer.save()
        return None
    lead = _lead(lead, actor, transfer.to_organisation)
    old = Case.objects.select_for_update().get(pk=transfer.case_id)
    intake = Intake.objects.create(
        child=old.child,
        organisation=transfer.to_organisation,
        channel=Channel.SERVICE,
        reason=transfer.reason,
        urgency=old.urgency,
        consent=ConsentBasis.LEGAL if not old.intake else old.intake.consent,
        referred_by=transfer.requested_by,
        created_at=now,
        status=IntakeStatus.ACCEPTED,
        decided_by=actor,
        decided_at=now,
    )
    assignments.assignment_create(
        actor=None,
        child=old.child,
        organisation=transfer.to_organisation,
        kind=transfer.kind,
        started_on=timezone.localtime(now).date(),
    )
    new = _open_case(intake=intake, lead=lead, actor=actor, now=now)
    if transfer.kind == TransferKind.TRANSFER and old.stage != Stage.CLOSED:
        _close(old, actor, now, "transferred", transfer.reason)
        old.version += 1
        old.save()
        ChildAssignment.objects.filter(
            child=old.child, organisation=old.organisation, kind="case_worker", active=True
        ).update(active=False, ended_on=timezone.localtime(now).date())
        rules.forget_assignments()  # a queryset update sends no signal
    transfer.status = IntakeStatus.ACCEPTED
    transfer.new_case = new
    transfer.save()
    return new
