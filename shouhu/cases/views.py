"""Case pages: the list, opening a case or referral, the case page with every action on it,
intakes and transfers to decide, and the coordination worklist. Thin views: services
decide, selectors read, the access module opens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu.accounts import access
from shouhu.accounts.models import Organisation, User
from shouhu.cases import selectors, services
from shouhu.cases.models import (
    Approval,
    CaseRole,
    CaseTask,
    Channel,
    ConsentBasis,
    Domain,
    ExternalReferral,
    Goal,
    GoalStatus,
    Intake,
    Outcome,
    Owner,
    PlanAction,
    ReferralOutcome,
    Resource,
    ServiceType,
    Stage,
    TaskKind,
    Transfer,
    TransferKind,
    Urgency,
)
from shouhu.children.services import ConflictError
from shouhu.lib import clock, typed_input
from shouhu.places.models import code_range

BOARD_ROWS = 50


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    for field, msgs in (
        exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    ).items():
        for message in msgs:
            messages.error(
                request, f"{field}: {message}" if field and field != "__all__" else message
            )


def _date(value: str | None) -> dt.date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _int(value: str | None) -> int:
    """A positive whole number from a form, else 0 (which matches no row)."""
    return int(value) if value and value.isdigit() and len(value) < 12 else 0


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    stage = request.GET.get("stage", "")
    rows = selectors.case_page(
        user,
        purpose="case_list",
        stage=stage if stage in Stage.values else "",
        open_only=request.GET.get("open") == "1",
    )
    return render(
        request,
        "cases/list.html",
        {"cases": [selectors.case_row(c) for c in rows], "stage": stage, "stages": Stage.choices},
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a case in the worker's organisation, or refer the child to another one."""
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="case_open")
    if not access.may_refer(user, child):
        raise PermissionDenied
    own = access.own_case_organisation(user)
    targets = Organisation.objects.filter(active=True, kind__in=list(access.CASE_ORG_KINDS))
    if request.method == "POST":
        org = targets.filter(pk=_int(request.POST.get("organisation"))).first()
        try:
            result = services.case_open(
                actor=user,
                child=child,
                channel=request.POST.get("channel", ""),
                reason=request.POST.get("reason", ""),
                urgency=request.POST.get("urgency", Urgency.NORMAL),
                consent=request.POST.get("consent", ConsentBasis.NONE),
                organisation=org,
                referrer_name=request.POST.get("referrer_name", ""),
            )
        except ValidationError as exc:
            _flash(request, exc)
        except ConflictError as exc:
            messages.error(request, str(exc))
        else:
            if isinstance(result, Intake):
                messages.success(request, _("The referral was sent; the organisation decides."))
                return redirect("children:detail", child.pk)
            return redirect("cases:detail", result.pk)
    return render(
        request,
        "cases/new.html",
        {
            "child": child,
            "own": own,
            "targets": targets.order_by("name")[:300],
            "channels": Channel.choices,
            "urgencies": Urgency.choices,
            "consents": ConsentBasis.choices,
            "posted": request.POST,
        },
    )


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, pk, purpose="case")
    view = selectors.present_case(user, case)
    pending = case.approvals.filter(decided_at__isnull=True).first()
    county = code_range(case.child.residence_id[:6])
    may_work = bool(view["may_work"])
    members = [m["user"] for m in view["members"]]
    candidates = (
        [u for u in services.member_candidates(case) if u.pk not in members][:300]
        if may_work and case.stage != Stage.CLOSED
        else []
    )
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "view": view,
            "next_stages": [
                (s, Stage(s).label) for s in sorted(services.NEXT.get(Stage(case.stage), set()))
            ]
            if case.stage != Stage.CLOSED
            else [],
            "pending": pending,
            "may_approve": pending is not None and user in access.approvers(case),
            "domains": Domain.choices,
            "owners": Owner.choices,
            "goal_statuses": GoalStatus.choices,
            "service_types": ServiceType.objects.filter(active=True),
            "task_kinds": TaskKind.choices,
            "outcomes": Outcome.choices,
            "transfer_kinds": TransferKind.choices,
            "organisations": Organisation.objects.filter(
                active=True, kind__in=list(access.CASE_ORG_KINDS)
            )
            .exclude(pk=case.organisation_id)
            .order_by("name")[:300],
            "resources": Resource.objects.filter(
                place_id__gte=county[0], place_id__lte=county[1]
            ).order_by("name")[:200],
            "referral_outcomes": ReferralOutcome.choices,
            "case_roles": CaseRole.choices,
            "candidates": candidates,
            "today": clock.today(),
        },
    )


@login_required
@require_POST
def case_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change to a case, chosen by `what`; the form carries the version it was read
    at, and a stale one is refused (nothing saved)."""
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, pk, purpose="case_edit")
    post = request.POST
    what = post.get("what", "")
    version = _int(post.get("version")) or 0
    try:
        _act(user, case, what, version, post)
    except ValidationError as exc:
        _flash(request, exc)
        typed_input.keep(request, page=reverse("cases:detail", args=[case.pk]))
    except ConflictError as exc:
        messages.error(request, str(exc))
        typed_input.keep(request, page=reverse("cases:detail", args=[case.pk]))
    return redirect("cases:detail", case.pk)


def _member(case: Any, value: str | None) -> User | None:
    """An action's assignee from the form (the service checks that they are on the case)."""
    if not value:
        return None
    found = User.objects.filter(pk=_int(value), is_active=True).first()
    if found is None:
        raise ValidationError({"assignee": [_("Choose a person from the list.")]})
    return found


def _participants(case: Any, values: list[str]) -> list[User]:
    """Conference participants: people on the case or who could join it."""
    wanted = {_int(v) for v in values} - {0}
    on_case = set(case.members.filter(active=True).values_list("user_id", flat=True))
    people = [u for u in services.member_candidates(case) if u.pk in wanted]
    people += list(User.objects.filter(pk__in=(wanted & on_case), is_active=True))
    return list({u.pk: u for u in people}.values())


def _organisation(value: str | None, field: str) -> Organisation | None:
    if not value:
        return None
    found = Organisation.objects.filter(pk=_int(value), active=True).first()
    if found is None:
        raise ValidationError({field: [_("Choose an organisation.")]})
    return found


def _act(user: User, case: Any, what: str, version: int, post: Any) -> None:
    if what == "move":
        services.transition(
            actor=user, case=case, to=post.get("to", ""), version=version, note=post.get("note", "")
        )
    elif what == "close":
        services.close(
            actor=user,
            case=case,
            version=version,
            outcome=post.get("outcome", ""),
            reason=post.get("reason", ""),
        )
    elif what == "reopen":
        services.reopen(actor=user, case=case, version=version, reason=post.get("reason", ""))
    elif what == "approve":
        approval = Approval.objects.filter(case=case, pk=_int(post.get("approval"))).first()
        if approval is None:
            raise Http404
        services.approval_decide(
            actor=user,
            approval=approval,
            approve=post.get("approve") == "1",
            note=post.get("note", ""),
        )
    elif what == "goal":
        services.goal_add(
            actor=user,
            case=case,
            version=version,
            domain=post.get("domain", ""),
            description=post.get("description", ""),
            strengths=post.get("strengths", ""),
        )
    elif what == "goal_status":
        goal = Goal.objects.filter(case=case, pk=_int(post.get("goal"))).first()
        if goal is None:
            raise Http404
        services.goal_update(
            actor=user,
            goal=goal,
            version=version,
            status=post.get("status"),
            review_note=post.get("review_note"),
        )
    elif what == "action":
        goal = Goal.objects.filter(case=case, pk=_int(post.get("goal"))).first()
        if goal is None:
            raise Http404
        services.action_add(
            actor=user,
            goal=goal,
            version=version,
            description=post.get("description", ""),
            owner=post.get("owner", ""),
            due_on=_date(post.get("due_on")),
            assignee=_member(case, post.get("assignee")),
            organisation=_organisation(post.get("organisation"), "organisation"),
        )
    elif what == "action_status":
        action = PlanAction.objects.filter(goal__case=case, pk=_int(post.get("action"))).first()
        if action is None:
            raise Http404
        services.action_update(
            actor=user, action=action, version=version, status=post.get("status", "")
        )
    elif what == "service":
        delivered = _date(post.get("delivered_on"))
        if delivered is None:
            raise ValidationError({"delivered_on": [_("Give the date.")]})
        services.service_record(
            actor=user,
            case=case,
            service_type=post.get("service_type", ""),
            delivered_on=delivered,
            minutes=_int(post.get("minutes")) or 0,
            participants=_int(post.get("participants")) or 1,
            provider=_organisation(post.get("provider"), "provider"),
            note=post.get("note", ""),
        )
    elif what == "task":
        due = _date(post.get("due_on"))
        if due is None:
            raise ValidationError({"due_on": [_("Give the date.")]})
        services.task_add(
            actor=user,
            case=case,
            kind=post.get("kind", ""),
            title=post.get("title", ""),
            due_on=due,
            recurring=post.get("recurring") == "1",
        )
    elif what == "member":
        wanted = _int(post.get("user"))
        person = next((u for u in services.member_candidates(case) if u.pk == wanted), None)
        if person is None:
            raise ValidationError({"user": [_("Choose a person from the list.")]})
        services.member_add(actor=user, case=case, user=person, role=post.get("role", ""))
    elif what == "member_remove":
        person = User.objects.filter(pk=_int(post.get("user"))).first()
        if person is None:
            raise Http404
        services.member_remove(actor=user, case=case, user=person)
    elif what == "review":
        reviews = [
            services.GoalReview(
                goal=goal_id,
                status=post.get(f"status-{goal_id}", ""),
                note=post.get(f"review_note-{goal_id}", ""),
            )
            for goal_id in (_int(v) for v in post.getlist("goal"))
            if goal_id
        ]
        services.review_record(actor=user, case=case, version=version, reviews=reviews)
    elif what == "task_done":
        task = CaseTask.objects.filter(case=case, pk=_int(post.get("task"))).first()
        if task is None:
            raise Http404
        services.task_done(actor=user, task=task, note=post.get("note", ""))
    elif what == "note":
        services.note_add(actor=user, case=case, text=post.get("text", ""))
    elif what == "conference":
        held = _date(post.get("held_on"))
        if held is None:
            raise ValidationError({"held_on": [_("Give the date.")]})
        ids = [i for i in (_int(v) for v in post.getlist("organisations")) if i]
        services.conference_add(
            actor=user,
            case=case,
            held_on=held,
            organisations=list(Organisation.objects.filter(pk__in=ids)),
            decisions=post.get("decisions", ""),
            participants=_participants(case, post.getlist("participants")),
        )
    elif what == "external":
        resource = Resource.objects.filter(pk=_int(post.get("resource"))).first()
        if resource is None:
            raise ValidationError({"resource": [_("Choose a resource.")]})
        services.external_referral(
            actor=user,
            case=case,
            resource=resource,
            reason=post.get("reason", ""),
            referred_on=clock.today(),
        )
    elif what == "external_outcome":
        referral = ExternalReferral.objects.filter(case=case, pk=_int(post.get("referral"))).first()
        if referral is None:
            raise Http404
        services.external_outcome(
            actor=user, referral=referral, outcome=post.get("outcome", ""), on=clock.today()
        )
    elif what == "transfer":
        to = Organisation.objects.filter(pk=_int(post.get("to")), active=True).first()
        if to is None:
            raise ValidationError({"to": [_("Choose an organisation.")]})
        services.transfer_request(
            actor=user, case=case, to=to, kind=post.get("kind", ""), reason=post.get("reason", "")
        )
    else:
        raise ValidationError(_("Unknown action."))


@login_required
@require_http_methods(["GET", "POST"])
def intakes(request: HttpRequest) -> HttpResponse:
    """Referrals and transfers waiting for the user's organisation (or township)."""
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        accept = request.POST.get("accept") == "1"
        reason = request.POST.get("reason", "")
        try:
            if request.POST.get("transfer"):
                transfer = Transfer.objects.filter(
                    pk=_int(request.POST.get("transfer")),
                    to_organisation_id__in=access.case_organisations(user),
                ).first()
                if transfer is None:
                    raise Http404
                case = services.transfer_decide(
                    actor=user,
                    transfer=transfer,
                    accept=accept,
                    reason=reason,
                    lead=_lead(request, transfer.to_organisation) if accept else None,
                )
            else:
                intake = (
                    selectors.intakes_for(user).filter(pk=_int(request.POST.get("intake"))).first()
                )
                if intake is None:
                    raise Http404
                case = services.intake_decide(
                    actor=user,
                    intake=intake,
                    accept=accept,
                    reason=reason,
                    lead=_lead(request, intake.organisation) if accept else None,
                )
        except ValidationError as exc:
            _flash(request, exc)
        except ConflictError as exc:
            messages.error(request, str(exc))
        else:
            if case is not None:
                return redirect("cases:detail", case.pk)
            messages.success(request, _("Declined."))
        return redirect("cases:intakes")
    pending = selectors.intake_page(user, purpose="intakes", pending_only=True)
    transfers = selectors.transfers_waiting(user, purpose="transfers")
    leads: dict[int, list[User]] = {}
    for org in [i.organisation for i in pending] + [t.to_organisation for t in transfers]:
        if org.pk not in leads:
            leads[org.pk] = services.lead_candidates(org)
    rows = []
    for intake in pending:
        row = selectors.intake_row(intake)
        row["may_decide"] = access.may_decide_intake(user, intake)
        row["leads"] = leads[intake.organisation_id]
        row["default_lead"] = user.pk if access.works_in(user, intake.organisation) else None
        rows.append(row)
    return render(
        request,
        "cases/intakes.html",
        {
            "intakes": rows,
            "transfers": [(t, leads[t.to_organisation_id]) for t in transfers],
            "me": user.pk,
        },
    )


def _lead(request: HttpRequest, organisation: Organisation) -> User | None:
    """The lead worker chosen on the form (none: the decider, when they may lead)."""
    wanted = _int(request.POST.get("lead"))
    if not wanted:
        return None
    found = next((u for u in services.lead_candidates(organisation) if u.pk == wanted), None)
    if found is None:
        raise ValidationError(
            {"lead": [_("The lead worker must be a social worker or counsellor there.")]}
        )
    return found


@login_required
@require_GET
def coordination(request: HttpRequest) -> HttpResponse:
    """The first `BOARD_ROWS` of each list (the API gives up to 200): a page to act on, not
    to scroll."""
    user: User = request.user  # type: ignore[assignment]
    board = selectors.coordination(user, limit=BOARD_ROWS)
    return render(request, "cases/coordination.html", {"board": board, "rows": BOARD_ROWS})
