"""The access rules, in one place (DESIGN.md "Access and data protection").

A user's *grants* say which children they may see and which field classes of those children:

- a registry role (child director, supervisor, official) in an organisation: children living
  inside the organisation's jurisdiction;
- a teacher: children enrolled in the school;
- an assignment to the user (case worker, counsellor, matched volunteer): that child;
- an assignment, accepted referral or transfer to an organisation: that child, for the
  organisation's social workers and counsellors.

Everything else is invisible, and invisible looks exactly like missing (404). Field classes
above a grant's ceiling are masked; officials may reach past theirs with a logged reason
("break glass").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from django.apps import apps as django_apps
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from shouhu.accounts.models import Membership, Organisation, OrgKind, Role, User
from shouhu.places.models import code_range

if TYPE_CHECKING:
    from shouhu.audit.models import AccessLog
    from shouhu.cases.models import Case, Intake
    from shouhu.children.models import Child, ChildQuerySet, FamilyMember
    from shouhu.reunion.models import Session, Site, Ticket


def _model(app: str, name: str) -> Any:
    """A model of an app above this module, by name, as a ForeignKey("cases.Case") refers to
    it: the access rules read the case memberships, the reunion facilitators and the alert
    recipients that open a child, without importing those apps (DESIGN: layers)."""
    return django_apps.get_model(app, name)


BASIC = "basic"
IDENTIFYING = "identifying"
SENSITIVE = "sensitive"
FIELD_CLASSES = (BASIC, IDENTIFYING, SENSITIVE)
ALL = frozenset(FIELD_CLASSES)

# Ceiling of each role over the children its grant covers.
ROLE_CLASSES: dict[str, frozenset[str]] = {
    Role.CHILD_DIRECTOR: ALL,
    Role.SUPERVISOR: ALL,
    Role.OFFICIAL: frozenset({BASIC}),
    Role.SOCIAL_WORKER: ALL,
    Role.COUNSELOR: frozenset({BASIC, SENSITIVE}),
    Role.TEACHER: frozenset({BASIC}),
    Role.VOLUNTEER: frozenset({BASIC}),
}
REGISTRY_ROLES = frozenset({Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.OFFICIAL})
ORG_CASE_ROLES = frozenset({Role.SOCIAL_WORKER, Role.COUNSELOR})
# What an assignment opens, before the assigned user's role ceiling caps it: joining a case
# (a "case_worker" assignment) never lifts a supervisor to screening answers nor a counsellor
# to identifying fields.
ASSIGNMENT_CLASSES: dict[str, frozenset[str]] = {
    "case_worker": ALL,
    "counselor": frozenset({BASIC, SENSITIVE}),
    "volunteer": frozenset({BASIC}),
    "referral": ALL,
    "transfer": ALL,
}
# Roles whose members read screening answers of the children they serve (counsellors, and
# the social worker assigned as the child's case worker).
CLINICAL_ROLES = frozenset({Role.SOCIAL_WORKER, Role.COUNSELOR})
CLINICAL_ASSIGNMENTS = frozenset({"case_worker", "counselor"})


@dataclass(frozen=True)
class Grant:
    """One reason a user may see some children, with the field classes it opens."""

    classes: frozenset[str]
    place_prefix: str = ""
    school_id: int | None = None
    assigned_user_id: int | None = None
    assignment_kind: str = ""
    assigned_org_id: int | None = None
    break_glass: bool = False
    role: str = ""  # the membership role behind a jurisdiction, school or organisation grant
    clinical: bool = False  # opens screening answers and scores

    def q(self) -> Q:
        from shouhu.children.models import ChildAssignment

        if self.place_prefix:
            low, high = code_range(self.place_prefix)
            if low == high:  # one village
                return Q(residence=low)
            return Q(residence__gte=low, residence__lte=high)
        if self.school_id is not None:
            return Q(school_id=self.school_id)
        active = ChildAssignment.objects.filter(active=True)
        if self.assigned_user_id is not None:
            rows = active.filter(user_id=self.assigned_user_id, kind=self.assignment_kind)
        else:
            assert self.assigned_org_id is not None
            rows = active.filter(organisation_id=self.assigned_org_id, user__isnull=True)
        return Q(id__in=rows.values("child_id"))


@dataclass
class Scope:
    grants: list[Grant] = field(default_factory=list)
    roles: frozenset[str] = frozenset()  # of the user's active memberships

    @property
    def empty(self) -> bool:
        return not self.grants


def role_ceiling(roles: Iterable[str]) -> frozenset[str]:
    """The field classes the user's roles open at most: an assignment (a case membership, say)
    opens no more than this."""
    return frozenset().union(*(ROLE_CLASSES.get(role, frozenset()) for role in roles))


def _build_scope(user: User) -> Scope:
    scope = Scope()
    if not user.is_authenticated or not user.is_active:
        return scope
    memberships = list(
        user.memberships.filter(active=True, organisation__active=True).select_related(
            "organisation__jurisdiction"
        )
    )
    scope.roles = frozenset(m.role for m in memberships)
    for m in memberships:
        classes = ROLE_CLASSES.get(m.role, frozenset())
        org = m.organisation
        if m.role in REGISTRY_ROLES:
            scope.grants.append(
                Grant(
                    classes,
                    place_prefix=org.jurisdiction.prefix,
                    break_glass=m.role == Role.OFFICIAL,
                    role=m.role,
                )
            )
        elif m.role in {Role.TEACHER, Role.COUNSELOR} and org.kind == "school":
            # Teachers and the school's own counsellor (心理老师) serve its pupils.
            scope.grants.append(
                Grant(classes, school_id=org.pk, role=m.role, clinical=m.role == Role.COUNSELOR)
            )
        if m.role in ORG_CASE_ROLES:
            scope.grants.append(
                Grant(
                    classes,
                    assigned_org_id=org.pk,
                    role=m.role,
                    clinical=m.role == Role.COUNSELOR,
                )
            )
    _add_assignment_grants(user, scope, {m.role for m in memberships})
    return scope


def _add_assignment_grants(user: User, scope: Scope, roles: set[str]) -> None:
    """Grants through the user's own assignments, capped by the user's role ceiling."""
    # Grants through assignments only for the kinds the user actually holds: a grant over an
    # empty set opens nothing, but its subquery would keep the planner off the indexes of
    # every other grant (a supervisor with no assignments gets a plain code-range filter).
    from shouhu.children.models import ChildAssignment

    held = set(
        ChildAssignment.objects.filter(active=True, user=user)
        .values_list("kind", flat=True)
        .distinct()
    )
    ceiling = role_ceiling(roles)
    clinical_role = bool(roles & CLINICAL_ROLES)
    for kind, opened in ASSIGNMENT_CLASSES.items():
        classes = opened & ceiling
        if kind in {"case_worker", "counselor", "volunteer"} and kind in held and classes:
            scope.grants.append(
                Grant(
                    classes & ceiling,
                    assigned_user_id=user.pk,
                    assignment_kind=kind,
                    clinical=clinical_role and kind in CLINICAL_ASSIGNMENTS,
                )
            )


def scope_of(user: User) -> Scope:
    """The user's grants, computed once per request and cached on the user object."""
    cached: Scope | None = getattr(user, "_shouhu_scope", None)
    if cached is None:
        cached = _build_scope(user)
        user._shouhu_scope = cached  # type: ignore[attr-defined]
    return cached


def visible_q(user: User, *, needs: str = BASIC) -> Q | None:
    """Q matching the children the user may see with field class `needs`; None if none."""
    qs = [g.q() for g in scope_of(user).grants if needs in g.classes]
    return reduce(or_, qs) if qs else None


def children_visible_to(user: User, *, needs: str = BASIC) -> ChildQuerySet:
    from shouhu.children.models import Child

    q = visible_q(user, needs=needs)
    return Child.objects.none() if q is None else Child.objects.filter(q)


def _grant_covers(
    grant: Grant, child: Child, assignment_keys: frozenset[tuple[str, object]]
) -> bool:
    if grant.place_prefix:
        low, high = code_range(grant.place_prefix)
        return low <= child.residence_id <= high
    if grant.school_id is not None:
        return child.school_id == grant.school_id
    if grant.assigned_user_id is not None:
        return ("user", (grant.assigned_user_id, grant.assignment_kind)) in assignment_keys
    return ("org", grant.assigned_org_id) in assignment_keys


# A request asks the same child's assignments many times (the file, its field classes,
# screening levels, who may refer or edit): within one request they are read once. The
# cache lives only while a request runs (`request_cache`, set by `RequestCacheMiddleware`)
# and is emptied whenever an assignment is written (`forget_assignments`).
_assignments: ContextVar[dict[int, frozenset[tuple[str, object]]] | None] = ContextVar(
    "shouhu_assignments", default=None
)


@contextmanager
def request_cache() -> Iterator[None]:
    token = _assignments.set({})
    try:
        yield
    finally:
        _assignments.reset(token)


def forget_assignments(**_: object) -> None:
    cache = _assignments.get()
    if cache is not None:
        cache.clear()


def _assignment_keys(child: Child) -> frozenset[tuple[str, object]]:
    from shouhu.children.models import ChildAssignment

    cache = _assignments.get()
    if cache is not None and child.pk in cache:
        return cache[child.pk]
    keys = frozenset(
        ("user", (user_id, kind)) if user_id else ("org", org_id)
        for user_id, kind, org_id in ChildAssignment.objects.filter(
            child=child, active=True
        ).values_list("user_id", "kind", "organisation_id")
    )
    if cache is not None:
        cache[child.pk] = keys
    return keys


def grants_for(user: User, child: Child) -> list[Grant]:
    """The user's grants that cover this child (one query for assignments per request)."""
    keys = _assignment_keys(child)
    return [g for g in scope_of(user).grants if _grant_covers(g, child, keys)]


def field_classes(user: User, child: Child) -> frozenset[str]:
    return frozenset().union(*(g.classes for g in grants_for(user, child)))


def can_see(user: User, child: Child, field_class: str) -> bool:
    return field_class in field_classes(user, child)


def can_break_glass(user: User, child: Child) -> bool:
    return any(g.break_glass for g in grants_for(user, child))


class BreakGlassPurpose(models.TextChoices):
    """What an official reaching past their ceiling needs the fields for (with a reason)."""

    VERIFICATION = "verification", _("Verifying eligibility or a category (核查认定)")
    EMERGENCY = "emergency", _("Emergency protection of the child (紧急保护)")
    LAW_ENFORCEMENT = "law_enforcement", _("Assisting the police or a court (执法协查)")
    AUDIT = "audit", _("Audit or supervision review (审计)")


def break_glass_auditors(child: Child, actor: User) -> list[User]:
    """Who is told when someone breaks glass on a child: the civil-affairs officials of the
    county the child lives in (they read its access log), other than the one who broke it;
    if there are none, those of the city, then of the province; failing all, the system
    administrators."""
    code = child.residence_id
    for digits in (6, 4, 2):  # county, city, province
        place = code[:digits].ljust(12, "0")
        found = [
            m.user
            for m in Membership.objects.filter(
                role=Role.OFFICIAL,
                active=True,
                user__is_active=True,
                organisation__active=True,
                organisation__kind=OrgKind.CIVIL_AFFAIRS,
                organisation__jurisdiction_id=place,
            )
            .exclude(user=actor)
            .select_related("user")
        ]
        if found:
            return found
    admins = User.objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(memberships__role=Role.ADMIN, memberships__active=True)
    )
    return list(admins.exclude(pk=actor.pk).distinct())


# What a user may see of a child's screening results (answers, scores, flags).
RESULTS_FULL = "full"  # answers and scores
RESULTS_SUMMARY = "summary"  # only "needs follow-up" and the action owed
RESULTS_NONE = "none"


SCREENING_KINDS = ("screening", "needs_assessment", "strengths")


def screening_levels(user: User, child: Child) -> dict[str, str]:
    """How much of a child's results of each kind of instrument the user may see.

    Mental-health screenings (`screening`): counsellors serving the child (through their
    organisation, their school or an assignment) and the assigned case worker see answers and
    scores; the child's other adults with a grant (child directors, supervisors, officials,
    teachers, social workers of an organisation serving the child) see only whether
    follow-up is needed and the action owed; volunteers see nothing. Needs assessments and
    strengths profiles are the workers' own records: whoever may see the child's sensitive
    fields sees them in full.
    """
    grants = grants_for(user, child)
    summary = (
        RESULTS_SUMMARY if any(g.assignment_kind != "volunteer" for g in grants) else (RESULTS_NONE)
    )
    clinical = any(g.clinical for g in grants)
    sensitive = any(SENSITIVE in g.classes for g in grants)
    return {
        "screening": RESULTS_FULL if clinical else summary,
        "needs_assessment": RESULTS_FULL if sensitive else summary,
        "strengths": RESULTS_FULL if sensitive else summary,
    }


def screening_access(user: User, child: Child, *, kind: str = "screening") -> str:
    """`screening_levels` for one kind."""
    return screening_levels(user, child)[kind]


def jurisdiction_q(
    user: User, *, roles: frozenset[str] | None = None, field: str = "child__residence_id"
) -> Q:
    """Rows whose child lives inside the jurisdiction of the user's registry grants (of the
    given roles): how supervisors and officials follow their area's alerts, reports and
    tasks. Matches nothing for a user without such a grant."""
    area = Q(pk__in=[])
    for grant in scope_of(user).grants:
        if grant.place_prefix and (roles is None or grant.role in roles):
            low, high = code_range(grant.place_prefix)
            area |= Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return area


def can_administer(user: User, child: Child, *, kind: str = "screening") -> bool:
    """Who may give a child an instrument: those who may see the answers (a teacher or child
    director does not enter answers they are not allowed to read back)."""
    return screening_access(user, child, kind=kind) == RESULTS_FULL


def can_register_in(user: User, village_code: str) -> bool:
    """Child directors and supervisors register children living in their jurisdiction."""
    for g in scope_of(user).grants:
        if g.place_prefix and IDENTIFYING in g.classes:
            low, high = code_range(g.place_prefix)
            if low <= village_code <= high:
                return True
    return False


def can_register(user: User) -> bool:
    """Whether the user may register children anywhere (directors and supervisors)."""
    return any(g.place_prefix and IDENTIFYING in g.classes for g in scope_of(user).grants)


AUDIT_ROLES = frozenset({Role.ADMIN, Role.OFFICIAL})


def can_audit(user: User) -> bool:
    """Administrators and civil-affairs officials review the access log."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.memberships.filter(active=True, role__in=AUDIT_ROLES).exists()


def access_log_visible_to(user: User) -> QuerySet[AccessLog]:
    """The access-log entries an auditor may read: administrators all of them; an official
    the entries about children of their jurisdiction and those made by people of the
    organisations there (logins included). Others none."""
    from shouhu.audit.models import AccessLog

    entries = AccessLog.objects.all()
    if not can_audit(user):
        return entries.none()
    if user.is_superuser or user.memberships.filter(active=True, role=Role.ADMIN).exists():
        return entries
    prefixes = [
        m.organisation.jurisdiction.prefix
        for m in user.memberships.filter(active=True, role=Role.OFFICIAL).select_related(
            "organisation__jurisdiction"
        )
    ]
    people = Q()
    for prefix in prefixes:
        low, high = code_range(prefix)
        people |= Q(
            memberships__organisation__jurisdiction__gte=low,
            memberships__organisation__jurisdiction__lte=high,
        )
    staff = User.objects.filter(people) if prefixes else User.objects.none()
    children = children_visible_to(user).values("id")
    # Failed logins carry the name typed, not a user.
    return entries.filter(
        Q(child_id__in=children)
        | Q(user_id__in=staff.values("id"))
        | Q(user__isnull=True, username__in=staff.values("username"))
    )


def can_edit(user: User, child: Child) -> bool:
    """The registry roles with full field access edit a child's registration."""
    return any(g.place_prefix and IDENTIFYING in g.classes for g in grants_for(user, child))


def may_record_consent(user: User, child: Child) -> bool:
    """A guardian's consent is recorded by those who register the child and by those who
    bring the child to a service (a social worker who obtained it for a referral)."""
    return can_edit(user, child) or may_refer(user, child)


def get_child_for_user(user: User, child_id: object, *, purpose: str) -> Child:
    """The one way to open a child's file. Missing and not allowed are the same 404.

    Writes a view entry (with the purpose) to the access log; a refused attempt on a child
    that exists is logged as denied.
    """
    from shouhu.audit.models import Action
    from shouhu.audit.services import log_access
    from shouhu.children.models import Child

    try:
        pk = int(str(child_id))
    except ValueError:
        raise Http404 from None
    child = children_visible_to(user).select_related("residence", "school", "hukou").filter(pk=pk)
    found = child.first()
    if found is None:
        if Child.objects.filter(pk=pk).exists():
            log_access(user=user, action=Action.DENIED, child_id=pk, purpose=purpose)
        raise Http404("No such child.")
    log_access(
        user=user,
        action=Action.VIEW_CHILD,
        child_id=found.pk,
        purpose=purpose,
        fields=field_classes(user, found),
    )
    return found


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
    """Anyone working with the child except volunteers may bring the child to a service."""
    return any(g.assignment_kind != "volunteer" for g in grants_for(user, child))


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
    code = child.residence_id
    places = [code[:n].ljust(12, "0") for n in (2, 4, 6, 9, 12)]
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
    return site.facilitators.filter(user=user, active=True).exists()


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
    return found


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


def _opened_with_children(
    user: User, found: Any, child_ids: Iterable[int], *, object_type: str, purpose: str
) -> None:
    """An object of several children (a session, a parent) opened through a getter below:
    its read logged with each of them."""
    from shouhu.audit.models import Action
    from shouhu.audit.services import log_children_read

    log_children_read(
        user=user,
        child_ids=child_ids,
        action=Action.VIEW_CHILD,
        object_type=object_type,
        object_id=str(found.pk),
        fields=[BASIC],
        purpose=purpose,
    )


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
    found: QuerySet[Site] = Site_.objects.filter(
        Q(organisation_id__in=orgs)
        | Q(facilitators__user=user, facilitators__active=True)
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


def can_edit_household(user: User, household_id: int) -> bool:
    """The family's own registration (a guardian's phone, say): only those who may edit
    every child of the household."""
    from shouhu.children.models import Child

    children = list(Child.objects.filter(household_id=household_id))
    return bool(children) and all(can_edit(user, c) for c in children)


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


def _opened(
    user: User, found: Any, *, object_type: str, purpose: str, fields: Iterable[str] = ()
) -> Any:
    """An object of a child opened through one of the getters below: 404 when the user may
    not see it (as a missing one), else its read logged with the child."""
    from shouhu.audit.models import Action
    from shouhu.audit.services import log_access

    if found is None:
        raise Http404
    log_access(
        user=user,
        action=Action.VIEW_CHILD,
        child_id=found.child_id,
        object_type=object_type,
        object_id=str(found.pk),
        fields=fields,
        purpose=purpose,
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


def _key(pk: object) -> int:
    """A primary key from an address or a form: anything else is the same 404."""
    try:
        key = int(str(pk))
    except ValueError:
        raise Http404 from None
    if not 0 < key <= 2**63 - 1:
        raise Http404
    return key
