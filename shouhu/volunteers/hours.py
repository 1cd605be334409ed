"""Service hours and certificates. "谁组织谁记录，谁记录谁证明": the organisation that
organised the service records the hours (actual service time, without travel), approves
them and certifies them. An approved entry never changes; a correction is a new adjustment
entry with its reason, approved in turn."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.audit.services import record_change
from shouhu.lib import clock
from shouhu.lib.dates import start_of_day
from shouhu.programmes.models import ProgrammeSession
from shouhu.volunteers.models import Certificate, Hours, HoursStatus, Shift, Status, Volunteer

Errors = dict[str, list[str]]


def _manage(actor: User, organisation_id: int) -> None:
    if not access.may_manage_volunteers(actor, organisation_id):
        raise PermissionDenied(_("You do not record this organisation's volunteer hours."))


@transaction.atomic
def hours_record(
    *,
    actor: User,
    volunteer: Volunteer,
    activity: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    minutes: int | None = None,
    organisation: Organisation | None = None,
    session: ProgrammeSession | None = None,
) -> Hours:
    """Record a service by the organisation that organised it (default the volunteer's):
    the activity's time (check-in and check-out, or entered) and the minutes of actual
    service (default the whole time). Pending until approved. Refused: an activity not yet
    over, minutes longer than the activity, a time overlapping another entry of the same
    volunteer."""
    organisation = organisation or volunteer.organisation
    _manage(actor, organisation.pk)
    return _record(
        actor=actor,
        volunteer=volunteer,
        activity=activity,
        starts_at=starts_at,
        ends_at=ends_at,
        minutes=minutes,
        organisation=organisation,
        session=session,
    )


def _record(
    *,
    actor: User,
    volunteer: Volunteer,
    activity: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    minutes: int | None,
    organisation: Organisation,
    session: ProgrammeSession | None,
) -> Hours:
    # One volunteer's entries are checked for overlaps one writer at a time.
    Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()
    errors: Errors = {}
    if not activity.strip():
        errors["activity"] = [_("Name the activity.")]
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("aware datetimes expected")
    length = int((ends_at - starts_at).total_seconds() // 60)
    if ends_at <= starts_at:
        errors["ends_at"] = [_("The activity ends before it starts.")]
    elif ends_at > clock.now():
        errors["ends_at"] = [_("Record the hours once the activity is over.")]
    if minutes is None:
        minutes = length
    if not isinstance(minutes, int) or minutes <= 0:
        errors["minutes"] = [_("Give the minutes of service as a positive whole number.")]
    elif length > 0 and minutes > length:
        errors["minutes"] = [
            _("%(minutes)s minutes is longer than the activity (%(length)s minutes).")
            % {"minutes": minutes, "length": length}
        ]
    elif session is not None and minutes > session.minutes:
        errors["minutes"] = [
            _("%(minutes)s minutes is longer than the session (%(length)s minutes).")
            % {"minutes": minutes, "length": session.minutes}
        ]
    if session is not None and session.programme.organisation_id != organisation.pk:
        errors["session"] = [_("The session is not this organisation's.")]
    if "ends_at" not in errors:
        clash = (
            Hours.objects.filter(
                volunteer=volunteer,
                adjusts__isnull=True,
                starts_at__lt=ends_at,
                ends_at__gt=starts_at,
            )
            .exclude(status=HoursStatus.DECLINED)
            .first()
        )
        if clash is not None:
            errors["starts_at"] = [
                _("Overlaps the volunteer's entry %(activity)s of %(when)s.")
                % {
                    "activity": clash.activity,
                    "when": f"{timezone.localtime(clash.starts_at):%Y-%m-%d %H:%M}"
                    if clash.starts_at
                    else "",
                }
            ]
    if errors:
        raise ValidationError(errors)
    entry = Hours.objects.create(
        volunteer=volunteer,
        organisation=organisation,
        activity=activity.strip()[:200],
        session=session,
        starts_at=starts_at,
        ends_at=ends_at,
        minutes=minutes,
        recorded_by=actor,
        recorded_at=clock.now(),
    )
    record_change(
        actor=actor,
        obj=entry,
        operation="create",
        changes={"minutes": [None, minutes], "activity": [None, entry.activity]},
        child_id=None,
    )
    return entry


@transaction.atomic
def hours_decide(*, actor: User, entry: Hours, approve: bool = True) -> Hours:
    """Approve (or decline) a pending entry; from then on it never changes."""
    _manage(actor, entry.organisation_id)
    entry = Hours.objects.select_for_update().get(pk=entry.pk)
    if entry.status != HoursStatus.PENDING:
        raise ValidationError(
            {"status": [_("Already decided: an approved entry is corrected by an adjustment.")]}
        )
    if approve and entry.adjusts_id is not None:
        total = _approved(Q(pk=entry.adjusts_id) | Q(adjusts_id=entry.adjusts_id))
        if total + entry.minutes < 0:
            raise ValidationError({"minutes": [_("The correction takes more than was approved.")]})
    entry.status = HoursStatus.APPROVED if approve else HoursStatus.DECLINED
    entry.decided_by = actor
    entry.decided_at = clock.now()
    entry.save(update_fields=["status", "decided_by", "decided_at"])
    record_change(
        actor=actor,
        obj=entry,
        operation="update",
        changes={"status": [HoursStatus.PENDING, entry.status]},
        child_id=None,
    )
    return entry


@transaction.atomic
def hours_adjust(*, actor: User, entry: Hours, minutes: int, reason: str) -> Hours:
    """Correct an approved entry by a new entry of `minutes` (negative takes away), with its
    reason; it waits for approval like any entry."""
    _manage(actor, entry.organisation_id)
    errors: Errors = {}
    if entry.status != HoursStatus.APPROVED or entry.adjusts_id is not None:
        errors["entry"] = [_("Only an approved entry is corrected by an adjustment.")]
    if not isinstance(minutes, int) or minutes == 0:
        errors["minutes"] = [_("Give the minutes to add (or, negative, to take away).")]
    elif _approved(Q(pk=entry.pk) | Q(adjusts_id=entry.pk)) + minutes < 0:
        errors["minutes"] = [_("The correction takes more than was approved.")]
    if not reason.strip():
        errors["reason"] = [_("Say why the hours are corrected.")]
    if errors:
        raise ValidationError(errors)
    adjustment = Hours.objects.create(
        volunteer_id=entry.volunteer_id,
        organisation_id=entry.organisation_id,
        activity=entry.activity,
        session_id=entry.session_id,
        minutes=minutes,
        adjusts=entry,
        reason=reason.strip()[:300],
        recorded_by=actor,
        recorded_at=clock.now(),
    )
    record_change(
        actor=actor,
        obj=adjustment,
        operation="create",
        changes={"minutes": [None, minutes], "reason": [None, adjustment.reason]},
        child_id=None,
    )
    return adjustment


def _approved(q: Q) -> int:
    got = Hours.objects.filter(q, status=HoursStatus.APPROVED).aggregate(m=Sum("minutes"))["m"]
    return int(got or 0)


@dataclass(frozen=True)
class Totals:
    minutes: int  # approved, adjustments included
    by_organisation: list[tuple[Organisation, int]]
    pending: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


def _in_period(first: dt.date | None, last: dt.date | None) -> Q:
    """Entries of a period, an adjustment by the date of the entry it corrects."""
    q = Q()
    if first is not None:
        since = start_of_day(first)
        q &= Q(starts_at__gte=since) | Q(adjusts__starts_at__gte=since)
    if last is not None:
        until = start_of_day(last + dt.timedelta(days=1))
        q &= Q(starts_at__lt=until) | Q(adjusts__starts_at__lt=until)
    return q


def totals(
    volunteer: Volunteer, first: dt.date | None = None, last: dt.date | None = None
) -> Totals:
    """A volunteer's approved minutes per organisation and overall (two queries)."""
    rows = (
        Hours.objects.filter(_in_period(first, last), volunteer=volunteer)
        .values("organisation_id", "status")
        .annotate(m=Sum("minutes"))
        .order_by()
    )
    per: dict[int, int] = {}
    pending = 0
    for r in rows:
        if r["status"] == HoursStatus.APPROVED:
            per[r["organisation_id"]] = per.get(r["organisation_id"], 0) + int(r["m"] or 0)
        elif r["status"] == HoursStatus.PENDING:
            pending += int(r["m"] or 0)
    orgs = Organisation.objects.in_bulk(list(per))
    return Totals(
        minutes=sum(per.values()),
        by_organisation=sorted(((orgs[k], v) for k, v in per.items()), key=lambda p: p[0].name),
        pending=pending,
    )


@transaction.atomic
def certificate_issue(
    *,
    actor: User,
    volunteer: Volunteer,
    period_from: dt.date,
    period_to: dt.date,
    organisation: Organisation | None = None,
) -> Certificate:
    """A numbered certificate (志愿服务证明) of the approved hours the organisation recorded
    for the volunteer in the period."""
    organisation = organisation or volunteer.organisation
    _manage(actor, organisation.pk)
    errors: Errors = {}
    if period_to < period_from:
        errors["period_to"] = [_("The period ends before it starts.")]
    elif period_to > clock.today():
        errors["period_to"] = [_("The period cannot end in the future.")]
    if errors:
        raise ValidationError(errors)
    minutes = _approved(
        Q(volunteer=volunteer, organisation=organisation) & _in_period(period_from, period_to)
    )
    if minutes <= 0:
        raise ValidationError(
            {"period_from": [_("No approved hours of this organisation in the period.")]}
        )
    year = clock.today().year
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    seq = Certificate.objects.filter(organisation=organisation, issued_at__year=year).count() + 1
    certificate = Certificate.objects.create(
        volunteer=volunteer,
        organisation=organisation,
        number=f"ZY-{organisation.pk:04d}-{year}-{seq:05d}",
        code=secrets.token_hex(10),
        period_from=period_from,
        period_to=period_to,
        minutes=minutes,
        issued_by=actor,
        issued_at=clock.now(),
    )
    record_change(
        actor=actor,
        obj=certificate,
        operation="create",
        changes={"number": [None, certificate.number], "minutes": [None, minutes]},
        child_id=None,
    )
    return certificate


# ---------------------------------------------------------------- check-in and check-out


def _may_clock(actor: User, volunteer: Volunteer, organisation_id: int) -> None:
    """Those who keep the organisation's volunteers, or the volunteer themselves."""
    if not access.may_clock_volunteer(actor, volunteer, organisation_id):
        raise PermissionDenied(_("You do not record this organisation's volunteer hours."))


@transaction.atomic
def check_in(
    *,
    actor: User,
    volunteer: Volunteer,
    activity: str,
    organisation: Organisation | None = None,
) -> Shift:
    """The volunteer starts a service now (by a coordinator, or by themselves). One open
    check-in per volunteer; only an active volunteer checks in."""
    organisation = organisation or volunteer.organisation
    _may_clock(actor, volunteer, organisation.pk)
    Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()
    errors: Errors = {}
    if not activity.strip():
        errors["activity"] = [_("Name the activity.")]
    if volunteer.status != Status.ACTIVE:
        errors["volunteer"] = [_("Only an active volunteer checks in.")]
    elif Shift.objects.filter(volunteer=volunteer, hours__isnull=True).exists():
        errors["volunteer"] = [_("The volunteer is already checked in: check out first.")]
    if errors:
        raise ValidationError(errors)
    shift = Shift.objects.create(
        volunteer=volunteer,
        organisation=organisation,
        activity=activity.strip()[:200],
        checked_in_at=clock.now(),
        checked_in_by=actor,
    )
    record_change(
        actor=actor,
        obj=shift,
        operation="create",
        changes={"activity": [None, shift.activity]},
        child_id=None,
    )
    return shift


@transaction.atomic
def check_out(*, actor: User, shift: Shift, minutes: int | None = None) -> Hours:
    """End the service now: the time since check-in becomes an entry of hours waiting for
    the organisation's approval (`minutes` of actual service, without travel, when less)."""
    shift = (
        Shift.objects.select_for_update()
        .select_related("volunteer", "organisation")
        .get(pk=shift.pk)
    )
    _may_clock(actor, shift.volunteer, shift.organisation_id)
    if shift.hours_id is not None:
        raise ValidationError({"shift": [_("The volunteer has already checked out.")]})
    now = clock.now().replace(microsecond=0)
    if now - shift.checked_in_at < dt.timedelta(minutes=1):
        raise ValidationError({"shift": [_("Check out at least a minute after checking in.")]})
    entry = _record(
        actor=actor,
        volunteer=shift.volunteer,
        activity=shift.activity,
        starts_at=shift.checked_in_at.replace(second=0, microsecond=0),
        ends_at=now.replace(second=0),
        minutes=minutes,
        organisation=shift.organisation,
        session=None,
    )
    shift.hours = entry
    shift.save(update_fields=["hours"])
    return entry


def open_shift(volunteer: Volunteer) -> Shift | None:
    return Shift.objects.filter(volunteer=volunteer, hours__isnull=True).first()
