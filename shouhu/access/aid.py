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

from shouhu.access.core import BASIC, _key, _model, _opened, can_see, scope_of
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
    "handles_aid",
    "may_apply_for_aid",
    "may_approve_aid_story",
    "may_decide_aid",
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


def handles_aid(user: User) -> bool:
    """Whether the user holds a role that runs aid (the aid pages, and the aid a child
    receives on the child's page)."""
    return bool(scope_of(user).roles & AID_ROLES)


def may_manage_aid(user: User, organisation_id: int) -> bool:
    return Membership.objects.filter(
        user=user, organisation_id=organisation_id, role__in=AID_ROLES, active=True
    ).exists()


def may_decide_aid(user: User, application: Any, *, managed: set[int] | None = None) -> bool:
    """A manager of the scheme's organisation other than the worker who applied decides an
    application still waiting (what the pages offer; `aid.services.application_decide`
    enforces it). `managed`: the ids of `aid_organisations(user)`, read once for a list."""
    if application.status != "submitted" or application.submitted_by_id == user.pk:
        return False
    organisation_id = application.scheme.organisation_id
    if managed is not None:
        return organisation_id in managed
    return may_manage_aid(user, organisation_id)


def may_approve_aid_story(user: User, followup: Any, *, manages: bool) -> bool:
    """A manager of the scheme's organisation (`manages`: `may_manage_aid`, asked once for
    the page) other than its writer lets the sponsors read a follow-up's story (enforced by
    `aid.services.story_approve`)."""
    return (
        manages
        and bool(followup.story.strip())
        and followup.story_approved_by_id is None
        and followup.by_id != user.pk
    )


def may_apply_for_aid(user: User, child: Child) -> bool:
    """A worker who sees the child applies for it (the user's grants and the child's
    assignments, both read once per request)."""
    return bool(scope_of(user).roles & AID_APPLICANT_ROLES) and can_see(user, child, BASIC)


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
