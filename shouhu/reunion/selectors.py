"""Reads of reunion data for pages and the API: what a site may have (places, candidates,
usable devices), how many sessions a child needs, a site's week and its report, a child's
contact indicators. Whatever shows children writes the access log itself, one entry per
child shown, so that a child's log lists every reading."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from django.db.models import Q, QuerySet

from shouhu import access
from shouhu.accounts.models import Organisation, Role, User
from shouhu.audit.models import Action
from shouhu.audit.services import log_children_read
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock, dates
from shouhu.places.models import Level, Place
from shouhu.reunion.models import (
    IN_PERSON,
    Attendance,
    Contact,
    Device,
    DeviceStatus,
    Participant,
    Rebooking,
    Session,
    SessionStatus,
    Site,
    Ticket,
    TicketStatus,
)

# ---------------------------------------------------------------- sites, people and the plan


def site_area(organisation: Organisation) -> str:
    """The code prefix where the organisation's sites may be: its county (or its whole
    jurisdiction when that is larger)."""
    return organisation.jurisdiction.prefix[:6]


def site_places(organisations: Iterable[Organisation]) -> QuerySet[Place]:
    """The townships and villages where these organisations may have sites."""
    area = Q(pk__in=[])
    for org in organisations:
        area |= Q(code__startswith=site_area(org))
    return Place.objects.filter(area, level__in=[Level.TOWNSHIP, Level.VILLAGE]).order_by("code")


def managed_organisations(actor: User) -> list[Organisation]:
    """The organisations whose sites the actor manages."""
    orgs = Organisation.objects.filter(
        pk__in=actor.memberships.filter(active=True).values("organisation_id"), active=True
    ).select_related("jurisdiction")
    return [o for o in orgs if access.may_create_site(actor, o)]


# The roles that may run a reunion room: teachers, cadres and volunteers (never a technology
# envoy, who must not see a child).
FACILITATOR_ROLES = (
    Role.TEACHER,
    Role.CHILD_DIRECTOR,
    Role.SUPERVISOR,
    Role.OFFICIAL,
    Role.SOCIAL_WORKER,
    Role.COUNSELOR,
    Role.VOLUNTEER,
)


def facilitator_candidates(site: Site) -> QuerySet[User]:
    """Who may be made a facilitator of the site: active users with a facilitating role in
    an organisation of the site's county."""
    code = site.place_id
    over = [code[:2].ljust(12, "0"), code[:4].ljust(12, "0")]  # the province and the city
    area = Q(memberships__organisation__jurisdiction__code__startswith=code[:6]) | Q(
        memberships__organisation__jurisdiction_id__in=over
    )
    return (
        User.objects.filter(
            area,
            is_active=True,
            memberships__active=True,
            memberships__organisation__active=True,
            memberships__role__in=FACILITATOR_ROLES,
        )
        .distinct()
        .order_by("username")
    )


def enrol_sites(child: Child) -> QuerySet[Site]:
    """The active sites a child can be enrolled at: those of the child's county."""
    return Site.objects.filter(
        active=True, place__code__startswith=child.residence_id[:6]
    ).order_by("name")


def available_devices(site: Site) -> list[Device]:
    """Working devices without an open ticket, in label order."""
    return [
        d
        for d in site.devices.filter(status=DeviceStatus.WORKING).order_by("label")
        if not d.tickets.exclude(status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED]).exists()
    ]


def open_tickets_by_device(site: Site) -> dict[int, Ticket]:
    """The open (or taken) ticket of each device of the site that has one."""
    found: dict[int, Ticket] = {}
    for ticket in site.tickets.filter(
        status__in=[TicketStatus.OPEN, TicketStatus.TAKEN], device__isnull=False
    ).order_by("reported_at", "id"):
        assert ticket.device_id is not None
        found.setdefault(ticket.device_id, ticket)
    return found


def plan_asks_for_contact(child_id: int) -> bool:
    """An open case of the child has an open action (to do or in progress) under an open
    goal in the family-bonds area, the area of the service plan that works on the bond with
    the parents away: the plan asks for more contact."""
    from shouhu.cases.models import ActionStatus, Domain, GoalStatus, PlanAction, Stage

    return (
        PlanAction.objects.filter(
            goal__case__child_id=child_id,
            goal__domain=Domain.FAMILY,
            goal__status=GoalStatus.OPEN,
            status__in=[ActionStatus.TODO, ActionStatus.DOING],
        )
        .exclude(goal__case__stage=Stage.CLOSED)
        .exists()
    )


def effective_sessions(participant: Participant) -> int:
    """Sessions needed a week: the participant's number, at least two when the child's risk
    level is orange or red or an open case plan works on the family bonds (and the child
    takes part at all)."""
    from shouhu.screening.models import RiskLevel

    wanted = participant.sessions_per_week
    if wanted == 0:
        return 0
    level = (
        RiskLevel.objects.filter(child_id=participant.child_id)
        .values_list("level", flat=True)
        .first()
    )
    if level in ("orange", "red") or plan_asks_for_contact(participant.child_id):
        return max(wanted, 2)
    return wanted


# ---------------------------------------------------------------- a site's week


@dataclass
class Week:
    """A site's week as one reader sees it."""

    site: Site
    start: dt.date
    shows_children: bool
    sessions: list[Session]
    changes: list[Rebooking] = field(default_factory=list)  # the week's cancellations

    @property
    def unserved(self) -> list[Rebooking]:
        return [r for r in self.changes if r.new_session_id is None]


def site_week(user: User, site: Site, week: dt.date, *, purpose: str) -> Week:
    """The week's sessions (cancelled ones left out) and, for the site's own people, their
    children and what became of the children of each cancelled session; the children shown
    are logged."""
    start = dates.start_of_day(week)
    end = start + dt.timedelta(days=7)
    shows = access.manages_site(user, site) or access.facilitates(user, site)
    sessions = list(
        Session.objects.filter(site=site, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("device")
        .prefetch_related("children")
    )
    out = Week(site, week, shows, sessions)
    if not shows:
        return out
    out.changes = list(
        Rebooking.objects.filter(
            session__site=site, session__starts_at__gte=start, session__starts_at__lt=end
        ).select_related("child", "session", "new_session__site", "new_session__device")
    )
    shown = {c.pk for s in sessions for c in s.children.all()} | {r.child_id for r in out.changes}
    log_children_read(
        user=user,
        child_ids=shown,
        purpose=purpose,
        detail={"site": site.pk, "week": week.isoformat()},
    )
    return out


class WeekReport(TypedDict):
    """A site's week in figures (a share or a rate is None when its denominator is 0)."""

    site: int
    week_start: dt.date
    sessions_planned: int
    sessions_held: int
    children_reached: int
    participants: int
    weekly_contact_share: float | None
    device_utilisation: float | None
    ticket_hours_to_resolve: float | None


def site_week_report(site: Site, week_start: dt.date) -> WeekReport:
    start = dates.start_of_day(week_start)
    end = start + dt.timedelta(days=7)
    sessions = Session.objects.filter(site=site, starts_at__gte=start, starts_at__lt=end)
    planned = sessions.exclude(status=SessionStatus.CANCELLED).count()
    held = sessions.filter(status=SessionStatus.HELD)
    reached = set(
        Attendance.objects.filter(session__in=held, present=True, parent_joined=True).values_list(
            "child_id", flat=True
        )
    )
    participants = set(site.participants.filter(active=True).values_list("child_id", flat=True))
    contacted = set(
        Contact.objects.filter(
            child_id__in=participants, on__gte=week_start, on__lt=week_start + dt.timedelta(days=7)
        ).values_list("child_id", flat=True)
    )
    open_minutes = sum(
        (dt.datetime.combine(week_start, w.end) - dt.datetime.combine(week_start, w.start)).seconds
        // 60
        for w in site.openings.all()
    )
    devices = site.devices.exclude(status=DeviceStatus.RETIRED).count()
    used = sum(s.minutes for s in held)
    tickets = list(  # the faults reported in the week and resolved since
        site.tickets.filter(resolved_at__isnull=False, reported_at__gte=start, reported_at__lt=end)
    )
    hours = [
        (t.resolved_at - t.reported_at).total_seconds() / 3600 for t in tickets if t.resolved_at
    ]
    return {
        "site": site.pk,
        "week_start": week_start,
        "sessions_planned": planned,
        "sessions_held": held.count(),
        "children_reached": len(reached),
        "participants": len(participants),
        "weekly_contact_share": round(len(contacted) / len(participants), 3)
        if participants
        else None,
        "device_utilisation": round(used / (devices * open_minutes), 3)
        if devices and open_minutes
        else None,
        "ticket_hours_to_resolve": round(sum(hours) / len(hours), 1) if hours else None,
    }


# ---------------------------------------------------------------- parents and the contact log


def parent_phone(member: FamilyMember) -> str:
    from shouhu.lib import protect

    return protect.unseal(member.phone_enc) if member.phone_enc else ""


def parent_phone_shown(user: User, member: FamilyMember, *, purpose: str) -> str:
    """A parent's plaintext phone for one who edits the family's registration, logged as a
    reveal with each child of the household (the phone is the children's file)."""
    children = Child.objects.filter(household_id=member.household_id).values_list("pk", flat=True)
    log_children_read(
        user=user,
        child_ids=children,
        action=Action.REVEAL,
        purpose=purpose,
        fields=[access.IDENTIFYING],
        object_type="family_member",
        object_id=str(member.pk),
    )
    return parent_phone(member)


class ContactIndicators(TypedDict):
    last_contact: dt.date | None
    days_since_contact: int | None
    last_seen: dt.date | None
    parent_last_seen: int | None  # 0: within 6 months, 1: 6–12 months, 2: over 12


def contact_indicators(child: Child, today: dt.date | None = None) -> ContactIndicators:
    """Days since any contact with a parent, and since a parent was last seen in person
    (0: within 6 months, 1: 6–12 months, 2: over 12; None when the log has no visit)."""
    today = today or clock.today()
    logged = Contact.objects.filter(child=child, on__lte=today)  # a date to come is no contact
    last = logged.order_by("-on").values_list("on", flat=True).first()
    seen = logged.filter(mode__in=IN_PERSON).order_by("-on").values_list("on", flat=True).first()
    level = None
    if seen is not None:
        if seen > dates.add_months(today, -6):
            level = 0
        elif seen > dates.add_months(today, -12):
            level = 1
        else:
            level = 2
    return {
        "last_contact": last,
        "days_since_contact": (today - last).days if last else None,
        "last_seen": seen,
        "parent_last_seen": level,
    }
