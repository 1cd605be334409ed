"""The in-app inbox."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from shouhu.accounts.models import User
from shouhu.notify import services
from shouhu.notify.models import Notification


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    language = translation.get_language() or "zh-hans"
    rows = [
        {"n": n, "text": n.in_language(language)}
        for n in Notification.objects.filter(user=user)[:200]
    ]
    return render(request, "notify/inbox.html", {"rows": rows})


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    services.mark_read(user)
    return redirect("notify:inbox")
