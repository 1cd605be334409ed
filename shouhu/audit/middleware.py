from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from shouhu.audit import context


def client_ip(request: HttpRequest) -> str | None:
    # Behind a reverse proxy, configure it to set REMOTE_ADDR (e.g. uwsgi/gunicorn forwarded).
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    """Records the caller's address and channel (web or API) for the access log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        source = "api" if request.path.startswith("/api/") else "web"
        token = context.set_context(context.AuditContext(ip=client_ip(request), source=source))
        try:
            return self.get_response(request)
        finally:
            context.reset_context(token)
