"""Cleaning free text from query strings before it reaches the database."""

from __future__ import annotations


def printable(value: str, limit: int) -> str:
    """`value` without control characters (PostgreSQL refuses NUL in text), trimmed and cut
    to `limit` characters."""
    return "".join(ch for ch in value if ch.isprintable()).strip()[:limit]
