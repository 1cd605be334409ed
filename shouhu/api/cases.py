"""Cases, their stages, plans, services and follow-ups over the API (the same services and
access rules as the web pages; a stale `version` is 409)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, QueryDict
from ninja import Field, Query, Router, Schema, Status

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.api.auth import current_user
from shouhu.api.schemas import MAX_ID, Absent, Clean, Error, Strict, absent
from shouhu.cases import (
    delivery,
    followups,
    forms,
    intakes,
    members,
    plan,
    referrals,
    selectors,
    stages,
)
from shouhu.cases.models import (
    Approval,
    ExternalReferral,
    Goal,
    Intake,
    PlanAction,
    Transfer,
)
from shouhu.lib import clock
from shouhu.tasks import selectors as task_selectors
from shouhu.tasks.models import Task
from shouhu.tasks.selectors import task_row

router = Router(tags=["cases"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}
WRITE: dict[int, Any] = {**ERRORS, 409: Error}

ChannelName = Literal[
    "service",
    "family_referral",
    "school_referral",
    "community_referral",
    "self",
    "hotline",
    "screening_alert",
    "mandatory_report",
]


class CaseIn(Strict):
    child: int = Field(ge=1, le=MAX_ID)
    channel: ChannelName
    reason: str = Field(min_length=1, max_length=5000)
    urgency: Literal["low", "normal", "high", "crisis"] = "normal"
    consent: Literal["guardian", "child", "legal_basis", "none"] = "none"
    organisation: int | None = Field(None, ge=1, le=MAX_ID)
    referrer: str = Field("", max_length=100)


class TransitionIn(Strict):
    to: Literal["assessment", "plan", "services", "review", "closed"]
    version: int = Field(ge=1, le=MAX_ID)
    note: str = Field("", max_length=5000)
    outcome: str = Field("", max_length=32)
    reason: str = Field("", max_length=5000)


class ReopenIn(Strict):
    version: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=5000)


class GoalIn(Strict):
    version: int = Field(ge=1, le=MAX_ID)
    domain: Literal["self_concept", "family_bonds", "peer_network", "school_community", "safety"]
    description: str = Field(min_length=1, max_length=2000)
    strengths: str = Field("", max_length=2000)


class ActionIn(Strict):
    version: int = Field(ge=1, le=MAX_ID)
    description: str = Field(min_length=1, max_length=2000)
    owner: Literal["family", "school", "community", "social_worker", "volunteer"]
    due_on: dt.date | None = None
    assignee: int | None = Field(None, ge=1, le=MAX_ID)
    organisation: int | None = Field(None, ge=1, le=MAX_ID)


class GoalPatch(Strict):
    version: int = Field(ge=1, le=MAX_ID)
    status: Literal["open", "met", "partly", "not_met", "dropped"] | None = None
    review_note: str | None = Field(None, max_length=5000)
    description: str | None = Field(None, min_length=1, max_length=2000)


class GoalReviewIn(Strict):
    goal: int = Field(ge=1, le=MAX_ID)
    status: Literal["open", "met", "partly", "not_met", "dropped"]
    note: str = Field("", max_length=5000)


class ReviewIn(Strict):
    version: int = Field(ge=1, le=MAX_ID)
    goals: list[GoalReviewIn] = Field(min_length=1, max_length=100)


class CaseMemberIn(Strict):
    user: int = Field(ge=1, le=MAX_ID)
    role: Literal["worker", "counsellor", "volunteer", "supervisor"]


class ApprovalDecisionIn(Strict):
    approve: bool
    note: str = Field("", max_length=5000)


class ActionPatch(Strict):
    version: int = Field(ge=1, le=MAX_ID)
    status: Literal["todo", "doing", "done", "dropped"]


class ServiceIn(Strict):
    service_type: str = Field(max_length=32)
    delivered_on: dt.date
    minutes: int = Field(ge=1, le=24 * 60)
    participants: int = Field(1, ge=1, le=1000)
    provider: int | None = Field(None, ge=1, le=MAX_ID)
    note: str = Field("", max_length=5000)


class TaskIn(Strict):
    kind: Literal["visit", "call", "task"]
    title: str = Field(min_length=1, max_length=200)
    due_on: dt.date
    recurring: bool = False
    assignee: int | None = Field(None, ge=1, le=MAX_ID)


class TaskDoneIn(Strict):
    note: str = Field("", max_length=5000)


class DecisionIn(Strict):
    accept: bool
    reason: str = Field("", max_length=5000)
    lead: int | None = Field(None, ge=1, le=MAX_ID)


class TaskQuery(Clean):
    status: Literal["open", "overdue", "due", "done"] = "open"


class WorklistQuery(TaskQuery):
    show: Literal["all", "mine", "home_visits", "cases"] = "all"


class CaseQuery(Clean):
    stage: Literal["intake", "assessment", "plan", "services", "review", "closed"] | None = None
    child: int | None = Field(None, ge=1, le=MAX_ID)
    open: bool = False
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_ID)


# ---------------------------------------------------------------- answers


class CaseRow(Schema):
    id: int
    child: int
    child_name: str
    organisation: int
    organisation_name: str
    lead: int
    lead_name: str
    stage: str
    stage_label: str
    urgency: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    pending_approval: str | None = Field(description="`plan` or `closure` waiting for approval")
    version: int = Field(description="Send it back with every change of the case or its plan")


class CaseList(Schema):
    items: list[CaseRow]
    count: int = Field(description="The number of matches (not only those on this page)")


class StageOut(Schema):
    stage: str
    stage_label: str
    at: dt.datetime
    by: str
    note: str


class CaseMemberOut(Schema):
    user: int
    name: str
    role: str
    role_label: str


class PlanActionOut(Schema):
    id: int
    description: str
    owner: str
    owner_label: str
    assignee: int | None
    organisation: int | None
    due_on: dt.date | None
    status: str
    status_label: str


class GoalOut(Schema):
    """The goal's words are `***` for readers who may not read the case's reasons."""

    id: int
    domain: str
    domain_label: str
    description: str
    strengths: str
    status: str
    status_label: str | None
    review_note: str
    actions: list[PlanActionOut]


class ServiceRecordOut(Schema):
    id: int
    service_type: str
    service_label: str
    provider: str
    delivered_on: dt.date
    minutes: int
    participants: int


class CaseTaskOut(Schema):
    id: int
    kind: str
    title: str
    assignee: int | None
    due_on: dt.date
    recurring: bool
    status: str = Field(description="`open`, `done` or `cancelled` (the case was closed)")
    done_at: dt.datetime | None


class ApprovalOut(Schema):
    id: int
    subject: str = Field(description="`plan` or `closure`")
    requested_at: dt.datetime
    approved: bool | None = Field(description="null while waiting for the decision")
    note: str


class ConferenceOut(Schema):
    id: int
    held_on: dt.date
    decisions: str
    organisations: list[str]
    participants: list[str]


class ExternalReferralOut(Schema):
    id: int
    resource: str
    reason: str
    referred_on: dt.date
    outcome: str
    outcome_label: str


class TransferOut(Schema):
    id: int
    kind: str
    kind_label: str
    to: str
    status: str
    status_label: str


class CaseIntakeOut(Schema):
    id: int
    channel: str
    channel_label: str
    reason: str = Field(description="`***` for readers who may not read the case's reasons")
    consent: str
    referred_by: str
    referrer_name: str | None
    created_at: dt.datetime


class ReferredFromOut(Schema):
    case: int
    organisation: str
    kind: str
    kind_label: str


class CaseNoteOut(Schema):
    id: int
    author: str
    written_at: dt.datetime
    text: str


class CaseView(CaseRow):
    """The whole case at your level. Readers who neither work on the case nor see the
    child's sensitive fields get the reasons and the plan's words masked (`***`)."""

    reasons_shown: bool
    outcome: str | None
    outcome_label: str | None
    closure_reason: str | None
    stages: list[StageOut]
    members: list[CaseMemberOut]
    goals: list[GoalOut]
    services: list[ServiceRecordOut] = Field(description="The first 100")
    tasks: list[CaseTaskOut] = Field(description="The first 100")
    approvals: list[ApprovalOut]
    conferences: list[ConferenceOut]
    external_referrals: list[ExternalReferralOut]
    transfers: list[TransferOut]
    intake: CaseIntakeOut | None
    referred_from: ReferredFromOut | None = Field(
        description="The case this one came from by an accepted referral or transfer"
    )
    may_work: bool = Field(description="Whether you may change the case, its plan and notes")
    notes: list[CaseNoteOut] | Absent = absent(
        "Only for those who work on the case (each read logged): the first 200"
    )


class IntakeCreated(Schema):
    intake: int
    status: str


class ServiceOut(Schema):
    id: int
    service_type: str
    delivered_on: dt.date
    minutes: int
    participants: int
    provider: int


class IntakeRow(Schema):
    id: int
    child: int
    child_name: str
    organisation: int
    organisation_name: str
    channel: str
    reason: str
    urgency: str
    consent: str
    referred_by: str = Field(description="The username of the one who referred")
    referrer_name: str | None = Field(description="Who referred, outside the system")
    created_at: dt.datetime
    status: str
    decision_reason: str | None


class IntakeList(Schema):
    items: list[IntakeRow]


class IntakeDecisionOut(Schema):
    intake: IntakeRow
    case: CaseView | None = Field(description="The case opened, when accepted")


class GapOut(Schema):
    child: int
    level: str
    level_label: str
    open_case: bool
    served_recently: bool
    child_name: str


class DuplicateServiceOut(Schema):
    child: int
    child_name: str
    service_type: str
    providers: int


class OverdueOut(Schema):
    worker: int
    name: str
    overdue: int


class CaseloadOut(Schema):
    worker: int
    name: str
    organisation: str
    open_cases: int


class AidPeriodOut(Schema):
    first: dt.date
    last: dt.date


class DoubleAidOut(Schema):
    child: int
    child_name: str
    kind: str = Field(description="The kind of aid (education, living, medical, in_kind)")
    kind_label: str
    sources: list[str] = Field(
        description="Who gave it: the schemes' names, and the government for 低保/特困"
    )


class UnaidedOut(Schema):
    child: int
    child_name: str


class LinkedChildOut(Schema):
    link: int
    home: int
    home_name: str
    home_place: str
    home_services: str
    destination: int
    destination_name: str
    destination_place: str
    destination_services: str


class Coordination(Schema):
    gaps: list[GapOut] = Field(
        description="Children at red, then orange, with no open case or no recent service"
    )
    duplicates: list[DuplicateServiceOut] = Field(
        description="The same service given to a child by two organisations or more"
    )
    overdue_by_worker: list[OverdueOut]
    caseload: list[CaseloadOut] = Field(description="Open cases by lead worker")
    aid_period: AidPeriodOut = Field(
        description="The payments the aid lists read: the last twelve months up to today"
    )
    double_aid: list[DoubleAidOut] = Field(
        description="Children who received the same kind of aid from two sources in the period"
    )
    double_aid_count: int = Field(description="How many (child, kind) pairs in all")
    unaided: list[UnaidedOut] = Field(
        description="Eligible children (in difficulty, unsupported or orphaned) with no aid "
        "in the period, in id order"
    )
    unaided_count: int = Field(description="How many eligible children without aid in all")
    linked: list[LinkedChildOut] = Field(
        description="Children with a record in another place (a confirmed link), with the "
        "services each side gives"
    )


def _case(request: HttpRequest, case_id: int, purpose: str) -> Any:
    if not 0 < case_id <= MAX_ID:
        raise Http404
    return access.get_case_for_user(current_user(request), case_id, purpose=purpose)


def _user(pk: int | None, field: str = "assignee") -> User | None:
    if pk is None:
        return None
    found = User.objects.filter(pk=pk, is_active=True).first()
    if found is None:
        raise ValidationError({field: ["No such user."]})
    return found


def _org(pk: int | None, field: str) -> Organisation | None:
    if pk is None:
        return None
    found = Organisation.objects.filter(pk=pk, active=True).first()
    if found is None:
        raise ValidationError({field: ["No such organisation."]})
    return found


@router.post("/cases", response={201: CaseView, 202: IntakeCreated, **WRITE}, summary="Open a case")
def case_create(request: HttpRequest, payload: CaseIn) -> Status[dict[str, Any]]:
    """Open a case for a child in your organisation (201, the case). Naming another
    `organisation` refers the child to it instead (202, the pending intake). A second open
    case for the same child and organisation is 409."""
    user = current_user(request)
    child = access.get_child_for_user(user, payload.child, purpose="api_case_open")
    result = intakes.case_open(
        actor=user,
        child=child,
        channel=payload.channel,
        reason=payload.reason,
        urgency=payload.urgency,
        consent=payload.consent,
        organisation=_org(payload.organisation, "organisation"),
        referrer_name=payload.referrer,
    )
    if isinstance(result, Intake):
        return Status(202, {"intake": result.pk, "status": result.status})
    return Status(201, selectors.present_case(user, result))


@router.get("/cases", response={200: CaseList, **ERRORS}, summary="Cases")
def case_list(request: HttpRequest, query: Query[CaseQuery]) -> dict[str, Any]:
    user = current_user(request)
    page = selectors.case_page(
        user,
        purpose="api_case_list",
        stage=query.stage or "",
        child_id=query.child,
        open_only=query.open,
        offset=query.offset,
        limit=query.limit,
    )
    rows = selectors.cases_for(
        user, stage=query.stage or "", child_id=query.child, open_only=query.open
    )
    return {"items": [selectors.case_row(c) for c in page], "count": rows.count()}


@router.get("/cases/{case_id}", response={200: CaseView, **ERRORS}, summary="A case")
def case_detail(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """The case; notes only for those who work on it. Another organisation's case is 404
    unless it was referred to yours."""
    return selectors.present_case(current_user(request), _case(request, case_id, "api_case"))


@router.post(
    "/cases/{case_id}/transitions", response={200: CaseView, **WRITE}, summary="Move a stage"
)
def case_transition(request: HttpRequest, case_id: int, payload: TransitionIn) -> dict[str, Any]:
    """Move to the next stage (`to`), or close (`to: closed` with `outcome` and `reason`).
    Plans and closures wait for the approver when the organisation asks for approval."""
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    if payload.to == "closed":
        case = stages.close(
            actor=user,
            case=case,
            version=payload.version,
            outcome=payload.outcome,
            reason=payload.reason,
        )
    else:
        case = stages.transition(
            actor=user, case=case, to=payload.to, version=payload.version, note=payload.note
        )
    return selectors.present_case(user, case)


@router.post("/cases/{case_id}/reopen", response={200: CaseView, **WRITE}, summary="Reopen")
def case_reopen(request: HttpRequest, case_id: int, payload: ReopenIn) -> dict[str, Any]:
    user = current_user(request)
    case = stages.reopen(
        actor=user,
        case=_case(request, case_id, "api_case_edit"),
        version=payload.version,
        reason=payload.reason,
    )
    return selectors.present_case(user, case)


@router.post("/cases/{case_id}/goals", response={201: CaseView, **WRITE}, summary="Add a goal")
def goal_create(request: HttpRequest, case_id: int, payload: GoalIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    plan.goal_add(
        actor=user,
        case=case,
        version=payload.version,
        domain=payload.domain,
        description=payload.description,
        strengths=payload.strengths,
    )
    case.refresh_from_db()
    return Status(201, selectors.present_case(user, case))


@router.post(
    "/cases/{case_id}/goals/{goal_id}/actions",
    response={201: CaseView, **WRITE},
    summary="Add an action to a goal",
)
def action_create(
    request: HttpRequest, case_id: int, goal_id: int, payload: ActionIn
) -> Status[dict[str, Any]]:
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    goal = Goal.objects.filter(pk=goal_id, case=case).first() if goal_id <= MAX_ID else None
    if goal is None:
        raise Http404
    plan.action_add(
        actor=user,
        goal=goal,
        version=payload.version,
        description=payload.description,
        owner=payload.owner,
        due_on=payload.due_on,
        assignee=_user(payload.assignee),
        organisation=_org(payload.organisation, "organisation"),
    )
    case.refresh_from_db()
    return Status(201, selectors.present_case(user, case))


@router.patch(
    "/cases/{case_id}/goals/{goal_id}",
    response={200: CaseView, **WRITE},
    summary="Change a goal",
)
def goal_patch(
    request: HttpRequest, case_id: int, goal_id: int, payload: GoalPatch
) -> dict[str, Any]:
    """Change a goal's status, review note or wording (with the case `version`)."""
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    goal = Goal.objects.filter(pk=goal_id, case=case).first() if goal_id <= MAX_ID else None
    if goal is None:
        raise Http404
    plan.goal_update(
        actor=user,
        goal=goal,
        version=payload.version,
        status=payload.status,
        review_note=payload.review_note,
        description=payload.description,
    )
    case.refresh_from_db()
    return selectors.present_case(user, case)


@router.post(
    "/cases/{case_id}/review", response={200: CaseView, **WRITE}, summary="Record a review"
)
def review_create(request: HttpRequest, case_id: int, payload: ReviewIn) -> dict[str, Any]:
    """At the review stage: each goal's status and what was seen, saved together."""
    user = current_user(request)
    case = plan.review_record(
        actor=user,
        case=_case(request, case_id, "api_case_edit"),
        version=payload.version,
        reviews=[plan.GoalReview(goal=g.goal, status=g.status, note=g.note) for g in payload.goals],
    )
    return selectors.present_case(user, case)


@router.post(
    "/cases/{case_id}/approvals/{approval_id}/decision",
    response={200: CaseView, **WRITE},
    summary="Approve or send back a plan or closure",
)
def approval_decision(
    request: HttpRequest, case_id: int, approval_id: int, payload: ApprovalDecisionIn
) -> dict[str, Any]:
    """The approver's decision on the plan or closure the case waits for; sending it back
    needs a `note`. Nobody approves their own request (403)."""
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    approval = (
        Approval.objects.filter(pk=approval_id, case=case).first()
        if approval_id <= MAX_ID
        else None
    )
    if approval is None:
        raise Http404
    case = stages.approval_decide(
        actor=user, approval=approval, approve=payload.approve, note=payload.note
    )
    return selectors.present_case(user, case)


@router.post(
    "/cases/{case_id}/members",
    response={201: CaseView, **WRITE},
    summary="Add a worker or volunteer",
)
def member_create(
    request: HttpRequest, case_id: int, payload: CaseMemberIn
) -> Status[dict[str, Any]]:
    """Add a worker or volunteer with their role (people serving the child's area)."""
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    person = _user(payload.user, "user")
    assert person is not None
    members.member_add(actor=user, case=case, user=person, role=payload.role)
    return Status(201, selectors.present_case(user, case))


@router.delete(
    "/cases/{case_id}/members/{user_id}",
    response={200: CaseView, **WRITE},
    summary="Take someone off the case",
)
def member_delete(request: HttpRequest, case_id: int, user_id: int) -> dict[str, Any]:
    """The person stays in the record as a former member; the lead cannot be removed."""
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    person = User.objects.filter(pk=user_id).first() if 0 < user_id <= MAX_ID else None
    if person is None:
        raise Http404
    members.member_remove(actor=user, case=case, user=person)
    return selectors.present_case(user, case)


@router.patch(
    "/cases/{case_id}/actions/{action_id}",
    response={200: CaseView, **WRITE},
    summary="Change an action's status",
)
def action_patch(
    request: HttpRequest, case_id: int, action_id: int, payload: ActionPatch
) -> dict[str, Any]:
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    action = (
        PlanAction.objects.filter(pk=action_id, goal__case=case)
        .select_related("goal__case")
        .first()
        if action_id <= MAX_ID
        else None
    )
    if action is None:
        raise Http404
    plan.action_update(actor=user, action=action, version=payload.version, status=payload.status)
    case.refresh_from_db()
    return selectors.present_case(user, case)


@router.post(
    "/cases/{case_id}/services", response={201: ServiceOut, **WRITE}, summary="Record a service"
)
def service_create(
    request: HttpRequest, case_id: int, payload: ServiceIn
) -> Status[dict[str, Any]]:
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    record = delivery.service_record(
        actor=user,
        case=case,
        service_type=payload.service_type,
        delivered_on=payload.delivered_on,
        minutes=payload.minutes,
        participants=payload.participants,
        provider=_org(payload.provider, "provider"),
        note=payload.note,
    )
    return Status(
        201,
        {
            "id": record.pk,
            "service_type": payload.service_type,
            "delivered_on": record.delivered_on,
            "minutes": record.minutes,
            "participants": record.participants,
            "provider": record.provider_id,
        },
    )


class TaskOut(Schema):
    """A follow-up. `case` is null for a home visit the child's risk level sets."""

    id: int
    case: int | None
    child: int
    child_name: str
    kind: str
    title: str
    assignee: int | None
    assignee_name: str
    due_on: dt.date
    recurring: bool
    status: str
    done_at: dt.datetime | None
    overdue: bool


class TaskList(Schema):
    items: list[TaskOut]


class TaskDoneOut(Schema):
    task: TaskOut
    next: TaskOut | None


@router.post("/cases/{case_id}/tasks", response={201: TaskOut, **WRITE}, summary="Add a follow-up")
def task_create(request: HttpRequest, case_id: int, payload: TaskIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    task = followups.task_add(
        actor=user,
        case=case,
        kind=payload.kind,
        title=payload.title,
        due_on=payload.due_on,
        assignee=_user(payload.assignee),
        recurring=payload.recurring,
    )
    return Status(201, task_row(task, clock.today()))


@router.get("/tasks", response={200: TaskList, **ERRORS}, summary="Your cases' follow-ups")
def task_list(request: HttpRequest, query: Query[TaskQuery]) -> dict[str, Any]:
    """The follow-ups of your cases (supervisors and officials: also those of the cases of
    their area), `open` by default, or `overdue`, `due` (within a week), `done`. The whole
    worklist, home visits included, is `GET /worklist`."""
    user = current_user(request)
    today = clock.today()
    rows = task_selectors.worklist(
        user, purpose="api_task_list", status=query.status, today=today, limit=500, show="cases"
    )
    return {"items": [task_row(t, today) for t in rows]}


@router.get("/worklist", response={200: TaskList, **ERRORS}, summary="Your worklist")
def worklist(request: HttpRequest, query: Query[WorklistQuery]) -> dict[str, Any]:
    """Everything you owe, earliest due first: the home visits the children's risk levels
    set and your cases' visits, calls and tasks (supervisors and officials: also those of
    their area). The same list as the worklist page."""
    user = current_user(request)
    today = clock.today()
    rows = task_selectors.worklist(
        user, purpose="api_worklist", status=query.status, today=today, limit=500, show=query.show
    )
    return {"items": [task_row(t, today) for t in rows]}


@router.post("/tasks/{task_id}/done", response={200: TaskDoneOut, **WRITE}, summary="Done")
def task_done(request: HttpRequest, task_id: int, payload: TaskDoneIn) -> dict[str, Any]:
    """Mark a case's follow-up done; a recurring visit or call returns the next one. (A
    home visit is done by recording the visit: `POST /children/{id}/visits`.)"""
    user = current_user(request)
    task = (
        task_selectors.tasks_for(user, status="open").filter(pk=task_id, case__isnull=False).first()
        if 0 < task_id <= MAX_ID
        else None
    )
    if task is None:
        raise Http404
    following = followups.task_done(actor=user, task=task, note=payload.note)
    today = clock.today()
    task = Task.objects.select_related("child", "assignee").get(pk=task.pk)
    return {
        "task": task_row(task, today),
        "next": task_row(following, today) if following else None,
    }


@router.get("/intakes", response={200: IntakeList, **ERRORS}, summary="Intakes to decide")
def intake_list(request: HttpRequest) -> dict[str, Any]:
    user = current_user(request)
    rows = selectors.intake_page(user, purpose="api_intake_list")
    return {"items": [selectors.intake_row(i) for i in rows]}


@router.post(
    "/intakes/{intake_id}/decision",
    response={200: IntakeDecisionOut, **WRITE},
    summary="Accept or decline an intake",
)
def intake_decision(request: HttpRequest, intake_id: int, payload: DecisionIn) -> dict[str, Any]:
    user = current_user(request)
    intake = (
        selectors.intakes_for(user).filter(pk=intake_id).first()
        if 0 < intake_id <= MAX_ID
        else None
    )
    if intake is None:
        raise Http404
    case = intakes.intake_decide(
        actor=user,
        intake=intake,
        accept=payload.accept,
        reason=payload.reason,
        lead=_user(payload.lead, "lead"),
    )
    intake.refresh_from_db()
    return {
        "intake": selectors.intake_row(intake),
        "case": selectors.present_case(user, case) if case else None,
    }


@router.get("/coordination", response={200: Coordination, **ERRORS}, summary="Coordination")
def coordination(request: HttpRequest) -> dict[str, Any]:
    """Gaps, duplicated services, overdue follow-ups, caseloads, double aid and eligible
    children without aid in your jurisdiction (supervisors and officials)."""
    return selectors.coordination(current_user(request))


# ---------------------------------------------------------------- the page's forms, over the API


def _through_form(
    request: HttpRequest,
    form_class: type[forms.CaseActionForm],
    case: Any,
    payload: Strict,
    **kw: Any,
) -> Any:
    """Run a page action with the page's own form: the same choices, the same field errors
    (by field name), the same service."""
    user = current_user(request)
    prefix = form_class(case=case, user=user, **kw).prefix
    data = QueryDict(mutable=True)
    for name, value in payload.model_dump().items():
        key = f"{prefix}-{name}"
        if isinstance(value, list):
            data.setlist(key, [str(v) for v in value])
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        elif value is not None:
            data[key] = str(value)
    form = form_class(data, case=case, user=user, **kw)
    if not form.is_valid():
        raise ValidationError(
            {name: [str(m) for m in errors] for name, errors in form.errors.items()}
        )
    return form.perform()


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=20000)


class NoteOut(Schema):
    id: int
    written_at: dt.datetime
    author: str


class ConferenceIn(Strict):
    held_on: dt.date
    organisations: list[int] = Field(min_length=1, max_length=50)
    participants: list[int] = Field(default_factory=list, max_length=100)
    decisions: str = Field(min_length=1, max_length=5000)


class ExternalIn(Strict):
    resource: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=5000)


class ExternalOutcomeIn(Strict):
    outcome: Literal["received", "refused", "dropped"]


class ExternalOut(Schema):
    id: int
    resource: str
    referred_on: dt.date
    outcome: str
    outcome_label: str


class TransferIn(Strict):
    kind: Literal["referral", "transfer"]
    to: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=5000)


class TransferDecisionOut(Schema):
    transfer: TransferOut
    case: int | None = Field(description="The receiving organisation's case, when accepted")


def _transfer_out(t: Transfer) -> dict[str, Any]:
    return {
        "id": t.pk,
        "kind": t.kind,
        "kind_label": str(t.get_kind_display()),
        "to": t.to_organisation.name,
        "status": t.status,
        "status_label": str(t.get_status_display()),
    }


@router.post("/cases/{case_id}/notes", response={201: NoteOut, **WRITE}, summary="Add a case note")
def note_create(request: HttpRequest, case_id: int, payload: NoteIn) -> Status[dict[str, Any]]:
    """Notes are encrypted and read only by those who work on the case."""
    case = _case(request, case_id, "api_case_edit")
    note = _through_form(request, forms.NoteForm, case, payload)
    return Status(201, {"id": note.pk, "written_at": note.written_at, "author": str(note.author)})


@router.post(
    "/cases/{case_id}/conferences",
    response={201: ConferenceOut, **WRITE},
    summary="Record a case conference",
)
def conference_create(
    request: HttpRequest, case_id: int, payload: ConferenceIn
) -> Status[dict[str, Any]]:
    """Participants are people on the case or who could join it (as on the page)."""
    case = _case(request, case_id, "api_case_edit")
    c = _through_form(request, forms.ConferenceForm, case, payload)
    return Status(
        201,
        {
            "id": c.pk,
            "held_on": c.held_on,
            "decisions": c.decisions,
            "organisations": [o.name for o in c.organisations.all()],
            "participants": [str(u) for u in c.participants.all()],
        },
    )


def _external_out(r: ExternalReferral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "resource": r.resource.name,
        "referred_on": r.referred_on,
        "outcome": r.outcome,
        "outcome_label": str(r.get_outcome_display()),
    }


@router.post(
    "/cases/{case_id}/referrals",
    response={201: ExternalOut, **WRITE},
    summary="Refer to a resource outside the system",
)
def external_create(
    request: HttpRequest, case_id: int, payload: ExternalIn
) -> Status[dict[str, Any]]:
    """A resource of the child's county (the resource directory)."""
    case = _case(request, case_id, "api_case_edit")
    return Status(
        201, _external_out(_through_form(request, forms.ExternalReferralForm, case, payload))
    )


@router.post(
    "/cases/{case_id}/referrals/{referral_id}/outcome",
    response={200: ExternalOut, **WRITE},
    summary="Record a referral's outcome",
)
def external_outcome(
    request: HttpRequest, case_id: int, referral_id: int, payload: ExternalOutcomeIn
) -> dict[str, Any]:
    case = _case(request, case_id, "api_case_edit")
    referral = (
        case.external_referrals.filter(pk=referral_id).first() if referral_id <= MAX_ID else None
    )
    if referral is None:
        raise Http404
    return _external_out(
        _through_form(request, forms.ExternalOutcomeForm, case, payload, referral=referral)
    )


@router.post(
    "/cases/{case_id}/transfers",
    response={201: TransferOut, **WRITE},
    summary="Refer or transfer to another organisation",
)
def transfer_create(
    request: HttpRequest, case_id: int, payload: TransferIn
) -> Status[dict[str, Any]]:
    """Sharing the child's file follows the one referral rule (the guardian's consent or a
    legal basis on record, the child's own request, an emergency): else 400 on `consent`."""
    case = _case(request, case_id, "api_case_edit")
    return Status(201, _transfer_out(_through_form(request, forms.TransferForm, case, payload)))


@router.get(
    "/transfers", response={200: list[TransferOut], **ERRORS}, summary="Transfers to decide"
)
def transfer_list(request: HttpRequest) -> list[dict[str, Any]]:
    user = current_user(request)
    return [_transfer_out(t) for t in selectors.transfers_waiting(user, purpose="api_transfers")]


@router.post(
    "/transfers/{transfer_id}/decision",
    response={200: TransferDecisionOut, **WRITE},
    summary="Accept or decline a referral or transfer",
)
def transfer_decision(
    request: HttpRequest, transfer_id: int, payload: DecisionIn
) -> dict[str, Any]:
    user = current_user(request)
    transfer = next(
        (
            t
            for t in selectors.transfers_waiting(user, purpose="api_transfers")
            if t.pk == transfer_id
        ),
        None,
    )
    if transfer is None:
        raise Http404
    case = referrals.transfer_decide(
        actor=user,
        transfer=transfer,
        accept=payload.accept,
        reason=payload.reason,
        lead=_user(payload.lead, "lead"),
    )
    transfer.refresh_from_db()
    return {"transfer": _transfer_out(transfer), "case": case.pk if case else None}
