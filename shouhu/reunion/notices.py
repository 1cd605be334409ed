"""What people are told about reunion sessions: the parents' message with the room link
(in the parents' language, whatever the language of the page that caused it), the reminder
before a session, and after a re-planning who moved from when to when and who could not be
rebooked and why (parents, facilitators, the children's village directors)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import cast
from urllib.parse import quote

import jwt
from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _

from shouhu.children.models import PARENTS, FamilyMember
from shouhu.lib import clock
from shouhu.notify.services import Message, send, send_to_parent
from shouhu.reunion.models import (
    Facilitator,
    Rebooking,
    Session,
    SessionStatus,
    UnservedReason,
)
from shouhu.reunion.windows import when_text

# A reason given for a change: a lazy translation when the system gives it (each reader,
# and each message, gets it in their language), or what a person typed.
Text = str | Promise


def lazy_text(compose: Callable[[], str]) -> Promise:
    return cast(Promise, lazy(compose, str)())


def room_url(session: Session) -> str:
    """The Jitsi Meet link; with `SHOUHU_JITSI_APP_ID` and `SHOUHU_JITSI_SECRET` set, a
    signed token (JWT, HS256) limited to the room and the session's day is appended."""
    base = getattr(settings, "SHOUHU_JITSI_URL", "https://meet.example.org").rstrip("/")
    url = f"{base}/{quote(session.room)}"
    app, secret = (
        getattr(settings, "SHOUHU_JITSI_APP_ID", ""),
        getattr(settings, "SHOUHU_JITSI_SECRET", ""),
    )
    if app and secret:
        token = jwt.encode(
            {
                "aud": "jitsi",
                "iss": app,
                "sub": base.split("://", 1)[-1],
                "room": session.room,
                "nbf": int((session.starts_at - dt.timedelta(minutes=30)).timestamp()),
                "exp": int((session.starts_at + dt.timedelta(hours=2)).timestamp()),
            },
            secret,
            algorithm="HS256",
        )
        url = f"{url}?jwt={token}"
    return url


# The family's language is not recorded: parents are written to in the site's language.
PARENT_LANGUAGE = settings.LANGUAGE_CODE


def _parents_in(households: Iterable[int]) -> list[FamilyMember]:
    return list(
        FamilyMember.objects.filter(
            household_id__in=set(households), relation__in=PARENTS, away=True
        ).select_related("reunion_availability")
    )


def _parents_of(session: Session) -> list[FamilyMember]:
    return _parents_in(c.household_id for c in session.children.all())


def session_message(
    session: Session, *, changed: bool = False, was: Sequence[dt.datetime] = ()
) -> str:
    """The parents' message: who, when, where, the room link and the phone fallback; a
    changed session says the time it replaces. In the parents' language, whatever the
    language of the page that caused it."""
    with translation.override(PARENT_LANGUAGE):
        return _session_message(session, changed=changed, was=was)


def _session_message(session: Session, *, changed: bool, was: Sequence[dt.datetime]) -> str:
    names = "、".join(c.name for c in session.children.order_by("id"))
    when = when_text(session.starts_at)
    dialin = getattr(settings, "SHOUHU_JITSI_DIALIN", "")
    fallback = (
        _("If the video does not open, dial %(dialin)s and give the room name %(room)s.")
        % {"dialin": dialin, "room": session.room}
        if dialin
        else _("If the video does not open, the teacher will phone you at that time.")
    )
    head = ""
    if changed and was:
        head = _("Changed (was %(was)s): ") % {"was": "、".join(when_text(w) for w in was)}
    elif changed:
        head = _("Changed: ")
    return head + _(
        "[Shouhu] Video call with %(names)s on %(when)s at %(site)s. Join: %(url)s . %(fallback)s"
    ) % {
        "names": names,
        "when": when,
        "site": session.site.name,
        "url": room_url(session),
        "fallback": fallback,
    }


def tell_parents(
    session: Session, *, changed: bool, now: dt.datetime, was: Sequence[dt.datetime] = ()
) -> None:
    body = session_message(session, changed=changed, was=was)
    for member in _parents_of(session):
        channel = getattr(getattr(member, "reunion_availability", None), "channel", "sms")
        send_to_parent(member, "reunion", body, channel=channel, now=now)


def remind_sessions(
    *, before: dt.timedelta = dt.timedelta(hours=2), now: dt.datetime | None = None
) -> int:
    """The periodic job: remind parents of a session starting within `before` (once)."""
    now = now or clock.now()
    due = Session.objects.filter(
        status=SessionStatus.PLANNED,
        reminded_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + before,
    ).select_related("site")
    count = 0
    for session in due:
        tell_parents(session, changed=False, now=now)
        session.reminded_at = now
        session.save(update_fields=["reminded_at"])
        count += 1
    return count


def _why_label(rebooking: Rebooking) -> str:
    return str(UnservedReason(rebooking.unserved_reason).label) if rebooking.unserved_reason else ""


def _change_lines(rebookings: Sequence[Rebooking]) -> list[str]:
    """One line per cancelled session and outcome: the children's names, old → new time."""
    groups: dict[tuple[int, int | None, str], list[Rebooking]] = defaultdict(list)
    for r in rebookings:
        new_pk = r.new_session.pk if r.new_session else None
        groups[(r.session.pk, new_pk, r.unserved_reason)].append(r)
    lines = []
    for group in groups.values():
        first = group[0]
        names = "、".join(r.child.name for r in group)
        old, new = first.session, first.new_session
        if new is not None:
            lines.append(
                _("%(names)s: %(old)s → %(new)s, %(site)s, device %(device)s")
                % {
                    "names": names,
                    "old": when_text(old.starts_at),
                    "new": when_text(new.starts_at),
                    "site": new.site.name,
                    "device": new.device.label,
                }
            )
        else:
            lines.append(
                _("%(names)s: %(old)s → no new time this week (%(why)s)")
                % {"names": names, "old": when_text(old.starts_at), "why": _why_label(first)}
            )
    return lines


def tell_replanned(
    rebookings: Sequence[Rebooking],
    sessions: Sequence[Session],
    *,
    reason: Text,
    now: dt.datetime,
) -> None:
    """After a re-planning (one rebooking per child of each cancelled session, and the new
    `sessions`): parents, the sites' facilitators and the children's village directors learn
    who moved from when to when, and who could not be rebooked and why."""
    if not rebookings:
        return
    unserved = [r for r in rebookings if r.new_session is None]
    was: dict[int, set[dt.datetime]] = defaultdict(set)
    for r in rebookings:
        if r.new_session is not None:
            was[r.new_session.pk].add(r.session.starts_at)
    for new in sessions:
        tell_parents(new, changed=True, was=sorted(was[new.pk]), now=now)
    _tell_parents_unserved(unserved, reason=reason, now=now)

    def subject() -> str:
        return _(
            "Reunion sessions changed: %(reason)s. %(rebooked)s children rebooked, "
            "%(unserved)s not rebooked"
        ) % {
            "reason": str(reason),
            "rebooked": len({r.child_id for r in rebookings if r.new_session is not None}),
            "unserved": len({r.child_id for r in unserved}),
        }

    first = rebookings[0].session
    link = f"/reunion/sites/{first.site_id}/?week={first.schedule.week_start}"
    sites = {r.session.site_id for r in rebookings} | {s.site_id for s in sessions}
    people = [
        f.user
        for f in Facilitator.objects.filter(site_id__in=sites, active=True).select_related("user")
    ]
    send(
        people,
        lambda: Message("reunion_change", subject(), "\n".join(_change_lines(rebookings)), link),
        now=now,
    )
    from shouhu.screening.risk import directors_of

    directors = directors_of({r.child.residence_id for r in rebookings})
    for village, director in directors.items():
        if director.pk in {p.pk for p in people}:
            continue
        theirs = [r for r in rebookings if r.child.residence_id == village]
        send(
            [director],
            lambda theirs=theirs: Message(  # type: ignore[misc]
                "reunion_change", subject(), "\n".join(_change_lines(theirs)), "/reunion/"
            ),
            now=now,
        )


def _tell_parents_unserved(
    unserved: Sequence[Rebooking], *, reason: Text, now: dt.datetime
) -> None:
    groups: dict[tuple[int, int], list[Rebooking]] = defaultdict(list)
    for r in unserved:
        groups[(r.session.pk, r.child.household_id)].append(r)
    for (_session, household), group in groups.items():
        with translation.override(PARENT_LANGUAGE):
            body = _unserved_message(group, reason)
        for member in _parents_in({household}):
            channel = getattr(getattr(member, "reunion_availability", None), "channel", "sms")
            send_to_parent(member, "reunion", body, channel=channel, now=now)


def _unserved_message(group: Sequence[Rebooking], reason: Text) -> str:
    return str(
        _(
            "[Shouhu] The video call of %(names)s on %(when)s is cancelled (%(reason)s) and no "
            "new time could be found this week (%(why)s); the teacher will call you to arrange "
            "another."
        )
        % {
            "names": "、".join(r.child.name for r in group),
            "when": when_text(group[0].session.starts_at),
            "reason": reason,
            "why": _why_label(group[0]),
        }
    )
