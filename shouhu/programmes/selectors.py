"""What the work achieved, counted from the records (never typed): person-times, persons,
class hours, counselling, activities held, materials, coverage of the target group — for the
whole project or a span of months, and broken down by month, township, category, sex and age
band. The project page, the API and the monthly report all read these functions, so they
show the same numbers.

Person-times and persons are read from the pre-aggregate `Served` (one row per participant
and month, kept by the roll call and counselling), not from the attendances themselves: a
project of a million attendances has some tens of thousands of such rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.db import connection
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu.children.models import Child, Sex
from shouhu.lib import clock
from shouhu.lib.categories import CATEGORY_CODES
from shouhu.places.models import Place, code_range
from shouhu.programmes.models import (
    CAREGIVER_KINDS,
    Kind,
    Measure,
    ProgrammeSession,
    Project,
    Served,
    SessionStatus,
)
from shouhu.programmes.served import month_bounds, month_of

CAREGIVERS = "caregivers"
NO_CATEGORY = "none"
BREAKDOWNS = ("month", "township", "category", "sex", "age_band")
Breakdown = Literal["month", "township", "category", "sex", "age_band"]

# Age bands (years, inclusive) at the end of the span reported: pre-school, primary, junior
# and senior secondary age.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-5", 0, 5),
    ("6-11", 6, 11),
    ("12-14", 12, 14),
    ("15-17", 15, 17),
    ("18+", 18, 200),
)
BREAKDOWN_NAMES = {
    "month": gettext_lazy("Month"),
    "township": gettext_lazy("Township"),
    "category": gettext_lazy("Category"),
    "sex": gettext_lazy("Sex"),
    "age_band": gettext_lazy("Age band"),
}


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
    coverage: Decimal  # children of the target group served / target group, in percent


@dataclass(frozen=True)
class Row:
    """One line of a breakdown. For categories a child counts in each of their categories,
    so those lines overlap; every other breakdown adds up to the total."""

    key: str
    label: str
    person_times: int
    persons: int
    counselling: int
    # Children of the target group in this line, and how many of them were served
    # (None where it does not apply: caregivers, months).
    target_group: int | None = None
    served_in_group: int | None = None
    class_hours: Decimal | None = None  # months only: hours of the sessions held
    # Too few people to show to a reader without row access (`suppress_small`): the
    # numbers are withheld, the line stays.
    suppressed: bool = False

    @property
    def coverage(self) -> Decimal | None:
        if not self.target_group or self.served_in_group is None:
            return None
        return _percent(self.served_in_group, self.target_group)


# Lines of fewer people than this are withheld from readers without row access (STYLE 19).
SMALL = 5


def suppress_small(rows: list[Row]) -> list[Row]:
    """The lines of a breakdown by an attribute (township, category, sex, age band) with
    1 to `SMALL - 1` people served or in the target group, withheld: a funder's official
    who cannot see the children should not learn one child's service from a count."""
    return [
        Row(key=r.key, label=r.label, person_times=0, persons=0, counselling=0, suppressed=True)
        if 0 < r.persons < SMALL or (r.target_group is not None and 0 < r.target_group < SMALL)
        else r
        for r in rows
    ]


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1")) if whole else Decimal(0)


def _area_q(project: Project, field: str) -> Q:
    q = Q(pk__in=[])
    for place in project.places.all():
        low, high = code_range(place.prefix)
        q |= Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return q


def _categories_q(groups: Iterable[str], prefix: str = "") -> Q:
    q = Q(pk__in=[]) if not prefix else Q(**{f"{prefix}pk__in": []})
    for code in groups:
        if code in CATEGORY_CODES:
            q |= Q(**{f"{prefix}cat_{code}": True})
    return q


def _groups(project: Project) -> list[str]:
    return [g for g in project.target_groups if isinstance(g, str) and g in CATEGORY_CODES]


def _span(project: Project, first: dt.date | None, last: dt.date | None) -> tuple[dt.date, dt.date]:
    """First days of the first and last month reported (default: the project's period)."""
    return month_of(first or project.starts_on), month_of(last or project.ends_on)


def _served(project: Project, first: dt.date, last: dt.date) -> QuerySet[Served]:
    return Served.objects.filter(project=project, month__gte=first, month__lte=last)


def _sessions(project: Project, first: dt.date, last: dt.date) -> QuerySet[ProgrammeSession]:
    since, _end = month_bounds(first)
    _start, until = month_bounds(last)
    return ProgrammeSession.objects.filter(
        programme__project=project,
        status=SessionStatus.HELD,
        starts_at__gte=since,
        starts_at__lt=until,
    )


def _target_group(project: Project) -> QuerySet[Child]:
    groups = _groups(project)
    if not groups:
        return Child.objects.none()
    return Child.objects.filter(_area_q(project, "residence_id")).filter(_categories_q(groups))


def _children_grouped(
    project: Project,
    first: dt.date,
    last: dt.date,
    lines: list[tuple[str, list[object]]],
    group: tuple[str, list[object]] | None = None,
) -> dict[str, list[list[int]]]:
    """The children served in the months from `first` to `last`, summed: per value of the
    SQL expression `group` (over the registry row `c`; one value when None), and in it per
    line of `lines` (SQL conditions over `c`, true for the children counted on the line):
    person-times, persons, counselling, and the persons who belong to the target group.

    One query: the pre-aggregate is summed per child before it joins the registry (a
    project of ten thousand children joins ten thousand rows, not one per child and month);
    each child is one row then, so persons are counted without DISTINCT."""
    ranges = [code_range(place.prefix) for place in project.places.all()]
    groups = _groups(project)
    area = " OR ".join("(c.residence_id >= %s AND c.residence_id <= %s)" for _ in ranges)
    kinds = " OR ".join(f"c.cat_{code}" for code in groups)
    member = f"(({area}) AND ({kinds}))" if ranges and groups else "(1 = 0)"
    member_params: list[object] = (
        [v for pair in ranges for v in pair] if member != "(1 = 0)" else []
    )
    key_sql, key_params = group or ("''", [])
    columns = [f"{key_sql} AS k"]
    params: list[Any] = [*key_params]
    for condition, condition_params in lines:
        columns += [
            f"SUM(CASE WHEN {condition} THEN s.t ELSE 0 END)",
            f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {condition} THEN s.c ELSE 0 END)",
            f"SUM(CASE WHEN ({condition}) AND {member} THEN 1 ELSE 0 END)",
        ]
        params += [*condition_params] * 3 + [*condition_params, *member_params]
    # Raw SQL: the ORM cannot join a grouped subquery to a table. The names come from the
    # models and the category codes; every value is a parameter.
    sql = (
        f"SELECT {', '.join(columns)} "  # noqa: S608
        f"FROM (SELECT child_id, SUM(attended + counselled) AS t, SUM(counselled) AS c "
        f"FROM {Served._meta.db_table} WHERE project_id = %s AND month >= %s AND month <= %s "
        f"AND child_id IS NOT NULL GROUP BY child_id) s "
        f"JOIN {Child._meta.db_table} c ON c.id = s.child_id" + (" GROUP BY 1" if group else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, project.pk, first, last])
        found = cursor.fetchall()
    return {
        str(key): [[int(v or 0) for v in values[4 * i : 4 * i + 4]] for i in range(len(lines))]
        for key, *values in found
    }


def _caregivers(project: Project, first: dt.date, last: dt.date) -> dict[str, int]:
    got = (
        _served(project, first, last)
        .filter(member__isnull=False)
        .aggregate(
            times=Sum(F("attended") + F("counselled")), members=Count("member", distinct=True)
        )
    )
    return {"times": got["times"] or 0, "members": got["members"] or 0}


def figures(project: Project, first: dt.date | None = None, last: dt.date | None = None) -> Figures:
    """The project's figures over the months from `first` to `last` (default: its whole
    period), in a fixed number of queries."""
    first, last = _span(project, first, last)
    got = _children_grouped(project, first, last, [("1 = 1", [])])
    times, persons, counselled, in_group = next(iter(got.values()), [[0, 0, 0, 0]])[0]
    carers = _caregivers(project, first, last)
    sessions = _sessions(project, first, last).aggregate(
        minutes=Sum("minutes"),
        child_activities=Count(
            "pk", filter=~Q(programme__design__kind__in=[*CAREGIVER_KINDS, Kind.PUBLICITY])
        ),
        caregiver_events=Count("pk", filter=Q(programme__design__kind__in=CAREGIVER_KINDS)),
        materials=Sum("quantity"),
    )
    groups = _groups(project)
    target_group = _target_group(project).count() if groups else 0
    return Figures(
        person_times=times + carers["times"],
        persons=persons + carers["members"],
        children_served=persons,
        class_hours=(Decimal(sessions["minutes"] or 0) / 60).quantize(Decimal("0.1")),
        counselling=counselled,
        child_activities=sessions["child_activities"] or 0,
        caregiver_events=sessions["caregiver_events"] or 0,
        materials=sessions["materials"] or 0,
        target_group=target_group,
        coverage=_percent(in_group, target_group),
    )


def progress(project: Project, f: Figures | None = None) -> list[Progress]:
    """Each target of the project against what the records show."""
    f = f or figures(project)
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


# ---------------------------------------------------------------- breakdowns

_SUMS = {
    "times": Sum(F("attended") + F("counselled")),
    "counselled": Sum("counselled"),
    "children": Count("child", distinct=True),
    "members": Count("member", distinct=True),
}


def _age_case(on: dt.date, field: str) -> Case:
    """The age band of a birth date `field` on the day `on`, in SQL."""
    whens = []
    for key, low, high in AGE_BANDS:
        # Age >= low  <=> born on or before `on` minus `low` years; age <= high likewise.
        youngest = _years_before(on, low)
        oldest = _years_before(on, high + 1) + dt.timedelta(days=1)
        whens.append(When(**{f"{field}__range": (oldest, youngest)}, then=Value(key)))
    return Case(*whens, default=Value("?"), output_field=CharField())


def _age_sql(on: dt.date) -> tuple[str, list[object]]:
    """The age band of `c.birth_date` on the day `on`, as SQL with its parameters."""
    whens: list[str] = []
    params: list[object] = []
    for key, low, high in AGE_BANDS:
        whens.append("WHEN c.birth_date >= %s AND c.birth_date <= %s THEN %s")
        params += [_years_before(on, high + 1) + dt.timedelta(days=1), _years_before(on, low), key]
    return "CASE " + " ".join(whens) + " ELSE '?' END", params


def _years_before(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def _caregiver_row(project: Project, first: dt.date, last: dt.date) -> Row | None:
    got = _served(project, first, last).filter(member__isnull=False).aggregate(**_SUMS)
    if not got["members"]:
        return None
    return Row(
        key=CAREGIVERS,
        label=_("Caregivers"),
        person_times=got["times"] or 0,
        persons=got["members"] or 0,
        counselling=got["counselled"] or 0,
    )


def breakdown(
    project: Project,
    by: Breakdown,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> list[Row]:
    """The figures of the months from `first` to `last`, one row per month, township,
    category, sex or age band (ages on the last day reported, or today if sooner).
    Caregivers have their own row; a line with no service is left out, except the target
    group's lines of a category, township, sex or age band."""
    if by not in BREAKDOWNS:
        raise ValueError(by)
    first, last = _span(project, first, last)
    if by == "month":
        return _by_month(project, _served(project, first, last), first, last)
    groups = _groups(project)
    target = _target_group(project)
    _start, until = month_bounds(last)
    on = min(until.date() - dt.timedelta(days=1), clock.today())
    key_target: Combinable | None = None
    # Per line: person-times, persons, counselling, target-group children served.
    got: dict[str, list[int]] = {}
    if by == "category":
        codes = [*CATEGORY_CODES, NO_CATEGORY]
        nothing = "NOT (" + " OR ".join(f"c.cat_{code}" for code in CATEGORY_CODES) + ")"
        none: list[object] = []
        conditions = [(f"c.cat_{code}", none) for code in [*CATEGORY_CODES]] + [(nothing, none)]
        sums = next(iter(_children_grouped(project, first, last, conditions).values()), [])
        got = {code: line for code, line in zip(codes, sums, strict=False) if line[1]}
    else:
        group: tuple[str, list[object]]
        if by == "township":
            group, key_target = ("SUBSTR(c.residence_id, 1, 9)", []), Substr("residence_id", 1, 9)
        elif by == "sex":
            group, key_target = ("c.sex", []), F("sex")
        else:
            group, key_target = _age_sql(on), _age_case(on, "birth_date")
        got = {
            key: lines[0]
            for key, lines in _children_grouped(
                project, first, last, [("1 = 1", [])], group
            ).items()
        }
    tg: dict[str, int] = {}
    if groups and by == "category":
        tg = target.aggregate(
            **{code: Count("pk", filter=Q(**{f"cat_{code}": True})) for code in groups}
        )
    elif groups and key_target is not None:
        tg = dict(target.annotate(k=key_target).values_list("k").annotate(n=Count("pk")).order_by())
    shown = set(got) | set(tg)
    if by == "category":
        shown = {k for k in shown if k in got or k in groups}
    labels = _labels(by, set(shown))
    rows = [
        Row(
            key=str(key),
            label=labels.get(key, str(key)),
            person_times=got[key][0] if key in got else 0,
            persons=got[key][1] if key in got else 0,
            counselling=got[key][2] if key in got else 0,
            target_group=(tg.get(key, 0) if groups else None)
            if by != "category" or key in groups
            else None,
            served_in_group=(got[key][3] if key in got else 0)
            if groups and (by != "category" or key in groups)
            else None,
        )
        for key in sorted(shown, key=lambda k: _order(by, k))
    ]
    carers = _caregiver_row(project, first, last)
    return rows + ([carers] if carers else [])


def _by_month(
    project: Project, served: QuerySet[Served], first: dt.date, last: dt.date
) -> list[Row]:
    # One row per person and month: within a month, persons are rows (no DISTINCT).
    got = {
        r["month"]: r
        for r in served.values("month")
        .annotate(
            times=Sum(F("attended") + F("counselled")),
            counselled=Sum("counselled"),
            persons=Count("pk"),
        )
        .order_by()
    }
    hours: dict[dt.date, int] = defaultdict(int)
    for starts_at, minutes in _sessions(project, first, last).values_list("starts_at", "minutes"):
        hours[month_of(timezone.localtime(starts_at).date())] += minutes
    rows = []
    month = first
    while month <= last:
        r = got.get(month, {})
        if r or month in hours:
            rows.append(
                Row(
                    key=f"{month:%Y-%m}",
                    label=f"{month:%Y-%m}",
                    person_times=r.get("times") or 0,
                    persons=r.get("persons") or 0,
                    counselling=r.get("counselled") or 0,
                    class_hours=(Decimal(hours.get(month, 0)) / 60).quantize(Decimal("0.1")),
                )
            )
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return rows


def _order(by: str, key: object) -> tuple[int, str]:
    if by == "age_band":
        keys = [k for k, _lo, _hi in AGE_BANDS]
        return (keys.index(str(key)) if key in keys else len(keys), str(key))
    if by == "category":
        codes = [*CATEGORY_CODES, NO_CATEGORY]
        return (codes.index(str(key)) if key in codes else len(codes), str(key))
    return (0, str(key))


def _labels(by: str, keys: set[object]) -> dict[object, str]:
    if by == "township":
        names = dict(
            Place.objects.filter(code__in=[f"{k}000" for k in keys if k]).values_list(
                "code", "name"
            )
        )
        return {k: names.get(f"{k}000", str(k)) for k in keys}
    if by == "sex":
        return {k: str(Sex(str(k)).label) if k in Sex.values else str(k) for k in keys}
    if by == "category":
        labels: dict[object, str] = {NO_CATEGORY: _("No category")}
        for code in CATEGORY_CODES:
            field = Child._meta.get_field(f"cat_{code}")
            labels[code] = str(getattr(field, "verbose_name", code))
        return labels
    if by == "age_band":
        return {k: _("%(band)s years") % {"band": k} if k != "?" else _("Unknown") for k in keys}
    return {k: str(k) for k in keys}
