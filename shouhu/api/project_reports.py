"""A project's figures over the API (issue 12): broken down by month, township, category,
sex or age band; the monthly report as JSON or as the same workbook as the page; staged
acceptance; and the activity designs. The same selectors as the pages, so the same numbers;
aggregates only (no child is named)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from shouhu import access
from shouhu.accounts.models import Membership
from shouhu.api.auth import current_user
from shouhu.api.programmes import ERRORS, FiguresOut, TargetOut, _org
from shouhu.api.schemas import Clean, Strict
from shouhu.audit.models import Action
from shouhu.audit.services import log_access
from shouhu.children.exporting import XLSX
from shouhu.lib import clock
from shouhu.programmes import projects, report, selectors
from shouhu.programmes.models import Design, Milestone, Project
from shouhu.programmes.served import month_of

router = Router(tags=["programmes"])

MONTH = r"^\d{4}-\d{2}$"


class RowOut(Schema):
    key: str = Field(
        description="The month (YYYY-MM), township code, category code, sex, "
        "age band or `caregivers`"
    )
    label: str
    person_times: int | None = Field(description="None when withheld (`suppressed`)")
    persons: int | None
    counselling: int | None
    suppressed: bool = Field(
        False,
        description="Fewer than 5 people: the numbers are withheld from readers without "
        "row access (the implementer's organisers see them)",
    )
    target_group: int | None = Field(
        None, description="Children of the target group in this line (not for months)"
    )
    served_in_group: int | None = None
    coverage: Decimal | None = Field(None, description="Percent of the line's target group")
    class_hours: Decimal | None = Field(None, description="Months only")


class BreakdownOut(Schema):
    by: str
    first: str = Field(description="First month (YYYY-MM)")
    last: str = Field(description="Last month (YYYY-MM)")
    figures: FiguresOut
    rows: list[RowOut]


class FiguresQuery(Clean):
    by: Literal["month", "township", "category", "sex", "age_band"] = "month"
    first: str | None = Field(None, pattern=MONTH, description="YYYY-MM; default the start")
    last: str | None = Field(None, pattern=MONTH, description="YYYY-MM; default the end")


def _row_out(r: selectors.Row) -> dict[str, Any]:
    if r.suppressed:
        return {
            "key": r.key,
            "label": r.label,
            "person_times": None,
            "persons": None,
            "counselling": None,
            "suppressed": True,
        }
    return {
        "key": r.key,
        "label": r.label,
        "person_times": r.person_times,
        "persons": r.persons,
        "counselling": r.counselling,
        "target_group": r.target_group,
        "served_in_group": r.served_in_group,
        "coverage": r.coverage,
        "class_hours": r.class_hours,
    }


def _month(project: Project, text: str | None, field: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return report.parse_month(project, text, clock.today())
    except report.NoSuchMonth as exc:
        raise ValidationError({field: [str(exc)]}) from None


@router.get(
    "/projects/{project_id}/figures",
    response={200: BreakdownOut, **ERRORS},
    summary="A project's figures broken down",
)
def project_figures(
    request: HttpRequest, project_id: int, query: Query[FiguresQuery]
) -> dict[str, Any]:
    """Person-times, persons, counselling and coverage by month, township, category, sex
    or age band, over the months from `first` to `last`: the numbers of the project page
    and the monthly report. Categories overlap; caregivers have their own line."""
    user = current_user(request)
    project = access.get_project_for_user(user, project_id)
    first = _month(project, query.first, "first") or month_of(project.starts_on)
    last = _month(project, query.last, "last") or month_of(project.ends_on)
    if first > last:
        raise ValidationError({"last": [_("The last month comes before the first.")]})
    counts = selectors.counts_for(project, first, last)
    rows = selectors.breakdown(project, query.by, counts=counts)
    if query.by != "month" and not access.sees_project_rows(user, project):
        rows = selectors.suppress_small(rows)
    return {
        "by": query.by,
        "first": f"{first:%Y-%m}",
        "last": f"{last:%Y-%m}",
        "figures": selectors.figures(project, counts=counts).__dict__,
        "rows": [_row_out(r) for r in rows],
    }


class ProgrammeLineOut(Schema):
    programme: str
    kind: str
    held: int = Field(description="Sessions held this month")
    cancelled: int
    class_hours: Decimal
    attended: int = Field(description="Attendances (present or late) this month")
    enrolled: int
    cancel_reasons: list[str]


class CountOut(Schema):
    label: str
    sessions: int


class MilestoneOut(Schema):
    id: int
    title: str
    due_on: dt.date
    accepted_on: dt.date | None
    accepted_by: str | None
    note: str


class MonthlyReportOut(Schema):
    project: int
    month: str
    title: str
    month_figures: FiguresOut
    to_date: FiguresOut = Field(description="From the project's start to the month's end")
    targets: list[TargetOut]
    months: list[RowOut]
    breakdowns: dict[str, list[RowOut]] = Field(
        description="The month by township, category, sex and age band"
    )
    programmes: list[ProgrammeLineOut]
    counselling_by_mode: list[CountOut]
    counselling_by_concern: list[CountOut]
    milestones: list[MilestoneOut]


class MonthQuery(Clean):
    month: str | None = Field(None, pattern=MONTH, description="YYYY-MM; default this month")


def _milestone_out(m: Milestone) -> dict[str, Any]:
    return {
        "id": m.pk,
        "title": m.title,
        "due_on": m.due_on,
        "accepted_on": m.accepted_on,
        "accepted_by": str(m.accepted_by) if m.accepted_by else None,
        "note": m.note,
    }


def _monthly(request: HttpRequest, project_id: int, month: str | None, fmt: str) -> Any:
    user = current_user(request)
    project = access.get_project_for_user(user, project_id)
    try:
        first = report.parse_month(project, month, clock.today())
    except report.NoSuchMonth as exc:
        raise ValidationError({"month": [str(exc)]}) from None
    monthly = report.monthly(project, first, small=access.sees_project_rows(user, project))
    log_access(
        user=user,
        action=Action.EXPORT,
        object_type="project",
        object_id=str(project.pk),
        purpose="api_project_report",
        detail={"month": f"{first:%Y-%m}", "format": fmt},
    )
    return monthly


@router.get(
    "/projects/{project_id}/report",
    response={200: MonthlyReportOut, **ERRORS},
    summary="A project's monthly report",
)
def project_report(
    request: HttpRequest, project_id: int, query: Query[MonthQuery]
) -> dict[str, Any]:
    """The monthly report of the page and the workbook, as JSON (logged as an export)."""
    m = _monthly(request, project_id, query.month, "json")
    return {
        "project": m.project.pk,
        "month": f"{m.month:%Y-%m}",
        "title": m.title,
        "month_figures": m.month_figures.__dict__,
        "to_date": m.to_date.__dict__,
        "targets": [
            {"measure": p.measure, "target": p.target, "achieved": p.achieved, "share": p.share}
            for p in m.progress
        ],
        "months": [_row_out(r) for r in m.months],
        "breakdowns": {by: [_row_out(r) for r in rows] for by, rows in m.breakdowns.items()},
        "programmes": [line.__dict__ for line in m.programmes],
        "counselling_by_mode": [{"label": k, "sessions": n} for k, n in m.counselling_by_mode],
        "counselling_by_concern": [
            {"label": k, "sessions": n} for k, n in m.counselling_by_concern
        ],
        "milestones": [_milestone_out(x) for x in m.milestones],
    }


@router.get(
    "/projects/{project_id}/report.xlsx",
    response={200: None, **ERRORS},
    summary="A project's monthly report (xlsx)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "An xlsx workbook",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def project_report_xlsx(
    request: HttpRequest, project_id: int, query: Query[MonthQuery]
) -> HttpResponse:
    m = _monthly(request, project_id, query.month, "xlsx")
    response = HttpResponse(report.workbook(m), content_type=XLSX)
    name = f"project-{m.project.pk}-{m.month:%Y-%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------- staged acceptance


class MilestoneList(Schema):
    items: list[MilestoneOut]


class MilestoneIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    due_on: dt.date


class AcceptIn(Strict):
    accepted_on: dt.date
    note: str = Field(min_length=1, max_length=4000)


@router.get(
    "/projects/{project_id}/milestones",
    response={200: MilestoneList, **ERRORS},
    summary="A project's stages",
)
def milestone_list(request: HttpRequest, project_id: int) -> dict[str, Any]:
    project = access.get_project_for_user(current_user(request), project_id)
    return {"items": [_milestone_out(m) for m in project.milestones.select_related("accepted_by")]}


@router.post(
    "/projects/{project_id}/milestones",
    response={201: MilestoneOut, **ERRORS},
    summary="Plan a stage",
)
def milestone_add(
    request: HttpRequest, project_id: int, payload: MilestoneIn
) -> Status[dict[str, Any]]:
    user = current_user(request)
    project = access.get_project_for_user(user, project_id)
    stage = projects.milestone_add(
        actor=user, project=project, title=payload.title, due_on=payload.due_on
    )
    return Status(201, _milestone_out(stage))


@router.post(
    "/milestones/{milestone_id}/accept",
    response={200: MilestoneOut, **ERRORS},
    summary="Accept a stage (the funder's people)",
)
def milestone_accept(request: HttpRequest, milestone_id: int, payload: AcceptIn) -> dict[str, Any]:
    user = current_user(request)
    stage = Milestone.objects.filter(pk=milestone_id).first() if 0 < milestone_id < 2**62 else None
    if stage is None:
        raise Http404
    access.get_project_for_user(user, stage.project_id)
    done = projects.milestone_accept(
        actor=user, milestone=stage, accepted_on=payload.accepted_on, note=payload.note
    )
    return _milestone_out(done)


# ---------------------------------------------------------------- designs


class DesignOut(Schema):
    id: int
    organisation: int | None = Field(description="None: the shipped catalogue")
    kind: str
    name: str
    hours_min: int
    hours_max: int
    content: str
    source: str


class DesignList(Schema):
    items: list[DesignOut]


class DesignIn(Strict):
    organisation: int = Field(ge=1)
    kind: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    hours_min: int = Field(1, ge=1, le=200)
    hours_max: int = Field(1, ge=1, le=200)
    content: str = Field("", max_length=4000)


def _design_out(d: Design) -> dict[str, Any]:
    return {
        "id": d.pk,
        "organisation": d.organisation_id,
        "kind": d.kind,
        "name": d.name,
        "hours_min": d.hours_min,
        "hours_max": d.hours_max,
        "content": d.content,
        "source": d.source,
    }


@router.get("/designs", response={200: DesignList, **ERRORS}, summary="Activity designs")
def design_list(request: HttpRequest) -> dict[str, Any]:
    """The shipped catalogue and your organisations' own designs."""
    user = current_user(request)
    orgs = Membership.objects.filter(user=user, active=True).values("organisation_id")
    from django.db.models import Q

    rows = Design.objects.filter(Q(organisation=None) | Q(organisation__in=orgs))
    return {"items": [_design_out(d) for d in rows.order_by("kind", "id")]}


@router.post("/designs", response={201: DesignOut, **ERRORS}, summary="Add your own design")
def design_add(request: HttpRequest, payload: DesignIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    design = projects.design_add(
        actor=user,
        organisation=_org(payload.organisation, "organisation"),
        kind=payload.kind,
        name=payload.name,
        hours_min=payload.hours_min,
        hours_max=payload.hours_max,
        content=payload.content,
    )
    return Status(201, _design_out(design))
