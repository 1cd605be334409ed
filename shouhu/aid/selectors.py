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
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
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
from shouhu.children.models import Aid, Child

# The government's aid in the registry: the household's 低保 or 特困 is living aid.
GOVERNMENT_AID: dict[str, str] = {Aid.DIBAO: AidKind.LIVING, Aid.TEKUN: AidKind.LIVING}
GOVERNMENT = "government"
# Who the double-aid rule expects to receive some aid: children in difficulty, without
# anyone supporting them, or orphaned.
ELIGIBLE = (
    Q(cat_difficulty_poverty=True)
    | Q(cat_difficulty_disability=True)
    | Q(cat_difficulty_guardianship=True)
    | Q(cat_de_facto_unsupported=True)
    | Q(cat_orphan=True)
)


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
    "government") when there are two or more in the same period; `unaided`: the eligible
    children of the set who received nothing in the span (a queryset: count it or page it)."""

    double: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    unaided: QuerySet[Child] = field(default_factory=Child.objects.none)


def double_aid(children: QuerySet[Child], first: dt.date, last: dt.date) -> DoubleAid:
    """The double-aid rule over a set of children for the payments dated `first`..`last`.

    Two sources of the same kind of aid in the same period: two payments of one kind to one
    child from two schemes whose periods overlap; or living aid from a scheme to a child
    whose household has the government's 低保 or 特困 (which runs all the time). Payments of
    two schemes whose periods do not overlap are successive aid, not double.

    Set-based: three queries whatever the number of children (the index
    `disbursement_child_kind` serves the overlap test)."""
    paid = Disbursement.objects.filter(paid_on__gte=first, paid_on__lte=last)
    in_set = paid.filter(child__in=children.values("pk"))
    other = paid.filter(child=OuterRef("child"), kind=OuterRef("kind")).filter(
        ~Q(scheme=OuterRef("scheme")),
        scheme__starts_on__lte=OuterRef("scheme__ends_on"),
        scheme__ends_on__gte=OuterRef("scheme__starts_on"),
    )
    found: dict[tuple[int, str], set[str]] = defaultdict(set)
    for child_id, kind, scheme_id in (
        in_set.filter(Exists(other)).values_list("child_id", "kind", "scheme_id").distinct()
    ):
        found[(child_id, kind)].add(str(scheme_id))
    government = (
        in_set.filter(kind=AidKind.LIVING, child__household__aid__in=list(GOVERNMENT_AID))
        .values_list("child_id", "scheme_id")
        .distinct()
    )
    for child_id, scheme_id in government:
        found[(child_id, AidKind.LIVING)] |= {str(scheme_id), GOVERNMENT}
    unaided = (
        children.filter(ELIGIBLE)
        .exclude(household__aid__in=list(GOVERNMENT_AID))
        .exclude(Exists(paid.filter(child=OuterRef("pk"))))
    )
    return DoubleAid(double=dict(found), unaided=unaided)


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
