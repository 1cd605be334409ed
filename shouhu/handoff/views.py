"""Hand-off pages, for supervisors: the packages sent and received (`/handoff/`), sending a
child's file from its page (`/children/<id>/handoff/`, the package downloads), receiving one
(`/handoff/import/`), and reviewing a package that may be a child registered already, beside
each possible duplicate (`/handoff/incoming/<id>/`).

Thin views: `access` opens (404 for missing and forbidden alike) and logs, a form collects,
`handoff.services` decides (the same functions as `shouhu handoff`)."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.services import log_children_read, log_records_read
from shouhu.handoff import forms, selectors
from shouhu.handoff.models import Incoming, IncomingStatus
from shouhu.lib.formerrors import error_summary, refuse

LIST_ROWS = 200


def _supervisor(request: HttpRequest) -> User:
    """The signed-in user, who must send and receive hand-offs (else 403)."""
    user = request.user
    assert isinstance(user, User)
    if not access.handles_handoff(user):
        raise PermissionDenied
    return user


def _performed(form: Any) -> tuple[bool, int]:
    """Run a valid form through its service: (done, the status of a page shown again); a
    refusal of the person is put at the top of the form (403)."""
    if not form.is_valid():
        return False, 400
    try:
        form.perform()
    except ValidationError as exc:
        refuse(form, exc)
        return False, 400
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or _("You may not do this."))
        return False, 403
    return True, 200


@login_required
@require_GET
def handoff_home(request: HttpRequest) -> HttpResponse:
    """Packages waiting for review first, then those received and sent; each child shown is
    logged, and each package shown whose child is not registered here (yet)."""
    user = _supervisor(request)
    received = list(
        access.incoming_visible_to(user)
        .select_related("peer", "village", "child", "imported_by")
        .order_by("-imported_at", "-pk")[:LIST_ROWS]
    )
    sent = list(
        access.outgoing_visible_to(user)
        .select_related("child", "peer", "created_by")
        .order_by("-created_at", "-pk")[:LIST_ROWS]
    )
    log_children_read(
        user=user,
        child_ids=[r.child_id for r in received if r.child_id] + [s.child_id for s in sent],
        purpose="handoff_list",
        fields=[access.BASIC],
    )
    log_records_read(  # a package waiting for review: its child is not registered here yet
        user=user,
        object_type="handoff_incoming",
        object_ids=[r.pk for r in received if r.child_id is None],
        purpose="handoff_list",
        fields=[access.BASIC],
    )
    return render(
        request,
        "handoff/home.html",
        {
            "pending": [r for r in received if r.status == IncomingStatus.PENDING],
            "received": received,
            "sent": sent,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def export_package(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose a trusted deployment; the signed and encrypted package downloads."""
    user = request.user
    assert isinstance(user, User)
    child = access.get_child_for_user(user, pk, purpose="handoff_export")
    if not access.may_export_handoff(user, child):
        raise PermissionDenied
    form = forms.ExportForm(request.POST or None, user=user, child=child)
    status = 200
    if request.method == "POST":
        done, status = _performed(form)
        if done:
            exported = form.saved
            response = HttpResponse(exported.content, content_type="application/json")
            response["Content-Disposition"] = f'attachment; filename="{exported.file_name}"'
            return response
    return render(
        request,
        "handoff/export.html",
        {"child": child, "form": form, "error_summary": error_summary(form)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_package(request: HttpRequest) -> HttpResponse:
    user = _supervisor(request)
    form = forms.ImportForm(request.POST or None, request.FILES or None, user=user)
    status = 200
    if request.method == "POST":
        done, status = _performed(form)
        if done:
            incoming: Incoming = form.saved
            if incoming.status == IncomingStatus.PENDING:
                messages.warning(
                    request,
                    _("This child may be registered already: review the package."),
                )
            else:
                messages.success(request, _("%(name)s is registered.") % {"name": incoming.name})
            return redirect("handoff:incoming", incoming.pk)
    return render(
        request,
        "handoff/import.html",
        {"form": form, "error_summary": error_summary(form)},
        status=status,
    )


def _incoming_page(
    request: HttpRequest,
    user: User,
    incoming: Incoming,
    bound: django_forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    pending = incoming.status == IncomingStatus.PENDING
    register_form = forms.RegisterForm(user=user, incoming=incoming)
    attach_form = forms.AttachForm(
        user=user, incoming=incoming, candidates=selectors.candidate_queryset(user, incoming)
    )
    if isinstance(bound, forms.RegisterForm):
        register_form = bound
    elif isinstance(bound, forms.AttachForm):
        attach_form = bound
    context = {
        "incoming": incoming,
        "pending": pending,
        "register_form": register_form,
        "attach_form": attach_form,
        "error_summary": error_summary(bound) if bound is not None else [],
        **selectors.review(user, incoming),
    }
    return render(request, "handoff/incoming.html", context, status=status)


@login_required
@require_GET
def incoming_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _supervisor(request)
    incoming = access.get_incoming_for_user(user, pk, purpose="handoff_review")
    return _incoming_page(request, user, incoming)


@login_required
@require_POST
def incoming_register(request: HttpRequest, pk: int) -> HttpResponse:
    user = _supervisor(request)
    incoming = access.get_incoming_for_user(user, pk, purpose="handoff_review")
    form = forms.RegisterForm(request.POST, user=user, incoming=incoming)
    done, status = _performed(form)
    if not done:
        return _incoming_page(request, user, incoming, form, status)
    messages.success(request, _("%(name)s is registered.") % {"name": form.saved.name})
    return redirect("children:detail", pk=form.saved.pk)


@login_required
@require_POST
def incoming_attach(request: HttpRequest, pk: int) -> HttpResponse:
    user = _supervisor(request)
    incoming = access.get_incoming_for_user(user, pk, purpose="handoff_review")
    form = forms.AttachForm(
        request.POST,
        user=user,
        incoming=incoming,
        candidates=selectors.candidate_queryset(user, incoming),
    )
    done, status = _performed(form)
    if not done:
        return _incoming_page(request, user, incoming, form, status)
    messages.success(
        request,
        _("Saved: the package is attached to %(name)s's file; nothing in it was changed.")
        % {"name": form.cleaned_data["child"].name},
    )
    return redirect("children:detail", pk=form.cleaned_data["child"].pk)
