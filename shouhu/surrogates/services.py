"""The writes of surrogate parents: arranging one for a child, ending it, logging contacts,
and the daily job that turns a missed cadence into a task for the village's child director.
Each write checks who may do it, refuses bad input with `ValidationError({field: [message]})`
naming the field, writes all or nothing and keeps a change record; each one that changes a
risk input recomputes the child's risk level."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shouhu import access
from shouhu.accounts.models import Membership, Organisation, User
from shouhu.audit.services import record_change
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock, phone, protect
from shouhu.screening import risk
from shouhu.surrogates.models import (
    Arrangement,
    ArrangementStatus,
    Cadence,
    CommunityRole,
    Contact,
    Mode,
    SurrogateParent,
)
from shouhu.surrogates.selectors import Standing, standings
from shouhu.tasks.models import Task, TaskKind, TaskStatus
from shouhu.volunteers.models import Volunteer

Errors = dict[str, list[str]]
MAX_EVERY_DAYS = 366
# Shown in the reader's language (the worklist translates automatic titles).
TASK_TITLE = gettext_noop("The surrogate parent missed the agreed contact")


@dataclass(frozen=True)
class SurrogateData:
    """A surrogate parent recorded with the arrangement."""

    name: str
    community_role: str
    phone: str = ""
    user: User | None = None
    volunteer: Volunteer | None = None


@dataclass(frozen=True)
class CadenceData:
    mode: str
    every_days: int


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def _text(value: str, limit: int) -> str:
    return value.strip()[:limit]


def _arranges(actor: User, child: Child) -> None:
    if not access.may_arrange_surrogate(actor, child):
        raise PermissionDenied(_("You do not arrange surrogate parents for this child."))


def is_left_behind(child: Child) -> bool:
    """Left behind by either count: the MCA's (under 16) or the census's (under 18)."""
    return child.cat_left_behind_mca or child.cat_left_behind_census


def _check_person(person: SurrogateData, organisation: Organisation, errors: Errors) -> None:
    if not person.name.strip():
        errors["surrogate.name"] = [_("Give the surrogate parent's name.")]
    if person.community_role not in CommunityRole.values:
        errors["surrogate.community_role"] = [_("Choose the surrogate parent's role.")]
    if person.phone.strip() and not phone.is_valid(person.phone):
        errors["surrogate.phone"] = [str(phone.PROBLEM)]
    if person.volunteer is not None and person.volunteer.organisation_id != organisation.pk:
        errors["surrogate.volunteer"] = [_("The volunteer must belong to this organisation.")]
    if person.user is not None and not person.user.is_active:
        errors["surrogate.user"] = [_("This login is not active.")]


def _check_cadences(cadences: list[CadenceData], errors: Errors) -> None:
    if not cadences:
        errors["cadences"] = [_("Agree at least one contact cadence, such as a weekly call.")]
    seen: set[str] = set()
    for i, cadence in enumerate(cadences):
        if cadence.mode not in Mode.values:
            errors[f"cadences.{i}.mode"] = [_("Choose a call, a video call or a visit.")]
        elif cadence.mode in seen:
            errors[f"cadences.{i}.mode"] = [_("This kind of contact is already agreed.")]
        seen.add(cadence.mode)
        if not isinstance(cadence.every_days, int) or not 1 <= cadence.every_days <= MAX_EVERY_DAYS:
            errors[f"cadences.{i}.every_days"] = [_("Give a number of days from 1 to 366.")]


@transaction.atomic
def arrangement_create(
    *,
    actor: User,
    child: Child,
    organisation: Organisation,
    guardian: FamilyMember | None,
    signed_on: dt.date,
    since: dt.date,
    duties: str,
    agreement_version: str,
    cadences: list[CadenceData],
    surrogate: SurrogateParent | None = None,
    person: SurrogateData | None = None,
    until: dt.date | None = None,
) -> Arrangement:
    """Match a surrogate parent (an existing record, or `person` recorded now) to a
    left-behind child under the agreement the guardian accepted. One active arrangement per
    child."""
    _arranges(actor, child)
    child = Child.objects.select_for_update().get(pk=child.pk)
    today = clock.today()
    errors: Errors = {}
    if not is_left_behind(child):
        errors["child"] = [_("Surrogate parents are arranged for left-behind children only.")]
    elif Arrangement.objects.filter(child=child, status=ArrangementStatus.ACTIVE).exists():
        errors["child"] = [_("The child already has a surrogate parent; end that first.")]
    if not Membership.objects.filter(
        user=actor, organisation=organisation, active=True, role__in=access.SURROGATE_MANAGERS
    ).exists():
        errors["organisation"] = [_("Arrange in an organisation in which you work.")]
    if (surrogate is None) == (person is None):
        errors["surrogate"] = [_("Choose a surrogate parent or give a new one's details.")]
    elif person is not None:
        _check_person(person, organisation, errors)
    if guardian is None or guardian.household_id != child.household_id:
        errors["guardian"] = [_("Choose a guardian of the child's household.")]
    elif not guardian.is_guardian:
        errors["guardian"] = [_("This family member is not the child's guardian.")]
    if signed_on > today:
        errors["signed_on"] = [_("This date is in the future.")]
    if since < signed_on:
        errors["since"] = [_("The arrangement cannot start before the agreement was signed.")]
    if until is not None and until < since:
        errors["until"] = [_("The arrangement ends before it starts.")]
    if not duties.strip():
        errors["duties"] = [_("Say what the surrogate parent agreed to do.")]
    if not agreement_version.strip():
        errors["agreement_version"] = [_("Give the agreement's version.")]
    _check_cadences(cadences, errors)
    _raise(errors)
    if person is not None:
        surrogate = _surrogate_create(actor, organisation, person)
    assert surrogate is not None
    assert guardian is not None
    try:
        with transaction.atomic():
            arrangement = Arrangement.objects.create(
                child=child,
                surrogate=surrogate,
                organisation=organisation,
                guardian=guardian,
                signed_on=signed_on,
                since=since,
                until=until,
                duties=duties.strip(),
                agreement_version=_text(agreement_version, 32),
                created_at=clock.now(),
                created_by=actor,
            )
    except IntegrityError:  # another arrangement was made for the child at the same moment
        raise ValidationError(
            {"child": [_("The child already has a surrogate parent; end that first.")]}
        ) from None
    record_change(
        actor=actor,
        obj=arrangement,
        operation="create",
        changes={
            "guardian": [None, guardian.pk if guardian else None],
            "signed_on": [None, str(signed_on)],
            "since": [None, str(since)],
            "until": [None, str(until) if until else None],
            "agreement_version": [None, arrangement.agreement_version],
        },
        child_id=child.pk,
    )
    for c in cadences:
        cadence = Cadence.objects.create(
            arrangement=arrangement, mode=c.mode, every_days=c.every_days
        )
        record_change(
            actor=actor,
            obj=cadence,
            operation="create",
            changes={"mode": [None, c.mode], "every_days": [None, c.every_days]},
            child_id=child.pk,
        )
    risk.recompute(child)
    return arrangement


def _surrogate_create(
    actor: User, organisation: Organisation, person: SurrogateData
) -> SurrogateParent:
    surrogate = SurrogateParent.objects.create(
        organisation=organisation,
        name=_text(person.name, 100),
        phone_enc=protect.seal(person.phone.strip()),
        community_role=person.community_role,
        user=person.user,
        volunteer=person.volunteer,
        created_at=clock.now(),
        created_by=actor,
    )
    record_change(
        actor=actor,
        obj=surrogate,
        operation="create",
        changes={"name": [None, surrogate.name], "community_role": [None, person.community_role]},
        child_id=None,
    )
    return surrogate


@transaction.atomic
def arrangement_end(
    *, actor: User, arrangement: Arrangement, reason: str, ended_on: dt.date | None = None
) -> Arrangement:
    """End an arrangement with its reason; its open task for a missed contact is cancelled."""
    _arranges(actor, arrangement.child)
    arrangement = Arrangement.objects.select_for_update().get(pk=arrangement.pk)
    today = clock.today()
    ended_on = ended_on or today
    errors: Errors = {}
    if arrangement.status != ArrangementStatus.ACTIVE:
        errors["status"] = [_("The arrangement has already ended.")]
    if not reason.strip():
        errors["reason"] = [_("Say why the arrangement ends.")]
    if ended_on > today:
        errors["ended_on"] = [_("This date is in the future.")]
    elif ended_on < arrangement.since:
        errors["ended_on"] = [_("The arrangement cannot end before it started.")]
    _raise(errors)
    arrangement.status = ArrangementStatus.ENDED
    arrangement.ended_on = ended_on
    arrangement.end_reason = _text(reason, 300)
    arrangement.save(update_fields=["status", "ended_on", "end_reason"])
    record_change(
        actor=actor,
        obj=arrangement,
        operation="update",
        changes={
            "status": [ArrangementStatus.ACTIVE, ArrangementStatus.ENDED],
            "end_reason": [None, arrangement.end_reason],
        },
        child_id=arrangement.child_id,
    )
    _close_task(arrangement.child_id, TaskStatus.CANCELLED, by=actor)
    risk.recompute(arrangement.child)
    return arrangement


@transaction.atomic
def contact_record(
    *,
    actor: User,
    arrangement: Arrangement,
    on: dt.date,
    mode: str,
    minutes: int | None = None,
    notes: str = "",
) -> Contact:
    """A contact of the surrogate parent with the child: not in the future, not before the
    arrangement started. When no cadence is missed any more, the task is done."""
    arrangement = (
        Arrangement.objects.select_for_update()
        .select_related("surrogate", "child")
        .get(pk=arrangement.pk)
    )
    if not access.may_record_surrogate_contact(actor, arrangement):
        raise PermissionDenied(_("You may not log contacts of this arrangement."))
    today = clock.today()
    errors: Errors = {}
    if mode not in Mode.values:
        errors["mode"] = [_("Choose a call, a video call or a visit.")]
    if on > today:
        errors["on"] = [_("This date is in the future.")]
    elif on < arrangement.since:
        errors["on"] = [_("This is before the arrangement started.")]
    if minutes is not None and not 0 < minutes <= 24 * 60:
        errors["minutes"] = [_("Give the minutes from 1 to 1440.")]
    _raise(errors)
    contact = Contact.objects.create(
        arrangement=arrangement,
        on=on,
        mode=mode,
        minutes=minutes,
        notes=notes.strip(),
        recorded_by=actor,
        recorded_at=clock.now(),
    )
    record_change(
        actor=actor,
        obj=contact,
        operation="create",
        changes={"on": [None, str(on)], "mode": [None, mode]},
        child_id=arrangement.child_id,
    )
    found = standings(child_ids=[arrangement.child_id], today=today).get(arrangement.child_id)
    if found is None or not found.is_missed:
        _close_task(arrangement.child_id, TaskStatus.DONE, by=actor)
    risk.recompute(arrangement.child)
    return contact


def _close_task(child_id: int, status: str, *, by: User | None) -> int:
    """Close the child's open task for a missed contact (0 or 1), with a change record."""
    closed = 0
    for task in Task.objects.filter(
        child_id=child_id, kind=TaskKind.SURROGATE_CONTACT, status=TaskStatus.OPEN
    ):
        task.status, task.done_at, task.done_by = status, clock.now(), by
        task.save(update_fields=["status", "done_at", "done_by"])
        record_change(
            actor=by,
            obj=task,
            operation="update",
            changes={"status": [TaskStatus.OPEN, status]},
            child_id=child_id,
        )
        closed += 1
    return closed


def _reason(found: Standing) -> str:
    """The task's reason, language-free: the missed cadences as `mode/days`."""
    return ",".join(f"{c.mode}/{c.every_days}" for c in found.missed)[:200]


def missed(today: dt.date | None = None) -> tuple[int, int]:
    """The daily job: every active arrangement with a missed cadence has exactly one open
    task for the child director of the child's village (due today); one whose cadences are
    kept again has none. Idempotent. Returns (opened, closed)."""
    today = today or clock.today()
    found = standings(today=today)
    late = {child_id: s for child_id, s in found.items() if s.is_missed}
    open_tasks = dict(
        Task.objects.filter(kind=TaskKind.SURROGATE_CONTACT, status=TaskStatus.OPEN).values_list(
            "child_id", "pk"
        )
    )
    opened = closed = 0
    for child_id in set(open_tasks) - set(late):
        with transaction.atomic():
            closed += _close_task(child_id, TaskStatus.DONE, by=None)
    new = [s for child_id, s in late.items() if child_id not in open_tasks]
    if not new:
        return opened, closed
    children = {c.pk: c for c in Child.objects.filter(pk__in=[s.arrangement.child_id for s in new])}
    directors = risk.directors_of({c.residence_id for c in children.values()})
    for standing in new:
        child = children[standing.arrangement.child_id]
        with transaction.atomic():
            task = Task.objects.create(
                child=child,
                kind=TaskKind.SURROGATE_CONTACT,
                title=TASK_TITLE,
                reason=_reason(standing),
                assignee=directors.get(child.residence_id),
                due_on=today,
                created_at=clock.now(),
                residence=child.residence_id,
            )
            record_change(
                actor=None,
                obj=task,
                operation="create",
                changes={"kind": [None, task.kind], "due_on": [None, str(today)]},
                child_id=child.pk,
            )
            risk.recompute(child)
        opened += 1
    return opened, closed
