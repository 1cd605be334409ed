"""Programme outcomes (issue 12): the pre/post measurement a programme may name, which
results count as before and after, the statistics of the change checked against values
worked out here by hand (the mean, its t interval, the Wilcoxon signed-rank test), the
bands improved, unchanged and worse, the instrument's validation, the API and the page, the
query count, and the post result raising its follow-up and alert as any screening does."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shouhu.children.models import Child
from shouhu.lib import dates, protect
from shouhu.lib.clock import SHANGHAI
from shouhu.programmes import outcomes, running
from shouhu.programmes.forms import ProgrammeForm
from shouhu.programmes.models import Design, Enrolment, Kind, Programme
from shouhu.screening import registry, services
from shouhu.screening.models import Administration, Alert, RiskLevel
from tests.test_api_cases import Api
from tests.world import TODAY, VILLAGE_A, World, child_data, register

pytestmark = pytest.mark.django_db

# The published cut-offs, written out rather than read from the definitions.
GAD7_BANDS = [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")]
STRENGTHS_BANDS = [(0, "low"), (24, "medium"), (36, "high")]
# Student's t, two-sided 95% (the 0.975 quantile), from a printed table.
T_975 = {2: 4.302653, 4: 2.776445, 7: 2.364624, 19: 2.093024}
CAVEAT = "There is no comparison group: the change cannot be attributed to the programme alone."

START = TODAY - dt.timedelta(days=60)
END = TODAY - dt.timedelta(days=10)


@pytest.fixture(autouse=True)
def _english() -> Any:
    from django.utils import translation

    with translation.override("en"):
        yield


def _band(total: float, table: list[tuple[int, str]]) -> str:
    return [code for low, code in table if low <= total][-1]


def _result(
    world: World,
    child: Child,
    day: dt.date,
    total: int,
    *,
    instrument: str = "gad7",
    at: dt.time = dt.time(10),
) -> Administration:
    """A stored result with a known total (its band from the table above)."""
    table = STRENGTHS_BANDS if instrument == "strengths" else GAD7_BANDS
    return Administration.objects.create(
        child=child,
        instrument=instrument,
        version="1",
        kind="strengths" if instrument == "strengths" else "screening",
        administered_by=world.socialworker,
        respondent="child",
        mode="self_report",
        language="zh-Hans",
        administered_at=dt.datetime.combine(day, at, tzinfo=SHANGHAI),
        answers_enc=protect.seal("{}"),
        total=total,
        band=_band(total, table),
    )


def _design(kind: str = Kind.GROUP_ACTIVITY) -> Design:
    design = Design.objects.filter(organisation=None, kind=kind).first()
    assert design is not None
    return design


def _programme(world: World, instrument: str = "gad7", **kw: Any) -> Programme:
    return running.programme_create(
        actor=world.director_a,
        organisation=world.orgs["village_a"],
        design=kw.pop("design", None) or _design(),
        title="我能打败情绪小怪兽",
        starts_on=kw.pop("starts_on", START),
        ends_on=kw.pop("ends_on", END),
        instrument=instrument,
        **kw,
    )


def _enrolled(world: World, programme: Programme, n: int, **data: Any) -> list[Child]:
    kids = []
    for i in range(n):
        child = register(world.director_a, child_data(f"孩{programme.pk}-{i}", VILLAGE_A, **data))
        running.enrol(actor=world.director_a, programme=programme, child=child)
        kids.append(child)
    return kids


def _exact_signed_rank(diffs: list[float]) -> tuple[float, float]:
    """The Wilcoxon signed-rank test by hand: drop the zeros, rank the sizes (ties share
    their mean rank), and count every one of the 2**n ways of signing the ranks."""
    changed = [d for d in diffs if d != 0]
    sizes = sorted(abs(d) for d in changed)
    rank = {s: (sizes.index(s) + 1 + len(sizes) - sizes[::-1].index(s)) / 2 for s in sizes}
    w_plus = sum(rank[abs(d)] for d in changed if d > 0)
    w_minus = sum(rank[abs(d)] for d in changed if d < 0)
    ranks = [rank[abs(d)] for d in changed]
    signings = itertools.product([False, True], repeat=len(ranks))
    sums = [sum(r for r, up in zip(ranks, signs, strict=True) if up) for signs in signings]
    low = sum(1 for s in sums if s <= w_plus) / len(sums)
    high = sum(1 for s in sums if s >= w_plus) / len(sums)
    return min(w_plus, w_minus), min(1.0, 2 * min(low, high))


def _mean_ci(diffs: list[float], t: float) -> tuple[float, float, float]:
    n = len(diffs)
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    return mean, mean - t * sd / math.sqrt(n), mean + t * sd / math.sqrt(n)


# ---------------------------------------------------------------- the statistics

PRE = [12, 15, 9, 11, 16, 7, 13, 8]
POST = [6, 11, 9, 4, 17, 3, 5, 10]


@pytest.fixture
def measured(world: World) -> tuple[Programme, list[Child]]:
    """Eight children measured before and after (GAD-7), and four who are not: one without
    a result after, one without a result before, one with neither, one measured only
    outside the windows; a withdrawn child measured twice does not count."""
    programme = _programme(world)
    kids = _enrolled(world, programme, 12)
    for child, pre, post in zip(kids, PRE, POST, strict=False):
        _result(world, child, START - dt.timedelta(days=7), pre)
        _result(world, child, END + dt.timedelta(days=3), post)
    _result(world, kids[8], START, 14)  # before only
    _result(world, kids[9], END, 3)  # after only
    _result(world, kids[11], START - dt.timedelta(days=91), 15)  # too early
    _result(world, kids[11], START + dt.timedelta(days=30), 2)  # in the middle
    withdrawn = _enrolled(world, programme, 1)[0]
    Enrolment.objects.filter(child=withdrawn).update(status="withdrawn")
    _result(world, withdrawn, START, 20)
    _result(world, withdrawn, END, 0)
    return programme, kids


def test_the_mean_change_and_its_interval_match_the_hand_computation(
    world: World, measured: tuple[Programme, list[Child]]
) -> None:
    programme, _kids = measured
    found = outcomes.outcomes(programme)
    assert found is not None
    assert (found.enrolled, found.paired, found.without) == (12, 8, 4)
    assert (found.missing_pre, found.missing_post) == (3, 3)  # the one with neither in both
    diffs = [float(b - a) for a, b in zip(PRE, POST, strict=True)]
    assert diffs == [-6, -4, 0, -7, 1, -4, -8, 2]
    mean, low, high = _mean_ci(diffs, T_975[7])
    assert found.mean_change == pytest.approx(mean) == pytest.approx(-3.25)
    # sum of squares 101.5, variance 14.5: -3.25 ± 2.364624 × sqrt(14.5 / 8)
    # (the table's t has six decimals: agreement to 1e-6)
    assert found.ci_low == pytest.approx(low, abs=1e-6) == pytest.approx(-6.43347, abs=1e-5)
    assert found.ci_high == pytest.approx(high, abs=1e-6) == pytest.approx(-0.06653, abs=1e-5)


def test_the_wilcoxon_test_matches_the_exact_distribution_worked_out_by_hand(
    world: World, measured: tuple[Programme, list[Child]]
) -> None:
    programme, _kids = measured
    found = outcomes.outcomes(programme)
    assert found is not None
    diffs = [float(b - a) for a, b in zip(PRE, POST, strict=True)]
    statistic, p = _exact_signed_rank(diffs)
    # Seven changes (the zero dropped), sizes 1 2 4 4 6 7 8 ranked 1 2 3.5 3.5 5 6 7; the
    # two rises hold ranks 1 and 2: W = 3. Signings with a sum of at most 3: {}, {1}, {2},
    # {1, 2}; p = 2 × 4 / 128.
    assert (statistic, p) == (3.0, 0.0625)
    assert found.wilcoxon_n == 7
    assert found.wilcoxon_statistic == pytest.approx(statistic)
    assert found.wilcoxon_p == pytest.approx(p)


def test_bands_say_who_improved_who_stayed_and_who_got_worse(
    world: World, measured: tuple[Programme, list[Child]]
) -> None:
    programme, kids = measured
    found = outcomes.outcomes(programme)
    assert found is not None
    assert found.higher_is_worse is True  # GAD-7's follow-up bands are the top ones
    moves = [(_rank(pre), _rank(post)) for pre, post in zip(PRE, POST, strict=True)]
    lower = sum(1 for pre, post in moves if post < pre)
    same = sum(1 for pre, post in moves if post == pre)
    higher = sum(1 for pre, post in moves if post > pre)
    assert (lower, same, higher) == (5, 2, 1)
    assert (found.improved, found.unchanged, found.worse) == (5, 2, 1)
    assert found.improved_share == pytest.approx(5 / 8)
    assert found.unchanged_share == pytest.approx(2 / 8)
    assert found.worse_share == pytest.approx(1 / 8)
    # Mild (8) to moderate (10): into a follow-up band. Severe to severe was there already.
    assert found.crossed == (kids[7].pk,)


def _rank(total: float) -> int:
    return [code for _low, code in GAD7_BANDS].index(_band(total, GAD7_BANDS))


def test_a_higher_strengths_score_is_better(world: World) -> None:
    programme = _programme(world, "strengths")
    kids = _enrolled(world, programme, 3)
    for child, (pre, post) in zip(kids, [(20, 30), (40, 30), (30, 30)], strict=True):
        _result(world, child, START, pre, instrument="strengths")
        _result(world, child, END, post, instrument="strengths")
    found = outcomes.outcomes(programme)
    assert found is not None and found.higher_is_worse is False
    # low → medium is away from the follow-up band; high → medium towards it.
    assert (found.improved, found.unchanged, found.worse) == (1, 1, 1)
    assert found.crossed == ()
    diffs = [10.0, -10.0, 0.0]
    mean, low, high = _mean_ci(diffs, T_975[2])
    assert found.mean_change == pytest.approx(mean) == 0
    assert (found.ci_low, found.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert found.ci_high == pytest.approx(10 * 4.302653 / math.sqrt(3))  # sd 10, n 3
    assert found.wilcoxon_n == 2 and found.wilcoxon_p is None  # too few changes for the test


def test_direction_comes_from_where_the_follow_up_bands_sit() -> None:
    defs = registry.definitions()
    assert outcomes.higher_is_worse(defs["gad7"]) is True
    assert outcomes.higher_is_worse(defs["asq"]) is True
    assert outcomes.higher_is_worse(defs["strengths"]) is False
    assert outcomes.higher_is_worse(defs["rses"]) is None  # no band marks follow-up
    from dataclasses import replace

    gad7 = defs["gad7"]
    middle = tuple(replace(b, follow_up=b.code == "mild") for b in gad7.bands)
    assert outcomes.higher_is_worse(replace(gad7, bands=middle)) is None
    assert outcomes.higher_is_worse(replace(gad7, bands=())) is None


def test_the_pure_statistics_against_the_hand_computation_with_ties_and_many_children() -> None:
    # Twenty changes with ties: above 13 scipy uses the normal approximation with the tie
    # correction, worked out here from the textbook formula.
    diffs = [-5, -3, -3, 2, -4, -1, -6, 0, -2, -3, 1, -4, -5, -2, 3, -1, -7, -2, 0, -3]
    changed = [d for d in diffs if d != 0]
    n = len(changed)
    assert n == 18
    sizes = sorted(abs(d) for d in changed)
    rank = {s: (sizes.index(s) + 1 + n - sizes[::-1].index(s)) / 2 for s in sizes}
    w_plus = sum(rank[abs(d)] for d in changed if d > 0)
    ties = [sizes.count(s) for s in set(sizes)]
    variance = n * (n + 1) * (2 * n + 1) / 24 - sum(t**3 - t for t in ties) / 48
    z = (w_plus - n * (n + 1) / 4) / math.sqrt(variance)
    p = math.erfc(abs(z) / math.sqrt(2))
    got_n, statistic, got_p = outcomes.wilcoxon([float(d) for d in diffs])
    assert got_n == 18
    assert statistic == pytest.approx(min(w_plus, n * (n + 1) / 2 - w_plus))
    assert got_p == pytest.approx(p, rel=1e-9)
    mean, low, high = _mean_ci([float(d) for d in diffs], T_975[19])
    assert outcomes.mean_ci([float(d) for d in diffs]) == (
        pytest.approx(mean),
        pytest.approx(low, abs=1e-6),
        pytest.approx(high, abs=1e-6),
    )
    # Six changes with no ties: the exact distribution; 2 / 64 when all go one way.
    assert outcomes.wilcoxon([-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]) == (6, 0.0, 2 / 64)
    assert _exact_signed_rank([-1, -2, -3, -4, -5, -6]) == (0, 2 / 64)
    # Ties below 14: the exact permutation distribution, as by hand.
    tied = [-4.0, -4.0, -2.0, 1.0, -3.0, -3.0, -5.0]
    assert outcomes.wilcoxon(tied)[1:] == pytest.approx(_exact_signed_rank(tied))


def test_too_few_or_no_changes_give_no_test_and_one_child_no_interval() -> None:
    assert outcomes.wilcoxon([0.0] * 10) == (0, None, None)
    assert outcomes.wilcoxon([1.0, -2.0, 3.0, 0.0, 4.0, 5.0]) == (5, None, None)
    assert outcomes.mean_ci([]) == (None, None, None)
    assert outcomes.mean_ci([4.0]) == (4.0, None, None)
    assert outcomes.mean_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)


# ---------------------------------------------------------------- which results count


def test_the_latest_result_of_each_window_counts_by_the_date_in_shanghai(world: World) -> None:
    programme = _programme(world)
    pre_from, pre_to, post_from, post_to = outcomes.windows(programme)
    assert (pre_from, pre_to) == (START - dt.timedelta(days=90), START + dt.timedelta(days=14))
    assert (post_from, post_to) == (END - dt.timedelta(days=14), END + dt.timedelta(days=90))
    (child,) = _enrolled(world, programme, 1)
    _result(world, child, pre_from - dt.timedelta(days=1), 1)  # too early
    _result(world, child, pre_from, 5, at=dt.time(7))  # 23:00 UTC the day before: counts
    _result(world, child, pre_to, 8)  # the latest before: the pre
    _result(world, child, pre_to + dt.timedelta(days=1), 19, at=dt.time(0, 30))  # UTC: pre_to
    _result(world, child, post_from - dt.timedelta(days=1), 20)  # between the windows
    _result(world, child, post_from, 12)
    _result(world, child, END + dt.timedelta(days=3), 14)  # the latest after: the post
    found = outcomes.outcomes(programme)
    assert found is not None and found.paired == 1
    assert found.mean_change == 14 - 8


def test_a_short_programme_takes_the_result_nearest_the_end_as_after(world: World) -> None:
    day = TODAY - dt.timedelta(days=20)
    programme = _programme(world, starts_on=day, ends_on=day)
    assert outcomes.windows(programme) == (
        day - dt.timedelta(days=90),
        day,
        day,
        day + dt.timedelta(days=90),
    )
    both, same_day, before_only, after_only = _enrolled(world, programme, 4)
    _result(world, both, day - dt.timedelta(days=3), 10)
    _result(world, both, day + dt.timedelta(days=7), 4)
    _result(world, same_day, day, 9, at=dt.time(9))
    _result(world, same_day, day, 6, at=dt.time(17))
    _result(world, before_only, day - dt.timedelta(days=3), 10)
    _result(world, after_only, day + dt.timedelta(days=7), 4)
    found = outcomes.outcomes(programme)
    assert found is not None
    assert (found.paired, found.missing_pre, found.missing_post) == (2, 1, 1)
    assert found.mean_change == pytest.approx(((4 - 10) + (6 - 9)) / 2)


def test_no_instrument_no_outcome_and_children_outside_the_ages_are_counted(
    world: World,
) -> None:
    plain = _programme(world, "")
    assert outcomes.outcomes(plain) is None
    programme = _programme(world)
    _enrolled(world, programme, 2)
    _enrolled(world, programme, 1, birth_date=dates.add_years(TODAY, -8))  # GAD-7: 10 to 17
    found = outcomes.outcomes(programme)
    assert found is not None
    assert (found.enrolled, found.paired, found.outside_ages) == (3, 0, 1)
    assert found.mean_change is None and found.ci_low is None and found.wilcoxon_p is None
    assert (found.improved, found.unchanged, found.worse) == (0, 0, 0)
    assert found.improved_share is None


def test_the_outcome_takes_the_same_number_of_queries_for_3_and_10_children(
    world: World,
) -> None:
    def measured(n: int) -> int:
        programme = _programme(world)
        for i, child in enumerate(_enrolled(world, programme, n)):
            _result(world, child, START, 10 + i % 5)
            _result(world, child, END, 8 + i % 7)
        with CaptureQueriesContext(connection) as queries:
            found = outcomes.outcomes(programme)
        assert found is not None and found.paired == n
        return len(queries)

    few, many = measured(3), measured(10)
    assert few == many == 3


# ---------------------------------------------------------------- choosing the instrument


def _refusal(world: World, instrument: str, **kw: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        _programme(world, instrument, **kw)
    return str(refused.value.message_dict["instrument"][0])


def test_the_instrument_must_be_enabled_measure_a_child_and_have_a_direction(
    world: World,
) -> None:
    assert _refusal(world, "nope") == "There is no instrument “nope”."
    assert "is not enabled here" in _refusal(world, "rses")  # licensed text not installed
    assert "not a screening or strengths measure" in _refusal(world, "home_visit")
    course = _design(Kind.CAREGIVER_COURSE)
    assert "A caregiver course enrols caregivers" in _refusal(world, "gad7", design=course)
    rses = registry.definitions()["rses"]
    registry.install_text(
        actor=world.admin,
        code="rses",
        language="zh-Hans",
        texts={item.id: f"第{item.number}题" for item in rses.items},
        reference="授权书 2026-01",
    )
    registry.set_enabled(actor=world.admin, code="rses", on=True)
    assert "no bands that mark which scores need follow-up" in _refusal(world, "rses")
    assert not Programme.objects.filter(instrument__in=["nope", "rses", "home_visit"]).exists()
    assert _programme(world, "gad7").instrument == "gad7"


def test_the_form_offers_the_fitting_instruments_with_their_ages_and_names_the_refusal(
    world: World,
) -> None:
    form = ProgrammeForm(user=world.director_a)
    offered = dict(form.fields["instrument"].widget.choices)  # type: ignore[attr-defined]
    assert offered["gad7"] == "Generalized Anxiety Disorder 7-item scale (GAD-7) (ages 10 to 17)"
    assert "strengths" in offered and "" in offered
    assert not {"home_visit", "rses", "scared"} & set(offered)
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.director_a)
    data = {
        "organisation": world.orgs["village_a"].pk,
        "design": _design(Kind.CAREGIVER_COURSE).pk,
        "title": "如何说，孩子才会听",
        "starts_on": str(START),
        "ends_on": str(END),
        "instrument": "gad7",
    }
    refused = client.post(reverse("programmes:new"), data)
    page = refused.content.decode()
    assert refused.status_code == 400 and 'href="#id_instrument"' in page
    assert "A caregiver course enrols caregivers" in page
    started = client.post(reverse("programmes:new"), {**data, "design": _design().pk})
    assert started.status_code == 302
    assert Programme.objects.get(title="如何说，孩子才会听").instrument == "gad7"


# ---------------------------------------------------------------- the page and the API


def test_the_programme_page_shows_the_outcome_in_words_without_names(
    world: World, measured: tuple[Programme, list[Child]]
) -> None:
    programme, kids = measured
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.director_a)
    page = client.get(reverse("programmes:detail", args=[programme.pk])).content.decode()
    section = page[
        page.index('data-testid="outcome"') : page.index(
            "</section>", page.index('data-testid="outcome"')
        )
    ]
    assert CAVEAT in section
    assert "Generalized Anxiety Disorder 7-item scale" in section
    assert "On this instrument a lower score is better." in section
    assert "On average the score fell by 3.3 points, over 8 children." in section
    assert "95% confidence interval of the change: -6.4 to -0.1 points." in section
    assert "Better: 5 of 8 (62.5%); same band: 2 of 8 (25%); worse: 1 of 8 (12.5%)." in section
    assert "W = 3, p = 0.062, over 7 children whose score changed." in section
    assert "1 of 8: each was flagged for follow-up" in section
    assert "4 (no result before: 3; no result after: 3)" in section
    assert not any(kid.name in section for kid in kids)
    plain = _programme(world, "")
    other = client.get(reverse("programmes:detail", args=[plain.pk])).content.decode()
    assert 'data-testid="outcome"' not in other and CAVEAT not in other


def test_the_api_answers_the_outcome_to_the_programmes_readers_only(
    world: World, measured: tuple[Programme, list[Child]]
) -> None:
    programme, _kids = measured
    url = f"/api/v1/programmes/{programme.pk}/outcomes"
    response = Api("director_a").get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["programme"] == programme.pk
    out = body["outcome"]
    diffs = [float(b - a) for a, b in zip(PRE, POST, strict=True)]
    mean, low, high = _mean_ci(diffs, T_975[7])
    assert out["instrument"] == "gad7" and out["higher_is_worse"] is True
    assert (out["enrolled"], out["paired"], out["without"]) == (12, 8, 4)
    assert (out["missing_pre"], out["missing_post"]) == (3, 3)
    assert out["mean_change"] == pytest.approx(mean)
    assert (out["ci_low"], out["ci_high"]) == (
        pytest.approx(low, abs=1e-6),
        pytest.approx(high, abs=1e-6),
    )
    assert (out["improved"], out["unchanged"], out["worse"]) == (5, 2, 1)
    assert out["improved_share"] == pytest.approx(0.625)
    assert (out["wilcoxon_n"], out["wilcoxon_statistic"]) == (7, 3.0)
    assert out["wilcoxon_p"] == pytest.approx(0.0625)
    assert out["crossed_into_follow_up"] == 1
    assert out["pre_from"] == str(START - dt.timedelta(days=90))
    assert out["caveat"]  # in the reader's language
    assert "crossed" not in out  # aggregates: no child is named
    assert Api("director_b").get(url).status_code == 404
    assert Api("official").get(url).status_code == 404
    plain = _programme(world, "")
    none = Api("director_a").get(f"/api/v1/programmes/{plain.pk}/outcomes").json()
    assert none == {"programme": plain.pk, "outcome": None}


def test_the_api_starts_a_programme_with_an_instrument_and_refuses_one_that_does_not_fit(
    world: World,
) -> None:
    director = Api("director_a")
    data = {
        "organisation": world.orgs["village_a"].pk,
        "design": _design().pk,
        "title": "情绪小怪兽",
        "starts_on": str(START),
        "ends_on": str(END),
    }
    refused = director.post("/api/v1/programmes", {**data, "instrument": "home_visit"})
    assert refused.status_code == 400 and "instrument" in refused.json()["errors"]
    started = director.post("/api/v1/programmes", {**data, "instrument": "phqa"})
    assert started.status_code == 201 and started.json()["instrument"] == "phqa"


# ---------------------------------------------------------------- the post raises alerts


@pytest.fixture
def teen(world: World) -> Child:
    """李娜 (b1), 13, served by the counsellor, enrolled in her village's programme."""
    child = world.children["b1"]
    Child.objects.filter(pk=child.pk).update(
        birth_date=dates.add_years(TODAY, -13) - dt.timedelta(days=100)
    )
    child.refresh_from_db()
    return child


def _village_b_programme(world: World, teen: Child, instrument: str) -> Programme:
    programme = running.programme_create(
        actor=world.director_b,
        organisation=world.orgs["village_b"],
        design=_design(),
        title="我不是个错误",
        starts_on=TODAY - dt.timedelta(days=40),
        ends_on=TODAY - dt.timedelta(days=3),
        instrument=instrument,
    )
    running.enrol(actor=world.director_b, programme=programme, child=teen)
    return programme


PHQA = [
    "phqa_low_mood_irritable",
    "phqa_anhedonia",
    "phqa_sleep",
    "phqa_appetite_weight",
    "phqa_fatigue",
    "phqa_worthlessness",
    "phqa_concentration",
    "phqa_psychomotor",
    "phqa_self_harm",
]


def test_a_post_result_in_an_alert_band_raises_the_alert_and_is_listed_as_crossed(
    world: World, teen: Child
) -> None:
    programme = _village_b_programme(world, teen, "phqa")
    before = services.administer(
        actor=world.counselor,
        child=teen,
        instrument="phqa",
        answers=dict.fromkeys(PHQA, 0),
        administered_at=dt.datetime.combine(TODAY - dt.timedelta(days=45), dt.time(10)),
    )
    assert before.band == "minimal" and not Alert.objects.filter(child=teen).exists()
    after = services.administer(
        actor=world.counselor,
        child=teen,
        instrument="phqa",
        answers={**dict.fromkeys(PHQA[:8], 2), "phqa_self_harm": 1},  # 17
    )
    assert after.total == 17 and after.band == "moderately_severe" and after.follow_up
    alert = Alert.objects.get(child=teen)
    assert alert.administration == after  # raised as by any screening
    assert alert.recipients.filter(pk=world.counselor.pk).exists()
    found = outcomes.outcomes(programme)
    assert found is not None and found.crossed == (teen.pk,)
    assert found.mean_change == 17


def test_a_post_result_in_a_follow_up_band_sets_the_follow_up_as_any_screening(
    world: World, teen: Child
) -> None:
    programme = _village_b_programme(world, teen, "gad7")
    items = [i.id for i in registry.definitions()["gad7"].items]
    services.administer(
        actor=world.counselor,
        child=teen,
        instrument="gad7",
        answers=dict.fromkeys(items, 0),
        administered_at=dt.datetime.combine(TODAY - dt.timedelta(days=45), dt.time(10)),
    )
    after = services.administer(
        actor=world.counselor,
        child=teen,
        instrument="gad7",
        answers=dict(zip(items, [2, 2, 2, 2, 2, 1, 1], strict=True)),  # 12: moderate
    )
    assert after.band == "moderate" and after.follow_up
    assert not Alert.objects.filter(child=teen).exists()  # no critical answer
    reasons = {r["code"] for r in RiskLevel.objects.get(child=teen).reasons}
    assert "screening_follow_up" in reasons
    found = outcomes.outcomes(programme)
    assert found is not None and found.crossed == (teen.pk,)
    assert (found.improved, found.unchanged, found.worse) == (0, 0, 1)


def test_a_volunteer_facilitator_sees_no_outcome(
    world: World, measured: tuple[Programme, list[Child]]
) -> None:
    """Averaged screening results of a few children are still theirs: a facilitator who
    is not an organiser (a volunteer: names, age and village only) reads no outcome."""
    from shouhu.accounts.models import Membership, Role

    programme, _kids = measured
    Membership.objects.create(
        user=world.volunteer, organisation=world.orgs["village_a"], role=Role.VOLUNTEER
    )
    session = running.session_add(
        actor=world.director_a,
        programme=programme,
        starts_at=dt.datetime.combine(programme.starts_on, dt.time(15), tzinfo=SHANGHAI),
        minutes=60,
        facilitators=[world.volunteer],
    )
    assert session.facilitators.filter(pk=world.volunteer.pk).exists()
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.volunteer)
    page = client.get(reverse("programmes:detail", args=[programme.pk]))
    assert page.status_code == 200
    assert 'data-testid="outcome"' not in page.content.decode()
    assert Api("volunteer").get(f"/api/v1/programmes/{programme.pk}/outcomes").status_code == 403
