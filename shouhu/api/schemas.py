"""Request and response schemas. Unknown fields are refused, lengths match the columns, and
values the services check (choices, places, dates against today) are left to the services so
that their messages are the same as in the web UI.

Answers are typed too: every field an endpoint answers is declared (a value a selector adds
stays out of the API until it is), and a field some readers are not given is `absent` from
their answers, never null."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Literal, Never, TypeAlias

from ninja import Field, Schema
from pydantic import MISSING, ConfigDict, field_validator

from shouhu.children.models import ConsentScope
from shouhu.lib.categories import CATEGORY_CODES

MAX_ID = 2**63 - 1
MAX_LIMIT = 500
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


# Control characters have no place in names or codes, and PostgreSQL refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control(value: Any) -> Any:
    if isinstance(value, str) and _CONTROL.search(value):
        raise ValueError("may not contain control characters")
    return value


class Clean(Schema):
    """Every text input is free of control characters."""

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return _no_control(value)


class Strict(Clean):
    model_config = ConfigDict(extra="forbid")


if TYPE_CHECKING:
    # mypy does not know sentinel types yet (PEP 661): to it `T | Absent` is `T`.
    Absent: TypeAlias = Never
else:
    Absent = MISSING


def absent(description: str) -> Any:
    """A field of an answer left out (not null) when the selector does not give it: what
    this reader may not see. Declare it as `T | Absent`."""
    # A factory, not a default: django-ninja's OpenAPI writer cannot encode the sentinel.
    return Field(default_factory=lambda: MISSING, description=description)


class Error(Schema):
    """Every error. `errors` maps a field path (`name`, `members.0.away_since`,
    `household.village_code`; `__all__` for the whole request) to its messages."""

    detail: str
    errors: dict[str, list[str]] | None = None


# ---------------------------------------------------------------- auth


class TokenIn(Schema):
    # Not `Strict`: a password is checked against its hash, whatever characters it holds.
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=4096)

    @field_validator("username")
    @classmethod
    def _clean_username(cls, value: str) -> str:
        return str(_no_control(value))


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime


# ---------------------------------------------------------------- children: reading


class ChildListQuery(Clean):
    q: str = Field(
        "",
        max_length=100,
        description=(
            "Name (`张伟`), pinyin (`zhangwei`), initials (`zw`), or the last digits of an ID "
            "number (only over children whose identifying fields you may see)"
        ),
    )
    place: str = Field(
        "", pattern=r"^(\d{2,12})?$", description="Code of any level: children living inside"
    )
    school: int | None = Field(None, ge=1, le=MAX_ID, description="School organisation id")
    category: str = Field("", description="One of: " + ", ".join(CATEGORY_CODES))
    age: int | None = Field(None, ge=0, le=100, description="Age in whole years today")
    age_min: int | None = Field(None, ge=0, le=100)
    age_max: int | None = Field(None, ge=0, le=100)
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}")
    offset: int = Field(0, ge=0, le=10_000_000)

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value and value not in CATEGORY_CODES:
            raise ValueError("unknown category; use one of: " + ", ".join(CATEGORY_CODES))
        return value


class ChildRow(Schema):
    """The basic fields every user who may see the child may see.

    Answers carry only the fields declared here and in `ChildFile`: a value a selector adds
    later stays out of the API until it is declared (and documented)."""

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


class ChildDetailQuery(Clean):
    reveal: Literal["identifying", "sensitive"] | None = Field(
        None, description="Add the plaintext of this field class (logged)"
    )
    purpose: Literal["verification", "emergency", "law_enforcement", "audit"] | None = Field(
        None,
        description=(
            "What the fields are for, required past your ceiling (break glass): verifying "
            "eligibility or a category, emergency protection, assisting the police or a court, "
            "audit. The county's auditors are told of every break glass"
        ),
    )
    reason: str = Field(
        "",
        max_length=1000,
        description="Why, in words (required past your ceiling: break glass; at least 10 "
        "characters, not one character repeated)",
    )


class MemberView(Schema):
    """A family member; identifying and sensitive values masked (`***`) above the ceiling."""

    id: int
    name: str
    relation: str
    is_guardian: bool
    away: bool
    at_home: bool = Field(description="Not away and not deceased, missing or detained")
    away_place: str
    away_since: dt.date | None
    away_reason: str
    capacity: str = Field(description="Sensitive")
    workplace: str = Field(description="Identifying")
    phone: str = Field(description="Identifying; always masked, e.g. `138****8000`")


class HouseholdView(Schema):
    id: int
    aid: str = Field(description="Sensitive")
    members: list[MemberView]


class RevealedIdentifying(Schema):
    """The plaintext of the identifying fields (`reveal=identifying`)."""

    id_number: str
    address: str
    phones: dict[str, str] = Field(description="By family member id")
    workplaces: dict[str, str] = Field(description="By family member id")


class RevealedSensitive(Schema):
    """The plaintext of the sensitive fields (`reveal=sensitive`)."""

    health: str
    disability_type: str
    disability_grade: str
    guardianship_type: str
    guardianship_rating: str
    aid: str
    categories: list[str]
    capacities: dict[str, str] = Field(description="By family member id")


class ChildFile(ChildRow):
    """The whole file as the caller may see it. Identifying values are always masked (a
    `reveal` shows them); sensitive ones are `***` above the caller's ceiling."""

    version: int = Field(description="Send it back with a PATCH")
    field_classes: list[str] = Field(description="The field classes you may see")
    hukou: str
    residence: str
    residence_since: dt.date | None
    boarding: bool
    schooling: str
    living_arrangement: str
    has_id_number: bool
    id_number: str = Field(description="Masked, e.g. `3415**********0015`, or `***`")
    health: str = Field(description="Sensitive")
    disability_type: str = Field(description="Sensitive")
    disability_grade: str = Field(description="Sensitive")
    guardianship_type: str = Field(description="Sensitive")
    guardianship_rating: str = Field(description="Sensitive")
    household: HouseholdView
    revealed: RevealedIdentifying | RevealedSensitive | None = Field(
        None, description="Plaintext of the field class asked for with `reveal`"
    )


class Duplicates(Error):
    """The child may already be registered: the matching children you may see (children
    outside your area are not checked)."""

    duplicates: list[ChildRow]


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
    """Only the fields sent are changed. `version` (or an `If-Match` header) is the version
    you read: 409 if the file changed since. Without either, the fields sent are written
    over the current version. Fields that cannot be empty refuse `null`; `residence_since`
    and `school_id` accept it."""

    version: int | None = Field(None, ge=1, le=MAX_ID)
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
    confirm_not_duplicate: bool = Field(
        False,
        description=(
            "Register even though a child with the same ID number, or the same name, date "
            "of birth and village, exists (without it such a request is answered 409)"
        ),
    )
