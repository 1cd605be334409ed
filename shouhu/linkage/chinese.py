"""What Splink lacks for Chinese person records: the keys its comparisons are asked about.

Names: traditional → simplified (OpenCC), pinyin with the first character read as a surname
(pypinyin has no surname mode, so the heteronym surnames are a table here), the pinyin of the
common reading as a second key (a clerk who wrote 单 as "dan"), homophones (same toneless
pinyin), look-alike characters (same four-corner code), pinyin-only names, the given name's
characters in order-free form (swapped characters). ID numbers: GB 11643 through
`shouhu.lib.idnumber` (python-stdnum). Dates: day and month swapped, a lunar birthday recorded
as if it were solar (`lunardate`), a year or a month only.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import lunardate
import opencc
from four_corner_method import FourCornerMethod
from pypinyin import Style, lazy_pinyin

from shouhu.lib import idnumber

# Surnames whose reading as a surname differs from pypinyin's reading of the character
# (mozillazg/python-pinyin#297), and the two- and three-syllable surnames to split off first.
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "区": "ou", "查": "zha",
    "朴": "piao", "覃": "qin", "翟": "zhai", "盖": "ge", "缪": "miao", "乐": "yue",
    "秘": "bi", "繁": "po", "黑": "he", "员": "yun", "种": "chong", "宿": "su",
    "召": "shao", "折": "she", "能": "nai", "句": "gou", "谌": "chen", "过": "guo",
    "郇": "huan", "重": "chong", "祭": "zhai", "隗": "wei", "牟": "mou", "逄": "pang",
    "那": "na", "薄": "bo", "尉": "wei", "车": "che", "柏": "bai", "长": "chang",
    "沈": "shen", "燕": "yan", "纪": "ji", "蕃": "pi", "冼": "xian", "佴": "nai",
    "阚": "kan", "奚": "xi", "洗": "xian", "藏": "zang", "应": "ying", "华": "hua",
    "任": "ren", "朝": "chao", "晁": "chao", "都": "du", "参": "can", "适": "kuo",
}  # fmt: skip
COMPOUND_SURNAMES: dict[str, str] = {
    "欧阳": "ouyang", "司马": "sima", "上官": "shangguan", "诸葛": "zhuge", "东方": "dongfang",
    "皇甫": "huangfu", "尉迟": "yuchi", "公孙": "gongsun", "慕容": "murong", "长孙": "zhangsun",
    "宇文": "yuwen", "司徒": "situ", "夏侯": "xiahou", "轩辕": "xuanyuan", "令狐": "linghu",
    "万俟": "moqi", "单于": "chanyu", "澹台": "tantai", "端木": "duanmu", "南宫": "nangong",
    "西门": "ximen", "呼延": "huyan", "独孤": "dugu", "申屠": "shentu", "司空": "sikong",
}  # fmt: skip
PINYIN_SURNAMES = frozenset(SURNAME_READINGS.values()) | frozenset(COMPOUND_SURNAMES.values())

_T2S = opencc.OpenCC("t2s")
_FOUR_CORNER = FourCornerMethod()
_DROP = re.compile(r"[\s·•・.\-_'’,，]+")
_ASCII_LETTERS = re.compile(r"[^a-z]")


@dataclass(frozen=True)
class NameKeys:
    norm: str  # simplified characters, or the pinyin letters of a pinyin-only name
    surname: str
    given: str
    pinyin: str  # surname read as a surname
    pinyin_alt: str  # every character in its common reading
    surname_pinyin: str
    given_pinyin: str
    initials: str
    shape: str  # four-corner codes: look-alike characters share them
    given_sorted: str  # the given name's characters in order: 子涵 and 涵子 agree
    is_pinyin: bool


def simplified(text: str) -> str:
    return str(_T2S.convert(text))


def surname_pinyin(surname: str) -> str:
    """A surname read as a surname: 曾 → zeng, 单 → shan, 尉迟 → yuchi."""
    if surname in COMPOUND_SURNAMES:
        return COMPOUND_SURNAMES[surname]
    return "".join(SURNAME_READINGS.get(ch) or _plain_pinyin(ch) for ch in surname)


def _plain_pinyin(text: str) -> str:
    return "".join(_ASCII_LETTERS.sub("", s.lower()) for s in lazy_pinyin(text, style=Style.NORMAL))


def split_name(name: str) -> tuple[str, str]:
    """Surname and given name of a Chinese name in simplified characters."""
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


@lru_cache(maxsize=500_000)
def name_keys(raw: str) -> NameKeys | None:
    """Every key of a name, or None for an empty one. Cached: names repeat (张伟)."""
    text = _DROP.sub(" ", unicodedata.normalize("NFKC", raw)).strip()
    if not text:
        return None
    if text.isascii():
        return _pinyin_only_keys(text)
    chars = simplified(text.replace(" ", ""))
    surname, given = split_name(chars)
    sur_py = surname_pinyin(surname)
    given_py = _plain_pinyin(given)
    full = sur_py + given_py
    alt = _plain_pinyin(chars)
    syllables = [sur_py, *(_plain_pinyin(ch) for ch in given)]
    return NameKeys(
        norm=chars,
        surname=surname,
        given=given,
        pinyin=full,
        pinyin_alt=alt,
        surname_pinyin=sur_py,
        given_pinyin=given_py,
        initials="".join(s[:1] for s in syllables if s),
        shape="".join(_shape(ch) for ch in chars),
        given_sorted="".join(sorted(given)),
        is_pinyin=False,
    )


def _shape(ch: str) -> str:
    code = _FOUR_CORNER.query(ch)
    return code[:4] if code else ch


def _pinyin_only_keys(text: str) -> NameKeys:
    """`ZHANG Wei`, `Zhang Wei`, `zhangwei`: surname first, as on a passport."""
    parts = [p for p in (_ASCII_LETTERS.sub("", t.lower()) for t in text.split(" ")) if p]
    if len(parts) >= 2 and parts[0] not in PINYIN_SURNAMES and parts[-1] in PINYIN_SURNAMES:
        parts = [parts[-1], *parts[:-1]]  # "Wei ZHANG", given name first
    surname = parts[0] if len(parts) >= 2 else ""
    given = "".join(parts[1:]) if len(parts) >= 2 else "".join(parts)
    full = surname + given
    return NameKeys(
        norm=full,
        surname=surname,
        given=given,
        pinyin=full,
        pinyin_alt=full,
        surname_pinyin=surname,
        given_pinyin=given,
        initials="".join(p[:1] for p in parts),
        shape=full,
        given_sorted=given,
        is_pinyin=True,
    )


# Dates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateKeys:
    iso: str | None  # the full date, when the record has one
    year: int
    month: int | None
    swapped: str | None  # day and month exchanged, when that is a date too
    lunar_as_solar: str | None  # this solar date's lunar date, written as if solar


@lru_cache(maxsize=100_000)
def date_keys(year: int, month: int | None, day: int | None) -> DateKeys:
    if month is None or day is None:
        return DateKeys(None, year, month, None, None)
    date = dt.date(year, month, day)
    return DateKeys(date.isoformat(), year, month, _swapped(date), _lunar_as_solar(date))


def _swapped(date: dt.date) -> str | None:
    if date.day > 12 or date.day == date.month:
        return None
    return dt.date(date.year, date.day, date.month).isoformat()


def _lunar_as_solar(date: dt.date) -> str | None:
    try:
        lunar = lunardate.LunarDate.from_solar_date(date.year, date.month, date.day)
        return dt.date(lunar.year, lunar.month, lunar.day).isoformat()
    except ValueError:  # outside lunardate's range, or 30th of a 29-day solar month
        return None


def lunar_to_solar(year: int, month: int, day: int) -> dt.date:
    """The solar date of a lunar one (for the synthetic data and the tests)."""
    solar: dt.date = lunardate.LunarDate(year, month, day).to_solar_date()
    return solar


# ID numbers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdKeys:
    number: str
    valid: bool  # GB 11643 format, date and check digit
    birth_date: str | None
    sex: str | None


def id_keys(raw: str) -> IdKeys | None:
    number = idnumber.normalize(raw)
    if not number:
        return None
    try:
        facts = idnumber.parse(number)
    except idnumber.IdNumberError:
        return IdKeys(number, False, None, None)
    return IdKeys(number, True, facts.birth_date.isoformat(), facts.sex)


def id_agrees(ids: IdKeys, *, birth: DateKeys | None, sex: str | None) -> bool:
    """Does a valid ID number tell the same story as the record's birth date and sex?

    A lunar, swapped or year-only birth date still agrees; another year, or another sex,
    does not (often a parent's or a sibling's number typed into the child's record).
    """
    if not ids.valid or ids.birth_date is None:
        return False
    if sex and ids.sex and sex != ids.sex:
        return False
    if birth is None:
        return True
    return abs(int(ids.birth_date[:4]) - birth.year) <= 1


def phone_key(raw: str) -> str | None:
    digits = "".join(ch for ch in raw if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None
