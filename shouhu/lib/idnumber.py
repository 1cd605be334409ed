"""Resident ID numbers (GB 11643-1999), validated with python-stdnum.

The number is optional (some children have no hukou); when it is given it must carry a valid
check digit and agree with the child's birth date and sex.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric


class IdNumberError(ValueError):
    """An ID number that is malformed or disagrees with the other facts; `code` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IdFacts:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def normalize(value: str) -> str:
    return ric.compact(value).upper()


def parse(value: str) -> IdFacts:
    """Validate an 18-character resident ID and return what it says about its holder."""
    number = normalize(value)
    if len(number) != 18:
        raise IdNumberError("length", "ID number must have 18 characters.")
    # Format, date and check digit (GB 11643). stdnum's `ric.validate` also looks the area
    # code up in its own table, which lags behind the divisions in use; the hukou place is
    # checked against the registry's places instead.
    if not number[:17].isdigit() or number[17] not in "0123456789X":
        raise IdNumberError("format", "ID number is not in the GB 11643 format.")
    try:
        birth = ric.get_birth_date(number)
    except stdnum_exceptions.ValidationError as exc:
        raise IdNumberError("component", "ID number contains an impossible date.") from exc
    if ric.calc_check_digit(number) != number[17]:
        raise IdNumberError("checksum", "ID number check digit is wrong.")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdFacts(number=number, birth_date=birth, sex=sex)


def check_against(value: str, *, birth_date: dt.date | None, sex: str | None) -> IdFacts:
    """Parse `value` and cross-check it with the birth date and sex entered separately."""
    facts = parse(value)
    if birth_date is not None and facts.birth_date != birth_date:
        raise IdNumberError(
            "birth_date_mismatch",
            f"ID number says born {facts.birth_date.isoformat()}, "
            f"but the birth date entered is {birth_date.isoformat()}.",
        )
    if sex and facts.sex != sex:
        raise IdNumberError("sex_mismatch", "ID number's sex digit disagrees with the sex entered.")
    return facts


def mask(number: str) -> str:
    """`341524200101011234` → `3415**********1234`: first four and last four shown."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
