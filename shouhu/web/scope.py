"""One request, one computation of who sees what (`access.request_cache`)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from shouhu.access import request_cache


class RequestCacheMiddleware:
    """Reads that repeat within one request (a child's assignments) are made once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_cache():
            return self.get_response(request)
