"""What the work achieved, counted from the records (never typed): person-times, persons,
class hours, counselling, activities held, materials, coverage of the target group."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from shouhu.children.models import Child
from shouhu.places.models import code_range
from shouhu.programmes.models import (
    ATTENDED,
    CAREGIVER_KINDS,
    Attendance,
    Counselling,
    Kind,
    Measure,
    ProgrammeSession,
    Project,
    SessionStatus,
)


@dataclass(frozen=True)
class Progress:
    measure: str
    target: Decimal
    achieved: Decimal

    @property
    def share(self) -> float:
        """Achieved over target (1.0 is met)."""
        return float(self.achieved / self.target) if self.target else 0.0


@dataclass(frozen=True)
class Figures:
    person_times: int  # attendances (present or late) + counselling sessions
    persons: int  # distinct children and caregivers served
    children_served: int
    class_hours: Decimal  # hours of the sessions held
    counselling: int
    child_activities: int
    caregiver_events: int
    materials: int
    target_group: int  # children of the area in the target groups
    coverage: Decimal  # children served / target group, in percent


def _area_q(project: Project, field: str) -> Q:
    q = Q(pk__in=[])
    for place in project.places.all():
        low, high = code_range(place.prefix)
        q |= Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return q


def figures(project: Project) -> Figures:
    """The project's figures over its whole period, in a fixed number of queries."""
    held = ProgrammeSession.objects.filter(programme__project=project, status=SessionStatus.HELD)
    attended = Attendance.objects.filter(
        session__programme__project=project,
        session__status=SessionStatus.HELD,
        status__in=ATTENDED,
    )
    times = attended.count()
    served_children = set(
        attended.filter(enrolment__child__isnull=False).values_list(
            "enrolment__child_id", flat=True
        )
    )
    caregivers = set(
        attended.filter(enrolment__member__isnull=False).values_list(
            "enrolment__member_id", flat=True
        )
    )
    counselled = Counselling.objects.filter(project=project)
    counselling = counselled.count()
    served_children |= set(counselled.values_list("child_id", flat=True))
    sessions = held.aggregate(
        minutes=Sum("minutes"),
        child_activities=Count(
            "pk", filter=~Q(programme__design__kind__in=[*CAREGIVER_KINDS, Kind.PUBLICITY])
        ),
        caregiver_events=Count("pk", filter=Q(programme__design__kind__in=CAREGIVER_KINDS)),
        materials=Sum("quantity"),
    )
    groups = [g for g in project.target_groups if isinstance(g, str)]
    target_group = (
        Child.objects.filter(_area_q(project, "residence_id")).filter(_categories_q(groups)).count()
        if groups
        else 0
    )
    in_group = (
        Child.objects.filter(pk__in=served_children)
        .filter(_area_q(project, "residence_id"))
        .filter(_categories_q(groups))
        .count()
        if groups
        else 0
    )
    coverage = (
        (Decimal(in_group) * 100 / Decimal(target_group)).quantize(Decimal("0.1"))
        if target_group
        else Decimal(0)
    )
    return Figures(
        person_times=times + counselling,
        persons=len(served_children) + len(caregivers),
        children_served=len(served_children),
        class_hours=(Decimal(sessions["minutes"] or 0) / 60).quantize(Decimal("0.1")),
        counselling=counselling,
        child_activities=sessions["child_activities"] or 0,
        caregiver_events=sessions["caregiver_events"] or 0,
        materials=sessions["materials"] or 0,
        target_group=target_group,
        coverage=coverage,
    )


def _categories_q(groups: list[str]) -> Q:
    from shouhu.lib.categories import CATEGORY_CODES

    q = Q(pk__in=[])
    for code in groups:
        if code in CATEGORY_CODES:
            q |= Q(**{f"cat_{code}": True})
    return q


def progress(project: Project) -> list[Progress]:
    """Each target of the project against what the records show."""
    f = figures(project)
    achieved = {
        Measure.PERSON_TIMES: Decimal(f.person_times),
        Measure.COVERAGE: f.coverage,
        Measure.COUNSELLING: Decimal(f.counselling),
        Measure.CHILD_ACTIVITIES: Decimal(f.child_activities),
        Measure.CAREGIVER_EVENTS: Decimal(f.caregiver_events),
        Measure.MATERIALS: Decimal(f.materials),
    }
    return [
        Progress(measure=t.measure, target=t.value, achieved=achieved[Measure(t.measure)])
        for t in project.targets.all()
    ]
