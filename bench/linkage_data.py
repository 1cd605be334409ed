"""Synthetic Chinese child records for the linkage benchmark: a home file and a destination
file of the same children, seeded, with the noise that real registries carry.

Children come in households (father, mother, phone, hukou county, village); some have a
sibling, 3% are twins (same parents and birth date, different given names). The home
(left) file holds every child of the population; the destination (right) file holds a
share of them, after migration, and children who are not in the home file. Each record is
written by a clerk who may:

- names: write traditional characters, a homophone or a look-alike character, the name in
  pinyin only (a heteronym surname sometimes read the common way: 曾 as "ceng"), swap the
  two given-name characters or drop one;
- birth dates: write the lunar birthday as if solar, swap day and month, keep the year
  only, mistype a digit, leave it out;
- ID numbers: leave it out, mistype a digit, swap two adjacent digits;
- families: leave out a parent, write a parent's name by sound, give another phone.

`python bench/linkage_data.py --children 10000 --out DIR` writes left.csv, right.csv and
truth.csv (left_id, right_id).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import opencc
from four_corner_method import FourCornerMethod
from pypinyin import Style, lazy_pinyin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shouhu.demo import people
from shouhu.linkage import chinese
from shouhu.linkage.files import COLUMNS

# Surnames with a surname reading, added to the census list at small shares.
HETERONYM_SURNAMES = (("曾", 0.3), ("单", 0.1), ("解", 0.05), ("仇", 0.05), ("区", 0.03),
                      ("查", 0.05), ("朴", 0.05), ("覃", 0.05), ("翟", 0.05), ("欧阳", 0.05),
                      ("诸葛", 0.01), ("司马", 0.01))  # fmt: skip
MORE_BOY = "子浩宇轩泽辰梓晨睿俊杰宸铭豪浩然嘉懿煜城懿轩烨磊晟琪瑞家乐佑熙子墨景行奕辰毅"
MORE_GIRL = "梓涵欣怡紫萱诗涵可欣雨涵一诺依诺佳怡梦瑶语嫣若汐艺涵歆瑶芊羽馨蕊婉清沐晴雅琳梓萱"
COUNTIES = [f"{p}{c:02d}{d:02d}" for p in (34, 36, 41, 42, 43, 50, 51, 52, 53, 45)
            for c in range(1, 9) for d in (21, 22, 23, 24, 25)]  # fmt: skip
DESTINATIONS = ["440305", "440306", "440307", "330106", "330110", "320506", "310115",
                "310112", "441900", "442000", "350203", "350206"]  # fmt: skip
_S2T = opencc.OpenCC("s2t")


@dataclass(frozen=True)
class Child:
    key: int
    name: str
    sex: str
    birth: dt.date
    id_number: str
    hukou: str
    village: str
    father: str
    mother: str
    phone: str


class Confusions:
    """Homophones and look-alikes among the characters of common names (by four-corner
    code over GB 2312's first level)."""

    def __init__(self) -> None:
        common = [
            bytes([hi, lo]).decode("gb2312")
            for hi in range(0xB0, 0xD8)
            for lo in range(0xA1, 0xFF)
            if not (hi == 0xD7 and lo > 0xF9)
        ]
        sound: dict[str, list[str]] = defaultdict(list)
        shape: dict[str, list[str]] = defaultdict(list)
        fc = FourCornerMethod()
        for ch in common:
            sound[lazy_pinyin(ch, style=Style.NORMAL)[0]].append(ch)
            code = fc.query(ch)
            if code:
                shape[code[:4]].append(ch)
        self.sound = {ch: [c for c in group if c != ch] for group in sound.values() for ch in group}
        self.shape = {ch: [c for c in group if c != ch] for group in shape.values() for ch in group}


def population(n: int, rng: random.Random) -> list[Child]:
    surnames = people.Picker((*people.SURNAMES, *HETERONYM_SURNAMES))
    ids = people.IdNumbers(rng.randrange(1000))
    children: list[Child] = []
    while len(children) < n:
        surname = surnames.pick(rng)
        hukou = rng.choice(COUNTIES)
        family = {
            "hukou": hukou,
            "village": f"{hukou}{rng.randint(100, 115):03d}{rng.randint(200, 230):03d}",
            "father": surname + people.given_name(rng, "M", adult=True),
            "mother": people.surname(rng) + people.given_name(rng, "F", adult=True),
            "phone": people.phone(rng),
        }
        births = [_birth(rng)]
        roll = rng.random()
        if roll < 0.03:
            births.append(births[0])  # twins
        elif roll < 0.23:
            births.append(_birth(rng))  # a sibling
        given_used: set[str] = set()
        for birth in births:
            sex = rng.choice("MF")
            given = _given(rng, sex)
            while given in given_used:
                given = _given(rng, sex)
            given_used.add(given)
            children.append(
                Child(
                    key=len(children),
                    name=surname + given,
                    sex=sex,
                    birth=birth,
                    id_number=ids.make(hukou, birth, sex),
                    **family,
                )
            )
    return children[:n]


def _birth(rng: random.Random) -> dt.date:
    return dt.date(2008, 1, 1) + dt.timedelta(days=rng.randrange(365 * 16))


def _given(rng: random.Random, sex: str) -> str:
    if rng.random() < 0.6:
        return people.given_name(rng, sex)
    pool = MORE_BOY if sex == "M" else MORE_GIRL
    if rng.random() < 0.2:
        return rng.choice(pool)
    return rng.choice(pool) + rng.choice(pool)


class Clerk:
    """Writes a child's record with noise; `rate` scales every error's probability."""

    def __init__(self, rng: random.Random, confusions: Confusions, rate: float) -> None:
        self.rng, self.conf, self.rate = rng, confusions, rate

    def chance(self, p: float) -> bool:
        return self.rng.random() < p * self.rate

    def record(self, child: Child, record_id: str, *, residence: str) -> dict[str, str]:
        return {
            "record_id": record_id,
            "name": self.name(child.name),
            "sex": "" if self.chance(0.03) else child.sex,
            "birth_date": self.birth(child.birth),
            "id_number": self.id_number(child.id_number),
            "hukou_place": "" if self.chance(0.05) else child.hukou,
            "residence_place": residence,
            "father_name": self.parent(child.father, 0.12),
            "mother_name": self.parent(child.mother, 0.12),
            "guardian_phone": self.phone(child.phone),
        }

    def name(self, name: str) -> str:
        surname, given = chinese.split_name(name)
        rng = self.rng
        if self.chance(0.05):
            return self.pinyin(surname, given)
        if len(given) == 2 and self.chance(0.015):
            given = given[::-1]
        elif len(given) == 2 and self.chance(0.02):
            given = given[rng.randrange(2)]
        if given and self.chance(0.04):
            given = self.swap_char(given, self.conf.sound)
        if given and self.chance(0.02):
            given = self.swap_char(given, self.conf.shape)
        written = surname + given
        if self.chance(0.05):
            written = str(_S2T.convert(written))
        return written

    def swap_char(self, given: str, table: dict[str, list[str]]) -> str:
        i = self.rng.randrange(len(given))
        options = table.get(given[i])
        if not options:
            return given
        return given[:i] + self.rng.choice(options) + given[i + 1 :]

    def pinyin(self, surname: str, given: str) -> str:
        sur = chinese.surname_pinyin(surname)
        if self.rng.random() < 0.1:
            sur = "".join(lazy_pinyin(surname))  # the common reading: 曾 as "ceng"
        giv = "".join(lazy_pinyin(given))
        style = self.rng.randrange(3)
        if style == 0:
            return f"{sur.upper()} {giv.capitalize()}"
        if style == 1:
            return f"{sur.capitalize()} {giv.capitalize()}"
        return sur + giv

    def birth(self, birth: dt.date) -> str:
        if self.chance(0.02):
            return ""
        if self.chance(0.05):
            lunar = chinese.date_keys(birth.year, birth.month, birth.day).lunar_as_solar
            return lunar or birth.isoformat()
        if birth.day <= 12 and birth.day != birth.month and self.chance(0.02):
            return dt.date(birth.year, birth.day, birth.month).isoformat()
        if self.chance(0.03):
            return str(birth.year)
        if self.chance(0.02):
            typo = replace_digit(birth.isoformat(), self.rng, positions=(3, 6, 9))
            return typo if _is_date(typo) else birth.isoformat()
        return birth.isoformat()

    def id_number(self, number: str) -> str:
        if self.chance(0.10):
            return ""
        if self.chance(0.03):
            return replace_digit(number, self.rng, positions=tuple(range(17)))
        if self.chance(0.02):
            i = self.rng.randrange(16)
            return number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        return number

    def parent(self, name: str, missing: float) -> str:
        if self.chance(missing):
            return ""
        if self.chance(0.03):
            surname, given = chinese.split_name(name)
            return surname + self.swap_char(given, self.conf.sound)
        return name

    def phone(self, phone: str) -> str:
        if self.chance(0.2):
            return ""
        if self.chance(0.15):
            return people.phone(self.rng)
        return phone


def replace_digit(text: str, rng: random.Random, *, positions: tuple[int, ...]) -> str:
    i = rng.choice(positions)
    digit = rng.choice([d for d in "0123456789" if d != text[i]])
    return text[:i] + digit + text[i + 1 :]


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def generate(
    n_left: int, n_right: int, *, seed: int = 14, overlap: float = 0.5, rate: float = 1.0
) -> tuple[list[dict[str, str]], list[dict[str, str]], set[tuple[str, str]]]:
    """Left and right records and the true links. `overlap`: the share of the right file
    that are children of the left file (the others are not in it)."""
    rng = random.Random(seed)
    confusions = Confusions()
    matched = int(n_right * overlap)
    children = population(n_left + n_right - matched, rng)
    home, others = children[:n_left], children[n_left:]
    home_clerk = Clerk(rng, confusions, rate * 0.5)
    away_clerk = Clerk(rng, confusions, rate)
    left = [home_clerk.record(c, f"L{c.key:07d}", residence=c.village) for c in home]
    moved = rng.sample(home, matched) + others
    rng.shuffle(moved)
    right, truth = [], set()
    for n, child in enumerate(moved):
        record_id = f"R{n:07d}"
        right.append(away_clerk.record(child, record_id, residence=_destination(rng, child)))
        if child.key < n_left:
            truth.add((f"L{child.key:07d}", record_id))
    return left, right, truth


def _destination(rng: random.Random, child: Child) -> str:
    if rng.random() < 0.2:
        return child.village  # still, or back, at home
    county = rng.choice(DESTINATIONS)
    return f"{county}{rng.randint(1, 12):03d}{rng.randint(1, 30):03d}"


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--left", type=int, default=10_000)
    parser.add_argument("--right", type=int, default=10_000)
    parser.add_argument("--overlap", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    left, right, truth = generate(args.left, args.right, seed=args.seed, overlap=args.overlap)
    write(args.out / "left.csv", left)
    write(args.out / "right.csv", right)
    with (args.out / "truth.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("left_id", "right_id"))
        writer.writerows(sorted(truth))


if __name__ == "__main__":
    main()
