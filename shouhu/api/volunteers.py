"""Volunteers over the API (issue 13): the record in the five parts of the recording rules,
checks, training, agreements, supervision, status, service hours with their approval and
corrections, and certificates. The same services and access rules as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Sum
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.api.auth import current_user
from shouhu.api.schemas import MAX_ID, Error, Strict
from shouhu.children.models import FamilyMember
from shouhu.lib import clock
from shouhu.places.models import Place
from shouhu.programmes.models import ProgrammeSession
from shouhu.volunteers import hours as hours_service
from shouhu.volunteers import matching, services
from shouhu.volunteers.models import Certificate, Hours, HoursStatus, Match, Volunteer

router = Router(tags=["volunteers"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}


def _pk(model: Any, pk: int | None, field: str, message: str) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if found is None:
        raise ValidationError({field: [message]})
    return found


class VolunteerIn(Strict):
    organisation: int = Field(ge=1, le=MAX_ID)
    name: str = Field(min_length=1, max_length=100)
    sex: Literal["", "M", "F"] = ""
    birth_date: dt.date | None = None
    id_number: str = Field("", max_length=18)
    phone: str = Field("", max_length=32)
    home: str = Field("", max_length=12, description="Place code where the volunteer lives")
    languages: str = Field("", max_length=200, description="Languages and dialects")
    availability: str = Field("", max_length=200)
    user: int | None = Field(None, ge=1, le=MAX_ID, description="Their login, if any")
    coordinator: int | None = Field(None, ge=1, le=MAX_ID)
    applied_on: dt.date | None = None


class VolunteerOut(Schema):
    id: int
    number: str
    name: str
    organisation: str
    status: str
    status_reason: str
    status_since: dt.date
    cleared: bool = Field(description="May work with children today")
    missing: list[str] = Field(description="What keeps them from it (codes)")
    approved_minutes: int
    pending_minutes: int


class VolunteerList(Schema):
    items: list[VolunteerOut]


class CheckOut(Schema):
    id: int
    kind: str
    result: str
    checked_on: dt.date
    expires_on: dt.date | None
    reference: str


class TrainingOut(Schema):
    id: int
    kind: str
    title: str
    completed_on: dt.date
    hours: Decimal


class AgreementOut(Schema):
    id: int
    version: str
    signed_on: dt.date
    expires_on: dt.date | None
    scope: str
    confidentiality: bool


class SupervisionOut(Schema):
    id: int
    held_on: dt.date
    topics: str
    concerns: str
    suspended: bool


class HoursOut(Schema):
    id: int
    organisation: str
    activity: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    minutes: int
    status: str
    adjusts: int | None
    reason: str


class CertificateOut(Schema):
    id: int
    number: str
    code: str
    organisation: str
    period_from: dt.date
    period_to: dt.date
    minutes: int
    hours: float
    verify: str = Field(description="The public verification path")


class CommendationOut(Schema):
    title: str
    given_on: dt.date
    given_by: str


class EvaluationOut(Schema):
    evaluated_on: dt.date
    rating: int = Field(description="1 to 5")
    note: str


class VolunteerFile(VolunteerOut):
    """The record in the five parts (Art. 4): basic information, service, training,
    commendations, evaluations — with the checks, agreements and supervision."""

    languages: str
    availability: str
    checks: list[CheckOut]
    trainings: list[TrainingOut]
    agreements: list[AgreementOut]
    supervision: list[SupervisionOut] = Field(description="Only for those who keep the record")
    hours: list[HoursOut]
    commendations: list[CommendationOut]
    evaluations: list[EvaluationOut]
    certificates: list[CertificateOut]


def _out(v: Volunteer) -> dict[str, Any]:
    """A volunteer's line; a list annotates what it needs (`_listed`) and asks nothing more."""
    missing = access.clearance_missing(v)
    if hasattr(v, "approved_minutes"):
        approved = getattr(v, "approved_minutes", 0) or 0
        pending = getattr(v, "pending_minutes", 0) or 0
    else:
        totals = hours_service.totals(v)
        approved, pending = totals.minutes, totals.pending
    return {
        "id": v.pk,
        "number": v.number,
        "name": v.name,
        "organisation": v.organisation.name,
        "status": v.status,
        "status_reason": v.status_reason,
        "status_since": v.status_since,
        "cleared": not missing,
        "missing": missing,
        "approved_minutes": int(approved),
        "pending_minutes": int(pending),
    }


def _hours_out(h: Hours) -> dict[str, Any]:
    return {
        "id": h.pk,
        "organisation": h.organisation.name,
        "activity": h.activity,
        "starts_at": h.starts_at,
        "ends_at": h.ends_at,
        "minutes": h.minutes,
        "status": h.status,
        "adjusts": h.adjusts_id,
        "reason": h.reason,
    }


def _certificate_out(c: Certificate) -> dict[str, Any]:
    return {
        "id": c.pk,
        "number": c.number,
        "code": c.code,
        "organisation": c.organisation.name,
        "period_from": c.period_from,
        "period_to": c.period_to,
        "minutes": c.minutes,
        "hours": round(c.minutes / 60, 1),
        "verify": f"/verify/{c.code}",
    }


def _file(user: User, v: Volunteer) -> dict[str, Any]:
    manages = access.may_manage_volunteers(user, v.organisation_id)
    return {
        **_out(v),
        "languages": v.languages,
        "availability": v.availability,
        "checks": [CheckOut.from_orm(c).dict() for c in v.checks.all()],
        "trainings": [TrainingOut.from_orm(t).dict() for t in v.trainings.all()],
        "agreements": [AgreementOut.from_orm(a).dict() for a in v.agreements.all()],
        "supervision": [SupervisionOut.from_orm(s).dict() for s in v.supervisions.all()]
        if manages
        else [],
        "hours": [_hours_out(h) for h in v.hours.select_related("organisation")],
        "commendations": [
            {"title": c.title, "given_on": c.given_on, "given_by": c.given_by}
            for c in v.commendations.all()
        ],
        "evaluations": [
            {"evaluated_on": e.evaluated_on, "rating": e.rating, "note": e.note}
            for e in v.evaluations.all()
        ],
        "certificates": [
            _certificate_out(c) for c in v.certificates.select_related("organisation")
        ],
    }


def _volunteer(request: HttpRequest, volunteer_id: int) -> tuple[User, Volunteer]:
    user = current_user(request)
    return user, access.get_volunteer_for_user(user, volunteer_id)


@router.get("/volunteers", response={200: VolunteerList, **ERRORS}, summary="Volunteers")
def volunteer_list(request: HttpRequest) -> dict[str, Any]:
    """The volunteers of the organisations the caller keeps volunteers for, and their own
    record; each with whether they may work with children today and why not."""
    user = current_user(request)
    rows = (
        access.with_clearance(access.volunteers_visible_to(user), clock.today())
        .select_related("organisation")
        .annotate(
            approved_minutes=Sum("hours__minutes", filter=Q(hours__status=HoursStatus.APPROVED)),
            pending_minutes=Sum("hours__minutes", filter=Q(hours__status=HoursStatus.PENDING)),
        )
        .order_by("pk")
    )
    return {"items": [_out(v) for v in rows[:500]]}


@router.post("/volunteers", response={201: VolunteerFile, **ERRORS}, summary="Register")
def volunteer_create(request: HttpRequest, payload: VolunteerIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    organisation = _pk(
        Organisation, payload.organisation, "organisation", _("No such organisation.")
    )
    home = None
    if payload.home:
        home = Place.objects.filter(code=payload.home).first()
        if home is None:
            raise ValidationError({"home": [_("Unknown place code.")]})
    volunteer = services.volunteer_register(
        actor=user,
        organisation=organisation,
        name=payload.name,
        sex=payload.sex,
        birth_date=payload.birth_date,
        id_number=payload.id_number,
        phone=payload.phone,
        home=home,
        languages=payload.languages,
        availability=payload.availability,
        user=_pk(User, payload.user, "user", _("No such user.")),
        coordinator=_pk(User, payload.coordinator, "coordinator", _("No such user.")),
        applied_on=payload.applied_on,
    )
    return Status(201, _file(user, volunteer))


@router.get(
    "/volunteers/{volunteer_id}", response={200: VolunteerFile, **ERRORS}, summary="A record"
)
def volunteer_get(request: HttpRequest, volunteer_id: int) -> dict[str, Any]:
    user, volunteer = _volunteer(request, volunteer_id)
    return _file(user, volunteer)


class CheckIn(Strict):
    kind: Literal["identity", "record_inquiry"]
    result: Literal["pending", "clear", "found"]
    checked_on: dt.date
    expires_on: dt.date | None = None
    reference: str = Field("", max_length=100)


@router.post(
    "/volunteers/{volunteer_id}/checks",
    response={201: CheckOut, **ERRORS},
    summary="Record a check",
)
def check_add(request: HttpRequest, volunteer_id: int, payload: CheckIn) -> Status[Any]:
    user, volunteer = _volunteer(request, volunteer_id)
    check = services.check_record(actor=user, volunteer=volunteer, **payload.dict())
    return Status(201, check)


class TrainingIn(Strict):
    kind: Literal["safeguarding", "skills", "other"]
    title: str = Field(min_length=1, max_length=200)
    completed_on: dt.date
    hours: Decimal = Field(gt=0, le=1000, max_digits=5, decimal_places=1)
    trainer: str = Field("", max_length=100)


@router.post(
    "/volunteers/{volunteer_id}/trainings",
    response={201: TrainingOut, **ERRORS},
    summary="Record training",
)
def training_add(request: HttpRequest, volunteer_id: int, payload: TrainingIn) -> Status[Any]:
    user, volunteer = _volunteer(request, volunteer_id)
    training = services.training_record(actor=user, volunteer=volunteer, **payload.dict())
    return Status(201, training)


class AgreementIn(Strict):
    version: str = Field(min_length=1, max_length=32)
    signed_on: dt.date
    scope: str = Field(min_length=1, max_length=300)
    confidentiality: bool
    expires_on: dt.date | None = None


@router.post(
    "/volunteers/{volunteer_id}/agreements",
    response={201: AgreementOut, **ERRORS},
    summary="Record a signed agreement",
)
def agreement_add(request: HttpRequest, volunteer_id: int, payload: AgreementIn) -> Status[Any]:
    user, volunteer = _volunteer(request, volunteer_id)
    agreement = services.agreement_sign(actor=user, volunteer=volunteer, **payload.dict())
    return Status(201, agreement)


class SupervisionIn(Strict):
    held_on: dt.date
    topics: str = Field(min_length=1, max_length=4000)
    concerns: str = Field("", max_length=4000)
    suspend: bool = Field(False, description="Suspend the volunteer at once")


@router.post(
    "/volunteers/{volunteer_id}/supervision",
    response={201: SupervisionOut, **ERRORS},
    summary="Record a supervision session",
)
def supervision_add(request: HttpRequest, volunteer_id: int, payload: SupervisionIn) -> Status[Any]:
    user, volunteer = _volunteer(request, volunteer_id)
    session = services.supervision_record(
        actor=user,
        volunteer=volunteer,
        held_on=payload.held_on,
        topics=payload.topics,
        concerns=payload.concerns,
        suspend_now=payload.suspend,
    )
    return Status(201, session)


class StatusIn(Strict):
    action: Literal["activate", "suspend", "exit"]
    reason: str = Field("", max_length=300)


@router.post(
    "/volunteers/{volunteer_id}/status",
    response={200: VolunteerOut, **ERRORS},
    summary="Activate, suspend or exit",
)
def status_set(request: HttpRequest, volunteer_id: int, payload: StatusIn) -> dict[str, Any]:
    user, volunteer = _volunteer(request, volunteer_id)
    if payload.action == "activate":
        volunteer = services.activate(actor=user, volunteer=volunteer)
    elif payload.action == "suspend":
        volunteer = services.suspend(actor=user, volunteer=volunteer, reason=payload.reason)
    else:
        volunteer = services.exit_volunteer(actor=user, volunteer=volunteer, reason=payload.reason)
    return _out(volunteer)


class HoursIn(Strict):
    activity: str = Field(min_length=1, max_length=200)
    starts_at: dt.datetime
    ends_at: dt.datetime
    minutes: int | None = Field(
        None, ge=1, le=24 * 60, description="Actual service, without travel (default: all)"
    )
    organisation: int | None = Field(
        None, ge=1, le=MAX_ID, description="The organising unit (default the volunteer's)"
    )
    session: int | None = Field(None, ge=1, le=MAX_ID, description="A programme session")


class HoursList(Schema):
    items: list[HoursOut]
    approved_minutes: int
    pending_minutes: int


@router.get(
    "/volunteers/{volunteer_id}/hours", response={200: HoursList, **ERRORS}, summary="Hours"
)
def hours_list(request: HttpRequest, volunteer_id: int) -> dict[str, Any]:
    _user, volunteer = _volunteer(request, volunteer_id)
    totals = hours_service.totals(volunteer)
    return {
        "items": [_hours_out(h) for h in volunteer.hours.select_related("organisation")],
        "approved_minutes": totals.minutes,
        "pending_minutes": totals.pending,
    }


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValidationError({field: [_("Give the time with its offset, e.g. +08:00.")]})
    return value


@router.post(
    "/volunteers/{volunteer_id}/hours",
    response={201: HoursOut, **ERRORS},
    summary="Record hours",
)
def hours_add(request: HttpRequest, volunteer_id: int, payload: HoursIn) -> Status[dict[str, Any]]:
    user, volunteer = _volunteer(request, volunteer_id)
    entry = hours_service.hours_record(
        actor=user,
        volunteer=volunteer,
        activity=payload.activity,
        starts_at=_aware(payload.starts_at, "starts_at"),
        ends_at=_aware(payload.ends_at, "ends_at"),
        minutes=payload.minutes,
        organisation=_pk(
            Organisation, payload.organisation, "organisation", _("No such organisation.")
        ),
        session=_pk(ProgrammeSession, payload.session, "session", _("No such session.")),
    )
    return Status(201, _hours_out(entry))


def _entry(volunteer: Volunteer, hours_id: int) -> Hours:
    found = volunteer.hours.filter(pk=hours_id).first() if 0 < hours_id <= MAX_ID else None
    if found is None:
        raise ValidationError({"hours": [_("No such entry of this volunteer.")]})
    return found


@router.post(
    "/volunteers/{volunteer_id}/hours/{hours_id}/approve",
    response={200: HoursOut, **ERRORS},
    summary="Approve hours (then they never change)",
)
def hours_approve(request: HttpRequest, volunteer_id: int, hours_id: int) -> dict[str, Any]:
    user, volunteer = _volunteer(request, volunteer_id)
    entry = hours_service.hours_decide(actor=user, entry=_entry(volunteer, hours_id))
    return _hours_out(entry)


@router.post(
    "/volunteers/{volunteer_id}/hours/{hours_id}/decline",
    response={200: HoursOut, **ERRORS},
    summary="Decline hours",
)
def hours_decline(request: HttpRequest, volunteer_id: int, hours_id: int) -> dict[str, Any]:
    user, volunteer = _volunteer(request, volunteer_id)
    entry = hours_service.hours_decide(actor=user, entry=_entry(volunteer, hours_id), approve=False)
    return _hours_out(entry)


class AdjustmentIn(Strict):
    minutes: int = Field(ge=-24 * 60, le=24 * 60, description="Negative takes away")
    reason: str = Field(min_length=1, max_length=300)


@router.post(
    "/volunteers/{volunteer_id}/hours/{hours_id}/adjustments",
    response={201: HoursOut, **ERRORS},
    summary="Correct approved hours",
)
def hours_adjust(
    request: HttpRequest, volunteer_id: int, hours_id: int, payload: AdjustmentIn
) -> Status[dict[str, Any]]:
    user, volunteer = _volunteer(request, volunteer_id)
    entry = hours_service.hours_adjust(
        actor=user,
        entry=_entry(volunteer, hours_id),
        minutes=payload.minutes,
        reason=payload.reason,
    )
    return Status(201, _hours_out(entry))


class CertificateIn(Strict):
    period_from: dt.date
    period_to: dt.date
    organisation: int | None = Field(None, ge=1, le=MAX_ID)


class CertificateList(Schema):
    items: list[CertificateOut]


@router.get(
    "/volunteers/{volunteer_id}/certificates",
    response={200: CertificateList, **ERRORS},
    summary="Certificates",
)
def certificate_list(request: HttpRequest, volunteer_id: int) -> dict[str, Any]:
    _user, volunteer = _volunteer(request, volunteer_id)
    return {
        "items": [
            _certificate_out(c) for c in volunteer.certificates.select_related("organisation")
        ]
    }


@router.post(
    "/volunteers/{volunteer_id}/certificates",
    response={201: CertificateOut, **ERRORS},
    summary="Issue a certificate",
)
def certificate_create(
    request: HttpRequest, volunteer_id: int, payload: CertificateIn
) -> Status[dict[str, Any]]:
    user, volunteer = _volunteer(request, volunteer_id)
    certificate = hours_service.certificate_issue(
        actor=user,
        volunteer=volunteer,
        period_from=payload.period_from,
        period_to=payload.period_to,
        organisation=_pk(
            Organisation, payload.organisation, "organisation", _("No such organisation.")
        ),
    )
    return Status(201, _certificate_out(certificate))


# ---------------------------------------------------------------- check-in and check-out


class CheckInIn(Strict):
    activity: str = Field(min_length=1, max_length=200)


class ShiftOut(Schema):
    id: int
    activity: str
    organisation: str
    checked_in_at: dt.datetime


class CheckOutIn(Strict):
    minutes: int | None = Field(None, ge=1, le=24 * 60, description="Without travel")


@router.post(
    "/volunteers/{volunteer_id}/check-in",
    response={201: ShiftOut, **ERRORS},
    summary="Check in now (a coordinator, or the volunteer)",
)
def check_in(request: HttpRequest, volunteer_id: int, payload: CheckInIn) -> Status[Any]:
    user, volunteer = _volunteer(request, volunteer_id)
    shift = hours_service.check_in(actor=user, volunteer=volunteer, activity=payload.activity)
    return Status(
        201,
        {
            "id": shift.pk,
            "activity": shift.activity,
            "organisation": shift.organisation.name,
            "checked_in_at": shift.checked_in_at,
        },
    )


@router.post(
    "/volunteers/{volunteer_id}/check-out",
    response={201: HoursOut, **ERRORS},
    summary="Check out now: the hours wait for approval",
)
def check_out(request: HttpRequest, volunteer_id: int, payload: CheckOutIn) -> Status[Any]:
    user, volunteer = _volunteer(request, volunteer_id)
    shift = hours_service.open_shift(volunteer)
    if shift is None:
        raise ValidationError({"shift": [_("The volunteer is not checked in.")]})
    entry = hours_service.check_out(actor=user, shift=shift, minutes=payload.minutes)
    return Status(201, _hours_out(entry))


# ---------------------------------------------------------------- matching


class SuggestionOut(Schema):
    volunteer: int
    name: str
    organisation: str
    distance: str = Field(description="same village … same province, or farther")
    languages: list[str] = Field(description="The languages asked for that they speak")
    days: list[str] = Field(description="Days asked for (or all) they are available: mon … sun")
    children: int = Field(description="Children already matched or proposed")


class SuggestionList(Schema):
    items: list[SuggestionOut]


class MatchIn(Strict):
    volunteer: int = Field(ge=1, le=MAX_ID)
    purpose: str = Field(min_length=1, max_length=300)


class MatchDecisionIn(Strict):
    approve: bool
    consent_by: int | None = Field(None, ge=1, le=MAX_ID, description="A guardian's member id")
    consent_on: dt.date | None = None
    reason: str = Field("", max_length=300)


class MatchEndIn(Strict):
    reason: str = Field(min_length=1, max_length=300)


class MatchOut(Schema):
    id: int
    volunteer: int
    volunteer_name: str
    child: int
    purpose: str
    status: str
    status_label: str
    consent_by: int | None
    consent_on: dt.date | None
    reason: str
    ended_on: dt.date | None


class MatchList(Schema):
    items: list[MatchOut]


def _match_out(m: Match) -> dict[str, Any]:
    return {
        "id": m.pk,
        "volunteer": m.volunteer_id,
        "volunteer_name": m.volunteer.name,
        "child": m.child_id,
        "purpose": m.purpose,
        "status": m.status,
        "status_label": m.get_status_display(),
        "consent_by": m.consent_by_id,
        "consent_on": m.consent_on,
        "reason": m.reason,
        "ended_on": m.ended_on,
    }


@router.get(
    "/children/{child_id}/volunteer-suggestions",
    response={200: SuggestionList, **ERRORS},
    summary="Cleared volunteers for a child, best first",
)
def suggestions(
    request: HttpRequest, child_id: int, languages: str = "", days: str = ""
) -> dict[str, Any]:
    """`languages`: comma-separated; `days`: comma-separated of mon … sun."""
    user = current_user(request)
    child = access.get_child_for_user(user, child_id, purpose="api_volunteer_match")
    found = matching.suggest(
        user,
        child,
        languages=sorted(matching.languages_of(languages)),
        days=[d.strip() for d in days.split(",")],
    )
    return {
        "items": [
            {
                "volunteer": s.volunteer.pk,
                "name": s.volunteer.name,
                "organisation": s.volunteer.organisation.name,
                "distance": s.distance_label,
                "languages": list(s.languages),
                "days": list(s.days),
                "children": s.children,
            }
            for s in found
        ]
    }


@router.get(
    "/children/{child_id}/volunteer-matches",
    response={200: MatchList, **ERRORS},
    summary="A child's volunteer matches",
)
def child_matches(request: HttpRequest, child_id: int) -> dict[str, Any]:
    user = current_user(request)
    child = access.get_child_for_user(user, child_id, purpose="api_volunteer_match")
    if not matching.managed_organisations(user):
        raise PermissionDenied(_("You do not keep any organisation's volunteers."))
    rows = Match.objects.filter(child=child).select_related("volunteer").order_by("-proposed_at")
    return {"items": [_match_out(m) for m in rows]}


@router.post(
    "/children/{child_id}/volunteer-matches",
    response={201: MatchOut, **ERRORS},
    summary="Propose a volunteer for a child",
)
def match_propose(request: HttpRequest, child_id: int, payload: MatchIn) -> Status[Any]:
    user = current_user(request)
    child = access.get_child_for_user(user, child_id, purpose="api_volunteer_match")
    volunteer = access.volunteers_visible_to(user).filter(pk=payload.volunteer).first()
    if volunteer is None:
        raise ValidationError({"volunteer": [_("No such volunteer of yours.")]})
    match = matching.match_propose(
        actor=user, volunteer=volunteer, child=child, purpose=payload.purpose
    )
    return Status(201, _match_out(match))


def _match(request: HttpRequest, match_id: int) -> tuple[User, Match]:
    user = current_user(request)
    return user, access.get_volunteer_match_for_user(user, match_id, purpose="api_volunteer_match")


@router.post(
    "/volunteer-matches/{match_id}/decision",
    response={200: MatchOut, **ERRORS},
    summary="Approve (with a guardian's consent) or decline a proposed match",
)
def match_decide(request: HttpRequest, match_id: int, payload: MatchDecisionIn) -> dict[str, Any]:
    user, match = _match(request, match_id)
    consent_by = _pk(FamilyMember, payload.consent_by, "consent_by", _("No such family member."))
    decided = matching.match_decide(
        actor=user,
        match=match,
        approve=payload.approve,
        consent_by=consent_by,
        consent_on=payload.consent_on,
        reason=payload.reason,
    )
    return _match_out(decided)


@router.post(
    "/volunteer-matches/{match_id}/end",
    response={200: MatchOut, **ERRORS},
    summary="End an active match",
)
def match_end(request: HttpRequest, match_id: int, payload: MatchEndIn) -> dict[str, Any]:
    user, match = _match(request, match_id)
    return _match_out(matching.match_end(actor=user, match=match, reason=payload.reason))
