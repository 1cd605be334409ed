"""Online reunions: sites, participants, parents' windows, the weekly plan (built by the
solver of `shouhu.lib.reunion_solver` from the database), re-planning what a change affects,
attendance, the contact log and its indicators, and technical-support tickets.

Re-planning keeps every session that is still possible and plans again only the children
whose session was lost (cancelled by a parent, a fault ticket, a device out of order, an
absent or departed facilitator), with the same solver as the week, on what is left of it
(see "re-planning" below); each child comes out rebooked or listed with the reason, and
the people concerned are told.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote

import jwt
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu import access
from shouhu.accounts.models import Organisation, Role, User
from shouhu.children.models import Child, FamilyMember, Relation
from shouhu.lib import clock, dates, reunion_solver
from shouhu.notify.services import Message, send, send_to_parent
from shouhu.places.models import Place
from shouhu.reunion.models import (
    IN_PERSON,
    Attendance,
    Channel,
    Contact,
    ContactMode,
    Device,
    DeviceStatus,
    Facilitator,
    ParentAvailability,
    Participant,
    Rebooking,
    Schedule,
    Session,
    SessionStatus,
    Site,
    SiteKind,
    Ticket,
    TicketStatus,
    UnservedReason,
    Window,
)

log = logging.getLogger(__name__)

PARENTS = (Relation.FATHER, Relation.MOTHER)
DEFAULT_SLOT_MINUTES = 20

# A reason given for a change: a lazy translation when the system gives it (each reader,
# and each message, gets it in their language), or what a person typed.
Text = str | Promise


def _lazy_text(compose: Callable[[], str]) -> Promise:
    return cast(Promise, lazy(compose, str)())


def slot_minutes() -> int:
    return int(getattr(settings, "SHOUHU_REUNION_SLOT_MINUTES", DEFAULT_SLOT_MINUTES))


def _hhmm(value: str, where: str) -> dt.time:
    try:
        hour, minute = value.split(":")
        return dt.time(int(hour), int(minute))
    except (ValueError, AttributeError):
        raise ValidationError({where: [_("Write the time as HH:MM.")]}) from None


def _windows(raw: Iterable[dict[str, Any]], where: str) -> list[tuple[int, dt.time, dt.time]]:
    out = []
    for index, w in enumerate(raw):
        key = f"{where}.{index}"
        day = w.get("day")
        if not isinstance(day, int) or not 1 <= day <= 7:
            raise ValidationError({key: [_("The day is 1 (Monday) to 7 (Sunday).")]})
        start, end = _hhmm(str(w.get("start", "")), key), _hhmm(str(w.get("end", "")), key)
        if end <= start:
            raise ValidationError({key: [_("The window ends before it starts.")]})
        out.append((day, start, end))
    return out


# ---------------------------------------------------------------- sites and people


def _overlaps(parsed: Sequence[tuple[int, dt.time, dt.time]], where: str) -> None:
    """A site's openings may touch but not overlap on one day (slots would overlap)."""
    ordered = sorted(parsed)
    for (d1, _s1, e1), (d2, s2, _e2) in itertools.pairwise(ordered):
        if d1 == d2 and s2 < e1:
            raise ValidationError({where: [_("Two opening hours overlap on the same day.")]})


def _site_fields(
    *, name: str, place: Place | None, kind: str, organisation: Organisation
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Name the site.")]
    if kind not in SiteKind.values:
        errors["kind"] = [_("Choose one of the listed values.")]
    if place is None:
        errors["place"] = [_("Choose the place.")]
    elif not place.code.startswith(site_area(organisation)):
        errors["place"] = [_("The site must be in the organisation's county.")]
    return errors


def site_area(organisation: Organisation) -> str:
    """The code prefix where the organisation's sites may be: its county (or its whole
    jurisdiction when that is larger)."""
    return organisation.jurisdiction.prefix[:6]


def site_places(organisations: Iterable[Organisation]) -> QuerySet[Place]:
    """The townships and villages where these organisations may have sites."""
    from shouhu.places.models import Level

    area = Q(pk__in=[])
    for org in organisations:
        area |= Q(code__startswith=site_area(org))
    return Place.objects.filter(area, level__in=[Level.TOWNSHIP, Level.VILLAGE]).order_by("code")


def managed_organisations(actor: User) -> list[Organisation]:
    """The organisations whose sites the actor manages."""
    orgs = Organisation.objects.filter(
        pk__in=actor.memberships.filter(active=True).values("organisation_id"), active=True
    ).select_related("jurisdiction")
    return [o for o in orgs if may_create_site(actor, o)]


def may_plan(actor: User, organisation: Organisation) -> bool:
    """Those who manage the organisation's sites plan its weeks."""
    return may_create_site(actor, organisation)


def may_create_site(actor: User, organisation: Organisation) -> bool:
    """The members who manage the organisation's sites (not its volunteers or envoys)."""
    return access.manages_site(actor, Site(organisation=organisation))


@transaction.atomic
def site_create(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    place: Place | None,
    openings: Sequence[dict[str, Any]],
    devices: int = 0,
    kind: str = SiteKind.SCHOOL,
    address: str = "",
) -> Site:
    """A new site of the organisation with `devices` working tablets (more are added on the
    site's page; a site without a usable device is simply left out of the plan)."""
    if not may_create_site(actor, organisation):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    errors = _site_fields(name=name, place=place, kind=kind, organisation=organisation)
    if not 0 <= devices <= 50:
        errors["devices"] = [_("Between 0 and 50.")]
    if errors or place is None:
        raise ValidationError(errors)
    parsed = _windows(openings, "open")
    _overlaps(parsed, "open")
    site = Site.objects.create(
        organisation=organisation,
        name=name.strip()[:200],
        place=place,
        kind=kind,
        address=address.strip()[:300],
    )
    Device.objects.bulk_create(Device(site=site, label=f"{i + 1}") for i in range(devices))
    Window.objects.bulk_create(Window(site=site, day=d, start=s, end=e) for d, s, e in parsed)
    return site


@transaction.atomic
def site_update(
    *,
    actor: User,
    site: Site,
    name: str | None = None,
    place: Place | None = None,
    kind: str | None = None,
    address: str | None = None,
    active: bool | None = None,
    openings: Sequence[dict[str, Any]] | None = None,
) -> Site:
    """Change a site; None leaves a field as it is. New opening hours apply from the next
    plan (sessions already planned stay)."""
    if not access.manages_site(actor, site):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    errors = _site_fields(
        name=site.name if name is None else name,
        place=site.place if place is None else place,
        kind=site.kind if kind is None else kind,
        organisation=site.organisation,
    )
    if errors:
        raise ValidationError(errors)
    if name is not None:
        site.name = name.strip()[:200]
    if place is not None:
        site.place = place
    if kind is not None:
        site.kind = kind
    if address is not None:
        site.address = address.strip()[:300]
    if active is not None:
        site.active = active
    site.save()
    if openings is not None:
        parsed = _windows(openings, "open")
        _overlaps(parsed, "open")
        site.openings.all().delete()
        Window.objects.bulk_create(Window(site=site, day=d, start=s, end=e) for d, s, e in parsed)
    return site


def _device_fields(label: str, kind: str, status: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not label.strip() or len(label.strip()) > 50:
        errors["label"] = [_("Give the device a short label.")]
    if not kind.strip() or len(kind.strip()) > 50:
        errors["kind"] = [_("Say what kind of device it is.")]
    if status not in DeviceStatus.values:
        errors["status"] = [_("Choose one of the listed values.")]
    return errors


@transaction.atomic
def device_add(
    *,
    actor: User,
    site: Site,
    label: str,
    kind: str = "tablet",
    status: str = DeviceStatus.WORKING,
) -> Device:
    if not access.manages_site(actor, site):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    errors = _device_fields(label, kind, status)
    if not errors and site.devices.filter(label=label.strip()).exists():
        errors["label"] = [_("The site already has a device with this label.")]
    if errors:
        raise ValidationError(errors)
    return Device.objects.create(site=site, label=label.strip(), kind=kind.strip(), status=status)


@transaction.atomic
def device_update(
    *,
    actor: User,
    device: Device,
    label: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    now: dt.datetime | None = None,
) -> Device:
    """Change a device; taking it out of order (broken, retired) moves its coming sessions
    like a fault ticket does."""
    if not access.manages_site(actor, device.site):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    label = device.label if label is None else label
    kind = device.kind if kind is None else kind
    status = device.status if status is None else status
    errors = _device_fields(label, kind, status)
    if (
        not errors
        and device.site.devices.filter(label=label.strip()).exclude(pk=device.pk).exists()
    ):
        errors["label"] = [_("The site already has a device with this label.")]
    if errors:
        raise ValidationError(errors)
    was_working = device.status == DeviceStatus.WORKING
    device.label, device.kind, device.status = label.strip(), kind.strip(), status
    device.save()
    if was_working and status != DeviceStatus.WORKING:
        now = now or clock.now()
        _replan(_future_on_device(device, now), reason=gettext_lazy("device out of order"), now=now)
    return device


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


@transaction.atomic
def facilitator_set(
    *, actor: User, site: Site, user: User, available: Sequence[dict[str, Any]]
) -> Facilitator:
    """Add a facilitator to the site (or change their availability)."""
    if not access.manages_site(actor, site):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    if not facilitator_candidates(site).filter(pk=user.pk).exists():
        raise ValidationError(
            {"user": [_("Only teachers, cadres and volunteers of the county run a site.")]}
        )
    parsed = _windows(available, "available")
    facilitator, _created = Facilitator.objects.update_or_create(
        site=site, user=user, defaults={"active": True}
    )
    facilitator.windows.all().delete()
    Window.objects.bulk_create(
        Window(facilitator=facilitator, day=d, start=s, end=e) for d, s, e in parsed
    )
    return facilitator


def _uncovered(
    site: Site, sessions: Iterable[Session], others: Sequence[Facilitator]
) -> list[Session]:
    """The sessions no facilitator among `others` is available for."""
    out = []
    for s in sessions:
        local = timezone.localtime(s.starts_at)
        end = (local + dt.timedelta(minutes=s.minutes)).time()
        if not any(_fits(f.windows.all(), local.isoweekday(), local.time(), end) for f in others):
            out.append(s)
    return out


@transaction.atomic
def facilitator_remove(
    *, actor: User, facilitator: Facilitator, now: dt.datetime | None = None
) -> Replanned:
    """The facilitator no longer runs the site; coming sessions nobody else can run move."""
    now = now or clock.now()
    site = facilitator.site
    if not access.manages_site(actor, site):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    facilitator.active = False
    facilitator.save(update_fields=["active"])
    others = list(site.facilitators.filter(active=True).prefetch_related("windows"))
    coming = Session.objects.filter(site=site, status=SessionStatus.PLANNED, starts_at__gt=now)
    return _replan(
        _uncovered(site, coming, others), reason=gettext_lazy("facilitator left"), now=now
    )


def may_enrol(actor: User, child: Child) -> bool:
    return access.may_refer(actor, child)


def enrol_sites(child: Child) -> QuerySet[Site]:
    """The active sites a child can be enrolled at: those of the child's county."""
    return Site.objects.filter(
        active=True, place__code__startswith=child.residence_id[:6]
    ).order_by("name")


@transaction.atomic
def participant_set(
    *,
    actor: User,
    child: Child,
    sites: Sequence[Site],
    sessions_per_week: int = 1,
    priority: int = 3,
    active: bool = True,
) -> Participant:
    """Enrol a child (or change or end the enrolment); open the child with
    `access.get_child_for_user` first."""
    if not may_enrol(actor, child):
        raise PermissionDenied(_("You do not work with this child."))
    errors: dict[str, list[str]] = {}
    if not 0 <= sessions_per_week <= 7:
        errors["sessions_per_week"] = [_("Between 0 and 7.")]
    if priority not in (1, 2, 3):
        errors["priority"] = [_("1 (highest) to 3.")]
    reachable = set(enrol_sites(child).values_list("pk", flat=True))
    if active and (not sites or any(s.pk not in reachable for s in sites)):
        errors["sites"] = [_("Choose at least one active site of the child's county.")]
    if errors:
        raise ValidationError(errors)
    participant, _created = Participant.objects.update_or_create(
        child=child,
        defaults={
            "sessions_per_week": sessions_per_week,
            "priority": priority,
            "active": active,
        },
    )
    if active:
        participant.sites.set(sites)
    return participant


@transaction.atomic
def parent_availability_set(
    *,
    actor: User,
    member: FamilyMember,
    windows: Sequence[dict[str, Any]],
    channel: str = "wechat",
    phone: str | None = None,
    now: dt.datetime | None = None,
) -> ParentAvailability:
    """Set a parent's weekly windows and preferred channel (the child director or a
    facilitator, after a phone call). A new `phone` is stored encrypted through the registry
    (`children.services.member_update`), so only those who edit the family's registration
    change it."""
    if not access.may_edit_parent(actor, member):
        raise PermissionDenied(_("You may not change this parent's availability."))
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("Choose one of the listed values.")]})
    parsed = _windows(windows, "windows")
    if phone is not None and _normal_phone(phone) != parent_phone(member):
        if not access.can_edit_household(actor, member.household_id):
            raise PermissionDenied(_("Only those who edit the family's registration change it."))
        from shouhu.children.services import member_update

        member_update(actor=actor, member=member, changes={"phone": phone.strip()})
    availability, _created = ParentAvailability.objects.update_or_create(
        member=member,
        defaults={"channel": channel, "updated_at": now or clock.now(), "updated_by": actor},
    )
    availability.windows.all().delete()
    Window.objects.bulk_create(
        Window(parent=availability, day=d, start=s, end=e) for d, s, e in parsed
    )
    return availability


def parent_phone(member: FamilyMember) -> str:
    from shouhu.lib import protect

    return protect.unseal(member.phone_enc) if member.phone_enc else ""


def _normal_phone(phone: str) -> str:
    from shouhu.lib import protect

    return protect.normalize_phone(phone) if phone.strip() else ""


# ---------------------------------------------------------------- the plan


def _fmt(t: dt.time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _win(w: Window) -> dict[str, Any]:
    return {"day": w.day, "start": _fmt(w.start), "end": _fmt(w.end)}


def available_devices(site: Site) -> list[Device]:
    """Working devices without an open ticket, in label order."""
    return [
        d
        for d in site.devices.filter(status=DeviceStatus.WORKING).order_by("label")
        if not d.tickets.exclude(status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED]).exists()
    ]


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
                "available": [_win(w) for w in f.windows.all()],
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
            {"id": str(a.member_id), "available": [_win(w) for w in a.windows.all()]}
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
        return [_win(w) for w in site.openings.all()]
    return [
        w
        for o in site.openings.all()
        for w in _free_runs(o, week_start, slot=slot_minutes(), now=now)
    ]


def room_name() -> str:
    """An unguessable room name (128 bits)."""
    return f"shouhu-{secrets.token_urlsafe(16)}"


def room_url(session: Session) -> str:
    """The Jitsi Meet link; with `SHOUHU_JITSI_APP_ID` and `SHOUHU_JITSI_SECRET` set, a
    signed token (JWT, HS256) limited to the room and the session's day is appended."""
    base = getattr(settings, "SHOUHU_JITSI_URL", "https://meet.example.org").rstrip("/")
    url = f"{base}/{quote(session.room)}"
    app, secret = (
        getattr(settings, "SHOUHU_JITSI_APP_ID", ""),
        getattr(settings, "SHOUHU_JITSI_SECRET", ""),
    )
    if app and secret:
        token = jwt.encode(
            {
                "aud": "jitsi",
                "iss": app,
                "sub": base.split("://", 1)[-1],
                "room": session.room,
                "nbf": int((session.starts_at - dt.timedelta(minutes=30)).timestamp()),
                "exp": int((session.starts_at + dt.timedelta(hours=2)).timestamp()),
            },
            secret,
            algorithm="HS256",
        )
        url = f"{url}?jwt={token}"
    return url


def _starts(week_start: dt.date, day: int, start: str) -> dt.datetime:
    hour, minute = (int(x) for x in start.split(":"))
    return dates.start_of_day(week_start + dt.timedelta(days=day - 1)) + dt.timedelta(
        hours=hour, minutes=minute
    )


# The family's language is not recorded: parents are written to in the site's language.
PARENT_LANGUAGE = settings.LANGUAGE_CODE


def _parents_in(households: Iterable[int]) -> list[FamilyMember]:
    return list(
        FamilyMember.objects.filter(
            household_id__in=set(households), relation__in=PARENTS, away=True
        ).select_related("reunion_availability")
    )


def _parents_of(session: Session) -> list[FamilyMember]:
    return _parents_in(c.household_id for c in session.children.all())


def session_message(
    session: Session, *, changed: bool = False, was: Sequence[dt.datetime] = ()
) -> str:
    """The parents' message: who, when, where, the room link and the phone fallback; a
    changed session says the time it replaces. In the parents' language, whatever the
    language of the page that caused it."""
    with translation.override(PARENT_LANGUAGE):
        return _session_message(session, changed=changed, was=was)


def _session_message(session: Session, *, changed: bool, was: Sequence[dt.datetime]) -> str:
    names = "、".join(c.name for c in session.children.order_by("id"))
    when = when_text(session.starts_at)
    dialin = getattr(settings, "SHOUHU_JITSI_DIALIN", "")
    fallback = (
        _("If the video does not open, dial %(dialin)s and give the room name %(room)s.")
        % {"dialin": dialin, "room": session.room}
        if dialin
        else _("If the video does not open, the teacher will phone you at that time.")
    )
    head = ""
    if changed and was:
        head = _("Changed (was %(was)s): ") % {"was": "、".join(when_text(w) for w in was)}
    elif changed:
        head = _("Changed: ")
    return head + _(
        "[Shouhu] Video call with %(names)s on %(when)s at %(site)s. Join: %(url)s . %(fallback)s"
    ) % {
        "names": names,
        "when": when,
        "site": session.site.name,
        "url": room_url(session),
        "fallback": fallback,
    }


def _tell_parents(
    session: Session, *, changed: bool, now: dt.datetime, was: Sequence[dt.datetime] = ()
) -> None:
    body = session_message(session, changed=changed, was=was)
    for member in _parents_of(session):
        channel = getattr(getattr(member, "reunion_availability", None), "channel", "sms")
        send_to_parent(member, "reunion", body, channel=channel, now=now)


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
    if not may_plan(actor, organisation):
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
            starts_at=_starts(week_start, a["day"], a["start"]),
            minutes=built.instance["slot_minutes"],
            room=room_name(),
        )
        session.children.set([children[c] for c in a["children"]])
        _tell_parents(session, changed=False, now=now)
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


# ---------------------------------------------------------------- re-planning
#
# A change (a fault ticket, a device taken out of order, an absent or departed facilitator, a
# parent who cannot make it) cancels sessions, and their children are planned again by the
# solver that plans the week (`shouhu.lib.reunion_solver`), on what is left of the week:
# each usable device is a site of its own whose openings are its free slots after now; the
# days a child already has a session, and the lost slot itself, are taken out of the
# parents' windows, and an absent facilitator's day out of theirs. Every child comes out
# rebooked or with the reason why not (a `Rebooking`), and parents, facilitators and child
# directors are told the names, the old and the new times.

WEEKDAYS_ZH = "一二三四五六日"


def when_text(at: dt.datetime) -> str:
    """A time as people in China write it: 11月23日（周一）16:40."""
    local = at.astimezone(dates.SHANGHAI)
    return f"{local.month}月{local.day}日（周{WEEKDAYS_ZH[local.weekday()]}）{local:%H:%M}"


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


def _fits(windows: Iterable[Window], day: int, start: dt.time, end: dt.time) -> bool:
    return any(w.day == day and w.start <= start and end <= w.end for w in windows)


def _week_range(week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dates.start_of_day(week_start)
    return start, start + dt.timedelta(days=7)


def _free_runs(
    opening: Window,
    week_start: dt.date,
    *,
    slot: int,
    now: dt.datetime,
    busy: Sequence[tuple[dt.datetime, dt.datetime]] = (),
) -> list[dict[str, Any]]:
    """The runs of the opening's slots that start after `now` and meet no busy interval,
    as windows on the opening's own grid (the solver's slots start at a window's start)."""
    midnight = dates.start_of_day(week_start + dt.timedelta(days=opening.day - 1))
    step = dt.timedelta(minutes=slot)
    at = midnight + dt.timedelta(hours=opening.start.hour, minutes=opening.start.minute)
    end = midnight + dt.timedelta(hours=opening.end.hour, minutes=opening.end.minute)
    runs: list[tuple[dt.datetime, dt.datetime]] = []
    while at + step <= end:
        if at > now and not any(b0 < at + step and at < b1 for b0, b1 in busy):
            if runs and runs[-1][1] == at:
                runs[-1] = (runs[-1][0], at + step)
            else:
                runs.append((at, at + step))
        at += step
    return [{"day": opening.day, "start": _local_hhmm(a), "end": _local_hhmm(b)} for a, b in runs]


def _local_hhmm(at: dt.datetime) -> str:
    return _fmt(at.astimezone(dates.SHANGHAI).time())


Minutes = tuple[int, int, int]  # (day, start minute, end minute)


def _cut(windows: list[Minutes], day: int, lo: int, hi: int) -> list[Minutes]:
    """Windows (day, start minute, end minute) less [lo, hi) on `day`."""
    out = []
    for d, s, e in windows:
        if d != day or e <= lo or hi <= s:
            out.append((d, s, e))
            continue
        if s < lo:
            out.append((d, s, lo))
        if hi < e:
            out.append((d, hi, e))
    return out


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _parents_for(need: _Need, week_start: dt.date) -> tuple[bool, list[dict[str, Any]]]:
    """Whether any parent's call times are recorded, and the parents' windows left for
    this re-planning: not on a day the child already has a session, nor at a lost time the
    family could not make."""
    lo, hi = _week_range(week_start)
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
        windows = [(w.day, _minutes(w.start), _minutes(w.end)) for w in availability.windows.all()]
        recorded = recorded or bool(windows)
        windows = [w for w in windows if w[0] not in taken]
        for old in need.lost if need.not_then else ():
            local = old.starts_at.astimezone(dates.SHANGHAI)
            start = local.hour * 60 + local.minute
            windows = _cut(windows, local.isoweekday(), start, start + old.minutes)
        parents.append(
            {
                "id": str(availability.member_id),
                "available": [
                    {"day": d, "start": _fmt(dt.time(s // 60, s % 60)), "end": _end_fmt(e)}
                    for d, s, e in windows
                ],
            }
        )
    return recorded, parents


def _end_fmt(minute: int) -> str:
    return "24:00" if minute >= 24 * 60 else _fmt(dt.time(minute // 60, minute % 60))


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
        lo, hi = _week_range(week_start)
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
                for w in _free_runs(o, week_start, slot=slot, now=now, busy=busy[device.pk])
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
            _win(w)
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
            starts_at=_starts(week_start, a["day"], a["start"]),
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


def _replan(
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
    _tell_replanned(done, reason=reason, now=now)
    return done


def _why_label(rebooking: Rebooking) -> str:
    return str(UnservedReason(rebooking.unserved_reason).label) if rebooking.unserved_reason else ""


def _change_lines(rebookings: Sequence[Rebooking]) -> list[str]:
    """One line per cancelled session and outcome: the children's names, old → new time."""
    groups: dict[tuple[int, int | None, str], list[Rebooking]] = defaultdict(list)
    for r in rebookings:
        new_pk = r.new_session.pk if r.new_session else None
        groups[(r.session.pk, new_pk, r.unserved_reason)].append(r)
    lines = []
    for group in groups.values():
        first = group[0]
        names = "、".join(r.child.name for r in group)
        old, new = first.session, first.new_session
        if new is not None:
            lines.append(
                _("%(names)s: %(old)s → %(new)s, %(site)s, device %(device)s")
                % {
                    "names": names,
                    "old": when_text(old.starts_at),
                    "new": when_text(new.starts_at),
                    "site": new.site.name,
                    "device": new.device.label,
                }
            )
        else:
            lines.append(
                _("%(names)s: %(old)s → no new time this week (%(why)s)")
                % {"names": names, "old": when_text(old.starts_at), "why": _why_label(first)}
            )
    return lines


def _tell_replanned(done: Replanned, *, reason: Text, now: dt.datetime) -> None:
    """Parents, the sites' facilitators and the children's village directors learn who moved
    from when to when, and who could not be rebooked and why."""
    if not done.rebookings:
        return
    was: dict[int, set[dt.datetime]] = defaultdict(set)
    for r in done.rebookings:
        if r.new_session is not None:
            was[r.new_session.pk].add(r.session.starts_at)
    for new in done.sessions:
        _tell_parents(new, changed=True, was=sorted(was[new.pk]), now=now)
    _tell_parents_unserved(done.unserved, reason=reason, now=now)

    def subject() -> str:
        return _(
            "Reunion sessions changed: %(reason)s. %(rebooked)s children rebooked, "
            "%(unserved)s not rebooked"
        ) % {
            "reason": str(reason),
            "rebooked": len({r.child_id for r in done.rebookings if r.new_session is not None}),
            "unserved": len({r.child_id for r in done.unserved}),
        }

    first = done.rebookings[0].session
    link = f"/reunion/sites/{first.site_id}/?week={first.schedule.week_start}"
    sites = {r.session.site_id for r in done.rebookings} | {s.site_id for s in done.sessions}
    people = [
        f.user
        for f in Facilitator.objects.filter(site_id__in=sites, active=True).select_related("user")
    ]
    send(
        people,
        lambda: Message(
            "reunion_change", subject(), "\n".join(_change_lines(done.rebookings)), link
        ),
        now=now,
    )
    from shouhu.screening.risk import directors_of

    directors = directors_of({r.child.residence_id for r in done.rebookings})
    for village, director in directors.items():
        if director.pk in {p.pk for p in people}:
            continue
        theirs = [r for r in done.rebookings if r.child.residence_id == village]
        send(
            [director],
            lambda theirs=theirs: Message(  # type: ignore[misc]
                "reunion_change", subject(), "\n".join(_change_lines(theirs)), "/reunion/"
            ),
            now=now,
        )


def _tell_parents_unserved(
    unserved: Sequence[Rebooking], *, reason: Text, now: dt.datetime
) -> None:
    groups: dict[tuple[int, int], list[Rebooking]] = defaultdict(list)
    for r in unserved:
        groups[(r.session.pk, r.child.household_id)].append(r)
    for (_session, household), group in groups.items():
        with translation.override(PARENT_LANGUAGE):
            body = _unserved_message(group, reason)
        for member in _parents_in({household}):
            channel = getattr(getattr(member, "reunion_availability", None), "channel", "sms")
            send_to_parent(member, "reunion", body, channel=channel, now=now)


def _unserved_message(group: Sequence[Rebooking], reason: Text) -> str:
    return str(
        _(
            "[Shouhu] The video call of %(names)s on %(when)s is cancelled (%(reason)s) and no "
            "new time could be found this week (%(why)s); the teacher will call you to arrange "
            "another."
        )
        % {
            "names": "、".join(r.child.name for r in group),
            "when": when_text(group[0].session.starts_at),
            "reason": reason,
            "why": _why_label(group[0]),
        }
    )


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
    return _replan([session], reason=reason.strip(), now=now or clock.now(), not_then=True)


def _future_on_device(device: Device, now: dt.datetime) -> list[Session]:
    return list(
        Session.objects.filter(device=device, status=SessionStatus.PLANNED, starts_at__gt=now)
    )


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
    affected = _uncovered(site, that_day, others)
    return _replan(
        affected,
        reason=gettext_lazy("facilitator absent"),
        now=now,
        absent={(facilitator.pk, site.pk, on)},
    )


# ---------------------------------------------------------------- attendance and contact


@transaction.atomic
def attendance_record(
    *,
    actor: User,
    session: Session,
    rows: Sequence[dict[str, Any]],
    now: dt.datetime | None = None,
) -> Session:
    """The facilitator marks each child: came, parent joined, minutes, problems, why not,
    and the child's five-face feeling. A parent who joined is a contact in the log."""
    now = now or clock.now()
    if not (access.facilitates(actor, session.site) or access.manages_site(actor, session.site)):
        raise PermissionDenied(_("Only the site's facilitators mark attendance."))
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError(_("This session was cancelled; there is no attendance to mark."))
    if session.starts_at > now:
        raise ValidationError(
            _("This session starts at %(when)s: mark attendance once it has begun.")
            % {"when": when_text(session.starts_at)}
        )
    kids = {c.pk: c for c in session.children.all()}
    errors: dict[str, list[str]] = {}
    for index, row in enumerate(rows):
        if row.get("child") not in kids:
            errors[f"rows.{index}.child"] = [_("This child is not in the session.")]
        if not 0 <= int(row.get("minutes") or 0) <= 240:
            errors[f"rows.{index}.minutes"] = [_("Between 0 and 240.")]
        feeling = row.get("feeling")
        if feeling not in (None, "", 1, 2, 3, 4, 5):
            errors[f"rows.{index}.feeling"] = [_("1 to 5.")]
        if not row.get("present") and not str(row.get("no_show_reason", "")).strip():
            errors[f"rows.{index}.no_show_reason"] = [_("Say why the child did not come.")]
    if errors:
        raise ValidationError(errors)
    held = False
    for row in rows:
        child = kids[row["child"]]
        present, joined = bool(row.get("present")), bool(row.get("parent_joined"))
        Attendance.objects.update_or_create(
            session=session,
            child=child,
            defaults={
                "present": present,
                "parent_joined": joined,
                "minutes": int(row.get("minutes") or 0),
                "quality_problems": str(row.get("quality_problems", ""))[:200],
                "no_show_reason": str(row.get("no_show_reason", ""))[:200],
                "feeling": row.get("feeling") or None,
                "recorded_by": actor,
                "recorded_at": now,
            },
        )
        if present and joined:
            held = True
            Contact.objects.update_or_create(
                child=child,
                session=session,
                defaults={
                    "mode": ContactMode.REUNION,
                    "on": timezone.localtime(session.starts_at).date(),
                    "minutes": int(row.get("minutes") or 0),
                    "recorded_by": actor,
                },
            )
    session.status = SessionStatus.HELD if held else SessionStatus.MISSED
    session.save(update_fields=["status"])
    return session


@transaction.atomic
def contact_add(
    *,
    actor: User,
    child: Child,
    mode: str,
    on: dt.date,
    member: FamilyMember | None = None,
    minutes: int | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> Contact:
    """A contact of the child with a parent; a date still to come is refused."""
    if not access.may_log_contact(actor, child):
        raise PermissionDenied(_("You do not work with this child."))
    errors: dict[str, list[str]] = {}
    if mode not in ContactMode.values:
        errors["mode"] = [_("Choose one of the listed values.")]
    if on > (today or clock.today()):
        errors["on"] = [_("The date is in the future.")]
    if member is not None and member.household_id != child.household_id:
        errors["member"] = [_("Choose a member of the child's family.")]
    if minutes is not None and not 0 <= minutes <= 24 * 60:
        errors["minutes"] = [_("Between 0 and 1,440.")]
    if errors:
        raise ValidationError(errors)
    contact = Contact.objects.create(
        child=child,
        member=member,
        mode=mode,
        on=on,
        minutes=minutes,
        note=note.strip()[:300],
        recorded_by=actor,
    )
    if mode in IN_PERSON:
        from shouhu.screening import risk

        risk.recompute(child)
    return contact


def contact_indicators(child: Child, today: dt.date | None = None) -> dict[str, Any]:
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


def no_contact_alerts(*, days: int | None = None, now: dt.datetime | None = None) -> int:
    """Daily job: tell each child director about the participating children of their village
    with no contact with a parent for `days` (default `SHOUHU_NO_CONTACT_DAYS`, 7)."""
    from shouhu.screening.risk import directors_of

    now = now or clock.now()
    days = days or int(getattr(settings, "SHOUHU_NO_CONTACT_DAYS", 7))
    since = timezone.localtime(now).date() - dt.timedelta(days=days)
    recent = Contact.objects.filter(on__gt=since).values("child_id")
    quiet = list(
        Child.objects.filter(reunion__active=True)
        .exclude(pk__in=recent)
        .only("pk", "name", "residence_id")
    )
    by_village: dict[str, list[Child]] = defaultdict(list)
    for child in quiet:
        by_village[child.residence_id].append(child)
    directors = directors_of(by_village)
    for village, kids in by_village.items():
        director = directors.get(village)
        if director is None:
            continue
        send(
            [director],
            lambda kids=kids: Message(  # type: ignore[misc]
                "no_contact",
                _("%(n)s children have had no contact with a parent for %(days)s days")
                % {"n": len(kids), "days": days},
                "、".join(c.name for c in kids[:20]),
                "/reunion/",
            ),
            now=now,
        )
    return len(quiet)


# ---------------------------------------------------------------- tickets


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
        replanned = _replan(
            _future_on_device(device, now),
            reason=_lazy_text(
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


# ---------------------------------------------------------------- reports


def site_week_report(site: Site, week_start: dt.date) -> dict[str, Any]:
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


def remind_sessions(
    *, before: dt.timedelta = dt.timedelta(hours=2), now: dt.datetime | None = None
) -> int:
    """The periodic job: remind parents of a session starting within `before` (once)."""
    now = now or clock.now()
    due = Session.objects.filter(
        status=SessionStatus.PLANNED,
        reminded_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + before,
    ).select_related("site")
    count = 0
    for session in due:
        _tell_parents(session, changed=False, now=now)
        session.reminded_at = now
        session.save(update_fields=["reminded_at"])
        count += 1
    return count
