"""Reunion pages: sites and their printable week, planning, a session's attendance on a phone,
a child's contact log, parents' windows, and the ticket queue (which never shows a child)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu import access
from shouhu.accounts.models import User
from shouhu.children.models import PARENTS, Child
from shouhu.lib import clock, dates
from shouhu.lib.formerrors import error_summary
from shouhu.reunion import attendance as attendance_services
from shouhu.reunion import forms, notices, planning, replanning, selectors
from shouhu.reunion import sites as site_services
from shouhu.reunion import tickets as ticket_services
from shouhu.reunion.models import (
    Contact,
    ContactMode,
    Feeling,
    ParentAvailability,
    Participant,
    Site,
    TicketStatus,
)


def _monday(value: str | dt.date | None) -> dt.date:
    """The Monday of the week of `value` (a date or YYYY-MM-DD; none: this week); a value
    that is no date is a 400."""
    if isinstance(value, dt.date):
        day: dt.date | None = value
    else:
        try:
            day = parse_date(value) if value else None
        except ValueError:
            day = None
        if value and day is None:
            raise BadRequest(_("The week is not a date."))
    day = day or clock.today()
    return day - dt.timedelta(days=day.isoweekday() - 1)


def _week_url(site_id: int, on: dt.date | dt.datetime) -> str:
    """The site's page on the week of `on` (a session's time is read in Shanghai)."""
    day = on.astimezone(dates.SHANGHAI).date() if isinstance(on, dt.datetime) else on
    return reverse("reunion:site", args=[site_id]) + f"?week={_monday(day).isoformat()}"


def _id(value: object) -> int | None:
    """An id typed in a form or a query string, or None when it is none."""
    text = str(value or "")
    return int(text) if text.isascii() and text.isdecimal() and len(text) < 19 else None


def _told_replanned(request: HttpRequest, done: replanning.Replanned) -> None:
    """What a re-planning did, for the person who caused it: the sessions moved and each
    child who could not be rebooked, by name, with the reason."""
    messages.success(
        request,
        _("%(n)s sessions moved to a new time; the parents were told.") % {"n": len(done.sessions)},
    )
    for r in done.unserved:
        messages.warning(
            request,
            _("%(child)s could not be rebooked this week: %(why)s.")
            % {"child": r.child.name, "why": r.get_unserved_reason_display()},
        )


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
    for _field, msgs in items:
        for message in msgs:
            messages.error(request, message)


def _form_errors(form: Any) -> dict[str, list[str]]:
    return {name: [str(m) for m in errors] for name, errors in form.errors.items()}


def _site(user: User, pk: int) -> Site:
    site = access.sites_visible_to(user).filter(pk=pk).first()
    if site is None:
        raise Http404
    return site


def _site_list(
    request: HttpRequest, plan_form: forms.PlanForm | None = None, status: int = 200
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    sites = access.sites_visible_to(user).select_related("organisation", "place").order_by("name")
    managed = selectors.managed_organisations(user)
    orgs = [o for o in managed if o.reunion_sites.exists()]
    typed = plan_form.data.get("week", "") if plan_form is not None else ""
    return render(
        request,
        "reunion/sites.html",
        {
            "sites": sites,
            "orgs": orgs,
            "week": _monday(None) + dt.timedelta(days=7),
            "typed_week": typed,
            "typed_org": plan_form.data.get("organisation", "") if plan_form is not None else "",
            "plan_form": plan_form,
            "may_create": bool(managed),
        },
        status=status,
    )


@login_required
@require_GET
def site_list(request: HttpRequest) -> HttpResponse:
    return _site_list(request)


@login_required
@require_POST
def plan(request: HttpRequest) -> HttpResponse:
    """Plan a week for an organisation whose sites the user manages (anyone else: 403)."""
    user: User = request.user  # type: ignore[assignment]
    form = forms.PlanForm(request.POST)
    if not form.is_valid():
        return _site_list(request, form, status=400)
    try:
        schedule = planning.plan_week(
            actor=user,
            organisation=form.cleaned_data["organisation"],
            week_start=_monday(form.cleaned_data["week"]),
        )
    except ValidationError as exc:
        forms.attach_service_errors(form, forms.service_errors(exc))
        return _site_list(request, form, status=400)
    messages.success(
        request,
        _("Planned %(sessions)s sessions; %(unserved)s children could not be served.")
        % {"sessions": schedule.stats.get("sessions", 0), "unserved": len(schedule.unserved)},
    )
    return redirect("reunion:sites")


@login_required
@require_GET
def site_week(request: HttpRequest, pk: int) -> HttpResponse:
    """The site's printable schedule of a week, with what became of the children of each
    cancelled session. Technology envoys see the site and its devices, never the children."""
    user: User = request.user  # type: ignore[assignment]
    site = _site(user, pk)
    week = selectors.site_week(
        user, site, _monday(request.GET.get("week")), purpose="reunion_schedule"
    )
    manages = access.manages_site(user, site)
    active = site.facilitators.filter(active=True).select_related("user")
    tickets = selectors.open_tickets_by_device(site)
    return render(
        request,
        "reunion/site_week.html",
        {
            "site": site,
            "week": week.start,
            "sessions": week.sessions,
            "changes": week.changes,
            "unserved": week.unserved,
            "shows_children": week.shows_children,
            "manages": manages,
            "absent_choices": list(active if manages else active.filter(user=user)),
            "today": clock.today(),
            "now": clock.now(),
            "devices": [(d, tickets.get(d.pk)) for d in site.devices.all()],
            "report": selectors.site_week_report(site, week.start) if week.shows_children else None,
            "prev": week.start - dt.timedelta(days=7),
            "next": week.start + dt.timedelta(days=7),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """The facilitator's phone page: who came, whether a parent joined, how long, problems,
    and the child's five faces; once saved, back to the session's week."""
    user: User = request.user  # type: ignore[assignment]
    session = access.get_session_for_user(user, pk, purpose="reunion_attendance")
    kids = list(session.children.order_by("id"))
    form = forms.AttendanceForm(request.POST or None, kids=kids)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                attendance_services.attendance_record(actor=user, session=session, rows=form.rows())
            except ValidationError as exc:
                form.attach(forms.service_errors(exc))
            else:
                messages.success(request, _("Attendance saved."))
                return redirect(_week_url(session.site_id, session.starts_at))
        status = 400
    return render(
        request,
        "reunion/attendance.html",
        {
            "session": session,
            "form": form,
            "cards": form.cards(),
            "feelings": Feeling.choices,
            "started": session.starts_at <= clock.now(),
            "week_url": _week_url(session.site_id, session.starts_at),
            "room_url": notices.room_url(session),
        },
        status=status,
    )


@login_required
@require_POST
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """A parent cannot make it: the family is planned again in what is left of the week."""
    user: User = request.user  # type: ignore[assignment]
    session = access.get_session_for_user(user, pk, purpose="reunion_cancel")
    form = forms.CancelForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        done = replanning.cancel_session(
            actor=user, session=session, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        _told_replanned(request, done)
    return redirect(_week_url(session.site_id, session.starts_at))


@login_required
@require_http_methods(["GET", "POST"])
def contacts(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_contact(user, pk, purpose="contact_log")
    form = forms.ContactForm(request.POST or None, child=child)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                attendance_services.contact_add(
                    actor=user,
                    child=child,
                    mode=data["mode"],
                    on=data["on"],
                    member=data["member"],
                    minutes=data["minutes"],
                    note=data["note"],
                )
            except ValidationError as exc:
                forms.attach_service_errors(form, forms.service_errors(exc))
            else:
                messages.success(request, _("Saved."))
                return redirect("reunion:contacts", child.pk)
        status = 400
    return render(
        request,
        "reunion/contacts.html",
        {
            "child": child,
            "form": form,
            "rows": Contact.objects.filter(child=child).select_related("member")[:200],
            "indicators": selectors.contact_indicators(child),
            "modes": ContactMode.choices,
            "parents": [
                (m, access.may_edit_parent(user, m))
                for m in child.household.members.filter(relation__in=PARENTS)
            ],
            "may_enrol": access.may_enrol(user, child),
            "today": clock.today(),
        },
        status=status,
    )


def _tickets_page(
    request: HttpRequest, form: forms.TicketReportForm | None = None, status: int = 200
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    envoy = access.is_tech_envoy(user)
    sites = access.sites_visible_to(user)
    rows = access.tickets_visible_to(user).select_related("site", "device", "taken_by")[:300]
    return render(
        request,
        "reunion/tickets.html",
        {
            "tickets": rows,
            "is_envoy": envoy,
            "sites": [] if envoy else sites.prefetch_related("devices"),
            "form": form or forms.TicketReportForm(sites=sites),
            "statuses": TicketStatus,
            "now": clock.now(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def tickets(request: HttpRequest) -> HttpResponse:
    """The ticket queue (sites, devices and problems only) and reporting a fault: a fault on
    a device re-plans its coming sessions."""
    user: User = request.user  # type: ignore[assignment]
    if request.method == "GET":
        return _tickets_page(request)
    if access.is_tech_envoy(user):
        raise PermissionDenied
    form = forms.TicketReportForm(request.POST, sites=access.sites_visible_to(user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            reported = ticket_services.ticket_report(
                actor=user, site=data["site"], device=data["device"], problem=data["problem"]
            )
        except ValidationError as exc:
            forms.attach_service_errors(form, forms.service_errors(exc))
        else:
            messages.success(request, _("Fault reported."))
            if data["device"] is not None:
                _told_replanned(request, reported.replanned)
            return redirect("reunion:tickets")
    return _tickets_page(request, form, status=400)


def _ticket(user: User, pk: int) -> Any:
    ticket = access.tickets_visible_to(user).filter(pk=pk).first()
    if ticket is None:
        raise Http404
    return ticket


@login_required
@require_POST
def ticket_take(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        ticket_services.ticket_take(actor=user, ticket=_ticket(user, pk))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("reunion:tickets")


@login_required
@require_POST
def ticket_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    ticket = _ticket(user, pk)
    form = forms.TicketResolveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        ticket_services.ticket_resolve(
            actor=user, ticket=ticket, resolution=form.cleaned_data["resolution"]
        )
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("reunion:tickets")


@login_required
@require_POST
def ticket_close(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        ticket_services.ticket_close(actor=user, ticket=_ticket(user, pk))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("reunion:tickets")


# ---------------------------------------------------------------- managing sites and people


def _managed_site(user: User, pk: int) -> Site:
    site = _site(user, pk)
    if not access.manages_site(user, site):
        raise Http404
    return site


def _site_page(
    request: HttpRequest,
    user: User,
    site: Site | None,
    bound: Any = None,
    status: int = 200,
) -> HttpResponse:
    """The settings of a site (or a new one): the site and its opening hours, its devices,
    its facilitators and their availability; `bound` is the form just refused, shown with
    its errors in its place and in the summary at the top."""
    orgs = selectors.managed_organisations(user) if site is None else [site.organisation]

    def pick(made: Any) -> Any:
        return bound if bound is not None and bound.prefix == made.prefix else made

    site_form = pick(
        forms.SiteForm(organisations=orgs, places=selectors.site_places(orgs), site=site)
    )
    context: dict[str, Any] = {"site": site, "form": site_form}
    if site is not None:
        devices = [pick(forms.DeviceForm(device=d)) for d in site.devices.all()]
        tickets = selectors.open_tickets_by_device(site)
        for form in devices:
            form.open_ticket = tickets.get(form.device.pk)
        facilitators = [
            pick(forms.FacilitatorForm(site=site, facilitator=f))
            for f in site.facilitators.filter(active=True)
            .select_related("user")
            .prefetch_related("windows")
        ]
        context.update(
            devices=devices,
            device_new=pick(forms.DeviceForm()),
            facilitators=facilitators,
            facilitator_new=pick(forms.FacilitatorForm(site=site)),
        )
    parts = [bound, *([bound.rows] if hasattr(bound, "rows") else [])] if bound else []
    context["error_summary"] = error_summary(*parts)
    return render(request, "reunion/site_form.html", context, status=status)


def _site_form_saved(form: forms.SiteForm) -> dict[str, Any]:
    d = form.cleaned_data
    return {
        "name": d["name"],
        "kind": d["kind"],
        "place": d["place"],
        "address": d["address"],
        "openings": form.rows.windows(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def site_new(request: HttpRequest) -> HttpResponse:
    """A new site of one of the organisations the user manages sites for."""
    user: User = request.user  # type: ignore[assignment]
    orgs = selectors.managed_organisations(user)
    if not orgs:
        raise PermissionDenied
    if request.method == "GET":
        return _site_page(request, user, None)
    form = forms.SiteForm(request.POST, organisations=orgs, places=selectors.site_places(orgs))
    if form.is_valid():
        try:
            site = site_services.site_create(
                actor=user, organisation=form.cleaned_data["organisation"], **_site_form_saved(form)
            )
        except ValidationError as exc:
            _refuse_site(form, exc)
        else:
            messages.success(
                request, _("Saved: the site is created. Add its devices and facilitators.")
            )
            return redirect("reunion:site_manage", site.pk)
    return _site_page(request, user, None, bound=form, status=400)


def _refuse_site(form: forms.SiteForm, exc: ValidationError) -> None:
    """Errors about the opening hours go above their rows, the rest next to their field."""
    errors = forms.service_errors(exc)
    windows = {k: v for k, v in errors.items() if k.startswith("openings")}
    if windows:
        form.rows.refuse(ValidationError(windows))
    forms.attach_service_errors(form, {k: v for k, v in errors.items() if k not in windows})


@login_required
@require_http_methods(["GET", "POST"])
def site_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """A site's settings for its organisation (the page; each part saves on its own)."""
    user: User = request.user  # type: ignore[assignment]
    site = _managed_site(user, pk)
    if request.method == "GET":
        return _site_page(request, user, site)
    orgs = [site.organisation]
    form = forms.SiteForm(
        request.POST, organisations=orgs, places=selectors.site_places(orgs), site=site
    )
    if form.is_valid():
        try:
            site_services.site_update(
                actor=user, site=site, active=form.cleaned_data["active"], **_site_form_saved(form)
            )
        except ValidationError as exc:
            _refuse_site(form, exc)
        else:
            messages.success(request, _("Saved: the site's settings."))
            return redirect("reunion:site_manage", site.pk)
    site.refresh_from_db()
    return _site_page(request, user, site, bound=form, status=400)


def _site_action(
    request: HttpRequest,
    user: User,
    site: Site,
    form: Any,
    save: Any,
    success: str,
) -> HttpResponse:
    """Validate `form`, run `save()`; saved → the settings page with `success`; refused →
    the page with the form's errors (400)."""
    if form.is_valid():
        try:
            done = save()
        except ValidationError as exc:
            forms.attach_service_errors(form, forms.service_errors(exc))
        else:
            messages.success(request, success)
            if isinstance(done, replanning.Replanned) and done.rebookings:
                _told_replanned(request, done)
            return redirect("reunion:site_manage", site.pk)
    return _site_page(request, user, site, bound=form, status=400)


@login_required
@require_POST
def device_add(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    site = _managed_site(user, pk)
    form = forms.DeviceForm(request.POST)
    return _site_action(
        request,
        user,
        site,
        form,
        lambda: site_services.device_add(actor=user, site=site, **form.cleaned_data),
        _("Saved: the device is added."),
    )


@login_required
@require_POST
def device_update(request: HttpRequest, pk: int, device: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    site = _managed_site(user, pk)
    found = get_object_or_404(site.devices, pk=device)
    form = forms.DeviceForm(request.POST, device=found)
    return _site_action(
        request,
        user,
        site,
        form,
        lambda: site_services.device_update(actor=user, device=found, **form.cleaned_data),
        _("Saved: the device."),
    )


@login_required
@require_POST
def facilitator_set(request: HttpRequest, pk: int, facilitator: int | None = None) -> HttpResponse:
    """Add a facilitator, or change one's weekly availability."""
    user: User = request.user  # type: ignore[assignment]
    site = _managed_site(user, pk)
    existing = (
        get_object_or_404(site.facilitators.filter(active=True), pk=facilitator)
        if facilitator is not None
        else None
    )
    form = forms.FacilitatorForm(request.POST, site=site, facilitator=existing)
    return _site_action(
        request,
        user,
        site,
        form,
        lambda: site_services.facilitator_set(
            actor=user, site=site, user=form.person_chosen(), available=form.rows.windows()
        ),
        _("Saved: the facilitator and their availability."),
    )


@login_required
@require_POST
def facilitator_remove(request: HttpRequest, pk: int, facilitator: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    site = _managed_site(user, pk)
    found = get_object_or_404(site.facilitators.filter(active=True), pk=facilitator)
    done = site_services.facilitator_remove(actor=user, facilitator=found)
    messages.success(request, _("Saved: the facilitator is off the site."))
    if done.rebookings:
        _told_replanned(request, done)
    return redirect("reunion:site_manage", site.pk)


@login_required
@require_POST
def facilitator_absent(request: HttpRequest, pk: int) -> HttpResponse:
    """A facilitator reports being ill on a day (or a manager marks one absent): the
    sessions nobody else can run that day are planned again, and the parents are told."""
    user: User = request.user  # type: ignore[assignment]
    site = _site(user, pk)
    manages = access.manages_site(user, site)
    active = site.facilitators.filter(active=True)
    form = forms.AbsenceForm(request.POST, facilitators=active)
    if not form.is_valid():
        _flash(request, ValidationError(_form_errors(form)))
        return redirect("reunion:site", site.pk)
    chosen = form.cleaned_data["facilitator"]
    facilitator = chosen if manages and chosen else active.filter(user=user).first()
    if facilitator is None:
        raise Http404
    on = form.cleaned_data["on"]
    try:
        done = replanning.facilitator_absent(actor=user, facilitator=facilitator, on=on)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Absence noted."))
        _told_replanned(request, done)
    return redirect(_week_url(site.pk, on))


@login_required
@require_http_methods(["GET", "POST"])
def participant(request: HttpRequest, pk: int) -> HttpResponse:
    """Enrol a child at reunion sites: sites, sessions a week, priority. The child is opened
    through the access module, so nobody reaches a child outside their scope."""
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="reunion_enrolment")
    if not access.may_enrol(user, child):
        raise PermissionDenied
    current = Participant.objects.filter(child=child).prefetch_related("sites").first()
    sites = selectors.enrol_sites(child).select_related("place")
    form = forms.ParticipantForm(request.POST or None, sites=sites, current=current)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            site_services.participant_set(
                actor=user,
                child=child,
                sites=list(d["sites"]),
                sessions_per_week=d["sessions"],
                priority=d["priority"],
                active=d["active"],
            )
        except ValidationError as exc:
            forms.attach_service_errors(form, forms.service_errors(exc))
        else:
            messages.success(
                request,
                _("Saved: the child takes part in online reunions.")
                if d["active"]
                else _("Saved: the child no longer takes part."),
            )
            return redirect("reunion:participant", child.pk)
    return render(
        request,
        "reunion/participant.html",
        {
            "child": child,
            "participant": current,
            "form": form,
            "error_summary": error_summary(form),
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def parent_windows(request: HttpRequest, pk: int) -> HttpResponse:
    """A parent's weekly windows, preferred channel (and phone, for those who edit the
    family's registration): the child director or a facilitator after a phone call."""
    user: User = request.user  # type: ignore[assignment]
    member = access.get_parent_for_user(user, pk, purpose="parent_windows")
    phone_editable = access.can_edit_household(user, member.household_id)
    availability = ParentAvailability.objects.filter(member=member).first()
    back = _id(request.GET.get("child"))
    child = Child.objects.filter(household_id=member.household_id, pk=back or 0).first()
    phone = (  # shown decrypted: logged with the family's children
        selectors.parent_phone_shown(user, member, purpose="parent_windows")
        if phone_editable and request.method == "GET"
        else ("" if phone_editable else None)
    )
    form = forms.ParentWindowsForm(request.POST or None, availability=availability, phone=phone)
    if request.method == "POST" and form.is_valid():
        try:
            site_services.parent_availability_set(
                actor=user,
                member=member,
                windows=form.rows.windows(),
                channel=form.cleaned_data["channel"],
                phone=form.cleaned_data.get("phone") if phone_editable else None,
            )
        except ValidationError as exc:
            errors = forms.service_errors(exc)
            windows = {k: v for k, v in errors.items() if k.startswith("windows")}
            if windows:
                form.rows.refuse(ValidationError(windows))
            forms.attach_service_errors(form, {k: v for k, v in errors.items() if k not in windows})
        else:
            messages.success(request, _("Saved: when the parent can take a call."))
            return redirect(request.get_full_path())
    return render(
        request,
        "reunion/parent_windows.html",
        {
            "member": member,
            "child": child,
            "availability": availability,
            "form": form,
            "error_summary": error_summary(form, form.rows),
        },
        status=400 if form.is_bound else 200,
    )
