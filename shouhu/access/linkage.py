"""Record linkage across jurisdictions: who reviews a pair, who sees a link, who shares a
child's file with the other side and who ends the share.

A pair of records (a `linkage.Candidate`) belongs to two jurisdictions: the home county's
(where the home record lives) and the destination's. It is reviewed by the supervisors and
officials of either (their registry grant covers one of the two records); the record of the
other side is shown to them masked to their role's ceiling (`linkage.selectors.side`), never
opened as a file. A confirmed link is read by whoever sees either child. A child's file is
shared with the other side's organisation by those who look after the child's file on its
own side (directors, supervisors, officials of its jurisdiction), and the share is ended by
them or by the receiving organisation's own registry people. Anyone else: 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from shouhu.access.core import (
    BASIC,
    _key,
    _model,
    _opened,
    children_visible_to,
    grants_for,
    jurisdiction_q,
    role_ceiling,
    scope_of,
)
from shouhu.accounts.models import Organisation, OrgKind, Role, User
from shouhu.places.models import ancestor_codes, in_subtree

if TYPE_CHECKING:
    from shouhu.children.models import Child

__all__ = [
    "LINK_REVIEWERS",
    "get_link_candidate_for_user",
    "get_share_for_user",
    "link_candidates_visible_to",
    "link_review_ceiling",
    "link_side_of",
    "links_of_child_visible_to",
    "may_end_share",
    "may_review_links",
    "may_run_matching",
    "may_share_child",
    "share_organisations_for",
]

# The roles that review pairs of records of their jurisdiction, and run the matching.
LINK_REVIEWERS = frozenset({Role.SUPERVISOR, Role.OFFICIAL})
# The organisations a file is shared with: those that keep the registry or run cases (not a
# school, a hospital, the police or a company: they reach a child through their own rules).
SHARE_KINDS = frozenset(
    {
        OrgKind.CIVIL_AFFAIRS,
        OrgKind.TOWNSHIP_GOVERNMENT,
        OrgKind.VILLAGE_COMMITTEE,
        OrgKind.SOCIAL_WORK,
        OrgKind.WOMENS_FEDERATION,
    }
)
# The roles that share a child's file of their jurisdiction across a link.
SHARERS = frozenset({Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.OFFICIAL})


def _reviewer_prefixes(user: User) -> list[str]:
    return [
        g.place_prefix for g in scope_of(user).grants if g.place_prefix and g.role in LINK_REVIEWERS
    ]


def may_review_links(user: User) -> bool:
    return bool(_reviewer_prefixes(user))


def may_run_matching(user: User) -> bool:
    """Supervisors (and officials) ask for a matching run between the nightly ones."""
    return may_review_links(user)


def link_candidates_visible_to(user: User) -> Any:
    """The pairs of which one record lives in the user's reviewing jurisdiction."""
    Candidate = _model("linkage", "Candidate")
    prefixes = _reviewer_prefixes(user)
    if not prefixes:
        return Candidate.objects.none()
    return Candidate.objects.filter(
        jurisdiction_q(user, roles=LINK_REVIEWERS, field="home__residence")
        | jurisdiction_q(user, roles=LINK_REVIEWERS, field="destination__residence")
    )


def link_side_of(user: User, candidate: Any) -> str:
    """ "home" or "destination": the side whose jurisdiction the user reviews for (home first
    when both are theirs); "" when neither."""
    prefixes = _reviewer_prefixes(user)
    for side in ("home", "destination"):
        code = getattr(candidate, side).residence_id
        if any(in_subtree(p, code) for p in prefixes):
            return side
    return ""


def link_review_ceiling(user: User, child: Child) -> frozenset[str]:
    """What a reviewer sees of one record of a pair, never the sensitive class (a review
    compares identities, not health or family circumstances): the classes of the user's
    registry grants over the child's village, or, for the other side's record, their
    reviewing role's ceiling. Read from the grants alone (no query: a queue shows 100
    records)."""
    covering = [
        g.classes
        for g in scope_of(user).grants
        if g.place_prefix and in_subtree(g.place_prefix, child.residence_id)
    ]
    if covering:
        return frozenset().union(*covering) - {"sensitive"}
    roles = {g.role for g in scope_of(user).grants if g.role in LINK_REVIEWERS}
    return role_ceiling(roles) - {"sensitive"}


def get_link_candidate_for_user(user: User, pk: object, *, purpose: str) -> Any:
    """A pair the user reviews (404 as a missing one); the read is logged with both children."""
    found = (
        link_candidates_visible_to(user)
        .select_related("home__residence", "destination__residence", "home__hukou")
        .filter(pk=_key(pk))
        .first()
    )
    if found is None:
        from django.http import Http404

        raise Http404
    from shouhu.audit.models import Action
    from shouhu.audit.services import log_access

    for child in (found.home, found.destination):
        shown = link_review_ceiling(user, child)
        log_access(
            user=user,
            action=Action.VIEW_CHILD,
            child_id=child.pk,
            object_type="link_candidate",
            object_id=str(found.pk),
            fields=sorted(shown),
            purpose=purpose,
        )
    return found


def links_of_child_visible_to(user: User, child: Child) -> Any:
    """The confirmed links of a child the user has opened (through `get_child_for_user`):
    both sides learn that the other knows the child."""
    Candidate = _model("linkage", "Candidate")
    if not grants_for(user, child):
        return Candidate.objects.none()
    return Candidate.objects.filter(
        Q(home=child) | Q(destination=child), status="linked"
    ).select_related("home__residence", "destination__residence")


def may_share_child(user: User, child: Child) -> bool:
    """Those who look after the child's file in its own jurisdiction."""
    return any(g.place_prefix and g.role in SHARERS for g in grants_for(user, child))


def share_organisations_for(candidate: Any, child: Child) -> list[Organisation]:
    """The organisations of the other side of the link that may receive the child's file:
    the active organisations whose jurisdiction covers the other record's village."""
    other = candidate.destination if child.pk == candidate.home_id else candidate.home
    code = other.residence_id
    ancestors = ancestor_codes(code)
    return list(
        Organisation.objects.filter(
            active=True, jurisdiction_id__in=ancestors, kind__in=list(SHARE_KINDS)
        )
        .select_related("jurisdiction")
        .order_by("jurisdiction_id", "name")
    )


def may_end_share(user: User, share: Any) -> bool:
    """The sharing side (who may share the child) or the receiving organisation's registry
    people: either side ends a share."""
    if may_share_child(user, share.child):
        return True
    return any(
        g.shared_org_id == share.organisation_id and g.role in SHARERS
        for g in scope_of(user).grants
    )


def get_share_for_user(user: User, pk: object, *, purpose: str) -> Any:
    """A share of a child the user sees (either side); the read is logged with the child."""
    Share = _model("linkage", "Share")
    found = (
        Share.objects.filter(child_id__in=children_visible_to(user).values("id"))
        .select_related("child", "organisation", "candidate")
        .filter(pk=_key(pk))
        .first()
    )
    return _opened(user, found, object_type="link_share", purpose=purpose, fields=[BASIC])
