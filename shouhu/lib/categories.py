"""Official categories derived from facts, never typed by hand.

Definitions (see shared/domain/china-practice.md §2):
- MCA left-behind (国发〔2016〕13号, 2024 rules): under 16; both parents away for work, or one
  away for work and the other without guardianship capacity; "away" = outside the child's
  county for at least 6 consecutive months (visits home do not break it).
- Census left-behind (NBS): ages 0–17; at least one parent has left the child's township for
  at least 6 months, for any reason.
- Migrant (民发〔2024〕17号): under 16; living at least 6 months outside the hukou county;
  moves between districts (区) of one city do not count.
- 困境儿童 (国发〔2016〕36号), under 18: poverty (household on 低保 / 特困 / low-income aid);
  disability; guardianship missing or inadequate (no guardian, parents unable, delegate
  insufficient, or a 差 rating).
- 事实无人抚养 (民发〔2019〕62号): under 18; both parents severely disabled, seriously ill,
  imprisoned, in drug rehabilitation or out of contact; or one dead or missing and the other in
  one of those situations.
- Orphan: under 18, both parents dead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shouhu.lib.dates import add_months, add_years

LONG_TERM_MONTHS = 6

# Capacities (监护能力) as recorded for each parent.
ABLE = "able"
DISABLED = "disabled"  # severe disability affecting guardianship capacity
SERIOUSLY_ILL = "seriously_ill"
IMPRISONED = "imprisoned"
REHAB = "rehab"  # compulsory drug rehabilitation
MISSING = "missing"  # out of contact / missing
DECEASED = "deceased"

INCAPABLE = frozenset({DISABLED, SERIOUSLY_ILL, IMPRISONED, REHAB, MISSING, DECEASED})
# 事实无人抚养: the "situations" of 民发〔2019〕62号 for a living parent ...
UNSUPPORTING = frozenset({DISABLED, SERIOUSLY_ILL, IMPRISONED, REHAB, MISSING})
# ... and the states that count as "dead or missing" for the other parent.
GONE = frozenset({DECEASED, MISSING})

POOR_AID = frozenset({"dibao", "tekun", "low_income"})
POOR_GUARDIANSHIP_TYPES = frozenset({"none", "parent_unable", "delegate_insufficient"})


@dataclass(frozen=True)
class ParentFacts:
    relation: str  # "father" or "mother"
    capacity: str = ABLE
    away: bool = False
    away_since: dt.date | None = None
    away_reason: str = ""  # "work", "study", "other"
    away_place: str = ""  # 12-digit division code, "" when unknown


@dataclass(frozen=True)
class ChildFacts:
    birth_date: dt.date
    residence: str  # 12-digit village code
    hukou: str = ""  # 12-digit code (county or finer); "" when the child has no hukou
    residence_since: dt.date | None = None
    parents: tuple[ParentFacts, ...] = ()
    household_aid: str = "none"
    disabled: bool = False
    guardianship_type: str = ""
    guardianship_rating: str = ""


@dataclass(frozen=True)
class Categories:
    left_behind_mca: bool = False
    left_behind_census: bool = False
    migrant: bool = False
    difficulty_poverty: bool = False
    difficulty_disability: bool = False
    difficulty_guardianship: bool = False
    de_facto_unsupported: bool = False
    orphan: bool = False
    # The first day on which the result may change with no new fact (a birthday, the end of
    # six months away); None when nothing is pending.
    valid_until: dt.date | None = field(default=None, compare=False)

    def codes(self) -> list[str]:
        return [name for name in CATEGORY_CODES if getattr(self, name)]


CATEGORY_CODES = (
    "left_behind_mca",
    "left_behind_census",
    "migrant",
    "difficulty_poverty",
    "difficulty_disability",
    "difficulty_guardianship",
    "de_facto_unsupported",
    "orphan",
)


def county(code: str) -> str:
    return code[:6]


def township(code: str) -> str:
    return code[:9]


def _parent(facts: ChildFacts, relation: str) -> ParentFacts | None:
    return next((p for p in facts.parents if p.relation == relation), None)


def _long_term(since: dt.date | None, on: dt.date) -> bool:
    """Six consecutive months: away since 2024-01-15 counts from 2024-07-15 inclusive."""
    return since is not None and add_months(since, LONG_TERM_MONTHS) <= on


def _away_beyond(parent: ParentFacts, home: str, level: int, on: dt.date) -> bool:
    """Away for six months and, where the place is known, outside the child's unit at `level`
    code digits (6 = county, 9 = township)."""
    if not parent.away or parent.capacity == DECEASED:
        return False
    if parent.away_place and parent.away_place[:level] == home[:level]:
        return False
    return _long_term(parent.away_since, on)


def _away_for_work(parent: ParentFacts | None, facts: ChildFacts, on: dt.date) -> bool:
    return (
        parent is not None
        and parent.away_reason == "work"
        and parent.capacity == ABLE
        and _away_beyond(parent, facts.residence, 6, on)
    )


def _incapable(parent: ParentFacts | None) -> bool:
    return parent is not None and parent.capacity in INCAPABLE


def left_behind_mca(facts: ChildFacts, on: dt.date) -> bool:
    if on >= add_years(facts.birth_date, 16):
        return False
    father, mother = _parent(facts, "father"), _parent(facts, "mother")
    f_away, m_away = _away_for_work(father, facts, on), _away_for_work(mother, facts, on)
    return (f_away and m_away) or (f_away and _incapable(mother)) or (m_away and _incapable(father))


def left_behind_census(facts: ChildFacts, on: dt.date) -> bool:
    if on >= add_years(facts.birth_date, 18):
        return False
    return any(
        _away_beyond(p, facts.residence, 9, on)
        for p in facts.parents
        if p.relation in {"father", "mother"}
    )


def _same_city_districts(a: str, b: str, district_codes: frozenset[str]) -> bool:
    return a[:4] == b[:4] and county(a) in district_codes and county(b) in district_codes


def migrant(facts: ChildFacts, on: dt.date, district_codes: frozenset[str]) -> bool:
    if on >= add_years(facts.birth_date, 16) or not facts.hukou:
        return False
    if county(facts.hukou) == county(facts.residence):
        return False
    if _same_city_districts(facts.hukou, facts.residence, district_codes):
        return False
    return _long_term(facts.residence_since, on)


def de_facto_unsupported(facts: ChildFacts, on: dt.date) -> bool:
    if on >= add_years(facts.birth_date, 18):
        return False
    father, mother = _parent(facts, "father"), _parent(facts, "mother")
    if father is None or mother is None:
        return False
    f, m = father.capacity, mother.capacity
    if f == DECEASED and m == DECEASED:
        return False  # an orphan
    both_unsupporting = f in UNSUPPORTING and m in UNSUPPORTING
    one_gone = (f in GONE and m in UNSUPPORTING) or (m in GONE and f in UNSUPPORTING)
    return both_unsupporting or one_gone


def orphan(facts: ChildFacts, on: dt.date) -> bool:
    if on >= add_years(facts.birth_date, 18):
        return False
    father, mother = _parent(facts, "father"), _parent(facts, "mother")
    return (
        father is not None
        and mother is not None
        and father.capacity == DECEASED
        and mother.capacity == DECEASED
    )


def _pending_dates(facts: ChildFacts, on: dt.date) -> list[dt.date]:
    dates = [add_years(facts.birth_date, 16), add_years(facts.birth_date, 18)]
    dates += [add_months(p.away_since, LONG_TERM_MONTHS) for p in facts.parents if p.away_since]
    if facts.residence_since:
        dates.append(add_months(facts.residence_since, LONG_TERM_MONTHS))
    return sorted(d for d in dates if d > on)


def derive(
    facts: ChildFacts, on: dt.date, district_codes: frozenset[str] = frozenset()
) -> Categories:
    """All categories of a child on day `on`. `district_codes` are the 6-digit codes of city
    districts (市辖区), needed for the migrant rule's same-city exception."""
    minor = on < add_years(facts.birth_date, 18)
    unsupported = de_facto_unsupported(facts, on)
    is_orphan = orphan(facts, on)
    pending = _pending_dates(facts, on)
    return Categories(
        left_behind_mca=left_behind_mca(facts, on),
        left_behind_census=left_behind_census(facts, on),
        migrant=migrant(facts, on, district_codes),
        difficulty_poverty=minor and facts.household_aid in POOR_AID,
        difficulty_disability=minor and facts.disabled,
        difficulty_guardianship=minor
        and (
            unsupported
            or is_orphan
            or facts.guardianship_type in POOR_GUARDIANSHIP_TYPES
            or facts.guardianship_rating == "poor"
        ),
        de_facto_unsupported=unsupported,
        orphan=is_orphan,
        valid_until=pending[0] if pending else None,
    )
