"""Sponsors and aid: who runs a scheme, who may apply for a child, who reads what.

The workers of the organisation that runs a scheme (social workers, child directors,
supervisors) manage it: its sponsors, pledges, applications, decisions and payments. An
application is made by a worker who sees the child. Sponsors are not users and see no child:
what they read is `aid.selectors.sponsor_report`, which names none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.http import Http404

from shouhu.access.core import BASIC, _key, _model, _opened, children_visible_to
from shouhu.accounts.models import Membership, Role, User

if TYPE_CHECKING:
    from shouhu.children.models import Child

__all__ = [
    "AID_APPLICANT_ROLES",
    "AID_ROLES",
    "aid_applications_visible_to",
    "aid_organisations",
    "aid_schemes_visible_to",
    "get_aid_application_for_user",
    "get_aid_scheme_for_user",
    "get_sponsor_for_user",
    "may_apply_for_aid",
    "may_manage_aid",
    "sponsors_visible_to",
]

# The organisation's people who run its aid schemes.
AID_ROLES = frozenset({Role.SOCIAL_WORKER, Role.CHILD_DIRECTOR, Role.SUPERVISOR})
# Who may apply for a child they see (never a volunteer, an official or a technician).
AID_APPLICANT_ROLES = AID_ROLES | {Role.TEACHER, Role.COUNSELOR}


def aid_organisations(user: User) -> Any:
    """The ids of the organisations whose aid the user manages (a subquery)."""
    return Membership.objects.filter(user=user, active=True, role__in=AID_ROLES).values(
        "organisation_id"
    )


def may_manage_aid(user: User, organisation_id: int) -> bool:
    return Membership.objects.filter(
        user=user, organisation_id=organisation_id, role__in=AID_ROLES, active=True
    ).exists()


def may_apply_for_aid(user: User, child: Child) -> bool:
    """A worker who sees the child applies for it."""
    if not Membership.objects.filter(user=user, active=True, role__in=AID_APPLICANT_ROLES).exists():
        return False
    return children_visible_to(user, needs=BASIC).filter(pk=child.pk).exists()


def sponsors_visible_to(user: User) -> Any:
    return _model("aid", "Sponsor").objects.filter(organisation_id__in=aid_organisations(user))


def get_sponsor_for_user(user: User, pk: object) -> Any:
    found = sponsors_visible_to(user).filter(pk=_key(pk)).first()
    if found is None:
        raise Http404
    return found


def aid_schemes_visible_to(user: User) -> Any:
    return _model("aid", "Scheme").objects.filter(organisation_id__in=aid_organisations(user))


def get_aid_scheme_for_user(user: User, pk: object) -> Any:
    found = aid_schemes_visible_to(user).filter(pk=_key(pk)).first()
    if found is None:
        raise Http404
    return found


def aid_applications_visible_to(user: User) -> Any:
    """The applications to the schemes the user manages (an application is the referral
    that shows the child to the scheme's people), and those the user made."""
    Application = _model("aid", "Application")
    return Application.objects.filter(
        Q(scheme__organisation_id__in=aid_organisations(user)) | Q(submitted_by=user)
    )


def get_aid_application_for_user(user: User, pk: object, *, purpose: str) -> Any:
    """An application the user may read (404 as a missing one); the read is logged with
    the child."""
    found = (
        aid_applications_visible_to(user)
        .select_related("scheme", "child", "reviewer")
        .filter(pk=_key(pk))
        .first()
    )
    return _opened(user, found, object_type="aid_application", purpose=purpose, fields=[BASIC])
