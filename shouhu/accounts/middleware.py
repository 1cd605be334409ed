from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Pages with children's data must not sit in browser or proxy caches (ASVS 14.3.2)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, " + response["Cache-Control"]
        return response


class ContentSecurityPolicyMiddleware:
    """`Content-Security-Policy` on every response (`settings.SHOUHU_CSP`): scripts only from
    our own static files, never inline, nothing framed, forms posted only to us. It applies in
    development too, so an inline script breaks the browser tests rather than production."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        if settings.SHOUHU_CSP and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.SHOUHU_CSP
        return response
