"""The reads of sponsors and aid: what aid a child receives, the double-aid rule, and what a
sponsor's money reached (a report that names no child)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext as _

from shouhu.aid.models import (
    AidKind,
    Application,
    Disbursement,
    FollowUp,
    Pledge,
    Scheme,
    Sponsor,
    Status,
)
from shouhu.aid.services import fen
from shouhu.children.models import ELIGIBLE_FOR_AID, ON_GOVERNMENT_AID, Aid, Child, Household
from shouhu.lib import dates

# The government's aid in the registry: the household's 低保 or 特困 is living aid.
GOVERNMENT_AID: dict[str, str] = {Aid.DIBAO: AidKind.LIVING, Aid.TEKUN: AidKind.LIVING}
GOVERNMENT = "government"
# Who the double-aid rule expects to receive some aid: children in difficulty, without
# anyone supporting them, or orphaned (the registry indexes them: `child_eligible_area`).
ELIGIBLE = ELIGIBLE_FOR_AID


def _on_government_aid(household: Any) -> Exists:
    """The household (an OuterRef to its id) is on 低保/特困: a probe of the small index
    `household_government_aid`."""
    return Exists(Household.objects.filter(ON_GOVERNMENT_AID, pk=household))


@dataclass(frozen=True)
class AidLine:
    source: str  # "government", or the scheme's organisation
    kind: str
    label: str  # the scheme, or the government aid's name
    paid_on: dt.date | None = None
    amount: Decimal | None = None
    items: str = ""
    method: str = ""


def aid_of_child(child: Child) -> list[AidLine]:
    """All aid a child receives: the government's (the household's 低保/特困, as the registry
    holds it today) and every payment of the schemes, in date order. The caller has opened
    the child through `access`."""
    lines: list[AidLine] = []
    aid = child.household.aid
    if aid in GOVERNMENT_AID:
        lines.append(
            AidLine(source=GOVERNMENT, kind=GOVERNMENT_AID[aid], label=str(Aid(aid).label))
        )
    rows = (
        Disbursement.objects.filter(child=child)
        .select_related("scheme__organisation")
        .order_by("paid_on", "id")
    )
    lines.extend(
        AidLine(
            source=d.scheme.organisation.name,
            kind=d.kind,
            label=d.scheme.name,
            paid_on=d.paid_on,
            amount=d.amount,
            items=d.items,
            method=d.method,
        )
        for d in rows
    )
    return lines


@dataclass
class DoubleAid:
    """`double`: (child id, kind of aid) → the sources of that aid (scheme ids, or
    "government") when there are two or more in the same period; `schemes`: the name of
    each scheme named there (by the same id); `unaided`: the eligible children of the set
    who received nothing in the span (a queryset: count it or page it)."""

    double: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    unaided: QuerySet[Child] = field(default_factory=Child.objects.none)
    schemes: dict[str, str] = field(default_factory=dict)


def double_aid(
    children: QuerySet[Child], first: dt.date, last: dt.date, *, paid_in: Q | None = None
) -> DoubleAid:
    """The double-aid rule over a set of children for the payments dated `first`..`last`.

    Two sources of the same kind of aid in the same period: two payments of one kind to one
    child from two schemes whose periods overlap; or living aid from a scheme to a child
    whose household has the government's 低保 or 特困 (which runs all the time). Payments of
    two schemes whose periods do not overlap are successive aid, not double.

    `paid_in` says where the set's payments are on the payments' own columns (the board of
    an area: `residence` in its range), so that they are read without the registry;
    without it they are the payments of `children`.

    Set-based: three queries whatever the number of children. The payments of the window
    are grouped by child and kind in the database; only the groups with two schemes or more
    come back, with their schemes' periods, and the overlap is tested on those few."""
    paid = Disbursement.objects.filter(paid_on__gte=first, paid_on__lte=last)
    in_set = (
        paid.filter(paid_in)
        if paid_in is not None
        else paid.filter(child__in=children.values("pk"))
    )
    several = (
        in_set.order_by()
        .values("child_id", "kind")
        # Two schemes or more: their lowest and highest differ (hashed, no distinct count).
        .annotate(lowest=Min("scheme_id"), highest=Max("scheme_id"))
        .filter(lowest__lt=F("highest"))
        .values("child_id")
    )
    groups: dict[tuple[int, str], dict[int, tuple[dt.date, dt.date]]] = defaultdict(dict)
    names: dict[str, str] = {}
    for child_id, kind, scheme_id, starts, ends, name in (
        in_set.filter(child_id__in=several)
        .order_by()
        .values_list(
            "child_id", "kind", "scheme_id", "scheme__starts_on", "scheme__ends_on", "scheme__name"
        )
        .distinct()
    ):
        groups[(child_id, kind)][scheme_id] = (starts, ends)
        names[str(scheme_id)] = name
    found: dict[tuple[int, str], set[str]] = defaultdict(set)
    for key, periods in groups.items():
        for scheme_id, (starts, ends) in periods.items():
            if any(
                other != scheme_id and starts <= other_ends and ends >= other_starts
                for other, (other_starts, other_ends) in periods.items()
            ):
                found[key].add(str(scheme_id))
    government = (
        in_set.filter(_on_government_aid(OuterRef("household_id")), kind=AidKind.LIVING)
        .order_by()
        .values_list("child_id", "scheme_id", "scheme__name")
        .distinct()
    )
    for child_id, scheme_id, name in government:
        found[(child_id, AidKind.LIVING)] |= {str(scheme_id), GOVERNMENT}
        names[str(scheme_id)] = name
    unaided = double_aid_unaided(children, first, last)
    return DoubleAid(
        double=dict(found),
        unaided=unaided,
        schemes={k: v for k, v in names.items() if any(k in s for s in found.values())},
    )


def double_aid_unaided(children: QuerySet[Child], first: dt.date, last: dt.date) -> QuerySet[Child]:
    """The eligible children of the set who received nothing dated `first`..`last`: neither
    the government's 低保/特困 nor any payment."""
    paid = Disbursement.objects.filter(paid_on__gte=first, paid_on__lte=last)
    return (
        children.filter(ELIGIBLE)
        .exclude(_on_government_aid(OuterRef("household_id")))
        .exclude(Exists(paid.filter(child=OuterRef("pk"))))
    )


def aid_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The period the coordination board applies the double-aid rule to: the payments of the
    last twelve months up to today (from the day after the same date a year ago)."""
    return dates.add_years(today, -1) + dt.timedelta(days=1), today


@dataclass
class AidBoard:
    """The double-aid rule over an area for the board: every (child, kind) with two sources
    (the first `limit` in child and kind order in `double`, how many in all in
    `double_count`) and the first eligible children without aid
    (`unaided`, in id order) with how many there are in all (`unaided_count`)."""

    first: dt.date
    last: dt.date
    double: list[dict[str, Any]]
    double_count: int
    unaided: list[int]
    unaided_count: int


def aid_board(*, children: QuerySet[Child], paid_in: Q, today: dt.date, limit: int) -> AidBoard:
    """The double-aid rule over an area (`children`, and `paid_in` on the payments' own
    village column) for `aid_period(today)`, shaped for the board: sources named (the
    scheme, or the government), kinds with their labels, at most `limit` rows of each list.

    The double aid is read from the payments flagged when they were recorded (or when the
    child's facts changed: `services.reflag`), from the partial index
    `disbursement_double_area`: the few flagged payments of the area and period, not all of
    them. The unaided children and their count come from one query (a window count)."""
    first, last = aid_period(today)
    # From the partial index alone (no join): the flagged payments' child, kind, scheme and
    # household; the names and the households' 低保/特困 are looked up for the rows shown.
    flagged = (
        Disbursement.objects.filter(paid_in, double=True, paid_on__gte=first, paid_on__lte=last)
        .order_by()
        .values_list("child_id", "kind", "scheme_id", "household_id")
        .distinct()
    )
    groups: dict[tuple[int, str], set[int]] = defaultdict(set)
    households: dict[int, int | None] = {}
    for child_id, kind, scheme_id, household_id in flagged:
        groups[(child_id, kind)].add(scheme_id)
        households[child_id] = household_id
    shown = sorted(groups)[:limit]
    names = dict(
        Scheme.objects.filter(pk__in={s for key in shown for s in groups[key]}).values_list(
            "pk", "name"
        )
    )
    on_aid = set(
        Household.objects.filter(
            ON_GOVERNMENT_AID,
            pk__in={households[child] for child, kind in shown if kind == AidKind.LIVING},
        ).values_list("pk", flat=True)
    )
    government = {
        (child, kind)
        for child, kind in shown
        if kind == AidKind.LIVING and households[child] in on_aid
    }
    double = []
    for key in shown:
        named = sorted(names[s] for s in groups[key])
        if key in government:
            named.insert(0, _("Government"))
        double.append(
            {
                "child": key[0],
                "kind": key[1],
                "kind_label": str(AidKind(key[1]).label),
                "sources": named,
            }
        )
    found_unaided = double_aid_unaided(children, first, last)
    # Ordered by `id + 0`, not `id`: ordered by the primary key, PostgreSQL walks the whole
    # registry in id order hoping to meet `limit` rows soon, though the window count needs
    # them all; by the expression it reads the area's eligible children from their partial
    # index and sorts the few left.
    rows = list(
        found_unaided.annotate(total=Window(Count("pk")))
        .order_by((F("pk") + 0).asc())
        .values_list("pk", "total")[:limit]
    )
    return AidBoard(
        first=first,
        last=last,
        double=double,
        double_count=len(groups),
        unaided=[pk for pk, _total in rows],
        unaided_count=rows[0][1] if rows else 0,
    )


@dataclass(frozen=True)
class SchemeMonth:
    scheme: str
    month: dt.date
    children: int
    amount: Decimal
    payments: int


@dataclass(frozen=True)
class Story:
    scheme: str
    on: dt.date
    text: str


@dataclass
class SponsorReport:
    """What a sponsor's money reached, in figures and approved anonymised stories: never a
    child's name, id, photo or address."""

    sponsor: str
    first: dt.date
    last: dt.date
    children: int
    amount: Decimal
    lines: list[SchemeMonth]
    stories: list[Story]
    note: str = ""


def sponsor_schemes(sponsor: Sponsor) -> QuerySet[Scheme]:
    return Scheme.objects.filter(
        pk__in=sponsor.pledges.filter(scheme__isnull=False).values("scheme")
    )


def sponsor_report(sponsor: Sponsor, first: dt.date, last: dt.date) -> SponsorReport:
    """The payments of the schemes the sponsor pledged to, dated `first`..`last`: how many
    children they reached, the amounts by scheme and month, and the stories a scheme
    manager approved for sponsors. A scheme several sponsors give to is reported whole to
    each of them (the report says so)."""
    paid = Disbursement.objects.filter(
        scheme__in=sponsor_schemes(sponsor), paid_on__gte=first, paid_on__lte=last
    )
    totals: dict[str, Any] = paid.aggregate(
        children=Count("child", distinct=True), amount=Sum("amount")
    )
    rows = (
        paid.annotate(month=TruncMonth("paid_on"))
        .values("scheme__name", "month")
        .annotate(children=Count("child", distinct=True), amount=Sum("amount"), n=Count("id"))
        .order_by("month", "scheme__name")
    )
    lines = [
        SchemeMonth(
            scheme=r["scheme__name"],
            month=r["month"],
            children=r["children"],
            amount=fen(r["amount"]),
            payments=r["n"],
        )
        for r in rows
    ]
    stories = [
        Story(scheme=name, on=on, text=text)
        for name, on, text in FollowUp.objects.filter(
            application__scheme__in=sponsor_schemes(sponsor),
            story_approved_by__isnull=False,
            on__gte=first,
            on__lte=last,
        )
        .exclude(story="")
        .order_by("on", "id")
        .values_list("application__scheme__name", "on", "story")
    ]
    return SponsorReport(
        sponsor=sponsor.name,
        first=first,
        last=last,
        children=totals["children"] or 0,
        amount=fen(totals["amount"]),
        lines=lines,
        stories=stories,
        note=_("A scheme several sponsors give to is reported whole to each of them."),
    )


# ---------------------------------------------------------------- the pages' lists

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))


def with_paid(applications: QuerySet[Application]) -> QuerySet[Application]:
    """Applications with their scheme, child and people, and `paid`: the money paid under
    each, summed in the database (one query for the list)."""
    return applications.select_related("scheme", "child", "submitted_by", "reviewer").annotate(
        paid=Coalesce(Sum("disbursements__amount"), ZERO)
    )


def schemes_overview(schemes: QuerySet[Scheme]) -> QuerySet[Scheme]:
    """Each scheme with its applications counted by status (`submitted`, `approved`,
    `rejected`) and `paid`, the money paid under it: one query whatever the number of
    schemes (the sum is a subquery, so that the counts are not multiplied by payments)."""
    paid = (
        Disbursement.objects.filter(scheme=OuterRef("pk"))
        .order_by()
        .values("scheme")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return schemes.select_related("organisation").annotate(
        submitted=Count("applications", filter=Q(applications__status=Status.SUBMITTED)),
        approved=Count("applications", filter=Q(applications__status=Status.APPROVED)),
        rejected=Count("applications", filter=Q(applications__status=Status.REJECTED)),
        paid=Coalesce(Subquery(paid), ZERO),
    )


def sponsors_with_pledges(sponsors: QuerySet[Sponsor]) -> QuerySet[Sponsor]:
    """Sponsors with their organisation and pledges (and each pledge's scheme): two
    queries whatever their number."""
    return sponsors.select_related("organisation").prefetch_related(
        Prefetch("pledges", queryset=Pledge.objects.select_related("scheme"))
    )


def schemes_open_to_applications(today: dt.date) -> QuerySet[Scheme]:
    """The schemes a worker may apply to today: those whose period is not over (the rule
    of `services.application_submit`)."""
    return (
        Scheme.objects.filter(ends_on__gte=today)
        .select_related("organisation")
        .order_by("organisation__name", "name", "pk")
    )
