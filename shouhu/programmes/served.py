"""The pre-aggregate behind a project's figures (`models.Served`): per participant and month,
sessions attended and counselling received. The roll call and counselling refresh the rows
they touch, in a fixed number of queries; `rebuild` recomputes a whole project."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from shouhu.lib.dates import start_of_day
from shouhu.programmes.models import (
    ATTENDED,
    Attendance,
    Counselling,
    Enrolment,
    ProgrammeSession,
    Served,
    SessionStatus,
)


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The aware instants [start, end) of a month in Asia/Shanghai."""
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start_of_day(month), start_of_day(nxt)


def person_key(child_id: int | None, member_id: int | None) -> str:
    return f"c{child_id}" if child_id else f"m{member_id}"


def _write(project_id: int, counts: dict[tuple[dt.date, str], list[int]]) -> None:
    """Upsert the rows in `counts` ({(month, person): [attended, counselled]}) and drop the
    ones left at zero."""
    if not counts:
        return
    Served.objects.bulk_create(
        [
            Served(
                project_id=project_id,
                month=month,
                person=person,
                child_id=int(person[1:]) if person[0] == "c" else None,
                member_id=int(person[1:]) if person[0] == "m" else None,
                attended=a,
                counselled=c,
            )
            for (month, person), (a, c) in counts.items()
        ],
        update_conflicts=True,
        unique_fields=["project", "month", "person"],
        update_fields=["attended", "counselled"],
    )
    months = {m for m, _ in counts}
    Served.objects.filter(
        project_id=project_id, month__in=months, attended=0, counselled=0
    ).delete()


def _attended(
    project_id: int,
    people: Q | None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Iterable[tuple[dt.date, int | None, int | None, int]]:
    rows = Attendance.objects.filter(
        session__programme__project_id=project_id,
        session__status=SessionStatus.HELD,
        status__in=ATTENDED,
    )
    if people is not None:
        rows = rows.filter(people)
    if since is not None:
        rows = rows.filter(session__starts_at__gte=since)
    if until is not None:
        rows = rows.filter(session__starts_at__lt=until)
    tz = timezone.get_default_timezone()
    return (
        rows.annotate(month=TruncMonth("session__starts_at", tzinfo=tz))
        .values_list("month", "enrolment__child_id", "enrolment__member_id")
        .annotate(n=Count("pk"))
        .order_by()
    )


def as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def count_session(session: ProgrammeSession) -> None:
    """Mark `session` held and count its attendances present or late, in one query (the
    instance's `attended` is not reread)."""
    ProgrammeSession.objects.filter(pk=session.pk).update(
        status=SessionStatus.HELD, attended=_headcount()
    )
    session.status = SessionStatus.HELD


def _headcount() -> Coalesce:
    return Coalesce(
        Subquery(
            Attendance.objects.filter(session=OuterRef("pk"), status__in=ATTENDED)
            .values("session")
            .annotate(n=Count("*"))
            .values("n")
        ),
        0,
    )


@transaction.atomic
def after_roll_call(project_id: int | None, starts_at: dt.datetime, enrolments: list[int]) -> None:
    """Refresh the month of a session for the participants of a roll call (three queries,
    whatever their number). Participants are counted per person across the project's
    programmes, so a child in two programmes of a project is one person."""
    if project_id is None or not enrolments:
        return
    month = month_of(timezone.localtime(starts_at).date())
    since, until = month_bounds(month)
    people = list(Enrolment.objects.filter(pk__in=enrolments).values_list("child_id", "member_id"))
    children = [c for c, _ in people if c]
    members = [m for _, m in people if m]
    counts: dict[tuple[dt.date, str], list[int]] = {
        (month, person_key(c, m)): [0, 0] for c, m in people
    }
    who = Q(enrolment__child_id__in=children) | Q(enrolment__member_id__in=members)
    for _m, child_id, member_id, n in _attended(project_id, who, since, until):
        counts[(month, person_key(child_id, member_id))][0] = n
    counselled = dict(
        Counselling.objects.filter(
            project_id=project_id,
            child_id__in=children,
            held_on__gte=month,
            held_on__lt=as_date(until),
        )
        .values_list("child_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for child_id, n in counselled.items():
        counts[(month, person_key(child_id, None))][1] = n
    _write(project_id, counts)


@transaction.atomic
def after_counselling(project_id: int | None, child_id: int, held_on: dt.date) -> None:
    """Refresh one child's month after a counselling session was recorded."""
    if project_id is None:
        return
    month = month_of(held_on)
    since, until = month_bounds(month)
    key = (month, person_key(child_id, None))
    counts = {key: [0, 0]}
    for _m, _c, _mem, n in _attended(project_id, Q(enrolment__child_id=child_id), since, until):
        counts[key][0] = n
    counts[key][1] = Counselling.objects.filter(
        project_id=project_id,
        child_id=child_id,
        held_on__gte=month,
        held_on__lt=as_date(until),
    ).count()
    _write(project_id, counts)


@transaction.atomic
def rebuild(project_id: int) -> int:
    """Recompute every row of a project, and its sessions' headcounts, from the attendances
    and counselling; returns the number of rows."""
    counts: dict[tuple[dt.date, str], list[int]] = defaultdict(lambda: [0, 0])
    for month, child_id, member_id, n in _attended(project_id, None):
        counts[(as_date(month), person_key(child_id, member_id))][0] += n
    for held_on, child_id in Counselling.objects.filter(project_id=project_id).values_list(
        "held_on", "child_id"
    ):
        counts[(month_of(held_on), person_key(child_id, None))][1] += 1
    Served.objects.filter(project_id=project_id).delete()
    _write(project_id, dict(counts))
    ProgrammeSession.objects.filter(programme__project_id=project_id).update(attended=_headcount())
    return len(counts)
