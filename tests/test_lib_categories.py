"""Every category rule and its edges, on facts alone (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from shouhu.lib.categories import ChildFacts, ParentFacts, derive

D = dt.date
HOME = "341524101204"  # 金寨县 麻埠镇 全山村
SAME_TOWNSHIP = "341524101205"
OTHER_TOWNSHIP_SAME_COUNTY = "341524100002"
HANGZHOU = "330106000000"


def away(
    relation: str, since: dt.date = D(2024, 1, 15), place: str = HANGZHOU, **kw
) -> ParentFacts:  # type: ignore[no-untyped-def]
    return ParentFacts(
        relation=relation, away=True, away_since=since, away_reason="work", away_place=place, **kw
    )


def home(relation: str, capacity: str = "able") -> ParentFacts:
    return ParentFacts(relation=relation, capacity=capacity)


def child(parents: tuple[ParentFacts, ...], born: dt.date = D(2015, 6, 1), **kw) -> ChildFacts:  # type: ignore[no-untyped-def]
    return ChildFacts(birth_date=born, residence=HOME, hukou=HOME, parents=parents, **kw)


ON = D(2026, 11, 22)


class TestMcaLeftBehind:
    def test_both_parents_away_for_work_is_left_behind(self) -> None:
        assert derive(child((away("father"), away("mother"))), ON).left_behind_mca

    def test_one_parent_away_and_the_other_at_home_and_able_is_not(self) -> None:
        result = derive(child((away("father"), home("mother"))), ON)
        assert not result.left_behind_mca
        assert result.left_behind_census  # the census counts one parent away

    @pytest.mark.parametrize(
        "capacity", ["disabled", "seriously_ill", "imprisoned", "rehab", "missing", "deceased"]
    )
    def test_one_parent_away_and_the_other_incapable_is_left_behind(self, capacity: str) -> None:
        assert derive(child((away("father"), home("mother", capacity))), ON).left_behind_mca
        assert derive(child((home("father", capacity), away("mother"))), ON).left_behind_mca

    def test_the_day_before_the_16th_birthday_counts_and_the_birthday_does_not(self) -> None:
        facts = child((away("father"), away("mother")), born=D(2010, 11, 22))
        assert derive(facts, D(2026, 11, 21)).left_behind_mca
        assert not derive(facts, D(2026, 11, 22)).left_behind_mca
        assert derive(facts, D(2026, 11, 22)).left_behind_census  # census goes to 17

    def test_six_months_exactly_counts_one_day_less_does_not(self) -> None:
        facts = child((away("father", since=D(2026, 5, 22)), away("mother", since=D(2026, 5, 22))))
        assert derive(facts, D(2026, 11, 22)).left_behind_mca
        assert not derive(facts, D(2026, 11, 21)).left_behind_mca

    def test_six_months_from_the_end_of_a_month_clamps(self) -> None:
        facts = child((away("father", since=D(2026, 8, 31)), away("mother", since=D(2026, 8, 31))))
        assert not derive(facts, D(2027, 2, 27)).left_behind_mca
        assert derive(facts, D(2027, 2, 28)).left_behind_mca

    def test_working_inside_the_county_is_not_away(self) -> None:
        facts = child(
            (away("father", place=OTHER_TOWNSHIP_SAME_COUNTY), away("mother", place=HANGZHOU))
        )
        assert not derive(facts, ON).left_behind_mca
        assert derive(facts, ON).left_behind_census  # left the township

    def test_away_for_study_is_not_work(self) -> None:
        facts = child(
            (
                away("father"),
                ParentFacts(
                    "mother",
                    away=True,
                    away_since=D(2024, 1, 1),
                    away_reason="study",
                    away_place=HANGZHOU,
                ),
            )
        )
        assert not derive(facts, ON).left_behind_mca

    def test_unknown_destination_still_counts_as_away(self) -> None:
        facts = child((away("father", place=""), away("mother", place="")))
        assert derive(facts, ON).left_behind_mca


class TestCensusLeftBehind:
    def test_seventeen_year_old_counts_eighteen_does_not(self) -> None:
        facts = child((away("father"), home("mother")), born=D(2008, 11, 23))
        assert derive(facts, ON).left_behind_census
        assert not derive(facts, D(2026, 11, 23)).left_behind_census

    def test_a_parent_in_the_same_township_has_not_left(self) -> None:
        facts = child((away("father", place=SAME_TOWNSHIP), home("mother")))
        assert not derive(facts, ON).left_behind_census

    def test_no_parent_away_is_not_left_behind(self) -> None:
        assert not derive(child((home("father"), home("mother"))), ON).left_behind_census


class TestMigrant:
    def test_six_months_outside_the_hukou_county_is_migrant(self) -> None:
        facts = ChildFacts(
            birth_date=D(2015, 1, 1),
            residence="440306017001",
            hukou=HOME,
            residence_since=D(2026, 5, 22),
        )
        assert derive(facts, ON).migrant
        assert not derive(facts, D(2026, 11, 21)).migrant

    def test_moving_between_districts_of_one_city_does_not_count(self) -> None:
        facts = ChildFacts(
            birth_date=D(2015, 1, 1),
            residence="440306017001",
            hukou="440304001001",
            residence_since=D(2020, 1, 1),
        )
        assert not derive(facts, ON, district_codes=frozenset({"440306", "440304"})).migrant
        assert derive(facts, ON, district_codes=frozenset({"440306"})).migrant

    def test_no_hukou_or_same_county_is_not_migrant(self) -> None:
        assert not derive(
            ChildFacts(
                birth_date=D(2015, 1, 1), residence=HOME, hukou="", residence_since=D(2020, 1, 1)
            ),
            ON,
        ).migrant
        assert not derive(
            ChildFacts(
                birth_date=D(2015, 1, 1),
                residence=HOME,
                hukou=SAME_TOWNSHIP,
                residence_since=D(2020, 1, 1),
            ),
            ON,
        ).migrant

    def test_sixteen_year_olds_are_not_counted(self) -> None:
        facts = ChildFacts(
            birth_date=D(2010, 11, 22),
            residence="440306017001",
            hukou=HOME,
            residence_since=D(2020, 1, 1),
        )
        assert not derive(facts, ON).migrant


class TestDifficultyAndUnsupported:
    def test_poverty_from_household_aid(self) -> None:
        assert derive(child((), household_aid="dibao"), ON).difficulty_poverty
        assert derive(child((), household_aid="tekun"), ON).difficulty_poverty
        assert not derive(child((), household_aid="none"), ON).difficulty_poverty

    def test_disability(self) -> None:
        assert derive(child((), disabled=True), ON).difficulty_disability
        assert not derive(child(()), ON).difficulty_disability

    @pytest.mark.parametrize(
        ("gtype", "rating"),
        [("none", ""), ("parent_unable", ""), ("delegate_insufficient", ""), ("ordinary", "poor")],
    )
    def test_guardianship_missing_or_poor(self, gtype: str, rating: str) -> None:
        assert derive(
            child((), guardianship_type=gtype, guardianship_rating=rating), ON
        ).difficulty_guardianship

    def test_good_guardianship_is_not_a_difficulty(self) -> None:
        assert not derive(
            child(
                (home("father"), home("mother")),
                guardianship_type="good",
                guardianship_rating="good",
            ),
            ON,
        ).difficulty_guardianship

    @pytest.mark.parametrize(
        ("father", "mother", "expected"),
        [
            ("imprisoned", "seriously_ill", True),
            ("disabled", "rehab", True),
            ("missing", "missing", True),
            ("deceased", "imprisoned", True),
            ("missing", "disabled", True),
            ("deceased", "able", False),
            ("imprisoned", "able", False),
            ("deceased", "deceased", False),  # an orphan instead
        ],
    )
    def test_de_facto_unsupported(self, father: str, mother: str, expected: bool) -> None:
        result = derive(child((home("father", father), home("mother", mother))), ON)
        assert result.de_facto_unsupported is expected
        if expected:
            assert result.difficulty_guardianship

    def test_orphan_when_both_parents_dead(self) -> None:
        result = derive(child((home("father", "deceased"), home("mother", "deceased"))), ON)
        assert result.orphan and not result.de_facto_unsupported and not result.left_behind_mca

    def test_one_parent_record_missing_is_neither_orphan_nor_unsupported(self) -> None:
        result = derive(child((home("father", "deceased"),)), ON)
        assert not result.orphan and not result.de_facto_unsupported

    def test_adults_have_no_categories(self) -> None:
        facts = child(
            (home("father", "deceased"), home("mother", "deceased")),
            born=D(2008, 1, 1),
            household_aid="dibao",
            disabled=True,
        )
        assert derive(facts, ON).codes() == []


def test_valid_until_is_the_next_date_a_result_can_change_by_itself() -> None:
    facts = child(
        (away("father", since=D(2026, 10, 1)), away("mother", since=D(2026, 10, 1))),
        born=D(2015, 6, 1),
    )
    result = derive(facts, ON)
    assert result.valid_until == D(2027, 4, 1)
    assert not result.left_behind_mca
    assert derive(facts, D(2027, 4, 1)).left_behind_mca
