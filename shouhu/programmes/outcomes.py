"""Pre/post outcomes of a programme (issue 12): the change in the programme's instrument
between a measurement before and one after, per enrolled child, and the statistics of it.

Which instruments may measure a programme (`instrument_refusal`): an enabled screening or
strengths instrument (not the home visit's needs assessment), for a programme that enrols
children (a caregiver course enrols adults, and screenings are of children), with bands that
say which end of the score needs follow-up (else a change cannot be called better or worse).

Which measurements count, per child enrolled (status enrolled, not waiting or withdrawn), on
the programme's instrument, by their dates in Asia/Shanghai:

- post: the latest administration dated from `ends_on` − 14 days (never before `starts_on`)
  through `ends_on` + 90 days;
- pre: the latest administration dated from `starts_on` − 90 days through `starts_on` + 14
  days (never after `ends_on`) that is earlier than the post.

The post is chosen first: the two windows overlap for a programme shorter than four weeks,
and there the measurement nearest the end is the post and an earlier one the pre (a child with
a single measurement inside the overlap has a post only). The calendar rule, not the last
session held, decides, so that the report does not depend on how complete the roll call is.

Direction: the follow-up bands of the instrument sit at one end of its score range. At the
high end (PHQ-A, GAD-7) a higher score is worse; at the low end (the strengths profile) a
higher score is better; anything else leaves the direction unknown. A child improved when
the post band lies further from the follow-up end than the pre band, got worse when nearer,
and is unchanged in the same band.

`crossed` lists the children whose post band needs follow-up while their pre band did not;
the page and the API show only how many (aggregates name no child). The post being an
ordinary administration, recording it already raised its follow-up and alerts as any
screening does (`screening.services.administer`): nothing is raised here. Children outside
the instrument's ages cannot be given it (`services.age_refusal`); they are counted apart.
There is no comparison group: the change cannot be attributed to the programme alone.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from scipy import stats

from shouhu.lib import dates
from shouhu.lib.instruments import Instrument, Number
from shouhu.programmes.models import Enrolment, EnrolmentStatus, Programme
from shouhu.screening import registry
from shouhu.screening.models import Administration
from shouhu.screening.services import get_language_code

PRE_BEFORE_DAYS = 90  # a pre measurement from 90 days before the start
PRE_AFTER_DAYS = 14  # ... to 14 days after it
POST_BEFORE_DAYS = 14  # a post measurement from 14 days before the end
POST_AFTER_DAYS = 90  # ... to 90 days after it
# Kinds of instrument that can measure a child's change (not the home visit's assessment).
MEASURE_KINDS = frozenset({"screening", "strengths"})
# The fewest non-zero changes whose exact two-sided Wilcoxon p-value can fall below 0.05
# (2 / 2**6 = 0.031): with fewer the test cannot find anything and is not run.
WILCOXON_MIN = 6
# Said wherever the figures are shown (STYLE.md 19).
CAVEAT = gettext_lazy(
    "There is no comparison group: the change cannot be attributed to the programme alone."
)


@dataclass(frozen=True)
class Outcome:
    """A programme's pre/post outcome on its instrument. `improved`, `worse` (and the
    band figures) are None when the instrument's bands give no direction; the confidence
    interval needs two children, the Wilcoxon test `WILCOXON_MIN` non-zero changes."""

    instrument: str
    name: str
    pre_from: dt.date
    pre_to: dt.date
    post_from: dt.date
    post_to: dt.date
    enrolled: int  # children enrolled
    paired: int  # n: children with a pre and a post measurement
    missing_pre: int  # children without a pre measurement (with or without a post)
    missing_post: int  # children without a post measurement (with or without a pre)
    outside_ages: int  # children outside the instrument's ages at the start or the end
    higher_is_worse: bool | None
    mean_change: float | None  # post − pre, averaged over the paired children
    ci_low: float | None  # 95% confidence interval of the mean change (t distribution)
    ci_high: float | None
    improved: int | None
    unchanged: int | None
    worse: int | None
    wilcoxon_n: int  # paired children whose score changed (the test drops zero changes)
    wilcoxon_statistic: float | None  # the smaller of the signed-rank sums
    wilcoxon_p: float | None  # two-sided
    crossed: tuple[int, ...]  # child ids: into a follow-up band from one that was not

    @property
    def without(self) -> int:
        """Children without both measurements."""
        return self.enrolled - self.paired

    def share(self, count: int | None) -> float | None:
        return None if count is None or not self.paired else count / self.paired

    @property
    def improved_share(self) -> float | None:
        return self.share(self.improved)

    @property
    def unchanged_share(self) -> float | None:
        return self.share(self.unchanged)

    @property
    def worse_share(self) -> float | None:
        return self.share(self.worse)


def higher_is_worse(instrument: Instrument) -> bool | None:
    """True when the follow-up bands are the top ones, False when they are the bottom ones,
    None when the bands do not say (no follow-up band, all of them, or one in the middle)."""
    marks = [band.follow_up for band in instrument.bands]  # bands are sorted by `min`
    flagged = sum(marks)
    if not 0 < flagged < len(marks):
        return None
    if marks == [False] * (len(marks) - flagged) + [True] * flagged:
        return True
    if marks == [True] * flagged + [False] * (len(marks) - flagged):
        return False
    return None


def instrument_refusal(code: str, *, caregivers: bool) -> str:
    """Why `code` may not measure a programme ("" when it may). `caregivers`: the design
    enrols caregivers rather than children."""
    known = {inst.code: (inst, on) for inst, on in registry.catalogue()}
    if code not in known:
        return _("There is no instrument “%(code)s”.") % {"code": code}
    inst, on = known[code]
    name = inst.name.text(get_language_code())
    if not on:
        return _("%(name)s is not enabled here.") % {"name": name}
    if inst.kind not in MEASURE_KINDS:
        return _("%(name)s is not a screening or strengths measure of a child.") % {"name": name}
    if caregivers:
        return _("A caregiver course enrols caregivers; a child's screening cannot measure it.")
    if higher_is_worse(inst) is None:
        return _(
            "%(name)s has no bands that mark which scores need follow-up, so a change "
            "cannot be called better or worse."
        ) % {"name": name}
    return ""


def instruments_for_programmes() -> list[Instrument]:
    """The instruments a programme may name (enabled, of a measuring kind, with a
    direction), for a programme that enrols children."""
    return [
        inst
        for inst in registry.enabled()
        if inst.kind in MEASURE_KINDS and higher_is_worse(inst) is not None
    ]


def windows(programme: Programme) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(pre from, pre to, post from, post to), inclusive local dates."""
    start, end = programme.starts_on, programme.ends_on
    return (
        start - dt.timedelta(days=PRE_BEFORE_DAYS),
        min(start + dt.timedelta(days=PRE_AFTER_DAYS), end),
        max(end - dt.timedelta(days=POST_BEFORE_DAYS), start),
        end + dt.timedelta(days=POST_AFTER_DAYS),
    )


@dataclass(frozen=True)
class _Measure:
    day: dt.date
    at: dt.datetime
    pk: int
    total: Number
    band: int | None  # the index of the band (sorted by min)


def _pair(
    rows: Sequence[_Measure], span: tuple[dt.date, dt.date, dt.date, dt.date]
) -> tuple[_Measure | None, _Measure | None]:
    """(pre, post) of one child's measurements, oldest first."""
    pre_from, pre_to, post_from, post_to = span
    posts = [m for m in rows if post_from <= m.day <= post_to]
    post = posts[-1] if posts else None
    pres = [
        m
        for m in rows
        if pre_from <= m.day <= pre_to and (post is None or (m.at, m.pk) < (post.at, post.pk))
    ]
    return (pres[-1] if pres else None), post


def _measurements(
    programme: Programme, inst: Instrument, span: tuple[dt.date, dt.date, dt.date, dt.date]
) -> tuple[dict[int, dt.date], dict[int, list[_Measure]]]:
    """The enrolled children (id → birth date) and their measurements inside the windows,
    oldest first: two queries."""
    children: dict[int, dt.date] = dict(
        Enrolment.objects.filter(
            programme=programme, status=EnrolmentStatus.ENROLLED, child__isnull=False
        ).values_list("child_id", "child__birth_date")
    )
    band_index = {band.code: i for i, band in enumerate(inst.bands)}
    measured: dict[int, list[_Measure]] = {pk: [] for pk in children}
    for child_id, at, pk, total, band in (
        Administration.objects.filter(
            child_id__in=list(children),
            instrument=inst.code,
            total__isnull=False,
            administered_at__gte=dates.start_of_day(span[0]),
            administered_at__lt=dates.start_of_day(span[3] + dt.timedelta(days=1)),
        )
        .order_by("administered_at", "id")
        .values_list("child_id", "administered_at", "id", "total", "band")
    ):
        if total is None:  # excluded by the query; for the type checker
            continue
        if band not in band_index:  # a result stored without its band: band it now
            found = inst.band_for(total)
            band = found.code if found else ""
        day = timezone.localtime(at).date()
        measured[child_id].append(_Measure(day, at, pk, total, band_index.get(band)))
    return children, measured


def _outside_ages(inst: Instrument, births: Sequence[dt.date], programme: Programme) -> int:
    """Children younger or older than the instrument is for, at the start or at the end."""
    low, high = inst.ages
    days = (programme.starts_on, programme.ends_on)
    return sum(1 for born in births if any(not low <= dates.age_on(born, d) <= high for d in days))


def mean_ci(diffs: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """The mean and its two-sided 95% confidence interval by Student's t (None where there
    are too few values: the mean needs one, the interval two)."""
    if not diffs:
        return None, None, None
    n = len(diffs)
    mean = math.fsum(diffs) / n
    if n < 2:
        return mean, None, None
    critical = float(stats.t.ppf(0.975, n - 1))
    half = critical * statistics.stdev(diffs) / math.sqrt(n)
    return mean, mean - half, mean + half


def wilcoxon(diffs: Sequence[float]) -> tuple[int, float | None, float | None]:
    """(non-zero changes, statistic, two-sided p) of the Wilcoxon signed-rank test.

    Zero changes are dropped (Wilcoxon's own treatment). scipy's automatic method: the exact
    distribution when no two changes tie in size, the exact permutation distribution with
    ties up to 13 changes, else the normal approximation with the tie correction (no
    continuity correction). Fewer than `WILCOXON_MIN` changes, or a result that is not a number: no
    test (None)."""
    changed = [d for d in diffs if d != 0]
    if len(changed) < WILCOXON_MIN:
        return len(changed), None, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = stats.wilcoxon(changed)
        statistic, p = float(result.statistic), float(result.pvalue)
    except (ValueError, FloatingPointError):
        return len(changed), None, None
    if not (math.isfinite(statistic) and math.isfinite(p)):
        return len(changed), None, None
    return len(changed), statistic, p


def _bands(
    inst: Instrument, pairs: dict[int, tuple[_Measure, _Measure]]
) -> tuple[int | None, int | None, int | None, tuple[int, ...]]:
    """(improved, unchanged, worse, crossed) by the bands: counts None without a direction
    (or when a measurement has no band)."""
    follow_up = [band.follow_up for band in inst.bands]
    crossed = tuple(
        sorted(
            child_id
            for child_id, (pre, post) in pairs.items()
            if post.band is not None
            and follow_up[post.band]
            and not (pre.band is not None and follow_up[pre.band])
        )
    )
    worse_is_up = higher_is_worse(inst)
    moves = [
        (pre.band, post.band)
        for pre, post in pairs.values()
        if pre.band is not None and post.band is not None
    ]
    if worse_is_up is None or len(moves) < len(pairs):
        return None, None, None, crossed
    ups = sum(1 for a, b in moves if b > a)
    downs = sum(1 for a, b in moves if b < a)
    same = len(moves) - ups - downs
    return (downs, same, ups, crossed) if worse_is_up else (ups, same, downs, crossed)


def outcomes(programme: Programme, *, language: str | None = None) -> Outcome | None:
    """The programme's pre/post outcome (None when it names no instrument, or one that is
    no longer defined), in three queries however many take part."""
    if not programme.instrument or programme.instrument not in registry.definitions():
        return None
    inst = registry.definition(programme.instrument)
    span = windows(programme)
    children, measured = _measurements(programme, inst, span)
    pairs: dict[int, tuple[_Measure, _Measure]] = {}
    missing_pre = missing_post = 0
    for child_id, rows in measured.items():
        pre, post = _pair(rows, span)
        missing_pre += pre is None
        missing_post += post is None
        if pre is not None and post is not None:
            pairs[child_id] = (pre, post)
    diffs = [float(post.total) - float(pre.total) for pre, post in pairs.values()]
    mean, ci_low, ci_high = mean_ci(diffs)
    changed, statistic, p = wilcoxon(diffs)
    improved, unchanged, worse, crossed = _bands(inst, pairs)
    return Outcome(
        instrument=inst.code,
        name=inst.name.text(language or get_language_code()),
        pre_from=span[0],
        pre_to=span[1],
        post_from=span[2],
        post_to=span[3],
        enrolled=len(children),
        paired=len(pairs),
        missing_pre=missing_pre,
        missing_post=missing_post,
        outside_ages=_outside_ages(inst, list(children.values()), programme),
        higher_is_worse=higher_is_worse(inst),
        mean_change=mean,
        ci_low=ci_low,
        ci_high=ci_high,
        improved=improved,
        unchanged=unchanged,
        worse=worse,
        wilcoxon_n=changed,
        wilcoxon_statistic=statistic,
        wilcoxon_p=p,
        crossed=crossed,
    )
