"""Checking the registry's input before anything is written: every field error of a child,
a household or a family member collected and raised together (`Errors`), each against the
official choices, the place codes (`PlaceCache` looks each up once, for single writes and
bulk imports alike) and the ID number's own checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from shouhu.accounts.models import Organisation, OrgKind
from shouhu.children.data import ChildData, HouseholdData, MemberData
from shouhu.children.models import (
    Aid,
    AwayReason,
    Capacity,
    GuardianshipRating,
    GuardianshipType,
    Health,
    Living,
    Relation,
    Schooling,
    Sex,
)
from shouhu.lib import dates, idnumber, phone
from shouhu.places.models import Level, Place


class Errors:
    """Collects field errors; `raise_if_any()` raises one ValidationError with all of them."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(self.prefix + name, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


class PlaceCache:
    """Looks places up once; used by single writes and by bulk import alike."""

    def __init__(self) -> None:
        self._cache: dict[str, Place | None] = {}

    def get(self, code: str) -> Place | None:
        if code not in self._cache:
            self._cache[code] = Place.objects.filter(pk=code).first()
        return self._cache[code]

    def preload(self, codes: Iterable[str]) -> None:
        missing = {c for c in codes if c and c not in self._cache}
        found = {p.code: p for p in Place.objects.filter(pk__in=missing)}
        for code in missing:
            self._cache[code] = found.get(code)

    def districts(self, *codes: str) -> frozenset[str]:
        counties = {c[:6] for c in codes if c}
        out = set()
        for county in counties:
            place = self.get(county + "000000")
            if place is not None and place.is_city_district:
                out.add(county)
        return frozenset(out)


_CHOICE_VALUES: dict[Any, frozenset[str]] = {}


def check_choice(
    errors: Errors, name: str, value: str, choices: Any, *, blank: bool = False
) -> None:
    if blank and not value:
        return
    allowed_values = _CHOICE_VALUES.get(choices)
    if allowed_values is None:
        allowed_values = _CHOICE_VALUES[choices] = frozenset(choices.values)
    if value not in allowed_values:
        allowed = ", ".join(choices.values)
        errors.add(
            name,
            _("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": allowed},
        )


def _place(
    errors: Errors, places: PlaceCache, name: str, code: str, *, min_level: int, required: bool
) -> Place | None:
    if not code:
        if required:
            errors.add(name, _("This field is required."))
        return None
    place = places.get(code)
    if place is None:
        errors.add(name, _("No place has the code %(code)s.") % {"code": code})
    elif place.level < min_level:
        errors.add(name, _("%(name)s is not precise enough here.") % {"name": place.name})
    return place


def validate_child(data: ChildData, places: PlaceCache, *, today: dt.date) -> Errors:
    errors = Errors()
    if not data.name.strip():
        errors.add("name", _("This field is required."))
    check_choice(errors, "sex", data.sex, Sex)
    if data.birth_date > today:
        errors.add("birth_date", _("Date of birth is in the future."))
    elif dates.age_on(data.birth_date, today) >= 18:
        errors.add("birth_date", _("The registry is for children under 18."))
    if data.id_number:
        try:
            idnumber.check_against(data.id_number, birth_date=data.birth_date, sex=data.sex)
        except idnumber.IdNumberError as exc:
            errors.add("id_number", _id_message(exc))
    _place(
        errors,
        places,
        "residence_code",
        data.residence_code,
        min_level=Level.VILLAGE,
        required=True,
    )
    _place(errors, places, "hukou_code", data.hukou_code, min_level=Level.COUNTY, required=False)
    if data.residence_since and data.residence_since > today:
        errors.add("residence_since", _("Date is in the future."))
    check_choice(errors, "living_arrangement", data.living_arrangement, Living)
    check_choice(errors, "schooling", data.schooling, Schooling)
    check_choice(errors, "health", data.health, Health)
    check_choice(errors, "guardianship_type", data.guardianship_type, GuardianshipType, blank=True)
    check_choice(
        errors, "guardianship_rating", data.guardianship_rating, GuardianshipRating, blank=True
    )
    return errors


def _id_message(exc: idnumber.IdNumberError) -> str:
    messages = {
        "length": _("ID number must have 18 characters."),
        "checksum": _("ID number check digit is wrong."),
        "component": _("ID number contains an impossible date."),
        "format": _("ID number is not in the GB 11643 format."),
        "sex_mismatch": _("ID number's sex digit disagrees with the sex entered."),
    }
    if exc.code == "birth_date_mismatch":
        return _("ID number does not match the date of birth.")
    return messages.get(exc.code, str(exc))


def validate_member(data: MemberData, places: PlaceCache, *, today: dt.date, prefix: str) -> Errors:
    errors = Errors(prefix)
    if not data.name.strip():
        errors.add("name", _("This field is required."))
    check_choice(errors, "relation", data.relation, Relation)
    check_choice(errors, "capacity", data.capacity, Capacity)
    check_choice(errors, "away_reason", data.away_reason, AwayReason, blank=True)
    if data.away:
        if data.away_since is None:
            errors.add("away_since", _("Say since when this person has been away."))
        elif data.away_since > today:
            errors.add("away_since", _("Date is in the future."))
        _place(
            errors,
            places,
            "away_place_code",
            data.away_place_code,
            min_level=Level.PROVINCE,
            required=False,
        )
    if data.phone and not phone.is_valid(data.phone):
        errors.add("phone", str(phone.PROBLEM))
    return errors


def validate_household(data: HouseholdData, places: PlaceCache) -> Errors:
    errors = Errors("household.")
    _place(
        errors, places, "village_code", data.village_code, min_level=Level.VILLAGE, required=True
    )
    check_choice(errors, "aid", data.aid, Aid)
    return errors


def check_school(errors: Errors, school_id: int | None) -> None:
    if (
        school_id is not None
        and not Organisation.objects.filter(pk=school_id, kind=OrgKind.SCHOOL).exists()
    ):
        errors.add("school_id", _("No such school."))
