"""The individual service plan: goals by domain with the child's strengths, the actions
toward each (owned by the family, school, community, worker or volunteer), and the review of
the goals at the review stage. Every write carries the case's `version` (`rules.lock_case`)
and moves it on. Those who work on the case write the plan; an action's assignee may also
change its status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.cases.models import (
    ActionStatus,
    Case,
    CaseMember,
    Domain,
    Goal,
    GoalStatus,
    Owner,
    PlanAction,
    Stage,
)
from shouhu.cases.rules import bump_version, check_choice, lock_case, raise_if_any


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
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    case = lock_case(case, version)
    errors: dict[str, list[str]] = {}
    check_choice(errors, "domain", domain, Domain)
    if not description.strip():
        errors["description"] = [_("Describe the goal.")]
    if case.stage in {Stage.INTAKE, Stage.CLOSED}:
        errors.setdefault("__all__", []).append(_("Plan goals after the assessment."))
    raise_if_any(errors)
    goal = Goal.objects.create(
        case=case, domain=domain, description=description.strip(), strengths=strengths.strip()
    )
    bump_version(case)
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
    if not access.may_work(actor, goal.case):
        raise PermissionDenied(_("You do not work on this case."))
    case = lock_case(goal.case, version)
    errors: dict[str, list[str]] = {}
    if status is not None:
        check_choice(errors, "status", status, GoalStatus)
    if description is not None and not description.strip():
        errors["description"] = [_("Describe the goal.")]
    raise_if_any(errors)
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    if status is not None:
        goal.status = status
    if review_note is not None:
        goal.review_note = review_note.strip()
    if description is not None:
        goal.description = description.strip()
    goal.save()
    bump_version(case)
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
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    case = lock_case(case, version)
    errors: dict[str, list[str]] = {}
    goals = {g.pk: g for g in Goal.objects.select_for_update().filter(case=case)}
    if case.stage != Stage.REVIEW:
        errors["__all__"] = [_("Goals are reviewed at the review stage.")]
    if not reviews:
        errors["goals"] = [_("Review at least one goal.")]
    for i, review in enumerate(reviews):
        if review.goal not in goals:
            errors[f"goals.{i}.goal"] = [_("No such goal in this case.")]
        check_choice(errors, f"goals.{i}.status", review.status, GoalStatus)
    raise_if_any(errors)
    for review in reviews:
        goal = goals[review.goal]
        goal.status, goal.review_note = review.status, review.note.strip()
        goal.save(update_fields=["status", "review_note"])
    bump_version(case)
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
    if not access.may_work(actor, goal.case):
        raise PermissionDenied(_("You do not work on this case."))
    case = lock_case(goal.case, version)
    errors: dict[str, list[str]] = {}
    check_choice(errors, "owner", owner, Owner)
    if not description.strip():
        errors["description"] = [_("Describe the action.")]
    if due_on is not None and due_on < case.opened_at.date() - dt.timedelta(days=1):
        errors["due_on"] = [_("The due date is before the case was opened.")]
    if assignee is not None and not (
        access.may_work(assignee, case)
        or CaseMember.objects.filter(case=case, user=assignee, active=True).exists()
    ):
        errors["assignee"] = [_("The assignee is not on the case.")]
    if organisation is not None and not organisation.active:
        errors["organisation"] = [_("This organisation is no longer active.")]
    raise_if_any(errors)
    action = PlanAction.objects.create(
        goal=goal,
        description=description.strip(),
        owner=owner,
        due_on=due_on,
        assignee=assignee,
        organisation=organisation,
    )
    bump_version(case)
    return action


@transaction.atomic
def action_update(*, actor: User, action: PlanAction, version: int, status: str) -> PlanAction:
    case_obj = action.goal.case
    if not access.may_work(actor, case_obj) and action.assignee_id != actor.pk:
        raise PermissionDenied(_("You do not work on this case."))
    case = lock_case(case_obj, version)
    errors: dict[str, list[str]] = {}
    check_choice(errors, "status", status, ActionStatus)
    raise_if_any(errors)
    action.status = status
    action.save(update_fields=["status"])
    bump_version(case)
    return action
