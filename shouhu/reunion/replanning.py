"""Re-planning what a change affects.

A change (a fault ticket, a device taken out of order, an absent or departed facilitator, a
parent who cannot make it) cancels sessions, and their children are planned again by the
solver that plans the week (`shouhu.lib.reunion_solver`), on what is left of the week:
each usable device is a site of its own whose openings are its free slots after now; the
days a child already has a session, and the lost slot itself, are taken out of the
parents' windows, and an absent facilitator's day out of theirs. Every session that is
still possible is kept. Every child comes out rebooked or with the reason why not (a
`Rebooking`), and parents, facilitators and child directors are told the names, the old
and the new times.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu import access
from shouhu.accounts.models import User
from shouhu.children.models import PARENTS, Child
from shouhu.lib import clock, dates, reunion_solver
from shouhu.reunion.models import (
    Device,
    Facilitator,
    ParentAvailability,
    Participant,
    Rebooking,
    Schedule,
    Session,
    SessionStatus,
    Site,
    UnservedReason,
)
from shouhu.reunion.notices import Text, tell_replanned
from shouhu.reunion.planning import room_name
from shouhu.reunion.selectors import available_devices
from shouhu.reunion.windows import (
    cut,
    end_hhmm,
    fits,
    free_runs,
    hhmm,
    minute_of_day,
    slot_minutes,
    slot_start,
    week_range,
    window_json,
)

log = logging.getLogger(__name__)


@dataclass
class Replanned:
    """What a re-planning did: the new sessions, and one rebooking per child of each
    cancelled session (rebooked, or not and why)."""

    sessions: list[Session] = field(default_factory=list)
    rebookings: list[Rebooking] = field(default_factory=list)

    @property
    def unserved(self) -> list[Rebooking]:
        return [r for r in self.rebookings if r.new_session is None]


@dataclass
class _Need:
    child: Child
    lost: list[Session]  # the child's cancelled sessions of the week, in time order
    why: str = ""  # an `UnservedReason` once the child is known not to get them all
    not_then: bool = False  # the family cannot make the lost times (not offered again)


def _parents_for(need: _Need, week_start: dt.date) -> tuple[bool, list[dict[str, Any]]]:
    """Whether any parent's call times are recorded, and the parents' windows left for
    this re-planning: not on a day the child already has a session, nor at a lost time the
    family could not make."""
    lo, hi = week_range(week_start)
    taken = {
        s.starts_at.astimezone(dates.SHANGHAI).isoweekday()
        for s in Session.objects.filter(
            children=need.child, starts_at__gte=lo, starts_at__lt=hi
        ).exclude(status=SessionStatus.CANCELLED)
    }
    recorded, parents = False, []
    for availability in ParentAvailability.objects.filter(
        member__household_id=need.child.household_id, member__relation__in=PARENTS
    ).prefetch_related("windows"):
        windows = [
            (w.day, minute_of_day(w.start), minute_of_day(w.end))
            for w in availability.windows.all()
        ]
        recorded = recorded or bool(windows)
        windows = [w for w in windows if w[0] not in taken]
        for old in need.lost if need.not_then else ():
            local = old.starts_at.astimezone(dates.SHANGHAI)
            start = local.hour * 60 + local.minute
            windows = cut(windows, local.isoweekday(), start, start + old.minutes)
        parents.append(
            {
                "id": str(availability.member_id),
                "available": [
                    {"day": d, "start": hhmm(dt.time(s // 60, s % 60)), "end": end_hhmm(e)}
                    for d, s, e in windows
                ],
            }
        )
    return recorded, parents


@dataclass
class _Left:
    """What is left of a week, as the solver's instance and the device behind each of its
    sites."""

    instance: dict[str, Any]
    devices: dict[str, tuple[Site, Device]]


def _left_of_week(
    week_start: dt.date,
    needs: Mapping[int, _Need],
    *,
    now: dt.datetime,
    absent: set[tuple[int, int, dt.date]],
    free_only: bool = True,
) -> _Left:
    """The instance for the children of `needs` who may still be planned (a child who
    cannot, for want of a site, a device or a parent's times, gets `why` here).
    `free_only=False` ignores the other sessions' hold on the devices, to tell "no time
    suits" from "every suitable time is taken"."""
    slot = slot_minutes()
    participants = {
        p.child_id: p
        for p in Participant.objects.filter(child_id__in=list(needs), active=True).prefetch_related(
            "sites"
        )
    }
    sites = {s.pk: s for p in participants.values() for s in p.sites.all() if s.active}
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    if free_only:
        lo, hi = week_range(week_start)
        for s in Session.objects.filter(
            site_id__in=list(sites), starts_at__gte=lo, starts_at__lt=hi
        ).exclude(status=SessionStatus.CANCELLED):
            busy[s.device_id].append((s.starts_at, s.starts_at + dt.timedelta(minutes=s.minutes)))
    left = _Left({"slot_minutes": slot, "sites": [], "facilitators": [], "children": []}, {})
    by_site: dict[int, list[str]] = defaultdict(list)
    usable: set[int] = set()
    for site in sorted(sites.values(), key=lambda s: s.pk):
        devices = available_devices(site)
        usable |= {site.pk} if devices else set()
        openings = list(site.openings.all())
        for device in devices:
            runs = [
                w
                for o in openings
                for w in free_runs(o, week_start, slot=slot, now=now, busy=busy[device.pk])
            ]
            if runs:
                vid = f"{site.pk}:{device.pk}"
                left.devices[vid] = (site, device)
                by_site[site.pk].append(vid)
                left.instance["sites"].append({"id": vid, "devices": [device.pk], "open": runs})
    for f in Facilitator.objects.filter(site_id__in=list(by_site), active=True).prefetch_related(
        "windows"
    ):
        present = [
            window_json(w)
            for w in f.windows.all()
            if (f.pk, f.site_id, week_start + dt.timedelta(days=w.day - 1)) not in absent
        ]
        left.instance["facilitators"] += [
            {"id": f"{f.pk}@{vid}", "site": vid, "available": present} for vid in by_site[f.site_id]
        ]
    for cid, need in needs.items():
        p = participants.get(cid)
        reach = [s.pk for s in p.sites.all() if s.pk in sites] if p else []
        recorded, parents = _parents_for(need, week_start)
        if not reach:
            need.why = need.why or UnservedReason.NOT_ENROLLED
        elif not usable.intersection(reach):
            need.why = need.why or UnservedReason.NO_DEVICE
        elif not recorded:
            need.why = need.why or UnservedReason.NO_PARENT_TIMES
        if need.why or p is None:
            continue
        left.instance["children"].append(
            {
                "id": str(cid),
                "family": str(need.child.household_id),
                "sites": [vid for pk in reach for vid in by_site[pk]],
                "sessions": min(len(need.lost), 7),
                "priority": p.priority,
                "parents": parents,
            }
        )
    return left


def _solved(instance: dict[str, Any]) -> dict[str, Any] | None:
    """The solver's plan, or None (logged) when it fails or breaks a rule."""
    try:
        plan = reunion_solver.solve(instance)
    except Exception:  # a failure leaves the children listed as not rebooked
        log.exception("reunion re-planning failed")
        return None
    problems = reunion_solver.check_plan(instance, plan)
    if problems:
        log.error("re-planning breaks constraints: %s", "; ".join(problems[:5]))
        return None
    return plan


def _schedule_of(site: Site, week_start: dt.date, fallback: Schedule) -> Schedule:
    found = (
        Schedule.objects.filter(organisation_id=site.organisation_id, week_start=week_start)
        .order_by("-id")
        .first()
    )
    return found or fallback


def _replan_week(
    week_start: dt.date,
    needs: Mapping[int, _Need],
    *,
    now: dt.datetime,
    absent: set[tuple[int, int, dt.date]],
) -> dict[int, list[Session]]:
    """New sessions for the children of `needs` in what is left of the week, by child."""
    got: dict[int, list[Session]] = defaultdict(list)
    left = _left_of_week(week_start, needs, now=now, absent=absent)
    plan = _solved(left.instance) if left.instance["children"] else None
    if plan is None:
        for need in needs.values():
            need.why = need.why or UnservedReason.PLANNER_FAILED
        return got
    for a in plan["assignments"]:
        site, device = left.devices[a["site"]]
        kids = [needs[int(c)] for c in a["children"]]
        session = Session.objects.create(
            schedule=_schedule_of(site, week_start, kids[0].lost[0].schedule),
            site=site,
            device=device,
            starts_at=slot_start(week_start, a["day"], a["start"]),
            minutes=left.instance["slot_minutes"],
            room=room_name(),
        )
        session.children.set([k.child for k in kids])
        for k in kids:
            got[k.child.pk].append(session)
    for cid, need in needs.items():
        if len(got[cid]) < len(need.lost) and not need.why:
            need.why = _why_short(week_start, need, now=now, absent=absent)
    return got


def _why_short(
    week_start: dt.date, need: _Need, *, now: dt.datetime, absent: set[tuple[int, int, dt.date]]
) -> str:
    """Planned alone on the week's free hours (other sessions ignored), would the child get
    the sessions? Then every suitable time is taken; otherwise none suits."""
    alone = _Need(need.child, need.lost, not_then=need.not_then)
    left = _left_of_week(
        week_start, {need.child.pk: alone}, now=now, absent=absent, free_only=False
    )
    plan = _solved(left.instance) if left.instance["children"] else None
    if plan is not None and len(plan["assignments"]) >= len(need.lost):
        return UnservedReason.ALL_TAKEN
    return alone.why or UnservedReason.NO_TIME


def replan(
    sessions: Sequence[Session],
    *,
    reason: Text,
    now: dt.datetime,
    absent: set[tuple[int, int, dt.date]] | None = None,
    not_then: bool = False,
) -> Replanned:
    """Cancel `sessions` and plan their children again in what is left of each week
    (`not_then`: the families cannot make those times, so they are not offered again)."""
    reason = reason[:200] if isinstance(reason, str) else reason
    stored = str(reason)[:200]  # the record keeps it in the language it was given in
    weeks: dict[dt.date, dict[int, _Need]] = defaultdict(dict)
    for old in sorted(sessions, key=lambda s: (s.starts_at, s.pk)):
        old.status, old.cancel_reason = SessionStatus.CANCELLED, stored
        old.save(update_fields=["status", "cancel_reason"])
        for child in old.children.all():
            need = weeks[old.schedule.week_start].setdefault(
                child.pk, _Need(child, [], not_then=not_then)
            )
            need.lost.append(old)
    done = Replanned()
    for week_start, needs in sorted(weeks.items()):
        got = _replan_week(week_start, needs, now=now, absent=absent or set())
        for cid, need in needs.items():
            new = got.get(cid, [])
            done.rebookings += [
                Rebooking(
                    session=old,
                    child=need.child,
                    new_session=new[i] if i < len(new) else None,
                    reason=stored,
                    unserved_reason="" if i < len(new) else need.why or UnservedReason.NO_TIME,
                    created_at=now,
                )
                for i, old in enumerate(need.lost)
            ]
        made = {s.pk: s for found in got.values() for s in found}
        done.sessions += sorted(made.values(), key=lambda s: (s.starts_at, s.pk))
    Rebooking.objects.bulk_create(done.rebookings)
    tell_replanned(done.rebookings, done.sessions, reason=reason, now=now)
    return done


@transaction.atomic
def cancel_session(
    *, actor: User, session: Session, reason: str, now: dt.datetime | None = None
) -> Replanned:
    """A parent cannot make it: the session is moved if the week allows."""
    if not (access.manages_site(actor, session.site) or access.facilitates(actor, session.site)):
        raise PermissionDenied(_("Only the site's people change its sessions."))
    if session.status != SessionStatus.PLANNED:
        raise ValidationError(_("Only a planned session can be cancelled."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why.")]})
    return replan([session], reason=reason.strip(), now=now or clock.now(), not_then=True)


def future_on_device(device: Device, now: dt.datetime) -> list[Session]:
    return list(
        Session.objects.filter(device=device, status=SessionStatus.PLANNED, starts_at__gt=now)
    )


def uncovered(
    site: Site, sessions: Iterable[Session], others: Sequence[Facilitator]
) -> list[Session]:
    """The sessions no facilitator among `others` is available for."""
    out = []
    for s in sessions:
        local = timezone.localtime(s.starts_at)
        end = (local + dt.timedelta(minutes=s.minutes)).time()
        if not any(fits(f.windows.all(), local.isoweekday(), local.time(), end) for f in others):
            out.append(s)
    return out


@transaction.atomic
def facilitator_absent(
    *, actor: User, facilitator: Facilitator, on: dt.date, now: dt.datetime | None = None
) -> Replanned:
    """A facilitator is ill on a day: sessions left without anyone to run them move."""
    now = now or clock.now()
    site = facilitator.site
    if not (access.manages_site(actor, site) or facilitator.user_id == actor.pk):
        raise PermissionDenied(_("Only the site's people change its sessions."))
    others = list(
        site.facilitators.filter(active=True).exclude(pk=facilitator.pk).prefetch_related("windows")
    )
    that_day = [
        s
        for s in Session.objects.filter(site=site, status=SessionStatus.PLANNED, starts_at__gt=now)
        if timezone.localtime(s.starts_at).date() == on
    ]
    affected = uncovered(site, that_day, others)
    return replan(
        affected,
        reason=gettext_lazy("facilitator absent"),
        now=now,
        absent={(facilitator.pk, site.pk, on)},
    )
