"""The linkage models: Splink comparisons and blocking rules, one profile per kind of record.

Every level carries a prior m and u probability: the model links small files as it is, and
`engine.link` re-estimates u by random sampling and m by expectation maximisation when the
files are large enough to learn from. Conditions are DuckDB SQL; Splink translates them for
Spark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator


def _level(sql: str, label: str, m: float, u: float, **options: Any) -> cll.CustomLevel:
    level = cll.CustomLevel(sql, label_for_charts=label, base_dialect_str="duckdb")
    return level.configure(m_probability=m, u_probability=u, **options)  # type: ignore[return-value]


def _null(*columns: str) -> cll.CustomLevel:
    sql = " or ".join(f"{c}_l is null or {c}_r is null" for c in columns)
    return cll.CustomLevel(sql, label_for_charts="missing").configure(is_null_level=True)  # type: ignore[return-value]


def _else(m: float, u: float) -> cll.CustomLevel:
    level = cll.ElseLevel().configure(m_probability=m, u_probability=u)
    return level  # type: ignore[return-value]


def _comparison(name: str, levels: list[cll.CustomLevel]) -> ComparisonCreator:
    return cl.CustomComparison(comparison_levels=levels, output_column_name=name)  # type: ignore[arg-type]


def _either(template: str, a: str, b: str) -> str:
    """`template` with (a, b) read both ways round: `{a}_l = {b}_r or {b}_l = {a}_r`."""
    return f"({template.format(x=a, y=b)} or {template.format(x=b, y=a)})"


def chinese_name() -> ComparisonCreator:
    pinyin = " or ".join(
        [
            "name_py_l = name_py_r",
            "name_py_alt_l = name_py_r",
            "name_py_l = name_py_alt_r",
        ]
    )
    swapped_or_partial = (
        "surname_py_l = surname_py_r and (given_sorted_l = given_sorted_r or "
        "(length(given_l) <> length(given_r) and "
        "(strpos(given_l, given_r) > 0 or strpos(given_r, given_l) > 0)))"
    )
    return _comparison(
        "name",
        [
            _null("name_norm"),
            _level(
                "name_norm_l = name_norm_r",
                "same characters",
                0.80,
                0.0005,
                tf_adjustment_column="name_norm",
            ),
            _level(
                f"({pinyin})",
                "same pinyin",
                0.08,
                0.0003,
                tf_adjustment_column="name_py",
                disable_tf_exact_match_detection=True,
            ),
            _level(swapped_or_partial, "given name swapped or partly missing", 0.04, 0.0002),
            _level(
                "name_shape_l = name_shape_r and length(name_norm_l) = length(name_norm_r)",
                "look-alike characters",
                0.03,
                0.0002,
            ),
            _level("damerau_levenshtein(name_py_l, name_py_r) <= 1", "pinyin typo", 0.03, 0.002),
            _else(0.02, 0.996),
        ],
    )


def chinese_dob() -> ComparisonCreator:
    exact = "(dob_l = dob_r or " + _either("{x}_l = {y}_r", "id_dob", "dob") + ")"
    lunar = "(" + _either("{x}_l = {y}_r", "dob_lunar", "dob")
    lunar += " or " + _either("{x}_l = {y}_r", "dob_lunar", "id_dob") + ")"
    swapped = _either("{x}_l = {y}_r", "dob_swapped", "dob")
    partial = (
        "(dob_l is null or dob_r is null) and birth_year_l = birth_year_r and "
        "(birth_month_l is null or birth_month_r is null or birth_month_l = birth_month_r)"
    )
    return _comparison(
        "birth_date",
        [
            _null("birth_year"),
            _level(exact, "same date", 0.85, 0.0003),
            _level(swapped, "day and month swapped", 0.03, 0.0001),
            _level(lunar, "lunar date recorded as solar", 0.03, 0.0001),
            _level(partial, "year (and month) agree, date partial", 0.04, 0.005),
            _level("damerau_levenshtein(dob_l, dob_r) <= 1", "one digit", 0.03, 0.003),
            _else(0.02, 0.99),
        ],
    )  # fmt: skip


def chinese_id() -> ComparisonCreator:
    return _comparison(
        "id_number",
        [
            _null("id_number"),
            _level(
                "id_number_l = id_number_r and id_trusted_l and id_trusted_r",
                "same number, agreeing with birth date and sex",
                0.85,
                1e-7,
            ),
            _level("id_number_l = id_number_r", "same number", 0.05, 1e-7),
            _level(
                "damerau_levenshtein(id_number_l, id_number_r) <= 1",
                "one digit wrong or two swapped",
                0.05,
                1e-6,
            ),
            _else(0.05, 0.999),
        ],
    )


def _parent(who: str) -> ComparisonCreator:
    return _comparison(
        f"{who}_name",
        [
            _null(f"{who}_norm"),
            _level(f"{who}_norm_l = {who}_norm_r", "same characters", 0.85, 0.0005),
            _level(f"{who}_py_l = {who}_py_r", "same pinyin", 0.05, 0.0003),
            _else(0.1, 0.999),
        ],
    )


def chinese_places() -> list[ComparisonCreator]:
    hukou = _comparison(
        "hukou_place",
        [
            _null("hukou"),
            _level("hukou_l = hukou_r", "same county", 0.9, 0.01),
            _level("hukou_city_l = hukou_city_r", "same prefecture", 0.05, 0.05),
            _else(0.05, 0.94),
        ],
    )
    residence = _comparison(
        "residence_place",
        [
            _null("residence"),
            _level("residence_l = residence_r", "same village", 0.6, 0.001),
            _level("residence_town_l = residence_town_r", "same township", 0.1, 0.005),
            _level("residence_county_l = residence_county_r", "same county", 0.1, 0.02),
            _else(0.2, 0.974),
        ],
    )
    return [hukou, residence]


def chinese_comparisons() -> list[ComparisonCreator]:
    sex = _comparison(
        "sex",
        [_null("sex"), _level("sex_l = sex_r", "same", 0.98, 0.5), _else(0.02, 0.5)],
    )
    phone = _comparison(
        "guardian_phone",
        [_null("phone"), _level("phone_l = phone_r", "same", 0.7, 1e-5), _else(0.3, 0.99999)],
    )
    return [
        chinese_name(),
        sex,
        chinese_dob(),
        chinese_id(),
        _parent("father"),
        _parent("mother"),
        phone,
        *chinese_places(),
    ]


@dataclass(frozen=True)
class Profile:
    """What a kind of records is compared on, blocked on and trained with."""

    name: str
    comparisons: list[ComparisonCreator]
    blocking: list[BlockingRuleCreator]
    deterministic: list[BlockingRuleCreator]
    training: list[BlockingRuleCreator]
    # Scored pairs refused whatever their probability: SQL over the gamma columns.
    guard: str | None = None
    retain: list[str] = field(default_factory=list)


def chinese(*, plain: bool = False) -> Profile:
    """The Chinese model; `plain` is a Splink model without the Chinese features (the
    benchmark's comparison): exact and Jaro-Winkler names, exact and one-digit dates and ID
    numbers, the same blocking, no guard."""
    if plain:
        return _plain_chinese()
    return Profile(
        name="chinese",
        comparisons=chinese_comparisons(),
        blocking=[
            block_on("id_number"),
            block_on("id_tail"),
            block_on("id_head", "surname_py"),
            block_on("name_py", "birth_year"),
            block_on("surname_py", "dob"),
            block_on("given_py", "dob"),
            block_on("name_py", "hukou"),
            block_on("name_py", "residence_county"),
            block_on("name_shape", "birth_year"),
            block_on("father_py", "mother_py"),
            block_on("phone"),
        ],
        deterministic=[block_on("id_number"), block_on("name_norm", "dob")],
        training=[block_on("dob"), block_on("name_py"), block_on("id_number")],
        # Unrelated names are linked only on the same ID number: twins have the same
        # parents, phone, places and birth date, and only their given names (and numbers)
        # tell them apart, so the household's evidence must not outvote the name.
        guard="gamma_name = 0 and gamma_id_number < 2",
    )


def _plain_chinese() -> Profile:
    comparisons = [
        cl.JaroWinklerAtThresholds("name", [0.9, 0.8]).configure(term_frequency_adjustments=True),
        cl.ExactMatch("sex"),
        cl.DamerauLevenshteinAtThresholds("birth_date", [1]),
        cl.DamerauLevenshteinAtThresholds("id_number", [1]),
        cl.JaroWinklerAtThresholds("father_name", [0.9]),
        cl.JaroWinklerAtThresholds("mother_name", [0.9]),
        cl.ExactMatch("guardian_phone"),
        cl.ExactMatch("hukou_place"),
        cl.ExactMatch("residence_place"),
    ]
    return Profile(
        name="plain",
        comparisons=comparisons,
        blocking=[
            block_on("id_number"),
            block_on("name", "birth_date"),
            block_on("name", "hukou_place"),
            block_on("father_name", "mother_name"),
            block_on("guardian_phone"),
            block_on("birth_date", "hukou_place"),
        ],
        deterministic=[block_on("id_number"), block_on("name", "birth_date")],
        training=[block_on("birth_date"), block_on("name"), block_on("id_number")],
    )


def western(*, with_id: bool = True) -> Profile:
    """FEBRL-style records: given name, surname, date of birth, social security number,
    street address, suburb, postcode, state (`with_id=False`: without the number)."""
    jw = cl.JaroWinklerAtThresholds
    comparisons: list[ComparisonCreator] = [
        jw("given_name", [0.9, 0.8]).configure(term_frequency_adjustments=True),
        jw("surname", [0.9, 0.8]).configure(term_frequency_adjustments=True),
        cl.DamerauLevenshteinAtThresholds("dob", [1, 2]),
        cl.DamerauLevenshteinAtThresholds("street_number", [1]),
        jw("address_1", [0.9, 0.7]),
        jw("address_2", [0.9]),
        jw("suburb", [0.9]),
        cl.DamerauLevenshteinAtThresholds("postcode", [1]),
        cl.ExactMatch("state"),
    ]
    blocking = [
        block_on("given_name", "surname"),
        block_on("surname", "dob"),
        block_on("given_name", "dob"),
        block_on("postcode", "dob"),
        block_on("street_number", "postcode"),
        block_on("surname", "postcode"),
        block_on("given_name", "postcode"),
        block_on("address_1", "dob"),
    ]
    if with_id:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]))
        blocking.append(block_on("soc_sec_id"))
    return Profile(
        name="western" if with_id else "western-no-id",
        comparisons=comparisons,
        blocking=blocking,
        deterministic=[block_on("given_name", "surname", "dob")],
        training=[block_on("dob"), block_on("surname"), block_on("postcode")],
    )
