"""Safeguarding alerts over the API: the list, acknowledging and closing, with the same
services (`safeguarding`) and access rules (`access.may_handle_alert`,
`access.alerts_with_reasons`) as the alert pages. Every read is written to the access log
with the child."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema

from shouhu import access
from shouhu.accounts.models import User
from shouhu.api.auth import current_user
from shouhu.api.schemas import MAX_ID, Clean, Error, Strict
from shouhu.screening import safeguarding
from shouhu.screening.models import Alert

router = Router(tags=["alerts"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}


class AlertOut(Schema):
    id: int
    child: int = Field(description="The child's id")
    child_name: str
    priority: Literal["imminent", "urgent"]
    priority_label: str
    status: Literal["open", "acknowledged", "closed"]
    status_label: str
    level: int = Field(description="0 responders, 1 township supervisors, 2 county officers")
    reasons_shown: bool = Field(
        description="Whether you see what raised the alert (you were asked to respond to it)"
    )
    flags: list[str] = Field(description="Codes of what raised it; empty unless reasons_shown")
    reasons: list[str] = Field(description="What raised it, in words; empty unless reasons_shown")
    guidance: list[str] = Field(description="What to do first (fits the reasons when shown)")
    may_act: bool = Field(description="Whether you may acknowledge, record actions and close")
    raised_at: dt.datetime
    due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    overdue: bool


class AlertList(Schema):
    items: list[AlertOut]


class AlertListQuery(Clean):
    status: Literal["open", "acknowledged", "closed"] | None = None


class AlertNoteIn(Strict):
    """The page's `AlertNoteForm`: what was done (required to close)."""

    note: str = Field("", max_length=5000)


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-Hans"


def _out(user: User, alert: Alert, *, reasons: bool, may_act: bool) -> dict[str, Any]:
    view = safeguarding.present_alert(alert, reasons=reasons, language=_language())
    return {**view, "may_act": may_act}


def _alert(request: HttpRequest, alert_id: int) -> tuple[User, Alert]:
    if not 0 < alert_id <= MAX_ID:
        raise Http404
    user = current_user(request)
    return user, safeguarding.get_alert_for_user(user, alert_id)


@router.get("", response={200: AlertList, **ERRORS}, summary="Safeguarding alerts")
def alerts_list(request: HttpRequest, query: Query[AlertListQuery]) -> dict[str, Any]:
    """Alerts you were notified of, and those of children in your jurisdiction, newest
    first (at most 500). `flags`, `reasons` and the guidance that fits them are filled only
    for alerts you were asked to respond to; for the others `reasons_shown` is false."""
    user = current_user(request)
    alerts = safeguarding.alerts_listed(user, status=query.status, purpose="api_alerts")
    shown = access.alerts_with_reasons(user, alerts)
    return {"items": [_out(user, a, reasons=a.pk in shown, may_act=a.pk in shown) for a in alerts]}


def _after(user: User, alert: Alert) -> dict[str, Any]:
    alert.refresh_from_db()
    handles = access.may_handle_alert(user, alert)
    return _out(user, alert, reasons=handles, may_act=handles)


@router.post("/{alert_id}/acknowledge", response={200: AlertOut, **ERRORS}, summary="Acknowledge")
def alert_acknowledge(request: HttpRequest, alert_id: int, payload: AlertNoteIn) -> dict[str, Any]:
    """Acknowledge an open alert (stops its escalation), with an optional note. Only the
    people asked to respond may (403 for others who follow the area's alerts); an alert
    already acknowledged is 400."""
    user, alert = _alert(request, alert_id)
    safeguarding.acknowledge(actor=user, alert=alert, note=payload.note)
    return _after(user, alert)


@router.post("/{alert_id}/close", response={200: AlertOut, **ERRORS}, summary="Close")
def alert_close(request: HttpRequest, alert_id: int, payload: AlertNoteIn) -> dict[str, Any]:
    """Close an acknowledged alert, saying what was done (`note` required). The same rules
    as the page: only the people asked to respond; an open alert must be acknowledged
    first (400)."""
    user, alert = _alert(request, alert_id)
    safeguarding.record_action(actor=user, alert=alert, note=payload.note, close=True)
    return _after(user, alert)


@router.post("/{alert_id}/action", response={200: AlertOut, **ERRORS}, summary="Record an action")
def alert_action(request: HttpRequest, alert_id: int, payload: AlertNoteIn) -> dict[str, Any]:
    """Record what was done on an acknowledged alert without closing it (`note` required):
    the page's "Record an action"."""
    user, alert = _alert(request, alert_id)
    safeguarding.record_action(actor=user, alert=alert, note=payload.note, close=False)
    return _after(user, alert)
