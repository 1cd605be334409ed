"""Hand-off packages between deployments: who sends a child's file to another deployment,
who receives one, who reviews a package that may be a child already registered.

Supervisors only, inside their jurisdiction: a supervisor of the child's area exports the
file (signed with the key of the supervisor's organisation); a supervisor imports into a
village of their area and reviews the packages received there. Anyone else is refused (the
pages answer 403; a package or child outside the area is the same 404 as a missing one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.http import Http404

from shouhu.access.core import ALL, _key, _model, scope_of
from shouhu.accounts.models import Membership, Organisation, Role, User
from shouhu.places.models import code_range, in_subtree

if TYPE_CHECKING:
    from shouhu.children.models import Child

__all__ = [
    "HANDOFF_ROLES",
    "get_incoming_for_user",
    "handles_handoff",
    "handoff_organisation",
    "incoming_visible_to",
    "may_export_handoff",
    "may_import_handoff",
    "outgoing_visible_to",
]

HANDOFF_ROLES = frozenset({Role.SUPERVISOR})


def handles_handoff(user: User) -> bool:
    """Whether the user sends and receives hand-off packages at all (the hand-off pages)."""
    return bool(scope_of(user).roles & HANDOFF_ROLES)


def _memberships(user: User) -> Any:
    return Membership.objects.filter(
        user=user, active=True, role__in=HANDOFF_ROLES, organisation__active=True
    )


def handoff_organisation(user: User, child: Child) -> Organisation | None:
    """The organisation whose key signs the user's hand-off of this child: the user's
    supervising organisation whose jurisdiction holds the child's residence; None when the
    user may not hand the child off."""
    if not user.is_active:
        return None
    for m in _memberships(user).select_related("organisation__jurisdiction").order_by("id"):
        if in_subtree(m.organisation.jurisdiction.prefix, child.residence_id):
            organisation: Organisation = m.organisation
            return organisation
    return None


def may_export_handoff(user: User, child: Child) -> bool:
    # The user's grants first (no query): most readers of a child's page are not supervisors.
    if not any(
        g.place_prefix
        and g.role in HANDOFF_ROLES
        and in_subtree(g.place_prefix, child.residence_id)
        for g in scope_of(user).grants
    ):
        return False
    return handoff_organisation(user, child) is not None


def _area_q(user: User, field: str) -> Q:
    area = Q(pk__in=[])
    for grant in scope_of(user).grants:
        if grant.place_prefix and grant.role in HANDOFF_ROLES:
            low, high = code_range(grant.place_prefix)
            area |= Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return area


def may_import_handoff(user: User, village_code: str) -> bool:
    """A supervisor receives a package into a village of their jurisdiction."""
    return any(
        grant.place_prefix
        and grant.role in HANDOFF_ROLES
        and in_subtree(grant.place_prefix, village_code)
        for grant in scope_of(user).grants
    )


def outgoing_visible_to(user: User) -> Any:
    """The packages the user's supervising organisations sent."""
    Outgoing = _model("handoff", "Outgoing")
    return Outgoing.objects.filter(organisation_id__in=_memberships(user).values("organisation"))


def incoming_visible_to(user: User) -> Any:
    """The packages received into a village of the user's jurisdiction (as supervisor)."""
    Incoming = _model("handoff", "Incoming")
    return Incoming.objects.filter(_area_q(user, "village_id"))


def get_incoming_for_user(user: User, pk: object, *, purpose: str) -> Any:
    """A package received, for a supervisor of its village (404 as a missing one); the read
    of the file it carries is logged (with the child once registered or attached)."""
    from shouhu.audit.models import Action
    from shouhu.audit.services import log_access

    found = incoming_visible_to(user).select_related("peer", "village").filter(pk=_key(pk)).first()
    if found is None:
        raise Http404
    log_access(
        user=user,
        action=Action.VIEW_CHILD,
        child_id=found.child_id,
        object_type="handoff_incoming",
        object_id=str(found.pk),
        fields=sorted(ALL),
        purpose=purpose,
    )
    return found
