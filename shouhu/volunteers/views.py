"""Volunteer pages: the organisation's volunteers with where each stands, a volunteer's
record in the five parts of the recording rules, the decision on pending hours, the
printable certificate, and the public verification page (`/verify/<code>`), which shows
only the name, hours, period and issuer — never a child."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu import access
from shouhu.accounts.models import User
from shouhu.lib import clock
from shouhu.lib.formerrors import error_summary, saved
from shouhu.volunteers import hours as hours_service
from shouhu.volunteers.forms import DecisionForm, HoursForm
from shouhu.volunteers.models import Certificate, Hours, HoursStatus


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
@require_GET
def volunteer_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = clock.today()
    rows = list(
        access.with_clearance(access.volunteers_visible_to(user), today)
        .select_related("organisation")
        .annotate(
            approved=Sum("hours__minutes", filter=Q(hours__status=HoursStatus.APPROVED)),
            pending=Count("hours", filter=Q(hours__status=HoursStatus.PENDING)),
        )
        .order_by("organisation__name", "name")
    )
    for v in rows:
        v.missing = access.describe_missing(access.clearance_missing(v, today))
    return render(request, "volunteers/list.html", {"volunteers": rows})


@login_required
@require_http_methods(["GET", "POST"])
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A volunteer's record; those who keep it record hours here (POST)."""
    user = _user(request)
    volunteer = access.get_volunteer_for_user(user, pk)
    manages = access.may_manage_volunteers(user, volunteer.organisation_id)
    form = HoursForm(request.POST or None, user=user, volunteer=volunteer) if manages else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if saved(request, form, _("Saved: the hours wait for approval.")):
            return redirect("volunteers:detail", volunteer.pk)
    missing = access.clearance_missing(volunteer)
    return render(
        request,
        "volunteers/detail.html",
        {
            "volunteer": volunteer,
            "missing": [access.describe_missing([m]) for m in missing],
            "manages": manages,
            "form": form,
            "error_summary": error_summary(form) if form is not None and form.is_bound else [],
            "totals": hours_service.totals(volunteer),
            "entries": volunteer.hours.select_related("organisation", "adjusts").order_by(
                "-recorded_at"
            )[:100],
            "checks": volunteer.checks.select_related("checked_by"),
            "trainings": volunteer.trainings.all(),
            "agreements": volunteer.agreements.all(),
            "supervisions": volunteer.supervisions.select_related("supervisor"),
            "commendations": volunteer.commendations.all(),
            "evaluations": volunteer.evaluations.select_related("evaluated_by"),
            "certificates": volunteer.certificates.select_related("organisation"),
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@require_POST
def hours_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    entry = Hours.objects.filter(pk=pk).select_related("volunteer").first()
    if entry is None:
        raise Http404
    volunteer = access.get_volunteer_for_user(user, entry.volunteer_id)
    form = DecisionForm(request.POST, user=user, entry=entry)
    try:
        if not saved(request, form, _("Saved: the hours are decided.")):
            messages.error(request, " ".join(str(m) for ms in form.errors.values() for m in ms))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("volunteers:detail", volunteer.pk)


@login_required
@require_GET
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable certificate, for the organisation's people and the volunteer."""
    user = _user(request)
    found = Certificate.objects.select_related("volunteer", "organisation", "issued_by").filter(
        pk=pk
    )
    cert = found.first()
    if cert is None:
        raise Http404
    access.get_volunteer_for_user(user, cert.volunteer_id)
    return render(
        request,
        "volunteers/certificate.html",
        {
            "certificate": cert,
            "hours": round(cert.minutes / 60, 1),
            "verify_url": request.build_absolute_uri(
                reverse("volunteers:verify", args=[cert.code])
            ),
        },
    )


@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public: anyone holding a certificate's code checks it. Name, hours, period and
    issuer only."""
    cert = (
        Certificate.objects.select_related("volunteer", "organisation")
        .filter(code=code)
        .only(
            "number",
            "period_from",
            "period_to",
            "minutes",
            "issued_at",
            "volunteer__name",
            "organisation__name",
        )
        .first()
    )
    if cert is None:
        raise Http404
    return render(
        request,
        "volunteers/verify.html",
        {"certificate": cert, "hours": round(cert.minutes / 60, 1)},
    )
