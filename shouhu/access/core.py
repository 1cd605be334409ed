"""Grants, scopes and the child: who sees which children and which of their fields."""

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
from django.db.models import Q, QuerySet, Value
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from shouhu.accounts.models import Membership, OrgKind, Role, User
from shouhu.places.models import code_range

if TYPE_CHECKING:
    from shouhu.audit.models import AccessLog
    from shouhu.children.models import Child, ChildQuerySet

__all__ = [
    "ALL",
    "ASSIGNMENT_CLASSES",
    "AUDIT_ROLES",
    "BASIC",
    "CLINICAL_ASSIGNMENTS",
    "CLINICAL_ROLES",
    "FIELD_CLASSES",
    "IDENTIFYING",
    "ORG_CASE_ROLES",
    "REGISTRY_ROLES",
    "RESULTS_FULL",
    "RESULTS_NONE",
    "RESULTS_SUMMARY",
    "ROLE_CLASSES",
    "SCREENING_KINDS",
    "SENSITIVE",
    "SHARE_ROLES",
    "BreakGlassPurpose",
    "Grant",
    "Scope",
    "_key",
    "_model",
    "_opened",
    "_opened_with_children",
    "access_log_visible_to",
    "break_glass_auditors",
    "can_administer",
    "can_audit",
    "can_break_glass",
    "can_edit",
    "can_edit_household",
    "can_register",
    "can_register_in",
    "can_see",
    "children_visible_to",
    "field_classes",
    "forget_assignments",
    "get_child_for_user",
    "grants_for",
    "jurisdiction_q",
    "request_cache",
    "role_ceiling",
    "scope_of",
    "screening_access",
    "screening_levels",
    "visible_q",
]


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
    # A child's file shared with the user's organisation across a confirmed link
    # (`linkage.Share`), at that share's level ("basic" or "full").
    shared_org_id: int | None = None
    shared_fields: str = ""

    def q(self) -> Q:
        from shouhu.children.models import ChildAssignment

        if self.place_prefix:
            low, high = code_range(self.place_prefix)
            if low == high:  # one village
                return Q(residence=low)
            return Q(residence__gte=low, residence__lte=high)
        if self.school_id is not None:
            return Q(school_id=self.school_id)
        if self.shared_org_id is not None:
            shares = _model("linkage", "Share").objects.filter(
                active=True, organisation_id=self.shared_org_id, fields=self.shared_fields
            )
            return Q(id__in=shares.values("child_id"))
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
    kinds, shares = _held(user, memberships)
    _add_assignment_grants(user, scope, {m.role for m in memberships}, kinds)
    _add_share_grants(scope, memberships, shares)
    return scope


def _held(user: User, memberships: list[Any]) -> tuple[set[str], set[tuple[int, str]]]:
    """The kinds of the user's active assignments, and the (organisation, level) of the
    active shares with the user's organisations (`linkage.Share`), in one query: a grant is
    made only for what is held (see `_add_assignment_grants`)."""
    from shouhu.children.models import ChildAssignment

    text: models.CharField[str, str] = models.CharField()
    number: models.BigIntegerField[int, int] = models.BigIntegerField()
    assigned = (
        ChildAssignment.objects.filter(active=True, user=user)
        .annotate(org=Value(0, output_field=number), level=Value("", output_field=text))
        .values_list("kind", "org", "level")
        .order_by()
    )
    orgs = {m.organisation_id for m in memberships if m.role in SHARE_ROLES}
    if orgs:
        shared = (
            _model("linkage", "Share")
            .objects.filter(active=True, organisation_id__in=orgs)
            .annotate(what=Value("share", output_field=text))
            .values_list("what", "organisation_id", "fields")
            .order_by()
        )
        assigned = assigned.union(shared)
    else:
        assigned = assigned.distinct()
    kinds: set[str] = set()
    shares: set[tuple[int, str]] = set()
    for kind, org, level in assigned:
        if level:
            shares.add((org, level))
        else:
            kinds.add(kind)
    return kinds, shares


# The roles that read a file shared with their organisation across a link (`linkage`).
SHARE_ROLES = REGISTRY_ROLES | ORG_CASE_ROLES
SHARE_LEVELS: dict[str, frozenset[str]] = {"basic": frozenset({BASIC}), "full": ALL}


def _add_share_grants(scope: Scope, memberships: list[Any], held: set[tuple[int, str]]) -> None:
    """Grants over the children shared with the user's organisations, capped by each role's
    ceiling; only for the levels the organisations actually hold (as assignments above)."""
    for m in memberships:
        for org_id, level in sorted(held):
            if org_id != m.organisation_id or m.role not in SHARE_ROLES:
                continue
            classes = ROLE_CLASSES.get(m.role, frozenset()) & SHARE_LEVELS[level]
            if classes:
                scope.grants.append(
                    Grant(classes, shared_org_id=org_id, shared_fields=level, role=m.role)
                )


def _add_assignment_grants(user: User, scope: Scope, roles: set[str], held: set[str]) -> None:
    """Grants through the user's own assignments, capped by the user's role ceiling."""
    # Grants through assignments only for the kinds the user actually holds: a grant over an
    # empty set opens nothing, but its subquery would keep the planner off the indexes of
    # every other grant (a supervisor with no assignments gets a plain code-range filter).
    ceiling = role_ceiling(roles)
    clinical_role = bool(roles & CLINICAL_ROLES)
    for kind, opened in ASSIGNMENT_CLASSES.items():
        classes = opened & ceiling
        if kind in {"case_worker", "counselor", "volunteer"} and kind in held and classes:
            if kind == "volunteer" and _volunteer_gate_closed(user):
                continue  # not cleared today: matched children stay closed
            scope.grants.append(
                Grant(
                    classes & ceiling,
                    assigned_user_id=user.pk,
                    assignment_kind=kind,
                    clinical=clinical_role and kind in CLINICAL_ASSIGNMENTS,
                )
            )


def _volunteer_gate_closed(user: User) -> bool:
    from shouhu.access.volunteers import volunteer_assignments_closed

    return volunteer_assignments_closed(user)


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
    if grant.shared_org_id is not None:
        return (grant.shared_org_id, grant.shared_fields) in _share_keys(child)
    return ("org", grant.assigned_org_id) in assignment_keys


# A request asks the same child's assignments many times (the file, its field classes,
# screening levels, who may refer or edit): within one request they are read once. The
# cache lives only while a request runs (`request_cache`, set by `RequestCacheMiddleware`)
# and is emptied whenever an assignment is written (`forget_assignments`).
_assignments: ContextVar[dict[int, frozenset[tuple[str, object]]] | None] = ContextVar(
    "shouhu_assignments", default=None
)


_shares: ContextVar[dict[int, frozenset[tuple[int, str]]] | None] = ContextVar(
    "shouhu_shares", default=None
)


# Whether a user's volunteer gate is closed, per request in the same way (`volunteers`).
_gates: ContextVar[dict[tuple[str, int], bool] | None] = ContextVar("shouhu_gates", default=None)


@contextmanager
def request_cache() -> Iterator[None]:
    token = _assignments.set({})
    gates = _gates.set({})
    shares = _shares.set({})
    try:
        yield
    finally:
        _shares.reset(shares)
        _gates.reset(gates)
        _assignments.reset(token)


def forget_assignments(**_: object) -> None:
    for cache in (_assignments.get(), _gates.get(), _shares.get()):
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


def _share_keys(child: Child) -> frozenset[tuple[int, str]]:
    """(organisation, level) of the child's active shares; read only for a user holding a
    share grant, once per child and request."""
    cache = _shares.get()
    if cache is not None and child.pk in cache:
        return cache[child.pk]
    keys = frozenset(
        _model("linkage", "Share")
        .objects.filter(child_id=child.pk, active=True)
        .values_list("organisation_id", "fields")
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
    # A volunteer, or an organisation reading the basic fields shared across a link, sees
    # nothing of the results.
    summary = (
        RESULTS_SUMMARY
        if any(g.assignment_kind != "volunteer" and g.shared_fields != "basic" for g in grants)
        else RESULTS_NONE
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


def _key(pk: object) -> int:
    """A primary key from an address or a form: anything else is the same 404."""
    try:
        key = int(str(pk))
    except ValueError:
        raise Http404 from None
    if not 0 < key <= 2**63 - 1:
        raise Http404
    return key


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


def can_edit_household(user: User, household_id: int) -> bool:
    """The family's own registration (a guardian's phone, say): only those who may edit
    every child of the household."""
    from shouhu.children.models import Child

    children = list(Child.objects.filter(household_id=household_id))
    return bool(children) and all(can_edit(user, c) for c in children)
