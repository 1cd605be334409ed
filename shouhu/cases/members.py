"""The people on a case: the workers and volunteers added to it (`member_add`: people
serving the child's area, `selectors.member_candidates`; `member_remove` keeps them on
record, inactive), and the assignment that opens the child to each of them. Adding people
is work on the case: the organisation's social workers and counsellors, and those already
added to it."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Role, User
from shouhu.cases.models import Case, CaseMember, CaseRole, Stage
from shouhu.cases.rules import check_choice, raise_if_any
from shouhu.cases.selectors import member_candidates
from shouhu.children.assignments import assignment_create
from shouhu.children.models import ChildAssignment
from shouhu.lib import clock

# Which membership role lets a person take each role on a case (volunteers: anyone who may
# be a candidate; a volunteer never becomes a worker, who reads the case notes).
MEMBER_ROLES: dict[str, frozenset[str]] = {
    CaseRole.WORKER: frozenset({Role.SOCIAL_WORKER}),
    CaseRole.COUNSELLOR: frozenset({Role.COUNSELOR}),
    CaseRole.SUPERVISOR: frozenset({Role.SUPERVISOR}),
    CaseRole.VOLUNTEER: frozenset(
        {Role.VOLUNTEER, Role.SOCIAL_WORKER, Role.COUNSELOR, Role.TEACHER}
    ),
}


def _roles_of(user: User) -> set[str]:
    return set(user.memberships.filter(active=True).values_list("role", flat=True))


@transaction.atomic
def member_add(
    *, actor: User, case: Case, user: User, role: str, now: dt.datetime | None = None
) -> CaseMember:
    """Add a worker or volunteer to the case with their role (a removed one comes back)."""
    now = now or clock.now()
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    errors: dict[str, list[str]] = {}
    check_choice(errors, "role", role, CaseRole)
    if CaseMember.objects.filter(case=case, user=user, active=True).exists():
        errors["user"] = [_("Already on the case.")]
    elif user.pk not in {u.pk for u in member_candidates(case)}:
        errors["user"] = [
            _("Only workers and volunteers serving the child's area can join the case.")
        ]
    elif role in MEMBER_ROLES and not (_roles_of(user) & MEMBER_ROLES[role]):
        errors["role"] = [_("This person cannot take that role on a case.")]
    elif role == CaseRole.VOLUNTEER and (refusal := access.volunteer_match_refusal(user)):
        errors["user"] = [refusal]
    if case.stage == Stage.CLOSED:
        errors.setdefault("__all__", []).append(_("The case is closed."))
    raise_if_any(errors)
    member, _created = CaseMember.objects.update_or_create(
        case=case, user=user, defaults={"role": role, "active": True, "added_at": now}
    )
    kind = "volunteer" if role == CaseRole.VOLUNTEER else "case_worker"
    open_child_to(case, user, now, kind=kind)
    return member


@transaction.atomic
def member_remove(
    *, actor: User, case: Case, user: User, now: dt.datetime | None = None
) -> CaseMember:
    """Take someone off the case (kept, inactive, for the record). The lead stays; the
    assignment that opened the child to them ends unless another open case needs it."""
    now = now or clock.now()
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    member = CaseMember.objects.select_for_update().filter(case=case, user=user, active=True)
    found = member.first()
    if found is None:
        raise ValidationError({"user": [_("Not on the case.")]})
    if user.pk == case.lead_id:
        raise ValidationError({"user": [_("The lead worker cannot be removed.")]})
    found.active = False
    found.save(update_fields=["active"])
    still = (
        CaseMember.objects.filter(
            user=user, active=True, case__child=case.child, case__organisation=case.organisation
        )
        .exclude(case__stage=Stage.CLOSED)
        .exists()
    )
    if not still:
        ChildAssignment.objects.filter(
            child=case.child,
            organisation=case.organisation,
            user=user,
            kind__in=["case_worker", "volunteer"],
            active=True,
        ).update(active=False, ended_on=timezone.localtime(now).date())
        access.forget_assignments()  # a queryset update sends no signal
    return found


def open_child_to(case: Case, user: User, now: dt.datetime, kind: str = "case_worker") -> None:
    """Open the child to the worker (DESIGN: an assignment makes the child visible)."""
    if not ChildAssignment.objects.filter(
        child=case.child, organisation=case.organisation, user=user, kind=kind, active=True
    ).exists():
        assignment_create(
            actor=None,
            child=case.child,
            organisation=case.organisation,
            kind=kind,
            user=user,
            started_on=timezone.localtime(now).date(),
        )
