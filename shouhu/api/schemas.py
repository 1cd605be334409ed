"""Request and response schemas. Unknown fields are refused, lengths match the columns, and
values the services check (choices, places, dates against today) are left to the services so
that their messages are the same as in the web UI."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from shouhu.children.models import ConsentScope
from shouhu.lib.categories import CATEGORY_CODES

MAX_ID = 2**63 - 1
# Child fields that may be left out of a PATCH but never set to null.
NOT_NULL = (
    "name",
    "sex",
    "birth_date",
    "residence_code",
    "living_arrangement",
    "id_number",
    "hukou_code",
    "grade",
    "boarding",
    "schooling",
    "health",
    "disability_type",
    "disability_grade",
    "guardianship_type",
    "guardianship_rating",
)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class Error(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


# ---------------------------------------------------------------- auth


class TokenIn(Strict):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=4096)


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime


# ---------------------------------------------------------------- children: reading


class ChildListQuery(Schema):
    q: str = Field("", max_length=100, description="Name, pinyin, initials or last ID digits")
    place: str = Field(
        "", pattern=r"^(\d{2,12})?$", description="Code of any level: children living inside"
    )
    school: int | None = Field(None, ge=1, le=MAX_ID, description="School organisation id")
    category: str = Field("", description="One of: " + ", ".join(CATEGORY_CODES))
    age_min: int | None = Field(None, ge=0, le=100)
    age_max: int | None = Field(None, ge=0, le=100)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value and value not in CATEGORY_CODES:
            raise ValueError("unknown category; use one of: " + ", ".join(CATEGORY_CODES))
        return value


class ChildRow(Schema):
    """The basic fields every user who may see the child may see."""

    model_config = ConfigDict(extra="allow")

    id: int
    name: str
    sex: str
    birth_date: dt.date
    age: int
    village_code: str
    village: str
    school_id: int | None
    school: str
    grade: str
    categories: list[str]


class ChildList(Schema):
    items: list[ChildRow]
    count: int


class ChildFile(ChildRow):
    """The whole file as the caller may see it; protected values masked unless revealed."""

    version: int
    field_classes: list[str]
    id_number: str
    household: dict[str, Any]
    revealed: dict[str, Any] | None = None


# ---------------------------------------------------------------- children: writing


class ChildIn(Strict):
    name: str = Field(max_length=100)
    sex: str = Field(max_length=1, description="M or F")
    birth_date: dt.date
    residence_code: str = Field(max_length=12, description="12-digit village code")
    living_arrangement: str = Field(max_length=32)
    id_number: str = Field("", max_length=18)
    hukou_code: str = Field("", max_length=12)
    residence_since: dt.date | None = None
    school_id: int | None = Field(None, ge=1, le=MAX_ID)
    grade: str = Field("", max_length=20)
    boarding: bool = False
    schooling: str = Field("enrolled", max_length=16)
    health: str = Field("well", max_length=16)
    disability_type: str = Field("", max_length=50)
    disability_grade: str = Field("", max_length=10)
    guardianship_type: str = Field("", max_length=32)
    guardianship_rating: str = Field("", max_length=16)


class ChildPatch(Strict):
    """Only the fields sent are changed; `version` is the version you read (409 if stale).
    Fields that cannot be empty refuse `null`; `residence_since` and `school_id` accept it."""

    version: int = Field(ge=1, le=MAX_ID)
    name: str | None = Field(None, max_length=100)
    sex: str | None = Field(None, max_length=1)
    birth_date: dt.date | None = None
    residence_code: str | None = Field(None, max_length=12)
    living_arrangement: str | None = Field(None, max_length=32)
    id_number: str | None = Field(None, max_length=18)
    hukou_code: str | None = Field(None, max_length=12)
    residence_since: dt.date | None = None
    school_id: int | None = Field(None, ge=1, le=MAX_ID)
    grade: str | None = Field(None, max_length=20)
    boarding: bool | None = None
    schooling: str | None = Field(None, max_length=16)
    health: str | None = Field(None, max_length=16)
    disability_type: str | None = Field(None, max_length=50)
    disability_grade: str | None = Field(None, max_length=10)
    guardianship_type: str | None = Field(None, max_length=32)
    guardianship_rating: str | None = Field(None, max_length=16)

    # Runs only on the fields sent (defaults are not validated): a field left out stays
    # unchanged, an explicit `null` is refused.
    @field_validator(*NOT_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


class HouseholdIn(Strict):
    village_code: str = Field(max_length=12)
    address: str = Field("", max_length=500)
    aid: str = Field("none", max_length=16)
    income_source: str = Field("", max_length=200)


class MemberIn(Strict):
    name: str = Field(max_length=100)
    relation: str = Field(max_length=32)
    is_guardian: bool = False
    capacity: str = Field("able", max_length=32)
    away: bool = False
    away_place_code: str = Field("", max_length=12)
    away_since: dt.date | None = None
    away_reason: str = Field("", max_length=16)
    workplace: str = Field("", max_length=200)
    phone: str = Field("", max_length=30)


class DelegatedCareIn(Strict):
    carer_index: int = Field(ge=0, le=49, description="Index of the carer in `members`")
    no_abuse_record: bool = False
    no_drugs_alcohol_gambling: bool = False
    no_neglect_history: bool = False
    capable_adult: bool = False
    notice_to_school_on: dt.date | None = None
    notice_to_village_on: dt.date | None = None
    confirmation_signed_on: dt.date | None = None


class ConsentIn(Strict):
    given_by_index: int = Field(ge=0, le=49, description="Index of the guardian in `members`")
    given_on: dt.date
    version: str = Field(min_length=1, max_length=20)
    scopes: list[str] = Field(default_factory=lambda: ["registry"], min_length=1, max_length=4)

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in ConsentScope.values]
        if unknown:
            raise ValueError("unknown scope; use: " + ", ".join(ConsentScope.values))
        return value


class ChildCreate(Strict):
    """A child with a new household (`household`) or into the household of a child you can
    edit (`household_id`), with new family members."""

    child: ChildIn
    household: HouseholdIn | None = None
    household_id: int | None = Field(None, ge=1, le=MAX_ID)
    members: list[MemberIn] = Field(default_factory=list, max_length=50)
    delegated_care: DelegatedCareIn | None = None
    consent: ConsentIn | None = None
