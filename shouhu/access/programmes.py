"""Programmes: who runs a programme, takes its roll call and records counselling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import Http404

from shouhu.access.core import _key, _model, _opened_with_children, children_visible_to
from shouhu.accounts.models import Membership, Role, User

if TYPE_CHECKING:
    from shouhu.children.models import Child

__all__ = [
    "PROGRAMME_ROLES",
    "get_programme_for_user",
    "may_counsel",
    "may_run_programme",
    "may_take_roll_call",
    "programmes_visible_to",
]

# The organisation's people who organise its programmes (never a technology envoy).
PROGRAMME_ROLES = frozenset(
    {Role.SOCIAL_WORKER, Role.COUNSELOR, Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.TEACHER}
)


def may_run_programme(user: User, organisation_id: int) -> bool:
    """Organise a programme of the organisation: plan its sessions, enrol participants."""
    return Membership.objects.filter(
        user=user, organisation_id=organisation_id, role__in=PROGRAMME_ROLES, active=True
    ).exists()


def may_take_roll_call(user: User, session: Any) -> bool:
    """The organisers, and the session's facilitators (volunteers among them)."""
    return may_run_programme(user, session.programme.organisation_id) or (
        session.facilitators.filter(pk=user.pk).exists()
    )


def may_counsel(user: User, child: Child) -> bool:
    """A counsellor or social worker who sees the child records one-to-one counselling."""
    roles = set(Membership.objects.filter(user=user, active=True).values_list("role", flat=True))
    if not roles & {Role.COUNSELOR, Role.SOCIAL_WORKER}:
        return False
    return children_visible_to(user).filter(pk=child.pk).exists()


def programmes_visible_to(user: User) -> Any:
    """The programmes of the organisations the user organises for, and those whose sessions
    the user facilitates."""
    Programme = _model("programmes", "Programme")
    orgs = Membership.objects.filter(user=user, active=True, role__in=PROGRAMME_ROLES)
    return (
        Programme.objects.filter(organisation_id__in=orgs.values("organisation_id"))
        | Programme.objects.filter(sessions__facilitators=user).distinct()
    )


def get_programme_for_user(user: User, pk: object, *, purpose: str) -> Any:
    """A programme the user runs or facilitates (404 as a missing one). Its participant list
    names children: the read is logged with each enrolled child."""
    found = programmes_visible_to(user).filter(pk=_key(pk)).first()
    if found is None:
        raise Http404
    children = found.enrolments.filter(child__isnull=False).values_list("child_id", flat=True)
    _opened_with_children(user, found, children, object_type="programme", purpose=purpose)
    return found
