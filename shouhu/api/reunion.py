"""Online reunions over the API: sites (with devices and facilitators), enrolling children,
parents' availability, planning, the schedule, attendance, absences and the contact log
(the same services and access rules as the pages; technology envoys get sites and devices,
never a child)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.api.auth import current_user
from shouhu.api.schemas import MAX_ID, Clean, Error, Strict
from shouhu.audit.services import log_children_read
from shouhu.children.models import FamilyMember
from shouhu.lib import clock
from shouhu.places.models import Place
from shouhu.reunion import attendance as attendance_services
from shouhu.reunion import notices, planning, replanning, selectors
from shouhu.reunion import sites as site_services
from shouhu.reunion import tickets as ticket_services
from shouhu.reunion.models import (
    Contact,
    Facilitator,
    ParentAvailability,
    Site,
    Ticket,
)
from shouhu.reunion.windows import window_json

router = Router(tags=["reunion"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}


class WindowIn(Strict):
    day: int = Field(ge=1, le=7)
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")


class AvailabilityIn(Strict):
    channel: Literal["sms", "wechat", "phone"] = "wechat"
    windows: list[WindowIn] = Field(max_length=50)
    phone: str | None = Field(None, max_length=30)


SiteKindIn = Literal["school", "children_home", "community", "other"]
DeviceStatusIn = Literal["working", "broken", "retired"]


class SiteIn(Strict):
    organisation: int = Field(ge=1, le=MAX_ID)
    name: str = Field(min_length=1, max_length=200)
    place: str = Field(pattern=r"^\d{12}$")
    kind: SiteKindIn = "school"
    address: str = Field("", max_length=300)
    devices: int = Field(0, ge=0, le=50)
    open: list[WindowIn] = Field(max_length=50)


class SitePatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    place: str | None = Field(None, pattern=r"^\d{12}$")
    kind: SiteKindIn | None = None
    address: str | None = Field(None, max_length=300)
    active: bool | None = None
    open: list[WindowIn] | None = Field(None, max_length=50)


class DeviceIn(Strict):
    label: str = Field(min_length=1, max_length=50)
    kind: str = Field("tablet", min_length=1, max_length=50)
    status: DeviceStatusIn = "working"


class DevicePatch(Strict):
    label: str | None = Field(None, min_length=1, max_length=50)
    kind: str | None = Field(None, min_length=1, max_length=50)
    status: DeviceStatusIn | None = None


class FacilitatorIn(Strict):
    available: list[WindowIn] = Field(max_length=50)


class AbsenceIn(Strict):
    on: dt.date


class CancelIn(Strict):
    reason: str = Field(min_length=1, max_length=200)


class ParticipantIn(Strict):
    sites: list[int] = Field(max_length=20)
    sessions_per_week: int = Field(1, ge=0, le=7)
    priority: int = Field(3, ge=1, le=3)
    active: bool = True


class PlanIn(Strict):
    organisation: int = Field(ge=1, le=MAX_ID)
    week: dt.date


class AttendanceRow(Strict):
    child: int = Field(ge=1, le=MAX_ID)
    present: bool
    parent_joined: bool = False
    minutes: int = Field(0, ge=0, le=240)
    quality_problems: str = Field("", max_length=200)
    no_show_reason: str = Field("", max_length=200)
    feeling: int | None = Field(None, ge=1, le=5)


class AttendanceIn(Strict):
    rows: list[AttendanceRow] = Field(max_length=20)


class ContactIn(Strict):
    mode: Literal["reunion", "call", "parent_visit", "child_visit"]
    on: dt.date
    member: int | None = Field(None, ge=1, le=MAX_ID)
    minutes: int | None = Field(None, ge=0, le=1440)
    note: str = Field("", max_length=300)


class WeekQuery(Clean):
    week: dt.date | None = None


# ---------------------------------------------------------------- what the endpoints answer
# Keys marked "absent otherwise" are left out of the answer (not null) for other readers.


class WindowOut(Schema):
    day: int = Field(description="1 (Monday) to 7 (Sunday)")
    start: str = Field(description="HH:MM")
    end: str = Field(description="HH:MM")


class DeviceOut(Schema):
    id: int
    label: str
    kind: str
    status: str


class FacilitatorOut(Schema):
    user: int
    available: list[WindowOut]


class SiteOut(Schema):
    id: int
    name: str
    kind: str
    place: str
    address: str
    active: bool
    organisation: int
    devices: list[DeviceOut]
    open: list[WindowOut]
    facilitators: list[FacilitatorOut] = Field(
        default_factory=list,
        description="The active facilitators: for those who manage the site (absent otherwise)",
    )


class SiteList(Schema):
    items: list[SiteOut]


class UnservedOut(Schema):
    """A child of a cancelled session the re-planning could not rebook, and why."""

    child: int
    session: int
    reason: str


class FacilitatorRemovedOut(Schema):
    moved: list[int] = Field(description="The new sessions")
    unserved: list[UnservedOut]


class MovedOut(Schema):
    id: int
    starts_at: dt.datetime


class AbsenceOut(Schema):
    moved: list[MovedOut] = Field(description="The new sessions")
    unserved: list[UnservedOut]


class PlanStats(Schema):
    """The solver's figures (`shouhu.lib.reunion_solver`)."""

    sessions: int
    child_sessions: int
    children: int
    children_wanting: int
    children_served: int
    served_by_priority: dict[str, int] = Field(description="Children served by priority 1-3")
    upper_bound: int | None = Field(description="Proven bound on the children served")
    reachable: int
    units: int
    status: str
    method: str
    seconds: float


class PlanOut(Schema):
    id: int
    week: dt.date
    stats: PlanStats
    unserved: list[str] = Field(description="The children who want a session and got none")


class ParticipantOut(Schema):
    child: int
    sites: list[int]
    sessions_per_week: int
    effective_sessions: int = Field(
        description="At least two when orange or red, or when a case plan works on the family bonds"
    )
    priority: int
    active: bool


class SessionOut(Schema):
    id: int
    starts_at: dt.datetime
    minutes: int
    device: int
    status: str
    children: list[int] = Field(
        default_factory=list, description="For the site's own people (absent otherwise)"
    )
    room_url: str = Field("", description="For the site's own people (absent otherwise)")


class WeekUnservedOut(Schema):
    child: int
    session: int
    starts_at: dt.datetime
    reason: str


class WeekOut(Schema):
    week: dt.date
    items: list[SessionOut]
    unserved: list[WeekUnservedOut] = Field(
        default_factory=list,
        description=(
            "The children of the week's cancelled sessions not rebooked, and why: for the "
            "site's own people (absent otherwise)"
        ),
    )


class AvailabilityOut(Schema):
    member: int
    channel: str | None = Field(description="Null: never set")
    windows: list[WindowOut]
    updated_at: dt.datetime | None
    phone: str = Field(
        "", description="For those who edit the family's registration (absent otherwise)"
    )


class AttendanceOut(Schema):
    id: int
    status: str


class ContactOut(Schema):
    id: int
    mode: str
    on: dt.date
    member: int | None
    minutes: int | None
    note: str
    session: int | None


class ContactIndicatorsOut(Schema):
    last_contact: dt.date | None
    days_since_contact: int | None
    last_seen: dt.date | None = Field(description="The last time a parent was seen in person")
    parent_last_seen: int | None = Field(
        description="0: within 6 months, 1: 6-12 months, 2: over 12; null: never logged"
    )


class ContactList(Schema):
    items: list[ContactOut]
    indicators: ContactIndicatorsOut


def _site(request: HttpRequest, site_id: int) -> Site:
    site = access.sites_visible_to(current_user(request)).filter(pk=site_id).first()
    if site is None or not 0 < site_id <= MAX_ID:
        raise Http404
    return site


def _present_site(s: Site, user: User) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": s.pk,
        "name": s.name,
        "kind": s.kind,
        "place": s.place_id,
        "address": s.address,
        "active": s.active,
        "organisation": s.organisation_id,
        "devices": [
            {"id": d.pk, "label": d.label, "kind": d.kind, "status": d.status}
            for d in s.devices.all()
        ],
        "open": [window_json(w) for w in s.openings.all()],
    }
    if access.manages_site(user, s):
        row["facilitators"] = [
            {"user": f.user_id, "available": [window_json(w) for w in f.windows.all()]}
            for f in s.facilitators.filter(active=True).prefetch_related("windows")
        ]
    return row


@router.get(
    "/reunion/sites",
    response={200: SiteList, **ERRORS},
    exclude_unset=True,
    summary="Reunion sites",
)
def site_list(request: HttpRequest) -> dict[str, Any]:
    user = current_user(request)
    sites = access.sites_visible_to(user).prefetch_related("devices", "openings").order_by("name")
    return {"items": [_present_site(s, user) for s in sites]}


def _place(code: str | None) -> Place | None:
    return Place.objects.filter(pk=code).first() if code else None


@router.post(
    "/reunion/sites",
    response={201: SiteOut, **ERRORS},
    exclude_unset=True,
    summary="Create a site",
)
def site_create(request: HttpRequest, payload: SiteIn) -> Status[dict[str, Any]]:
    """A new site of an organisation whose sites the user manages."""
    user = current_user(request)
    org = Organisation.objects.filter(pk=payload.organisation).first()
    if org is None:
        raise Http404
    site = site_services.site_create(
        actor=user,
        organisation=org,
        name=payload.name,
        place=_place(payload.place),
        kind=payload.kind,
        address=payload.address,
        devices=payload.devices,
        openings=[w.model_dump() for w in payload.open],
    )
    return Status(201, _present_site(site, user))


@router.patch(
    "/reunion/sites/{site_id}",
    response={200: SiteOut, **ERRORS},
    exclude_unset=True,
    summary="Change a site",
)
def site_patch(request: HttpRequest, site_id: int, payload: SitePatch) -> dict[str, Any]:
    """Change the fields given; `open` replaces the weekly opening hours."""
    user = current_user(request)
    site = _site(request, site_id)
    place = _place(payload.place)
    if payload.place is not None and place is None:
        raise ValidationError({"place": ["No such place."]})
    site = site_services.site_update(
        actor=user,
        site=site,
        name=payload.name,
        place=place,
        kind=payload.kind,
        address=payload.address,
        active=payload.active,
        openings=None if payload.open is None else [w.model_dump() for w in payload.open],
    )
    return _present_site(site, user)


@router.post(
    "/reunion/sites/{site_id}/devices",
    response={201: DeviceOut, **ERRORS},
    summary="Add a device",
)
def device_create(request: HttpRequest, site_id: int, payload: DeviceIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    site = _site(request, site_id)
    device = site_services.device_add(
        actor=user, site=site, label=payload.label, kind=payload.kind, status=payload.status
    )
    return Status(
        201, {"id": device.pk, "label": device.label, "kind": device.kind, "status": device.status}
    )


@router.patch(
    "/reunion/sites/{site_id}/devices/{device_id}",
    response={200: DeviceOut, **ERRORS},
    summary="Change a device",
)
def device_patch(
    request: HttpRequest, site_id: int, device_id: int, payload: DevicePatch
) -> dict[str, Any]:
    """Taking a device out of order moves its coming sessions."""
    user = current_user(request)
    site = _site(request, site_id)
    device = site.devices.filter(pk=device_id).first() if 0 < device_id <= MAX_ID else None
    if device is None:
        raise Http404
    device = site_services.device_update(
        actor=user, device=device, label=payload.label, kind=payload.kind, status=payload.status
    )
    return {"id": device.pk, "label": device.label, "kind": device.kind, "status": device.status}


def _user(user_id: int) -> User:
    found = User.objects.filter(pk=user_id).first() if 0 < user_id <= MAX_ID else None
    if found is None:
        raise Http404
    return found


@router.put(
    "/reunion/sites/{site_id}/facilitators/{user_id}",
    response={200: FacilitatorOut, **ERRORS},
    summary="Add a facilitator or change their availability",
)
def facilitator_put(
    request: HttpRequest, site_id: int, user_id: int, payload: FacilitatorIn
) -> dict[str, Any]:
    user = current_user(request)
    site = _site(request, site_id)
    facilitator = site_services.facilitator_set(
        actor=user,
        site=site,
        user=_user(user_id),
        available=[w.model_dump() for w in payload.available],
    )
    return {
        "user": facilitator.user_id,
        "available": [window_json(w) for w in facilitator.windows.all()],
    }


def _facilitator(site: Site, user_id: int) -> Facilitator:
    found = (
        site.facilitators.filter(user_id=user_id, active=True).select_related("site").first()
        if 0 < user_id <= MAX_ID
        else None
    )
    if found is None:
        raise Http404
    return found


@router.delete(
    "/reunion/sites/{site_id}/facilitators/{user_id}",
    response={200: FacilitatorRemovedOut, **ERRORS},
    summary="Remove a facilitator",
)
def facilitator_delete(request: HttpRequest, site_id: int, user_id: int) -> dict[str, Any]:
    """The coming sessions nobody else can run move (the parents are told)."""
    user = current_user(request)
    site = _site(request, site_id)
    done = site_services.facilitator_remove(actor=user, facilitator=_facilitator(site, user_id))
    return {"moved": [s.pk for s in done.sessions], "unserved": _unserved(user, done)}


@router.post(
    "/reunion/sites/{site_id}/facilitators/{user_id}/absence",
    response={200: AbsenceOut, **ERRORS},
    summary="A facilitator is absent for a day",
)
def facilitator_absence(
    request: HttpRequest, site_id: int, user_id: int, payload: AbsenceIn
) -> dict[str, Any]:
    """The facilitator reports being ill, or a manager marks them absent: the sessions of that
    day nobody else can run are re-planned and the parents told."""
    user = current_user(request)
    site = _site(request, site_id)
    facilitator = _facilitator(site, user_id)
    done = replanning.facilitator_absent(actor=user, facilitator=facilitator, on=payload.on)
    return {
        "moved": [{"id": s.pk, "starts_at": s.starts_at} for s in done.sessions],
        "unserved": _unserved(user, done),
    }


@router.post(
    "/reunion/sessions/{session_id}/cancel",
    response={200: AbsenceOut, **ERRORS},
    summary="Cancel a session",
)
def session_cancel(request: HttpRequest, session_id: int, payload: CancelIn) -> dict[str, Any]:
    """A parent cannot make it: the session is cancelled and the family planned again in
    what is left of the week (the parents told), as on the site's week page."""
    user = current_user(request)
    session = access.get_session_for_user(user, session_id, purpose="api_reunion_cancel")
    done = replanning.cancel_session(actor=user, session=session, reason=payload.reason)
    return {
        "moved": [{"id": s.pk, "starts_at": s.starts_at} for s in done.sessions],
        "unserved": _unserved(user, done),
    }


def _unserved(user: User, done: replanning.Replanned) -> list[dict[str, Any]]:
    """The children the re-planning could not rebook, each with the reason (the caller
    runs the site, so sees its children; logged)."""
    if done.unserved:
        shown = [r.child_id for r in done.unserved]
        log_children_read(user=user, child_ids=shown, purpose="api_reunion_replanned")
    return [
        {
            "child": r.child_id,
            "session": r.session_id,
            "reason": r.get_unserved_reason_display(),
        }
        for r in done.unserved
    ]


@router.post("/reunion/plan", response={200: PlanOut, **ERRORS}, summary="Plan a week")
def plan(request: HttpRequest, payload: PlanIn) -> dict[str, Any]:
    """Plan the week of `week` (any day of it) for the organisation's sites; an instance the
    solver refuses is a 400 with the reason."""
    user = current_user(request)
    org = Organisation.objects.filter(pk=payload.organisation).first()
    if org is None:
        raise Http404
    week = payload.week - dt.timedelta(days=payload.week.isoweekday() - 1)
    schedule = planning.plan_week(actor=user, organisation=org, week_start=week)
    return {
        "id": schedule.pk,
        "week": schedule.week_start,
        "stats": schedule.stats,
        "unserved": schedule.unserved,
    }


@router.post(
    "/children/{child_id}/reunion",
    response={200: ParticipantOut, **ERRORS},
    summary="Enrol a child in online reunions",
)
def participant(request: HttpRequest, child_id: int, payload: ParticipantIn) -> dict[str, Any]:
    """The child is opened through the access rules (404 outside the user's scope); the
    sites must be active sites of the child's county."""
    user = current_user(request)
    if not 0 < child_id <= MAX_ID:
        raise Http404
    child = access.get_child_for_user(user, child_id, purpose="api_reunion_enrolment")
    wanted = {i for i in payload.sites if 0 < i <= MAX_ID}
    sites = list(Site.objects.filter(pk__in=wanted))
    if len(sites) != len(set(payload.sites)):
        raise ValidationError({"sites": ["No such site."]})
    result = site_services.participant_set(
        actor=user,
        child=child,
        sites=sites,
        sessions_per_week=payload.sessions_per_week,
        priority=payload.priority,
        active=payload.active,
    )
    return {
        "child": child.pk,
        "sites": sorted(s.pk for s in result.sites.all()),
        "sessions_per_week": result.sessions_per_week,
        "effective_sessions": selectors.effective_sessions(result),
        "priority": result.priority,
        "active": result.active,
    }


@router.get(
    "/reunion/sites/{site_id}/schedule",
    response={200: WeekOut, **ERRORS},
    exclude_unset=True,
    summary="A site's week",
)
def site_schedule(request: HttpRequest, site_id: int, query: Query[WeekQuery]) -> dict[str, Any]:
    """The week's sessions; the children in them only for the site's own people."""
    user = current_user(request)
    site = _site(request, site_id)
    day = query.week or clock.today()
    week = selectors.site_week(
        user, site, day - dt.timedelta(days=day.isoweekday() - 1), purpose="api_reunion_schedule"
    )
    shows = week.shows_children
    items = []
    for s in week.sessions:
        row: dict[str, Any] = {
            "id": s.pk,
            "starts_at": s.starts_at,
            "minutes": s.minutes,
            "device": s.device_id,
            "status": s.status,
        }
        if shows:
            row["children"] = [c.pk for c in s.children.all()]
            row["room_url"] = notices.room_url(s)
        items.append(row)
    out: dict[str, Any] = {"week": week.start, "items": items}
    if shows:
        out["unserved"] = [
            {
                "child": r.child_id,
                "session": r.session_id,
                "starts_at": r.session.starts_at,
                "reason": r.get_unserved_reason_display(),
            }
            for r in week.unserved
        ]
    return out


def _parent(request: HttpRequest, member_id: int) -> tuple[User, FamilyMember]:
    user = current_user(request)
    return user, access.get_parent_for_user(user, member_id, purpose="api_parent_windows")


def _availability(user: User, member: FamilyMember) -> dict[str, Any]:
    availability = (
        ParentAvailability.objects.filter(member=member).prefetch_related("windows").first()
    )
    out: dict[str, Any] = {
        "member": member.pk,
        "channel": availability.channel if availability else None,
        "windows": [window_json(w) for w in availability.windows.all()] if availability else [],
        "updated_at": availability.updated_at if availability else None,
    }
    if access.can_edit_household(user, member.household_id):
        out["phone"] = selectors.parent_phone_shown(user, member, purpose="api_parent_windows")
    return out


@router.get(
    "/reunion/parents/{member_id}/availability",
    response={200: AvailabilityOut, **ERRORS},
    exclude_unset=True,
    summary="A parent's weekly windows",
)
def parent_availability_get(request: HttpRequest, member_id: int) -> dict[str, Any]:
    """The windows and preferred channel (`channel` null: never set); the phone only for
    those who edit the family's registration."""
    user, member = _parent(request, member_id)
    return _availability(user, member)


@router.put(
    "/reunion/parents/{member_id}/availability",
    response={200: AvailabilityOut, **ERRORS},
    exclude_unset=True,
    summary="Set a parent's weekly windows",
)
def parent_availability(
    request: HttpRequest, member_id: int, payload: AvailabilityIn
) -> dict[str, Any]:
    """`phone` (optional) is changed only by those who edit the family's registration."""
    user, member = _parent(request, member_id)
    site_services.parent_availability_set(
        actor=user,
        member=member,
        windows=[w.model_dump() for w in payload.windows],
        channel=payload.channel,
        phone=payload.phone,
    )
    return _availability(user, member)


@router.post(
    "/reunion/sessions/{session_id}/attendance",
    response={200: AttendanceOut, **ERRORS},
    summary="Mark attendance",
)
def attendance(request: HttpRequest, session_id: int, payload: AttendanceIn) -> dict[str, Any]:
    user = current_user(request)
    session = access.get_session_for_user(user, session_id, purpose="api_reunion_attendance")
    session = attendance_services.attendance_record(
        actor=user, session=session, rows=[r.model_dump() for r in payload.rows]
    )
    return {"id": session.pk, "status": session.status}


def _contact(c: Contact) -> dict[str, Any]:
    return {
        "id": c.pk,
        "mode": c.mode,
        "on": c.on,
        "member": c.member_id,
        "minutes": c.minutes,
        "note": c.note,
        "session": c.session_id,
    }


@router.get(
    "/children/{child_id}/contacts",
    response={200: ContactList, **ERRORS},
    summary="A child's contact log",
)
def contact_list(request: HttpRequest, child_id: int) -> dict[str, Any]:
    user = current_user(request)
    if not 0 < child_id <= MAX_ID:
        raise Http404
    try:
        child = access.get_child_for_contact(user, child_id, purpose="api_contacts")
    except PermissionDenied:
        raise Http404 from None
    rows = Contact.objects.filter(child=child)[:500]
    return {"items": [_contact(c) for c in rows], "indicators": selectors.contact_indicators(child)}


@router.post(
    "/children/{child_id}/contacts",
    response={201: ContactOut, **ERRORS},
    summary="Add a contact",
)
def contact_create(
    request: HttpRequest, child_id: int, payload: ContactIn
) -> Status[dict[str, Any]]:
    user = current_user(request)
    if not 0 < child_id <= MAX_ID:
        raise Http404
    child = access.get_child_for_contact(user, child_id, purpose="api_contacts")
    member = FamilyMember.objects.filter(pk=payload.member).first() if payload.member else None
    contact = attendance_services.contact_add(
        actor=user,
        child=child,
        mode=payload.mode,
        on=payload.on,
        member=member,
        minutes=payload.minutes,
        note=payload.note,
    )
    return Status(201, _contact(contact))


# ---------------------------------------------------------------- technical-support tickets


class TicketIn(Strict):
    """The page's `TicketReportForm`: a fault at a site, on one of its devices or not."""

    site: int = Field(ge=1, le=MAX_ID)
    device: int | None = Field(None, ge=1, le=MAX_ID)
    problem: str = Field(min_length=1, max_length=2000)


class TicketResolveIn(Strict):
    resolution: str = Field(min_length=1, max_length=2000)


class TicketOut(Schema):
    """A ticket names a site, a device and a problem: never a child."""

    id: int
    site: int
    site_name: str
    device: int | None
    device_label: str | None
    problem: str
    status: str
    status_label: str
    reported_at: dt.datetime
    taken_by: str | None
    resolution: str


def _ticket_out(t: Ticket) -> dict[str, Any]:
    return {
        "id": t.pk,
        "site": t.site_id,
        "site_name": t.site.name,
        "device": t.device_id,
        "device_label": t.device.label if t.device else None,
        "problem": t.problem,
        "status": t.status,
        "status_label": str(t.get_status_display()),
        "reported_at": t.reported_at,
        "taken_by": str(t.taken_by) if t.taken_by else None,
        "resolution": t.resolution,
    }


def _ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    found = (
        access.tickets_visible_to(current_user(request)).filter(pk=ticket_id).first()
        if 0 < ticket_id <= MAX_ID
        else None
    )
    if found is None:
        raise Http404
    return found


@router.get("/reunion/tickets", response={200: list[TicketOut], **ERRORS}, summary="Tickets")
def ticket_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The tickets of your sites (technology envoys: of their area), open ones first."""
    user = current_user(request)
    rows = access.tickets_visible_to(user).select_related("site", "device", "taken_by")[:300]
    return [_ticket_out(t) for t in rows]


@router.post("/reunion/tickets", response={201: TicketOut, **ERRORS}, summary="Report a fault")
def ticket_create(request: HttpRequest, payload: TicketIn) -> Status[dict[str, Any]]:
    """A fault on a device re-plans its coming sessions (the page says who was rebooked)."""
    user = current_user(request)
    if access.is_tech_envoy(user):
        raise PermissionDenied
    site = access.sites_visible_to(user).filter(pk=payload.site).first()
    if site is None:
        raise ValidationError({"site": [_("Choose one of your sites.")]})
    device = None
    if payload.device is not None:
        device = site.devices.filter(pk=payload.device).first()
        if device is None:
            raise ValidationError({"device": [_("This device is not at this site.")]})
    reported = ticket_services.ticket_report(
        actor=user, site=site, device=device, problem=payload.problem
    )
    return Status(201, _ticket_out(reported.ticket))


@router.post("/reunion/tickets/{ticket_id}/take", response={200: TicketOut, **ERRORS})
def ticket_take(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    user = current_user(request)
    return _ticket_out(ticket_services.ticket_take(actor=user, ticket=_ticket(request, ticket_id)))


@router.post("/reunion/tickets/{ticket_id}/resolve", response={200: TicketOut, **ERRORS})
def ticket_resolve(
    request: HttpRequest, ticket_id: int, payload: TicketResolveIn
) -> dict[str, Any]:
    user = current_user(request)
    ticket = ticket_services.ticket_resolve(
        actor=user, ticket=_ticket(request, ticket_id), resolution=payload.resolution
    )
    return _ticket_out(ticket)


@router.post("/reunion/tickets/{ticket_id}/close", response={200: TicketOut, **ERRORS})
def ticket_close(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    user = current_user(request)
    return _ticket_out(ticket_services.ticket_close(actor=user, ticket=_ticket(request, ticket_id)))
