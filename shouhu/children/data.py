"""The registry's input and the rows built from it: `ChildData`, `MemberData`,
`HouseholdData`, `DelegatedCareData` and `ConsentData` (what registration, edits, imports and
the generators hand over), the fields each row records in the change history, and
`ConflictError` (someone saved the record since it was read). Validation is in
`validation.py`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from shouhu.accounts.models import User
from shouhu.audit.services import snapshot
from shouhu.children.models import (
    Aid,
    Capacity,
    Child,
    FamilyMember,
    Health,
    Household,
    Schooling,
)
from shouhu.lib import idnumber, pinyin, protect

CHILD_FACT_FIELDS = [
    "name",
    "sex",
    "birth_date",
    "id_number_enc",
    "hukou",
    "residence",
    "residence_since",
    "school",
    "grade",
    "boarding",
    "schooling",
    "health",
    "disability_type",
    "disability_grade",
    "living_arrangement",
    "guardianship_type",
    "guardianship_rating",
]
MEMBER_FIELDS = [
    "name",
    "relation",
    "is_guardian",
    "capacity",
    "away",
    "away_place",
    "away_since",
    "away_reason",
    "workplace",
    "phone_enc",
]
HOUSEHOLD_FIELDS = ["village", "address_enc", "aid", "income_source"]
DELEGATED_CARE_FIELDS = [
    "carer",
    "no_abuse_record",
    "no_drugs_alcohol_gambling",
    "no_neglect_history",
    "capable_adult",
    "notice_to_school_on",
    "notice_to_village_on",
    "confirmation_signed_on",
]
CONSENT_FIELDS = ["given_by", "given_on", "version", "scopes"]
ENCRYPTED = "[encrypted value changed]"  # how `audit.services.snapshot` records an `_enc` value


class ConflictError(Exception):
    """Someone else saved the record since it was read (optimistic versioning)."""


@dataclass
class ChildData:
    name: str
    sex: str
    birth_date: dt.date
    residence_code: str
    living_arrangement: str
    id_number: str = ""
    hukou_code: str = ""
    residence_since: dt.date | None = None
    school_id: int | None = None
    grade: str = ""
    boarding: bool = False
    schooling: str = Schooling.ENROLLED
    health: str = Health.WELL
    disability_type: str = ""
    disability_grade: str = ""
    guardianship_type: str = ""
    guardianship_rating: str = ""


@dataclass
class MemberData:
    name: str
    relation: str
    is_guardian: bool = False
    capacity: str = Capacity.ABLE
    away: bool = False
    away_place_code: str = ""
    away_since: dt.date | None = None
    away_reason: str = ""
    workplace: str = ""
    phone: str = ""


@dataclass
class HouseholdData:
    village_code: str
    address: str = ""
    aid: str = Aid.NONE
    income_source: str = ""


@dataclass
class DelegatedCareData:
    carer_index: int  # index into the members list
    no_abuse_record: bool = False
    no_drugs_alcohol_gambling: bool = False
    no_neglect_history: bool = False
    capable_adult: bool = False
    notice_to_school_on: dt.date | None = None
    notice_to_village_on: dt.date | None = None
    confirmation_signed_on: dt.date | None = None


@dataclass
class ConsentData:
    given_by_index: int
    given_on: dt.date
    version: str
    scopes: list[str] = field(default_factory=lambda: ["registry"])


# ---------------------------------------------------------------- building rows


def build_child(data: ChildData, household: Household, actor: User | None) -> Child:
    full, initials = pinyin.name_keys(data.name)
    child = Child(
        household=household,
        name=data.name.strip(),
        name_pinyin=full,
        name_initials=initials,
        sex=data.sex,
        birth_date=data.birth_date,
        hukou_id=data.hukou_code or None,
        residence_id=data.residence_code,
        residence_since=data.residence_since,
        school_id=data.school_id,
        grade=data.grade,
        boarding=data.boarding,
        schooling=data.schooling,
        health=data.health,
        disability_type=data.disability_type,
        disability_grade=data.disability_grade,
        living_arrangement=data.living_arrangement,
        guardianship_type=data.guardianship_type,
        guardianship_rating=data.guardianship_rating,
        created_by=actor,
    )
    set_id_number(child, data.id_number)
    return child


def set_id_number(child: Child, number: str) -> None:
    if number:
        normal = idnumber.normalize(number)
        child.id_number_enc = protect.seal(normal)
        child.id_number_hash = protect.id_hash(normal)
        child.id_tail_hash = protect.id_tail_hash(normal)
    else:
        child.id_number_enc = child.id_number_hash = child.id_tail_hash = ""


def build_member(data: MemberData, household: Household) -> FamilyMember:
    member = FamilyMember(
        household=household,
        name=data.name.strip(),
        relation=data.relation,
        is_guardian=data.is_guardian,
        capacity=data.capacity,
        away=data.away,
        away_place_id=data.away_place_code or None,
        away_since=data.away_since if data.away else None,
        away_reason=data.away_reason if data.away else "",
        workplace=data.workplace,
    )
    set_phone(member, data.phone)
    return member


def set_phone(member: FamilyMember, phone: str) -> None:
    member.phone_enc = protect.seal(protect.normalize_phone(phone)) if phone else ""
    member.phone_hash = protect.phone_hash(phone) if phone else ""


def created_changes(obj: Any, names: list[str]) -> dict[str, list[Any]]:
    """The change-history entry of a new row: every field that has a value, as [None, value]
    (encrypted values only as "changed", see `audit.services.snapshot`)."""
    return {k: [None, v] for k, v in snapshot(obj, names).items() if v not in ("", None, False)}
