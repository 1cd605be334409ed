"""Planning a week: the solver's JSON instance built from the database, and the plan stored
as sessions with unguessable Jitsi rooms; the parents and the facilitators are told
(`notices`)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.children.models import PARENTS, Child
from shouhu.lib import clock, dates, reunion_solver
from shouhu.notify.services import Message, send
from shouhu.reunion.models import (
    Device,
    Facilitator,
    ParentAvailability,
    Participant,
    Schedule,
    Session,
    SessionStatus,
    Site,
)
from shouhu.reunion.notices import tell_parents
from shouhu.reunion.selectors import available_devices, effective_sessions
from shouhu.reunion.windows import free_runs, slot_minutes, slot_start, window_json

log = logging.getLogger(__name__)


class PlanningError(ValidationError):
    """The week could not be planned (an invalid instance or a solver failure); nothing is
    stored and the message says why."""


@dataclass
class Built:
    instance: dict[str, Any]
    devices: dict[str, list[Device]]  # site id → devices by number - 1
    sites: dict[str, Site]


def build_instance(
    sites: Sequence[Site], *, week_start: dt.date | None = None, now: dt.datetime | None = None
) -> Built:
    """The solver's documented JSON instance for these sites, from the database; with
    `week_start` and `now`, only the slots of that week still to come are offered (a week
    already begun is planned from now on)."""
    devices = {str(s.pk): available_devices(s) for s in sites}
    # A site without a usable device (all broken, retired or with an open ticket) has no
    # slot to offer: it is left out, and its children go unserved there.
    usable = [s for s in sites if devices[str(s.pk)]]
    by_id = {str(s.pk): s for s in usable}
    instance: dict[str, Any] = {
        "slot_minutes": slot_minutes(),
        "sites": [
            {
                "id": sid,
                "devices": len(devices[sid]),
                "open": _openings(s, week_start, now),
            }
            for sid, s in by_id.items()
        ],
        "facilitators": [
            {
                "id": str(f.pk),
                "site": str(f.site_id),
                "available": [window_json(w) for w in f.windows.all()],
            }
            for f in Facilitator.objects.filter(site__in=usable, active=True).prefetch_related(
                "windows"
            )
        ],
        "children": [],
    }
    participants = (
        Participant.objects.filter(active=True, sites__in=sites)
        .distinct()
        .select_related("child")
        .prefetch_related("sites")
    )
    for p in participants:
        reach = [str(s.pk) for s in p.sites.all() if str(s.pk) in by_id]
        parents = [
            {"id": str(a.member_id), "available": [window_json(w) for w in a.windows.all()]}
            for a in ParentAvailability.objects.filter(
                member__household_id=p.child.household_id,
                member__relation__in=PARENTS,
            ).prefetch_related("windows")
        ]
        instance["children"].append(
            {
                "id": str(p.child_id),
                "family": str(p.child.household_id),
                "sites": reach,
                "sessions": effective_sessions(p),
                "priority": p.priority,
                "parents": parents,
            }
        )
    return Built(instance, devices, by_id)


def _openings(site: Site, week_start: dt.date | None, now: dt.datetime | None) -> list[Any]:
    if week_start is None or now is None or dates.start_of_day(week_start) > now:
        return [window_json(w) for w in site.openings.all()]
    return [
        w
        for o in site.openings.all()
        for w in free_runs(o, week_start, slot=slot_minutes(), now=now)
    ]


def room_name() -> str:
    """An unguessable room name (128 bits)."""
    return f"shouhu-{secrets.token_urlsafe(16)}"


@transaction.atomic
def plan_week(
    *,
    actor: User,
    organisation: Organisation,
    week_start: dt.date,
    now: dt.datetime | None = None,
) -> Schedule:
    """Plan a week (Monday `week_start`) for the organisation's sites and tell parents and
    facilitators. Replaces a plan of the same week that had no session held yet."""
    now = now or clock.now()
    if not access.may_plan(actor, organisation):
        raise PermissionDenied(_("Only those who manage the organisation's sites plan them."))
    if week_start.isoweekday() != 1:
        raise ValidationError({"week_start": [_("A week starts on a Monday.")]})
    today = now.astimezone(dates.SHANGHAI).date()
    if week_start + dt.timedelta(days=7) <= today:
        raise ValidationError({"week": [_("This week is over: plan this week or a week to come.")]})
    sites = list(Site.objects.filter(organisation=organisation, active=True).order_by("pk"))
    old = Schedule.objects.filter(organisation=organisation, week_start=week_start)
    if Session.objects.filter(schedule__in=old).exclude(status=SessionStatus.PLANNED).exists():
        raise ValidationError({"week_start": [_("This week has already started.")]})
    old.delete()
    built = build_instance(sites, week_start=week_start, now=now)
    try:
        plan = reunion_solver.solve(built.instance)
    except reunion_solver.InstanceError as exc:
        raise PlanningError(
            _("The week cannot be planned: %(problems)s") % {"problems": "; ".join(exc.errors[:5])}
        ) from exc
    except Exception as exc:  # any solver failure is reported and nothing is stored
        log.exception("reunion solver failed for organisation %s", organisation.pk)
        raise PlanningError(
            _("The planner failed; nothing was changed. Please report this problem.")
        ) from exc
    problems = reunion_solver.check_plan(built.instance, plan)
    if problems:  # a plan that breaks a constraint is a bug: never store it
        log.error("solver plan breaks constraints: %s", "; ".join(problems[:5]))
        raise PlanningError(
            _("The planner produced an invalid plan; nothing was changed. Please report this.")
        )
    schedule = Schedule.objects.create(
        week_start=week_start,
        organisation=organisation,
        created_at=now,
        created_by=actor,
        stats=plan["stats"],
        unserved=plan["unserved"],
    )
    children = {str(c.pk): c for c in Child.objects.filter(reunion__active=True)}
    for a in plan["assignments"]:
        session = Session.objects.create(
            schedule=schedule,
            site=built.sites[a["site"]],
            device=built.devices[a["site"]][int(a["device"]) - 1],
            starts_at=slot_start(week_start, a["day"], a["start"]),
            minutes=built.instance["slot_minutes"],
            room=room_name(),
        )
        session.children.set([children[c] for c in a["children"]])
        tell_parents(session, changed=False, now=now)
    for site in sites:
        people = [f.user for f in site.facilitators.filter(active=True).select_related("user")]
        send(
            people,
            lambda site=site: Message(  # type: ignore[misc]
                "reunion",
                _("Reunion schedule for the week of %(week)s at %(site)s")
                % {"week": week_start, "site": site.name},
                "",
                f"/reunion/sites/{site.pk}/?week={week_start}",
            ),
            now=now,
        )
    return schedule
