"""Writes on accounts that other layers share: revoking a user's API tokens."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from shouhu.accounts.models import ApiToken, User
from shouhu.lib import clock


@transaction.atomic
def api_tokens_revoke(*, user: User, now: dt.datetime | None = None) -> int:
    """Revoke every live API token of the user (a password change or reset): returns how
    many. Tokens also die by themselves when the password changes (`password_stamp`); this
    records when."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=now or clock.now()
    )
