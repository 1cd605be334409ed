"""Surrogate-parent pages: arranging one for a child, an arrangement with its contacts (the
surrogate parent's own page too), logging a contact, ending an arrangement, and the list of
arrangements a user follows. Thin: open through `access`, validate the form, call the
service, say what was saved."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.services import log_children_read
from shouhu.lib import clock
from shouhu.lib.formerrors import error_summary, saved
from shouhu.surrogates.forms import ArrangementForm, ContactForm, EndForm
from shouhu.surrogates.presenting import present_arrangement
from shouhu.surrogates.selectors import standings

PURPOSE = "surrogate"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
@require_GET
def arrangement_list(request: HttpRequest) -> HttpResponse:
    """The active arrangements the user follows (as a surrogate parent, their own)."""
    user = _user(request)
    rows = list(
        access.surrogate_arrangements_visible_to(user)
        .filter(status="active")
        .select_related("child", "surrogate")
        .order_by("child__name", "pk")[:200]
    )
    today = clock.today()
    found = standings(child_ids=[a.child_id for a in rows], today=today)
    log_children_read(user=user, child_ids=[a.child_id for a in rows], purpose=PURPOSE)
    items = [
        {
            "id": a.pk,
            "child": a.child.name,
            "surrogate": a.surrogate.name,
            "since": a.since,
            "missed": bool(found.get(a.child_id) and found[a.child_id].is_missed),
        }
        for a in rows
    ]
    return render(request, "surrogates/list.html", {"items": items})


@login_required
@require_http_methods(["GET", "POST"])
def arrangement_new(request: HttpRequest, child_id: int) -> HttpResponse:
    user = _user(request)
    child = access.get_child_for_user(user, child_id, purpose=PURPOSE)
    if not access.may_arrange_surrogate(user, child):
        raise PermissionDenied
    form = ArrangementForm(request.POST or None, user=user, child=child)
    if request.method == "POST" and saved(
        request, form, _("Saved: the surrogate parent is arranged.")
    ):
        return redirect("children:detail", child.pk)
    return render(
        request,
        "surrogates/new.html",
        {
            "child": child,
            "form": form,
            "error_summary": error_summary(form) if form.is_bound else [],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def arrangement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The arrangement with its contacts; those who may log one do it here (POST)."""
    user = _user(request)
    arrangement = access.get_surrogate_arrangement_for_user(user, pk, purpose=PURPOSE)
    may_record = access.may_record_surrogate_contact(user, arrangement)
    form = ContactForm(request.POST or None, user=user, arrangement=arrangement)
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied
        if saved(request, form, _("Saved: the contact is logged.")):
            return redirect("surrogates:detail", arrangement.pk)
    manages = access.may_arrange_surrogate(user, arrangement.child)
    return render(
        request,
        "surrogates/detail.html",
        {
            "a": present_arrangement(arrangement, today=clock.today(), phone=manages, contacts=50),
            "form": form if may_record else None,
            "manages": manages,
            "sees_child": manages or access.can_see(user, arrangement.child, access.BASIC),
            "error_summary": error_summary(form) if form.is_bound else [],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def arrangement_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    arrangement = access.get_surrogate_arrangement_for_user(user, pk, purpose=PURPOSE)
    if not access.may_arrange_surrogate(user, arrangement.child):
        raise PermissionDenied
    form = EndForm(request.POST or None, user=user, arrangement=arrangement)
    if request.method == "POST" and saved(request, form, _("Saved: the arrangement has ended.")):
        return redirect("children:detail", arrangement.child_id)
    return render(
        request,
        "surrogates/end.html",
        {
            "a": present_arrangement(arrangement, today=clock.today(), contacts=0),
            "form": form,
            "error_summary": error_summary(form) if form.is_bound else [],
        },
        status=400 if form.errors else 200,
    )
