"""Surrogate parents (代理家长): who arranges them for a child, who logs their contacts, who
reads an arrangement.

An arrangement is made and ended, and contacts are logged, by those who look after the
child's file: the child directors of the child's village, the supervisors over it, and the
social workers of an organisation serving the child (through a case or an assignment). The
arrangement names the surrogate parent's phone and the guardian: it is read by those who see
the child's identifying fields. A surrogate parent with a login reads their own active
arrangement (the child's name, the cadence, the contacts; not the child's file) and logs
its contacts. Anyone else: 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from shouhu.access.core import (
    BASIC,
    IDENTIFYING,
    _key,
    _model,
    _opened,
    children_visible_to,
    grants_for,
    scope_of,
)
from shouhu.accounts.models import Membership, Role, User

if TYPE_CHECKING:
    from shouhu.children.models import Child

__all__ = [
    "SURROGATE_MANAGERS",
    "get_surrogate_arrangement_for_user",
    "may_arrange_surrogate",
    "may_record_surrogate_contact",
    "surrogate_arrangements_visible_to",
    "surrogate_organisations",
]

# The roles that arrange surrogate parents (each over the children its grant covers).
SURROGATE_MANAGERS = frozenset({Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.SOCIAL_WORKER})


def may_arrange_surrogate(user: User, child: Child) -> bool:
    """The child's village directors and township supervisors (their jurisdiction), and the
    social workers serving the child (an assignment to them or to their organisation)."""
    social_worker = Role.SOCIAL_WORKER in scope_of(user).roles
    for grant in grants_for(user, child):
        if grant.place_prefix and grant.role in {Role.CHILD_DIRECTOR, Role.SUPERVISOR}:
            return True
        if grant.assigned_org_id is not None and grant.role == Role.SOCIAL_WORKER:
            return True
        if grant.assignment_kind == "case_worker" and social_worker:
            return True
    return False


def surrogate_organisations(user: User) -> Any:
    """The ids of the organisations in which the user may arrange (a subquery)."""
    return Membership.objects.filter(user=user, active=True, role__in=SURROGATE_MANAGERS).values(
        "organisation_id"
    )


def may_record_surrogate_contact(user: User, arrangement: Any) -> bool:
    """The surrogate parent themselves, and those who arrange for the child; only while the
    arrangement is active."""
    if arrangement.status != "active":
        return False
    if arrangement.surrogate.user_id is not None and arrangement.surrogate.user_id == user.pk:
        return True
    return may_arrange_surrogate(user, arrangement.child)


def surrogate_arrangements_visible_to(user: User) -> Any:
    """Arrangements of the children whose identifying fields the user sees, and the user's
    own active ones as a surrogate parent."""
    Arrangement = _model("surrogates", "Arrangement")
    children = children_visible_to(user, needs=IDENTIFYING).values("id")
    return Arrangement.objects.filter(
        Q(child_id__in=children) | Q(surrogate__user=user, status="active")
    )


def get_surrogate_arrangement_for_user(user: User, pk: object, *, purpose: str) -> Any:
    """An arrangement the user may read (404 as a missing one); the read is logged with the
    child."""
    found = (
        surrogate_arrangements_visible_to(user)
        .select_related("child", "surrogate", "organisation", "guardian")
        .filter(pk=_key(pk))
        .first()
    )
    return _opened(
        user, found, object_type="surrogate_arrangement", purpose=purpose, fields=[BASIC]
    )
