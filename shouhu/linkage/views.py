"""Linkage pages: the review queue of both sides, one pair side by side with its evidence and
the decision form, a run of the matching on demand, sharing a linked child's file with the
other side and ending a share. Thin: open through `access`, validate the form, call the
service, say what was saved."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu import access
from shouhu.accounts.models import User
from shouhu.lib.formerrors import error_summary, saved
from shouhu.linkage import matching, selectors
from shouhu.linkage.forms import DecisionForm, ShareEndForm, ShareForm
from shouhu.linkage.models import Candidate, Run, Status

PURPOSE = "link_review"
TABS = [Status.UNSURE, Status.LINKED, Status.REJECTED]
STATUSES = [Status.REVIEW, *TABS]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.may_review_links(user):
        raise PermissionDenied
    status = request.GET.get("status", "")
    if status and status not in STATUSES:
        status = ""
    rows = selectors.queue(user, status=status, purpose=PURPOSE)
    counts = selectors.queue_counts(user)
    tabs = [
        {"code": s.value, "label": s.label, "count": counts.get(s.value, 0), "on": s == status}
        for s in TABS
    ]
    return render(
        request,
        "linkage/queue.html",
        {
            "rows": rows,
            "tabs": tabs,
            "status": status,
            "waiting": counts.get(Status.REVIEW, 0) + counts.get(Status.UNSURE, 0),
            "runs": Run.objects.order_by("-started_at")[:3],
        },
    )


@login_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        done = matching.request_run(actor=user)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("linkage:queue")
    if done is None:
        messages.success(request, _("The matching will run within a minute or two."))
    else:
        messages.success(
            request,
            _("Matching done: %(linked)d new links, %(review)d new pairs to review.")
            % {"linked": done.linked, "review": done.to_review},
        )
    return redirect("linkage:queue")


@login_required
@require_http_methods(["GET", "POST"])
def candidate(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found: Candidate = access.get_link_candidate_for_user(user, pk, purpose=PURPOSE)
    form = DecisionForm(request.POST or None, user=user, candidate=found)
    if request.method == "POST" and saved(request, form, _("Saved: the decision is recorded.")):
        return redirect("linkage:queue")
    shown = selectors.pair(user, found)
    decidable = found.status != Status.REJECTED
    return render(
        request,
        "linkage/candidate.html",
        {
            **shown,
            "form": form if decidable else None,
            "error_summary": error_summary(form) if form.is_bound else [],
        },
        status=400 if form.errors else 200,
    )


def _linked(user: User, candidate_id: int, child_id: int) -> tuple[Candidate, object]:
    child = access.get_child_for_user(user, child_id, purpose="link_share")
    link = access.links_of_child_visible_to(user, child).filter(pk=candidate_id).first()
    if link is None:
        raise Http404
    return link, child


@login_required
@require_http_methods(["GET", "POST"])
def share_new(request: HttpRequest, candidate_id: int, child_id: int) -> HttpResponse:
    user = _user(request)
    link, child = _linked(user, candidate_id, child_id)
    if not access.may_share_child(user, child):  # type: ignore[arg-type]
        raise PermissionDenied
    form = ShareForm(request.POST or None, user=user, candidate=link, child=child)  # type: ignore[arg-type]
    if request.method == "POST" and saved(request, form, _("Saved: the file is shared.")):
        return redirect("children:detail", child_id)
    return render(
        request,
        "linkage/share.html",
        {
            "child": child,
            "link": link,
            "form": form,
            "error_summary": error_summary(form) if form.is_bound else [],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def share_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    share = access.get_share_for_user(user, pk, purpose="link_share")
    if not share.active or not access.may_end_share(user, share):
        raise PermissionDenied
    form = ShareEndForm(request.POST or None, user=user, share=share)
    if request.method == "POST" and saved(request, form, _("Saved: the share has ended.")):
        if access.children_visible_to(user).filter(pk=share.child_id).exists():
            return redirect("children:detail", share.child_id)
        return redirect("children:list")  # the receiving side no longer sees the child
    return render(
        request,
        "linkage/share_end.html",
        {
            "share": share,
            "form": form,
            "error_summary": error_summary(form) if form.is_bound else [],
        },
        status=400 if form.errors else 200,
    )
