"""Online reunions over the API: sites, parents' availability, the schedule, attendance and
the contact log (the same services and access rules as the pages; technology envoys get
sites and devices, never a child)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from shouhu.accounts import access
from shouhu.api.auth import current_user
from shouhu.api.schemas import MAX_ID, Error
from shouhu.children.models import FamilyMember
from shouhu.lib import dates
from shouhu.reunion import services
from shouhu.reunion.models import Contact, Session, SessionStatus, Site

router = Router(tags=["reunion"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class WindowIn(Strict):
    day: int = Field(ge=1, le=7)
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")


class AvailabilityIn(Strict):
    channel: Literal["sms", "wechat", "phone"] = "wechat"
    windows: list[WindowIn] = Field(max_length=50)


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


class WeekQuery(Schema):
    week: dt.date | None = None


def _window(w: Any) -> dict[str, Any]:
    return {"day": w.day, "start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}"}


def _site(request: HttpRequest, site_id: int) -> Site:
    site = access.sites_visible_to(current_user(request)).filter(pk=site_id).first()
    if site is None or not 0 < site_id <= MAX_ID:
        raise Http404
    return site


@router.get("/reunion/sites", response={200: dict[str, Any], **ERRORS}, summary="Reunion sites")
def site_list(request: HttpRequest) -> dict[str, Any]:
    user = current_user(request)
    sites = access.sites_visible_to(user).prefetch_related("devices", "openings").order_by("name")
    return {
        "items": [
            {
                "id": s.pk,
                "name": s.name,
                "place": s.place_id,
                "organisation": s.organisation_id,
                "devices": [
                    {"id": d.pk, "label": d.label, "status": d.status} for d in s.devices.all()
                ],
                "open": [_window(w) for w in s.openings.all()],
            }
            for s in sites
        ]
    }


@router.get(
    "/reunion/sites/{site_id}/schedule",
    response={200: dict[str, Any], **ERRORS},
    summary="A site's week",
)
def site_schedule(request: HttpRequest, site_id: int, query: Query[WeekQuery]) -> dict[str, Any]:
    """The week's sessions; the children in them only for the site's own people."""
    user = current_user(request)
    site = _site(request, site_id)
    day = query.week or dates.today()
    week = day - dt.timedelta(days=day.isoweekday() - 1)
    start = dates.start_of_day(week)
    shows = access.manages_site(user, site) or access.facilitates(user, site)
    sessions = (
        Session.objects.filter(
            site=site, starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=7)
        )
        .exclude(status=SessionStatus.CANCELLED)
        .prefetch_related("children")
    )
    items = []
    for s in sessions:
        row: dict[str, Any] = {
            "id": s.pk,
            "starts_at": s.starts_at,
            "minutes": s.minutes,
            "device": s.device_id,
            "status": s.status,
        }
        if shows:
            row["children"] = [c.pk for c in s.children.all()]
            row["room_url"] = services.room_url(s)
        items.append(row)
    return {"week": week, "items": items}


@router.put(
    "/reunion/parents/{member_id}/availability",
    response={200: dict[str, Any], **ERRORS},
    summary="A parent's weekly windows",
)
def parent_availability(
    request: HttpRequest, member_id: int, payload: AvailabilityIn
) -> dict[str, Any]:
    user = current_user(request)
    member = FamilyMember.objects.filter(pk=member_id).first() if member_id <= MAX_ID else None
    if member is None or not access.may_edit_parent(user, member):
        raise Http404
    availability = services.parent_availability_set(
        actor=user,
        member=member,
        windows=[w.model_dump() for w in payload.windows],
        channel=payload.channel,
    )
    return {
        "member": member.pk,
        "channel": availability.channel,
        "windows": [_window(w) for w in availability.windows.all()],
    }


@router.post(
    "/reunion/sessions/{session_id}/attendance",
    response={200: dict[str, Any], **ERRORS},
    summary="Mark attendance",
)
def attendance(request: HttpRequest, session_id: int, payload: AttendanceIn) -> dict[str, Any]:
    user = current_user(request)
    session = (
        Session.objects.filter(pk=session_id).select_related("site").first()
        if session_id <= MAX_ID
        else None
    )
    if session is None or not (
        access.facilitates(user, session.site) or access.manages_site(user, session.site)
    ):
        raise Http404
    session = services.attendance_record(
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
    response={200: dict[str, Any], **ERRORS},
    summary="A child's contact log",
)
def contact_list(request: HttpRequest, child_id: int) -> dict[str, Any]:
    user = current_user(request)
    if not 0 < child_id <= MAX_ID:
        raise Http404
    child = access.get_child_for_user(user, child_id, purpose="api_contacts")
    if not access.may_refer(user, child):
        raise Http404
    rows = Contact.objects.filter(child=child)[:500]
    return {"items": [_contact(c) for c in rows], "indicators": services.contact_indicators(child)}


@router.post(
    "/children/{child_id}/contacts",
    response={201: dict[str, Any], **ERRORS},
    summary="Add a contact",
)
def contact_create(
    request: HttpRequest, child_id: int, payload: ContactIn
) -> Status[dict[str, Any]]:
    user = current_user(request)
    if not 0 < child_id <= MAX_ID:
        raise Http404
    child = access.get_child_for_user(user, child_id, purpose="api_contacts")
    member = FamilyMember.objects.filter(pk=payload.member).first() if payload.member else None
    contact = services.contact_add(
        actor=user,
        child=child,
        mode=payload.mode,
        on=payload.on,
        member=member,
        minutes=payload.minutes,
        note=payload.note,
    )
    return Status(201, _contact(contact))
