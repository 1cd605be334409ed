"""The demo's record linkage: migrant children of 宝安 whose home county records in 金寨 were
kept by another hand, with the noise real registers have, and one run of the matching job.

Of the 36 宝安 children taken, each gets a record in a village of supervisor1's township,
registered as the village would have: 16 the same child clearly (the same ID number: sure
links), 12 the same child written differently (a homophone or traditional characters, the
day and month swapped, a lunar birthday, no ID number: pairs for review), and 8 another
child of the same surname and year or, for three, a namesake born the same day to other
parents (non-matches the job must not link; the namesakes go to review, where they are told
apart). The destination children's hukou is set to that village, as their household
registers would say.
"""

from __future__ import annotations

import datetime as dt
import random

from lunardate import LunarDate

from shouhu.accounts.models import Role, User
from shouhu.children.data import ChildData, HouseholdData, MemberData
from shouhu.children.models import AwayReason, Child, FamilyMember, Living, Relation
from shouhu.children.registration import child_register
from shouhu.demo.generator import DESTINATION
from shouhu.lib import clock, protect
from shouhu.linkage.models import Candidate
from shouhu.places.models import Level, Place, code_range

SURE, REVIEW, OTHER, NAMESAKES = 16, 12, 8, 3
# Homophones and traditional forms a clerk may write for a given-name character.
VARIANTS = {
    "伟": "韦", "敏": "民", "静": "靜", "丽": "麗", "军": "軍", "华": "華", "红": "紅",
    "明": "铭", "杰": "傑", "芳": "方", "娟": "涓", "涛": "濤", "强": "強", "磊": "垒",
    "艳": "豔", "勇": "湧", "鹏": "鵬", "浩": "皓", "宇": "雨", "欣": "昕", "晨": "辰",
    "婷": "亭", "雪": "学", "佳": "嘉", "子": "梓", "思": "丝", "梦": "夢", "雨": "语",
}  # fmt: skip
OTHER_GIVEN = ["建国", "春花", "志强", "秀英", "国庆", "海燕", "金凤", "长江"]


def link_demo() -> int:
    """Home records for 36 宝安 children and one matching run; the number of pairs found.
    Once only: a second load finds the candidates of the first."""
    if Candidate.objects.exists():
        return 0
    supervisor = User.objects.get(username="supervisor1")
    township = supervisor.memberships.get(role=Role.SUPERVISOR).organisation.jurisdiction
    low, high = code_range(township.prefix)
    villages = list(
        Place.objects.filter(code__gte=low, code__lte=high, level=Level.VILLAGE).order_by("code")
    )
    dlow, dhigh = code_range(DESTINATION)
    migrants = list(
        Child.objects.filter(
            residence_id__gte=dlow, residence_id__lte=dhigh, cat_migrant=True, hukou__isnull=False
        )
        .exclude(id_number_enc="")
        .order_by("pk")[: SURE + REVIEW + OTHER]
    )
    rng = random.Random(14)
    for i, child in enumerate(migrants):
        village = villages[i % len(villages)]
        Child.objects.filter(pk=child.pk).update(hukou_id=village.code)
        kind = "sure" if i < SURE else "review" if i < SURE + REVIEW else "other"
        if kind == "other" and i < SURE + REVIEW + NAMESAKES:
            kind = "namesake"
        _home_record(child, village.code, kind, rng, supervisor)
    from shouhu.linkage import matching

    matching.run_matching()
    return Candidate.objects.count()


def _home_record(child: Child, village: str, kind: str, rng: random.Random, actor: User) -> None:
    members = list(FamilyMember.objects.filter(household_id=child.household_id).order_by("id"))
    father = next((m for m in members if m.relation == Relation.FATHER), None)
    mother = next((m for m in members if m.relation == Relation.MOTHER), None)
    number = protect.unseal(child.id_number_enc)
    name, born, id_number = child.name, child.birth_date, number
    parents: list[MemberData] = []
    if kind == "sure":
        parents = [
            MemberData(
                m.name,
                m.relation,
                is_guardian=m.is_guardian,
                away=True,
                away_place_code=child.residence_id,
                away_since=child.residence_since or dt.date(2024, 3, 1),
                away_reason=AwayReason.WORK,
            )
            for m in (father, mother)
            if m is not None
        ]
    elif kind == "review":
        name = _variant(name)
        born, id_number = _noisy_date(born, rng), ""
    elif kind == "namesake":  # the same name and birthday, other parents: another child
        id_number = ""
        parents = [
            MemberData(name[0] + given, relation)
            for given, relation in (("建国", Relation.FATHER), ("秀英", Relation.MOTHER))
        ]
    else:
        name = name[0] + OTHER_GIVEN[rng.randrange(len(OTHER_GIVEN))]
        born = born.replace(month=rng.choice([m for m in range(1, 13) if m != born.month]), day=1)
        id_number = ""
    born = min(born, clock.today())
    if not parents:
        parents = [MemberData("爷爷" if kind == "other" else "奶奶", Relation.PATERNAL_GRANDMOTHER)]
        parents[0].name = name[0] + ("德" if kind == "other" else "桂") + "英"
    parents[0].is_guardian = True
    child_register(
        actor=actor,
        child=ChildData(
            name=name,
            sex=child.sex,
            birth_date=born,
            residence_code=village,
            living_arrangement=Living.GRANDPARENTS,
            id_number=id_number,
            hukou_code=village,
        ),
        household=HouseholdData(village_code=village),
        members=parents,
    )


def _variant(name: str) -> str:
    """The given name written with a homophone or a traditional character, or its two
    characters swapped, or its last character left out."""
    for i in range(len(name) - 1, 0, -1):
        if name[i] in VARIANTS:
            return name[:i] + VARIANTS[name[i]] + name[i + 1 :]
    return name[0] + name[1:][::-1] if len(name) == 3 else name[:2]


def _noisy_date(born: dt.date, rng: random.Random) -> dt.date:
    """Day and month swapped when that is a date (and not in the future), else the lunar
    birthday written as solar."""
    if born.day <= 12 and born.day != born.month and rng.random() < 0.5:
        swapped = born.replace(month=born.day, day=born.month)
        if swapped <= clock.today():
            return swapped
    lunar = LunarDate.fromSolarDate(born.year, born.month, born.day)
    try:
        return dt.date(lunar.year, lunar.month, lunar.day)
    except ValueError:
        return born.replace(day=1)
