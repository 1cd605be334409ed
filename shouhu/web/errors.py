"""Errors a person can act on (issue 10).

An unexpected error gets a short reference number, written to the server log with the
traceback; the person sees a page in their language with that number and nothing else (no
traceback, POST body or environment, whatever DEBUG says for the demo). A failed POST from
a page keeps what was typed and goes back to the form with the reference, instead of a
dead end.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import loader
from django.utils.translation import gettext as _

from shouhu.lib import typed_input

logger = logging.getLogger("shouhu.errors")
EXPECTED = (Http404, PermissionDenied, SuspiciousOperation)


def new_reference() -> str:
    return secrets.token_hex(4).upper()


class ErrorReferenceMiddleware:
    """Logs an unexpected exception once with a reference; a failed form goes back to its
    page with what was typed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, EXPECTED):
            return None
        reference = new_reference()
        request.error_reference = reference  # type: ignore[attr-defined]
        logger.error("error %s: %s %s", reference, request.method, request.path, exc_info=exception)
        if request.method != "POST" or request.path.startswith("/api/"):
            return None
        page = typed_input.form_page(request)
        if not typed_input.keep(request, page=page):
            return None
        messages.error(
            request,
            _(
                "Your entry could not be saved (error reference %(ref)s). What you typed is "
                "back in the form below: please check it and save again."
            )
            % {"ref": reference},
        )
        return HttpResponseRedirect(page)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the error page in the person's language, with the reference."""
    reference = getattr(request, "error_reference", None) or new_reference()
    if not hasattr(request, "error_reference"):
        logger.error("error %s: %s %s (no exception seen)", reference, request.method, request.path)
    try:  # without the context processors: they read the database, which may be the fault
        html = loader.render_to_string("500.html", {"reference": reference})
        return HttpResponse(html, status=500)
    except Exception:  # the error page itself must not fail: plain text, both languages
        logger.exception("error %s: the error page failed", reference)
        return HttpResponse(
            f"出错了，参考号 {reference}。Something went wrong, reference {reference}.",
            status=500,
            content_type="text/plain; charset=utf-8",
        )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a page in the person's language saying what to do, instead of
    Django's page about DEBUG. The POST is not kept: it may not be the person's own."""
    logger.warning("csrf failure: %s %s (%s)", request.method, request.path, reason)
    html = loader.render_to_string("403_csrf.html", request=request)
    return HttpResponse(html, status=403)
