"""Search, masking and reveal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from shouhu.audit.models import AccessLog
from shouhu.children import selectors
from shouhu.children.selectors import ChildFilters, children_search
from tests.world import ID_A1, TODAY, TOWNSHIP_1, VILLAGE_A, World, child_data, register

pytestmark = pytest.mark.django_db


def names(user, **kw) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.name for c in children_search(user=user, filters=ChildFilters(**kw), today=TODAY)}


@pytest.mark.parametrize("q", ["张伟", "张", "zhangwei", "zhang", "zw", "ZW", "zhang wei"])
def test_search_by_name_pinyin_and_initials(world: World, q: str) -> None:
    assert names(world.official, q=q) == {"张伟"}


def test_search_by_last_digits_of_the_id_number(world: World) -> None:
    assert names(world.director_a, q=ID_A1[-4:]) == {"张伟"}
    assert names(world.director_a, q=ID_A1) == {"张伟"}
    assert names(world.director_a, q="9999") == set()


def _id_ending(tail: str) -> tuple[str, dt.date]:
    """A valid ID number of the demo county, born in 2016, that ends `tail` (three digits of
    sequence and the check digit), and its birth date."""
    from stdnum.cn import ric

    for day in range(366):
        born = dt.date(2016, 1, 1) + dt.timedelta(days=day)
        body = f"341524{born:%Y%m%d}{tail[:3]}"
        if ric.calc_check_digit(body + "0") == tail[3]:  # it ignores the last character
            return body + tail[3], born
    raise AssertionError("no such number")


def test_longer_id_tails_match_every_given_character(world: World) -> None:
    """The index finds the last four characters; six given characters must all match."""
    twin_tail, born = _id_ending(ID_A1[-4:])
    assert twin_tail[-6:] != ID_A1[-6:]
    sex = "M" if int(twin_tail[-2]) % 2 else "F"
    data = child_data("周杰", VILLAGE_A, id_number=twin_tail, sex=sex, birth_date=born)
    register(world.director_a, data)
    assert names(world.director_a, q=ID_A1[-4:]) == {"张伟", "周杰"}
    assert names(world.director_a, q=ID_A1[-6:]) == {"张伟"}
    assert names(world.director_a, q=twin_tail[-8:]) == {"周杰"}
    assert names(world.director_a, q="0" + ID_A1[-6:]) == set()


def test_search_by_a_guardians_mobile_number(world: World) -> None:
    found = names(world.director_a, q="13800138000")
    assert "张伟" in found
    assert names(world.director_a, q="+86 138 0013 8000") == found
    assert names(world.director_a, q="13800138001") == set()
    assert names(world.teacher_a, q="13800138000") == set()  # identifying: not for teachers
    assert names(world.director_b, q="13800138000") <= {"李娜"}  # never beyond scope


def test_id_search_needs_identifying_access(world: World) -> None:
    assert names(world.teacher_a, q=ID_A1[-4:]) == set()
    assert names(world.official, q=ID_A1[-4:]) == set()


def test_search_never_crosses_scope(world: World) -> None:
    assert names(world.teacher_b, q="zw") == set()
    assert names(world.director_b, q="张伟") == set()


def test_filters(world: World) -> None:
    assert names(world.official, place=TOWNSHIP_1) == {"张伟", "李娜"}
    assert names(world.official, place=VILLAGE_A) == {"张伟"}
    assert names(world.official, school_id=world.orgs["school_b"].pk) == {"李娜"}
    assert names(world.official, category="left_behind_mca") == {"张伟", "李娜", "王芳"}
    assert names(world.official, age_min=11, age_max=11) == {"张伟", "李娜", "王芳"}
    assert names(world.official, age_min=12) == set()


def test_sensitive_category_filter_only_over_sensitive_grants(world: World) -> None:
    world.children["a1"].cat_orphan = True
    world.children["a1"].save()
    assert names(world.director_a, category="orphan") == {"张伟"}
    assert names(world.teacher_a, category="orphan") == set()
    assert names(world.official, category="orphan") == set()


def test_present_child_masks_by_ceiling(world: World) -> None:
    a1 = world.children["a1"]
    director = selectors.present_child(world.director_a, a1, today=TODAY)
    teacher = selectors.present_child(world.teacher_a, a1, today=TODAY)
    assert director["id_number"] == f"3415**********{ID_A1[-4:]}"
    assert teacher["id_number"] == "***"
    assert director["health"] == "well" and teacher["health"] == "***"
    father = next(m for m in teacher["household"]["members"] if m["relation"] == "father")
    assert father["phone"] == "***" and father["capacity"] == "***"
    father = next(m for m in director["household"]["members"] if m["relation"] == "father")
    assert father["phone"] == "138****8000"
    assert ID_A1 not in str(director) and "13800138000" not in str(director)


def test_reveal_within_ceiling_is_logged(world: World) -> None:
    values = selectors.reveal(
        user=world.director_a, child=world.children["a1"], field_class="identifying"
    )
    assert values["id_number"] == ID_A1
    entry = AccessLog.objects.get(action="reveal", user=world.director_a)
    assert entry.fields == ["identifying"] and entry.detail["break_glass"] is False


def test_break_glass_needs_an_official_and_a_reason(world: World) -> None:
    a1 = world.children["a1"]
    with pytest.raises(PermissionDenied):
        selectors.reveal(
            user=world.teacher_a, child=a1, field_class="identifying", reason="just curious, really"
        )
    with pytest.raises(PermissionDenied):
        selectors.reveal(user=world.official, child=a1, field_class="identifying", reason="")
    values = selectors.reveal(
        user=world.official,
        child=a1,
        field_class="sensitive",
        reason="核查困境儿童认定材料 2026-11",
        purpose="verification",
    )
    assert values["health"] == "well"
    entry = AccessLog.objects.get(action="reveal", user=world.official)
    assert entry.purpose == "break_glass" and "核查" in entry.reason


def test_possible_duplicates_are_only_the_visible_ones(world: World) -> None:
    """A child outside the user's area is not looked at: not shown, not counted."""
    a1 = world.children["a1"]
    visible = selectors.possible_duplicates(
        user=world.director_a, id_number=ID_A1, name="", birth_date=None, village_code=""
    )
    assert visible == [a1]
    assert (
        selectors.possible_duplicates(
            user=world.director_b, id_number=ID_A1, name="", birth_date=None, village_code=""
        )
        == []
    )
