"""API bearer tokens: issue, check, revoke. Only the SHA-256 of a token is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils.crypto import constant_time_compare

from shouhu.accounts.models import ApiToken, User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access
from shouhu.lib import clock

# Tokens are URL-safe base64 (about 43 characters for 32 bytes); anything much longer is not
# one of ours and is refused before hashing.
MAX_TOKEN_LENGTH = 200


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_issue(*, user: User, now: dt.datetime | None = None) -> tuple[str, ApiToken]:
    """A new random token for the user; returns the plaintext (shown once) and its row."""
    now = now or clock.now()
    plain = secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        digest=token_digest(plain),
        expires_at=now + dt.timedelta(hours=settings.API_TOKEN_HOURS),
        password_stamp=user.get_session_auth_hash(),
    )
    log_access(
        user=user,
        action=Action.TOKEN_ISSUED,
        object_type="apitoken",
        object_id=str(row.pk),
        detail={"expires_at": row.expires_at.isoformat()},
    )
    return plain, row


def token_authenticate(*, token: str, now: dt.datetime | None = None) -> ApiToken | None:
    """The live token row (with its active user) for a presented token, or None. A token
    issued before the user's password last changed is dead (as a session would be)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = now or clock.now()
    row = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    if not constant_time_compare(row.password_stamp, row.user.get_session_auth_hash()):
        return None
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


@transaction.atomic
def token_revoke(*, token: ApiToken, now: dt.datetime | None = None) -> ApiToken:
    token.revoked_at = now or clock.now()
    token.save(update_fields=["revoked_at"])
    return token
