"""Online reunions: sites, sessions, parents, tickets and the contact log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from shouhu.access.cases import FOLLOW_ROLES, may_refer
from shouhu.access.core import (
    BASIC,
    _key,
    _model,
    _opened_with_children,
    can_edit,
    children_visible_to,
    get_child_for_user,
    jurisdiction_q,
)
from shouhu.access.volunteers import volunteer_gate_closed
from shouhu.accounts.models import Organisation, Role, User
from shouhu.places.models import code_range

if TYPE_CHECKING:
    from shouhu.children.models import Child, FamilyMember
    from shouhu.reunion.models import Session, Site, Ticket

__all__ = [
    "SITE_MANAGER_EXCLUDED",
    "facilitates",
    "facilitates_child",
    "get_child_for_contact",
    "get_parent_for_user",
    "get_session_for_user",
    "is_tech_envoy",
    "manages_site",
    "may_create_site",
    "may_edit_parent",
    "may_enrol",
    "may_log_contact",
    "may_plan",
    "sites_visible_to",
    "tickets_visible_to",
]

# ---------------------------------------------------------------- reunion sites and tickets
#
# A site is managed by the members of its organisation; facilitators run it; technology
# envoys see the sites and tickets of their organisation's area and never a child.


# Roles of the site's organisation that run a site and see its children: not volunteers
# (they see a site's children only as its facilitators) and not technology envoys (devices
# and tickets only, never a child).
SITE_MANAGER_EXCLUDED = (Role.VOLUNTEER, Role.TECH_ENVOY)


def _manages_sites_of(user: User, organisation_id: int) -> bool:
    return (
        user.memberships.filter(
            organisation_id=organisation_id, active=True, organisation__active=True
        )
        .exclude(role__in=SITE_MANAGER_EXCLUDED)
        .exists()
    )


def manages_site(user: User, site: Site) -> bool:
    return _manages_sites_of(user, site.organisation_id)


def may_create_site(user: User, organisation: Organisation) -> bool:
    """The members who manage the organisation's sites (not its volunteers or envoys)."""
    return _manages_sites_of(user, organisation.pk)


def may_plan(user: User, organisation: Organisation) -> bool:
    """Those who manage the organisation's sites plan its weeks."""
    return may_create_site(user, organisation)


def may_enrol(user: User, child: Child) -> bool:
    """Those who work with the child (not as a volunteer) enrol the child at reunion sites."""
    return may_refer(user, child)


def facilitates(user: User, site: Site) -> bool:
    """The user runs the site (a volunteer only while cleared to work with children)."""
    return site.facilitators.filter(user=user, active=True).exists() and not (
        volunteer_gate_closed(user)
    )


def facilitates_child(user: User, child: Child) -> bool:
    """The user runs a site where the child takes part."""
    Facilitator_ = _model("reunion", "Facilitator")

    found: bool = Facilitator_.objects.filter(
        user=user,
        active=True,
        site__active=True,
        site__participants__child=child,
        site__participants__active=True,
    ).exists()
    return found and not volunteer_gate_closed(user)


def may_log_contact(user: User, child: Child) -> bool:
    """Those who work with the child (not as a volunteer), and the facilitators of a site
    where the child takes part, keep the child's contact log."""
    return may_refer(user, child) or facilitates_child(user, child)


def get_child_for_contact(user: User, child_id: object, *, purpose: str) -> Child:
    """A child opened for the contact log: through `get_child_for_user` for those who work
    with the child; a facilitator of a site where the child takes part (a volunteer, say,
    who does not otherwise see the child) gets the child too, logged the same way. Anyone
    else: 404 (403 for those who see the child but may not keep the log)."""
    from django.core.exceptions import PermissionDenied
    from django.utils.translation import gettext as _

    from shouhu.audit.models import Action
    from shouhu.audit.services import log_access
    from shouhu.children.models import Child

    pk = str(child_id)
    found = Child.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    if (
        found is not None
        and not children_visible_to(user).filter(pk=found.pk).exists()
        and facilitates_child(user, found)
    ):
        log_access(
            user=user,
            action=Action.VIEW_CHILD,
            child_id=found.pk,
            purpose=purpose,
            fields=[BASIC],
        )
        return found
    child = get_child_for_user(user, child_id, purpose=purpose)
    if not may_log_contact(user, child):
        raise PermissionDenied(_("You do not work with this child."))
    return child


def get_session_for_user(user: User, pk: object, *, purpose: str) -> Session:
    """A reunion session for the site's own people (those who manage the site or run it, who
    see its children); anyone else gets the same 404 as for a missing session. The session's
    children are logged as read, one entry each."""
    Session_ = _model("reunion", "Session")
    session: Session | None = (
        Session_.objects.filter(pk=_key(pk)).select_related("site", "device").first()
    )
    if session is None or not (manages_site(user, session.site) or facilitates(user, session.site)):
        raise Http404
    children = session.children.values_list("pk", flat=True)
    _opened_with_children(user, session, children, object_type="reunion_session", purpose=purpose)
    return session


def get_parent_for_user(user: User, pk: object, *, purpose: str) -> FamilyMember:
    """A child's father or mother, for their reunion windows, to those who may change them
    (`may_edit_parent`); anyone else, and a member who is no parent, get the same 404 as a
    missing one. A parent's windows and channel are part of the children's file: the read is
    logged with each child of the household."""
    from shouhu.children.models import PARENTS, Child, FamilyMember

    member = FamilyMember.objects.filter(pk=_key(pk), relation__in=PARENTS).first()
    if member is None or not may_edit_parent(user, member):
        raise Http404
    children = Child.objects.filter(household_id=member.household_id).values_list("pk", flat=True)
    _opened_with_children(user, member, children, object_type="family_member", purpose=purpose)
    return member


def is_tech_envoy(user: User) -> bool:
    return any(m.role == Role.TECH_ENVOY for m in user.memberships.filter(active=True).only("role"))


def _envoy_area(user: User, field: str) -> Q:
    area = Q(pk__in=[])
    for m in user.memberships.filter(active=True, role=Role.TECH_ENVOY).select_related(
        "organisation__jurisdiction"
    ):
        low, high = code_range(m.organisation.jurisdiction.prefix)
        area |= Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return area


def sites_visible_to(user: User) -> QuerySet[Site]:
    Site_ = _model("reunion", "Site")

    orgs = user.memberships.filter(active=True).values("organisation_id")
    facilitated = (
        Q(facilitators__user=user, facilitators__active=True)
        if not volunteer_gate_closed(user)
        else Q(pk__in=[])
    )
    found: QuerySet[Site] = Site_.objects.filter(
        Q(organisation_id__in=orgs)
        | facilitated
        | _envoy_area(user, "place_id")
        | jurisdiction_q(user, roles=FOLLOW_ROLES, field="place_id")
    ).distinct()
    return found


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    """Technology envoys: the tickets of their area; everyone else: those of the sites they
    manage or run."""
    Ticket_ = _model("reunion", "Ticket")

    found: QuerySet[Ticket] = Ticket_.objects.filter(
        Q(site__in=sites_visible_to(user)) | _envoy_area(user, "site__place_id")
    ).distinct()
    return found


def may_edit_parent(user: User, member: FamilyMember) -> bool:
    """A parent's reunion windows: the registry roles that edit a child of the household, or
    a facilitator of a site where a child of the household takes part."""
    from shouhu.children.models import Child

    Facilitator_ = _model("reunion", "Facilitator")

    children = list(Child.objects.filter(household_id=member.household_id))
    if any(can_edit(user, c) for c in children):
        return True
    found: bool = Facilitator_.objects.filter(
        user=user, active=True, site__participants__child__in=children
    ).exists()
    return found
