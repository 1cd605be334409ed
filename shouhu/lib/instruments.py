"""Screening and assessment instruments as data: definition format, loader and scorer.

Pure Python (no Django): the screening app stores answers and calls `score()`; nothing from
the input is trusted, every score is recomputed from the raw answers.

One TOML file per instrument, `shouhu/screening/instruments/<code>.toml`. Top-level keys:

- `code` ([a-z0-9_]+, equals the file name stem), `version` (string; bump when items or
  scoring change), `name` (label), `respondent` (child | caregiver | worker), `modes`
  (self_report | interview | observation), `ages` ([min, max] inclusive years: the range the
  platform uses it for, inside its validated range), `languages` (languages whose item text
  the file contains; [] for scoring-only files), `text` (shipped | licensed_addon: a licensed
  add-on file has NO item text and no instructions, the deploying organisation installs
  licensed text with `with_text()`), `licence`, `source` (citation), `kind` (screening |
  needs_assessment | strengths), `scoring` (sum | mean | any_positive: the number of scored
  items answered above 0), `total_of` ("items" = all scored items, or a list of subscale
  codes whose scores are summed, or averaged for `mean`).
- Optional: `timeframe` (label), `instructions` (instrument text: in every listed language,
  absent from licensed add-ons), `[missing]` (`max_missing` scored items may be missing,
  `method` = prorate: sum x n_items / n_answered rounded half up, or the mean of the
  answered items for `mean`; none: invalid when anything is missing; default max_missing 0,
  none; with a `total_of` list, each subscale applies its own `max_missing` and the total
  needs every listed subscale), `[[options]]` (default option list), `[option_sets]`
  (added key: named option lists), `[[items]]`, `[[subscales]]`, `[[bands]]`, `[[flags]]`.
- A label is a table of language tag -> string; UI labels (names, option labels, band,
  flag and subscale names, timeframe) need at least zh-Hans and en. Item text must be in
  exactly the `languages` listed.

Items: `id` (stable content id, never positional), `number` (1..n in this instrument's
order), `text`, `options` (a list like `[[options]]`, or the name of an option set; default:
the `[[options]]` list), `reverse` (scored value = min + max - answer over the item's own
values, which must be symmetric), `scored` (default true; false for fillers and extra
items), `required` (added key; default = `scored`: whether an unanswered, visible item counts
as missing), `modes` (added key; the modes in which the item is asked, default all: e.g.
PHQ-A's suicide items are interview-only), `show_if` (`{item, values}` or
`{any = [{item, values}, ...]}`, on earlier items only; only unscored items may be
conditional, so hidden items never change the total's range).

Subscales: `code`, `name`, `items`, optional `cutoff` (score >= cutoff raises a follow_up
flag), `scoring` (sum | mean), `max_missing` (added key; default the instrument's; the
instrument's `method` applies). Bands (on the total; optional: instruments without an
official cut-off have none and score `band = None`): `code`, `min`, `max`, `label`,
`follow_up`; contiguous (integer totals: next min = previous max + 1; mean totals: next min =
previous max, the boundary belonging to the higher band) and covering `total_range()`
exactly. Flags: `code`, `item` or `any_item`, `values` (raw answers that raise it), `action`
(follow_up | alert | mandatory_report | imminent), `label`. Codes of flags, subscales and
bands are unique together, so a raised flag's code names one thing.

Scoring (`score()`): answers are raw option values by item id (None or absent = unanswered).
An unknown item, a value that is not one of the item's options, a non-integer (bools
included) or an answer to an item hidden by show_if raises `AnswerError`. Flags are raised
from the raw answers; a subscale at or above its cutoff and a follow-up band raise follow_up
flags too. `Score.action` is the most urgent action raised (imminent > mandatory_report >
alert > follow_up), `Score.follow_up` whether anything was raised.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

Number = int | float

RESPONDENTS = ("child", "caregiver", "worker")
MODES = ("self_report", "interview", "observation")
TEXT_STATUSES = ("shipped", "licensed_addon")
KINDS = ("screening", "needs_assessment", "strengths")
SCORINGS = ("sum", "mean", "any_positive")
SUBSCALE_SCORINGS = ("sum", "mean")
MISSING_METHODS = ("prorate", "none")
# Least to most urgent.
ACTIONS = ("follow_up", "alert", "mandatory_report", "imminent")
UI_LANGUAGES = ("zh-Hans", "en")

DEFINITIONS_DIR = Path(__file__).resolve().parent.parent / "screening" / "instruments"

_CODE = re.compile(r"[a-z0-9_]+")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class DefinitionError(Exception):
    """A definition file (or an add-on text) is invalid; the message names file and place."""


class AnswerError(ValueError):
    """An answer cannot exist for this instrument."""

    def __init__(self, item: str, message: str) -> None:
        super().__init__(f'item "{item}": {message}')
        self.item = item


@dataclass(frozen=True, eq=False)
class Label(Mapping[str, str]):
    """Text by language tag, immutable and hashable."""

    pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[str, str]) -> Label:
        return cls(tuple(sorted(mapping.items())))

    def __getitem__(self, language: str) -> str:
        for key, value in self.pairs:
            if key == language:
                return value
        raise KeyError(language)

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.pairs) == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.pairs)

    def text(self, language: str, fallback: str = "en") -> str:
        """The text in `language`, else in `fallback`, else ""."""
        return self.get(language) or self.get(fallback) or ""


@dataclass(frozen=True)
class Option:
    value: int
    label: Label


@dataclass(frozen=True)
class Condition:
    item: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class ShowIf:
    """The item is asked when any condition holds on a visible earlier item's raw answer."""

    any_of: tuple[Condition, ...]


@dataclass(frozen=True)
class Item:
    id: str
    number: int
    text: Label
    options: tuple[Option, ...]
    reverse: bool = False
    scored: bool = True
    show_if: ShowIf | None = None
    required: bool = True
    modes: tuple[str, ...] = ()

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(option.value for option in self.options)

    @property
    def min_value(self) -> int:
        return min(self.values)

    @property
    def max_value(self) -> int:
        return max(self.values)

    def scored_value(self, answer: int) -> int:
        return self.min_value + self.max_value - answer if self.reverse else answer

    def option(self, value: int) -> Option:
        for option in self.options:
            if option.value == value:
                return option
        raise KeyError(value)


@dataclass(frozen=True)
class Subscale:
    code: str
    name: Label
    items: tuple[str, ...]
    cutoff: Number | None = None
    scoring: str = "sum"
    max_missing: int = 0


@dataclass(frozen=True)
class Band:
    code: str
    min: Number
    max: Number
    label: Label
    follow_up: bool = False


@dataclass(frozen=True)
class Flag:
    code: str
    items: tuple[str, ...]
    values: tuple[int, ...]
    action: str
    label: Label


@dataclass(frozen=True)
class MissingRule:
    max_missing: int = 0
    method: str = "none"


@dataclass(frozen=True)
class Instrument:
    code: str
    version: str
    name: Label
    respondent: str
    modes: tuple[str, ...]
    ages: tuple[int, int]
    languages: tuple[str, ...]
    text: str
    licence: str
    source: str
    kind: str
    scoring: str
    total_of: str | tuple[str, ...]
    missing: MissingRule
    items: tuple[Item, ...]
    subscales: tuple[Subscale, ...] = ()
    bands: tuple[Band, ...] = ()
    flags: tuple[Flag, ...] = ()
    timeframe: Label | None = None
    instructions: Label | None = None

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def subscale(self, code: str) -> Subscale:
        for subscale in self.subscales:
            if subscale.code == code:
                return subscale
        raise KeyError(code)

    def has_text(self, language: str) -> bool:
        return all(language in item.text for item in self.items)

    @property
    def total_items(self) -> tuple[str, ...]:
        """The scored items that make up the total, in number order."""
        if self.total_of == "items":
            return tuple(item.id for item in self.items if item.scored)
        wanted = {i for code in self.total_of for i in self.subscale(code).items}
        return tuple(item.id for item in self.items if item.id in wanted)

    @property
    def integer_total(self) -> bool:
        if self.scoring == "mean":
            return False
        if self.total_of == "items":
            return True
        return all(self.subscale(code).scoring == "sum" for code in self.total_of)

    def subscale_range(self, code: str) -> tuple[Number, Number]:
        subscale = self.subscale(code)
        return _range([self.item(i) for i in subscale.items], subscale.scoring)

    def total_range(self) -> tuple[Number, Number]:
        if self.scoring == "any_positive":
            return 0, len(self.total_items)
        if self.total_of == "items":
            return _range([self.item(i) for i in self.total_items], self.scoring)
        ranges = [self.subscale_range(code) for code in self.total_of]
        if self.scoring == "sum":
            return sum(lo for lo, _ in ranges), sum(hi for _, hi in ranges)
        return min(lo for lo, _ in ranges), max(hi for _, hi in ranges)

    def band_for(self, total: Number) -> Band | None:
        """The band holding `total` (bands are sorted by `min`; a shared boundary belongs to
        the higher band)."""
        below = [band for band in self.bands if band.min <= total]
        return below[-1] if below and total <= below[-1].max else None


def _range(items: Sequence[Item], scoring: str) -> tuple[Number, Number]:
    if scoring == "mean":
        # Prorated means can reach any single item's bounds.
        return min(i.min_value for i in items), max(i.max_value for i in items)
    return sum(i.min_value for i in items), sum(i.max_value for i in items)


# --- Loading -------------------------------------------------------------------------------

_TOP_KEYS = {
    "code", "version", "name", "respondent", "modes", "ages", "languages", "text", "licence",
    "source", "kind", "scoring", "total_of", "missing", "options", "option_sets", "items",
    "subscales", "bands", "flags", "timeframe", "instructions",
}  # fmt: skip
_TOP_REQUIRED = _TOP_KEYS - {
    "missing", "options", "option_sets", "subscales", "bands", "flags", "timeframe",
    "instructions",
}  # fmt: skip
_ITEM_KEYS = {
    "id", "number", "text", "options", "reverse", "scored", "required", "modes", "show_if",
}  # fmt: skip
_SUBSCALE_KEYS = {"code", "name", "items", "cutoff", "scoring", "max_missing"}
_BAND_KEYS = {"code", "min", "max", "label", "follow_up"}
_FLAG_KEYS = {"code", "item", "any_item", "values", "action", "label"}


def load(path: Path) -> Instrument:
    """Parse and validate one definition file."""
    return _Parser(path.name).parse(path)


def load_dir(path: Path) -> dict[str, Instrument]:
    """Every `*.toml` definition in `path`, by code."""
    return {instrument.code: instrument for instrument in map(load, sorted(path.glob("*.toml")))}


@lru_cache(maxsize=1)
def _shipped() -> Mapping[str, Instrument]:
    return load_dir(DEFINITIONS_DIR)


def load_shipped() -> dict[str, Instrument]:
    """The definitions shipped with Shouhu (parsed once per process)."""
    return dict(_shipped())


class _Parser:
    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, place: str, problem: str) -> DefinitionError:
        return DefinitionError(f"{self.file}: {place}: {problem}")

    def parse(self, path: Path) -> Instrument:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise DefinitionError(f"{self.file}: cannot read: {exc}") from exc
        return self.instrument(raw, path.stem)

    # Typed access to TOML values.

    def keys(
        self, table: Mapping[str, Any], allowed: set[str], required: set[str], place: str
    ) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                raise self.error(place, f'unknown key "{key}"{hint}')
        for key in sorted(required):
            if key not in table:
                raise self.error(place, f'missing key "{key}"')

    def table(self, value: object, place: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(place, "must be a table")
        return value

    def tables(self, value: object, place: str) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise self.error(place, "must be a list of tables")
        return [self.table(entry, f"{place} #{n}") for n, entry in enumerate(value, 1)]

    def string(self, value: object, place: str, choices: Sequence[str] = ()) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(place, "must be a non-empty string")
        if choices and value not in choices:
            raise self.error(place, f'unknown value "{value}" (one of: {", ".join(choices)})')
        return value

    def code(self, value: object, place: str) -> str:
        text = self.string(value, place)
        if not _CODE.fullmatch(text):
            raise self.error(place, f'"{text}" must match [a-z0-9_]+')
        return text

    def integer(self, value: object, place: str) -> int:
        if type(value) is not int:
            raise self.error(place, "must be an integer")
        return value

    def number(self, value: object, place: str) -> Number:
        if type(value) not in (int, float):
            raise self.error(place, "must be a number")
        assert isinstance(value, int | float)
        return value

    def boolean(self, value: object, place: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(place, "must be true or false")
        return value

    def strings(self, value: object, place: str, choices: Sequence[str] = ()) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.error(place, "must be a list")
        result = tuple(self.string(v, place, choices) for v in value)
        if len(set(result)) != len(result):
            raise self.error(place, "repeats a value")
        return result

    def integers(self, value: object, place: str) -> tuple[int, ...]:
        if not isinstance(value, list) or not value:
            raise self.error(place, "must be a non-empty list of integers")
        result = tuple(self.integer(v, place) for v in value)
        if len(set(result)) != len(result):
            raise self.error(place, "repeats a value")
        return result

    def label(self, value: object, place: str, languages: Sequence[str] = UI_LANGUAGES) -> Label:
        table = self.table(value, place)
        for language, text in table.items():
            if not _LANGUAGE.fullmatch(language):
                raise self.error(place, f'"{language}" is not a language tag')
            self.string(text, f"{place} ({language})")
        for language in languages:
            if language not in table:
                raise self.error(place, f"no {language} text")
        return Label.of(table)

    def text_label(self, value: object, place: str, languages: tuple[str, ...]) -> Label:
        """Instrument text: exactly the listed languages."""
        label = self.label(value, place, languages)
        extra = sorted(set(label) - set(languages))
        if extra:
            raise self.error(place, f"text in {', '.join(extra)}, which `languages` does not list")
        return label

    # The instrument.

    def instrument(self, raw: dict[str, Any], stem: str) -> Instrument:
        self.keys(raw, _TOP_KEYS, _TOP_REQUIRED, "top level")
        code = self.code(raw["code"], 'key "code"')
        if code != stem:
            raise self.error('key "code"', f'"{code}" does not match the file name "{stem}"')
        text = self.string(raw["text"], 'key "text"', TEXT_STATUSES)
        languages = self.strings(raw["languages"], 'key "languages"')
        for language in languages:
            if not _LANGUAGE.fullmatch(language):
                raise self.error('key "languages"', f'"{language}" is not a language tag')
        if text == "shipped" and not languages:
            raise self.error('key "languages"', 'a "shipped" file lists the languages of its text')
        if text == "licensed_addon" and languages:
            raise self.error('key "languages"', "a licensed_addon file has no text: use []")
        modes = self.strings(raw["modes"], 'key "modes"', MODES)
        if not modes:
            raise self.error('key "modes"', "list at least one mode")
        scoring = self.string(raw["scoring"], 'key "scoring"', SCORINGS)
        option_sets = self.option_sets(raw)
        items = self.items(raw, option_sets, languages, modes)
        by_id = {item.id: item for item in items}
        missing = self.missing_rule(raw.get("missing", {}), scoring)
        subscales = tuple(
            self.subscale(t, by_id, missing)
            for t in self.tables(raw.get("subscales", []), 'key "subscales"')
        )
        instrument = Instrument(
            code=code,
            version=self.string(raw["version"], 'key "version"'),
            name=self.label(raw["name"], 'key "name"'),
            respondent=self.string(raw["respondent"], 'key "respondent"', RESPONDENTS),
            modes=modes,
            ages=self.ages(raw["ages"]),
            languages=languages,
            text=text,
            licence=self.string(raw["licence"], 'key "licence"'),
            source=self.string(raw["source"], 'key "source"'),
            kind=self.string(raw["kind"], 'key "kind"', KINDS),
            scoring=scoring,
            total_of=self.total_of(raw["total_of"], subscales, scoring),
            missing=missing,
            items=items,
            subscales=subscales,
            flags=tuple(
                self.flag(t, by_id) for t in self.tables(raw.get("flags", []), 'key "flags"')
            ),
            timeframe=self.label(raw["timeframe"], 'key "timeframe"')
            if "timeframe" in raw
            else None,
            instructions=self.instructions(raw, text, languages),
        )
        self.check_total(instrument)
        instrument = replace(instrument, bands=self.bands(raw.get("bands", []), instrument))
        self.check_codes(instrument)
        return instrument

    def ages(self, value: object) -> tuple[int, int]:
        if not isinstance(value, list) or len(value) != 2:
            raise self.error('key "ages"', "must be [min, max]")
        low, high = (self.integer(v, 'key "ages"') for v in value)
        if not 0 <= low <= high:
            raise self.error('key "ages"', f"min {low} must be at least 0 and not above max {high}")
        return low, high

    def instructions(
        self, raw: dict[str, Any], text: str, languages: tuple[str, ...]
    ) -> Label | None:
        if "instructions" not in raw:
            return None
        if text == "licensed_addon":
            raise self.error('key "instructions"', "instrument text in a licensed_addon file")
        return self.text_label(raw["instructions"], 'key "instructions"', languages)

    def options(self, value: object, place: str) -> tuple[Option, ...]:
        options = []
        for table in self.tables(value, place):
            self.keys(table, {"value", "label"}, {"value", "label"}, place)
            options.append(
                Option(
                    value=self.integer(table["value"], f"{place}: value"),
                    label=self.label(table["label"], f"{place}: label"),
                )
            )
        if len(options) < 2:
            raise self.error(place, "give at least two options")
        values = [option.value for option in options]
        if len(set(values)) != len(values):
            raise self.error(place, "option values must be unique")
        return tuple(options)

    def option_sets(self, raw: dict[str, Any]) -> dict[str, tuple[Option, ...]]:
        sets = {
            self.code(name, 'key "option_sets"'): self.options(value, f'option set "{name}"')
            for name, value in self.table(raw.get("option_sets", {}), 'key "option_sets"').items()
        }
        if "options" in raw:
            sets[""] = self.options(raw["options"], 'key "options"')
        return sets

    def items(
        self,
        raw: dict[str, Any],
        option_sets: dict[str, tuple[Option, ...]],
        languages: tuple[str, ...],
        modes: tuple[str, ...],
    ) -> tuple[Item, ...]:
        tables = self.tables(raw["items"], 'key "items"')
        if not tables:
            raise self.error('key "items"', "no items")
        items: list[Item] = []
        for n, table in enumerate(tables, 1):
            place = f'item "{table["id"]}"' if isinstance(table.get("id"), str) else f"item #{n}"
            items.append(self.item(table, place, option_sets, languages, modes, items))
        numbers = sorted(item.number for item in items)
        for expected, number in enumerate(numbers, 1):
            if number != expected:
                raise self.error(
                    "items", f"number {expected} is missing (numbers run 1..{len(items)})"
                )
        items.sort(key=lambda item: item.number)
        for item in items:
            if item.show_if is not None:
                self.check_show_if(item, {i.id: i for i in items})
        return tuple(items)

    def item(
        self,
        table: dict[str, Any],
        place: str,
        option_sets: dict[str, tuple[Option, ...]],
        languages: tuple[str, ...],
        modes: tuple[str, ...],
        earlier: list[Item],
    ) -> Item:
        self.keys(table, _ITEM_KEYS, {"id", "number"}, place)
        item_id = self.code(table["id"], place)
        number = self.integer(table["number"], f"{place}: number")
        for other in earlier:
            if other.id == item_id:
                raise self.error(place, "id used twice")
            if other.number == number:
                raise self.error(place, f'number {number} is also used by item "{other.id}"')
        scored = self.boolean(table.get("scored", True), f"{place}: scored")
        item = Item(
            id=item_id,
            number=number,
            text=self.item_text(table, place, languages),
            options=self.item_options(table.get("options"), place, option_sets),
            reverse=self.boolean(table.get("reverse", False), f"{place}: reverse"),
            scored=scored,
            show_if=self.show_if(table["show_if"], place) if "show_if" in table else None,
            required=self.boolean(table.get("required", scored), f"{place}: required"),
            modes=self.strings(table["modes"], f"{place}: modes", modes)
            if "modes" in table
            else modes,
        )
        if item.reverse:
            if not item.scored:
                raise self.error(place, "reverse = true on an unscored item")
            values = set(item.values)
            if any(item.min_value + item.max_value - v not in values for v in values):
                raise self.error(
                    place, "reverse = true needs symmetric option values (min + max - v a value)"
                )
        if item.show_if is not None and item.scored:
            raise self.error(place, "show_if on a scored item (only unscored items may be hidden)")
        if not item.modes:
            raise self.error(f"{place}: modes", "list at least one mode")
        return item

    def item_text(self, table: dict[str, Any], place: str, languages: tuple[str, ...]) -> Label:
        if "text" not in table:
            if languages:
                raise self.error(place, f"no text (the file lists {', '.join(languages)})")
            return Label()
        if not languages:
            raise self.error(
                place, "item text in a file without languages (licensed text must never be shipped)"
            )
        return self.text_label(table["text"], f"{place}: text", languages)

    def item_options(
        self, value: object, place: str, option_sets: dict[str, tuple[Option, ...]]
    ) -> tuple[Option, ...]:
        if value is None:
            if "" not in option_sets:
                raise self.error(place, "no options (give [[options]] or the item's own options)")
            return option_sets[""]
        if isinstance(value, str):
            if value not in option_sets or not value:
                raise self.error(place, f'unknown option set "{value}"')
            return option_sets[value]
        return self.options(value, f"{place}: options")

    def show_if(self, value: object, place: str) -> ShowIf:
        table = self.table(value, f"{place}: show_if")
        conditions = (
            [table] if "any" not in table else self.tables(table["any"], f"{place}: show_if")
        )
        if "any" in table:
            self.keys(table, {"any"}, {"any"}, f"{place}: show_if")
        result = []
        for condition in conditions:
            self.keys(condition, {"item", "values"}, {"item", "values"}, f"{place}: show_if")
            result.append(
                Condition(
                    item=self.code(condition["item"], f"{place}: show_if"),
                    values=self.integers(condition["values"], f"{place}: show_if values"),
                )
            )
        if not result:
            raise self.error(f"{place}: show_if", "no conditions")
        return ShowIf(tuple(result))

    def check_show_if(self, item: Item, by_id: dict[str, Item]) -> None:
        assert item.show_if is not None
        for condition in item.show_if.any_of:
            target = by_id.get(condition.item)
            if target is None:
                raise self.error(f'item "{item.id}": show_if', f'unknown item "{condition.item}"')
            if target.number >= item.number:
                raise self.error(
                    f'item "{item.id}": show_if', f'item "{target.id}" does not come earlier'
                )
            self.check_values(condition.values, target, f'item "{item.id}": show_if')

    def check_values(self, values: tuple[int, ...], item: Item, place: str) -> None:
        for value in values:
            if value not in item.values:
                allowed = ", ".join(map(str, item.values))
                raise self.error(
                    place, f'value {value} is not an option of item "{item.id}" ({allowed})'
                )

    def missing_rule(self, value: object, scoring: str) -> MissingRule:
        table = self.table(value, 'key "missing"')
        self.keys(table, {"max_missing", "method"}, set(), 'key "missing"')
        rule = MissingRule(
            max_missing=self.integer(table.get("max_missing", 0), 'key "missing": max_missing'),
            method=self.string(
                table.get("method", "none"), 'key "missing": method', MISSING_METHODS
            ),
        )
        if rule.max_missing < 0:
            raise self.error('key "missing"', "max_missing must not be negative")
        if rule.method == "none" and rule.max_missing:
            raise self.error('key "missing"', 'method "none" allows no missing items')
        if scoring == "any_positive" and rule.max_missing:
            raise self.error('key "missing"', "any_positive totals cannot be prorated")
        return rule

    def subscale(
        self, table: dict[str, Any], by_id: dict[str, Item], rule: MissingRule
    ) -> Subscale:
        place = f'subscale "{table["code"]}"' if isinstance(table.get("code"), str) else "subscale"
        self.keys(table, _SUBSCALE_KEYS, {"code", "name", "items"}, place)
        items = self.strings(table["items"], f"{place}: items")
        if not items:
            raise self.error(place, "no items")
        for item_id in items:
            if item_id not in by_id:
                raise self.error(place, f'unknown item "{item_id}"')
            if not by_id[item_id].scored:
                raise self.error(place, f'item "{item_id}" is not scored')
        subscale = Subscale(
            code=self.code(table["code"], place),
            name=self.label(table["name"], f"{place}: name"),
            items=items,
            cutoff=self.number(table["cutoff"], f"{place}: cutoff") if "cutoff" in table else None,
            scoring=self.string(
                table.get("scoring", "sum"), f"{place}: scoring", SUBSCALE_SCORINGS
            ),
            max_missing=self.integer(
                table.get("max_missing", rule.max_missing), f"{place}: max_missing"
            ),
        )
        if not 0 <= subscale.max_missing < len(items):
            inherited = "" if "max_missing" in table else " (inherited: set the subscale's own)"
            raise self.error(
                place, f"max_missing {subscale.max_missing} must be 0..{len(items) - 1}{inherited}"
            )
        if subscale.max_missing and rule.method == "none":
            raise self.error(place, 'max_missing with missing method "none"')
        low, high = _range([by_id[i] for i in items], subscale.scoring)
        if subscale.cutoff is not None and not low < subscale.cutoff <= high:
            raise self.error(
                place, f"cutoff {subscale.cutoff} outside the score range {low}..{high}"
            )
        return subscale

    def total_of(
        self, value: object, subscales: tuple[Subscale, ...], scoring: str
    ) -> str | tuple[str, ...]:
        if value == "items":
            return "items"
        if isinstance(value, str):
            raise self.error('key "total_of"', 'must be "items" or a list of subscale codes')
        codes = self.strings(value, 'key "total_of"')
        if not codes:
            raise self.error('key "total_of"', "list at least one subscale")
        known = {subscale.code for subscale in subscales}
        for code in codes:
            if code not in known:
                raise self.error('key "total_of"', f'unknown subscale "{code}"')
        if scoring == "any_positive":
            raise self.error('key "total_of"', 'any_positive totals count items: use "items"')
        return codes

    def check_total(self, instrument: Instrument) -> None:
        n_items = len(instrument.total_items)
        if n_items == 0:
            raise self.error('key "total_of"', "the total has no scored items")
        if instrument.missing.max_missing >= n_items:
            raise self.error('key "missing"', f"max_missing must be below {n_items}")

    def flag(self, table: dict[str, Any], by_id: dict[str, Item]) -> Flag:
        place = f'flag "{table["code"]}"' if isinstance(table.get("code"), str) else "flag"
        self.keys(table, _FLAG_KEYS, {"code", "values", "action", "label"}, place)
        if ("item" in table) == ("any_item" in table):
            raise self.error(place, 'give either "item" or "any_item"')
        if "item" in table:
            items: tuple[str, ...] = (self.code(table["item"], f"{place}: item"),)
        else:
            items = self.strings(table["any_item"], f"{place}: any_item")
        if not items:
            raise self.error(place, "no items")
        values = self.integers(table["values"], f"{place}: values")
        for item_id in items:
            if item_id not in by_id:
                raise self.error(place, f'unknown item "{item_id}"')
            self.check_values(values, by_id[item_id], place)
        return Flag(
            code=self.code(table["code"], place),
            items=items,
            values=values,
            action=self.string(table["action"], f"{place}: action", ACTIONS),
            label=self.label(table["label"], f"{place}: label"),
        )

    def bands(self, value: object, instrument: Instrument) -> tuple[Band, ...]:
        bands = []
        for table in self.tables(value, 'key "bands"'):
            place = f'band "{table["code"]}"' if isinstance(table.get("code"), str) else "band"
            self.keys(table, _BAND_KEYS, {"code", "min", "max", "label"}, place)
            number = self.integer if instrument.integer_total else self.number
            band = Band(
                code=self.code(table["code"], place),
                min=number(table["min"], f"{place}: min"),
                max=number(table["max"], f"{place}: max"),
                label=self.label(table["label"], f"{place}: label"),
                follow_up=self.boolean(table.get("follow_up", False), f"{place}: follow_up"),
            )
            if band.min > band.max:
                raise self.error(place, f"min {band.min} is above max {band.max}")
            bands.append(band)
        bands.sort(key=lambda band: band.min)
        if bands:
            self.check_coverage(bands, instrument)
        return tuple(bands)

    def check_coverage(self, bands: list[Band], instrument: Instrument) -> None:
        step = 1 if instrument.integer_total else 0
        for before, after in pairwise(bands):
            expected = before.max + step
            if after.min < expected:
                raise self.error(f'band "{after.code}"', f'overlaps band "{before.code}"')
            if after.min > expected:
                raise self.error(
                    "bands",
                    f'gap between band "{before.code}" (max {before.max}) '
                    f'and band "{after.code}" (min {after.min})',
                )
        low, high = instrument.total_range()
        if bands[0].min != low or bands[-1].max != high:
            raise self.error(
                "bands",
                f"cover {bands[0].min}..{bands[-1].max} but the total ranges {low}..{high}",
            )

    def check_codes(self, instrument: Instrument) -> None:
        seen: dict[str, str] = {}
        for kind, codes in (
            ("subscale", [s.code for s in instrument.subscales]),
            ("band", [b.code for b in instrument.bands]),
            ("flag", [f.code for f in instrument.flags]),
        ):
            for code in codes:
                if code in seen:
                    raise self.error(f'{kind} "{code}"', f"code already used by a {seen[code]}")
                seen[code] = kind


# --- Installing licensed text ----------------------------------------------------------------


def with_text(
    instrument: Instrument, texts: Mapping[str, Mapping[str, str]], language: str
) -> Instrument:
    """A copy of `instrument` with item text in `language` added from a licensed add-on.

    `texts` maps every item id to its text by language; only `language` is read. Unknown and
    missing item ids are errors, as is a language the instrument already has text in.
    """
    where = f"{instrument.code}: {language} text"
    if not _LANGUAGE.fullmatch(language):
        raise DefinitionError(f'{where}: "{language}" is not a language tag')
    if language in instrument.languages:
        raise DefinitionError(f"{where}: the instrument already has {language} text")
    ids = {item.id for item in instrument.items}
    unknown = sorted(set(texts) - ids)
    if unknown:
        raise DefinitionError(f"{where}: unknown items {_quoted(unknown)}")
    missing = [
        item.id
        for item in instrument.items
        if not isinstance(texts.get(item.id, {}).get(language), str)
        or not texts[item.id][language].strip()
    ]
    if missing:
        raise DefinitionError(f"{where}: no text for items {_quoted(missing)}")
    items = tuple(
        replace(item, text=Label.of({**item.text, language: texts[item.id][language]}))
        for item in instrument.items
    )
    return replace(instrument, items=items, languages=(*instrument.languages, language))


def _quoted(ids: Sequence[str]) -> str:
    return ", ".join(f'"{i}"' for i in ids)


# --- Scoring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaisedFlag:
    """A raised flag. `kind` is "item" (a `[[flags]]` entry, `item` and `value` the raw
    answer that raised it), "subscale" (a subscale at or above its cutoff, `value` the score)
    or "band" (a follow-up band, `value` the total)."""

    code: str
    action: str
    item: str | None
    value: Number | None
    kind: str = "item"
    label: Label = Label()


@dataclass(frozen=True)
class Score:
    instrument: str
    version: str
    total: Number | None
    band: str | None
    subscales: dict[str, Number | None]
    flags: tuple[RaisedFlag, ...]
    missing: tuple[str, ...]  # required items that are asked but unanswered
    prorated: bool  # the total or a subscale was computed from fewer answers than items
    follow_up: bool
    action: str | None  # the most urgent action of the raised flags
    hidden: tuple[str, ...] = ()  # items not asked because of show_if

    @property
    def complete(self) -> bool:
        return not self.missing


def visible_items(instrument: Instrument, answers: Mapping[str, int | None]) -> tuple[str, ...]:
    """The ids of the items asked, given the raw answers so far (show_if)."""
    visible: list[str] = []
    for item in instrument.items:
        if item.show_if is None or any(
            condition.item in visible and answers.get(condition.item) in condition.values
            for condition in item.show_if.any_of
        ):
            visible.append(item.id)
    return tuple(visible)


def score(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    """Score raw answers (item id -> option value, None or absent = unanswered)."""
    given = _checked_answers(instrument, answers)
    visible = visible_items(instrument, given)
    for item_id in given:
        if item_id not in visible:
            raise AnswerError(
                item_id, "is not asked with these answers (show_if), so it has no answer"
            )
    scored = {
        item.id: item.scored_value(given[item.id])
        for item in instrument.items
        if item.scored and item.id in given
    }
    method = instrument.missing.method
    results = {
        subscale.code: _aggregate(
            [scored.get(i) for i in subscale.items], subscale.scoring, subscale.max_missing, method
        )
        for subscale in instrument.subscales
    }
    subscales = {code: value for code, (value, _) in results.items()}
    total, prorated = _total(instrument, scored, results)
    band = instrument.band_for(total) if total is not None else None
    flags = _raised(instrument, given, subscales, total, band)
    return Score(
        instrument=instrument.code,
        version=instrument.version,
        total=total,
        band=band.code if band else None,
        subscales=subscales,
        flags=flags,
        missing=tuple(
            item.id
            for item in instrument.items
            if item.required and item.id in visible and item.id not in given
        ),
        prorated=prorated or any(p for _, p in results.values()),
        follow_up=bool(flags),
        action=max((f.action for f in flags), key=ACTIONS.index, default=None),
        hidden=tuple(item.id for item in instrument.items if item.id not in visible),
    )


def _checked_answers(instrument: Instrument, answers: Mapping[str, int | None]) -> dict[str, int]:
    items = {item.id: item for item in instrument.items}
    given: dict[str, int] = {}
    for item_id, value in answers.items():
        item = items.get(item_id)
        if item is None:
            raise AnswerError(item_id, f"unknown item for {instrument.code}")
        if value is None:
            continue
        allowed = ", ".join(map(str, item.values))
        if type(value) is not int:
            raise AnswerError(item_id, f"answer {value!r} is not an integer (allowed: {allowed})")
        if value not in item.values:
            raise AnswerError(item_id, f"answer {value} is not allowed (allowed: {allowed})")
        given[item_id] = value
    return given


def _aggregate(
    values: Sequence[int | None], scoring: str, max_missing: int, method: str
) -> tuple[Number | None, bool]:
    answered = [v for v in values if v is not None]
    n_missing = len(values) - len(answered)
    if n_missing > max_missing or not answered:
        return None, False
    if scoring == "any_positive":
        return sum(1 for v in answered if v > 0), False
    if scoring == "mean":
        return float(Fraction(sum(answered), len(answered))), n_missing > 0
    if n_missing and method == "prorate":
        return _round_half_up(Fraction(sum(answered) * len(values), len(answered))), True
    return sum(answered), False


def _round_half_up(value: Fraction) -> int:
    return (value + Fraction(1, 2)).__floor__()


def _total(
    instrument: Instrument,
    scored: Mapping[str, int],
    subscales: Mapping[str, tuple[Number | None, bool]],
) -> tuple[Number | None, bool]:
    if instrument.total_of == "items":
        return _aggregate(
            [scored.get(i) for i in instrument.total_items],
            instrument.scoring,
            instrument.missing.max_missing,
            instrument.missing.method,
        )
    parts = [subscales[code] for code in instrument.total_of]
    values = [value for value, _ in parts if value is not None]
    if len(values) < len(parts):
        return None, False
    prorated = any(p for _, p in parts)
    if instrument.scoring == "mean":
        return sum(values) / len(values), prorated
    return sum(values), prorated


def _raised(
    instrument: Instrument,
    given: Mapping[str, int],
    subscales: Mapping[str, Number | None],
    total: Number | None,
    band: Band | None,
) -> tuple[RaisedFlag, ...]:
    raised = []
    for flag in instrument.flags:
        hit = next((i for i in flag.items if given.get(i) in flag.values), None)
        if hit is not None:
            raised.append(RaisedFlag(flag.code, flag.action, hit, given[hit], "item", flag.label))
    for subscale in instrument.subscales:
        value = subscales[subscale.code]
        if subscale.cutoff is not None and value is not None and value >= subscale.cutoff:
            raised.append(
                RaisedFlag(subscale.code, "follow_up", None, value, "subscale", subscale.name)
            )
    if band is not None and band.follow_up:
        raised.append(RaisedFlag(band.code, "follow_up", None, total, "band", band.label))
    return tuple(raised)
