"""Aid pages (issue 13): the aid home of the workers who run aid, sponsors and their
pledges, a sponsor's report (which names no child), schemes and their applications, applying
for a child, and the application page with its decision, payments and follow-ups.

Thin views: `access` opens (404 for missing and forbidden alike) and logs, a form collects,
`aid.services` decides (the same functions as the API), `aid.selectors` read. A refused
action shows its page again with the errors next to their fields and listed at the top."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms as django_forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu import access
from shouhu.accounts.models import User
from shouhu.aid import forms, selectors, services
from shouhu.aid.models import Application, FollowUp, Pledge, Status
from shouhu.audit.services import log_children_read
from shouhu.lib import clock, dates
from shouhu.lib.formerrors import error_summary, saved

WAITING_ROWS = 200
SCHEME_ROWS = 500


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _aid_worker(request: HttpRequest) -> User:
    """The signed-in user, who must hold a role that runs aid (else 403)."""
    user = _user(request)
    if not access.handles_aid(user):
        raise PermissionDenied
    return user


def _openable(user: User, child_ids: Iterable[int]) -> set[int]:
    """The children of a list whose file the reader may open (their names link to it)."""
    ids = set(child_ids)
    if not ids:
        return set()
    return set(access.children_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def _try(request: HttpRequest, form: Any, message: str) -> tuple[bool, int]:
    """Run the form through its service: (saved, the status of a page shown again). A
    refusal of the person rather than of the input (not the organisation's manager, the
    applicant deciding their own application) is put at the top of the form (403)."""
    try:
        if saved(request, form, message):
            return True, 200
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or _("You may not do this."))
        return False, 403
    return False, 400


# ---------------------------------------------------------------- the aid home


@login_required
@require_GET
def aid_home(request: HttpRequest) -> HttpResponse:
    """The schemes of the user's organisations with their applications and payments, the
    sponsors with their pledges, the applications waiting for a decision, and those the user
    made, with where each stands."""
    user = _aid_worker(request)
    schemes = list(
        selectors.schemes_overview(access.aid_schemes_visible_to(user)).order_by(
            "-starts_on", "name", "pk"
        )
    )
    sponsors = list(
        selectors.sponsors_with_pledges(access.sponsors_visible_to(user)).order_by("name", "pk")
    )
    waiting_rows = selectors.with_paid(
        access.aid_applications_visible_to(user).filter(status=Status.SUBMITTED)
    ).order_by("submitted_at", "pk")
    waiting = list(waiting_rows[:WAITING_ROWS])
    mine = list(
        selectors.with_paid(
            access.aid_applications_visible_to(user).filter(submitted_by=user)
        ).order_by("-submitted_at", "-pk")[:WAITING_ROWS]
    )
    managed = set(access.aid_organisations(user).values_list("organisation_id", flat=True))
    log_children_read(
        user=user,
        child_ids=sorted({a.child_id for a in waiting} | {a.child_id for a in mine}),
        purpose="aid_home",
        object_type="aid_application",
        detail={"status": Status.SUBMITTED, "returned": len(waiting)},
    )
    return render(
        request,
        "aid/home.html",
        {
            "schemes": schemes,
            "sponsors": sponsors,
            "waiting": waiting,
            "mine": mine,
            "deciding": {a.pk for a in waiting if access.may_decide_aid(user, a, managed=managed)},
        },
    )


# ---------------------------------------------------------------- sponsors


def _sponsors_page(
    request: HttpRequest, user: User, form: forms.SponsorForm, status: int = 200
) -> HttpResponse:
    sponsors = selectors.sponsors_with_pledges(access.sponsors_visible_to(user)).order_by(
        "name", "pk"
    )
    return render(
        request,
        "aid/sponsors.html",
        {"sponsors": sponsors, "form": form, "error_summary": error_summary(form)},
        status=status,
    )


@login_required
@require_GET
def sponsor_list(request: HttpRequest) -> HttpResponse:
    user = _aid_worker(request)
    return _sponsors_page(request, user, forms.SponsorForm(user=user))


@login_required
@require_POST
def sponsor_new(request: HttpRequest) -> HttpResponse:
    user = _aid_worker(request)
    form = forms.SponsorForm(request.POST, user=user)
    done, status = _try(request, form, _("Saved: the sponsor is recorded."))
    if done:
        return redirect("aid:sponsor", form.saved.pk)
    return _sponsors_page(request, user, form, status)


def _sponsor_page(
    request: HttpRequest, user: User, sponsor: Any, form: forms.PledgeAddForm, status: int = 200
) -> HttpResponse:
    pledges = Pledge.objects.filter(sponsor=sponsor).select_related("scheme")
    return render(
        request,
        "aid/sponsor.html",
        {
            "sponsor": sponsor,
            "pledges": pledges.order_by("-pledged_on", "-pk"),
            "form": form,
            "error_summary": error_summary(form),
        },
        status=status,
    )


@login_required
@require_GET
def sponsor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    sponsor = access.get_sponsor_for_user(user, pk)
    return _sponsor_page(request, user, sponsor, forms.PledgeAddForm(user=user, sponsor=sponsor))


@login_required
@require_POST
def pledge_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    sponsor = access.get_sponsor_for_user(user, pk)
    form = forms.PledgeAddForm(request.POST, user=user, sponsor=sponsor)
    done, status = _try(request, form, _("Saved: the pledge is recorded."))
    if done:
        return redirect("aid:sponsor", sponsor.pk)
    return _sponsor_page(request, user, sponsor, form, status)


@login_required
@require_GET
def sponsor_report(request: HttpRequest, pk: int) -> HttpResponse:
    """What the sponsor's money reached in a period: counts, amounts by scheme and month,
    approved anonymised stories. Never a child's name, id, photo or address."""
    user = _user(request)
    sponsor = access.get_sponsor_for_user(user, pk)
    today = clock.today()
    default = {"first": dates.add_months(today.replace(day=1), -11), "last": today}
    form = forms.ReportPeriodForm(request.GET if "first" in request.GET else default)
    report = (
        selectors.sponsor_report(sponsor, form.cleaned_data["first"], form.cleaned_data["last"])
        if form.is_valid()
        else None
    )
    return render(
        request,
        "aid/sponsor_report.html",
        {
            "sponsor": sponsor,
            "form": form,
            "report": report,
            "error_summary": error_summary(form),
        },
        status=200 if report is not None else 400,
    )


# ---------------------------------------------------------------- schemes


@login_required
@require_http_methods(["GET", "POST"])
def scheme_new(request: HttpRequest) -> HttpResponse:
    user = _aid_worker(request)
    form = forms.SchemeForm(request.POST or None, user=user)
    status = 200
    if request.method == "POST":
        done, status = _try(request, form, _("Saved: the scheme is open."))
        if done:
            return redirect("aid:scheme", form.saved.pk)
    return render(
        request,
        "aid/scheme_new.html",
        {"form": form, "error_summary": error_summary(form)},
        status=status,
    )


@login_required
@require_GET
def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A scheme and its applications (each child listed is logged as read; a name links
    to the child's file only for those who may open it)."""
    user = _user(request)
    scheme = selectors.schemes_overview(access.aid_schemes_visible_to(user)).filter(pk=pk).first()
    if scheme is None:
        raise Http404
    rows = selectors.with_paid(Application.objects.filter(scheme=scheme)).order_by(
        "-submitted_at", "-pk"
    )
    applications = list(rows[:SCHEME_ROWS])
    ids = [a.child_id for a in applications]
    log_children_read(
        user=user,
        child_ids=ids,
        purpose="aid_scheme",
        object_type="aid_scheme",
        object_id=str(scheme.pk),
        detail={"returned": len(applications)},
    )
    return render(
        request,
        "aid/scheme.html",
        {
            "scheme": scheme,
            "applications": applications,
            "openable": _openable(user, ids),
            "pledges": scheme.pledges.select_related("sponsor").order_by("-pledged_on", "pk"),
        },
    )


# ---------------------------------------------------------------- applications


@login_required
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply for a child (from the aid panel of the child's page)."""
    user = _user(request)
    child = access.get_child_for_user(user, pk, purpose="aid_application")
    if not access.may_apply_for_aid(user, child):
        raise PermissionDenied
    form = forms.ApplicationForm(request.POST or None, user=user, child=child)
    status = 200
    if request.method == "POST":
        done, status = _try(request, form, _("Saved: the application waits for a decision."))
        if done:
            return redirect("aid:application", form.saved.pk)
    return render(
        request,
        "aid/application_new.html",
        {"child": child, "form": form, "error_summary": error_summary(form)},
        status=status,
    )


def _application_page(
    request: HttpRequest,
    user: User,
    application: Application,
    bound: django_forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    """The application with a form for every action the person may take; `bound` is the
    form just refused, shown in its place with its errors, and in the summary."""

    def form(cls: Callable[..., django_forms.Form], **kwargs: Any) -> django_forms.Form:
        made = cls(user=user, **kwargs)
        return bound if bound is not None and bound.prefix == made.prefix else made

    manages = access.may_manage_aid(user, application.scheme.organisation_id)
    approved = application.status == Status.APPROVED
    paid = services.paid_so_far(application)
    approved_amount = application.approved_amount if approved else None
    followups = list(
        FollowUp.objects.filter(application=application)
        .select_related("by", "story_approved_by")
        .order_by("on", "pk")
    )
    for f in followups:
        if access.may_approve_aid_story(user, f, manages=manages):
            f.approval = form(forms.StoryApprovalForm, followup=f)  # type: ignore[attr-defined]
    page = {
        "decision": form(forms.DecisionForm, application=application)
        if access.may_decide_aid(user, application)
        else None,
        "payment": form(forms.DisbursementForm, application=application)
        if manages and approved
        else None,
        "followup": form(forms.FollowUpForm, application=application)
        if manages and approved
        else None,
    }
    return render(
        request,
        "aid/application.html",
        {
            "application": application,
            "child_openable": bool(_openable(user, [application.child_id])),
            "manages": manages,
            "paid": paid,
            "left": None if approved_amount is None else approved_amount - paid,
            "disbursements": application.disbursements.select_related("recorded_by").order_by(
                "paid_on", "pk"
            ),
            "followups": followups,
            "forms": page,
            "error_summary": error_summary(bound) if bound is not None else [],
        },
        status=status,
    )


def _open(user: User, pk: int, purpose: str) -> Application:
    found: Application = access.get_aid_application_for_user(user, pk, purpose=purpose)
    return (
        Application.objects.select_related("scheme__organisation", "child", "submitted_by")
        .select_related("reviewer")
        .get(pk=found.pk)
    )


@login_required
@require_GET
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    return _application_page(request, user, _open(user, pk, "aid_application"))


def _application_action(form_class: type[forms.ApplicationAction]) -> Any:
    """The view of one action on an application: saved, back to the page with what was
    saved; refused, the page again with the errors in place."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        user = _user(request)
        application = _open(user, pk, "aid_application_edit")
        form = form_class(request.POST, user=user, application=application)
        done, status = _try(request, form, str(form.success))
        if done:
            return redirect("aid:application", application.pk)
        application = _open(user, pk, "aid_application_edit")
        return _application_page(request, user, application, bound=form, status=status)

    view.__name__ = view.__qualname__ = form_class.__name__.removesuffix("Form").lower()
    return view


decide = _application_action(forms.DecisionForm)
payment_add = _application_action(forms.DisbursementForm)
followup_add = _application_action(forms.FollowUpForm)


@login_required
@require_POST
def story_approve(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    followup = FollowUp.objects.filter(pk=pk).first()
    if followup is None:
        raise Http404
    application = _open(user, followup.application_id, "aid_application_edit")
    form = forms.StoryApprovalForm(request.POST, user=user, followup=followup)
    done, status = _try(request, form, str(form.success))
    if done:
        return redirect("aid:application", application.pk)
    return _application_page(request, user, application, bound=form, status=status)
