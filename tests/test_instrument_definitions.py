"""The shipped instrument definitions against their published scoring facts (instruments.md)."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence

import pytest

from shouhu.lib.instruments import (
    DEFINITIONS_DIR,
    AnswerError,
    Instrument,
    Score,
    load,
    load_shipped,
    score,
    with_text,
)

SHIPPED = load_shipped()
FULL_TEXT = ("phq9", "phqa", "gad7", "asq", "cesdc", "home_visit", "strengths")
SCORING_ONLY = ("sdq_self", "cyrm_r", "cls", "scared", "rses")


def in_order(instrument: Instrument, values: Sequence[int | None]) -> dict[str, int | None]:
    """Answers given in item-number order."""
    return {item.id: value for item, value in zip(instrument.items, values, strict=False)}


def every(instrument: Instrument, value: int) -> dict[str, int | None]:
    """The same raw answer to every item that is asked without conditions."""
    return {item.id: value for item in instrument.items if item.show_if is None}


def scored_as(instrument: Instrument, ids: Sequence[str], value: int) -> dict[str, int | None]:
    """Raw answers whose *scored* value is `value` on each of `ids`."""
    return {i: instrument.item(i).scored_value(value) for i in ids}


def raised(result: Score) -> set[str]:
    return {flag.code for flag in result.flags}


def test_every_file_in_the_directory_is_shipped_and_loads() -> None:
    files = sorted(path.stem for path in DEFINITIONS_DIR.glob("*.toml"))
    assert files == sorted(FULL_TEXT + SCORING_ONLY)
    for path in DEFINITIONS_DIR.glob("*.toml"):
        assert load(path).code == path.stem


def test_item_ids_are_unique_across_instruments() -> None:
    ids = [item.id for instrument in SHIPPED.values() for item in instrument.items]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("code", SHIPPED)
def test_ages_are_within_childhood(code: str) -> None:
    low, high = SHIPPED[code].ages
    assert 0 <= low <= high <= 17


# --- Text and licences -----------------------------------------------------------------------


@pytest.mark.parametrize("code", SCORING_ONLY)
def test_licensed_addon_files_contain_no_item_text(code: str) -> None:
    instrument = SHIPPED[code]
    assert instrument.text == "licensed_addon"
    assert instrument.languages == ()
    assert instrument.instructions is None
    assert all(len(item.text) == 0 for item in instrument.items)
    raw = tomllib.loads((DEFINITIONS_DIR / f"{code}.toml").read_text(encoding="utf-8"))
    assert all("text" not in item for item in raw["items"])
    assert "instructions" not in raw


@pytest.mark.parametrize("code", FULL_TEXT)
def test_full_text_files_have_text_in_every_listed_language(code: str) -> None:
    instrument = SHIPPED[code]
    assert instrument.text == "shipped"
    assert instrument.languages
    for language in instrument.languages:
        assert instrument.has_text(language)
        for item in instrument.items:
            assert item.text[language].strip(), item.id
    assert set(instrument.items[0].text) == set(instrument.languages)


def test_ces_dc_ships_english_text_only() -> None:
    cesdc = SHIPPED["cesdc"]
    assert cesdc.languages == ("en",)
    assert not cesdc.has_text("zh-Hans")
    assert "permission" in cesdc.licence


def test_licensed_text_can_be_installed_later() -> None:
    sdq = SHIPPED["sdq_self"]
    installed = with_text(sdq, {i.id: {"zh-Hans": f"第{i.number}题"} for i in sdq.items}, "zh-Hans")
    assert installed.has_text("zh-Hans")
    assert installed.item("sdq_considerate").text["zh-Hans"] == "第1题"
    assert score(installed, every(installed, 1)) == score(sdq, every(sdq, 1))


# --- PHQ-9 -----------------------------------------------------------------------------------


def test_phq9_hl7_example_is_recomputed_as_10_not_the_claimed_13() -> None:
    phq9 = SHIPPED["phq9"]
    result = score(phq9, in_order(phq9, [0, 0, 0, 1, 2, 1, 3, 2, 1]))
    assert result.total == 10
    assert result.band == "moderate"
    assert "self_harm_thoughts" in raised(result)
    assert result.action == "alert"


def test_phq9_item_9_alone_is_minimal_but_flagged() -> None:
    phq9 = SHIPPED["phq9"]
    result = score(phq9, in_order(phq9, [0, 0, 0, 0, 0, 0, 0, 0, 1]))
    assert (result.total, result.band) == (1, "minimal")
    [flag] = result.flags
    assert (flag.code, flag.item, flag.value, flag.action) == (
        "self_harm_thoughts",
        "phq9_self_harm",
        1,
        "alert",
    )
    assert result.follow_up


def test_phq9_all_zero_raises_nothing() -> None:
    phq9 = SHIPPED["phq9"]
    result = score(phq9, every(phq9, 0))
    assert (result.total, result.band, result.flags, result.action) == (0, "minimal", (), None)
    assert not result.follow_up


@pytest.mark.parametrize(
    ("total", "band", "follow_up"),
    [(4, "minimal", False), (5, "mild", False), (9, "mild", False), (10, "moderate", True),
     (15, "moderately_severe", True), (20, "severe", True), (27, "severe", True)],
)  # fmt: skip
def test_phq9_bands(total: int, band: str, follow_up: bool) -> None:
    phq9 = SHIPPED["phq9"]
    values = [min(3, max(0, total - 3 * n)) for n in range(9)]
    result = score(phq9, in_order(phq9, values))
    assert (result.total, result.band, result.follow_up) == (total, band, follow_up)


def test_phq9_requires_every_item() -> None:
    phq9 = SHIPPED["phq9"]
    result = score(phq9, in_order(phq9, [1, 1, 1, 1, 1, 1, 1, 1, None]))
    assert result.total is None
    assert result.band is None
    assert result.missing == ("phq9_self_harm",)


# --- PHQ-A -----------------------------------------------------------------------------------


def test_phqa_stores_the_teen_order_by_content() -> None:
    phqa = SHIPPED["phqa"]
    assert phqa.items[0].id == "phqa_low_mood_irritable"
    assert "irritable" in phqa.items[0].text["en"]
    assert phqa.items[1].id == "phqa_anhedonia"
    assert phqa.item("phqa_appetite_weight").number == 4
    assert phqa.item("phqa_fatigue").number == 5


def test_phqa_prorates_one_missing_item_rounding_half_up() -> None:
    phqa = SHIPPED["phqa"]
    answers = in_order(phqa, [1, 1, 1, 1, 0, 0, 0, 0, None])  # 4 x 9 / 8 = 4.5
    result = score(phqa, answers)
    assert (result.total, result.band, result.prorated) == (5, "mild", True)


def test_phqa_prorates_two_missing_items() -> None:
    phqa = SHIPPED["phqa"]
    result = score(phqa, in_order(phqa, [3, 3, 2, 1, 1, 1, 0, None, None]))  # 11 x 9 / 7
    assert (result.total, result.prorated) == (14, True)
    assert result.missing == ("phqa_psychomotor", "phqa_self_harm")


def test_phqa_three_missing_items_leave_no_total() -> None:
    phqa = SHIPPED["phqa"]
    result = score(phqa, in_order(phqa, [3, 3, 3, 3, 3, 3, None, None, None]))
    assert (result.total, result.band, result.prorated) == (None, None, False)


def test_phqa_complete_answers_are_not_prorated() -> None:
    phqa = SHIPPED["phqa"]
    result = score(phqa, in_order(phqa, [1] * 9))
    assert (result.total, result.prorated, result.missing) == (9, False, ())


def test_phqa_suicide_items_are_unscored_interview_items_that_alert() -> None:
    phqa = SHIPPED["phqa"]
    extra = ("phqa_suicidal_thoughts_month", "phqa_suicide_attempt_ever")
    for item_id in extra:
        item = phqa.item(item_id)
        assert (item.scored, item.required, item.modes) == (False, False, ("interview",))
    base = in_order(phqa, [0] * 9)
    assert score(phqa, base).missing == ()
    for item_id in extra:
        result = score(phqa, {**base, item_id: 1})
        assert result.total == 0
        assert result.action == "alert"
        assert [f.item for f in result.flags] == [item_id]
        assert score(phqa, {**base, item_id: 0}).flags == ()


def test_phqa_self_harm_item_alerts() -> None:
    phqa = SHIPPED["phqa"]
    result = score(phqa, {**in_order(phqa, [0] * 9), "phqa_self_harm": 2})
    assert "self_harm_thoughts" in raised(result)
    assert result.action == "alert"


# --- GAD-7 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [([0] * 7, 0, "minimal"), ([1, 1, 1, 1, 1, 0, 0], 5, "mild"),
     ([2, 2, 2, 2, 2, 0, 0], 10, "moderate"), ([3] * 5 + [0, 0], 15, "severe"),
     ([3] * 7, 21, "severe")],
)  # fmt: skip
def test_gad7_bands(values: list[int], total: int, band: str) -> None:
    gad7 = SHIPPED["gad7"]
    result = score(gad7, in_order(gad7, values))
    assert (result.total, result.band, result.follow_up) == (total, band, total >= 10)


# --- ASQ -------------------------------------------------------------------------------------

Q1_4 = ("asq_wished_dead", "asq_better_off_dead", "asq_suicidal_thoughts_week", "asq_attempt_ever")
Q5 = "asq_suicidal_thoughts_now"


def asq(**answers: int | None) -> Score:
    base: dict[str, int | None] = dict.fromkeys(Q1_4, 0)
    return score(SHIPPED["asq"], {**base, **answers})


def test_asq_all_no_is_negative_without_flags_and_q5_is_not_asked() -> None:
    result = asq()
    assert (result.total, result.band, result.flags, result.action) == (0, "negative", (), None)
    assert result.missing == ()
    assert result.hidden == (Q5,)


def test_asq_unasked_q5_may_be_sent_as_none() -> None:
    assert asq(asq_suicidal_thoughts_now=None).band == "negative"


def test_asq_q5_cannot_be_answered_after_a_negative_screen() -> None:
    with pytest.raises(AnswerError) as caught:
        asq(asq_suicidal_thoughts_now=0)
    assert caught.value.item == Q5


@pytest.mark.parametrize("item", Q1_4)
def test_asq_any_yes_is_a_positive_screen_with_an_alert_and_q5_required(item: str) -> None:
    result = asq(**{item: 1})
    assert (result.total, result.band) == (1, "positive")
    assert "non_acute_positive" in raised(result)
    assert result.action == "alert"
    assert result.missing == (Q5,)  # Q5 shown but unanswered: missing; the alert stands


def test_asq_q2_yes_then_q5_no_stays_a_non_acute_alert() -> None:
    result = asq(asq_better_off_dead=1, asq_suicidal_thoughts_now=0)
    assert (result.band, result.action, result.missing) == ("positive", "alert", ())
    assert raised(result) == {"non_acute_positive", "positive"}


def test_asq_q5_yes_is_imminent() -> None:
    result = asq(asq_wished_dead=1, asq_suicidal_thoughts_now=1)
    assert result.action == "imminent"
    assert "acute_positive" in raised(result)


def test_asq_declined_answer_is_positive_and_alerts() -> None:
    result = asq(asq_attempt_ever=2)
    assert (result.band, result.action) == ("positive", "alert")
    assert result.missing == (Q5,)


def test_asq_declined_q5_alerts() -> None:
    result = asq(asq_wished_dead=2, asq_suicidal_thoughts_now=2)
    assert {"q5_declined", "non_acute_positive"} <= raised(result)
    assert result.action == "alert"


def test_asq_total_counts_positive_items_only_from_q1_to_q4() -> None:
    result = asq(asq_wished_dead=1, asq_better_off_dead=2, asq_suicidal_thoughts_now=1)
    assert result.total == 2


# --- CES-DC ----------------------------------------------------------------------------------


def test_cesdc_all_not_at_all_scores_12() -> None:
    cesdc = SHIPPED["cesdc"]
    result = score(cesdc, every(cesdc, 0))
    assert (result.total, result.band) == (12, "not_significant")


def test_cesdc_all_a_lot_scores_48() -> None:
    cesdc = SHIPPED["cesdc"]
    result = score(cesdc, every(cesdc, 3))
    assert (result.total, result.band, result.follow_up) == (48, "significant", True)


def test_cesdc_reverse_items_are_4_8_12_16() -> None:
    cesdc = SHIPPED["cesdc"]
    assert [item.number for item in cesdc.items if item.reverse] == [4, 8, 12, 16]


def test_cesdc_above_15_is_significant() -> None:
    cesdc = SHIPPED["cesdc"]
    plain = [item.id for item in cesdc.items if not item.reverse]
    answers = {**scored_as(cesdc, [i.id for i in cesdc.items], 0), **dict.fromkeys(plain[:5], 3)}
    assert score(cesdc, answers).total == 15
    assert score(cesdc, answers).band == "not_significant"
    answers[plain[5]] = 1
    assert score(cesdc, answers).band == "significant"


# --- SCARED ----------------------------------------------------------------------------------


def test_scared_all_twos_scores_82_with_every_subscale_at_its_maximum() -> None:
    scared = SHIPPED["scared"]
    result = score(scared, every(scared, 2))
    assert result.total == 82
    assert result.band == "possible_anxiety_disorder"
    assert sum(len(s.items) for s in scared.subscales) == 41
    for subscale in scared.subscales:
        assert result.subscales[subscale.code] == 2 * len(subscale.items)
        assert result.subscales[subscale.code] == scared.subscale_range(subscale.code)[1]
    assert raised(result) >= {s.code for s in scared.subscales}


def test_scared_subscales_partition_the_items() -> None:
    scared = SHIPPED["scared"]
    ids = [i for s in scared.subscales for i in s.items]
    assert sorted(ids) == sorted(item.id for item in scared.items)
    numbers = {s.code: [scared.item(i).number for i in s.items] for s in scared.subscales}
    assert numbers["school_avoidance"] == [2, 11, 17, 36]
    assert [len(numbers[c]) for c in numbers] == [13, 9, 8, 7, 4]


@pytest.mark.parametrize(
    ("subscale", "cutoff"),
    [("panic_somatic", 7), ("generalised_anxiety", 9), ("separation", 5), ("social", 8),
     ("school_avoidance", 3)],
)  # fmt: skip
def test_scared_subscale_cutoffs(subscale: str, cutoff: int) -> None:
    scared = SHIPPED["scared"]
    ids = scared.subscale(subscale).items

    def scoring(points: int) -> dict[str, int | None]:
        return {
            **every(scared, 0),
            **{i: min(2, max(0, points - 2 * n)) for n, i in enumerate(ids)},
        }

    below, at = scoring(cutoff - 1), scoring(cutoff)
    assert subscale not in raised(score(scared, below))
    flag = next(f for f in score(scared, at).flags if f.code == subscale)
    assert (flag.kind, flag.action, flag.value) == ("subscale", "follow_up", cutoff)


def test_scared_total_of_25_needs_follow_up() -> None:
    scared = SHIPPED["scared"]
    ids = [item.id for item in scared.items]
    answers = {**every(scared, 0), **dict.fromkeys(ids[:12], 2)}
    assert score(scared, answers).band == "below_cutoff"
    answers[ids[12]] = 1
    assert score(scared, answers).band == "possible_anxiety_disorder"


# --- RSES ------------------------------------------------------------------------------------


def test_rses_all_strongly_agree_scores_15() -> None:
    assert score(SHIPPED["rses"], every(SHIPPED["rses"], 3)).total == 15


def test_rses_all_strongly_disagree_scores_15() -> None:
    assert score(SHIPPED["rses"], every(SHIPPED["rses"], 0)).total == 15


def test_rses_reverse_items_in_umd_order_and_a_top_score_of_30() -> None:
    rses = SHIPPED["rses"]
    assert [item.number for item in rses.items if item.reverse] == [2, 5, 6, 8, 9]
    result = score(rses, scored_as(rses, [item.id for item in rses.items], 3))
    assert (result.total, result.band, result.follow_up) == (30, "typical", False)


def test_rses_low_band_is_informal_and_sets_no_follow_up() -> None:
    rses = SHIPPED["rses"]
    result = score(rses, scored_as(rses, [item.id for item in rses.items], 0))
    assert (result.total, result.band, result.follow_up) == (0, "low", False)


# --- SDQ -------------------------------------------------------------------------------------

DIFFICULTIES = ("emotional", "conduct", "hyperactivity", "peer")


def test_sdq_total_difficulties_excludes_prosocial() -> None:
    sdq = SHIPPED["sdq_self"]
    difficulty_items = [i for code in DIFFICULTIES for i in sdq.subscale(code).items]
    answers = {
        **scored_as(sdq, difficulty_items, 0),
        **scored_as(sdq, sdq.subscale("prosocial").items, 2),
    }
    result = score(sdq, answers)
    assert (result.total, result.band, result.subscales["prosocial"]) == (0, "normal", 10)
    assert sdq.total_range() == (0, 40)


def test_sdq_total_is_the_sum_of_the_difficulty_scales() -> None:
    sdq = SHIPPED["sdq_self"]
    result = score(sdq, every(sdq, 1))
    assert result.total == sum(result.subscales[c] or 0 for c in DIFFICULTIES) == 20
    assert result.band == "abnormal"


def test_sdq_reverse_items() -> None:
    sdq = SHIPPED["sdq_self"]
    assert [item.number for item in sdq.items if item.reverse] == [7, 11, 14, 21, 25]


@pytest.mark.parametrize(
    ("total", "band"), [(14, "normal"), (15, "borderline"), (17, "borderline"), (18, "abnormal")]
)
def test_sdq_chinese_norm_bands(total: int, band: str) -> None:
    sdq = SHIPPED["sdq_self"]
    difficulty_items = [i for code in DIFFICULTIES for i in sdq.subscale(code).items]
    answers = {**every(sdq, 1), **scored_as(sdq, difficulty_items, 0)}
    answers.update(scored_as(sdq, difficulty_items[: total // 2], 2))
    if total % 2:
        answers.update(scored_as(sdq, difficulty_items[total // 2 : total // 2 + 1], 1))
    result = score(sdq, answers)
    assert (result.total, result.band) == (total, band)


def test_sdq_prorates_a_scale_with_three_answers_and_drops_the_total_below_that() -> None:
    sdq = SHIPPED["sdq_self"]
    emotional = sdq.subscale("emotional").items
    answers = {**every(sdq, 0), **dict.fromkeys(emotional, 2)}
    answers.update(dict.fromkeys(emotional[:2], None))
    result = score(sdq, answers)
    assert result.subscales["emotional"] == 10
    assert result.prorated
    answers[emotional[2]] = None
    result = score(sdq, answers)
    assert result.subscales["emotional"] is None
    assert result.total is None


# --- Loneliness, resilience ------------------------------------------------------------------


def test_cls_fillers_are_asked_but_never_scored() -> None:
    cls = SHIPPED["cls"]
    fillers = [item.number for item in cls.items if not item.scored]
    assert fillers == [2, 5, 7, 11, 13, 15, 19, 23]
    base = every(cls, 3)
    for item in cls.items:
        if not item.scored:
            assert score(cls, {**base, item.id: 5}).total == score(cls, base).total
            assert not item.required


def test_cls_range_and_direction() -> None:
    cls = SHIPPED["cls"]
    assert cls.total_range() == (16, 80)
    assert [i.number for i in cls.items if i.reverse] == [3, 6, 9, 12, 14, 17, 18, 20, 21, 24]
    # "Always true" to everything: 6 friendly items x 1 + 10 lonely items reversed x 5.
    assert score(cls, every(cls, 1)).total == 56
    assert score(cls, every(cls, 5)).total == 40
    assert score(cls, every(cls, 1)).band is None


def test_cyrm_r_subscales_split_17_items_into_10_personal_and_7_caregiver() -> None:
    cyrm = SHIPPED["cyrm_r"]
    personal = [cyrm.item(i).number for i in cyrm.subscale("personal").items]
    caregiver = [cyrm.item(i).number for i in cyrm.subscale("caregiver").items]
    assert sorted(personal + caregiver) == list(range(1, 18))
    assert len(personal) == 10
    result = score(cyrm, every(cyrm, 5))
    assert (result.total, result.subscales) == (85, {"personal": 50, "caregiver": 35})
    assert (result.band, result.follow_up) == (None, False)
    assert score(cyrm, every(cyrm, 1)).total == 17


# --- Home visit ------------------------------------------------------------------------------


def home_visit(**answers: int) -> Score:
    return score(SHIPPED["home_visit"], {**every(SHIPPED["home_visit"], 0), **answers})


def test_home_visit_without_concerns() -> None:
    result = home_visit()
    assert (result.total, result.band, result.flags, result.action) == (0, "low_needs", (), None)


def test_home_visit_child_living_alone_is_a_mandatory_report() -> None:
    result = home_visit(hv_living_arrangement=3)
    assert result.action == "mandatory_report"
    assert "living_alone_no_carer" in raised(result)


def test_home_visit_16_year_old_living_alone_is_not_a_mandatory_report() -> None:
    assert home_visit(hv_living_arrangement=2).action is None


@pytest.mark.parametrize(
    ("answers", "flag", "action"),
    [({"hv_injury": 3}, "unexplained_injury", "mandatory_report"),
     ({"hv_violence_at_home": 3}, "abuse_or_violence", "mandatory_report"),
     ({"hv_nutrition": 3}, "severe_malnutrition", "mandatory_report"),
     ({"hv_immediate_danger": 3}, "immediate_danger", "imminent"),
     ({"hv_school_enrolment": 2}, "out_of_school", "follow_up"),
     ({"hv_parent_contact": 2}, "no_parent_contact", "follow_up"),
     ({"hv_emotional_state": 3}, "self_harm_talk", "alert")],
)  # fmt: skip
def test_home_visit_flags(answers: dict[str, int], flag: str, action: str) -> None:
    result = home_visit(**answers)
    assert flag in raised(result)
    assert result.action == action


def test_home_visit_imminent_outranks_mandatory_report() -> None:
    result = home_visit(hv_immediate_danger=3, hv_violence_at_home=3, hv_living_arrangement=3)
    assert result.action == "imminent"


def test_home_visit_domain_cutoff_raises_follow_up() -> None:
    result = home_visit(hv_housing=1, hv_sleep_study_space=1)
    flag = next(f for f in result.flags if f.code == "housing")
    assert (flag.kind, flag.value, result.action) == ("subscale", 2, "follow_up")
    assert "housing" not in raised(home_visit(hv_housing=1))


def test_home_visit_covers_the_ten_domains() -> None:
    hv = SHIPPED["home_visit"]
    assert [s.code for s in hv.subscales] == [
        "guardianship", "safety", "schooling", "health", "housing", "income_aid",
        "neighbour_support", "family_education", "family_events", "parent_contact",
    ]  # fmt: skip
    assert all(2 <= len(s.items) <= 5 for s in hv.subscales)
    assert (hv.respondent, hv.kind, hv.modes) == ("worker", "needs_assessment", ("interview",))


# --- Strengths -------------------------------------------------------------------------------


def test_strengths_low_band_needs_follow_up_and_high_does_not() -> None:
    strengths = SHIPPED["strengths"]
    low = score(strengths, every(strengths, 0))
    high = score(strengths, every(strengths, 3))
    assert (low.total, low.band, low.follow_up, low.action) == (0, "low", True, "follow_up")
    assert (high.total, high.band, high.follow_up) == (48, "high", False)
    assert set(high.subscales) == {"individual", "family", "school", "peer", "community"}
