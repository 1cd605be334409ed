"""Login lockout (django-axes) on two counts: failures of one username from one address
(`AXES_FAILURE_LIMIT`, 5 by default) and failures of one username from any address
(`SHOUHU_LOGIN_USERNAME_FAILURE_LIMIT`, 20 by default), so that guessing a password from many
addresses locks the account too, while one person mistyping from one address does not lock
everyone else out at the same pace."""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class UsernameAndAddressHandler(AxesDatabaseHandler):
    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """Axes locks out at `AXES_FAILURE_LIMIT`: the failures of the username from this
        address, or those from every address scaled so that the username limit maps onto it."""
        here = int(super().get_failures(request, credentials))
        username = get_client_username(request, credentials)
        if not username:
            return here
        attempts = AccessAttempt.objects.filter(username=username)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        everywhere = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
        limit = settings.AXES_FAILURE_LIMIT
        per_username = max(settings.SHOUHU_LOGIN_USERNAME_FAILURE_LIMIT, limit)
        # everywhere * limit // per_username reaches `limit` exactly when everywhere reaches
        # `per_username`.
        return int(max(here, everywhere * limit // per_username))
