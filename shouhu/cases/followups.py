"""A case's follow-ups: visits, calls and tasks, rows of `tasks.Task` with the case set (the
one worklist shows them beside the home visits). Opening a case schedules a recurring home
visit (`intakes.open_from_intake`); a recurring follow-up done schedules the next on the
interval the child's risk level sets; `remind` (an hourly job) tells the assignee a day
ahead and the approvers once overdue."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.cases.models import Case, Stage
from shouhu.cases.rules import raise_if_any
from shouhu.cases.selectors import interval_days
from shouhu.lib import clock
from shouhu.notify.services import Message, send
from shouhu.tasks.models import CASE_KINDS, Task, TaskKind, TaskStatus


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
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    assignee = assignee or actor
    errors: dict[str, list[str]] = {}
    if kind not in CASE_KINDS:
        errors["kind"] = [_("Choose a visit, a call or a task.")]
    if not title.strip():
        errors["title"] = [_("Say what is to be done.")]
    if recurring and kind == TaskKind.TASK:
        errors["recurring"] = [_("Only visits and calls recur.")]
    if not access.may_work(assignee, case):
        errors["assignee"] = [_("The assignee does not work on this case.")]
    if case.stage == Stage.CLOSED:
        errors.setdefault("__all__", []).append(_("The case is closed."))
    raise_if_any(errors)
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
    if task.assignee_id != actor.pk and not access.may_work(actor, case):
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
            access.approvers(task.case) if task.case else [],
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
