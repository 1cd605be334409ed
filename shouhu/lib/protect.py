"""Encryption and lookup hashes of identifying values, with the key from settings."""

from __future__ import annotations

from django.conf import settings

from shouhu.lib import crypto, idnumber

TAIL_DIGITS = 4


def _key() -> str:
    key: str = settings.SHOUHU_FIELD_KEY
    return key


def seal(value: str) -> str:
    return crypto.encrypt(value, master=_key()) if value else ""


def unseal(token: str) -> str:
    return crypto.decrypt(token, master=_key()) if token else ""


def id_hash(number: str) -> str:
    return crypto.keyed_hash(idnumber.normalize(number), master=_key(), purpose="id")


def id_tail_hash(digits: str) -> str:
    """Hash of the last four characters, for "search by the last digits"."""
    return crypto.keyed_hash(digits[-TAIL_DIGITS:].upper(), master=_key(), purpose="id-tail")


def normalize_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return digits.removeprefix("+86").removeprefix("0086")


def mobile_number(text: str) -> str | None:
    """`text` as a mainland mobile number (11 digits starting with 1, optionally +86), or
    None."""
    number = normalize_phone(text.strip().replace(" ", "").replace("-", ""))
    if len(number) == 11 and number.isdigit() and number.startswith("1"):
        return number
    return None


def phone_hash(phone: str) -> str:
    return crypto.keyed_hash(normalize_phone(phone), master=_key(), purpose="phone")
