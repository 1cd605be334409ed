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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
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
from shouhu.programmes.served import as_date, month_bounds, month_of

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


# The lines every cube row carries: all children, each category, no category.
LINES = ("all", *CATEGORY_CODES, NO_CATEGORY)
Cell = tuple[str, str, str]  # (township, sex, age band)


@dataclass
class Counts:
    """What the figures and every breakdown of a span of months are read from, in two
    queries: the children served, summed per (township, sex, age band) and, in each, per
    line of `LINES` — person-times, persons, counselling, persons of the target group —
    and the children of the target group per (township, sex, age band): in total and per
    target category. Build it once (`counts_for`) and hand it to `figures` and `breakdown`
    to share it."""

    first: dt.date
    last: dt.date
    on: dt.date  # ages are taken on this day
    served: dict[Cell, list[list[int]]]
    target: dict[Cell, list[int]]  # [all, *target groups in `_groups` order]
    caregivers: Row | None  # the caregivers served (household members, not children)


def _age_sql(on: dt.date, column: str) -> tuple[str, list[Any]]:
    """The age band of the date `column` on the day `on`, as SQL with its parameters."""
    whens: list[str] = []
    params: list[Any] = []
    for key, low, high in AGE_BANDS:
        whens.append(f"WHEN {column} >= %s AND {column} <= %s THEN %s")
        params += [_years_before(on, high + 1) + dt.timedelta(days=1), _years_before(on, low), key]
    return "CASE " + " ".join(whens) + " ELSE '?' END", params


def _area_sql(project: Project, column: str) -> tuple[str, list[Any]]:
    ranges = [code_range(place.prefix) for place in project.places.all()]
    if not ranges:
        return "(1 = 0)", []
    sql = " OR ".join(f"({column} >= %s AND {column} <= %s)" for _ in ranges)
    return f"({sql})", [v for pair in ranges for v in pair]


def counts_for(
    project: Project,
    first: dt.date | None = None,
    last: dt.date | None = None,
    *,
    target: dict[Cell, list[int]] | None = None,
) -> Counts:
    """The `Counts` of the months from `first` to `last` (default: the project's period);
    `target`: the target-group cube of another `Counts` with the same last month, reused."""
    return _counts(project, *_span(project, first, last), target=target)[0]


def counts_and_last_month(
    project: Project, first: dt.date | None = None, last: dt.date | None = None
) -> tuple[Counts, Counts]:
    """The `Counts` of the months from `first` to `last` and of the last of them alone, from
    the same queries (the monthly report's "since the start" and "this month")."""
    span, month = _counts(project, *_span(project, first, last), split=True)
    assert month is not None
    return span, month


def _counts(
    project: Project,
    first: dt.date,
    last: dt.date,
    *,
    target: dict[Cell, list[int]] | None = None,
    split: bool = False,
) -> tuple[Counts, Counts | None]:
    _start, until = month_bounds(last)
    on = min(until.date() - dt.timedelta(days=1), clock.today())
    groups = _groups(project)
    area, area_params = _area_sql(project, "c.residence_id")
    kinds = " OR ".join(f"c.cat_{code}" for code in groups)
    member = f"({area} AND ({kinds}))" if groups else "(1 = 0)"
    age, age_params = _age_sql(on, "c.birth_date")
    flags = ", ".join(f"c.cat_{code}" for code in CATEGORY_CODES)
    # Raw SQL: the ORM cannot join a grouped subquery to a table. The pre-aggregate is
    # summed per child before it joins the registry (a project of ten thousand children
    # joins ten thousand rows, not one per child and month); each child is one row then,
    # so persons are counted without DISTINCT. The database groups the children by the
    # attributes the lines are made of (township, sex, age band, categories, target group:
    # a few hundred groups); Python adds each group to its lines. Names come from the
    # models and the category codes; every value is a parameter.
    sql = (
        f"SELECT SUBSTR(c.residence_id, 1, 9), c.sex, {age}, {flags}, "  # noqa: S608
        f"CASE WHEN {member} THEN 1 ELSE 0 END, "
        f"SUM(s.t), COUNT(*), SUM(s.c), SUM(s.tm), SUM(s.m), SUM(s.cm) "
        f"FROM (SELECT child_id, SUM(attended + counselled) AS t, SUM(counselled) AS c, "
        f"SUM(CASE WHEN month = %s THEN attended + counselled ELSE 0 END) AS tm, "
        f"MAX(CASE WHEN month = %s THEN 1 ELSE 0 END) AS m, "
        f"SUM(CASE WHEN month = %s THEN counselled ELSE 0 END) AS cm "
        f"FROM {Served._meta.db_table} WHERE project_id = %s AND month >= %s AND month <= %s "
        f"AND child_id IS NOT NULL GROUP BY child_id) s "
        f"JOIN {Child._meta.db_table} c ON c.id = s.child_id "
        f"GROUP BY {', '.join(str(i) for i in range(1, 5 + len(CATEGORY_CODES)))}"
    )
    params = [*age_params, *(area_params if groups else []), last, last, last]
    params += [project.pk, first, last]
    served: dict[Cell, list[list[int]]] = {}
    in_month: dict[Cell, list[list[int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        width = len(CATEGORY_CODES)
        lines_of: dict[tuple[object, ...], list[int]] = {}  # the lines of a set of categories
        for row in cursor.fetchall():
            cell = (str(row[0]), str(row[1]), str(row[2]))
            cats = row[3 : 3 + width]
            picked = lines_of.get(cats)
            if picked is None:
                picked = lines_of[cats] = _lines(cats)
            in_group, t, n, c, tm, m, cm = row[3 + width :]
            _add(served, cell, picked, int(t), n, int(c), n if in_group else 0)
            if m:
                _add(in_month, cell, picked, int(tm), int(m), int(cm), int(m) if in_group else 0)
    if target is None:
        target = _target_cube(project, on) if groups else {}
    carers, carers_month = _caregiver_rows(project, first, last)
    span = Counts(first=first, last=last, on=on, served=served, target=target, caregivers=carers)
    if not split:
        return span, None
    month = Counts(
        first=last, last=last, on=on, served=in_month, target=target, caregivers=carers_month
    )
    return span, month


def _lines(cats: tuple[object, ...]) -> list[int]:
    """The lines (indexes in `LINES`) of children with the category flags `cats`: all, and
    each of their categories, or none."""
    if not any(cats):
        return [0, len(LINES) - 1]
    return [0, *(i + 1 for i, flag in enumerate(cats) if flag)]


def _add(
    cube: dict[Cell, list[list[int]]], cell: Cell, picked: list[int], t: int, n: int, c: int, g: int
) -> None:
    """Add a group of `n` children (`t` person-times, `c` counselling, `g` of them in the
    target group) to the lines `picked` of `cell`."""
    lines = cube.get(cell)
    if lines is None:
        lines = cube[cell] = [[0] * 4 for _ in range(len(LINES))]
    for i in picked:
        line = lines[i]
        line[0] += t
        line[1] += n
        line[2] += c
        line[3] += g


def _target_cube(project: Project, on: dt.date) -> dict[Cell, list[int]]:
    """The children of the target group (the area's children in one of its categories),
    counted per (township, sex, age band): in all and per target category. One scan of the
    area's children, grouped by those attributes and the target categories."""
    groups = _groups(project)
    area, area_params = _area_sql(project, "residence_id")
    age, age_params = _age_sql(on, "birth_date")
    kinds = " OR ".join(f"cat_{code}" for code in groups)
    flags = ", ".join(f"cat_{code}" for code in groups)
    sql = (
        f"SELECT SUBSTR(residence_id, 1, 9), sex, {age}, {flags}, COUNT(*) "  # noqa: S608
        f"FROM {Child._meta.db_table} WHERE {area} AND ({kinds}) "
        f"GROUP BY {', '.join(str(i) for i in range(1, 4 + len(groups)))}"
    )
    cube: dict[Cell, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*age_params, *area_params])
        for township, sex, band, *cats, n in cursor.fetchall():
            cell = cube.setdefault((str(township), str(sex), str(band)), [0] * (1 + len(groups)))
            cell[0] += n
            for i, flag in enumerate(cats):
                if flag:
                    cell[i + 1] += n
    return cube


def figures(
    project: Project,
    first: dt.date | None = None,
    last: dt.date | None = None,
    counts: Counts | None = None,
) -> Figures:
    """The project's figures over the months from `first` to `last` (default: its whole
    period), in a fixed number of queries (fewer with the span's `counts`)."""
    counts = counts or counts_for(project, first, last)
    first, last = counts.first, counts.last
    times = persons = counselled = in_group = 0
    for lines in counts.served.values():
        t, p, c, g = lines[0]
        times, persons, counselled, in_group = times + t, persons + p, counselled + c, in_group + g
    carers = counts.caregivers
    sessions = _sessions(project, first, last).aggregate(
        minutes=Sum("minutes"),
        child_activities=Count(
            "pk", filter=~Q(programme__design__kind__in=[*CAREGIVER_KINDS, Kind.PUBLICITY])
        ),
        caregiver_events=Count("pk", filter=Q(programme__design__kind__in=CAREGIVER_KINDS)),
        materials=Sum("quantity"),
    )
    target_group = sum(cell[0] for cell in counts.target.values())
    return Figures(
        person_times=times + (carers.person_times if carers else 0),
        persons=persons + (carers.persons if carers else 0),
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


def _years_before(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def _caregiver_rows(
    project: Project, first: dt.date, last: dt.date
) -> tuple[Row | None, Row | None]:
    """The caregivers' lines of the months from `first` to `last` and of the last month
    alone, in one query (within a month, one row per person: persons are rows)."""
    in_month = Q(month=last)
    got = (
        _served(project, first, last)
        .filter(member__isnull=False)
        .aggregate(
            times=Sum(F("attended") + F("counselled")),
            talks=Sum("counselled"),
            members=Count("member", distinct=True),
            month_times=Sum(F("attended") + F("counselled"), filter=in_month),
            month_talks=Sum("counselled", filter=in_month),
            month_members=Count("pk", filter=in_month),
        )
    )
    return (
        _caregiver_row(got["members"], got["times"], got["talks"]),
        _caregiver_row(got["month_members"], got["month_times"], got["month_talks"]),
    )


def _caregiver_row(persons: int | None, times: int | None, counselled: int | None) -> Row | None:
    if not persons:
        return None
    return Row(
        key=CAREGIVERS,
        label=_("Caregivers"),
        person_times=times or 0,
        persons=persons,
        counselling=counselled or 0,
    )


def breakdown(
    project: Project,
    by: Breakdown,
    first: dt.date | None = None,
    last: dt.date | None = None,
    counts: Counts | None = None,
) -> list[Row]:
    """The figures of the months from `first` to `last`, one row per month, township,
    category, sex or age band (ages on the last day reported, or today if sooner).
    Caregivers have their own row; a line with no service is left out, except the target
    group's lines of a category, township, sex or age band."""
    if by not in BREAKDOWNS:
        raise ValueError(by)
    if by == "month":
        first, last = (counts.first, counts.last) if counts else _span(project, first, last)
        return _by_month(project, _served(project, first, last), first, last)
    counts = counts or counts_for(project, first, last)
    groups = _groups(project)
    # Per line: person-times, persons, counselling, target-group children served.
    got: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    tg: dict[str, int] = defaultdict(int)
    if by == "category":
        for lines in counts.served.values():
            for code, line in zip(LINES[1:], lines[1:], strict=True):
                if line[1]:
                    got[code] = [a + b for a, b in zip(got[code], line, strict=True)]
        for cell in counts.target.values():
            for code, n in zip(groups, cell[1:], strict=True):
                tg[code] += n
    else:
        axis = {"township": 0, "sex": 1, "age_band": 2}[by]
        for key, lines in counts.served.items():
            got[key[axis]] = [a + b for a, b in zip(got[key[axis]], lines[0], strict=True)]
        for key, cell in counts.target.items():
            tg[key[axis]] += cell[0]
    shown = set(got) | set(tg)
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
    return rows + ([counts.caregivers] if counts.caregivers else [])


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
    tz = timezone.get_default_timezone()
    for month, minutes in (
        _sessions(project, first, last)
        .annotate(month=TruncMonth("starts_at", tzinfo=tz))
        .values_list("month")
        .annotate(minutes=Sum("minutes"))
        .order_by()
    ):
        hours[month_of(as_date(month))] += minutes or 0
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
