"""Writes of follow-ups that every app shares: closing a child's home visit, and keeping
the area column in step with the registry. The apps that raise tasks create them with
their own rules (`screening.risk` the home visits, `cases.followups` a case's follow-ups)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from shouhu.accounts.models import User
from shouhu.children.models import Child
from shouhu.tasks.models import Task, TaskKind, TaskStatus


def home_visit_done(
    child_id: int,
    *,
    by: User | None,
    now: dt.datetime,
    administration_id: int | None = None,
) -> int:
    """Close the child's open home-visit task (the next is scheduled by the risk
    recomputation that follows). Returns how many were closed (0 or 1)."""
    return Task.objects.filter(
        child_id=child_id, kind=TaskKind.HOME_VISIT, status=TaskStatus.OPEN
    ).update(status=TaskStatus.DONE, done_at=now, done_by=by, administration_id=administration_id)


def home_visit_due_by(child_id: int, due_on: dt.date) -> None:
    """Bring the child's open home visit forward to `due_on` (never back)."""
    Task.objects.filter(
        child_id=child_id, kind=TaskKind.HOME_VISIT, status=TaskStatus.OPEN, due_on__gt=due_on
    ).update(due_on=due_on)


def closed_by(administration_id: int) -> bool:
    """Whether this assessment already closed a home visit."""
    return Task.objects.filter(administration_id=administration_id).exists()


def child_moved(child: Child) -> None:
    """Keep the area column of the child's follow-ups in step with the registry."""
    Task.objects.filter(Q(child=child) & ~Q(residence=child.residence_id)).update(
        residence=child.residence_id
    )
