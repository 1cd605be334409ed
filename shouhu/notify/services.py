"""Notifications through channels with one interface.

`send()` always writes the in-app inbox and then hands the message to every backend named in
`settings.SHOUHU_NOTIFY_BACKENDS` (dotted paths of classes with a `deliver(user, message)`
method). The default is the console backend, which writes to the log: nothing leaves the
machine unless an SMS or WeChat adapter is configured. A failing backend is logged and does
not stop the others, nor the inbox.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from shouhu.accounts.models import User
from shouhu.notify.models import Notification

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    category: str
    subject: str
    body: str = ""
    link: str = ""


class Backend(Protocol):
    name: str

    def deliver(self, user: User, message: Message) -> None: ...


class ConsoleBackend:
    """Writes each message to the `shouhu.notify` log (the default)."""

    name = "console"

    def deliver(self, user: User, message: Message) -> None:
        logger.info(
            "notify %s [%s] %s %s", user.username, message.category, message.subject, message.link
        )


class OutboxBackend:
    """Keeps messages in memory (tests and development): `OutboxBackend.outbox`."""

    name = "outbox"
    outbox: list[tuple[str, Message]] = []

    def deliver(self, user: User, message: Message) -> None:
        OutboxBackend.outbox.append((user.username, message))


@cache
def _backends(paths: tuple[str, ...]) -> list[Backend]:
    return [import_string(path)() for path in paths]


def backends() -> list[Backend]:
    paths = getattr(settings, "SHOUHU_NOTIFY_BACKENDS", ["shouhu.notify.services.ConsoleBackend"])
    return _backends(tuple(paths))


def send(
    users: Iterable[User], message: Message, *, now: dt.datetime | None = None
) -> list[Notification]:
    """Notify each user once (duplicates removed) in the inbox and through every backend."""
    now = now or timezone.now()
    unique = {u.pk: u for u in users if u.is_active}
    sent: list[Notification] = []
    for user in unique.values():
        delivered = ["inbox"]
        for backend in backends():
            try:
                backend.deliver(user, message)
                delivered.append(backend.name)
            except Exception:  # a channel failing must not lose the message
                logger.exception("notification backend %s failed", backend.name)
        sent.append(
            Notification.objects.create(
                user=user,
                category=message.category,
                subject=message.subject[:200],
                body=message.body,
                link=message.link[:300],
                created_at=now,
                channels=delivered,
            )
        )
    return sent


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(
    user: User, ids: Iterable[int] | None = None, *, now: dt.datetime | None = None
) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=now or timezone.now())
