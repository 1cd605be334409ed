"""Every error of the API is JSON: `{"detail": "...", "errors": {"field": ["message"]}}`.

Field errors use the keys the registry services use (`name`, `members.0.away_since`,
`household.village_code`), whether they come from the request schema or from a service.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError

from shouhu.children.data import ConflictError

logger = logging.getLogger(__name__)

# The request parts ninja puts first in an error location, and the names of the endpoint
# parameters that hold a whole schema (they add nothing for the client).
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
_WRAPPERS = {"payload", "filters", "params"}
# Child fields of a registration are reported unprefixed, as `child_register` does.
_UNPREFIXED = {"child"}


def field_key(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if parts and parts[0] in _WRAPPERS:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in _UNPREFIXED:
        parts = parts[1:]
    return ".".join(parts) or "__all__"


def schema_errors(errors: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in errors:
        out.setdefault(field_key(error.get("loc", ())), []).append(str(error.get("msg", "")))
    return out


def service_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def error_body(detail: str, errors: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = dict(errors)
    return body


def install(api: NinjaAPI) -> None:
    """Register the JSON error handlers on the API."""

    def respond(request: HttpRequest, body: dict[str, Any], status: int) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(SchemaValidationError)
    def _schema(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
        body = error_body(_("The request is not valid."), schema_errors(exc.errors))
        return respond(request, body, 400)

    @api.exception_handler(DjangoValidationError)
    def _service(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return respond(request, error_body(_("The data is not valid."), service_errors(exc)), 400)

    @api.exception_handler(ConflictError)
    def _conflict(request: HttpRequest, exc: ConflictError) -> HttpResponse:
        return respond(request, error_body(str(exc)), 409)

    @api.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        message = str(exc) or _("You are not allowed to do this.")
        return respond(request, error_body(message), 403)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        # One message whatever the reason: missing and forbidden must look the same.
        return respond(request, error_body(_("Not found.")), 404)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        body = error_body(_("Authentication required: send a valid, unexpired bearer token."))
        response = respond(request, body, 401)
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return respond(request, error_body(_("The request is too large.")), 413)

    # A forged or broken request (bad host, too many fields, a body that cannot be read) is
    # the client's fault: Django answers these with 400, and so does the API.
    @api.exception_handler(SuspiciousOperation)
    def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return respond(request, error_body(_("The request is not valid.")), 400)

    @api.exception_handler(UnreadablePostError)
    def _unreadable(request: HttpRequest, exc: UnreadablePostError) -> HttpResponse:
        return respond(request, error_body(_("The request is not valid.")), 400)

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return respond(request, error_body(str(exc)), exc.status_code)

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        reference = secrets.token_hex(4).upper()
        logger.error("error %s: API %s %s", reference, request.method, request.path, exc_info=exc)
        detail = _("Internal error (reference %(ref)s).") % {"ref": reference}
        return respond(request, {**error_body(detail), "reference": reference}, 500)
