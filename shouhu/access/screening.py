"""Screening and safeguarding: alerts, mandatory reports, group screenings and results."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from shouhu.access.core import (
    RESULTS_FULL,
    RESULTS_NONE,
    SENSITIVE,
    _key,
    _model,
    _opened,
    _opened_with_children,
    can_see,
    get_child_for_user,
    grants_for,
    jurisdiction_q,
    screening_access,
)
from shouhu.accounts.models import Role, User

if TYPE_CHECKING:
    from shouhu.children.models import Child

__all__ = [
    "FOLLOW_UP_ROLES",
    "alerts_visible_to",
    "alerts_with_reasons",
    "get_administration_for_user",
    "get_alert_for_user",
    "get_group_for_user",
    "get_report_for_user",
    "may_handle_alert",
    "may_see_reporter",
    "may_see_risk_reasons",
    "reports_visible_to",
]

# ---------------------------------------------------------------- screening and safeguarding
# The getters of the screening app's objects: each one that returns a child's data writes
# the access-log entry itself.

FOLLOW_UP_ROLES = frozenset({Role.SUPERVISOR, Role.OFFICIAL})


def alerts_visible_to(user: User) -> QuerySet[Any]:
    """Alerts the user was notified of, and those of children inside the jurisdiction of the
    user's registry roles (supervisors and officials follow their area's alerts)."""
    Alert_ = _model("screening", "Alert")
    found: QuerySet[Any] = (
        Alert_.objects.filter(Q(recipients=user) | jurisdiction_q(user))
        .distinct()
        .select_related("child", "organisation", "acknowledged_by", "administration")
    )
    return found


def get_alert_for_user(user: User, pk: object) -> Any:
    """An alert the user may see, its read logged with the child."""
    alert = alerts_visible_to(user).filter(pk=_key(pk)).first()
    return _opened(user, alert, object_type="alert", purpose="safeguarding")


def reports_visible_to(user: User) -> QuerySet[Any]:
    """The user's own mandatory reports and those of children in the jurisdiction of their
    registry roles (supervisors and officials follow them up)."""
    Report_ = _model("screening", "MandatoryReport")
    area = jurisdiction_q(user, roles=FOLLOW_UP_ROLES)
    found: QuerySet[Any] = Report_.objects.filter(Q(reporter=user) | area).select_related("child")
    return found


def get_report_for_user(user: User, pk: object) -> Any:
    """A mandatory report the user may see (404 as a missing one), its read logged with the
    child and the sensitive class (a report names the harm)."""
    report = reports_visible_to(user).filter(pk=_key(pk)).first()
    return _opened(
        user, report, object_type="mandatory_report", purpose="mandatory_report", fields=[SENSITIVE]
    )


def get_group_for_user(user: User, pk: object, *, purpose: str) -> Any:
    """A group screening: only the worker who conducts it opens it (anyone else gets the
    same 404 as for a missing one). It names its children: the read is logged with each."""
    group = _model("screening", "GroupSession").objects.filter(pk=_key(pk), conducted_by=user)
    found = group.first()
    if found is None:
        raise Http404
    children = found.children.values_list("pk", flat=True)
    _opened_with_children(user, found, children, object_type="group_screening", purpose=purpose)
    return found


def get_administration_for_user(user: User, pk: object) -> tuple[Any, str]:
    """A screening through its child's access check (404 when the child is not visible),
    with the reader's level; `none` is refused. A full read is logged as a screening read
    (the child's read is logged by `get_child_for_user`)."""
    from django.core.exceptions import PermissionDenied

    from shouhu.audit.models import Action
    from shouhu.audit.services import log_access

    Administration_ = _model("screening", "Administration")
    administration = (
        Administration_.objects.select_related("child", "administered_by")
        .filter(pk=_key(pk))
        .first()
    )
    if administration is None:
        raise Http404
    child = get_child_for_user(user, administration.child_id, purpose="screening")
    level = screening_access(user, child, kind=administration.kind)
    if level == RESULTS_NONE:
        raise PermissionDenied(_("You may not see screening results."))
    if level == RESULTS_FULL:
        log_access(
            user=user,
            action=Action.VIEW_SCREENING,
            child_id=child.pk,
            object_type="administration",
            object_id=str(administration.pk),
            fields=[SENSITIVE],
            purpose="screening",
        )
    return administration, level


def alerts_with_reasons(user: User, alerts: Iterable[Any]) -> set[int]:
    """The alerts among these whose reasons (which answer raised them) the user sees: those
    the user was asked to respond to (notified at raising or on escalation). Supervisors
    and officials who follow their area's alerts see only the priority."""
    Alert_ = _model("screening", "Alert")

    ids = [a.pk for a in alerts]
    return set(
        Alert_.recipients.through.objects.filter(alert_id__in=ids, user_id=user.pk).values_list(
            "alert_id", flat=True
        )
    )


def may_handle_alert(user: User, alert: Any) -> bool:
    """Who may acknowledge an alert, record what was done and close it: the people asked to
    respond (the responders, and for imminent risk the township supervisors at once; the
    next level on escalation). The same people see its reasons (`alerts_with_reasons`)."""
    return bool(alerts_with_reasons(user, [alert]))


def may_see_risk_reasons(user: User, child: Child) -> bool:
    """A risk colour's reasons name sensitive facts (事实无人抚养, the guardianship rating, a
    mandatory report, a screening that needs follow-up): only readers of the child's sensitive
    fields see them; others see the colour and the visits it sets."""
    return can_see(user, child, SENSITIVE)


def may_see_reporter(user: User, report: Any) -> bool:
    """A mandatory report's reporter is confidential: only the reporter and the county's
    civil-affairs officers know who it was."""
    return report.reporter_id == user.pk or any(
        g.role == Role.OFFICIAL and g.place_prefix and len(g.place_prefix) <= 6
        for g in grants_for(user, report.child)
    )
