"""The instrument loader's validation, the scorer, and properties over every shipped definition."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shouhu.lib.instruments import (
    ACTIONS,
    AnswerError,
    DefinitionError,
    Instrument,
    Label,
    load,
    load_dir,
    load_shipped,
    score,
    visible_items,
    with_text,
)

SHIPPED = load_shipped()

# --- A small definition to break, written as TOML ---------------------------------------------


def label(zh: str, en: str) -> dict[str, str]:
    return {"zh-Hans": zh, "en": en}


def base() -> dict[str, Any]:
    """A valid definition exercising most of the format."""
    return {
        "code": "tiny",
        "version": "1",
        "name": label("小量表", "Tiny scale"),
        "respondent": "child",
        "modes": ["self_report", "interview"],
        "ages": [8, 17],
        "languages": ["zh-Hans", "en"],
        "text": "shipped",
        "licence": "Test licence",
        "source": "Test source",
        "kind": "screening",
        "scoring": "sum",
        "total_of": "items",
        "options": [
            {"value": 0, "label": label("没有", "Never")},
            {"value": 1, "label": label("有时", "Sometimes")},
            {"value": 2, "label": label("经常", "Often")},
        ],
        "option_sets": {
            "yes_no": [
                {"value": 0, "label": label("否", "No")},
                {"value": 1, "label": label("是", "Yes")},
            ]
        },
        "items": [
            {"id": "tiny_sad", "number": 1, "text": label("难过", "Sad")},
            {"id": "tiny_happy", "number": 2, "text": label("开心", "Happy"), "reverse": True},
            {"id": "tiny_worried", "number": 3, "text": label("担心", "Worried")},
            {
                "id": "tiny_talk",
                "number": 4,
                "text": label("想谈谈吗", "Want to talk?"),
                "scored": False,
                "options": "yes_no",
                "show_if": {"item": "tiny_sad", "values": [2]},
            },
        ],
        "subscales": [
            {
                "code": "mood",
                "name": label("情绪", "Mood"),
                "items": ["tiny_sad", "tiny_happy"],
                "cutoff": 3,
            },
        ],
        "bands": [
            {"code": "low", "min": 0, "max": 2, "label": label("低", "Low")},
            {"code": "high", "min": 3, "max": 6, "label": label("高", "High"), "follow_up": True},
        ],
        "flags": [
            {
                "code": "often_sad",
                "item": "tiny_sad",
                "values": [2],
                "action": "alert",
                "label": label("经常难过", "Often sad"),
            },
        ],
    }


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"


def write(tmp_path: Path, definition: dict[str, Any], name: str = "tiny") -> Path:
    path = tmp_path / f"{name}.toml"
    text = "\n".join(f'"{k}" = {toml_value(v)}' for k, v in definition.items())
    path.write_text(text + "\n", encoding="utf-8")
    return path


def broken(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> str:
    """The DefinitionError message for the base definition after `change`."""
    definition = copy.deepcopy(base())
    change(definition)
    with pytest.raises(DefinitionError) as caught:
        load(write(tmp_path, definition))
    return str(caught.value)


def item(definition: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(i for i in definition["items"] if i["id"] == item_id)


@pytest.fixture
def tiny(tmp_path: Path) -> Instrument:
    return load(write(tmp_path, base()))


def test_base_definition_loads(tiny: Instrument) -> None:
    assert tiny.code == "tiny"
    assert [i.id for i in tiny.items] == ["tiny_sad", "tiny_happy", "tiny_worried", "tiny_talk"]
    assert tiny.total_range() == (0, 6)
    assert tiny.item("tiny_talk").values == (0, 1)
    assert tiny.item("tiny_talk").required is False
    assert tiny.name == {"zh-Hans": "小量表", "en": "Tiny scale"}
    assert tiny.has_text("zh-Hans")
    assert not tiny.has_text("fr")


def test_items_come_in_number_order_whatever_the_file_order(tmp_path: Path) -> None:
    definition = base()
    definition["items"] = definition["items"][2::-1] + definition["items"][3:]
    assert [i.number for i in load(write(tmp_path, definition)).items] == [1, 2, 3, 4]


def test_load_dir_reads_every_file_by_code(tmp_path: Path) -> None:
    write(tmp_path, base())
    other = {**base(), "code": "tiny_two"}
    write(tmp_path, other, "tiny_two")
    assert sorted(load_dir(tmp_path)) == ["tiny", "tiny_two"]


# --- Validation: one test per class of error --------------------------------------------------


def test_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text('code = "tiny\n', encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"^tiny\.toml: cannot read"):
        load(path)


@pytest.mark.parametrize("key", ["code", "version", "name", "kind", "scoring", "items", "licence"])
def test_missing_required_key(tmp_path: Path, key: str) -> None:
    message = broken(tmp_path, lambda d: d.pop(key))
    assert message == f'tiny.toml: top level: missing key "{key}"'


def test_wrong_type(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.update(version=1))
    assert message == 'tiny.toml: key "version": must be a non-empty string'


def test_unknown_top_level_key_suggests_the_right_one(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.update(scorng="sum"))
    assert message == 'tiny.toml: top level: unknown key "scorng" (did you mean "scoring"?)'


def test_unknown_item_key(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_happy").update(revers=True))
    assert message.startswith('tiny.toml: item "tiny_happy": unknown key "revers"')


def test_code_must_match_the_file_name(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.update(code="tinny"))
    assert message == 'tiny.toml: key "code": "tinny" does not match the file name "tiny"'


def test_code_pattern(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_sad").update(id="Tiny-Sad"))
    assert message == 'tiny.toml: item "Tiny-Sad": "Tiny-Sad" must match [a-z0-9_]+'


def test_duplicate_item_id(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_worried").update(id="tiny_sad"))
    assert message == 'tiny.toml: item "tiny_sad": id used twice'


def test_duplicate_item_number(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_worried").update(number=2))
    assert message == 'tiny.toml: item "tiny_worried": number 2 is also used by item "tiny_happy"'


def test_item_numbers_must_be_contiguous(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_talk").update(number=5))
    assert message == "tiny.toml: items: number 4 is missing (numbers run 1..4)"


def test_no_items(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.update(items=[]))
    assert message == 'tiny.toml: key "items": no items'


def test_empty_options(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_sad").update(options=[]))
    assert message == 'tiny.toml: item "tiny_sad": options: give at least two options'


def test_option_values_must_be_unique(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["options"][1]["value"] = 0

    assert broken(tmp_path, change) == 'tiny.toml: key "options": option values must be unique'


def test_option_values_must_be_integers(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["options"][1]["value"] = 1.5

    assert broken(tmp_path, change) == 'tiny.toml: key "options": value: must be an integer'


def test_booleans_are_not_integers_in_definitions(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_sad").update(number=True))
    assert message == 'tiny.toml: item "tiny_sad": number: must be an integer'


def test_item_without_any_options(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.pop("options"))
    assert message.startswith('tiny.toml: item "tiny_sad": no options')


def test_unknown_option_set(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_talk").update(options="yes_or_no"))
    assert message == 'tiny.toml: item "tiny_talk": unknown option set "yes_or_no"'


def test_reverse_on_an_unscored_item(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_talk").update(reverse=True))
    assert message == 'tiny.toml: item "tiny_talk": reverse = true on an unscored item'


def test_reverse_needs_symmetric_option_values(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        item(d, "tiny_happy")["options"] = [
            {"value": 0, "label": label("否", "No")},
            {"value": 1, "label": label("有点", "A bit")},
            {"value": 3, "label": label("是", "Yes")},
        ]

    message = broken(tmp_path, change)
    assert message.startswith('tiny.toml: item "tiny_happy": reverse = true needs symmetric')


def test_subscale_unknown_item(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["subscales"][0]["code"] = "somatic"
        d["subscales"][0]["items"] = ["tiny_sad", "tiny_sadd"]

    assert broken(tmp_path, change) == 'tiny.toml: subscale "somatic": unknown item "tiny_sadd"'


def test_subscale_of_an_unscored_item(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["subscales"][0].update(items=["tiny_talk"]))
    assert message == 'tiny.toml: subscale "mood": item "tiny_talk" is not scored'


def test_subscale_cutoff_outside_its_range(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["subscales"][0].update(cutoff=5))
    assert message == 'tiny.toml: subscale "mood": cutoff 5 outside the score range 0..4'


def test_flag_unknown_item(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["flags"][0].update(item="tiny_glad"))
    assert message == 'tiny.toml: flag "often_sad": unknown item "tiny_glad"'


def test_flag_values_outside_the_item_options(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["flags"][0].update(values=[2, 3]))
    assert message == (
        'tiny.toml: flag "often_sad": value 3 is not an option of item "tiny_sad" (0, 1, 2)'
    )


def test_flag_needs_exactly_one_of_item_and_any_item(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["flags"][0].update(any_item=["tiny_happy"]))
    assert message == 'tiny.toml: flag "often_sad": give either "item" or "any_item"'


def test_show_if_unknown_item(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_talk")["show_if"].update(item="tiny_x"))
    assert message == 'tiny.toml: item "tiny_talk": show_if: unknown item "tiny_x"'


def test_show_if_on_a_later_item(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        item(d, "tiny_talk")["number"] = 1
        item(d, "tiny_sad")["number"] = 4

    message = broken(tmp_path, change)
    assert message == 'tiny.toml: item "tiny_talk": show_if: item "tiny_sad" does not come earlier'


def test_show_if_values_outside_the_options(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_talk")["show_if"].update(values=[4]))
    assert message.startswith('tiny.toml: item "tiny_talk": show_if: value 4 is not an option')


def test_show_if_on_a_scored_item(tmp_path: Path) -> None:
    message = broken(
        tmp_path,
        lambda d: item(d, "tiny_worried").update(show_if={"item": "tiny_sad", "values": [1]}),
    )
    assert message == (
        'tiny.toml: item "tiny_worried": show_if on a scored item (only unscored items may be hidden)'
    )


def test_total_of_unknown_subscale(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.update(total_of=["mood", "anxiety"]))
    assert message == 'tiny.toml: key "total_of": unknown subscale "anxiety"'


def test_bands_overlapping(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["bands"][1].update(min=2))
    assert message == 'tiny.toml: band "high": overlaps band "low"'


def test_bands_with_a_gap(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["bands"][1].update(min=4))
    assert message == ('tiny.toml: bands: gap between band "low" (max 2) and band "high" (min 4)')


def test_bands_not_covering_the_total_range(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["bands"][1].update(max=5))
    assert message == "tiny.toml: bands: cover 0..5 but the total ranges 0..6"


def test_band_min_above_max(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["bands"][0].update(min=3))
    assert message == 'tiny.toml: band "low": min 3 is above max 2'


def test_listed_language_without_item_text(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_worried")["text"].pop("en"))
    assert message == 'tiny.toml: item "tiny_worried": text: no en text'


def test_item_without_text_in_a_shipped_file(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: item(d, "tiny_worried").pop("text"))
    assert message == 'tiny.toml: item "tiny_worried": no text (the file lists zh-Hans, en)'


def test_item_text_in_an_unlisted_language(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.update(languages=["en"]))
    assert message == (
        'tiny.toml: item "tiny_sad": text: text in zh-Hans, which `languages` does not list'
    )


def licensed(d: dict[str, Any]) -> None:
    d.update(text="licensed_addon", languages=[])
    for entry in d["items"]:
        entry.pop("text")


def test_licensed_addon_without_text_loads(tmp_path: Path) -> None:
    definition = base()
    licensed(definition)
    instrument = load(write(tmp_path, definition))
    assert instrument.text == "licensed_addon"
    assert not instrument.has_text("zh-Hans")


def test_licensed_addon_with_item_text_is_refused(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        licensed(d)
        item(d, "tiny_happy")["text"] = label("开心", "Happy")

    message = broken(tmp_path, change)
    assert message.startswith('tiny.toml: item "tiny_happy": item text in a file without languages')
    assert "licensed text must never be shipped" in message


def test_licensed_addon_listing_languages_is_refused(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        licensed(d)
        d["languages"] = ["zh-Hans"]

    message = broken(tmp_path, change)
    assert message == 'tiny.toml: key "languages": a licensed_addon file has no text: use []'


def test_licensed_addon_with_instructions_is_refused(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        licensed(d)
        d["instructions"] = label("请回答", "Please answer")

    message = broken(tmp_path, change)
    assert message == 'tiny.toml: key "instructions": instrument text in a licensed_addon file'


def test_shipped_file_without_languages_is_refused(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.update(languages=[]))
    assert message.startswith('tiny.toml: key "languages": a "shipped" file lists')


def test_ui_label_needs_chinese_and_english(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["name"].pop("zh-Hans"))
    assert message == 'tiny.toml: key "name": no zh-Hans text'


@pytest.mark.parametrize(
    ("change", "place", "value"),
    [(lambda d: d.update(respondent="teacher"), 'key "respondent"', "teacher"),
     (lambda d: d.update(scoring="median"), 'key "scoring"', "median"),
     (lambda d: d.update(kind="diagnosis"), 'key "kind"', "diagnosis"),
     (lambda d: d.update(text="public"), 'key "text"', "public"),
     (lambda d: d.update(modes=["online"]), 'key "modes"', "online"),
     (lambda d: d.update(missing={"max_missing": 1, "method": "impute"}),
      'key "missing": method', "impute"),
     (lambda d: d["flags"][0].update(action="panic"), 'flag "often_sad": action', "panic"),
     (lambda d: d["subscales"][0].update(scoring="max"), 'subscale "mood": scoring', "max")],
)  # fmt: skip
def test_unknown_enum_values(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], place: str, value: str
) -> None:
    message = broken(tmp_path, change)
    assert message.startswith(f'tiny.toml: {place}: unknown value "{value}" (one of: ')


def test_ages_min_above_max(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.update(ages=[12, 8]))
    assert message == 'tiny.toml: key "ages": min 12 must be at least 0 and not above max 8'


def test_missing_method_none_allows_nothing_missing(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.update(missing={"max_missing": 1}))
    assert message == 'tiny.toml: key "missing": method "none" allows no missing items'


def test_max_missing_below_the_number_of_items(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d.update(missing={"max_missing": 3, "method": "prorate"}, subscales=[])

    assert broken(tmp_path, change) == 'tiny.toml: key "missing": max_missing must be below 3'


def test_subscale_max_missing_below_its_number_of_items(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d.update(missing={"max_missing": 2, "method": "prorate"}))
    assert message == (
        'tiny.toml: subscale "mood": max_missing 2 must be 0..1 (inherited: set the subscale\'s own)'
    )


def test_codes_unique_across_flags_subscales_and_bands(tmp_path: Path) -> None:
    message = broken(tmp_path, lambda d: d["flags"][0].update(code="high"))
    assert message == 'tiny.toml: flag "high": code already used by a band'


# --- Scoring the small definition ------------------------------------------------------------


def test_reverse_keying_over_the_items_own_values(tiny: Instrument) -> None:
    assert score(tiny, {"tiny_sad": 0, "tiny_happy": 0, "tiny_worried": 0}).total == 2
    assert score(tiny, {"tiny_sad": 0, "tiny_happy": 2, "tiny_worried": 0}).total == 0


def test_show_if_hides_and_requires_nothing_by_default(tiny: Instrument) -> None:
    answers: dict[str, int | None] = {"tiny_sad": 1, "tiny_happy": 1, "tiny_worried": 1}
    assert score(tiny, answers).hidden == ("tiny_talk",)
    shown = score(tiny, {**answers, "tiny_sad": 2})
    assert (shown.hidden, shown.missing) == ((), ())  # shown, but not required
    assert visible_items(tiny, {**answers, "tiny_sad": 2})[-1] == "tiny_talk"


def test_an_item_conditional_on_a_hidden_item_is_hidden(tmp_path: Path) -> None:
    definition = base()
    definition["items"].append(
        {
            "id": "tiny_who",
            "number": 5,
            "text": label("和谁谈", "With whom?"),
            "scored": False,
            "options": "yes_no",
            "show_if": {"item": "tiny_talk", "values": [1]},
        }
    )
    instrument = load(write(tmp_path, definition))
    stale = {"tiny_sad": 0, "tiny_talk": 1}  # tiny_talk was answered before tiny_sad changed
    assert visible_items(instrument, stale) == ("tiny_sad", "tiny_happy", "tiny_worried")
    assert visible_items(instrument, {**stale, "tiny_sad": 2})[-1] == "tiny_who"


def test_subscale_cutoff_band_and_flag_all_raise(tiny: Instrument) -> None:
    result = score(tiny, {"tiny_sad": 2, "tiny_happy": 0, "tiny_worried": 0, "tiny_talk": 1})
    assert [(f.kind, f.code) for f in result.flags] == [
        ("item", "often_sad"), ("subscale", "mood"), ("band", "high"),
    ]  # fmt: skip
    assert (result.total, result.subscales, result.action) == (4, {"mood": 4}, "alert")


def test_missing_answer_without_a_rule_leaves_no_total(tiny: Instrument) -> None:
    result = score(tiny, {"tiny_sad": 2, "tiny_happy": 0})
    assert (result.total, result.band, result.missing) == (None, None, ("tiny_worried",))
    assert result.subscales == {"mood": 4}
    assert not result.complete


def test_prorating_rounds_half_up(tmp_path: Path) -> None:
    definition = {**base(), "missing": {"max_missing": 1, "method": "prorate"}}
    instrument = load(write(tmp_path, definition))
    # 1 x 3 / 2 = 1.5 -> 2, never banker's rounding to 2 or 1.
    assert score(instrument, {"tiny_sad": 1, "tiny_happy": 2}).total == 2
    # 3 x 3 / 2 = 4.5 -> 5.
    assert score(instrument, {"tiny_sad": 2, "tiny_happy": 1}).total == 5


def test_mean_scoring_over_answered_items(tmp_path: Path) -> None:
    definition = {
        **base(),
        "scoring": "mean",
        "missing": {"max_missing": 1, "method": "prorate"},
        "bands": [
            {"code": "low", "min": 0, "max": 1.5, "label": label("低", "Low")},
            {"code": "high", "min": 1.5, "max": 2, "label": label("高", "High")},
        ],
    }
    instrument = load(write(tmp_path, definition))
    result = score(instrument, {"tiny_sad": 1, "tiny_happy": 1, "tiny_worried": 2})
    assert result.total == pytest.approx(4 / 3)
    assert result.band == "low"
    prorated = score(instrument, {"tiny_sad": 2, "tiny_happy": 1})
    assert (prorated.total, prorated.band, prorated.prorated) == (1.5, "high", True)


def test_mean_bands_must_share_boundaries(tmp_path: Path) -> None:
    definition = {
        **base(),
        "scoring": "mean",
        "bands": [
            {"code": "low", "min": 0, "max": 1, "label": label("低", "Low")},
            {"code": "high", "min": 2, "max": 2, "label": label("高", "High")},
        ],
    }
    definition_path = write(tmp_path, definition)
    with pytest.raises(DefinitionError, match='gap between band "low"'):
        load(definition_path)


def test_any_positive_counts_items_above_zero(tmp_path: Path) -> None:
    definition = {**base(), "scoring": "any_positive"}
    definition["bands"] = [
        {"code": "negative", "min": 0, "max": 0, "label": label("阴性", "Negative")},
        {"code": "positive", "min": 1, "max": 3, "label": label("阳性", "Positive")},
    ]
    instrument = load(write(tmp_path, definition))
    result = score(instrument, {"tiny_sad": 2, "tiny_happy": 2, "tiny_worried": 1})
    assert (result.total, result.band) == (2, "positive")  # tiny_happy reversed to 0


def test_total_of_subscales_sums_them_and_needs_each(tmp_path: Path) -> None:
    definition = base()
    definition["subscales"].append(
        {"code": "worry", "name": label("担心", "Worry"), "items": ["tiny_worried"]}
    )
    definition["total_of"] = ["worry"]
    definition["bands"] = [
        {"code": "low", "min": 0, "max": 0, "label": label("低", "Low")},
        {"code": "high", "min": 1, "max": 2, "label": label("高", "High")},
    ]
    instrument = load(write(tmp_path, definition))
    assert instrument.total_range() == (0, 2)
    assert score(instrument, {"tiny_sad": 2, "tiny_happy": 0, "tiny_worried": 1}).total == 1
    assert score(instrument, {"tiny_sad": 2, "tiny_happy": 0}).total is None


# --- Answers that cannot exist ---------------------------------------------------------------


def test_unknown_item(tiny: Instrument) -> None:
    with pytest.raises(AnswerError) as caught:
        score(tiny, {"tiny_sad": 1, "tiny_glad": 1})
    assert caught.value.item == "tiny_glad"
    assert "unknown item" in str(caught.value)


def test_value_not_among_the_options_names_the_allowed_values(tiny: Instrument) -> None:
    with pytest.raises(AnswerError) as caught:
        score(tiny, {"tiny_sad": 3})
    assert caught.value.item == "tiny_sad"
    assert str(caught.value) == 'item "tiny_sad": answer 3 is not allowed (allowed: 0, 1, 2)'


@pytest.mark.parametrize("value", [True, False, 1.0, "1", [1]])
def test_non_integer_answers(tiny: Instrument, value: Any) -> None:
    with pytest.raises(AnswerError, match="is not an integer") as caught:
        score(tiny, {"tiny_sad": value})
    assert caught.value.item == "tiny_sad"


def test_answer_to_a_hidden_item(tiny: Instrument) -> None:
    with pytest.raises(AnswerError, match="show_if") as caught:
        score(tiny, {"tiny_sad": 1, "tiny_happy": 1, "tiny_worried": 1, "tiny_talk": 0})
    assert caught.value.item == "tiny_talk"


def test_none_for_a_hidden_item_is_ignored(tiny: Instrument) -> None:
    result = score(tiny, {"tiny_sad": 1, "tiny_happy": 1, "tiny_worried": 1, "tiny_talk": None})
    assert result.total == 3


# --- Installing licensed text ----------------------------------------------------------------


def test_with_text_adds_a_language_and_leaves_the_original(tiny: Instrument) -> None:
    texts = {i.id: {"fr": f"question {i.number}"} for i in tiny.items}
    french = with_text(tiny, texts, "fr")
    assert french.has_text("fr")
    assert french.languages == ("zh-Hans", "en", "fr")
    assert french.item("tiny_happy").text == {"zh-Hans": "开心", "en": "Happy", "fr": "question 2"}
    assert not tiny.has_text("fr")


def test_with_text_names_missing_items(tiny: Instrument) -> None:
    with pytest.raises(DefinitionError) as caught:
        with_text(tiny, {"tiny_sad": {"fr": "triste"}, "tiny_happy": {"en": "x"}}, "fr")
    assert str(caught.value) == (
        'tiny: fr text: no text for items "tiny_happy", "tiny_worried", "tiny_talk"'
    )


def test_with_text_names_unknown_items(tiny: Instrument) -> None:
    texts = {i.id: {"fr": "x"} for i in tiny.items} | {"tiny_glad": {"fr": "x"}}
    with pytest.raises(DefinitionError, match='unknown items "tiny_glad"'):
        with_text(tiny, texts, "fr")


def test_with_text_will_not_replace_existing_text(tiny: Instrument) -> None:
    with pytest.raises(DefinitionError, match="already has zh-Hans text"):
        with_text(tiny, {i.id: {"zh-Hans": "x"} for i in tiny.items}, "zh-Hans")


def test_label_is_a_hashable_mapping() -> None:
    text = Label.of({"en": "Yes", "zh-Hans": "是"})
    assert text == {"zh-Hans": "是", "en": "Yes"}
    assert hash(text) == hash(Label.of({"zh-Hans": "是", "en": "Yes"}))
    assert text.text("fr") == "Yes"
    assert text.text("zh-Hans") == "是"


# --- Properties over every shipped instrument ------------------------------------------------

PROPERTIES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip
CODES = sorted(SHIPPED)


def draw_answers(
    data: st.DataObject, instrument: Instrument, leave_out: frozenset[str] = frozenset()
) -> dict[str, int | None]:
    """A valid raw answer to every asked item except `leave_out`."""
    answers: dict[str, int | None] = {}
    for entry in instrument.items:
        if entry.id in leave_out or entry.id not in visible_items(instrument, answers):
            continue
        answers[entry.id] = data.draw(st.sampled_from(entry.values), label=entry.id)
    return answers


def mirrored(instrument: Instrument, answers: dict[str, int | None]) -> dict[str, int | None]:
    return {
        i: (instrument.item(i).min_value + instrument.item(i).max_value - v if v is not None else v)
        for i, v in answers.items()
    }


def symmetric(instrument: Instrument) -> bool:
    return all(
        {entry.min_value + entry.max_value - v for v in entry.values} == set(entry.values)
        for entry in instrument.items
    )


@pytest.mark.parametrize("code", CODES)
@PROPERTIES
@given(data=st.data())
def test_complete_answers_score_in_range_with_exactly_one_band(
    code: str, data: st.DataObject
) -> None:
    instrument = SHIPPED[code]
    answers = draw_answers(data, instrument)
    result = score(instrument, answers)
    low, high = instrument.total_range()
    assert result.total is not None
    assert low <= result.total <= high
    assert not result.prorated
    assert result.missing == ()
    if instrument.bands:
        holding = [b for b in instrument.bands if b.min <= result.total <= b.max]
        assert [b.code for b in holding] == [result.band]
    else:
        assert result.band is None
    for subscale in instrument.subscales:
        sub_low, sub_high = instrument.subscale_range(subscale.code)
        value = result.subscales[subscale.code]
        assert value is not None
        assert sub_low <= value <= sub_high


@pytest.mark.parametrize("code", CODES)
@PROPERTIES
@given(data=st.data())
def test_the_total_is_recomputed_from_scored_values(code: str, data: st.DataObject) -> None:
    instrument = SHIPPED[code]
    answers = draw_answers(data, instrument)
    values = {
        i: instrument.item(i).scored_value(v)
        for i, v in answers.items()
        if v is not None and instrument.item(i).scored
    }
    result = score(instrument, answers)
    if instrument.scoring == "any_positive":
        assert result.total == sum(1 for v in values.values() if v > 0)
    elif instrument.scoring == "sum":
        assert result.total == sum(values[i] for i in instrument.total_items)


@pytest.mark.parametrize("code", [c for c in CODES if SHIPPED[c].scoring == "sum"])
@PROPERTIES
@given(data=st.data())
def test_flipping_keying_and_mirroring_answers_leaves_scores_unchanged(
    code: str, data: st.DataObject
) -> None:
    instrument = SHIPPED[code]
    assume(symmetric(instrument))
    answers = draw_answers(data, instrument)
    flipped = replace(
        instrument,
        items=tuple(replace(i, reverse=not i.reverse) if i.scored else i for i in instrument.items),
    )
    scored = {i: v for i, v in answers.items() if instrument.item(i).scored}
    unscored = {i: v for i, v in answers.items() if not instrument.item(i).scored}
    original = score(instrument, answers)
    assert score(flipped, {**mirrored(instrument, scored), **unscored}).total == original.total
    assert (
        score(flipped, {**mirrored(instrument, scored), **unscored}).subscales == original.subscales
    )
    low, high = instrument.total_range()
    mirror_total = score(instrument, {**mirrored(instrument, scored), **unscored}).total
    assert original.total is not None and mirror_total is not None
    assert original.total + mirror_total == low + high


@pytest.mark.parametrize("value", [0, 1, 2, 3])
def test_rses_uniform_answers_always_score_15(value: int) -> None:
    rses = SHIPPED["rses"]
    assert score(rses, {i.id: value for i in rses.items}).total == 15


@pytest.mark.parametrize("code", [c for c in CODES if SHIPPED[c].missing.max_missing])
@PROPERTIES
@given(data=st.data())
def test_prorated_scores_stay_in_range(code: str, data: st.DataObject) -> None:
    instrument = SHIPPED[code]
    scored = [i.id for i in instrument.items if i.scored]
    left_out = data.draw(
        st.sets(st.sampled_from(scored), max_size=instrument.missing.max_missing + 2)
    )
    result = score(instrument, draw_answers(data, instrument, frozenset(left_out)))
    low, high = instrument.total_range()
    if result.total is not None:
        assert low <= result.total <= high
        assert result.band is None or instrument.band_for(result.total) is not None
    if instrument.total_of == "items":
        assert (result.total is None) == (len(left_out) > instrument.missing.max_missing)
        assert result.prorated == (0 < len(left_out) <= instrument.missing.max_missing)
    for subscale in instrument.subscales:
        value = result.subscales[subscale.code]
        sub_low, sub_high = instrument.subscale_range(subscale.code)
        assert value is None or sub_low <= value <= sub_high


@pytest.mark.parametrize("code", [c for c in CODES if SHIPPED[c].flags])
@PROPERTIES
@given(data=st.data())
def test_item_flags_depend_only_on_the_raw_answers_of_their_items(
    code: str, data: st.DataObject
) -> None:
    instrument = SHIPPED[code]
    first = draw_answers(data, instrument)
    flag_items = {i for flag in instrument.flags for i in flag.items}
    other = draw_answers(data, instrument)
    mixed = {
        **{i: v for i, v in other.items() if i not in flag_items},
        **{i: v for i, v in first.items() if i in flag_items},
    }
    visible = visible_items(instrument, mixed)
    assume(all(i in visible for i in mixed))

    def item_flags(answers: dict[str, int | None]) -> list[tuple[str, str | None]]:
        return [(f.code, f.item) for f in score(instrument, answers).flags if f.kind == "item"]

    assert item_flags(mixed) == item_flags(first)
    expected = [
        flag.code
        for flag in instrument.flags
        if any(first.get(i) in flag.values for i in flag.items)
    ]
    assert [code for code, _ in item_flags(first)] == expected


@pytest.mark.parametrize("code", CODES)
@PROPERTIES
@given(data=st.data())
def test_action_is_the_most_urgent_flag(code: str, data: st.DataObject) -> None:
    instrument = SHIPPED[code]
    answers = draw_answers(data, instrument)
    before = dict(answers)
    result = score(instrument, answers)
    assert answers == before  # the input is not touched
    assert result.follow_up == bool(result.flags)
    if result.flags:
        assert result.action == max((f.action for f in result.flags), key=ACTIONS.index)
    else:
        assert result.action is None
    assert score(instrument, answers) == result
