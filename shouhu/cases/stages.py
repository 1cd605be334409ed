"""The course of a case: intake → assessment → plan → services → review (→ services or plan
again) → closed, reopenable; every move a `StageChange`. Moving a plan into services and
closing wait for an approver when the organisation's `CasePolicy` says so.

Who may do what (through the case section of `shouhu.access`):
- move, close and reopen a case: those who work on it (`access.may_work`);
- approve plans and closures (when the organisation's policy asks): the policy's approvers,
  or the township supervisors of the child's place when none are named; nobody approves
  their own request.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.cases.models import Approval, Case, Outcome, Stage, StageChange
from shouhu.cases.rules import bump_version, lock_case, raise_if_any
from shouhu.cases.selectors import has_open_case, policy_of
from shouhu.children.data import ConflictError
from shouhu.lib import clock
from shouhu.notify.services import Message, send
from shouhu.tasks.models import Task, TaskStatus

# Forward moves of an open case; closing and reopening have their own functions.
NEXT = {
    Stage.INTAKE: {Stage.ASSESSMENT},
    Stage.ASSESSMENT: {Stage.PLAN},
    Stage.PLAN: {Stage.SERVICES},
    Stage.SERVICES: {Stage.REVIEW},
    Stage.REVIEW: {Stage.SERVICES, Stage.PLAN},
}


def _enter(case: Case, stage: str, actor: User, now: dt.datetime, note: str = "") -> None:
    case.stage = stage
    StageChange.objects.create(case=case, stage=stage, at=now, by=actor, note=note.strip())


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
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    case = lock_case(case, version)
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
            bump_version(case)
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
        access.approvers(case),
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
    case = lock_case(approval.case, None)
    if actor not in access.approvers(case):
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
        close_now(case, actor, now, approval.outcome, approval.reason)
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
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    case = lock_case(case, version)
    errors: dict[str, list[str]] = {}
    if case.stage == Stage.CLOSED:
        errors["to"] = [_("The case is already closed.")]
    if outcome not in OUTCOMES:
        errors["outcome"] = [_("Choose one of the listed values.")]
    if not reason.strip():
        errors["reason"] = [_("Say why the case closes.")]
    if case.pending_approval:
        errors.setdefault("to", []).append(_("The case is waiting for approval."))
    raise_if_any(errors)
    if policy_of(case.organisation_id).closure_needs_approval:
        _request_approval(case, "closure", actor, now, outcome, reason.strip())
    else:
        close_now(case, actor, now, outcome, reason.strip())
    case.version += 1
    case.save()
    return case


def close_now(case: Case, actor: User, now: dt.datetime, outcome: str, reason: str) -> None:
    """Close at once (no approval asked): the stage, the outcome, and the open follow-ups
    cancelled with the case."""
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
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    case = lock_case(case, version)
    if case.stage != Stage.CLOSED:
        raise ValidationError({"to": [_("Only a closed case can be reopened.")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the case reopens.")]})
    if has_open_case(case.child, case.organisation):
        raise ConflictError(_("This child already has an open case in this organisation."))
    _enter(case, Stage.ASSESSMENT, actor, now, reason)
    case.closed_at, case.outcome, case.closure_reason = None, "", ""
    case.version += 1
    case.save()
    return case
