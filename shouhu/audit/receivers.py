"""Login, logout and failed-login entries in the access log (Django's auth signals)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from shouhu.audit.models import Action
from shouhu.audit.services import log_access


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    log_access(user=user, action=Action.LOGIN)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        log_access(user=user, action=Action.LOGOUT)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    log_access(user=None, action=Action.LOGIN_FAILED, username=str(credentials.get("username", "")))
