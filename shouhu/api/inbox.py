"""The in-app inbox over the API: what the inbox page shows, and marking messages read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import translation
from ninja import Field, Query, Router, Schema

from shouhu.api.auth import current_user
from shouhu.api.schemas import MAX_ID, Clean, Error, Strict
from shouhu.notify import services
from shouhu.notify.models import Notification

router = Router(tags=["inbox"])
ERRORS: dict[int, Any] = {400: Error, 401: Error}


class MessageOut(Schema):
    id: int
    category: str
    subject: str = Field(description="In the reader's language (Accept-Language) where kept")
    body: str
    link: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class InboxOut(Schema):
    unread: int
    items: list[MessageOut]


class InboxQuery(Clean):
    unread: bool = False


class ReadIn(Strict):
    ids: list[int] | None = Field(
        None, max_length=500, description="The messages to mark read; all unread if absent"
    )


class ReadOut(Schema):
    marked: int


@router.get("/inbox", response={200: InboxOut, **ERRORS}, summary="Your messages")
def inbox(request: HttpRequest, query: Query[InboxQuery]) -> dict[str, Any]:
    """Your latest 200 messages, newest first (only the unread with `unread=true`)."""
    user = current_user(request)
    language = translation.get_language() or "zh-hans"
    rows = Notification.objects.filter(user=user)
    if query.unread:
        rows = rows.filter(read_at__isnull=True)
    items = []
    for n in rows[:200]:
        subject, body = n.in_language(language)
        items.append(
            {
                "id": n.pk,
                "category": n.category,
                "subject": subject,
                "body": body,
                "link": n.link,
                "created_at": n.created_at,
                "read_at": n.read_at,
            }
        )
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return {"unread": unread, "items": items}


@router.post("/inbox/read", response={200: ReadOut, **ERRORS}, summary="Mark messages read")
def mark_read(request: HttpRequest, payload: ReadIn) -> dict[str, int]:
    user = current_user(request)
    ids = None if payload.ids is None else [i for i in payload.ids if 0 < i <= MAX_ID]
    return {"marked": services.mark_read(user, ids)}
