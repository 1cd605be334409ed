"""Cases, their stages, plans, services and follow-ups over the API (the same services and
access rules as the web pages; a stale `version` is 409)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Status

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.api.auth import current_user
from shouhu.api.schemas import MAX_ID, Clean, Error, Strict
from shouhu.cases import selectors, services
from shouhu.cases.models import Approval, CaseTask, Goal, Intake, PlanAction
from shouhu.lib import clock

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


class MemberIn(Strict):
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


class CaseQuery(Clean):
    stage: Literal["intake", "assessment", "plan", "services", "review", "closed"] | None = None
    child: int | None = Field(None, ge=1, le=MAX_ID)
    open: bool = False
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_ID)


def _case(request: HttpRequest, case_id: int, purpose: str) -> Any:
    if not 0 < case_id <= MAX_ID:
        raise Http404
    return access.get_case_for_user(current_user(request), case_id, purpose=purpose)


def _user(pk: int | None, field: str = "assignee") -> User | None:
    if pk is None:
        return None
    found = User.objects.filter(pk=pk, is_active=True).first()
    if found is None:
        from django.core.exceptions import ValidationError

        raise ValidationError({field: ["No such user."]})
    return found


def _org(pk: int | None, field: str) -> Organisation | None:
    if pk is None:
        return None
    found = Organisation.objects.filter(pk=pk, active=True).first()
    if found is None:
        from django.core.exceptions import ValidationError

        raise ValidationError({field: ["No such organisation."]})
    return found


@router.post(
    "/cases", response={201: dict[str, Any], 202: dict[str, Any], **WRITE}, summary="Open a case"
)
def case_create(request: HttpRequest, payload: CaseIn) -> Status[dict[str, Any]]:
    """Open a case for a child in your organisation (201, the case). Naming another
    `organisation` refers the child to it instead (202, the pending intake). A second open
    case for the same child and organisation is 409."""
    user = current_user(request)
    child = access.get_child_for_user(user, payload.child, purpose="api_case_open")
    result = services.case_open(
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


@router.get("/cases", response={200: dict[str, Any], **ERRORS}, summary="Cases")
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


@router.get("/cases/{case_id}", response={200: dict[str, Any], **ERRORS}, summary="A case")
def case_detail(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """The case; notes only for those who work on it. Another organisation's case is 404
    unless it was referred to yours."""
    return selectors.present_case(current_user(request), _case(request, case_id, "api_case"))


@router.post(
    "/cases/{case_id}/transitions", response={200: dict[str, Any], **WRITE}, summary="Move a stage"
)
def case_transition(request: HttpRequest, case_id: int, payload: TransitionIn) -> dict[str, Any]:
    """Move to the next stage (`to`), or close (`to: closed` with `outcome` and `reason`).
    Plans and closures wait for the approver when the organisation asks for approval."""
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    if payload.to == "closed":
        case = services.close(
            actor=user,
            case=case,
            version=payload.version,
            outcome=payload.outcome,
            reason=payload.reason,
        )
    else:
        case = services.transition(
            actor=user, case=case, to=payload.to, version=payload.version, note=payload.note
        )
    return selectors.present_case(user, case)


@router.post("/cases/{case_id}/reopen", response={200: dict[str, Any], **WRITE}, summary="Reopen")
def case_reopen(request: HttpRequest, case_id: int, payload: ReopenIn) -> dict[str, Any]:
    user = current_user(request)
    case = services.reopen(
        actor=user,
        case=_case(request, case_id, "api_case_edit"),
        version=payload.version,
        reason=payload.reason,
    )
    return selectors.present_case(user, case)


@router.post(
    "/cases/{case_id}/goals", response={201: dict[str, Any], **WRITE}, summary="Add a goal"
)
def goal_create(request: HttpRequest, case_id: int, payload: GoalIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    services.goal_add(
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
    response={201: dict[str, Any], **WRITE},
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
    services.action_add(
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
    response={200: dict[str, Any], **WRITE},
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
    services.goal_update(
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
    "/cases/{case_id}/review", response={200: dict[str, Any], **WRITE}, summary="Record a review"
)
def review_create(request: HttpRequest, case_id: int, payload: ReviewIn) -> dict[str, Any]:
    """At the review stage: each goal's status and what was seen, saved together."""
    user = current_user(request)
    case = services.review_record(
        actor=user,
        case=_case(request, case_id, "api_case_edit"),
        version=payload.version,
        reviews=[
            services.GoalReview(goal=g.goal, status=g.status, note=g.note) for g in payload.goals
        ],
    )
    return selectors.present_case(user, case)


@router.post(
    "/cases/{case_id}/approvals/{approval_id}/decision",
    response={200: dict[str, Any], **WRITE},
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
    case = services.approval_decide(
        actor=user, approval=approval, approve=payload.approve, note=payload.note
    )
    return selectors.present_case(user, case)


@router.post(
    "/cases/{case_id}/members",
    response={201: dict[str, Any], **WRITE},
    summary="Add a worker or volunteer",
)
def member_create(request: HttpRequest, case_id: int, payload: MemberIn) -> Status[dict[str, Any]]:
    """Add a worker or volunteer with their role (people serving the child's area)."""
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    person = _user(payload.user, "user")
    assert person is not None
    services.member_add(actor=user, case=case, user=person, role=payload.role)
    return Status(201, selectors.present_case(user, case))


@router.delete(
    "/cases/{case_id}/members/{user_id}",
    response={200: dict[str, Any], **WRITE},
    summary="Take someone off the case",
)
def member_delete(request: HttpRequest, case_id: int, user_id: int) -> dict[str, Any]:
    """The person stays in the record as a former member; the lead cannot be removed."""
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    person = User.objects.filter(pk=user_id).first() if 0 < user_id <= MAX_ID else None
    if person is None:
        raise Http404
    services.member_remove(actor=user, case=case, user=person)
    return selectors.present_case(user, case)


@router.patch(
    "/cases/{case_id}/actions/{action_id}",
    response={200: dict[str, Any], **WRITE},
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
    services.action_update(
        actor=user, action=action, version=payload.version, status=payload.status
    )
    case.refresh_from_db()
    return selectors.present_case(user, case)


@router.post(
    "/cases/{case_id}/services", response={201: dict[str, Any], **WRITE}, summary="Record a service"
)
def service_create(
    request: HttpRequest, case_id: int, payload: ServiceIn
) -> Status[dict[str, Any]]:
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    record = services.service_record(
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


@router.post(
    "/cases/{case_id}/tasks", response={201: dict[str, Any], **WRITE}, summary="Add a follow-up"
)
def task_create(request: HttpRequest, case_id: int, payload: TaskIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    case = _case(request, case_id, "api_case_edit")
    task = services.task_add(
        actor=user,
        case=case,
        kind=payload.kind,
        title=payload.title,
        due_on=payload.due_on,
        assignee=_user(payload.assignee),
        recurring=payload.recurring,
    )
    return Status(201, selectors.task_row(task, clock.today()))


@router.get("/tasks", response={200: dict[str, Any], **ERRORS}, summary="Your follow-ups")
def task_list(request: HttpRequest, query: Query[TaskQuery]) -> dict[str, Any]:
    """Your follow-ups (supervisors and officials: also those of their area), `open` by
    default, or `overdue`, `due` (within a week), `done`."""
    user = current_user(request)
    today = clock.today()
    rows = selectors.task_page(
        user, purpose="api_task_list", status=query.status, today=today, limit=500
    )
    return {"items": [selectors.task_row(t, today) for t in rows]}


@router.post("/tasks/{task_id}/done", response={200: dict[str, Any], **WRITE}, summary="Done")
def task_done(request: HttpRequest, task_id: int, payload: TaskDoneIn) -> dict[str, Any]:
    """Mark a follow-up done; a recurring visit or call returns the next one."""
    user = current_user(request)
    task = (
        selectors.tasks_for(user, status="open").filter(pk=task_id).first()
        if 0 < task_id <= MAX_ID
        else None
    )
    if task is None:
        raise Http404
    following = services.task_done(actor=user, task=task, note=payload.note)
    today = clock.today()
    task = CaseTask.objects.select_related("case__child", "assignee").get(pk=task.pk)
    return {
        "task": selectors.task_row(task, today),
        "next": selectors.task_row(following, today) if following else None,
    }


@router.get("/intakes", response={200: dict[str, Any], **ERRORS}, summary="Intakes to decide")
def intake_list(request: HttpRequest) -> dict[str, Any]:
    user = current_user(request)
    rows = selectors.intake_page(user, purpose="api_intake_list")
    return {"items": [selectors.intake_row(i) for i in rows]}


@router.post(
    "/intakes/{intake_id}/decision",
    response={200: dict[str, Any], **WRITE},
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
    case = services.intake_decide(
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


@router.get("/coordination", response={200: dict[str, Any], **ERRORS}, summary="Coordination")
def coordination(request: HttpRequest) -> dict[str, Any]:
    """Gaps, duplicated services, overdue follow-ups and caseloads in your jurisdiction
    (supervisors and officials)."""
    return selectors.coordination(current_user(request))
