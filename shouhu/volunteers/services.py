"""A volunteer's record kept by their organisation: registration, checks, training, the
agreement, activation, suspension and exit, supervision, commendations and evaluations.
Every refusal names its field; nothing is half-written. Hours and certificates are in
`hours.py`; who is cleared to work with children is `access.volunteers`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Membership, Organisation, Role, User
from shouhu.audit.services import record_change
from shouhu.lib import clock, idnumber, protect
from shouhu.notify import services as notify
from shouhu.places.models import Place
from shouhu.volunteers.models import (
    Agreement,
    Check,
    CheckKind,
    CheckResult,
    Commendation,
    Evaluation,
    Status,
    Supervision,
    Training,
    TrainingKind,
    Volunteer,
)

Errors = dict[str, list[str]]


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def require_manager(actor: User, organisation_id: int) -> None:
    if not access.may_manage_volunteers(actor, organisation_id):
        raise PermissionDenied(_("You do not keep this organisation's volunteers."))


def _not_future(errors: Errors, name: str, day: dt.date | None, today: dt.date) -> None:
    if day is not None and day > today:
        errors[name] = [_("This date is in the future.")]


def _next_number(organisation: Organisation) -> str:
    taken = Volunteer.objects.filter(organisation=organisation).count()
    while True:
        taken += 1
        number = f"V{organisation.pk:04d}-{taken:05d}"
        if not Volunteer.objects.filter(organisation=organisation, number=number).exists():
            return number


@transaction.atomic
def volunteer_register(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    sex: str = "",
    birth_date: dt.date | None = None,
    id_number: str = "",
    phone: str = "",
    home: Place | None = None,
    languages: str = "",
    availability: str = "",
    user: User | None = None,
    coordinator: User | None = None,
    applied_on: dt.date | None = None,
) -> Volunteer:
    """An application: the volunteer's basic information (Art. 4). They reach no child until
    checked, trained, bound by an agreement and activated."""
    require_manager(actor, organisation.pk)
    today = clock.today()
    errors: Errors = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("Give the volunteer's name.")]
    if sex not in ("", "M", "F"):
        errors["sex"] = [_("Choose M or F.")]
    _not_future(errors, "birth_date", birth_date, today)
    _not_future(errors, "applied_on", applied_on, today)
    id_hash = ""
    if id_number.strip():
        try:
            idnumber.check_against(id_number, birth_date=birth_date, sex=sex or None)
        except idnumber.IdNumberError:
            errors["id_number"] = [
                _("Not a valid resident ID number (18 characters, the check digit right).")
            ]
        else:
            id_hash = protect.id_hash(id_number)
            if Volunteer.objects.filter(organisation=organisation, id_number_hash=id_hash).exists():
                errors["id_number"] = [_("This person is already a volunteer here.")]
    if user is not None and Volunteer.objects.filter(organisation=organisation, user=user).exists():
        errors["user"] = [_("This login already has a volunteer record here.")]
    elif (
        user is not None
        and not Membership.objects.filter(
            user=user, organisation=organisation, active=True
        ).exists()
    ):
        errors["user"] = [_("The login must belong to this organisation.")]
    if coordinator is not None and not access.may_manage_volunteers(coordinator, organisation.pk):
        errors["coordinator"] = [_("The coordinator must keep this organisation's volunteers.")]
    _raise(errors)
    volunteer = Volunteer.objects.create(
        organisation=organisation,
        user=user,
        number=_next_number(organisation),
        name=name,
        sex=sex,
        birth_date=birth_date,
        id_number_enc=protect.seal(idnumber.normalize(id_number)) if id_hash else "",
        id_number_hash=id_hash,
        phone=phone.strip(),
        home=home,
        languages=languages.strip(),
        availability=availability.strip(),
        coordinator=coordinator or actor,
        status=Status.APPLIED,
        status_since=applied_on or today,
        applied_on=applied_on or today,
        created_at=clock.now(),
        created_by=actor,
    )
    record_change(
        actor=actor,
        obj=volunteer,
        operation="create",
        changes={"name": [None, name], "status": [None, Status.APPLIED]},
        child_id=None,
    )
    return volunteer


def _set_status(actor: User | None, volunteer: Volunteer, status: str, reason: str) -> None:
    before = volunteer.status
    volunteer.status = status
    volunteer.status_reason = reason[:300]
    volunteer.status_since = clock.today()
    volunteer.save(update_fields=["status", "status_reason", "status_since"])
    record_change(
        actor=actor,
        obj=volunteer,
        operation="update",
        changes={"status": [before, status], "status_reason": [None, reason[:300]]},
        child_id=None,
    )
    access.forget_assignments()


def _tell_coordinator(volunteer: Volunteer, subject: Callable[[], str]) -> None:
    """Tell the volunteer's coordinator (or, without one, those who keep the organisation's
    volunteers); `subject` is composed in each reader's language."""
    people = (
        [volunteer.coordinator]
        if volunteer.coordinator is not None
        else list(
            User.objects.filter(
                memberships__organisation=volunteer.organisation,
                memberships__active=True,
                memberships__role__in=access.VOLUNTEER_MANAGERS,
            )
        )
    )
    link = f"/volunteers/{volunteer.pk}/"
    notify.send(people, lambda: notify.Message(category="volunteer", subject=subject(), link=link))


def _in_chinese(text: Callable[[], str]) -> str:
    """A reason the system writes into the record, kept in Chinese like the records."""
    with translation.override("zh-hans"):
        return text()


@transaction.atomic
def check_record(
    *,
    actor: User,
    volunteer: Volunteer,
    kind: str,
    result: str,
    checked_on: dt.date,
    expires_on: dt.date | None = None,
    reference: str = "",
) -> Check:
    """A check and its outcome: who, when, result, until when. The inquiry into offence
    records needs an expiry date. A record found suspends an active volunteer at once."""
    require_manager(actor, volunteer.organisation_id)
    errors: Errors = {}
    if kind not in CheckKind.values:
        errors["kind"] = [_("Choose identity or the inquiry into offence records.")]
    if result not in CheckResult.values:
        errors["result"] = [_("Choose pending, clear or record found.")]
    _not_future(errors, "checked_on", checked_on, clock.today())
    if expires_on is not None and expires_on <= checked_on:
        errors["expires_on"] = [_("The check expires before it was made.")]
    if kind == CheckKind.RECORD_INQUIRY and result == CheckResult.CLEAR and expires_on is None:
        errors["expires_on"] = [_("Give the date until which the inquiry is valid.")]
    _raise(errors)
    check = Check.objects.create(
        volunteer=volunteer,
        kind=kind,
        result=result,
        checked_on=checked_on,
        expires_on=expires_on,
        reference=reference.strip()[:100],
        checked_by=actor,
        recorded_at=clock.now(),
    )
    record_change(
        actor=actor,
        obj=check,
        operation="create",
        changes={"kind": [None, kind], "result": [None, result]},
        child_id=None,
    )
    if result == CheckResult.FOUND and volunteer.status == Status.ACTIVE:
        _set_status(actor, volunteer, Status.SUSPENDED, _in_chinese(_record_found))
        _tell_coordinator(volunteer, partial(_record_found_subject, volunteer.name))
    access.forget_assignments()
    return check


def _hours(value: object, name: str, errors: Errors) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = [_("Give the hours as a number, for example 2.5.")]
        return Decimal(0)
    if (
        not hours.is_finite()
        or hours <= 0
        or hours > 1000
        or hours != hours.quantize(Decimal("0.1"))
    ):
        errors[name] = [_("Give the hours as a positive number with at most one decimal.")]
    return hours


@transaction.atomic
def training_record(
    *,
    actor: User,
    volunteer: Volunteer,
    kind: str,
    title: str,
    completed_on: dt.date,
    hours: object,
    trainer: str = "",
) -> Training:
    require_manager(actor, volunteer.organisation_id)
    errors: Errors = {}
    if kind not in TrainingKind.values:
        errors["kind"] = [_("Choose safeguarding, skills or other.")]
    if not title.strip():
        errors["title"] = [_("Name the course.")]
    _not_future(errors, "completed_on", completed_on, clock.today())
    amount = _hours(hours, "hours", errors)
    _raise(errors)
    training = Training.objects.create(
        volunteer=volunteer,
        kind=kind,
        title=title.strip()[:200],
        completed_on=completed_on,
        hours=amount,
        trainer=trainer.strip()[:100],
        recorded_by=actor,
    )
    access.forget_assignments()
    return training


@transaction.atomic
def agreement_sign(
    *,
    actor: User,
    volunteer: Volunteer,
    version: str,
    signed_on: dt.date,
    scope: str,
    confidentiality: bool,
    expires_on: dt.date | None = None,
) -> Agreement:
    """The signed volunteer agreement: version, date, scope and the confidentiality clause
    (without which it does not clear the volunteer)."""
    require_manager(actor, volunteer.organisation_id)
    errors: Errors = {}
    if not version.strip():
        errors["version"] = [_("Give the agreement's version.")]
    if not scope.strip():
        errors["scope"] = [_("Say what service the agreement covers.")]
    if not confidentiality:
        errors["confidentiality"] = [
            _("The agreement must bind the volunteer to keep children's information confidential.")
        ]
    _not_future(errors, "signed_on", signed_on, clock.today())
    if expires_on is not None and expires_on <= signed_on:
        errors["expires_on"] = [_("The agreement expires before it was signed.")]
    _raise(errors)
    agreement = Agreement.objects.create(
        volunteer=volunteer,
        version=version.strip()[:32],
        signed_on=signed_on,
        expires_on=expires_on,
        scope=scope.strip()[:300],
        confidentiality=True,
        recorded_by=actor,
    )
    record_change(
        actor=actor,
        obj=agreement,
        operation="create",
        changes={"version": [None, agreement.version], "signed_on": [None, str(signed_on)]},
        child_id=None,
    )
    access.forget_assignments()
    return agreement


@transaction.atomic
def activate(*, actor: User, volunteer: Volunteer) -> Volunteer:
    """Make the volunteer active once checked, trained and bound by an agreement (also to
    reinstate a suspended one). Refused with what is missing."""
    require_manager(actor, volunteer.organisation_id)
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if volunteer.status == Status.ACTIVE:
        raise ValidationError({"status": [_("The volunteer is already active.")]})
    missing = [c for c in access.clearance_missing(volunteer) if c != "not_active"]
    if missing:
        raise ValidationError(
            {"status": [_("Not yet: %(missing)s.") % {"missing": access.describe_missing(missing)}]}
        )
    _set_status(actor, volunteer, Status.ACTIVE, "")
    return volunteer


@transaction.atomic
def suspend(*, actor: User | None, volunteer: Volunteer, reason: str) -> Volunteer:
    """Suspend at once: the volunteer reaches no child until reinstated."""
    if actor is not None:
        require_manager(actor, volunteer.organisation_id)
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the volunteer is suspended.")]})
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if volunteer.status in (Status.SUSPENDED, Status.EXITED):
        raise ValidationError({"status": [_("The volunteer is not active.")]})
    _set_status(actor, volunteer, Status.SUSPENDED, reason.strip())
    return volunteer


@transaction.atomic
def exit_volunteer(*, actor: User, volunteer: Volunteer, reason: str) -> Volunteer:
    require_manager(actor, volunteer.organisation_id)
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if volunteer.status == Status.EXITED:
        raise ValidationError({"status": [_("The volunteer has already left.")]})
    _set_status(actor, volunteer, Status.EXITED, reason.strip())
    return volunteer


@transaction.atomic
def supervision_record(
    *,
    actor: User,
    volunteer: Volunteer,
    held_on: dt.date,
    topics: str,
    concerns: str = "",
    suspend_now: bool = False,
) -> Supervision:
    """One-to-one supervision by a social worker of the organisation; a concern may suspend
    the volunteer at once (the coordinator is told)."""
    if not Membership.objects.filter(
        user=actor,
        organisation_id=volunteer.organisation_id,
        role=Role.SOCIAL_WORKER,
        active=True,
    ).exists():
        raise PermissionDenied(_("Supervision is given by a social worker of the organisation."))
    errors: Errors = {}
    if not topics.strip():
        errors["topics"] = [_("Say what the session covered.")]
    if suspend_now and not concerns.strip():
        errors["concerns"] = [_("Write down the concern that suspends the volunteer.")]
    _not_future(errors, "held_on", held_on, clock.today())
    _raise(errors)
    session = Supervision.objects.create(
        volunteer=volunteer,
        supervisor=actor,
        held_on=held_on,
        topics=topics.strip(),
        concerns=concerns.strip(),
        suspended=suspend_now,
    )
    if suspend_now and volunteer.status not in (Status.SUSPENDED, Status.EXITED):
        _set_status(actor, volunteer, Status.SUSPENDED, concerns.strip())
        _tell_coordinator(
            volunteer,
            lambda: _("Volunteer %(name)s suspended after supervision") % {"name": volunteer.name},
        )
    return session


@transaction.atomic
def commendation_add(
    *, actor: User, volunteer: Volunteer, title: str, given_on: dt.date, given_by: str
) -> Commendation:
    require_manager(actor, volunteer.organisation_id)
    errors: Errors = {}
    if not title.strip():
        errors["title"] = [_("Name the commendation.")]
    if not given_by.strip():
        errors["given_by"] = [_("Say who gave it.")]
    _not_future(errors, "given_on", given_on, clock.today())
    _raise(errors)
    return Commendation.objects.create(
        volunteer=volunteer, title=title.strip(), given_on=given_on, given_by=given_by.strip()
    )


@transaction.atomic
def evaluation_add(
    *, actor: User, volunteer: Volunteer, evaluated_on: dt.date, rating: int, note: str = ""
) -> Evaluation:
    require_manager(actor, volunteer.organisation_id)
    errors: Errors = {}
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = [_("Rate from 1 to 5.")]
    _not_future(errors, "evaluated_on", evaluated_on, clock.today())
    _raise(errors)
    return Evaluation.objects.create(
        volunteer=volunteer,
        evaluated_on=evaluated_on,
        rating=rating,
        note=note.strip(),
        evaluated_by=actor,
    )


def lapse(on: dt.date | None = None) -> int:
    """The daily job: active volunteers no longer cleared (a check or the agreement expired)
    are suspended and their coordinator told. Their access already ended that day, by date;
    this records it. Idempotent."""
    on = on or clock.today()
    active = Volunteer.objects.filter(status=Status.ACTIVE)
    cleared = access.volunteers_cleared(active, on).values("pk")
    done = 0
    # Annotated for the day: what each one misses is read without a query per volunteer.
    lapsed = access.with_clearance(active.exclude(pk__in=cleared), on)
    for volunteer in lapsed.select_related("coordinator"):
        missing = [c for c in access.clearance_missing(volunteer, on) if c != "not_active"]
        with transaction.atomic():
            _set_status(None, volunteer, Status.SUSPENDED, _in_chinese(partial(_lapsed, missing)))
        _tell_coordinator(volunteer, partial(_lapsed_subject, volunteer.name, missing))
        done += 1
    return done


def _lapsed(missing: list[str]) -> str:
    return _("Lapsed: %(missing)s.") % {"missing": access.describe_missing(missing)}


def _lapsed_subject(name: str, missing: list[str]) -> str:
    return _("Volunteer %(name)s can no longer work with children: %(missing)s") % {
        "name": name,
        "missing": access.describe_missing(missing),
    }


def _record_found() -> str:
    return _("A check found a record.")


def _record_found_subject(name: str) -> str:
    return _("Volunteer %(name)s suspended: a check found a record") % {"name": name}
