"""Plausible people for synthetic data: names, ages, ID numbers and phone numbers.

Pure functions over a `random.Random`, so that a seed reproduces the same people. No models.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from itertools import accumulate

from stdnum.cn import ric

# The most common surnames with their approximate share (per cent) of the population
# (2020 census order), plus a few that are common in western Anhui (汪, 詹, 余, 漆).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.1),
    ("李", 7.0),
    ("张", 6.8),
    ("刘", 5.4),
    ("陈", 4.6),
    ("杨", 3.1),
    ("黄", 2.4),
    ("赵", 2.3),
    ("吴", 2.1),
    ("周", 2.0),
    ("徐", 1.7),
    ("孙", 1.5),
    ("马", 1.5),
    ("朱", 1.3),
    ("胡", 1.3),
    ("郭", 1.2),
    ("何", 1.2),
    ("高", 1.1),
    ("林", 1.1),
    ("罗", 1.0),
    ("郑", 0.9),
    ("梁", 0.9),
    ("谢", 0.8),
    ("宋", 0.7),
    ("唐", 0.7),
    ("许", 0.7),
    ("韩", 0.6),
    ("冯", 0.6),
    ("邓", 0.6),
    ("曹", 0.6),
    ("彭", 0.5),
    ("曾", 0.5),
    ("肖", 0.5),
    ("田", 0.5),
    ("董", 0.5),
    ("袁", 0.4),
    ("潘", 0.4),
    ("于", 0.4),
    ("蒋", 0.4),
    ("蔡", 0.4),
    ("余", 0.5),
    ("杜", 0.4),
    ("叶", 0.4),
    ("程", 0.4),
    ("苏", 0.3),
    ("魏", 0.3),
    ("吕", 0.3),
    ("丁", 0.3),
    ("任", 0.3),
    ("沈", 0.3),
    ("汪", 0.5),
    ("詹", 0.3),
    ("漆", 0.1),
    ("方", 0.3),
    ("储", 0.1),
)

BOY_CHARS = (
    "伟强磊军洋勇杰涛明超浩宇轩然博文俊晨鹏辉鑫昊天一泽睿航凯瑞嘉梓铭豪奕宸皓逸志子"
    "思远诚康乐安平恒毅翔鸿彬斌宁健"
)
GIRL_CHARS = (
    "芳娜敏静丽婷雪琳欣怡悦涵萱梦雨佳琪晴诗妍可馨思语彤瑶薇雅欢颖娟玲燕霞倩蕾茜月萌心一子若安宁"
)
# Adults born 1945-2000 carry names of their generation.
MAN_CHARS = "国建华军明强伟平志兵林勇刚春海德文成红东永立福生"
WOMAN_CHARS = "秀英华兰桂芳玉凤珍丽霞红梅云琴花娟萍翠敏芬"

# Ages 0-17 of registered children: fewer infants and older teenagers, most at primary age.
AGE_WEIGHTS = (3.0, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.0, 7.0, 7.0, 7.0, 6.5, 6.5, 6.0, 4.5)
AGE_WEIGHTS_ALL = (*AGE_WEIGHTS, 4.0, 3.5)
PHONE_PREFIXES = [
    *("130", "131", "132", "133", "135", "136", "137", "138", "139"),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159"),
    *("166", "175", "176", "177", "180", "181", "182", "183", "185"),
    *("186", "187", "188", "189", "191", "198", "199"),
]


class Picker:
    """Weighted choice with precomputed cumulative weights (fast for millions of draws)."""

    def __init__(self, items: Sequence[tuple[str, float]]) -> None:
        self.values = [v for v, _ in items]
        self.cum = list(accumulate(w for _, w in items))

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cum)[0]


SURNAME_PICKER = Picker(SURNAMES)


def surname(rng: random.Random) -> str:
    return SURNAME_PICKER.pick(rng)


def given_name(rng: random.Random, sex: str, *, adult: bool = False) -> str:
    """One character in a quarter of names, two otherwise."""
    if adult:
        pool = MAN_CHARS if sex == "M" else WOMAN_CHARS
    else:
        pool = BOY_CHARS if sex == "M" else GIRL_CHARS
    if rng.random() < 0.25:
        return rng.choice(pool)
    first, second = rng.choice(pool), rng.choice(pool)
    while second == first:
        second = rng.choice(pool)
    return first + second


def child_age(rng: random.Random, *, max_age: int = 17) -> int:
    weights = AGE_WEIGHTS_ALL[: max_age + 1]
    return rng.choices(range(len(weights)), weights=weights)[0]


def birth_date_for_age(rng: random.Random, age: int, today: dt.date) -> dt.date:
    """A birth date giving exactly `age` completed years on `today`."""
    latest = _years_before(today, age)
    earliest = _years_before(today, age + 1) + dt.timedelta(days=1)
    span = (latest - earliest).days
    return earliest + dt.timedelta(days=rng.randint(0, span))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


class IdNumbers:
    """GB 11643 resident ID numbers, unique per generator: area code of the hukou county,
    birth date, a sequence whose last digit is odd for males, and the check digit."""

    def __init__(self, seed: int) -> None:
        self._next: dict[tuple[str, dt.date, str], int] = {}
        # Different seeds start at different sequence numbers, so that two generated sets
        # rarely share a number.
        self._start = (seed * 7919) % 500

    def make(self, county: str, birth_date: dt.date, sex: str) -> str:
        key = (county, birth_date, sex)
        n = self._next.get(key, self._start)
        self._next[key] = n + 1
        seq = (n % 500) * 2 + (1 if sex == "M" else 0)
        body = f"{county}{birth_date:%Y%m%d}{seq:03d}"
        return body + ric.calc_check_digit(body + "0")
