"""Safeguarding alerts: raised by critical answers, acknowledged within a set time, escalated
level by level when they are not.

Levels: 0 the designated responders of the organisation that gave the instrument (or, when it
has none, the child directors of the child's village) together with the worker who gave it;
1 the township supervisors; 2 the county civil-affairs officers. An imminent-risk alert goes
at once, in parallel, to level 0 and the township supervisors of the child's area (who see its
reasons and may acknowledge it like a responder); an urgent one climbs a level at a time.
Acknowledgement deadlines
come from `settings.SHOUHU_ALERT_ACK_MINUTES` (default 30 minutes for imminent risk, 24 hours
otherwise). `escalate_overdue()` is the periodic job (`shouhu safeguarding escalate`): it is
idempotent and takes the clock as an argument so that tests control time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import OrgKind, Role, User
from shouhu.audit.services import log_children_read
from shouhu.children.models import Child
from shouhu.lib import clock
from shouhu.notify.services import Message, send, settle
from shouhu.screening.models import (
    Administration,
    Alert,
    AlertEvent,
    AlertStatus,
    EventKind,
    Level,
    Priority,
    Responder,
)

ALERT_ACTIONS = frozenset({"alert", "imminent", "mandatory_report"})
DEFAULT_ACK_MINUTES = {Priority.IMMINENT: 30, Priority.URGENT: 24 * 60}


def ack_minutes(priority: str) -> int:
    configured: dict[str, int] = getattr(settings, "SHOUHU_ALERT_ACK_MINUTES", {})
    return int(configured.get(priority, DEFAULT_ACK_MINUTES[Priority(priority)]))


def recipients_for(alert: Alert, level: int) -> list[User]:
    child = alert.child
    if level == Level.RESPONDER:
        people: list[User] = []
        if alert.organisation_id is not None:
            people = [
                r.user
                for r in Responder.objects.filter(
                    organisation_id=alert.organisation_id, user__is_active=True
                ).select_related("user")
            ]
        if not people:
            people = access.members_over(
                child, [Role.CHILD_DIRECTOR], organisation__jurisdiction_id=child.residence_id
            )
        raiser = raised_by(alert)
        if raiser is not None:
            people.append(raiser)
        return people
    if level == Level.SUPERVISOR:
        return access.members_over(child, [Role.SUPERVISOR])
    return access.members_over(child, [Role.OFFICIAL], organisation__kind=OrgKind.CIVIL_AFFAIRS)


def first_levels(priority: str) -> list[int]:
    """Who is told when an alert is raised: imminent risk cannot wait for an escalation."""
    if priority == Priority.IMMINENT:
        return [Level.RESPONDER, Level.SUPERVISOR]
    return [Level.RESPONDER]


def _notify(
    alert: Alert, levels: Sequence[int], now: dt.datetime, *, escalated: bool
) -> list[User]:
    people = list({u.pk: u for level in levels for u in recipients_for(alert, level)}.values())
    link = reverse("screening:alert", args=[alert.pk])

    def message() -> Message:
        if alert.priority == Priority.IMMINENT:
            subject = _("Imminent risk: a child needs help now (alert %(id)s)") % {"id": alert.pk}
        else:
            subject = _("Safeguarding alert %(id)s needs your acknowledgement") % {"id": alert.pk}
        if escalated:
            subject = _("Escalated: %(subject)s") % {"subject": subject}
        body = _("Acknowledge by %(due)s and record what you do.") % {
            "due": timezone.localtime(alert.due_at).strftime("%Y-%m-%d %H:%M")
        }
        return Message("safeguarding", subject, body, link)

    send(people, message, now=now)
    alert.recipients.add(*people)
    AlertEvent.objects.create(
        alert=alert,
        at=now,
        kind=EventKind.NOTIFIED,
        note=",".join(str(level) for level in levels),  # shown by `event_note`
        recipients=sorted({u.pk for u in people}),
    )
    return people


def raise_for(administration: Administration, now: dt.datetime | None = None) -> Alert | None:
    """The alert owed for a submitted administration (`raise_alert`)."""
    return raise_alert(
        child=administration.child,
        by=administration.administered_by,
        instrument=administration.instrument,
        organisation_id=administration.organisation_id,
        flags=administration.flags,
        administration=administration,
        now=now,
    )


def raise_alert(
    *,
    child: Child,
    by: User,
    instrument: str,
    organisation_id: int | None,
    flags: Sequence[dict[str, Any]],
    administration: Administration | None,
    now: dt.datetime | None = None,
) -> Alert | None:
    """The alert owed for critical flags of `by`'s answers (None when they raise none). With
    no `administration` the answers are an unfinished questionnaire ("immediate danger" at
    a home visit kept to finish later): danger cannot wait for the rest of the answers.
    An alert already raised from the same worker's draft of this questionnaire is not
    raised twice: the submitted questionnaire is attached to it."""
    raised = [f for f in flags if f.get("action") in ALERT_ACTIONS]
    if not raised:
        return None
    now = now or clock.now()
    earlier = _raised_from_draft(child, by, instrument)
    codes = {f["code"] for f in raised}
    if earlier is not None and codes <= {f["code"] for f in earlier.flags}:
        if administration is not None:
            earlier.administration = administration
            earlier.save(update_fields=["administration"])
        return earlier
    priority = (
        Priority.IMMINENT if any(f["action"] == "imminent" for f in raised) else Priority.URGENT
    )
    alert = Alert.objects.create(
        child=child,
        administration=administration,
        organisation_id=organisation_id,
        priority=priority,
        flags=[
            {"code": f["code"], "action": f["action"], "instrument": instrument}
            | ({} if administration is not None else {"draft": True})
            for f in raised
        ],
        raised_at=now,
        due_at=now + dt.timedelta(minutes=ack_minutes(priority)),
    )
    AlertEvent.objects.create(alert=alert, at=now, by=by, kind=EventKind.RAISED)
    _notify(alert, first_levels(priority), now, escalated=False)
    return alert


def _raised_from_draft(child: Child, by: User, instrument: str) -> Alert | None:
    """The open alert this worker raised from an unfinished questionnaire of this kind."""
    candidates = Alert.objects.filter(
        child=child,
        administration__isnull=True,
        events__kind=EventKind.RAISED,
        events__by=by,
    ).exclude(status=AlertStatus.CLOSED)
    for alert in candidates.order_by("-raised_at"):
        if any(f.get("instrument") == instrument and f.get("draft") for f in alert.flags):
            return alert
    return None


def raised_by(alert: Alert) -> User | None:
    if alert.administration is not None:
        return alert.administration.administered_by
    event = alert.events.filter(kind=EventKind.RAISED).select_related("by").first()
    return event.by if event is not None else None


def escalate_overdue(now: dt.datetime | None = None) -> list[Alert]:
    """Move every unacknowledged alert past its deadline up one level and notify that level.
    Running it twice at the same time changes nothing the second time."""
    now = now or clock.now()
    escalated: list[Alert] = []
    due = Alert.objects.filter(
        status=AlertStatus.OPEN, due_at__lte=now, level__lt=Level.COUNTY
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update(of=("self",))
                .select_related("child", "administration__administered_by")
                .get(pk=pk)
            )
            if (
                alert.status != AlertStatus.OPEN
                or alert.due_at > now
                or alert.level >= Level.COUNTY
            ):
                continue
            alert.level += 1
            alert.due_at = now + dt.timedelta(minutes=ack_minutes(alert.priority))
            alert.save(update_fields=["level", "due_at"])
            AlertEvent.objects.create(
                alert=alert, at=now, kind=EventKind.ESCALATED, note=str(alert.level)
            )
            _notify(alert, [alert.level], now, escalated=True)
            escalated.append(alert)
    return escalated


alerts_visible_to = access.alerts_visible_to


def alerts_listed(
    user: User, *, status: str | None = None, purpose: str, limit: int = 500
) -> list[Alert]:
    """The alerts a list shows (newest first, at most `limit`), written to the access log
    with the children they name."""
    rows = alerts_visible_to(user)
    if status:
        rows = rows.filter(status=status)
    alerts = list(rows.order_by("-raised_at", "-id")[:limit])
    log_children_read(
        user=user,
        child_ids=[a.child_id for a in alerts],
        purpose=purpose,
        object_type="alert",
        detail={"alert_ids": [a.pk for a in alerts]},
    )
    return alerts


get_alert_for_user = access.get_alert_for_user


@transaction.atomic
def acknowledge(
    *, actor: User, alert: Alert, note: str = "", now: dt.datetime | None = None
) -> Alert:
    """The first acknowledgement stops escalation; only people notified of it may give it."""
    now = now or clock.now()
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if not access.may_handle_alert(actor, alert):
        raise PermissionDenied(_("Only the people notified of this alert can acknowledge it."))
    if alert.status != AlertStatus.OPEN:
        raise ValidationError(_("This alert has already been acknowledged."))
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by = actor
    alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    AlertEvent.objects.create(
        alert=alert, at=now, by=actor, kind=EventKind.ACKNOWLEDGED, note=note.strip()
    )
    return alert


@transaction.atomic
def record_action(
    *, actor: User, alert: Alert, note: str, close: bool = False, now: dt.datetime | None = None
) -> Alert:
    """Record an action taken (required text); `close` ends the alert once acknowledged."""
    now = now or clock.now()
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if not access.may_handle_alert(actor, alert):
        raise PermissionDenied(_("Only the people notified of this alert can act on it."))
    if not note.strip():
        raise ValidationError({"note": _("Say what was done.")})
    if alert.status == AlertStatus.CLOSED:
        raise ValidationError(_("This alert is closed."))
    if close and alert.status != AlertStatus.ACKNOWLEDGED:
        raise ValidationError(_("Acknowledge the alert before closing it."))
    AlertEvent.objects.create(
        alert=alert,
        at=now,
        by=actor,
        kind=EventKind.CLOSED if close else EventKind.ACTION,
        note=note.strip(),
    )
    if close:
        alert.status = AlertStatus.CLOSED
        alert.closed_at = now
        alert.save(update_fields=["status", "closed_at"])
        settle(alert.recipients.all(), reverse("screening:alert", args=[alert.pk]), now=now)
        from shouhu.screening import risk

        risk.recompute(alert.child, now=now)
    return alert


def event_note(event: AlertEvent) -> str:
    """An event's note in the reader's language: the levels told or escalated to are kept as
    numbers (older rows hold the labels of the language they were written in)."""
    note = event.note
    if event.kind in (EventKind.NOTIFIED, EventKind.ESCALATED) and all(
        part.isdigit() and int(part) in Level.values for part in note.split(",")
    ):
        return _(", ").join(str(Level(int(part)).label) for part in note.split(","))
    return note


def present_alert(alert: Alert, *, reasons: bool, language: str = "zh-Hans") -> dict[str, Any]:
    """An alert for a list or page. `reasons` (the flags that raised it, i.e. what the child
    answered) and the first steps that fit them only for the people asked to respond
    (`access.alerts_with_reasons`); supervisors and officials who follow their area's alerts
    see the priority and the action owed."""
    from shouhu.screening import guidance, labels

    with translation.override("en" if language == "en" else "zh-hans"):
        view: dict[str, Any] = {
            "id": alert.pk,
            "child": alert.child_id,
            "child_name": alert.child.name,
            "priority": alert.priority,
            "priority_label": str(Priority(alert.priority).label),
            "status": alert.status,
            "status_label": str(AlertStatus(alert.status).label),
            "level": alert.level,
            "flags": [],
            "reasons": [],
            "reasons_shown": reasons,
            "guidance": [guidance.generic_for(alert.priority)],
            "raised_at": alert.raised_at,
            "due_at": alert.due_at,
            "acknowledged_at": alert.acknowledged_at,
            "overdue": alert.status == AlertStatus.OPEN and alert.due_at <= clock.now(),
        }
        if reasons:
            given = alert.administration
            code = given.instrument if given is not None else None
            code = code or next((f.get("instrument") for f in alert.flags), None)
            inst = labels.definition(code)
            view["flags"] = [f["code"] for f in alert.flags]
            view["reasons"] = labels.flag_labels(inst, alert.flags, language)
            view["guidance"] = guidance.steps_for(alert.flags, priority=alert.priority)
    return view


def open_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    return [a for a in alerts if a.status != AlertStatus.CLOSED]
