"""Home-visit pages: record a visit, the child's visit history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from shouhu import access
from shouhu.accounts.models import User
from shouhu.lib.formerrors import error_summary, refuse
from shouhu.screening import visits
from shouhu.screening.forms import HomeVisitForm


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="home_visit")
    if not visits.may_record(user, child):
        raise PermissionDenied
    form = HomeVisitForm(request.POST or None, child=child)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            visits.visit_record(
                actor=user,
                child=child,
                visited_on=d["visited_on"],
                place=d["place"],
                place_note=d["place_note"],
                child_seen=d["child_seen"],
                met=list(d["met"]),
                others_met=d["others_met"],
                notes=d["notes"],
                actions=d["actions"],
                next_visit_on=d["next_visit_on"],
                assessment=d["assessment"],
            )
        except ValidationError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Saved: the home visit is recorded."))
            return redirect("screening:visits", child.pk)
    return render(
        request,
        "screening/visit_form.html",
        {"child": child, "form": form, "error_summary": error_summary(form)},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_GET
def visit_list(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="home_visits")
    return render(
        request,
        "screening/visits.html",
        {
            "child": child,
            "visits": visits.present_visits(user, child),
            "may_record": visits.may_record(user, child),
        },
    )
