"""Bulk registration: all or nothing, errors with row and field, no duplicates on re-run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shouhu.audit.models import ChangeRecord
from shouhu.children.bulk import RegistrationRow, bulk_register
from shouhu.children.data import HouseholdData, MemberData
from shouhu.children.models import Child, FamilyMember, Household
from tests.world import TODAY, VILLAGE_A, VILLAGE_B, World, away_parents, child_data

pytestmark = pytest.mark.django_db


def row(
    line: int, name: str, ref: str = "H1", village: str = VILLAGE_A, members=None, **kw
) -> RegistrationRow:  # type: ignore[no-untyped-def]
    return RegistrationRow(
        line=line,
        household_ref=ref,
        household=HouseholdData(village_code=village),
        child=child_data(name, village, **kw),
        members=away_parents() if members is None else members,
    )


def test_siblings_share_a_household_and_reimport_creates_nothing(world: World) -> None:
    rows = [
        row(2, "陈一"),
        row(3, "陈二", birth_date=dt.date(2017, 5, 1), members=[]),
        row(4, "周三", ref="H2"),
    ]
    first = bulk_register(actor=world.director_a, rows=rows, today=TODAY)
    assert (first.created, first.skipped, first.errors) == (3, 0, [])
    chen1, chen2 = Child.objects.get(name="陈一"), Child.objects.get(name="陈二")
    assert chen1.household_id == chen2.household_id
    assert chen2.cat_left_behind_mca  # categories from the shared parents
    counts = (Child.objects.count(), Household.objects.count(), FamilyMember.objects.count())
    again = bulk_register(actor=world.director_a, rows=rows, today=TODAY)
    assert (again.created, again.skipped) == (0, 3)
    assert (
        Child.objects.count(),
        Household.objects.count(),
        FamilyMember.objects.count(),
    ) == counts


def test_any_error_writes_nothing_and_names_row_and_field(world: World) -> None:
    before = Child.objects.count()
    bad_member = [MemberData(name="父", relation="uncle")]
    rows = [
        row(2, "好孩子"),
        row(3, "", ref="H9"),
        row(4, "错号", ref="H8", id_number="341524201503010010"),
        row(5, "x", ref="H7", members=bad_member),
    ]
    result = bulk_register(actor=world.director_a, rows=rows, today=TODAY)
    assert result.created == 0
    assert {(e.line, e.field) for e in result.errors} == {
        (3, "name"),
        (4, "id_number"),
        (5, "members.0.relation"),
    }
    assert Child.objects.count() == before


def test_rows_outside_the_importers_area_are_errors(world: World) -> None:
    result = bulk_register(
        actor=world.director_a, rows=[row(2, "外村", village=VILLAGE_B)], today=TODAY
    )
    assert [(e.line, e.field) for e in result.errors] == [(2, "residence_code")]


def test_import_records_history_of_new_households_and_members(world: World) -> None:
    """Every household and family member an import creates has its change record (who,
    before, after), filed under a child of the household, as registration writes them."""
    rows = [
        row(2, "陈一"),
        row(3, "陈二", birth_date=dt.date(2017, 5, 1), members=[]),
        row(4, "周三", ref="H2", members=[MemberData(name="周母", relation="mother")]),
    ]
    rows[0].household.aid = "dibao"
    result = bulk_register(actor=world.director_a, rows=rows, today=TODAY)
    assert result.created == 3
    chen1, zhou = Child.objects.get(name="陈一"), Child.objects.get(name="周三")
    new = ChangeRecord.objects.filter(
        operation="create", child_id__in=[chen1.pk, zhou.pk, Child.objects.get(name="陈二").pk]
    )
    households = new.filter(object_type="household")
    assert sorted((r.object_id, r.child_id) for r in households) == sorted(
        [(str(chen1.household_id), chen1.pk), (str(zhou.household_id), zhou.pk)]
    )
    chen_home = households.get(object_id=str(chen1.household_id))
    assert chen_home.actor_id == world.director_a.pk and chen_home.actor_name == "director_a"
    assert chen_home.changes["aid"] == [None, "dibao"]
    assert chen_home.changes["village"] == [None, VILLAGE_A]
    members = new.filter(object_type="familymember")
    assert sorted((r.object_id, r.child_id) for r in members) == sorted(
        (str(m.pk), chen1.pk if m.household_id == chen1.household_id else zhou.pk)
        for m in FamilyMember.objects.filter(household__in=[chen1.household, zhou.household])
    )
    assert members.count() == 4
    father = members.get(object_id=str(chen1.household.members.get(relation="father").pk))
    assert father.changes["relation"] == [None, "father"]
    assert father.changes["away_since"] == [None, "2024-02-01"]
    assert father.changes["phone_enc"] == [None, "[encrypted value changed]"]
    assert "13800138000" not in str(list(new.values_list("changes", flat=True)))
    # Re-importing the same rows creates nothing, so writes no history either.
    before = ChangeRecord.objects.count()
    bulk_register(actor=world.director_a, rows=rows, today=TODAY)
    assert ChangeRecord.objects.count() == before


def test_import_history_is_set_based(world: World) -> None:
    """The history of households and members costs no query per row."""

    def queries_for(rows: list[RegistrationRow]) -> int:
        with CaptureQueriesContext(connection) as ctx:
            result = bulk_register(
                actor=world.director_a, rows=rows, today=TODAY, assess_risk=False
            )
        assert result.created == len(rows)
        return len(ctx.captured_queries)

    small = queries_for([row(2, "孙一", ref="S1")])
    large = queries_for([row(i, f"赵{i}", ref=f"Z{i}") for i in range(2, 12)])
    assert large == small
    assert ChangeRecord.objects.filter(object_type="household").count() >= 11
