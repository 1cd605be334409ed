"""Pinyin keys for searching Chinese names: `张伟` → ("zhangwei", "zw")."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def name_keys(name: str) -> tuple[str, str]:
    """Full toneless pinyin and initials, lower case, letters only.

    Surname readings that differ from the common one (单 shan, 曾 zeng) come out as pypinyin
    reads them in context; non-Chinese characters are kept as they are (lower-cased).
    """
    syllables = [s.lower() for s in lazy_pinyin(name.strip(), style=Style.NORMAL, errors="default")]
    syllables = [s for s in ("".join(ch for ch in s if ch.isalnum()) for s in syllables) if s]
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables)
    return full, initials


def query_key(query: str) -> str:
    """A search query as a pinyin key: letters only, lower case, spaces dropped."""
    return "".join(ch for ch in query.lower() if ch.isascii() and ch.isalpha())
