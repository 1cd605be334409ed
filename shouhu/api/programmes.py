"""Programmes over the API (issue 12): projects and their progress, programmes, their
sessions and enrolments, the roll call of a session, and one-to-one counselling. The same
services and access rules as the pages; participant lists are logged as reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
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
from shouhu.programmes import attendance, counselling, outcomes, projects, running, selectors
from shouhu.programmes.models import Design, Enrolment, Programme, ProgrammeSession, Project

router = Router(tags=["programmes"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}


def _org(pk: int, field: str) -> Organisation:
    found = Organisation.objects.filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if found is None:
        raise ValidationError({field: [_("No such organisation.")]})
    return found


# ---------------------------------------------------------------- projects


class ProjectIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    funder: int = Field(ge=1, le=MAX_ID)
    implementer: int = Field(ge=1, le=MAX_ID)
    starts_on: dt.date
    ends_on: dt.date
    places: list[str] = Field(min_length=1, max_length=200, description="Place codes")
    target_groups: list[str] = Field(default_factory=list, max_length=8)
    budget: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    targets: dict[str, Decimal] = Field(
        default_factory=dict, description='Measure → number, e.g. {"person_times": 8000}'
    )


class TargetOut(Schema):
    measure: str
    target: Decimal
    achieved: Decimal
    share: float = Field(description="Achieved over target (1.0 is met)")


class ProjectOut(Schema):
    id: int
    name: str
    funder: str
    implementer: str
    starts_on: dt.date
    ends_on: dt.date
    places: list[str]
    target_groups: list[str]
    budget: Decimal | None


class ProjectList(Schema):
    items: list[ProjectOut]


class FiguresOut(Schema):
    person_times: int = Field(description="Attendances (present or late) + counselling")
    persons: int = Field(description="Distinct children and caregivers served")
    children_served: int
    class_hours: Decimal
    counselling: int
    child_activities: int
    caregiver_events: int
    materials: int
    target_group: int = Field(description="Children of the area in the target groups")
    coverage: Decimal = Field(description="Children served in the target group, percent")


class ProgressOut(Schema):
    project: ProjectOut
    figures: FiguresOut
    targets: list[TargetOut]


def _project_out(p: Project) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "funder": p.funder.name,
        "implementer": p.implementer.name,
        "starts_on": p.starts_on,
        "ends_on": p.ends_on,
        "places": sorted(p.places.values_list("code", flat=True)),
        "target_groups": list(p.target_groups),
        "budget": p.budget,
    }


@router.get("/projects", response={200: ProjectList, **ERRORS}, summary="Your projects")
def project_list(request: HttpRequest) -> dict[str, Any]:
    """The projects your organisations fund or implement."""
    user = current_user(request)
    rows = access.projects_visible_to(user).select_related("funder", "implementer")
    return {"items": [_project_out(p) for p in rows.order_by("-starts_on", "pk")[:200]]}


@router.post("/projects", response={201: ProjectOut, **ERRORS}, summary="Record a project")
def project_create(request: HttpRequest, payload: ProjectIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    places = list(Place.objects.filter(code__in=payload.places))
    missing = sorted(set(payload.places) - {p.code for p in places})
    if missing:
        raise ValidationError(
            {"places": [_("Unknown place: %(codes)s") % {"codes": ", ".join(missing)}]}
        )
    project = projects.project_create(
        actor=user,
        name=payload.name,
        funder=_org(payload.funder, "funder"),
        implementer=_org(payload.implementer, "implementer"),
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        places=places,
        target_groups=payload.target_groups,
        budget=payload.budget,
        targets=payload.targets,
    )
    return Status(201, _project_out(project))


@router.get(
    "/projects/{project_id}/progress",
    response={200: ProgressOut, **ERRORS},
    summary="A project's progress",
)
def project_progress(request: HttpRequest, project_id: int) -> dict[str, Any]:
    """Each target against what the records show, and the figures behind them (never
    typed: counted from roll calls, counselling and sessions held)."""
    user = current_user(request)
    project = access.get_project_for_user(user, project_id)
    f = selectors.figures(project)
    return {
        "project": _project_out(project),
        "figures": f.__dict__,
        "targets": [
            {"measure": p.measure, "target": p.target, "achieved": p.achieved, "share": p.share}
            for p in selectors.progress(project, f)
        ],
    }


# ---------------------------------------------------------------- programmes and sessions


class ProgrammeIn(Strict):
    organisation: int = Field(ge=1, le=MAX_ID)
    design: int = Field(ge=1, le=MAX_ID)
    title: str = Field(min_length=1, max_length=200)
    starts_on: dt.date
    ends_on: dt.date
    capacity: int | None = Field(None, ge=1, le=100_000)
    project: int | None = Field(None, ge=1, le=MAX_ID)
    instrument: str = Field(
        "",
        max_length=40,
        description="The pre/post instrument's code: an enabled screening or strengths "
        "instrument (empty: none)",
    )


class ProgrammeOut(Schema):
    id: int
    title: str
    design: str
    kind: str
    organisation: str
    project: int | None
    starts_on: dt.date
    ends_on: dt.date
    capacity: int | None
    instrument: str = Field(description="The pre/post instrument's code (empty: none)")


class ProgrammeList(Schema):
    items: list[ProgrammeOut]


def _programme_out(p: Programme) -> dict[str, Any]:
    return {
        "id": p.pk,
        "title": p.title,
        "design": p.design.name,
        "kind": p.design.kind,
        "organisation": p.organisation.name,
        "project": p.project_id,
        "starts_on": p.starts_on,
        "ends_on": p.ends_on,
        "capacity": p.capacity,
        "instrument": p.instrument,
    }


@router.get("/programmes", response={200: ProgrammeList, **ERRORS}, summary="Your programmes")
def programme_list(request: HttpRequest) -> dict[str, Any]:
    user = current_user(request)
    rows = access.programmes_visible_to(user).select_related("design", "organisation")
    return {"items": [_programme_out(p) for p in rows.order_by("-starts_on", "pk")[:500]]}


@router.post("/programmes", response={201: ProgrammeOut, **ERRORS}, summary="Start a programme")
def programme_create(request: HttpRequest, payload: ProgrammeIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    design = Design.objects.filter(pk=payload.design).first()
    if design is None:
        raise ValidationError({"design": [_("No such design.")]})
    project = None
    if payload.project is not None:
        project = access.projects_visible_to(user).filter(pk=payload.project).first()
        if project is None:
            raise ValidationError({"project": [_("No such project.")]})
    programme = running.programme_create(
        actor=user,
        organisation=_org(payload.organisation, "organisation"),
        design=design,
        title=payload.title,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        capacity=payload.capacity,
        project=project,
        instrument=payload.instrument,
    )
    return Status(201, _programme_out(programme))


class ProgrammeOutcomeOut(Schema):
    instrument: str = Field(description="The instrument's code")
    name: str = Field(description="The instrument's name in the reader's language")
    higher_is_worse: bool | None = Field(
        description="From the bands: the follow-up bands at the top (true) or the bottom "
        "(false); null when they do not say"
    )
    pre_from: dt.date = Field(description="Before: the latest result from this day...")
    pre_to: dt.date = Field(description="...to this day (Asia/Shanghai)")
    post_from: dt.date = Field(description="After: the latest result from this day...")
    post_to: dt.date = Field(description="...to this day, later than the one before")
    enrolled: int = Field(description="Children enrolled")
    paired: int = Field(description="n: children with a result before and after")
    without: int = Field(description="Children without both results")
    missing_pre: int = Field(description="Children without a result before")
    missing_post: int = Field(description="Children without a result after")
    outside_ages: int = Field(description="Children outside the instrument's ages")
    mean_change: float | None = Field(description="After minus before, averaged; null: n = 0")
    ci_low: float | None = Field(description="95% confidence interval (t); null: n < 2")
    ci_high: float | None
    improved: int | None = Field(description="Children in a band further from follow-up")
    unchanged: int | None = Field(description="Children in the same band")
    worse: int | None = Field(description="Children in a band nearer to follow-up")
    improved_share: float | None = Field(description="Improved over n")
    unchanged_share: float | None
    worse_share: float | None
    wilcoxon_n: int = Field(description="Children whose score changed (zeros are dropped)")
    wilcoxon_statistic: float | None = Field(
        description="The smaller signed-rank sum; null with fewer than "
        f"{outcomes.WILCOXON_MIN} changes"
    )
    wilcoxon_p: float | None = Field(description="Two-sided p-value")
    crossed_into_follow_up: int = Field(
        description="Children whose result after is in a follow-up band and before was not"
    )
    caveat: str


class ProgrammeOutcomeReport(Schema):
    programme: int
    outcome: ProgrammeOutcomeOut | None = Field(
        description="null when the programme names no pre/post instrument"
    )


@router.get(
    "/programmes/{programme_id}/outcomes",
    response={200: ProgrammeOutcomeReport, **ERRORS},
    summary="A programme's pre/post outcome",
)
def programme_outcomes(request: HttpRequest, programme_id: int) -> dict[str, Any]:
    """The change between each child's result before and after the programme on its
    instrument, in aggregates (no child is named): n, the mean change with its 95% interval,
    the bands improved, unchanged and worse, and the Wilcoxon signed-rank test."""
    user = current_user(request)
    programme = access.get_programme_for_user(user, programme_id, purpose="api_programme")
    if not access.may_run_programme(user, programme.organisation_id):
        # Screening results, even averaged, are the organisers' (see the programme page).
        raise PermissionDenied(_("Only the programme's organisers read its outcome."))
    found = outcomes.outcomes(programme)
    if found is None:
        return {"programme": programme.pk, "outcome": None}
    out = {k: v for k, v in found.__dict__.items() if k != "crossed"}
    return {
        "programme": programme.pk,
        "outcome": out
        | {
            "without": found.without,
            "improved_share": found.improved_share,
            "unchanged_share": found.unchanged_share,
            "worse_share": found.worse_share,
            "crossed_into_follow_up": len(found.crossed),
            "caveat": str(outcomes.CAVEAT),
        },
    }


class ProgrammeSessionIn(Strict):
    starts_at: dt.datetime
    minutes: int = Field(description="Duration; at least 1")
    venue_kind: Literal["village", "school", "reunion_site", "other"] = "village"
    place: str | None = Field(None, max_length=12)
    venue: str = Field("", max_length=200)
    facilitators: list[int] = Field(default_factory=list, max_length=20)
    speakers: str = Field("", max_length=300)
    quantity: int = 0


class ProgrammeSessionOut(Schema):
    id: int
    starts_at: dt.datetime
    minutes: int
    venue_kind: str
    venue: str
    status: str
    cancel_reason: str
    quantity: int


class ProgrammeSessionList(Schema):
    items: list[ProgrammeSessionOut]


def _session_out(s: ProgrammeSession) -> dict[str, Any]:
    return {
        "id": s.pk,
        "starts_at": s.starts_at,
        "minutes": s.minutes,
        "venue_kind": s.venue_kind,
        "venue": s.venue,
        "status": s.status,
        "cancel_reason": s.cancel_reason,
        "quantity": s.quantity,
    }


@router.get(
    "/programmes/{programme_id}/sessions",
    response={200: ProgrammeSessionList, **ERRORS},
    summary="A programme's sessions",
)
def session_list(request: HttpRequest, programme_id: int) -> dict[str, Any]:
    user = current_user(request)
    programme = access.get_programme_for_user(user, programme_id, purpose="api_programme")
    return {"items": [_session_out(s) for s in programme.sessions.all()]}


@router.post(
    "/programmes/{programme_id}/sessions",
    response={201: ProgrammeSessionOut, **ERRORS},
    summary="Plan a session",
)
def session_create(
    request: HttpRequest, programme_id: int, payload: ProgrammeSessionIn
) -> Status[dict[str, Any]]:
    user = current_user(request)
    programme = access.get_programme_for_user(user, programme_id, purpose="api_programme")
    if payload.starts_at.tzinfo is None:
        payload.starts_at = payload.starts_at.replace(tzinfo=clock.SHANGHAI)
    if payload.place and not Place.objects.filter(pk=payload.place).exists():
        raise ValidationError({"place": [_("No such place.")]})
    facilitators = list(User.objects.filter(pk__in=payload.facilitators, is_active=True))
    if len(facilitators) != len(set(payload.facilitators)):
        raise ValidationError({"facilitators": [_("No such person.")]})
    session = running.session_add(
        actor=user,
        programme=programme,
        starts_at=payload.starts_at,
        minutes=payload.minutes,
        venue_kind=payload.venue_kind,
        place_id=payload.place,
        venue=payload.venue,
        facilitators=facilitators,
        speakers=payload.speakers,
        quantity=payload.quantity,
    )
    return Status(201, _session_out(session))


# ---------------------------------------------------------------- enrolment and roll call


class EnrolIn(Strict):
    child: int | None = Field(None, ge=1, le=MAX_ID)
    member: int | None = Field(None, ge=1, le=MAX_ID, description="A caregiver (household member)")
    walk_in: bool = False


class EnrolmentOut(Schema):
    id: int = Field(description="The participant id of the roll call")
    child: int | None
    member: int | None
    name: str
    status: str
    walk_in: bool


class EnrolmentList(Schema):
    items: list[EnrolmentOut]


def _enrolment_out(e: Enrolment) -> dict[str, Any]:
    person = e.child if e.child_id else e.member
    return {
        "id": e.pk,
        "child": e.child_id,
        "member": e.member_id,
        "name": person.name if person else "",
        "status": e.status,
        "walk_in": e.walk_in,
    }


@router.get(
    "/programmes/{programme_id}/enrolments",
    response={200: EnrolmentList, **ERRORS},
    summary="Who takes part",
)
def enrolment_list(request: HttpRequest, programme_id: int) -> dict[str, Any]:
    """The participants (names only; the read is logged with each child)."""
    user = current_user(request)
    programme = access.get_programme_for_user(user, programme_id, purpose="api_enrolments")
    rows = programme.enrolments.select_related("child", "member").order_by("pk")
    return {"items": [_enrolment_out(e) for e in rows]}


@router.post(
    "/programmes/{programme_id}/enrolments",
    response={201: EnrolmentOut, **ERRORS},
    summary="Enrol a participant",
)
def enrolment_create(
    request: HttpRequest, programme_id: int, payload: EnrolIn
) -> Status[dict[str, Any]]:
    """A child, or a caregiver in a caregiver course; the waiting list when it is full."""
    user = current_user(request)
    programme = access.get_programme_for_user(user, programme_id, purpose="api_enrolments")
    child = member = None
    if payload.child is not None:
        child = access.children_visible_to(user).filter(pk=payload.child).first()
        if child is None:
            raise ValidationError({"child": [_("This child is outside your reach.")]})
    if payload.member is not None:
        member = FamilyMember.objects.filter(pk=payload.member).first()
        if member is None:
            raise ValidationError({"member": [_("No such family member.")]})
    enrolment = running.enrol(
        actor=user, programme=programme, child=child, member=member, walk_in=payload.walk_in
    )
    return Status(201, _enrolment_out(enrolment))


class MarkIn(Strict):
    participant: int = Field(ge=1, le=MAX_ID, description="The enrolment id")
    status: Literal["present", "absent", "excused", "late"]


class RollCallIn(Strict):
    rows: list[MarkIn] = Field(min_length=1, max_length=2000)


class RollCallOut(Schema):
    session: int
    saved: int
    counts: dict[str, int]
    followed_up: list[int] = Field(
        description="Children absent three sessions in a row: a task for their director"
    )


@router.post(
    "/sessions/{session_id}/attendance",
    response={200: RollCallOut, **ERRORS},
    summary="The roll call of a session",
)
def roll_call(request: HttpRequest, session_id: int, payload: RollCallIn) -> dict[str, Any]:
    """The whole roll call in one request; refused whole (nothing saved) for a cancelled
    or future session, or a participant not enrolled (`rows.<i>.participant`)."""
    user = current_user(request)
    session = access.get_session_of_programme_for_user(user, session_id, purpose="api_roll_call")
    done = attendance.roll_call(
        actor=user, session=session, rows=[r.model_dump() for r in payload.rows]
    )
    return {
        "session": session.pk,
        "saved": done.saved,
        "counts": done.counts,
        "followed_up": done.followed_up,
    }


# ---------------------------------------------------------------- counselling


class CounsellingIn(Strict):
    held_on: dt.date
    minutes: int
    mode: Literal["in_person", "phone", "video"]
    concern: str = Field(max_length=12)
    notes: str = Field("", max_length=20000)
    next_step: str = Field("", max_length=300)
    project: int | None = Field(None, ge=1, le=MAX_ID)


class CounsellingOut(Schema):
    id: int
    child: int
    held_on: dt.date
    minutes: int
    mode: str
    concern: str
    next_step: str


@router.post(
    "/children/{child_id}/counselling",
    response={201: CounsellingOut, **ERRORS},
    summary="Record one-to-one counselling",
)
def counselling_create(
    request: HttpRequest, child_id: int, payload: CounsellingIn
) -> Status[dict[str, Any]]:
    user = current_user(request)
    child = access.get_child_for_user(user, child_id, purpose="api_counselling")
    project = None
    if payload.project is not None:
        project = access.projects_visible_to(user).filter(pk=payload.project).first()
        if project is None:
            raise ValidationError({"project": [_("No such project.")]})
    row = counselling.counselling_record(
        actor=user,
        child=child,
        held_on=payload.held_on,
        minutes=payload.minutes,
        mode=payload.mode,
        concern=payload.concern,
        notes=payload.notes,
        next_step=payload.next_step,
        project=project,
    )
    return Status(
        201,
        {
            "id": row.pk,
            "child": row.child_id,
            "held_on": row.held_on,
            "minutes": row.minutes,
            "mode": row.mode,
            "concern": row.concern,
            "next_step": row.next_step,
        },
    )


class WalkInIn(Strict):
    child: int | None = Field(None, ge=1, le=MAX_ID)
    member: int | None = Field(None, ge=1, le=MAX_ID, description="A caregiver (course)")


@router.post(
    "/sessions/{session_id}/walk-ins",
    response={201: EnrolmentOut, **ERRORS},
    summary="Add a walk-in at the roll call",
)
def walk_in(request: HttpRequest, session_id: int, payload: WalkInIn) -> Status[dict[str, Any]]:
    """Someone came who was not enrolled: enrolled now (even when the programme is full),
    then marked with the roll call. Refused before the session starts or when cancelled."""
    user = current_user(request)
    session = access.get_session_of_programme_for_user(user, session_id, purpose="api_roll_call")
    child = member = None
    reached = access.children_visible_to(user)
    if payload.child is not None:
        child = reached.filter(pk=payload.child).first()
        if child is None:
            raise ValidationError({"child": [_("This child is outside your reach.")]})
    if payload.member is not None:
        member = FamilyMember.objects.filter(
            pk=payload.member, household_id__in=reached.values("household_id")
        ).first()
        if member is None:
            raise ValidationError({"member": [_("This caregiver is outside your reach.")]})
    enrolment = running.walk_in(actor=user, session=session, child=child, member=member)
    return Status(201, _enrolment_out(enrolment))
