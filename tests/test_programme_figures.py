"""The project's figures by month, township, category, sex and age band (issue 12), against
a hand-counted fixture, and the pre-aggregate they are read from kept right by the roll call
and counselling (a corrected roll call, a rebuild from the records)."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from shouhu.children import assignments
from shouhu.children.models import Child, FamilyMember
from shouhu.lib.categories import CATEGORY_CODES
from shouhu.lib.clock import SHANGHAI
from shouhu.places.models import Place
from shouhu.programmes import attendance, counselling, running, selectors, served
from shouhu.programmes.models import (
    Design,
    Enrolment,
    Kind,
    Programme,
    Project,
    Served,
)
from tests.world import COUNTY, NOW, TODAY, VILLAGE_A, World, child_data, register

pytestmark = pytest.mark.django_db

THIS_MONTH = TODAY.replace(day=1)
M1 = (THIS_MONTH - dt.timedelta(days=1)).replace(day=1)  # last month
M2 = (M1 - dt.timedelta(days=1)).replace(day=1)  # the month before


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def _on(month: dt.date, minutes_past: int = 0) -> dt.datetime:
    return dt.datetime.combine(month.replace(day=10), dt.time(15), tzinfo=SHANGHAI) + dt.timedelta(
        minutes=minutes_past
    )


def _programme(world: World, project: Project, kind: str) -> Programme:
    design = Design.objects.filter(organisation=None, kind=kind).first()
    assert design is not None
    return running.programme_create(
        actor=world.director_a,
        organisation=world.orgs["village_a"],
        design=design,
        title=design.name,
        starts_on=M2,
        ends_on=TODAY + dt.timedelta(days=30),
        project=project,
    )


def _rows(marks: dict[Enrolment, str]) -> list[dict[str, Any]]:
    return [{"participant": e.pk, "status": s} for e, s in marks.items()]


@pytest.fixture
def fixture(world: World) -> dict[str, Any]:
    """Hand-counted. Children k0 (boy, 11), k1 (girl, 11), k2 (boy, 4), all of village A
    (township 麻埠镇), and the world's c1 (girl, 11, 梅山镇); all left behind.
    M2: a 90-minute session: k0 present, k1 late, k2 absent, c1 present; counselling of the
    world's a1 (boy, 麻埠镇, not enrolled).
    M1: a 60-minute session: k0 present, k1 absent, k2 present, c1 excused; a 120-minute
    caregiver lesson attended by k0's grandmother; counselling of k1.
    So M2: 3 attended + 1 counselling = 4 person-times, 4 persons, 1.5 class hours;
    M1: 2 + 1 caregiver + 1 counselling = 4 person-times, 4 persons, 3.0 class hours."""
    project = Project.objects.create(
        name="做有能力的小公民",
        funder=world.orgs["bureau"],
        implementer=world.orgs["village_a"],
        starts_on=M2,
        ends_on=TODAY + dt.timedelta(days=60),
        target_groups=["left_behind_mca"],
        created_at=NOW,
        created_by=world.official,
    )
    project.places.set([Place.objects.get(pk=COUNTY)])
    four = dt.date(TODAY.year - 4, 1, 1) if TODAY.month > 6 else dt.date(TODAY.year - 5, 7, 1)
    k0 = register(world.director_a, child_data("甲", VILLAGE_A))
    k1 = register(world.director_a, child_data("乙", VILLAGE_A, sex="F"))
    k2 = register(world.director_a, child_data("丙", VILLAGE_A, birth_date=four))
    c1 = world.children["c1"]
    activity = _programme(world, project, Kind.GROUP_ACTIVITY)
    e0, e1, e2 = (
        running.enrol(actor=world.director_a, programme=activity, child=k) for k in (k0, k1, k2)
    )
    # c1 lives outside the organiser's reach; she came with a friend (recorded directly).
    ec = Enrolment.objects.create(
        programme=activity, child=c1, enrolled_at=NOW, enrolled_by=world.director_a
    )
    s2 = running.session_add(
        actor=world.director_a, programme=activity, starts_at=_on(M2), minutes=90
    )
    s1 = running.session_add(
        actor=world.director_a, programme=activity, starts_at=_on(M1), minutes=60
    )
    attendance.roll_call(
        actor=world.director_a,
        session=s2,
        rows=_rows({e0: "present", e1: "late", e2: "absent", ec: "present"}),
    )
    attendance.roll_call(
        actor=world.director_a,
        session=s1,
        rows=_rows({e0: "present", e1: "absent", e2: "present", ec: "excused"}),
    )
    course = _programme(world, project, Kind.CAREGIVER_COURSE)
    grandma = FamilyMember.objects.get(
        household_id=k0.household_id, relation="paternal_grandmother"
    )
    g = running.enrol(actor=world.director_a, programme=course, member=grandma)
    lesson = running.session_add(
        actor=world.director_a, programme=course, starts_at=_on(M1, 180), minutes=120
    )
    attendance.roll_call(actor=world.director_a, session=lesson, rows=_rows({g: "present"}))
    assignments.assignment_create(
        actor=None,
        child=k1,
        organisation=world.orgs["swo"],
        kind="case_worker",
        user=world.socialworker,
    )
    for child, day in ((world.children["a1"], M2.replace(day=20)), (k1, M1.replace(day=20))):
        counselling.counselling_record(
            actor=world.socialworker,
            child=child,
            held_on=day,
            minutes=50,
            mode="in_person",
            concern="emotions",
            project=project,
        )
    return {"project": project, "k": (k0, k1, k2), "e": (e0, e1, e2, ec), "s1": s1, "world": world}


def _table(rows: list[selectors.Row]) -> dict[str, tuple[int, int, int]]:
    return {r.key: (r.person_times, r.persons, r.counselling) for r in rows}


def test_the_totals_and_each_month(fixture: dict[str, Any]) -> None:
    project = fixture["project"]
    f = selectors.figures(project)
    # k0 k1 k2 c1 a1 and the grandmother; 3 + 1 + 2 + 1 + 1 person-times.
    assert (f.person_times, f.persons, f.children_served, f.counselling) == (8, 6, 5, 2)
    assert f.class_hours == Decimal("4.5")
    months = selectors.breakdown(project, "month")
    assert _table(months) == {f"{M2:%Y-%m}": (4, 4, 1), f"{M1:%Y-%m}": (4, 4, 1)}
    assert [r.class_hours for r in months] == [Decimal("1.5"), Decimal("3.0")]
    # One month alone: the same numbers as its line.
    last = selectors.figures(project, M1, M1)
    assert (last.person_times, last.persons, last.class_hours) == (4, 4, Decimal("3.0"))
    assert sum(r.person_times for r in months) == f.person_times


def test_by_township_sex_and_age_band(fixture: dict[str, Any]) -> None:
    project = fixture["project"]
    townships = selectors.breakdown(project, "township")
    assert _table(townships) == {
        "341524101": (6, 4, 2),  # 麻埠镇: k0 2, k1 1 + counselling, k2 1, a1 counselling
        "341524100": (1, 1, 0),  # 梅山镇: c1
        "caregivers": (1, 1, 0),
    }
    assert {r.key: r.label for r in townships}["341524100"] == "梅山镇"
    assert _table(selectors.breakdown(project, "sex")) == {
        "M": (4, 3, 1),  # k0 2, k2 1, a1 1
        "F": (3, 2, 1),  # k1 2, c1 1
        "caregivers": (1, 1, 0),
    }
    ages = selectors.breakdown(project, "age_band")
    assert _table(ages) == {"0-5": (1, 1, 0), "6-11": (6, 4, 2), "caregivers": (1, 1, 0)}
    # The target group (the county's MCA left-behind children) by band, counted here.
    group = Child.objects.filter(residence__code__startswith="341524", cat_left_behind_mca=True)
    six_to_eleven = next(r for r in ages if r.key == "6-11")
    assert six_to_eleven.target_group == group.exclude(pk=fixture["k"][2].pk).count()
    assert six_to_eleven.served_in_group == 4


def test_by_category_with_coverage(fixture: dict[str, Any]) -> None:
    project = fixture["project"]
    rows = {r.key: r for r in selectors.breakdown(project, "category")}
    mca = rows["left_behind_mca"]
    assert (mca.person_times, mca.persons, mca.counselling) == (7, 5, 2)
    group = Child.objects.filter(residence__code__startswith="341524", cat_left_behind_mca=True)
    assert mca.target_group == group.count()
    assert mca.served_in_group == 5
    assert mca.coverage == (Decimal(500) / Decimal(group.count())).quantize(Decimal("0.1"))
    assert selectors.figures(project).coverage == mca.coverage
    assert (rows["caregivers"].person_times, rows["caregivers"].persons) == (1, 1)


def test_a_corrected_roll_call_and_a_rebuild_give_the_same_rows(fixture: dict[str, Any]) -> None:
    project, world = fixture["project"], fixture["world"]
    e0, e1, _e2, _ec = fixture["e"]
    # k0 was in fact absent last month, and k1 there after all.
    attendance.roll_call(
        actor=world.director_a,
        session=fixture["s1"],
        rows=_rows({e0: "absent", e1: "present"}),
    )
    f = selectors.figures(project, M1, M1)
    assert (f.person_times, f.persons) == (4, 3)  # k1 1 + counselling, k2, grandmother
    kept = sorted(
        Served.objects.filter(project=project).values_list(
            "month", "person", "attended", "counselled"
        )
    )
    assert ("k0", M1) not in {(p, m) for m, p, _a, _c in kept}
    assert served.rebuild(project.pk) == len(kept)
    assert kept == sorted(
        Served.objects.filter(project=project).values_list(
            "month", "person", "attended", "counselled"
        )
    )
    assert (M1, f"c{fixture['k'][1].pk}", 1, 1) in kept
    assert not any(p == f"c{fixture['k'][0].pk}" and m == M1 for m, p, _a, _c in kept)


def test_counselling_outside_a_project_is_not_counted(fixture: dict[str, Any]) -> None:
    project, world = fixture["project"], fixture["world"]
    counselling.counselling_record(
        actor=world.socialworker,
        child=world.children["a1"],
        held_on=M1.replace(day=21),
        minutes=30,
        mode="phone",
        concern="school",
    )
    assert selectors.figures(project).person_times == 8


def test_the_reaggregate_command_rebuilds_what_the_services_keep(fixture: dict[str, Any]) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    project = fixture["project"]
    kept = sorted(Served.objects.filter(project=project).values_list("month", "person", "attended"))
    Served.objects.filter(project=project).update(attended=99)
    out = StringIO()
    call_command("programmes", "reaggregate", "--project", str(project.pk), stdout=out)
    assert f"{len(kept)} participant-months" in out.getvalue()
    assert kept == sorted(
        Served.objects.filter(project=project).values_list("month", "person", "attended")
    )
    with pytest.raises(CommandError, match="no project"):
        call_command("programmes", "reaggregate", "--project", "999999")


def test_the_registry_index_behind_the_figures_holds_every_category() -> None:
    """On PostgreSQL the figures read the children's area, sex, birth date and categories
    from a covering index: a category column missing from it would send every count back
    to the table."""
    migration = importlib.import_module("shouhu.children.migrations.0009_postgres_facts_index")
    assert migration.COLUMNS[3:] == tuple(f"cat_{code}" for code in CATEGORY_CODES)
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'child_area_facts'")
        (definition,) = cursor.fetchone()
    for column in migration.COLUMNS:
        assert column in definition
