"""The auditor's page: search the append-only access log."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.models import Action
from shouhu.audit.present import present_entry
from shouhu.audit.services import log_access
from shouhu.lib import dates
from shouhu.lib.text import printable

PAGE_SIZE = 100


def _day(value: str) -> dt.date | None:
    try:
        return parse_date(value.strip()) if value.strip() else None
    except ValueError:
        return None


@login_required
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not access.can_audit(user):
        raise PermissionDenied(
            _("Only administrators and civil-affairs officials read the access log.")
        )
    get = request.GET
    entries = access.access_log_visible_to(user)
    username = printable(get.get("user", ""), 150)
    if username:
        entries = entries.filter(username__icontains=username)
    child = get.get("child", "").strip()
    if child.isdigit() and len(child) < 19:
        entries = entries.filter(child_id=int(child))
    action = get.get("action", "")
    if action in Action.values:
        entries = entries.filter(action=action)
    since, until = _day(get.get("since", "")), _day(get.get("until", ""))
    if since:
        entries = entries.filter(at__gte=dates.start_of_day(since))
    if until:
        entries = entries.filter(at__lt=dates.start_of_day(until + dt.timedelta(days=1)))
    if get.get("break_glass"):
        entries = entries.filter(purpose="break_glass")
    page = Paginator(entries.select_related("user").order_by("-at", "-id"), PAGE_SIZE).get_page(
        get.get("page")
    )
    values = {
        "user": username,
        "child": child,
        "action": action if action in Action.values else "",
        "since": since,
        "until": until,
        "break_glass": bool(get.get("break_glass")),
    }
    # Reading the log is itself logged, with the search made.
    log_access(
        user=user,
        action=Action.READ_LOG,
        child_id=int(child) if child.isdigit() and len(child) < 19 else None,
        purpose="audit",
        detail={
            "filters": {
                k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items() if v
            },
            "page": page.number,
        },
    )
    query = urlencode({k: v for k, v in get.items() if k != "page" and v})
    context = {
        "page": page,
        "entries": [present_entry(e) for e in page.object_list],
        "query": query,
        "actions": Action.choices,
        "values": values,
    }
    return render(request, "audit/access_log.html", context)
