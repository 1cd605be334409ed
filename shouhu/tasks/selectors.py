"""Reads of follow-ups: one worklist for everyone who owes or follows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.services import log_children_read
from shouhu.lib import clock
from shouhu.tasks.models import Task, TaskStatus

STATUSES = ("open", "overdue", "due", "done")
# What a worklist shows: everything, one's own, the home visits, the cases' follow-ups.
SHOWS = ("all", "mine", "home_visits", "cases")


def tasks_for(
    user: User, *, status: str = "open", today: dt.date | None = None, show: str = "all"
) -> QuerySet[Task]:
    """The follow-ups a person owes (home visits, a case's visits, calls and tasks) and, for
    supervisors and officials, those of the children of their area: `open`, `overdue` (due
    before today), `due` (within a week), `done` (done or cancelled, latest first); `show`
    narrows them to one's own, the home visits or the cases' follow-ups (`SHOWS`). The area
    is filtered on the task's own village column (no join)."""
    today = today or clock.today()
    follows = any(
        g.place_prefix and g.role in access.FOLLOW_ROLES for g in access.scope_of(user).grants
    )
    # Only the conditions that can match: an OR with an empty side keeps the planner from
    # walking the open follow-ups in due order.
    which = Q(assignee=user)
    if follows:
        which |= access.jurisdiction_q(user, roles=access.FOLLOW_ROLES, field="residence")
    rows = Task.objects.filter(which).select_related("child", "case", "assignee")
    if show == "mine":
        rows = rows.filter(assignee=user)
    elif show == "home_visits":
        rows = rows.filter(kind="home_visit")
    elif show == "cases":
        rows = rows.filter(case__isnull=False)
    if status == "done":
        return rows.exclude(status=TaskStatus.OPEN).order_by("-done_at", "-id")
    rows = rows.filter(status=TaskStatus.OPEN)
    if status == "overdue":
        rows = rows.filter(due_on__lt=today)
    elif status == "due":
        rows = rows.filter(due_on__lte=today + dt.timedelta(days=7))
    return rows.order_by("due_on", "id")


def worklist(
    user: User,
    *,
    purpose: str,
    status: str = "open",
    today: dt.date | None = None,
    limit: int,
    show: str = "all",
) -> list[Task]:
    """The first `limit` of `tasks_for`, their children logged as read."""
    page = list(tasks_for(user, status=status, today=today, show=show)[:limit])
    log_children_read(
        user=user,
        child_ids=[t.child_id for t in page],
        purpose=purpose,
        object_type="task",
        detail={"status": status, "show": show},
    )
    return page


def task_row(task: Task, today: dt.date) -> dict[str, Any]:
    """A follow-up as the API gives it (`case` is null for a home visit of the risk level)."""
    return {
        "id": task.pk,
        "case": task.case_id,
        "child": task.child_id,
        "child_name": task.child.name,
        "kind": task.kind,
        "title": task.title,
        "assignee": task.assignee_id,
        "assignee_name": task.assignee.username if task.assignee else "",
        "due_on": task.due_on,
        "recurring": task.recurring,
        "status": task.status,
        "done_at": task.done_at,
        "overdue": task.status == TaskStatus.OPEN and task.due_on < today,
    }


def open_home_visit(child_id: int) -> Task | None:
    """The child's open risk-level home visit, if any."""
    return Task.objects.filter(child_id=child_id, kind="home_visit", status=TaskStatus.OPEN).first()
