"""The roll call of a session: every participant's attendance saved in one request with a
fixed number of queries, and a child absent three sessions in a row followed up by the
child's director."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shouhu import access
from shouhu.accounts.models import User
from shouhu.lib import clock
from shouhu.programmes import served
from shouhu.programmes.models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    Presence,
    ProgrammeSession,
    SessionStatus,
)
from shouhu.screening.risk import directors_of
from shouhu.tasks.models import Task, TaskKind, TaskStatus

ABSENCES_IN_A_ROW = 3
ABSENCE_TASK = gettext_noop("Absent from a programme three times in a row")


@dataclass
class RollCall:
    session: ProgrammeSession
    saved: int
    counts: dict[str, int] = field(default_factory=dict)
    # Children who have now missed `ABSENCES_IN_A_ROW` sessions in a row (a task was opened).
    followed_up: list[int] = field(default_factory=list)


@transaction.atomic
def roll_call(
    *,
    actor: User,
    session: ProgrammeSession,
    rows: Sequence[Mapping[str, Any]],
    now: dt.datetime | None = None,
) -> RollCall:
    """Save the whole roll call: `rows` of `{"participant": enrolment id, "status": ...}`.
    A participant left out keeps what was recorded; a second roll call corrects the first.
    Refused, with nothing written: a cancelled session, one not started yet, a participant
    not enrolled in the programme, a status not among `Presence`, a participant twice."""
    now = now or clock.now()
    if not access.may_take_roll_call(actor, session):
        raise PermissionDenied(_("You do not run this session."))
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError(_("This session was cancelled: it has no roll call."))
    if session.starts_at > now:
        raise ValidationError(
            _("This session has not started yet: take the roll call once it has.")
        )
    enrolled = {
        e.pk: e
        for e in Enrolment.objects.filter(
            programme_id=session.programme_id, status=EnrolmentStatus.ENROLLED
        )
    }
    errors: dict[str, list[str]] = {}
    marks: dict[int, str] = {}
    if not rows:
        errors["rows"] = [_("The roll call is empty.")]
    for i, row in enumerate(rows):
        participant, status = row.get("participant"), row.get("status")
        if not isinstance(participant, int) or participant not in enrolled:
            errors[f"rows.{i}.participant"] = [_("Not a participant of this programme.")]
        elif participant in marks:
            errors[f"rows.{i}.participant"] = [_("This participant is in the roll call twice.")]
        if status not in Presence.values:
            errors[f"rows.{i}.status"] = [_("Choose present, late, absent or excused.")]
        if (
            isinstance(participant, int)
            and isinstance(status, str)
            and not ({f"rows.{i}.participant", f"rows.{i}.status"} & errors.keys())
        ):
            marks[participant] = status
    if errors:
        raise ValidationError(errors)
    Attendance.objects.bulk_create(
        [
            Attendance(
                session=session, enrolment_id=pk, status=status, recorded_at=now, recorded_by=actor
            )
            for pk, status in marks.items()
        ],
        update_conflicts=True,
        unique_fields=["session", "enrolment"],
        update_fields=["status", "recorded_at", "recorded_by"],
    )
    served.count_session(session)
    served.after_roll_call(session.programme.project_id, session.starts_at, list(marks))
    counts = {p: sum(1 for s in marks.values() if s == p) for p in Presence.values}
    absent = [enrolled[pk] for pk, s in marks.items() if s == Presence.ABSENT]
    followed = _absent_in_a_row(session, [e for e in absent if e.child_id], now)
    return RollCall(session=session, saved=len(marks), counts=counts, followed_up=followed)


def _absent_in_a_row(
    session: ProgrammeSession, absent: list[Enrolment], now: dt.datetime
) -> list[int]:
    """The children absent from this session and the two held before it: a follow-up task
    for each one's village child director (one open per child and programme)."""
    if not absent:
        return []
    recent = list(
        ProgrammeSession.objects.filter(
            programme_id=session.programme_id,
            status=SessionStatus.HELD,
            starts_at__lte=session.starts_at,
        )
        .order_by("-starts_at", "-id")
        .values_list("pk", flat=True)[:ABSENCES_IN_A_ROW]
    )
    if len(recent) < ABSENCES_IN_A_ROW:
        return []
    missed: dict[int, int] = {}
    for enrolment_id in Attendance.objects.filter(
        session_id__in=recent,
        enrolment_id__in=[e.pk for e in absent],
        status=Presence.ABSENT,
    ).values_list("enrolment_id", flat=True):
        missed[enrolment_id] = missed.get(enrolment_id, 0) + 1
    children = [e.child_id for e in absent if e.child_id and missed.get(e.pk) == ABSENCES_IN_A_ROW]
    if not children:
        return []
    from shouhu.children.models import Child

    residences = dict(Child.objects.filter(pk__in=children).values_list("pk", "residence_id"))
    programme = session.programme
    open_already = set(
        Task.objects.filter(
            child_id__in=residences,
            kind=TaskKind.TASK,
            title=ABSENCE_TASK,
            reason=programme.title[:200],
            status=TaskStatus.OPEN,
        ).values_list("child_id", flat=True)
    )
    directors = directors_of(set(residences.values()))
    tasks = [
        Task(
            child_id=child_id,
            kind=TaskKind.TASK,
            title=ABSENCE_TASK,
            reason=programme.title[:200],
            assignee=directors.get(residences[child_id]),
            due_on=clock.today() + dt.timedelta(days=7),
            created_at=now,
            residence=residences[child_id],
        )
        for child_id in children
        if child_id not in open_already
    ]
    Task.objects.bulk_create(tasks)
    return [int(t.child_id) for t in tasks]
