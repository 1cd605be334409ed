"""Registering and changing children: validation, encryption, categories, history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from shouhu.audit.models import ChangeRecord
from shouhu.children import assignments, categories, editing, registration
from shouhu.children.data import ConflictError, MemberData
from shouhu.children.models import Child
from shouhu.lib import dates, protect
from tests.world import BORN, ID_A1, TODAY, VILLAGE_A, VILLAGE_B, World, child_data, register

pytestmark = pytest.mark.django_db


def test_registration_stores_the_id_number_only_encrypted_with_lookup_hashes(world: World) -> None:
    child = world.children["a1"]
    assert ID_A1 not in child.id_number_enc
    assert protect.unseal(child.id_number_enc) == ID_A1
    assert Child.objects.get(id_number_hash=protect.id_hash(ID_A1)) == child
    assert Child.objects.get(id_tail_hash=protect.id_tail_hash(ID_A1[-4:])) == child


def test_phones_are_encrypted(world: World) -> None:
    father = world.children["a1"].household.members.get(relation="father")
    assert "13800138000" not in father.phone_enc
    assert protect.unseal(father.phone_enc) == "13800138000"
    assert father.phone_hash == protect.phone_hash("+86 138-0013-8000")


def test_categories_are_derived_on_registration(world: World) -> None:
    a1 = world.children["a1"]
    assert a1.cat_left_behind_mca and a1.cat_left_behind_census and not a1.cat_migrant
    assert world.children["dest1"].cat_migrant
    assert a1.name_pinyin == "zhangwei" and a1.name_initials == "zw"


def test_invalid_input_reports_every_field(world: World) -> None:
    data = child_data(
        "",
        "999999999999",
        sex="X",
        id_number="341524201503010010",
        birth_date=dt.date(2030, 1, 1),
        living_arrangement="moon",
    )
    with pytest.raises(ValidationError) as err:
        register(world.director_a, data)
    fields = set(err.value.message_dict)
    assert {
        "name",
        "sex",
        "id_number",
        "birth_date",
        "residence_code",
        "living_arrangement",
    } <= fields


def test_id_number_must_agree_with_birth_date(world: World) -> None:
    data = child_data("赵六", VILLAGE_A, id_number=ID_A1, birth_date=dt.date(2015, 3, 2))
    with pytest.raises(ValidationError) as err:
        register(world.director_a, data)
    assert (
        "date of birth" in err.value.message_dict["id_number"][0].lower()
        or err.value.message_dict["id_number"]
    )


def test_member_errors_name_the_member(world: World) -> None:
    members = [MemberData(name="父亲", relation="father", away=True)]
    with pytest.raises(ValidationError) as err:
        register(world.director_a, child_data("赵六", VILLAGE_A), members=members)
    assert "members.0.away_since" in err.value.message_dict


def test_a_director_cannot_register_in_another_village(world: World) -> None:
    with pytest.raises(PermissionDenied):
        register(world.director_a, child_data("赵六", VILLAGE_B))
    with pytest.raises(PermissionDenied):
        register(world.teacher_a, child_data("赵六", VILLAGE_A))


def test_update_recomputes_categories_and_keeps_history(world: World) -> None:
    child = world.children["a1"]
    updated = editing.child_update(
        actor=world.director_a,
        child=child,
        version=child.version,
        changes={"disability_type": "视力", "grade": "四年级"},
        today=TODAY,
    )
    assert updated.cat_difficulty_disability
    assert updated.version == child.version + 1
    record = ChangeRecord.objects.filter(child_id=child.pk, operation="update").first()
    assert record is not None and record.actor == world.director_a
    assert record.changes["grade"] == ["三年级", "四年级"]
    assert record.changes["cat_difficulty_disability"] == [False, True]


def test_history_never_holds_plaintext_identifiers(world: World) -> None:
    child = world.children["a1"]
    editing.child_update(
        actor=world.director_a,
        child=child,
        version=child.version,
        changes={"id_number": ""},
        today=TODAY,
    )
    for record in ChangeRecord.objects.filter(child_id=child.pk):
        assert ID_A1 not in str(record.changes)
        assert "13800138000" not in str(record.changes)


def test_stale_version_is_refused_and_nothing_is_written(world: World) -> None:
    child = world.children["a1"]
    editing.child_update(
        actor=world.director_a,
        child=child,
        version=child.version,
        changes={"grade": "四年级"},
        today=TODAY,
    )
    with pytest.raises(ConflictError):
        editing.child_update(
            actor=world.supervisor,
            child=child,
            version=child.version,
            changes={"grade": "六年级"},
            today=TODAY,
        )
    assert Child.objects.get(pk=child.pk).grade == "四年级"


def test_teachers_and_officials_cannot_edit(world: World) -> None:
    child = world.children["a1"]
    for user in (world.teacher_a, world.official, world.volunteer):
        with pytest.raises(PermissionDenied):
            editing.child_update(
                actor=user, child=child, version=child.version, changes={"grade": "x"}
            )


def test_parent_coming_home_ends_left_behind_for_every_sibling(world: World) -> None:
    a1 = world.children["a1"]
    sibling = registration.child_register(
        actor=world.director_a,
        child=child_data("张丽", VILLAGE_A, sex="F"),
        household_id=a1.household_id,
        today=TODAY,
    )
    assert sibling.cat_left_behind_mca
    mother = a1.household.members.get(relation="mother")
    editing.member_update(
        actor=world.director_a, member=mother, changes={"away": False}, today=TODAY
    )
    for child in (a1, sibling):
        child.refresh_from_db()
        assert not child.cat_left_behind_mca
        assert child.cat_left_behind_census  # father still away


def test_daily_recompute_catches_birthdays(world: World) -> None:
    child = world.children["a1"]
    assert child.categories_valid_until is not None
    n = categories.children_recompute_due(on=dates.add_years(BORN, 16))  # a1 turns 16
    assert n >= 1
    child.refresh_from_db()
    assert not child.cat_left_behind_mca and child.cat_left_behind_census
    assert categories.children_recompute_due(on=dates.add_years(BORN, 16)) == 0  # idempotent


def test_referral_needs_consent_or_legal_basis(world: World) -> None:
    with pytest.raises(ValidationError):
        assignments.assignment_create(
            actor=None, child=world.children["c1"], organisation=world.orgs["swo"], kind="referral"
        )
