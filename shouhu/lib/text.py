"""Cleaning free text from query strings before it reaches the database."""

from __future__ import annotations


def printable(value: str, limit: int) -> str:
    """`value` without control characters (PostgreSQL refuses NUL in text), trimmed and cut
    to `limit` characters."""
    return "".join(ch for ch in value if ch.isprintable()).strip()[:limit]


REASON_MIN_LENGTH = 10
REASON_MIN_DISTINCT = 5


def reason_problem(value: str) -> str | None:
    """Why a stated reason is not one (`"short"`, `"repetitive"`), or None when it reads as
    words: at least 10 characters, at least 5 different letters or digits, none of them
    making up half of the text, and some letters ("aaaaaaaaaa", "ababababab" and
    "1234567890" are not reasons)."""
    text = value.strip()
    signs = [ch.lower() for ch in text if ch.isalnum()]
    if len(text) < REASON_MIN_LENGTH or len(signs) < REASON_MIN_LENGTH // 2:
        return "short"
    most = max(signs.count(ch) for ch in set(signs))
    letters = sum(ch.isalpha() for ch in signs)
    if len(set(signs)) < REASON_MIN_DISTINCT or most * 2 > len(signs) or letters < 2:
        return "repetitive"
    return None
