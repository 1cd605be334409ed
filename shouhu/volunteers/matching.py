"""Matching a volunteer to a child: suggestions, the coordinator's decision with the
guardian's consent, and the end of a match.

Suggestions are the cleared volunteers of the organisations the coordinator keeps, ranked by
- the languages and dialects asked for (how many of them the volunteer speaks),
- distance, from the place codes: the same village, then township, county, city, province,
- the days asked for (how many of them the volunteer is available on; without days asked,
  the more days the better),
- the organisation's rule of at most `MAX_CHILDREN` children per volunteer: those at the
  limit are left out, and the fewer children already matched the better.

A match is proposed, then decided by one who keeps the volunteer's organisation's
volunteers; approval needs the consent of one of the child's guardians (who and when) and a
volunteer still cleared that day. An active match opens the child's basic fields to the
volunteer's login, nothing more (`access`: the volunteer assignment class).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu import access
from shouhu.accounts.models import Membership, User
from shouhu.audit.services import record_change
from shouhu.children.assignments import assignment_create
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock
from shouhu.volunteers.models import Match, MatchStatus, Volunteer
from shouhu.volunteers.services import require_manager

Errors = dict[str, list[str]]

# The organisation's rule: one volunteer is matched to at most this many children at once.
MAX_CHILDREN: int = getattr(settings, "SHOUHU_VOLUNTEER_MAX_CHILDREN", 3)

# Days of the week in the availability text: Chinese and English words.
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = {
    "mon": gettext_lazy("Monday"),
    "tue": gettext_lazy("Tuesday"),
    "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"),
    "fri": gettext_lazy("Friday"),
    "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}
_DAY_WORDS: dict[str, tuple[str, ...]] = {
    "工作日": DAYS[:5],
    "weekdays": DAYS[:5],
    "weekday": DAYS[:5],
    "周末": DAYS[5:],
    "双休日": DAYS[5:],
    "weekends": DAYS[5:],
    "weekend": DAYS[5:],
    "每天": DAYS,
    "daily": DAYS,
    "every day": DAYS,
}
_ZH_DAYS = "一二三四五六日"
for _i, _day in enumerate(DAYS):
    _DAY_WORDS[f"周{_ZH_DAYS[_i]}"] = (_day,)
    _DAY_WORDS[f"星期{_ZH_DAYS[_i]}"] = (_day,)
    _DAY_WORDS[_day] = (_day,)
_DAY_WORDS["周天"] = _DAY_WORDS["星期天"] = ("sun",)
for _name in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
    _DAY_WORDS[_name] = (_name[:3],)
_DAY_PATTERN = re.compile(
    "|".join(re.escape(w) for w in sorted(_DAY_WORDS, key=len, reverse=True)), re.IGNORECASE
)
_SPLIT = re.compile(r"[,，、;；/\s]+")

# Distance from the place codes: how many leading digits the volunteer's home and the
# child's village share (village 12, township 9, county 6, city 4, province 2).
DISTANCES = (
    (12, gettext_lazy("same village")),
    (9, gettext_lazy("same township")),
    (6, gettext_lazy("same county")),
    (4, gettext_lazy("same city")),
    (2, gettext_lazy("same province")),
)
FAR = gettext_lazy("farther away or not known")


def days_of(availability: str) -> frozenset[str]:
    """The days of the week an availability text names ("周六、周日上午", "weekends")."""
    found: set[str] = set()
    for word in _DAY_PATTERN.findall(availability or ""):
        found.update(_DAY_WORDS[word.lower()])
    return frozenset(found)


def languages_of(text: str) -> frozenset[str]:
    return frozenset(w.strip().lower() for w in _SPLIT.split(text or "") if w.strip())


def distance(home: str | None, village: str) -> int:
    """The rank of the distance between two place codes: 0 the same village … 5 farther."""
    if not home:
        return len(DISTANCES)
    for rank, (digits, _label) in enumerate(DISTANCES):
        if home[:digits] == village[:digits]:
            return rank
    return len(DISTANCES)


@dataclass(frozen=True)
class Suggestion:
    volunteer: Volunteer
    distance: int
    distance_label: str
    languages: tuple[str, ...]  # the asked-for languages the volunteer speaks
    days: tuple[str, ...]  # the asked-for days the volunteer is available (or all days)
    children: int  # children already matched

    @property
    def day_labels(self) -> list[str]:
        return [str(DAY_LABELS[d]) for d in self.days]


def managed_organisations(user: User) -> list[int]:
    return list(
        Membership.objects.filter(
            user=user, active=True, role__in=access.VOLUNTEER_MANAGERS
        ).values_list("organisation_id", flat=True)
    )


def _open_matches() -> Q:
    return Q(matches__status__in=[MatchStatus.PROPOSED, MatchStatus.ACTIVE])


def suggest(
    actor: User,
    child: Child,
    *,
    languages: Iterable[str] = (),
    days: Iterable[str] = (),
    limit: int = 10,
) -> list[Suggestion]:
    """The cleared volunteers of the organisations `actor` keeps, best first, for `child`
    (opened by the caller through `access`). Two queries."""
    wanted_languages = frozenset(w.strip().lower() for w in languages if w.strip())
    wanted_days = frozenset(d for d in days if d in DAYS)
    taken = Match.objects.filter(
        child=child, status__in=[MatchStatus.PROPOSED, MatchStatus.ACTIVE]
    ).values("volunteer_id")
    candidates = (
        access.volunteers_cleared(
            Volunteer.objects.filter(organisation_id__in=managed_organisations(actor))
        )
        .exclude(pk__in=taken)
        .annotate(matched=Count("matches", filter=_open_matches(), distinct=True))
        .filter(matched__lt=MAX_CHILDREN)
        .select_related("organisation", "home")
    )
    village = child.residence_id or ""
    found = []
    for v in candidates:
        speaks = languages_of(v.languages)
        free = days_of(v.availability)
        rank = distance(v.home_id, village)
        found.append(
            Suggestion(
                volunteer=v,
                distance=rank,
                distance_label=str(DISTANCES[rank][1] if rank < len(DISTANCES) else FAR),
                languages=tuple(sorted(wanted_languages & speaks)),
                days=tuple(d for d in DAYS if d in (free & wanted_days if wanted_days else free)),
                children=v.matched,
            )
        )
    found.sort(
        key=lambda s: (
            -len(s.languages),
            s.distance,
            -len(s.days),
            s.children,
            s.volunteer.name,
            s.volunteer.pk,
        )
    )
    return found[:limit]


def _refusal(volunteer: Volunteer) -> str | None:
    missing = access.clearance_missing(volunteer)
    if not missing:
        return None
    return _("This volunteer is not cleared to work with children: %(missing)s.") % {
        "missing": access.describe_missing(missing)
    }


@transaction.atomic
def match_propose(*, actor: User, volunteer: Volunteer, child: Child, purpose: str) -> Match:
    """Propose a cleared volunteer for a child (the caller has opened the child)."""
    require_manager(actor, volunteer.organisation_id)
    # One volunteer's matches are counted one writer at a time.
    Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()
    errors: Errors = {}
    if not purpose.strip():
        errors["purpose"] = [_("Say what the volunteer will do with the child.")]
    refusal = _refusal(volunteer)
    if refusal:
        errors["volunteer"] = [refusal]
    elif Match.objects.filter(
        volunteer=volunteer, child=child, status__in=[MatchStatus.PROPOSED, MatchStatus.ACTIVE]
    ).exists():
        errors["volunteer"] = [_("This volunteer is already proposed or matched to the child.")]
    elif (
        Match.objects.filter(
            volunteer=volunteer, status__in=[MatchStatus.PROPOSED, MatchStatus.ACTIVE]
        ).count()
        >= MAX_CHILDREN
    ):
        errors["volunteer"] = [
            _("This volunteer already has %(n)s children, the most the organisation allows.")
            % {"n": MAX_CHILDREN}
        ]
    if errors:
        raise ValidationError(errors)
    match = Match.objects.create(
        volunteer=volunteer,
        child=child,
        purpose=purpose.strip()[:300],
        proposed_by=actor,
        proposed_at=clock.now(),
    )
    record_change(
        actor=actor,
        obj=match,
        operation="create",
        changes={"volunteer": [None, volunteer.pk], "status": [None, match.status]},
        child_id=child.pk,
    )
    return match


@transaction.atomic
def match_decide(
    *,
    actor: User,
    match: Match,
    approve: bool,
    consent_by: FamilyMember | None = None,
    consent_on: dt.date | None = None,
    reason: str = "",
) -> Match:
    """The coordinator's decision. Approval needs the consent of one of the child's
    guardians (who, and on which day) and the volunteer still cleared; it opens the child's
    basic fields to the volunteer's login. A decline needs a reason."""
    match = Match.objects.select_for_update().select_related("volunteer", "child").get(pk=match.pk)
    volunteer, child = match.volunteer, match.child
    require_manager(actor, volunteer.organisation_id)
    errors: Errors = {}
    if match.status != MatchStatus.PROPOSED:
        raise ValidationError({"status": [_("This match is already decided.")]})
    today = clock.today()
    if approve:
        if consent_by is None:
            errors["consent_by"] = [_("Record which guardian consented to the match.")]
        elif consent_by.household_id != child.household_id or not consent_by.is_guardian:
            errors["consent_by"] = [_("The consent must come from one of the child's guardians.")]
        if consent_on is None:
            errors["consent_on"] = [_("Give the day the guardian consented.")]
        elif consent_on > today:
            errors["consent_on"] = [_("The date cannot be in the future.")]
        refusal = _refusal(volunteer)
        if refusal:
            errors["volunteer"] = [refusal]
    elif not reason.strip():
        errors["reason"] = [_("Say why the match is declined.")]
    if errors:
        raise ValidationError(errors)
    before = match.status
    match.decided_by, match.decided_at = actor, clock.now()
    if approve:
        match.status = MatchStatus.ACTIVE
        match.consent_by, match.consent_on = consent_by, consent_on
        if volunteer.user_id is not None:
            match.assignment = assignment_create(
                actor=actor,
                child=child,
                organisation=volunteer.organisation,
                kind="volunteer",
                user=volunteer.user,
                started_on=today,
            )
    else:
        match.status = MatchStatus.DECLINED
        match.reason = reason.strip()[:300]
    match.save()
    record_change(
        actor=actor,
        obj=match,
        operation="update",
        changes={"status": [before, match.status]},
        child_id=child.pk,
    )
    access.forget_assignments()
    return match


@transaction.atomic
def match_end(*, actor: User, match: Match, reason: str) -> Match:
    """End an active match: the volunteer's login no longer reaches the child."""
    # Only the match row is locked: its assignment may be missing (an outer join, which
    # PostgreSQL does not lock).
    match = (
        Match.objects.select_for_update(of=("self",))
        .select_related("volunteer", "assignment")
        .get(pk=match.pk)
    )
    require_manager(actor, match.volunteer.organisation_id)
    if match.status != MatchStatus.ACTIVE:
        raise ValidationError({"status": [_("Only an active match can be ended.")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the match ends.")]})
    today = clock.today()
    if match.assignment is not None:
        match.assignment.active = False
        match.assignment.ended_on = today
        match.assignment.save(update_fields=["active", "ended_on"])
    match.status, match.ended_on, match.reason = MatchStatus.ENDED, today, reason.strip()[:300]
    match.save(update_fields=["status", "ended_on", "reason"])
    record_change(
        actor=actor,
        obj=match,
        operation="update",
        changes={"status": [MatchStatus.ACTIVE, MatchStatus.ENDED]},
        child_id=match.child_id,
    )
    access.forget_assignments()
    return match
