"""Cases: who works on, follows, approves and decides them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.http import Http404

from shouhu.access.core import (
    SENSITIVE,
    _model,
    can_edit,
    can_see,
    grants_for,
    jurisdiction_q,
    scope_of,
)
from shouhu.accounts.models import Membership, Organisation, Role, User
from shouhu.places.models import ancestor_codes

if TYPE_CHECKING:
    from shouhu.cases.models import Case, Intake
    from shouhu.children.models import Child

__all__ = [
    "CASE_ORG_KINDS",
    "CASE_ROLES",
    "FOLLOW_ROLES",
    "approvers",
    "case_organisations",
    "cases_visible_to",
    "envoy_only",
    "get_case_for_user",
    "intake_deciders",
    "is_counsellor",
    "may_decide_intake",
    "may_read_case_reasons",
    "may_read_notes",
    "may_record_consent",
    "may_refer",
    "may_work",
    "members_over",
    "members_over_q",
    "members_with_case_roles",
    "own_case_organisation",
    "referred_cases_q",
    "takes_cases",
    "works_in",
]

# ---------------------------------------------------------------- cases
#
# A case belongs to an organisation. Its social workers and counsellors work on all of the
# organisation's cases; workers added to a case work on it too; volunteers added to a case
# see it without its notes; supervisors and officials follow the cases of children in
# their jurisdiction; the social workers and counsellors of an organisation that accepted a
# referral or transfer of a case read that case (without its notes); approvers (the
# organisation's named approvers, else the township supervisors of the child's place)
# approve plans and closures.

CASE_ROLES = frozenset({Role.SOCIAL_WORKER, Role.COUNSELOR})
CASE_ORG_KINDS = frozenset({"social_work", "hospital", "ngo", "school", "womens_federation"})
FOLLOW_ROLES = frozenset({Role.SUPERVISOR, Role.OFFICIAL})


def case_organisations(user: User) -> set[int]:
    """Organisations in which the user holds a case role."""
    return {
        g.assigned_org_id
        for g in scope_of(user).grants
        if g.assigned_org_id is not None and g.role in CASE_ROLES
    }


def works_in(user: User, organisation: Organisation) -> bool:
    return organisation.pk in case_organisations(user)


def own_case_organisation(user: User) -> Organisation | None:
    ids = sorted(case_organisations(user))
    return Organisation.objects.filter(pk=ids[0]).first() if ids else None


def takes_cases(organisation: Organisation) -> bool:
    return organisation.active and organisation.kind in CASE_ORG_KINDS


def is_counsellor(user: User, organisation: Organisation) -> bool:
    return user.memberships.filter(
        organisation=organisation, role=Role.COUNSELOR, active=True
    ).exists()


def members_with_case_roles(organisation: Organisation) -> list[User]:
    return [
        m.user
        for m in organisation.memberships.filter(
            active=True, role__in=list(CASE_ROLES), user__is_active=True
        ).select_related("user")
    ]


def may_refer(user: User, child: Child) -> bool:
    """Anyone working with the child except volunteers may bring the child to a service; a
    file shared across a link (`linkage`) is read, not worked on: its case goes over by a
    transfer from the side that holds it."""
    return any(
        g.assignment_kind != "volunteer" and g.shared_org_id is None
        for g in grants_for(user, child)
    )


def _case_member_role(user: User, case: Case) -> str | None:
    CaseMember_ = _model("cases", "CaseMember")

    member = CaseMember_.objects.filter(case=case, user=user, active=True).first()
    return member.role if member else None


def may_work(user: User, case: Case) -> bool:
    """Stages, plan, services, tasks and notes of the case."""
    if case.organisation_id in case_organisations(user):
        return True
    return _case_member_role(user, case) in {"worker", "counsellor", "supervisor"}


def may_read_notes(user: User, case: Case) -> bool:
    return may_work(user, case)


def may_read_case_reasons(user: User, case: Case) -> bool:
    """Why the child is a case (the intake reason, the closure reason) and the plan (goals,
    strengths, actions) speak of abuse, self-harm, a family in crisis: sensitive. Those who
    work on the case read them, and those who see the child's sensitive fields; the other
    readers of the case (officials following their area, a volunteer on the case) see that
    there is a case and how it moves, not why."""
    return may_work(user, case) or can_see(user, case.child, SENSITIVE)


def members_over(child: Child, roles: Iterable[str], **filters: Any) -> list[User]:
    """Active users holding one of `roles` in an organisation whose jurisdiction contains the
    child's residence (village, township, county, city or province): who is told, escalated
    to or asked to approve for a child."""
    return [
        m.user
        for m in Membership.objects.filter(members_over_q(child, roles), **filters).select_related(
            "user"
        )
    ]


def members_over_q(child: Child, roles: Iterable[str]) -> Q:
    """The memberships `members_over` reads, as a filter (to combine in one query)."""
    places = ancestor_codes(child.residence_id)
    return Q(
        role__in=list(roles),
        active=True,
        user__is_active=True,
        organisation__active=True,
        organisation__jurisdiction_id__in=places,
    )


def _township_supervisors(child: Child) -> list[User]:
    return members_over(child, [Role.SUPERVISOR])


def envoy_only(user: User) -> bool:
    """A technology envoy and nothing else: keeps the sites' devices working, sees no child."""
    return scope_of(user).roles == {Role.TECH_ENVOY}


def approvers(case: Case) -> list[User]:
    CasePolicy_ = _model("cases", "CasePolicy")

    policy = CasePolicy_.objects.filter(organisation_id=case.organisation_id).first()
    named = list(policy.approvers.filter(is_active=True)) if policy else []
    return named or _township_supervisors(case.child)


def intake_deciders(intake: Intake) -> list[User]:
    return members_with_case_roles(intake.organisation) + _township_supervisors(intake.child)


def may_decide_intake(user: User, intake: Intake) -> bool:
    return works_in(user, intake.organisation) or user in _township_supervisors(intake.child)


def referred_cases_q(organisations: Iterable[int]) -> Q:
    """Cases another organisation referred or transferred to one of `organisations`, once
    accepted, while the grant it opened is in force: DESIGN.md opens a child to "an accepted
    referral or transfer with consent" (consent or a legal basis is required when the
    referral is made and when the organisation-wide assignment is created); the referring
    case is readable by the receiving organisation's social workers and counsellors, who do
    not work on it (`may_work` is false: no changes and no case notes)."""
    from django.db.models import Exists, OuterRef

    Transfer_ = _model("cases", "Transfer")
    from shouhu.children.models import ChildAssignment

    orgs = list(organisations)
    if not orgs:
        return Q(pk__in=[])
    in_force = ChildAssignment.objects.filter(
        child_id=OuterRef("case__child_id"),
        organisation_id=OuterRef("to_organisation_id"),
        kind=OuterRef("kind"),
        user__isnull=True,
        active=True,
    )
    accepted = Transfer_.objects.filter(
        Exists(in_force), status="accepted", to_organisation_id__in=orgs
    )
    return Q(pk__in=accepted.values("case_id"))


def cases_visible_to(user: User) -> QuerySet[Case]:
    """The one queryset of cases a user may see (lists, API, worklists)."""
    Case_ = _model("cases", "Case")
    CaseMember_ = _model("cases", "CaseMember")

    # A subquery, not a join: no duplicate rows, so no DISTINCT (which sorted every visible
    # case on every column).
    member_of = CaseMember_.objects.filter(user=user, active=True).values("case_id")
    orgs = case_organisations(user)
    mine = Q(organisation_id__in=orgs) | Q(pk__in=member_of)
    if orgs:  # only when it can match (an empty subquery still costs the planner)
        mine |= referred_cases_q(orgs)
    mine |= _awaiting_named_approver_q(user)
    area = jurisdiction_q(user, roles=FOLLOW_ROLES, field="residence")
    found: QuerySet[Case] = Case_.objects.filter(mine | area)
    return found


def _awaiting_named_approver_q(user: User) -> Q:
    """An approver named in an organisation's `CasePolicy` (a director outside the case
    roles, say) sees that organisation's cases while a plan or closure waits for a
    decision: they cannot approve what they cannot read."""
    Approval_ = _model("cases", "Approval")
    CasePolicy_ = _model("cases", "CasePolicy")

    policies = CasePolicy_.objects.filter(approvers=user, approvers__is_active=True)
    if not user.is_active or not policies.exists():
        return Q(pk__in=[])
    pending = Approval_.objects.filter(
        decided_at__isnull=True, case__organisation_id__in=policies.values("organisation_id")
    )
    return Q(pk__in=pending.values("case_id"))


def get_case_for_user(user: User, case_id: object, *, purpose: str) -> Case:
    """The one way to open a case: missing and not allowed are the same 404; the read is
    logged against the child."""
    from shouhu.audit.models import Action
    from shouhu.audit.services import log_access

    try:
        pk = int(str(case_id))
    except ValueError:
        raise Http404 from None
    case = (
        cases_visible_to(user)
        .select_related("child", "organisation", "lead", "child__residence")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("No such case.")
    log_access(
        user=user,
        action=Action.VIEW_CHILD,
        child_id=case.child_id,
        object_type="case",
        object_id=str(case.pk),
        purpose=purpose,
    )
    return case


def may_record_consent(user: User, child: Child) -> bool:
    """A guardian's consent is recorded by those who register the child and by those who
    bring the child to a service (a social worker who obtained it for a referral)."""
    return can_edit(user, child) or may_refer(user, child)
