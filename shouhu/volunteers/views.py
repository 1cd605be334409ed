"""Volunteer pages: the organisation's volunteers with where each stands, a volunteer's
record in the five parts of the recording rules, the decision on pending hours, the
printable certificate, and the public verification page (`/verify/<code>`), which shows
only the name, hours, period and issuer — never a child."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.audit.services import log_children_read
from shouhu.lib import clock
from shouhu.lib.formerrors import error_summary, posted_form, saved
from shouhu.places.models import Level, Place, code_range
from shouhu.volunteers import hours as hours_service
from shouhu.volunteers import matching
from shouhu.volunteers.forms import (
    AgreementForm,
    CertificateForm,
    CheckForm,
    CheckInForm,
    CheckOutForm,
    CommendationForm,
    DecisionForm,
    EvaluationForm,
    HoursForm,
    MatchDecisionForm,
    MatchEndForm,
    MatchFilterForm,
    ProposeForm,
    RegisterForm,
    StatusForm,
    SupervisionForm,
    TrainingForm,
)
from shouhu.volunteers.models import Certificate, Hours, HoursStatus, Match, MatchStatus


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
    return render(
        request,
        "volunteers/list.html",
        {"volunteers": rows, "may_register": bool(matching.managed_organisations(user))},
    )


# The forms of a volunteer's page, by the name the page posts in `form`: who may use them
# ("manage": those who keep the organisation's volunteers; "self": also the volunteer).
PAGE_FORMS: dict[str, tuple[type[Any], str, Any]] = {
    "hours": (HoursForm, "manage", gettext_lazy("Saved: the hours wait for approval.")),
    "check": (CheckForm, "manage", gettext_lazy("Saved: the check is recorded.")),
    "training": (TrainingForm, "manage", gettext_lazy("Saved: the training is recorded.")),
    "agreement": (AgreementForm, "manage", gettext_lazy("Saved: the agreement is recorded.")),
    "status": (StatusForm, "manage", gettext_lazy("Saved: the status is changed.")),
    "supervision": (SupervisionForm, "manage", gettext_lazy("Saved: the supervision is recorded.")),
    "commendation": (
        CommendationForm,
        "manage",
        gettext_lazy("Saved: the commendation is recorded."),
    ),
    "evaluation": (EvaluationForm, "manage", gettext_lazy("Saved: the evaluation is recorded.")),
    "certificate": (CertificateForm, "manage", gettext_lazy("Saved: the certificate is issued.")),
    "check_in": (CheckInForm, "self", gettext_lazy("Checked in.")),
    "check_out": (CheckOutForm, "self", gettext_lazy("Checked out: the hours wait for approval.")),
}


@login_required
@require_http_methods(["GET", "POST"])
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A volunteer's record, with the forms of those who keep it (and the volunteer's own
    check-in and check-out); a POST names its form in `form`."""
    user = _user(request)
    volunteer = access.get_volunteer_for_user(user, pk)
    manages = access.may_manage_volunteers(user, volunteer.organisation_id)
    clocks = access.may_clock_volunteer(user, volunteer, volunteer.organisation_id)
    allowed = {
        name
        for name, (_form, who, _msg) in PAGE_FORMS.items()
        if manages or (who == "self" and clocks)
    }
    posted = posted_form(request, allowed, default="hours")
    forms = {
        name: PAGE_FORMS[name][0](
            request.POST if name == posted else None, user=user, volunteer=volunteer
        )
        for name in allowed
    }
    if posted is not None and saved(request, forms[posted], str(PAGE_FORMS[posted][2])):
        return redirect("volunteers:detail", volunteer.pk)
    bound = forms[posted] if posted is not None else None
    missing = access.clearance_missing(volunteer)
    return render(
        request,
        "volunteers/detail.html",
        {
            "volunteer": volunteer,
            "missing": [access.describe_missing([m]) for m in missing],
            "manages": manages,
            "forms": forms,
            "form": forms.get("hours"),
            "posted": posted,
            "shift": hours_service.open_shift(volunteer),
            "error_summary": error_summary(bound) if bound is not None else [],
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
            "matches": _matched_children(user, volunteer) if manages else [],
        },
        status=400 if bound is not None and bound.errors else 200,
    )


def _matched_children(user: User, volunteer: Any) -> list[Match]:
    """The volunteer's proposed and active matches to children the user may see (their
    names are shown: logged as read)."""
    found = list(
        volunteer.matches.filter(
            status__in=[MatchStatus.PROPOSED, MatchStatus.ACTIVE],
            child__in=access.children_visible_to(user).values("pk"),
        ).select_related("child")
    )
    if found:
        log_children_read(
            user=user,
            child_ids=[m.child_id for m in found],
            purpose="volunteer_match",
            object_type="volunteer",
            object_id=str(volunteer.pk),
        )
    return found


def _homes(organisation_ids: list[int]) -> list[tuple[str, str]]:
    """Townships and villages of the counties of the organisations, for a volunteer's home."""
    prefixes = {
        code[:6]
        for code in Organisation.objects.filter(pk__in=organisation_ids).values_list(
            "jurisdiction_id", flat=True
        )
        if code
    }
    q = Q(pk__in=[])
    for prefix in prefixes:
        low, high = code_range(prefix)
        q |= Q(code__gte=low, code__lte=high)
    places = (
        Place.objects.filter(q, level__in=[Level.TOWNSHIP, Level.VILLAGE])
        .select_related("parent")
        .order_by("code")[:2000]
    )
    return [
        (p.code, f"{p.parent.name} · {p.name}" if p.level == Level.VILLAGE and p.parent else p.name)
        for p in places
    ]


@login_required
@require_http_methods(["GET", "POST"])
def volunteer_register(request: HttpRequest) -> HttpResponse:
    """An application, by one who keeps an organisation's volunteers."""
    user = _user(request)
    orgs = list(
        Organisation.objects.filter(pk__in=matching.managed_organisations(user))
        .order_by("name")
        .values_list("pk", "name")
    )
    if not orgs:
        raise PermissionDenied
    form = RegisterForm(
        request.POST or None,
        user=user,
        organisations=orgs,
        places=_homes([pk for pk, _name in orgs]),
    )
    if request.method == "POST" and saved(
        request, form, _("Saved: the application is registered. Record the checks next.")
    ):
        assert form.volunteer is not None
        return redirect("volunteers:detail", form.volunteer.pk)
    return render(
        request,
        "volunteers/register.html",
        {"form": form, "error_summary": error_summary(form) if form.is_bound else []},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def match(request: HttpRequest, child_id: int) -> HttpResponse:
    """Find a volunteer for a child: the suggestions, ranked, with the languages and days
    asked for; the child's proposed and active matches with the decision and end forms."""
    user = _user(request)
    child = access.get_child_for_user(user, child_id, purpose="volunteer_match")
    if not matching.managed_organisations(user):
        raise PermissionDenied
    wanted = MatchFilterForm(request.GET or None)
    languages, days = wanted.wanted() if wanted.is_valid() else ([], [])
    suggestions = matching.suggest(user, child, languages=languages, days=days)
    matches = list(
        Match.objects.filter(child=child)
        .exclude(status=MatchStatus.DECLINED)
        .select_related("volunteer", "consent_by", "decided_by", "child")
        .order_by("-proposed_at")
    )
    # The forms of the page by the name it posts: proposing, and deciding or ending the
    # matches of the volunteers the user keeps.
    kept = [m for m in matches if access.may_manage_volunteers(user, m.volunteer.organisation_id)]
    names = ["propose"] + [
        f"decide-{m.pk}" if m.status == MatchStatus.PROPOSED else f"end-{m.pk}"
        for m in kept
        if m.status in (MatchStatus.PROPOSED, MatchStatus.ACTIVE)
    ]
    posted = posted_form(request, names)

    def data(name: str) -> Any:
        return request.POST if posted == name else None

    propose = ProposeForm(
        data("propose"),
        user=user,
        child=child,
        volunteers=[(s.volunteer.pk, s.volunteer.name) for s in suggestions],
    )
    decisions = {
        m.pk: MatchDecisionForm(data(f"decide-{m.pk}"), user=user, match=m)
        for m in kept
        if m.status == MatchStatus.PROPOSED
    }
    ends = {
        m.pk: MatchEndForm(data(f"end-{m.pk}"), user=user, match=m)
        for m in kept
        if m.status == MatchStatus.ACTIVE
    }
    by_name: dict[str, Any] = {"propose": propose}
    by_name.update({f"decide-{pk}": form for pk, form in decisions.items()})
    by_name.update({f"end-{pk}": form for pk, form in ends.items()})
    bound = by_name[posted] if posted is not None else None
    if bound is not None and saved(request, bound, _("Saved.")):
        return redirect(request.get_full_path())
    return render(
        request,
        "volunteers/match.html",
        {
            "child": child,
            "wanted": wanted,
            "suggestions": suggestions,
            "matches": [
                {"match": m, "decision": decisions.get(m.pk), "end": ends.get(m.pk)}
                for m in matches
            ],
            "propose": propose,
            "error_summary": error_summary(bound) if bound is not None else [],
        },
        status=400 if bound is not None and bound.errors else 200,
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
