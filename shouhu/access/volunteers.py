"""Volunteers: who is cleared to work with children, and who manages a volunteer's record.

A volunteer is cleared on a day when they are active, their identity is verified, the latest
inquiry into offence records (入职查询, 未成年人保护法 Art. 62) is clear and still valid,
they completed the required safeguarding training, and a signed agreement with its
confidentiality clause is in force. Without that a volunteer is matched to no child,
facilitates no session and sees no child: the gate (`volunteer_gate_closed`) is asked by
the grants (`core`), the programmes and the reunion sites. Expiry needs no job to take
effect — the day a check or agreement lapses the volunteer is no longer cleared; the daily
job records it and tells the coordinator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu.access.core import BASIC, _gates, _key, _model, _opened, children_visible_to
from shouhu.accounts.models import Membership, Role, User
from shouhu.lib import clock

__all__ = [
    "VOLUNTEER_MANAGERS",
    "clearance_missing",
    "describe_missing",
    "get_volunteer_for_user",
    "get_volunteer_match_for_user",
    "may_clock_volunteer",
    "may_manage_volunteers",
    "volunteer_assignments_closed",
    "volunteer_gate_closed",
    "volunteer_match_refusal",
    "volunteer_refusal",
    "volunteers_cleared",
    "volunteers_visible_to",
    "with_clearance",
]

# Who keeps an organisation's volunteers: recruits, checks, trains, supervises, records and
# approves their hours, and certifies them.
VOLUNTEER_MANAGERS = frozenset({Role.SOCIAL_WORKER, Role.SUPERVISOR, Role.CHILD_DIRECTOR})

# What is missing, in the order of the lifecycle: application → checks → training →
# agreement → active.
IDENTITY = "identity"
RECORD_INQUIRY = "record_inquiry"
TRAINING = "training"
AGREEMENT = "agreement"
NOT_ACTIVE = "not_active"
REASONS = {
    IDENTITY: gettext_lazy("identity not verified"),
    RECORD_INQUIRY: gettext_lazy("no clear and valid inquiry into offence records"),
    TRAINING: gettext_lazy("the required safeguarding training not completed"),
    AGREEMENT: gettext_lazy("no signed agreement in force with a confidentiality clause"),
    NOT_ACTIVE: gettext_lazy("not an active volunteer"),
}


def _latest(kind: str, on: dt.date, column: str) -> Subquery:
    Check = _model("volunteers", "Check")
    return Subquery(
        Check.objects.filter(volunteer=OuterRef("pk"), kind=kind, checked_on__lte=on)
        .order_by("-checked_on", "-id")
        .values(column)[:1]
    )


def with_clearance(volunteers: QuerySet[Any], on: dt.date) -> QuerySet[Any]:
    """`volunteers` annotated with each condition of clearance on `on`, in one query."""
    Training = _model("volunteers", "Training")
    Agreement = _model("volunteers", "Agreement")
    annotated: QuerySet[Any] = volunteers.annotate(
        identity_result=_latest("identity", on, "result"),
        identity_until=_latest("identity", on, "expires_on"),
        inquiry_result=_latest("record_inquiry", on, "result"),
        inquiry_until=_latest("record_inquiry", on, "expires_on"),
        trained=Exists(
            Training.objects.filter(
                volunteer=OuterRef("pk"), kind="safeguarding", completed_on__lte=on
            )
        ),
        agreed=Exists(
            Agreement.objects.filter(
                Q(expires_on__isnull=True) | Q(expires_on__gte=on),
                volunteer=OuterRef("pk"),
                signed_on__lte=on,
                confidentiality=True,
            )
        ),
    )
    return annotated


def _cleared_q(on: dt.date) -> Q:
    # The inquiry must carry an expiry date: one without is not valid.
    return (
        Q(status="active", identity_result="clear", inquiry_result="clear")
        & (Q(identity_until__isnull=True) | Q(identity_until__gte=on))
        & Q(inquiry_until__gte=on, trained=True, agreed=True)
    )


def volunteers_cleared(volunteers: QuerySet[Any], on: dt.date | None = None) -> QuerySet[Any]:
    """Those of `volunteers` cleared to work with children on `on` (default today)."""
    on = on or clock.today()
    return with_clearance(volunteers, on).filter(_cleared_q(on))


def clearance_missing(volunteer: Any, on: dt.date | None = None) -> list[str]:
    """What keeps `volunteer` from working with children on `on` (codes of `REASONS`, in
    lifecycle order); empty when cleared. Read from the annotations of `with_clearance`
    when the volunteer carries them (a list asks once for all), else in one query."""
    on = on or clock.today()
    v = volunteer
    if not hasattr(v, "inquiry_result"):
        v = with_clearance(type(volunteer).objects.filter(pk=volunteer.pk), on).get()
    out = []
    if not (v.identity_result == "clear" and (v.identity_until is None or v.identity_until >= on)):
        out.append(IDENTITY)
    if not (v.inquiry_result == "clear" and v.inquiry_until is not None and v.inquiry_until >= on):
        out.append(RECORD_INQUIRY)
    if not v.trained:
        out.append(TRAINING)
    if not v.agreed:
        out.append(AGREEMENT)
    if v.status != "active":
        out.append(NOT_ACTIVE)
    return out


def describe_missing(codes: list[str]) -> str:
    return "; ".join(str(REASONS[c]) for c in codes)


def _cached(key: tuple[str, int], ask: Callable[[], bool]) -> bool:
    """Within a request, asked once (emptied by `forget_assignments`); outside, every time."""
    cache = _gates.get()
    if cache is None:
        return ask()
    if key not in cache:
        cache[key] = ask()
    return cache[key]


def _holds_volunteer_role(user: User) -> bool:
    scope = getattr(user, "_shouhu_scope", None)
    if scope is not None:
        return Role.VOLUNTEER in scope.roles
    return _cached(
        ("role", user.pk),
        lambda: Membership.objects.filter(user=user, active=True, role=Role.VOLUNTEER).exists(),
    )


def volunteer_gate_closed(user: User) -> bool:
    """The user holds the volunteer role and is not cleared today in any organisation: as a
    volunteer they reach no child, facilitate no session and run no site. No query for a
    user who is not a volunteer."""
    if not user.is_authenticated or not _holds_volunteer_role(user):
        return False
    return volunteer_assignments_closed(user)


def volunteer_assignments_closed(user: User) -> bool:
    """Children matched to the user as a volunteer stay closed: no volunteer record of the
    user is cleared today (whatever the user's roles). One query."""
    Volunteer = _model("volunteers", "Volunteer")
    return _cached(
        ("gate", user.pk),
        lambda: not volunteers_cleared(Volunteer.objects.filter(user=user)).exists(),
    )


def volunteer_refusal(user: User) -> str | None:
    """Why `user` may not be matched to a child or facilitate a session today, or None."""
    if not volunteer_gate_closed(user):
        return None
    return _why(user)


def volunteer_match_refusal(user: User) -> str | None:
    """Why `user` may not be matched to a child as a volunteer today, or None."""
    if not volunteer_assignments_closed(user):
        return None
    return _why(user)


def _why(user: User) -> str:
    Volunteer = _model("volunteers", "Volunteer")
    records = list(with_clearance(Volunteer.objects.filter(user=user), clock.today()))
    if not records:
        return _("This volunteer has no volunteer record: register, check and train them first.")
    reasons = min((clearance_missing(v) for v in records), key=len)
    return _("This volunteer is not cleared to work with children: %(missing)s.") % {
        "missing": describe_missing(reasons)
    }


def may_manage_volunteers(user: User, organisation_id: int) -> bool:
    return Membership.objects.filter(
        user=user, organisation_id=organisation_id, role__in=VOLUNTEER_MANAGERS, active=True
    ).exists()


def may_clock_volunteer(user: User, volunteer: Any, organisation_id: int) -> bool:
    """Check a volunteer in or out for an organisation's activity: those who keep its
    volunteers, or the volunteer themselves."""
    return volunteer.user_id == user.pk or may_manage_volunteers(user, organisation_id)


def volunteers_visible_to(user: User) -> QuerySet[Any]:
    """The volunteers of the organisations the user manages volunteers for, and the user's
    own records."""
    Volunteer = _model("volunteers", "Volunteer")
    orgs = Membership.objects.filter(user=user, active=True, role__in=VOLUNTEER_MANAGERS).values(
        "organisation_id"
    )
    found: QuerySet[Any] = Volunteer.objects.filter(Q(organisation_id__in=orgs) | Q(user=user))
    return found


def get_volunteer_for_user(user: User, pk: object) -> Any:
    found = volunteers_visible_to(user).filter(pk=_key(pk)).first()
    if found is None:
        raise Http404
    return found


def get_volunteer_match_for_user(user: User, pk: object, *, purpose: str) -> Any:
    """A volunteer's match to a child: of a volunteer the user keeps (or is), and of a child
    the user sees; 404 otherwise. The read is logged with the child."""
    Match = _model("volunteers", "Match")
    found = (
        Match.objects.filter(
            pk=_key(pk),
            volunteer__in=volunteers_visible_to(user),
            child__in=children_visible_to(user).values("pk"),
        )
        .select_related("volunteer")
        .first()
    )
    return _opened(user, found, object_type="volunteer_match", purpose=purpose, fields=[BASIC])
