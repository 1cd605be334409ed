"""Reunion pages: sites and their printable week, planning, a session's attendance on a phone,
a child's contact log, parents' windows, and the ticket queue (which never shows a child)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu.accounts import access
from shouhu.accounts.models import Organisation, User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access
from shouhu.lib import dates
from shouhu.reunion import services
from shouhu.reunion.models import (
    Contact,
    ContactMode,
    Feeling,
    Session,
    SessionStatus,
    Site,
    TicketStatus,
)


def _monday(value: str | None) -> dt.date:
    day = parse_date(value or "") if value else None
    day = day or dates.today()
    return day - dt.timedelta(days=day.isoweekday() - 1)


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
    for _field, msgs in items:
        for message in msgs:
            messages.error(request, message)


def _site(user: User, pk: int) -> Site:
    site = access.sites_visible_to(user).filter(pk=pk).first()
    if site is None:
        raise Http404
    return site


@login_required
@require_GET
def site_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    sites = access.sites_visible_to(user).select_related("organisation", "place").order_by("name")
    orgs = Organisation.objects.filter(
        pk__in=user.memberships.filter(active=True).values("organisation_id"),
        reunion_sites__isnull=False,
    ).distinct()
    return render(
        request,
        "reunion/sites.html",
        {"sites": sites, "orgs": orgs, "week": _monday(None) + dt.timedelta(days=7)},
    )


@login_required
@require_POST
def plan(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    org = Organisation.objects.filter(pk=request.POST.get("organisation") or 0).first()
    if org is None:
        raise Http404
    try:
        schedule = services.plan_week(
            actor=user, organisation=org, week_start=_monday(request.POST.get("week"))
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(
            request,
            _("Planned %(sessions)s sessions; %(unserved)s children could not be served.")
            % {"sessions": schedule.stats.get("sessions", 0), "unserved": len(schedule.unserved)},
        )
    return redirect("reunion:sites")


@login_required
@require_GET
def site_week(request: HttpRequest, pk: int) -> HttpResponse:
    """The site's printable schedule of a week. Technology envoys see the site and its
    devices, never the children."""
    user: User = request.user  # type: ignore[assignment]
    site = _site(user, pk)
    week = _monday(request.GET.get("week"))
    start = dates.start_of_day(week)
    shows_children = access.manages_site(user, site) or access.facilitates(user, site)
    sessions = (
        Session.objects.filter(
            site=site, starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=7)
        )
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("device")
        .prefetch_related("children")
    )
    if shows_children:
        log_access(
            user=user,
            action=Action.LIST_CHILDREN,
            purpose="reunion_schedule",
            detail={"site": site.pk, "week": week.isoformat()},
        )
    return render(
        request,
        "reunion/site_week.html",
        {
            "site": site,
            "week": week,
            "sessions": sessions,
            "shows_children": shows_children,
            "devices": site.devices.all(),
            "report": services.site_week_report(site, week) if shows_children else None,
            "prev": week - dt.timedelta(days=7),
            "next": week + dt.timedelta(days=7),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """The facilitator's phone page: who came, whether a parent joined, how long, problems,
    and the child's five faces."""
    user: User = request.user  # type: ignore[assignment]
    session = Session.objects.filter(pk=pk).select_related("site", "device").first()
    if session is None or not (
        access.facilitates(user, session.site) or access.manages_site(user, session.site)
    ):
        raise Http404
    kids = list(session.children.order_by("id"))
    if request.method == "POST":
        rows: list[dict[str, Any]] = []
        for child in kids:
            p = f"c{child.pk}-"
            feeling = request.POST.get(p + "feeling", "")
            rows.append(
                {
                    "child": child.pk,
                    "present": request.POST.get(p + "present") == "1",
                    "parent_joined": request.POST.get(p + "joined") == "1",
                    "minutes": int(request.POST.get(p + "minutes") or 0)
                    if (request.POST.get(p + "minutes") or "0").isdigit()
                    else -1,
                    "quality_problems": request.POST.get(p + "problems", ""),
                    "no_show_reason": request.POST.get(p + "reason", ""),
                    "feeling": int(feeling) if feeling.isdigit() else None,
                }
            )
        try:
            services.attendance_record(actor=user, session=session, rows=rows)
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Attendance saved."))
            return redirect("reunion:site", session.site_id)
    return render(
        request,
        "reunion/attendance.html",
        {
            "session": session,
            "kids": kids,
            "feelings": Feeling.choices,
            "room_url": services.room_url(session),
        },
    )


@login_required
@require_POST
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    session = Session.objects.filter(pk=pk).select_related("site").first()
    if session is None or not access.sites_visible_to(user).filter(pk=session.site_id).exists():
        raise Http404
    try:
        moved = services.cancel_session(
            actor=user, session=session, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        _flash(request, exc)
    except PermissionDenied:
        raise
    else:
        messages.success(
            request,
            _("Moved to a new time.") if moved else _("No free time this week; parents were told."),
        )
    return redirect("reunion:site", session.site_id)


@login_required
@require_http_methods(["GET", "POST"])
def contacts(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="contact_log")
    if not access.may_refer(user, child):
        raise PermissionDenied
    if request.method == "POST":
        member = child.household.members.filter(pk=request.POST.get("member") or 0).first()
        minutes = request.POST.get("minutes", "")
        try:
            services.contact_add(
                actor=user,
                child=child,
                mode=request.POST.get("mode", ""),
                on=parse_date(request.POST.get("on", "")) or dates.today(),
                member=member,
                minutes=int(minutes) if minutes.isdigit() else None,
                note=request.POST.get("note", ""),
            )
        except ValidationError as exc:
            _flash(request, exc)
        return redirect("reunion:contacts", child.pk)
    return render(
        request,
        "reunion/contacts.html",
        {
            "child": child,
            "rows": Contact.objects.filter(child=child).select_related("member")[:200],
            "indicators": services.contact_indicators(child),
            "modes": ContactMode.choices,
            "parents": child.household.members.filter(relation__in=services.PARENTS),
            "today": dates.today(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def tickets(request: HttpRequest) -> HttpResponse:
    """The ticket queue: sites, devices and problems only."""
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        ticket = access.tickets_visible_to(user).filter(pk=request.POST.get("ticket") or 0).first()
        what = request.POST.get("what")
        try:
            if what == "report":
                site = _site(user, int(request.POST.get("site") or 0))
                device = site.devices.filter(pk=request.POST.get("device") or 0).first()
                services.ticket_report(
                    actor=user, site=site, device=device, problem=request.POST.get("problem", "")
                )
            elif ticket is None:
                raise Http404
            elif what == "take":
                services.ticket_take(actor=user, ticket=ticket)
            elif what == "resolve":
                services.ticket_resolve(
                    actor=user, ticket=ticket, resolution=request.POST.get("resolution", "")
                )
            elif what == "close":
                services.ticket_close(actor=user, ticket=ticket)
        except ValidationError as exc:
            _flash(request, exc)
        return redirect("reunion:tickets")
    rows = access.tickets_visible_to(user).select_related("site", "device", "taken_by")[:300]
    return render(
        request,
        "reunion/tickets.html",
        {
            "tickets": rows,
            "is_envoy": access.is_tech_envoy(user),
            "sites": access.sites_visible_to(user).prefetch_related("devices")
            if not access.is_tech_envoy(user)
            else [],
            "statuses": TicketStatus,
            "now": timezone.now(),
        },
    )
