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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.utils import translation
from django.utils.module_loading import import_string

from shouhu.accounts.models import User
from shouhu.lib import clock
from shouhu.notify.models import Notification, ParentMessage

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


Compose = Callable[[], Message]


def send(
    users: Iterable[User], message: Message | Compose, *, now: dt.datetime | None = None
) -> list[Notification]:
    """Notify each user once (duplicates removed) in the inbox and through every backend.
    Given a function that composes the message (with `gettext`), it is composed in Chinese
    and in English, and each reader's inbox shows the language they read the site in;
    the channels carry the Chinese."""
    now = now or clock.now()
    if callable(message):
        with translation.override("zh-hans"):
            chinese = message()
        with translation.override("en"):
            english = message()
    else:
        chinese, english = message, None
    unique = {u.pk: u for u in users if u.is_active}
    sent: list[Notification] = []
    for user in unique.values():
        delivered = ["inbox"]
        for backend in backends():
            try:
                backend.deliver(user, chinese)
                delivered.append(backend.name)
            except Exception:  # a channel failing must not lose the message
                logger.exception("notification backend %s failed", backend.name)
        sent.append(
            Notification.objects.create(
                user=user,
                category=chinese.category,
                subject=chinese.subject[:200],
                body=chinese.body,
                subject_en=english.subject[:200] if english else "",
                body_en=english.body if english else "",
                link=chinese.link[:300],
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
    return rows.update(read_at=now or clock.now())


def settle(users: Iterable[User], link: str, *, now: dt.datetime | None = None) -> int:
    """The matter behind `link` is dealt with (an alert closed): its notifications stop
    waiting in the inboxes of those told of it (looked up through each user's unread
    messages, which are indexed, not across every notification ever sent)."""
    rows = Notification.objects.filter(
        user__in=[u.pk for u in users], read_at__isnull=True, link=link
    )
    return rows.update(read_at=now or clock.now())


class ParentBackend(Protocol):
    name: str

    def deliver(self, phone: str, channel: str, body: str) -> None: ...


class ConsoleParentBackend:
    """Writes parent messages to the log with the number masked (the default)."""

    name = "console"

    def deliver(self, phone: str, channel: str, body: str) -> None:
        masked = f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"
        logger.info("parent %s via %s: %s", masked, channel, body)


class ParentOutbox:
    """Keeps parent messages in memory (tests): `ParentOutbox.outbox`."""

    name = "outbox"
    outbox: list[tuple[str, str, str]] = []

    def deliver(self, phone: str, channel: str, body: str) -> None:
        ParentOutbox.outbox.append((phone, channel, body))


def parent_backends() -> list[ParentBackend]:
    paths = getattr(
        settings, "SHOUHU_PARENT_BACKENDS", ["shouhu.notify.services.ConsoleParentBackend"]
    )
    return _backends(tuple(paths))  # type: ignore[return-value]


def send_to_parent(
    member: Any, category: str, body: str, *, channel: str = "sms", now: dt.datetime | None = None
) -> ParentMessage:
    """Record and send a message to a family member through every parent backend; a member
    without a phone number gets the record only (the facilitator calls instead)."""
    from shouhu.lib import protect

    now = now or clock.now()
    message = ParentMessage.objects.create(
        member=member, channel=channel, category=category, body=body, created_at=now
    )
    phone = protect.unseal(member.phone_enc)
    if not phone:
        return message
    delivered = []
    for backend in parent_backends():
        try:
            backend.deliver(phone, channel, body)
            delivered.append(backend.name)
        except Exception:
            logger.exception("parent backend %s failed", backend.name)
    message.sent_at = now if delivered else None
    message.backends = delivered
    message.save(update_fields=["sent_at", "backends"])
    return message
