"""Attendance at a session, the contact log of a child with the parents, and the daily
alert about children with no contact for a week."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock
from shouhu.notify.services import Message, send
from shouhu.reunion.models import (
    IN_PERSON,
    Attendance,
    Contact,
    ContactMode,
    Session,
    SessionStatus,
)
from shouhu.reunion.windows import when_text


@transaction.atomic
def attendance_record(
    *,
    actor: User,
    session: Session,
    rows: Sequence[dict[str, Any]],
    now: dt.datetime | None = None,
) -> Session:
    """The facilitator marks each child: came, parent joined, minutes, problems, why not,
    and the child's five-face feeling. A parent who joined is a contact in the log."""
    now = now or clock.now()
    if not (access.facilitates(actor, session.site) or access.manages_site(actor, session.site)):
        raise PermissionDenied(_("Only the site's facilitators mark attendance."))
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError(_("This session was cancelled; there is no attendance to mark."))
    if session.starts_at > now:
        raise ValidationError(
            _("This session starts at %(when)s: mark attendance once it has begun.")
            % {"when": when_text(session.starts_at)}
        )
    kids = {c.pk: c for c in session.children.all()}
    errors: dict[str, list[str]] = {}
    for index, row in enumerate(rows):
        if row.get("child") not in kids:
            errors[f"rows.{index}.child"] = [_("This child is not in the session.")]
        if not 0 <= int(row.get("minutes") or 0) <= 240:
            errors[f"rows.{index}.minutes"] = [_("Between 0 and 240.")]
        feeling = row.get("feeling")
        if feeling not in (None, "", 1, 2, 3, 4, 5):
            errors[f"rows.{index}.feeling"] = [_("1 to 5.")]
        if not row.get("present") and not str(row.get("no_show_reason", "")).strip():
            errors[f"rows.{index}.no_show_reason"] = [_("Say why the child did not come.")]
    if errors:
        raise ValidationError(errors)
    held = False
    for row in rows:
        child = kids[row["child"]]
        present, joined = bool(row.get("present")), bool(row.get("parent_joined"))
        Attendance.objects.update_or_create(
            session=session,
            child=child,
            defaults={
                "present": present,
                "parent_joined": joined,
                "minutes": int(row.get("minutes") or 0),
                "quality_problems": str(row.get("quality_problems", ""))[:200],
                "no_show_reason": str(row.get("no_show_reason", ""))[:200],
                "feeling": row.get("feeling") or None,
                "recorded_by": actor,
                "recorded_at": now,
            },
        )
        if present and joined:
            held = True
            Contact.objects.update_or_create(
                child=child,
                session=session,
                defaults={
                    "mode": ContactMode.REUNION,
                    "on": timezone.localtime(session.starts_at).date(),
                    "minutes": int(row.get("minutes") or 0),
                    "recorded_by": actor,
                },
            )
    session.status = SessionStatus.HELD if held else SessionStatus.MISSED
    session.save(update_fields=["status"])
    return session


@transaction.atomic
def contact_add(
    *,
    actor: User,
    child: Child,
    mode: str,
    on: dt.date,
    member: FamilyMember | None = None,
    minutes: int | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> Contact:
    """A contact of the child with a parent; a date still to come is refused."""
    if not access.may_log_contact(actor, child):
        raise PermissionDenied(_("You do not work with this child."))
    errors: dict[str, list[str]] = {}
    if mode not in ContactMode.values:
        errors["mode"] = [_("Choose one of the listed values.")]
    if on > (today or clock.today()):
        errors["on"] = [_("The date is in the future.")]
    if member is not None and member.household_id != child.household_id:
        errors["member"] = [_("Choose a member of the child's family.")]
    if minutes is not None and not 0 <= minutes <= 24 * 60:
        errors["minutes"] = [_("Between 0 and 1,440.")]
    if errors:
        raise ValidationError(errors)
    contact = Contact.objects.create(
        child=child,
        member=member,
        mode=mode,
        on=on,
        minutes=minutes,
        note=note.strip()[:300],
        recorded_by=actor,
    )
    if mode in IN_PERSON:
        from shouhu.screening import risk

        risk.recompute(child)
    return contact


def no_contact_alerts(*, days: int | None = None, now: dt.datetime | None = None) -> int:
    """Daily job: tell each child director about the participating children of their village
    with no contact with a parent for `days` (default `SHOUHU_NO_CONTACT_DAYS`, 7)."""
    from shouhu.screening.risk import directors_of

    now = now or clock.now()
    days = days or int(getattr(settings, "SHOUHU_NO_CONTACT_DAYS", 7))
    since = timezone.localtime(now).date() - dt.timedelta(days=days)
    recent = Contact.objects.filter(on__gt=since).values("child_id")
    quiet = list(
        Child.objects.filter(reunion__active=True)
        .exclude(pk__in=recent)
        .only("pk", "name", "residence_id")
    )
    by_village: dict[str, list[Child]] = defaultdict(list)
    for child in quiet:
        by_village[child.residence_id].append(child)
    directors = directors_of(by_village)
    for village, kids in by_village.items():
        director = directors.get(village)
        if director is None:
            continue
        send(
            [director],
            lambda kids=kids: Message(  # type: ignore[misc]
                "no_contact",
                _("%(n)s children have had no contact with a parent for %(days)s days")
                % {"n": len(kids), "days": days},
                "、".join(c.name for c in kids[:20]),
                "/reunion/",
            ),
            now=now,
        )
    return len(quiet)
