"""Four-colour risk level from configurable rules (pure Python, no Django).

Rules live in a TOML file (the default is `shouhu/screening/risk_rules.toml`; a deployment
points `SHOUHU_RISK_RULES` at its own). Each rule names a level and the conditions, all of
which must hold, over a flat dictionary of facts about one child; the child's level is the
highest level of any rule that holds (green when none does), and the reasons are the labels
of every rule that holds at that level or above it.

```toml
[intervals]            # days between follow-up visits per level
red = 7
orange = 14
yellow = 30
green = 90

[[rules]]
code = "parent_not_seen_over_12_months"
level = "red"
when = [{fact = "parent_last_seen", eq = 2}]
label = {zh-Hans = "超过12个月未见到父母", en = "Has not seen a parent for over 12 months"}
```

Condition operators: `eq`, `ne`, `in` (list), `gte`, `lte` (numbers), `contains` (the fact is
a list holding the value), `true` / `false` (booleans, written `is = true`). A fact that is
missing or `None` satisfies no operator except `ne`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LEVELS = ("green", "yellow", "orange", "red")
OPERATORS = ("eq", "ne", "in", "gte", "lte", "contains", "is")
DEFAULT_INTERVALS = {"red": 7, "orange": 14, "yellow": 30, "green": 90}


class RulesError(Exception):
    """A rules file that cannot be used; the message names the file and the place."""


@dataclass(frozen=True)
class Condition:
    fact: str
    op: str
    value: Any

    def holds(self, facts: Mapping[str, Any]) -> bool:
        actual = facts.get(self.fact)
        if self.op == "ne":
            return bool(actual != self.value)
        if actual is None:
            return False
        if self.op == "eq":
            return bool(actual == self.value)
        if self.op == "in":
            return actual in self.value
        if self.op == "gte":
            return isinstance(actual, int | float) and actual >= self.value
        if self.op == "lte":
            return isinstance(actual, int | float) and actual <= self.value
        if self.op == "contains":
            return isinstance(actual, list | tuple | set | frozenset) and self.value in actual
        return actual is self.value  # "is": booleans


@dataclass(frozen=True)
class Rule:
    code: str
    level: str
    when: tuple[Condition, ...]
    label: Mapping[str, str]

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return all(c.holds(facts) for c in self.when)


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    intervals: Mapping[str, int]


@dataclass(frozen=True)
class Assessment:
    level: str
    reasons: tuple[Rule, ...]

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)


def rank(level: str) -> int:
    return LEVELS.index(level)


def evaluate(rules: Rules, facts: Mapping[str, Any]) -> Assessment:
    held = [rule for rule in rules.rules if rule.holds(facts)]
    if not held:
        return Assessment("green", ())
    top = max(rank(rule.level) for rule in held)
    reasons = sorted(held, key=lambda r: (-rank(r.level), r.code))
    return Assessment(LEVELS[top], tuple(reasons))


def load(path: Path) -> Rules:
    name = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{name}: {exc}") from exc
    return parse(raw, name)


def parse(raw: Mapping[str, Any], name: str = "rules") -> Rules:
    unknown = set(raw) - {"intervals", "rules"}
    if unknown:
        raise RulesError(f"{name}: unknown keys {sorted(unknown)}")
    intervals = dict(DEFAULT_INTERVALS)
    for level, days in dict(raw.get("intervals", {})).items():
        if level not in LEVELS:
            raise RulesError(f'{name}: intervals: unknown level "{level}"')
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise RulesError(f"{name}: intervals.{level}: a whole number of days ≥ 1")
        intervals[level] = days
    rules: list[Rule] = []
    codes: set[str] = set()
    for index, entry in enumerate(raw.get("rules", [])):
        where = f"{name}: rules[{index}]"
        if not isinstance(entry, dict):
            raise RulesError(f"{where}: a table")
        extra = set(entry) - {"code", "level", "when", "label"}
        if extra:
            raise RulesError(f"{where}: unknown keys {sorted(extra)}")
        code = entry.get("code")
        if not isinstance(code, str) or not code:
            raise RulesError(f"{where}: code is required")
        where = f'{name}: rule "{code}"'
        if code in codes:
            raise RulesError(f"{where}: duplicate code")
        codes.add(code)
        if entry.get("level") not in LEVELS:
            raise RulesError(f"{where}: level must be one of {', '.join(LEVELS)}")
        label = entry.get("label")
        if not isinstance(label, dict) or not {"zh-Hans", "en"} <= set(label):
            raise RulesError(f"{where}: label needs zh-Hans and en")
        conditions = entry.get("when")
        if not isinstance(conditions, list) or not conditions:
            raise RulesError(f"{where}: when needs at least one condition")
        parsed: list[Condition] = []
        for c_index, cond in enumerate(conditions):
            c_where = f"{where}: when[{c_index}]"
            if not isinstance(cond, dict) or not isinstance(cond.get("fact"), str):
                raise RulesError(f"{c_where}: needs a fact")
            ops = [k for k in cond if k != "fact"]
            if len(ops) != 1 or ops[0] not in OPERATORS:
                raise RulesError(f"{c_where}: exactly one operator of {', '.join(OPERATORS)}")
            op = ops[0]
            value = cond[op]
            if op == "in" and not isinstance(value, list):
                raise RulesError(f"{c_where}: in needs a list")
            if op in {"gte", "lte"} and (
                not isinstance(value, int | float) or isinstance(value, bool)
            ):
                raise RulesError(f"{c_where}: {op} needs a number")
            if op == "is" and not isinstance(value, bool):
                raise RulesError(f"{c_where}: is needs true or false")
            parsed.append(Condition(cond["fact"], op, value))
        rules.append(Rule(code, entry["level"], tuple(parsed), dict(label)))
    return Rules(tuple(rules), intervals)
