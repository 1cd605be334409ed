"""Phone numbers of family members, checked with libphonenumber (`phonenumbers`).

Numbers are read as mainland China numbers unless they start with `+` or `00` and another
country code (parents working abroad): a mobile has 11 digits (138 0013 8000), a landline
its area code (0564-5012345). A 7-digit number without an area code, or a "mobile" with a
digit missing, is refused.
"""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext_lazy as _

PROBLEM = _(
    "Not a phone number: a mobile has 11 digits (138 0013 8000), a landline starts with its "
    "area code (0564-5012345), a number abroad with + and the country code."
)


def is_valid(raw: str) -> bool:
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)
