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
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu.accounts import access
from shouhu.accounts.models import Organisation, User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock, dates
from shouhu.places.models import Place
from shouhu.reunion import services
from shouhu.reunion.models import (
    Channel,
    Contact,
    ContactMode,
    DeviceStatus,
    Feeling,
    ParentAvailability,
    Participant,
    Session,
    SessionStatus,
    Site,
    SiteKind,
    TicketStatus,
    Weekday,
)


def _monday(value: str | None) -> dt.date:
    day = parse_date(value or "") if value else None
    day = day or clock.today()
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
        {
            "sites": sites,
            "orgs": orgs,
            "week": _monday(None) + dt.timedelta(days=7),
            "may_create": bool(services.managed_organisations(user)),
        },
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
    manages = access.manages_site(user, site)
    shows_children = manages or access.facilitates(user, site)
    active = site.facilitators.filter(active=True).select_related("user")
    absent_choices = list(active if manages else active.filter(user=user))
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
            "manages": manages,
            "absent_choices": absent_choices,
            "today": clock.today(),
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
    child = access.get_child_for_contact(user, pk, purpose="contact_log")
    if request.method == "POST":
        member = child.household.members.filter(pk=request.POST.get("member") or 0).first()
        minutes = request.POST.get("minutes", "")
        try:
            services.contact_add(
                actor=user,
                child=child,
                mode=request.POST.get("mode", ""),
                on=parse_date(request.POST.get("on", "")) or clock.today(),
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
            "parents": [
                (m, access.may_edit_parent(user, m))
                for m in child.household.members.filter(relation__in=services.PARENTS)
            ],
            "may_enrol": services.may_enrol(user, child),
            "today": clock.today(),
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
            "now": clock.now(),
        },
    )


# ---------------------------------------------------------------- managing sites and people


BLANK_ROWS = 3


def _post_windows(request: HttpRequest, prefix: str) -> list[dict[str, Any]]:
    """Weekly windows from the rows of a form (`<prefix>-day`, `-start`, `-end`); rows left
    empty are skipped, the rest is validated by the service."""
    days = request.POST.getlist(prefix + "-day")
    starts = request.POST.getlist(prefix + "-start")
    ends = request.POST.getlist(prefix + "-end")
    out = []
    for day, start, end in zip(days, starts, ends, strict=False):
        if not start.strip() and not end.strip():
            continue
        out.append({"day": int(day) if day.isdigit() else 0, "start": start, "end": end})
    return out


def _rows(windows: Any) -> list[dict[str, Any]]:
    """Rows to show in a window form: the current windows and a few empty ones."""
    rows = [
        w
        if isinstance(w, dict)
        else {"day": w.day, "start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}"}
        for w in windows
    ]
    return rows + [{"day": 1, "start": "", "end": ""}] * BLANK_ROWS


def _managed_site(user: User, pk: int) -> Site:
    site = _site(user, pk)
    if not access.manages_site(user, site):
        raise Http404
    return site


def _site_form(
    request: HttpRequest, user: User, site: Site | None, openings: Any, status: int = 200
) -> HttpResponse:
    orgs = services.managed_organisations(user) if site is None else [site.organisation]
    context: dict[str, Any] = {
        "site": site,
        "orgs": orgs,
        "kinds": SiteKind.choices,
        "places": services.site_places(orgs),
        "openings": _rows(openings),
        "days": Weekday.choices,
        "form": request.POST if request.method == "POST" else {},
    }
    if site is not None:
        context.update(
            devices=site.devices.all(),
            statuses=DeviceStatus.choices,
            facilitators=[
                (f, _rows(f.windows.all()))
                for f in site.facilitators.filter(active=True)
                .select_related("user")
                .prefetch_related("windows")
            ],
            candidates=services.facilitator_candidates(site),
            blank=_rows([]),
        )
    return render(request, "reunion/site_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def site_new(request: HttpRequest) -> HttpResponse:
    """A new site of one of the organisations the user manages sites for."""
    user: User = request.user  # type: ignore[assignment]
    if not services.managed_organisations(user):
        raise PermissionDenied
    if request.method == "POST":
        org = next(
            (
                o
                for o in services.managed_organisations(user)
                if str(o.pk) == request.POST.get("organisation")
            ),
            None,
        )
        openings = _post_windows(request, "open")
        try:
            if org is None:
                raise ValidationError({"organisation": [_("Choose the organisation.")]})
            site = services.site_create(
                actor=user,
                organisation=org,
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""),
                place=Place.objects.filter(pk=request.POST.get("place") or "").first(),
                address=request.POST.get("address", ""),
                openings=openings,
            )
        except ValidationError as exc:
            _flash(request, exc)
            return _site_form(request, user, None, openings, status=400)
        messages.success(request, _("Site created. Add its devices and facilitators."))
        return redirect("reunion:site_manage", site.pk)
    return _site_form(request, user, None, [])


@login_required
@require_http_methods(["GET", "POST"])
def site_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """A site's settings for its organisation: the site and its opening hours, devices,
    facilitators and their availability."""
    user: User = request.user  # type: ignore[assignment]
    site = _managed_site(user, pk)
    if request.method == "GET":
        return _site_form(request, user, site, site.openings.all())
    what = request.POST.get("what")
    try:
        if what == "site":
            openings = _post_windows(request, "open")
            try:
                services.site_update(
                    actor=user,
                    site=site,
                    name=request.POST.get("name", ""),
                    kind=request.POST.get("kind", ""),
                    place=Place.objects.filter(pk=request.POST.get("place") or "").first()
                    or site.place,
                    address=request.POST.get("address", ""),
                    active=request.POST.get("active") == "1",
                    openings=openings,
                )
            except ValidationError as exc:
                _flash(request, exc)
                site.refresh_from_db()
                return _site_form(request, user, site, openings, status=400)
        elif what == "device_add":
            services.device_add(
                actor=user,
                site=site,
                label=request.POST.get("label", ""),
                kind=request.POST.get("kind", ""),
                status=request.POST.get("status", DeviceStatus.WORKING),
            )
        elif what == "device":
            device = site.devices.filter(pk=request.POST.get("device") or 0).first()
            if device is None:
                raise Http404
            services.device_update(
                actor=user,
                device=device,
                label=request.POST.get("label", ""),
                kind=request.POST.get("kind", ""),
                status=request.POST.get("status", ""),
            )
        elif what == "facilitator":
            person = (
                services.facilitator_candidates(site)
                .filter(pk=request.POST.get("user") or 0)
                .first()
            )
            if person is None:
                raise ValidationError({"user": [_("Choose a person from the list.")]})
            services.facilitator_set(
                actor=user,
                site=site,
                user=person,
                available=_post_windows(request, "avail"),
            )
        elif what == "facilitator_remove":
            facilitator = site.facilitators.filter(pk=request.POST.get("facilitator") or 0).first()
            if facilitator is None:
                raise Http404
            moved = services.facilitator_remove(actor=user, facilitator=facilitator)
            if moved:
                messages.info(request, _("Sessions moved: %(n)s.") % {"n": len(moved)})
        else:
            raise Http404
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("reunion:site_manage", site.pk)


@login_required
@require_POST
def facilitator_absent(request: HttpRequest, pk: int) -> HttpResponse:
    """A facilitator reports being ill on a day (or a manager marks one absent): the
    sessions nobody else can run that day move, and the parents are told."""
    user: User = request.user  # type: ignore[assignment]
    site = _site(user, pk)
    manages = access.manages_site(user, site)
    active = site.facilitators.filter(active=True)
    chosen = request.POST.get("facilitator", "")
    facilitator = (
        active.filter(pk=chosen).first()
        if manages and chosen.isdigit()
        else active.filter(user=user).first()
    )
    if facilitator is None:
        raise Http404
    on = parse_date(request.POST.get("on", "") or "")
    try:
        if on is None:
            raise ValidationError({"on": [_("Give the date.")]})
        moved = services.facilitator_absent(actor=user, facilitator=facilitator, on=on)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(
            request,
            _("Absence noted; %(n)s sessions moved, the parents were told.") % {"n": len(moved)},
        )
    return redirect(reverse("reunion:site", args=[site.pk]) + f"?week={_monday(str(on or ''))}")


@login_required
@require_http_methods(["GET", "POST"])
def participant(request: HttpRequest, pk: int) -> HttpResponse:
    """Enrol a child at reunion sites: sites, sessions a week, priority. The child is opened
    through the access module, so nobody reaches a child outside their scope."""
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="reunion_enrolment")
    if not services.may_enrol(user, child):
        raise PermissionDenied
    current = Participant.objects.filter(child=child).prefetch_related("sites").first()
    choices = services.enrol_sites(child).select_related("place")
    if request.method == "POST":
        chosen = list(choices.filter(pk__in=request.POST.getlist("sites")))
        sessions, priority = request.POST.get("sessions", ""), request.POST.get("priority", "")
        try:
            services.participant_set(
                actor=user,
                child=child,
                sites=chosen,
                sessions_per_week=int(sessions) if sessions.isdigit() else -1,
                priority=int(priority) if priority.isdigit() else 0,
                active=request.POST.get("active", "1") == "1",
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Saved."))
        return redirect("reunion:participant", child.pk)
    return render(
        request,
        "reunion/participant.html",
        {
            "child": child,
            "participant": current,
            "chosen": {s.pk for s in current.sites.all()} if current else set(),
            "sites": choices,
            "sessions_range": range(0, 8),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def parent_windows(request: HttpRequest, pk: int) -> HttpResponse:
    """A parent's weekly windows, preferred channel (and phone, for those who edit the
    family's registration): the child director or a facilitator after a phone call."""
    user: User = request.user  # type: ignore[assignment]
    member = FamilyMember.objects.filter(pk=pk, relation__in=services.PARENTS).first()
    if member is None or not access.may_edit_parent(user, member):
        raise Http404
    phone_editable = access.can_edit_household(user, member.household_id)
    availability = ParentAvailability.objects.filter(member=member).first()
    back = request.GET.get("child", "")
    child = (
        Child.objects.filter(household_id=member.household_id, pk=back).first()
        if back.isdigit()
        else None
    )
    windows: Any = availability.windows.all() if availability else []
    if request.method == "POST":
        windows = _post_windows(request, "w")
        try:
            services.parent_availability_set(
                actor=user,
                member=member,
                windows=windows,
                channel=request.POST.get("channel", ""),
                phone=request.POST.get("phone") if phone_editable else None,
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(request.get_full_path())
    if phone_editable:  # the phone is shown decrypted
        log_access(
            user=user,
            action=Action.REVEAL,
            child_id=child.pk if child else None,
            object_type="family_member",
            object_id=str(member.pk),
            fields=[access.IDENTIFYING],
            purpose="parent_windows",
        )
    return render(
        request,
        "reunion/parent_windows.html",
        {
            "member": member,
            "child": child,
            "availability": availability,
            "channels": Channel.choices,
            "days": Weekday.choices,
            "rows": _rows(windows),
            "phone_editable": phone_editable,
            "phone": services.parent_phone(member) if phone_editable else "",
        },
        status=400 if request.method == "POST" else 200,
    )
