"""Instruments and screenings over the API (same services and access
rules as the web pages); the alerts are in `alerts`."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from shouhu import access
from shouhu.api.auth import current_user
from shouhu.api.schemas import MAX_ID, Absent, Error, Strict, absent
from shouhu.audit.services import log_children_read
from shouhu.lib.instruments import Instrument, Number
from shouhu.screening import registry, reporting, selectors, services, visits
from shouhu.screening.forms import GroupForm

router = Router(tags=["screening"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}


class ScreeningIn(Strict):
    instrument: str = Field(max_length=32, description="Instrument code, e.g. `phq9`")
    answers: dict[str, Any] = Field(description="Item id → answer value")
    respondent: Literal["child", "caregiver", "worker"] | None = None
    mode: Literal["self_report", "interview"] | None = None
    language: Literal["zh-Hans", "en"] = "zh-Hans"
    administered_at: dt.datetime | None = None


class OptionOut(Schema):
    value: int
    label: dict[str, str] = Field(description="By language tag")


class ItemOut(Schema):
    id: str
    number: int
    text: dict[str, str] = Field(
        description="By language tag: only where shipped or installed under a licence"
    )
    options: list[OptionOut]
    scored: bool


class InstrumentOut(Schema):
    code: str
    version: str
    name: dict[str, str] = Field(description="By language tag")
    kind: str = Field(description="`screening`, `needs_assessment` or `strengths`")
    respondent: str
    modes: list[str]
    ages: list[int] = Field(description="The youngest and the oldest age it is meant for")
    languages: list[str] = Field(description="The languages every item has its text in")
    text: str = Field(description="`shipped`, or `licensed_addon` (installed under a licence)")
    enabled: bool = Field(description="Whether it can be used")
    licence: str
    timeframe: dict[str, str] | None = Field(description="By language tag")
    items: list[ItemOut]


class InstrumentList(Schema):
    items: list[InstrumentOut]


class SubscaleRowOut(Schema):
    label: str
    value: Number | None


class FlagOut(Schema):
    code: str
    action: str
    item: str | None = Field(description="The item whose answer raised it")
    value: Number | None = Field(description="That answer, or the score that raised it")
    label: str


FULL = "Only for readers of the results (`full`)"


class ScreeningOut(Schema):
    """One administration at your level: readers of the summary get whether follow-up is
    needed, the action owed and the kind of record; readers of the results (`full`) the
    instrument, scores, flags and answers too."""

    id: int
    kind: str = Field(description="`screening`, `needs_assessment` or `strengths`")
    administered_at: dt.datetime
    follow_up: bool
    action: str | None = Field(description="The action owed")
    action_label: str
    urgent: bool = Field(description="A critical answer calls for action whatever the total")
    not_diagnosis: bool = Field(description="A mental-health screening: not a diagnosis")
    instrument: str | Absent = absent(FULL)
    instrument_name: str = Field(description="The instrument; for summaries the kind of record")
    version: str | Absent = absent(FULL)
    respondent: str | Absent = absent(FULL)
    mode: str | Absent = absent(FULL)
    language: str | Absent = absent(FULL)
    administered_by: str | Absent = absent(FULL)
    total: Number | Absent | None = absent(FULL)
    band: str | Absent | None = absent(FULL)
    band_label: str | Absent = absent(FULL)
    subscales: dict[str, Number | None] | Absent = absent(FULL)
    subscale_rows: list[SubscaleRowOut] | Absent = absent(FULL)
    flags: list[FlagOut] | Absent = absent(FULL)
    missing: list[str] | Absent = absent(FULL + ": required items left unanswered")
    prorated: bool | Absent = absent(FULL)
    answers: dict[str, int] | Absent = absent(FULL + ": item id → answer value")


Level = Literal["full", "summary", "none"]


class ScreeningAccess(Schema):
    """Your level for each kind of instrument: `full`, `summary` or `none`."""

    screening: Level
    needs_assessment: Level
    strengths: Level


class ScreeningList(Schema):
    items: list[ScreeningOut]
    access: ScreeningAccess
    note: str


def _instrument(inst: Instrument, enabled: bool) -> dict[str, Any]:
    return {
        "code": inst.code,
        "version": inst.version,
        "name": dict(inst.name),
        "kind": inst.kind,
        "respondent": inst.respondent,
        "modes": list(inst.modes),
        "ages": list(inst.ages),
        "languages": [lang for lang in ("zh-Hans", "en") if inst.has_text(lang)],
        "text": inst.text,
        "enabled": enabled,
        "licence": inst.licence,
        "timeframe": dict(inst.timeframe) if inst.timeframe else None,
        "items": [
            {
                "id": item.id,
                "number": item.number,
                "text": dict(item.text),
                "options": [{"value": o.value, "label": dict(o.label)} for o in item.options],
                "scored": item.scored,
            }
            for item in inst.items
        ],
    }


@router.get("/instruments", response={200: InstrumentList, **ERRORS}, summary="Instruments")
def instruments_list(request: HttpRequest) -> dict[str, Any]:
    """Every instrument with its items in the instrument's order. Item text is present only
    where it is shipped or installed under a licence; `enabled` says whether it can be used."""
    current_user(request)
    return {"items": [_instrument(inst, on) for inst, on in registry.catalogue()]}


def _child(request: HttpRequest, child_id: int, purpose: str) -> Any:
    if not 0 < child_id <= MAX_ID:
        raise Http404
    return access.get_child_for_user(current_user(request), child_id, purpose=purpose)


@router.post(
    "/children/{child_id}/screenings",
    response={201: ScreeningOut, **ERRORS},
    summary="Record a screening",
)
def screening_create(
    request: HttpRequest, child_id: int, payload: ScreeningIn
) -> Status[dict[str, Any]]:
    """Store a completed instrument. Totals, band, subscales and flags are computed from the
    answers (never taken from input); an unknown item or a value out of range is 400 naming
    the item (`answers.<item id>`). Critical answers raise a safeguarding alert at once."""
    user = current_user(request)
    child = _child(request, child_id, "api_screening")
    administration = services.administer(
        actor=user,
        child=child,
        instrument=payload.instrument,
        answers=payload.answers,
        respondent=payload.respondent,
        mode=payload.mode,
        language=payload.language,
        administered_at=payload.administered_at,
    )
    return Status(201, selectors.present(administration, access.RESULTS_FULL))


@router.get(
    "/children/{child_id}/screenings",
    response={200: ScreeningList, **ERRORS},
    summary="A child's screenings",
)
def screening_list(request: HttpRequest, child_id: int) -> dict[str, Any]:
    """The child's administrations, newest first. Counsellors and the assigned case worker
    get answers and scores; other adults working with the child get only whether follow-up
    is needed and the action owed; volunteers get 403."""
    user = current_user(request)
    child = _child(request, child_id, "api_screenings")
    levels, rows = selectors.child_administrations(user, child, purpose="api_screenings")
    if all(level == access.RESULTS_NONE for level in levels.values()):
        raise PermissionDenied("You may not see screening results.")
    return {"items": rows, "access": levels, "note": "Screening, not diagnosis."}


# ---------------------------------------------------------------- home visits


class VisitIn(Strict):
    """The page's `HomeVisitForm`."""

    visited_on: dt.date
    place: Literal["home", "school", "village", "elsewhere"] = "home"
    place_note: str = Field("", max_length=200)
    child_seen: bool = True
    met: list[int] = Field(default_factory=list, max_length=50, description="Family member ids")
    others_met: str = Field("", max_length=200)
    notes: str = Field("", max_length=20000)
    actions: str = Field("", max_length=5000)
    next_visit_on: dt.date | None = None
    assessment: int | None = Field(None, ge=1, le=MAX_ID, description="A home-visit screening")


class VisitMember(Schema):
    id: int
    name: str
    relation_label: str


class VisitOut(Schema):
    id: int
    visited_on: dt.date
    place: str
    place_label: str
    place_note: str
    child_seen: bool
    met: list[VisitMember]
    others_met: str
    notes: str | None = Field(description="Only for those who see sensitive fields")
    notes_hidden: bool
    actions: str
    next_visit_on: dt.date | None
    assessment: int | None
    assessment_band: str | None
    by: str


class VisitList(Schema):
    items: list[VisitOut]


@router.get(
    "/children/{child_id}/visits",
    response={200: VisitList, **ERRORS},
    summary="A child's home visits",
)
def visit_list(request: HttpRequest, child_id: int) -> dict[str, Any]:
    """Latest first; the narrative notes only for those who see the child's sensitive
    fields."""
    user = current_user(request)
    child = _child(request, child_id, "api_home_visits")
    return {"items": visits.present_visits(user, child)}


@router.post(
    "/children/{child_id}/visits",
    response={201: VisitOut, **ERRORS},
    summary="Record a home visit",
)
def visit_create(request: HttpRequest, child_id: int, payload: VisitIn) -> Status[dict[str, Any]]:
    """The same rules as the page: closes the open home-visit task; the next falls due by
    the risk level's interval, or on `next_visit_on` when sooner."""
    user = current_user(request)
    child = _child(request, child_id, "api_home_visit")
    members = {m.pk: m for m in visits.members_to_meet(child)}
    unknown = [pk for pk in payload.met if pk not in members]
    if unknown:
        raise ValidationError({"met": [_("Only living members of the child's household.")]})
    assessment = None
    if payload.assessment is not None:
        assessment = next(
            (a for a in visits.assessments_to_link(child) if a.pk == payload.assessment), None
        )
        if assessment is None:
            raise ValidationError(
                {"assessment": [_("Choose an assessment of this child not yet on a visit.")]}
            )
    visit = visits.visit_record(
        actor=user,
        child=child,
        visited_on=payload.visited_on,
        place=payload.place,
        place_note=payload.place_note,
        child_seen=payload.child_seen,
        met=[members[pk] for pk in payload.met],
        others_met=payload.others_met,
        notes=payload.notes,
        actions=payload.actions,
        next_visit_on=payload.next_visit_on,
        assessment=assessment,
    )
    row = next(v for v in visits.present_visits(user, child) if v["id"] == visit.pk)
    return Status(201, row)


# ---------------------------------------------------------------- mandatory reports


class ReportIn(Strict):
    """The page's `ReportForm`."""

    triggers: list[str] = Field(min_length=1, max_length=20, description="`Trigger` values")
    description: str = Field("", max_length=20000)
    suspected: list[int] = Field(default_factory=list, max_length=50)


class ReportCompleteIn(Strict):
    police_told_at: dt.datetime
    receiving_unit: str = Field(min_length=1, max_length=200)
    police_reference: str = Field(min_length=1, max_length=100)


class ReportOut(Schema):
    id: int
    child: int
    child_name: str
    triggers: list[str] = Field(description="In words")
    description: str
    reporter: str | None = Field(description="Only for those who may know who reported")
    opened_at: dt.datetime
    completed: bool
    police_told_at: dt.datetime | None
    receiving_unit: str
    police_reference: str
    suspected: list[str]


@router.post(
    "/children/{child_id}/reports",
    response={201: ReportOut, **ERRORS},
    summary="Open a mandatory report",
)
def report_create(request: HttpRequest, child_id: int, payload: ReportIn) -> Status[dict[str, Any]]:
    """Call the police (110) first: this record keeps the duty visible until the police
    report is recorded, and tells the township supervisor and the county bureau."""
    user = current_user(request)
    child = _child(request, child_id, "api_mandatory_report")
    report = reporting.open_report(
        actor=user,
        child=child,
        triggers=payload.triggers,
        description=payload.description,
        suspected=payload.suspected,
    )
    return Status(201, reporting.present_report(user, report))


@router.get("/reports", response={200: list[ReportOut], **ERRORS}, summary="Mandatory reports")
def report_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Open ones first, newest first (the first 200)."""
    user = current_user(request)
    rows = list(reporting.reports_visible_to(user).order_by("completed_at", "-opened_at")[:200])
    log_children_read(
        user=user,
        child_ids=[r.child_id for r in rows],
        purpose="api_mandatory_reports",
        object_type="mandatory_report",
    )
    return [reporting.present_report(user, r) for r in rows]


@router.get("/reports/{report_id}", response={200: ReportOut, **ERRORS}, summary="A report")
def report_detail(request: HttpRequest, report_id: int) -> dict[str, Any]:
    user = current_user(request)
    if not 0 < report_id <= MAX_ID:
        raise Http404
    return reporting.present_report(user, reporting.get_report_for_user(user, report_id))


@router.post(
    "/reports/{report_id}/complete",
    response={200: ReportOut, **ERRORS},
    summary="Record the police report",
)
def report_complete(
    request: HttpRequest, report_id: int, payload: ReportCompleteIn
) -> dict[str, Any]:
    user = current_user(request)
    if not 0 < report_id <= MAX_ID:
        raise Http404
    report = reporting.complete(
        actor=user,
        report=reporting.get_report_for_user(user, report_id),
        police_told_at=payload.police_told_at,
        receiving_unit=payload.receiving_unit,
        reference=payload.police_reference,
    )
    return reporting.present_report(user, report)


# ---------------------------------------------------------------- group screenings


class GroupIn(Strict):
    """A group screening, as the page's form: a class (`school`, `grade`) or an activity
    group (`village`, ages); `source` says which (from what is filled in if absent)."""

    instrument: str = Field(max_length=40)
    source: Literal["class", "village"] | None = None
    school: int | None = Field(None, ge=1, le=MAX_ID)
    grade: str = Field("", max_length=20)
    village: str = Field("", max_length=12)
    age_min: int | None = Field(None, ge=0, le=18)
    age_max: int | None = Field(None, ge=0, le=18)
    title: str = Field("", max_length=200)


class GroupChildOut(Schema):
    child: int
    name: str
    done: bool
    follow_up: bool = Field(description="The screening asks for follow-up")
    action: str = Field(description="What the result asks for, in words")


class GroupOut(Schema):
    id: int
    instrument: str
    title: str
    held_on: dt.date
    children: list[GroupChildOut]


class GroupRow(Schema):
    id: int
    instrument: str
    title: str
    held_on: dt.date


class GroupList(Schema):
    items: list[GroupRow]


def _group_out(user: Any, group: Any) -> dict[str, Any]:
    return {
        "id": group.pk,
        "instrument": group.instrument,
        "title": group.title,
        "held_on": group.held_on,
        "children": [
            {
                "child": r["child"].pk,
                "name": r["child"].name,
                "done": r["administration"] is not None,
                "follow_up": r["follow_up"],
                "action": str(r["action_label"]),
            }
            for r in selectors.group_progress(user, group)
        ],
    }


@router.get("/screening-groups", response={200: GroupList, **ERRORS}, summary="Your groups")
def group_list(request: HttpRequest) -> dict[str, Any]:
    """The group screenings you conduct, latest first."""
    user = current_user(request)
    return {
        "items": [
            {"id": g.pk, "instrument": g.instrument, "title": g.title, "held_on": g.held_on}
            for g in selectors.groups_of(user)
        ]
    }


@router.post(
    "/screening-groups", response={201: GroupOut, **ERRORS}, summary="Start a group screening"
)
def group_create(request: HttpRequest, payload: GroupIn) -> Status[dict[str, Any]]:
    """Gather a class or an activity group you may screen and start its group screening
    (the page's form: the same choices and field errors)."""
    user = current_user(request)
    data = {k: "" if v is None else str(v) for k, v in payload.model_dump().items()}
    form = GroupForm.for_user(user, data)
    if not form.is_valid():
        raise ValidationError({name: [str(m) for m in errs] for name, errs in form.errors.items()})
    group = form.perform(user)
    return Status(
        201,
        _group_out(user, access.get_group_for_user(user, group.pk, purpose="api_group_screening")),
    )


@router.get(
    "/screening-groups/{group_id}", response={200: GroupOut, **ERRORS}, summary="A group screening"
)
def group_detail(request: HttpRequest, group_id: int) -> dict[str, Any]:
    """Who is done and who needs follow-up (names and the follow-up only; each result opens
    through `GET /screenings/{id}` with its own access check)."""
    user = current_user(request)
    group = access.get_group_for_user(user, group_id, purpose="api_group_screening")
    return _group_out(user, group)
