"""Handing the phone back: while a child answers a questionnaire on the worker's device, and
after, the session is locked until the worker enters their password again.

Opening a questionnaire the child fills in (self-report) hands the device over: from then on
only that questionnaire and the hand-back page are reachable, without the navigation.

A child who has just answered must not see their own result ("a safeguarding alert has been
raised"), a classmate's, or anything else the worker's login opens. While locked, every page
of the session leads to the hand-back page; only the worker's password (or logging out)
unlocks it. Five wrong passwords end the session.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

KEY = "handback"
MAX_TRIES = 5


def start(request: HttpRequest, *, form_url: str, next_url: str) -> None:
    """The child takes the device to answer the questionnaire at `form_url`."""
    state = locked(request)
    tries = int(str(state.get("tries") or 0)) if state else 0
    request.session[KEY] = {"form": form_url, "next": next_url, "alert": False, "tries": tries}


def lock(request: HttpRequest, *, next_url: str, alert: bool) -> None:
    """The child has finished: nothing but the hand-back page until the password."""
    state = locked(request)
    tries = int(str(state.get("tries") or 0)) if state else 0
    request.session[KEY] = {"next": next_url, "alert": alert, "tries": tries}


def answering(request: HttpRequest) -> bool:
    """Whether a child is answering a questionnaire on this session's device now."""
    state = locked(request)
    return bool(state and state.get("form"))


def locked(request: HttpRequest) -> dict[str, object] | None:
    state = request.session.get(KEY) if hasattr(request, "session") else None
    return state if isinstance(state, dict) else None


def unlock(request: HttpRequest, password: str) -> tuple[bool, str, bool]:
    """(unlocked, where to go next, whether an alert was raised). A wrong password counts;
    the fifth logs the session out."""
    state = locked(request)
    if state is None:
        return True, "/", False
    if request.user.is_authenticated and request.user.check_password(password):
        del request.session[KEY]
        target = str(state.get("next") or "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "/"
        return True, target, bool(state.get("alert"))
    tries = int(str(state.get("tries") or 0)) + 1
    if tries >= MAX_TRIES:
        logout(request)
        return False, reverse("accounts:login"), False
    request.session[KEY] = {**state, "tries": tries}
    return False, "", False


class HandBackMiddleware:
    """While the session is locked, every page but the hand-back page and logging out
    answers with the hand-back page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = locked(request)
        if state is not None:
            page = reverse("screening:handback")
            allowed = {page, reverse("accounts:logout"), reverse("set_language")}
            form = str(state.get("form") or "")
            if form:
                allowed.add(urlsplit(form).path)
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect(form or page)
        return self.get_response(request)
