"""Bearer-token authentication and the token endpoints."""

from __future__ import annotations

from typing import cast

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.security import HttpBearer

from shouhu.accounts.models import ApiToken, User
from shouhu.api import tokens
from shouhu.api.errors import error_body
from shouhu.api.schemas import Error, TokenIn, TokenOut


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; an expired, revoked or unknown token, or an inactive
    user, is 401."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return tokens.token_authenticate(token=token)


def current_token(request: HttpRequest) -> ApiToken:
    return cast(ApiToken, request.auth)  # type: ignore[attr-defined]


def current_user(request: HttpRequest) -> User:
    return current_token(request).user


router = Router(tags=["auth"])


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut, 400: Error, 401: Error, 413: Error, 429: Error},
    summary="Get a token",
)
def token_create(
    request: HttpRequest, payload: TokenIn, response: HttpResponse
) -> Status[dict[str, object]]:
    """Exchange a username and password for a bearer token. Failed attempts count towards
    the same login lockout as the web login: once locked out (429, with `Retry-After`), even
    the right password gets no token until the cool-off time has passed."""
    user = authenticate(request=request, username=payload.username, password=payload.password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            # Answer in JSON here; otherwise the axes middleware would replace the response
            # with the HTML lockout page.
            request.axes_locked_out = False  # type: ignore[attr-defined]
            cool_off = get_cool_off(request)
            if cool_off is not None:
                response["Retry-After"] = str(round(cool_off.total_seconds()))
            return Status(429, error_body(_("Too many failed logins. Try again later.")))
        return Status(401, error_body(_("Wrong username or password.")))
    assert isinstance(user, User)
    _logged_in(request, user)
    plain, row = tokens.token_issue(user=user)
    return Status(200, {"token": plain, "expires_at": row.expires_at})


def _logged_in(request: HttpRequest, user: User) -> None:
    """A token is a login: the access log, axes (which resets the failure count) and
    `last_login` all listen to this signal. Axes also creates a session to note its key; an
    API client has no use for it, so a session that did not exist before is dropped (no
    cookie is set, and later calls do not load and save it)."""
    fresh = not request.session.session_key
    user_logged_in.send(sender=User, request=request, user=user)
    if fresh:
        request.session.flush()


def _revoke(request: HttpRequest) -> HttpResponse:
    tokens.token_revoke(token=current_token(request))
    return HttpResponse(status=204)


@router.delete("/token", response={204: None, 401: Error}, summary="Revoke this token")
def token_delete(request: HttpRequest) -> HttpResponse:
    """Revoke the token sent with this request."""
    return _revoke(request)


@router.post("/token/revoke", response={204: None, 401: Error}, summary="Revoke this token")
def token_revoke(request: HttpRequest) -> HttpResponse:
    """Revoke the token sent with this request (for clients that cannot send DELETE)."""
    return _revoke(request)
