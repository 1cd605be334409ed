"""Running a programme: creating it from a design, planning and cancelling its sessions, and
enrolling its participants (with a waiting list when it is full)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Membership, Organisation, User
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock
from shouhu.programmes import outcomes
from shouhu.programmes.models import (
    CAREGIVER_KINDS,
    Design,
    Enrolment,
    EnrolmentStatus,
    Programme,
    ProgrammeSession,
    Project,
    SessionStatus,
)

Errors = dict[str, list[str]]


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def programme_create(
    *,
    actor: User,
    organisation: Organisation,
    design: Design,
    title: str,
    starts_on: dt.date,
    ends_on: dt.date,
    capacity: int | None = None,
    project: Project | None = None,
    instrument: str = "",
    now: dt.datetime | None = None,
) -> Programme:
    """A run of a design by an organisation, within its project's period if it has one,
    measured before and after with `instrument` if it names one (`outcomes`: an enabled
    screening or strengths instrument, for a design that enrols children)."""
    if not access.may_run_programme(actor, organisation.pk):
        raise PermissionDenied(_("You do not organise programmes for this organisation."))
    errors: Errors = {}
    if not title.strip():
        errors["title"] = [_("Name the programme.")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("The programme ends before it starts.")]
    if capacity is not None and capacity < 1:
        errors["capacity"] = [_("The capacity is at least one participant.")]
    if design.organisation_id not in (None, organisation.pk):
        errors["design"] = [_("This design belongs to another organisation.")]
    instrument = instrument.strip()
    if instrument:
        refused = outcomes.instrument_refusal(instrument, caregivers=design.kind in CAREGIVER_KINDS)
        if refused:
            errors["instrument"] = [refused]
    if project is not None:
        if project.implementer_id != organisation.pk:
            errors["project"] = [_("The organisation does not run this project.")]
        elif starts_on < project.starts_on or ends_on > project.ends_on:
            errors["starts_on"] = [
                _("The programme must lie within the project's period (%(start)s to %(end)s).")
                % {"start": project.starts_on, "end": project.ends_on}
            ]
    _raise(errors)
    return Programme.objects.create(
        project=project,
        design=design,
        organisation=organisation,
        title=title.strip()[:200],
        starts_on=starts_on,
        ends_on=ends_on,
        capacity=capacity,
        instrument=instrument,
        residence=organisation.jurisdiction_id,
        created_at=now or clock.now(),
        created_by=actor,
    )


@transaction.atomic
def session_add(
    *,
    actor: User,
    programme: Programme,
    starts_at: dt.datetime,
    minutes: int,
    venue_kind: str = "village",
    place_id: str | None = None,
    venue: str = "",
    facilitators: list[User] | None = None,
    speakers: str = "",
    quantity: int = 0,
) -> ProgrammeSession:
    """A session of the programme, on a day inside its period."""
    if not access.may_run_programme(actor, programme.organisation_id):
        raise PermissionDenied(_("You do not organise this programme."))
    errors: Errors = {}
    day = timezone.localtime(starts_at).date()
    if not programme.starts_on <= day <= programme.ends_on:
        errors["starts_at"] = [
            _("The session must lie within the programme's period (%(start)s to %(end)s).")
            % {"start": programme.starts_on, "end": programme.ends_on}
        ]
    if minutes < 1 or minutes > 24 * 60:
        errors["minutes"] = [_("A session lasts between 1 minute and 24 hours.")]
    if quantity < 0:
        errors["quantity"] = [_("The quantity cannot be negative.")]
    # A facilitator sees the participants: only the organiser's own people may be one.
    people = {f.pk for f in facilitators or []}
    if people and Membership.objects.filter(
        user_id__in=people, organisation_id=programme.organisation_id, active=True
    ).values("user_id").distinct().count() != len(people):
        errors["facilitators"] = [_("A facilitator must belong to the organiser.")]
    for person in facilitators or []:
        refusal = access.volunteer_refusal(person)
        if refusal:
            errors.setdefault("facilitators", []).append(f"{person}: {refusal}")
    _raise(errors)
    session = ProgrammeSession.objects.create(
        programme=programme,
        starts_at=starts_at,
        minutes=minutes,
        venue_kind=venue_kind,
        place_id=place_id,
        venue=venue.strip()[:200],
        speakers=speakers.strip()[:300],
        quantity=quantity,
        residence=programme.residence,
    )
    if facilitators:
        session.facilitators.set(facilitators)
    return session


@transaction.atomic
def session_cancel(*, actor: User, session: ProgrammeSession, reason: str) -> ProgrammeSession:
    if not access.may_run_programme(actor, session.programme.organisation_id):
        raise PermissionDenied(_("You do not organise this programme."))
    if session.status == SessionStatus.HELD:
        raise ValidationError(_("A session that was held cannot be cancelled."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the session is cancelled.")]})
    session.status, session.cancel_reason = SessionStatus.CANCELLED, reason.strip()[:300]
    session.save(update_fields=["status", "cancel_reason"])
    return session


@transaction.atomic
def enrol(
    *,
    actor: User,
    programme: Programme,
    child: Child | None = None,
    member: FamilyMember | None = None,
    walk_in: bool = False,
    now: dt.datetime | None = None,
) -> Enrolment:
    """Enrol a child, or a caregiver (a household member of a child the organiser reaches)
    in a caregiver course. When the programme is full the participant waits (a walk-in at
    the roll call is there, so enrolled)."""
    if not access.may_run_programme(actor, programme.organisation_id):
        raise PermissionDenied(_("You do not organise this programme."))
    return _enrol(actor, programme, child, member, walk_in, now)


def _enrol(
    actor: User,
    programme: Programme,
    child: Child | None,
    member: FamilyMember | None,
    walk_in: bool,
    now: dt.datetime | None,
) -> Enrolment:
    caregivers = programme.design.kind in CAREGIVER_KINDS
    errors: Errors = {}
    if (child is None) == (member is None):
        errors["participant"] = [_("Choose one participant: a child or a caregiver.")]
    elif caregivers and child is not None:
        errors["participant"] = [_("A caregiver course enrols caregivers, not children.")]
    elif not caregivers and member is not None:
        errors["participant"] = [_("This programme enrols children.")]
    _raise(errors)
    reached = access.children_visible_to(actor)
    if child is not None and not reached.filter(pk=child.pk).exists():
        raise ValidationError({"participant": [_("This child is outside your reach.")]})
    if member is not None and not reached.filter(household_id=member.household_id).exists():
        raise ValidationError({"participant": [_("This caregiver is outside your reach.")]})
    # Count under a lock on the programme, so two enrolments cannot both take the last place.
    Programme.objects.select_for_update().filter(pk=programme.pk).first()
    taken = programme.enrolments.filter(status=EnrolmentStatus.ENROLLED).count()
    full = programme.capacity is not None and taken >= programme.capacity and not walk_in
    try:
        with transaction.atomic():
            return Enrolment.objects.create(
                programme=programme,
                child=child,
                member=member,
                status=EnrolmentStatus.WAITING if full else EnrolmentStatus.ENROLLED,
                walk_in=walk_in,
                enrolled_at=now or clock.now(),
                enrolled_by=actor,
            )
    except IntegrityError:
        raise ValidationError(
            {"participant": [_("This participant is already enrolled in the programme.")]}
        ) from None


@transaction.atomic
def walk_in(
    *,
    actor: User,
    session: ProgrammeSession,
    child: Child | None = None,
    member: FamilyMember | None = None,
    now: dt.datetime | None = None,
) -> Enrolment:
    """Someone came to a session without being enrolled: enrol them at the roll call (a
    place is found even when the programme is full; one on the waiting list or withdrawn
    is enrolled again). Only once the session has started, and never for a cancelled one."""
    now = now or clock.now()
    if not access.may_take_roll_call(actor, session):
        raise PermissionDenied(_("You do not run this session."))
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError(_("This session was cancelled: it has no roll call."))
    if session.starts_at > now:
        raise ValidationError(_("This session has not started yet: add walk-ins once it has."))
    programme = session.programme
    if (child is None) == (member is None):
        raise ValidationError(
            {"participant": [_("Choose one participant: a child or a caregiver.")]}
        )
    existing = (
        Enrolment.objects.filter(programme=programme, child=child).first()
        if child is not None
        else Enrolment.objects.filter(programme=programme, member=member).first()
    )
    if existing is not None:
        if existing.status == EnrolmentStatus.ENROLLED:
            raise ValidationError(
                {"participant": [_("This participant is already enrolled in the programme.")]}
            )
        if not access.may_run_programme(actor, programme.organisation_id):
            # A facilitator who is not an organiser: the same reach check as a new one.
            reached = access.children_visible_to(actor)
            if child is not None and not reached.filter(pk=child.pk).exists():
                raise ValidationError({"participant": [_("This child is outside your reach.")]})
        existing.status, existing.walk_in = EnrolmentStatus.ENROLLED, True
        existing.save(update_fields=["status", "walk_in"])
        return existing
    return _enrol(actor, programme, child, member, True, now)
