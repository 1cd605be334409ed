"""Synthetic registry data: households of a real county's villages with parents working in
real destination cities, grandparent carers, siblings, schools, and migrant children in a
destination district. One generator for the demo county (`shouhu demo load`) and for data
at scale (`shouhu gen`). Seeded: the same seed gives the same people.

Nothing here types a category: rows go through the registry's bulk path, which derives them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from shouhu.children.bulk import RegistrationRow
from shouhu.children.data import ChildData, HouseholdData, MemberData
from shouhu.children.models import Aid, AwayReason, Capacity, Living, Schooling
from shouhu.demo import people

HOME_COUNTY = "341524"  # 金寨县, 安徽省六安市: a county of labour emigration
DESTINATION = "440306"  # 宝安区, 深圳市: a district of labour immigration
# Where the county's parents work (county-level codes of the 2023 divisions).
WORK_PLACES: tuple[tuple[str, float], ...] = (
    ("440306000000", 14),  # 深圳 宝安区
    ("440304000000", 4),  # 深圳 福田区
    ("441900000000", 10),  # 东莞市
    ("440113000000", 5),  # 广州 番禺区
    ("330106000000", 8),  # 杭州 西湖区
    ("330110000000", 8),  # 杭州 余杭区
    ("320505000000", 7),  # 苏州 虎丘区
    ("320583000000", 9),  # 昆山市
    ("310115000000", 12),  # 上海 浦东新区
    ("340104000000", 10),  # 合肥 蜀山区
    ("340102000000", 5),  # 合肥 瑶海区
    ("350203000000", 3),  # 厦门 思明区
    ("330382000000", 5),  # 乐清市
)
WORK_PICKER = people.Picker(WORK_PLACES)

# Family situations of the county's households and their weights.
SITUATIONS: tuple[tuple[str, float], ...] = (
    ("both_away", 34.0),
    ("father_away", 20.0),
    ("mother_away", 5.0),
    ("both_home", 30.0),
    ("away_and_incapable", 3.0),
    ("single_parent_away", 4.0),
    ("de_facto_unsupported", 2.0),
    ("orphan", 0.6),
    ("delegated_carer", 1.4),
)
SITUATION_PICKER = people.Picker(SITUATIONS)


@dataclass(frozen=True)
class Village:
    code: str
    township: str


@dataclass(frozen=True)
class Area:
    """Where generated children live: villages, and the schools of each township."""

    villages: Sequence[Village]
    schools: dict[str, tuple[int | None, int | None]]  # township → (primary, middle) ids
    migrant: bool = False  # a destination district: children come from elsewhere
    hukou_villages: Sequence[str] = ()


def _grade(age: int) -> tuple[str, str]:
    """(schooling, grade) for an age in September."""
    if age < 3:
        return Schooling.PRESCHOOL_AGE, ""
    if age < 6:
        return Schooling.KINDERGARTEN, ""
    if age < 12:
        return Schooling.ENROLLED, ["一", "二", "三", "四", "五", "六"][age - 6] + "年级"
    if age < 15:
        return Schooling.ENROLLED, ["七", "八", "九"][age - 12] + "年级"
    return Schooling.ENROLLED, ["高一", "高二", "高三"][min(age - 15, 2)]


class Generator:
    def __init__(self, seed: int, today: dt.date, *, id_seed: int | None = None) -> None:
        self.rng = random.Random(seed)
        self.ids = people.IdNumbers(seed if id_seed is None else id_seed)
        self.today = today
        self.household_seq = 0

    def _parent(self, relation: str, surname: str, *, age: int) -> MemberData:
        sex = "M" if relation in {"father", "paternal_grandfather", "maternal_grandfather"} else "F"
        return MemberData(
            name=surname + people.given_name(self.rng, sex, adult=True),
            relation=relation,
            is_guardian=relation in {"father", "mother"},
            phone=people.phone(self.rng),
        )

    def _away(self, member: MemberData, *, reason: str = AwayReason.WORK) -> None:
        member.away = True
        member.away_place_code = WORK_PICKER.pick(self.rng)
        months = self.rng.choice([3, 5, 7, 8, 10, 14, 20, 26, 38, 50, 70])
        member.away_since = self.today - dt.timedelta(days=int(months * 30.4))
        member.away_reason = reason
        member.workplace = self.rng.choice(["电子厂", "建筑工地", "物流公司", "餐馆", "服装厂", ""])

    def household(self, area: Area) -> Iterator[RegistrationRow]:
        rng = self.rng
        village = rng.choice(area.villages)
        self.household_seq += 1
        ref = f"G{self.household_seq:07d}"
        father_surname = people.surname(rng)
        father = self._parent("father", father_surname, age=35)
        mother = self._parent("mother", people.surname(rng), age=33)
        members = [father, mother]
        situation = "both_home" if area.migrant else SITUATION_PICKER.pick(rng)
        living: str = Living.BOTH_PARENTS
        aid: str = Aid.DIBAO if rng.random() < 0.08 else Aid.NONE
        if situation in {"both_away", "away_and_incapable", "single_parent_away"}:
            grandpa = self._parent("paternal_grandfather", father_surname, age=65)
            grandma = self._parent("paternal_grandmother", people.surname(rng), age=63)
            members += [grandpa, grandma]
            living = Living.GRANDPARENTS
        if situation == "both_away":
            self._away(father)
            self._away(mother)
        elif situation == "father_away":
            self._away(father)
            living = Living.ONE_PARENT
        elif situation == "mother_away":
            self._away(mother)
            living = Living.ONE_PARENT
        elif situation == "away_and_incapable":
            self._away(father)
            mother.capacity = rng.choice([Capacity.SERIOUSLY_ILL, Capacity.DISABLED])
            living = Living.ONE_PARENT
        elif situation == "single_parent_away":
            self._away(father)
            mother.capacity = Capacity.DECEASED
        elif situation == "de_facto_unsupported":
            father.capacity = rng.choice([Capacity.IMPRISONED, Capacity.DECEASED])
            mother.capacity = Capacity.MISSING
            members.append(self._parent("paternal_grandmother", people.surname(rng), age=68))
            living = Living.GRANDPARENTS
            aid = Aid.TEKUN if rng.random() < 0.5 else aid
        elif situation == "orphan":
            father.capacity = mother.capacity = Capacity.DECEASED
            members.append(self._parent("maternal_grandmother", people.surname(rng), age=66))
            living = Living.GRANDPARENTS
            aid = Aid.TEKUN
        elif situation == "delegated_carer":
            self._away(father)
            self._away(mother)
            carer = self._parent("delegated_carer", people.surname(rng), age=50)
            carer.relation = "delegated_carer"
            members.append(carer)
            living = Living.DELEGATED_CARER
        for m in members:
            if m.capacity == Capacity.DECEASED:
                m.phone = ""
                m.is_guardian = False
        if not any(m.is_guardian and m.capacity == Capacity.ABLE for m in members):
            # Parents dead, missing or in prison: the grandparent who cares for the child
            # is the guardian in law (Civil Code Art. 27).
            for m in members:
                if "grand" in m.relation:
                    m.is_guardian = True
                    break
        household = HouseholdData(
            village_code=village.code,
            address=f"{rng.randint(1, 60)}组{rng.randint(1, 99)}号",
            aid=aid,
            income_source="务工" if situation != "both_home" else "务农",
        )
        n_children = rng.choices([1, 2, 3], weights=[50, 40, 10])[0]
        first_age = people.child_age(rng)
        hukou_village = rng.choice(area.hukou_villages) if area.migrant else village.code
        for i in range(n_children):
            age = max(0, first_age - i * rng.randint(2, 4))
            sex = rng.choice("MF")
            birth = people.birth_date_for_age(rng, age, self.today)
            schooling, grade = _grade(age)
            primary, middle = area.schools.get(village.township, (None, None))
            school_id = primary if 6 <= age < 12 else middle if 12 <= age < 15 else None
            disabled = rng.random() < 0.02
            child = ChildData(
                name=father_surname + people.given_name(rng, sex),
                sex=sex,
                birth_date=birth,
                residence_code=village.code,
                living_arrangement=living,
                id_number=self.ids.make(hukou_village[:6], birth, sex),
                hukou_code=hukou_village,
                residence_since=(
                    self.today - dt.timedelta(days=rng.randint(200, 1800))
                    if area.migrant
                    else birth
                ),
                school_id=school_id,
                grade=grade if school_id else "",
                boarding=bool(school_id) and age >= 10 and rng.random() < 0.3,
                schooling=schooling,
                disability_type=rng.choice(["肢体", "智力", "听力", "视力"]) if disabled else "",
                disability_grade=rng.choice(["一级", "二级"]) if disabled else "",
            )
            yield RegistrationRow(
                line=self.household_seq,
                household_ref=ref,
                household=household,
                child=child,
                members=members,
            )

    def rows(self, area: Area, n_children: int) -> Iterator[RegistrationRow]:
        made = 0
        while made < n_children:
            for row in self.household(area):
                if made >= n_children:
                    return
                made += 1
                yield row
