"""A GET on an action's address goes back to the page the action belongs to.

Actions are posted to addresses under their object's page (`/alerts/3/close/` under
`/alerts/3/`). When such an action's form comes back with an error, the browser shows it at
the action's address; reloading the page or switching the language then asks for that
address with GET. Instead of a bare "405 Method Not Allowed", the person lands on the
object's page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.templatetags.static import static
from django.urls import Resolver404, resolve


def object_page(path: str) -> str | None:
    """The nearest page above an action's address that this site serves
    (`/cases/5/goals/3/actions/` → `/cases/5/`)."""
    trimmed = path.rstrip("/")
    while "/" in trimmed:
        trimmed = trimmed.rsplit("/", 1)[0]
        if not trimmed:
            return None
        try:
            match = resolve(trimmed + "/")
        except Resolver404:
            continue
        view_class = getattr(match.func, "view_class", None)
        if view_class is not None and "get" not in view_class.http_method_names:
            continue  # another action's address
        return trimmed + "/"
    return None


class ActionPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.method in ("GET", "HEAD")
            and not request.path.startswith("/api/")
        ):
            page = object_page(request.path)
            if page is not None:
                return HttpResponseRedirect(page)
        return response


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: the site's icon."""
    return HttpResponsePermanentRedirect(static("shouhu/favicon.svg"))
