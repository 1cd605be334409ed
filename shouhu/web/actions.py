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
    """The page one level up from an action's address, if this site serves it."""
    trimmed = path.rstrip("/")
    if "/" not in trimmed:
        return None
    parent = trimmed.rsplit("/", 1)[0] + "/"
    if parent == "/":
        return None
    try:
        resolve(parent)
    except Resolver404:
        return None
    return parent


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
