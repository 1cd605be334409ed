"""Technical-support tickets: a fault reported at a site (a fault on a device re-plans its
coming sessions), taken and resolved by the area's technology envoys, closed by the one who
reported it. A ticket names a site, a device and a problem, never a child."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.lib import clock
from shouhu.reunion.models import Device, Site, Ticket, TicketStatus
from shouhu.reunion.notices import lazy_text
from shouhu.reunion.replanning import Replanned, future_on_device, replan


@dataclass
class Reported:
    ticket: Ticket
    replanned: Replanned


@transaction.atomic
def ticket_report(
    *,
    actor: User,
    site: Site,
    problem: str,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> Reported:
    """A facilitator reports a fault; an open ticket on a device takes it out of the plan
    and its coming sessions are re-planned (every child rebooked or listed with the reason
    why not)."""
    now = now or clock.now()
    if not (access.facilitates(actor, site) or access.manages_site(actor, site)):
        raise PermissionDenied(_("Only the site's people report its faults."))
    if not problem.strip():
        raise ValidationError({"problem": [_("Describe the problem.")]})
    if device is not None and device.site_id != site.pk:
        raise ValidationError({"device": [_("The device is not at this site.")]})
    ticket = Ticket.objects.create(
        site=site, device=device, problem=problem.strip(), reported_by=actor, reported_at=now
    )
    replanned = Replanned()
    if device is not None:
        replanned = replan(
            future_on_device(device, now),
            reason=lazy_text(
                lambda: _("fault reported on device %(device)s") % {"device": device.label}
            ),
            now=now,
        )
    return Reported(ticket, replanned)


def _envoy_ticket(actor: User, ticket: Ticket) -> Ticket:
    if (
        not access.is_tech_envoy(actor)
        or not access.tickets_visible_to(actor).filter(pk=ticket.pk).exists()
    ):
        raise PermissionDenied(_("Tickets are handled by the area's technology envoys."))
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


@transaction.atomic
def ticket_take(*, actor: User, ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    ticket = _envoy_ticket(actor, ticket)
    if ticket.status != TicketStatus.OPEN:
        raise ValidationError(_("This ticket is already taken."))
    ticket.status, ticket.taken_by, ticket.taken_at = (
        TicketStatus.TAKEN,
        actor,
        now or clock.now(),
    )
    ticket.save()
    return ticket


@transaction.atomic
def ticket_resolve(
    *, actor: User, ticket: Ticket, resolution: str, now: dt.datetime | None = None
) -> Ticket:
    ticket = _envoy_ticket(actor, ticket)
    if ticket.status not in (TicketStatus.OPEN, TicketStatus.TAKEN):
        raise ValidationError(_("This ticket is already resolved."))
    if not resolution.strip():
        raise ValidationError({"resolution": [_("Say what was done.")]})
    now = now or clock.now()
    ticket.status, ticket.resolved_at, ticket.resolution = (
        TicketStatus.RESOLVED,
        now,
        resolution.strip(),
    )
    if ticket.taken_by_id is None:
        ticket.taken_by, ticket.taken_at = actor, now
    ticket.save()
    return ticket


@transaction.atomic
def ticket_close(*, actor: User, ticket: Ticket, now: dt.datetime | None = None) -> Ticket:
    if ticket.status != TicketStatus.RESOLVED:
        raise ValidationError(_("Close a ticket once it is resolved."))
    if ticket.reported_by_id != actor.pk and not access.is_tech_envoy(actor):
        raise PermissionDenied
    ticket.status, ticket.closed_at = TicketStatus.CLOSED, now or clock.now()
    ticket.save(update_fields=["status", "closed_at"])
    return ticket
