"""Reads of reunion data for pages and the API. Whatever shows children writes the access
log itself, one entry per child shown, so that a child's log lists every reading."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.models import AccessLog, Action
from shouhu.audit.services import log_access
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import dates
from shouhu.reunion import services
from shouhu.reunion.models import Rebooking, Session, SessionStatus, Site, Ticket, TicketStatus


def log_children_shown(
    user: User,
    child_ids: Iterable[int],
    *,
    action: str = Action.LIST_CHILDREN,
    purpose: str,
    fields: Iterable[str] = (),
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """One access-log entry per child (the first written by `log_access`, the others copy
    its who, where and when)."""
    ids = sorted(set(child_ids))
    if not ids:
        return
    first = log_access(
        user=user,
        action=action,
        child_id=ids[0],
        purpose=purpose,
        fields=fields,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )
    AccessLog.objects.bulk_create(
        AccessLog(
            user=first.user,
            username=first.username,
            roles=first.roles,
            organisations=first.organisations,
            action=first.action,
            child_id=child_id,
            object_type=first.object_type,
            object_id=first.object_id,
            fields=first.fields,
            purpose=first.purpose,
            ip=first.ip,
            detail=first.detail,
        )
        for child_id in ids[1:]
    )


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
    log_children_shown(
        user,
        shown,
        purpose=purpose,
        detail={"site": site.pk, "week": week.isoformat()},
    )
    return out


def open_tickets_by_device(site: Site) -> dict[int, Ticket]:
    """The open (or taken) ticket of each device of the site that has one."""
    found: dict[int, Ticket] = {}
    for ticket in site.tickets.filter(
        status__in=[TicketStatus.OPEN, TicketStatus.TAKEN], device__isnull=False
    ).order_by("reported_at", "id"):
        assert ticket.device_id is not None
        found.setdefault(ticket.device_id, ticket)
    return found


def parent_phone_shown(user: User, member: FamilyMember, *, purpose: str) -> str:
    """A parent's plaintext phone for one who edits the family's registration, logged as a
    reveal with each child of the household (the phone is the children's file)."""
    children = Child.objects.filter(household_id=member.household_id).values_list("pk", flat=True)
    log_children_shown(
        user,
        children,
        action=Action.REVEAL,
        purpose=purpose,
        fields=[access.IDENTIFYING],
        object_type="family_member",
        object_id=str(member.pk),
    )
    return services.parent_phone(member)
