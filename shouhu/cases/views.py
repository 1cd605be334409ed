"""Case pages: the list, opening a case or referral, the case page with every action on it,
intakes and transfers to decide, and the coordination worklist. Thin views: services
decide, selectors read, the access module opens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_GET, require_http_methods

from shouhu import access
from shouhu.accounts.models import User
from shouhu.cases import forms, referrals, selectors, stages
from shouhu.cases import intakes as case_intakes
from shouhu.cases.models import (
    Case,
    Intake,
    PlanAction,
    Stage,
    Transfer,
)
from shouhu.children import consents
from shouhu.children.data import ConflictError
from shouhu.lib import clock, typed_input
from shouhu.lib.formerrors import error_summary, refuse

BOARD_ROWS = 50


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
    form = forms.CaseOpenForm(request.POST or None, user=user, child=child)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = form.perform()
            except ValidationError as exc:
                refuse(form, exc)
            except ConflictError as exc:
                form.add_error(None, str(exc))
            else:
                if isinstance(result, Intake):
                    messages.success(
                        request, _("Saved: the referral was sent; the organisation decides.")
                    )
                    return redirect("children:detail", child.pk)
                messages.success(request, _("Saved: the case is open."))
                return redirect("cases:detail", result.pk)
        status = 400
    return render(
        request,
        "cases/new.html",
        {
            "child": child,
            "form": form,
            "sharing": consents.sharing_status(child),
            "sensitive": access.SENSITIVE in access.field_classes(user, child),
            "may_record_consent": access.may_record_consent(user, child),
            "error_summary": error_summary(form),
        },
        status=status,
    )


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, pk, purpose="case")
    return _detail(request, user, case)


def _detail(
    request: HttpRequest,
    user: User,
    case: Case,
    bound: forms.CaseActionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The case page with a form for every action the person may take; `bound` is the
    form that was just refused, shown with its errors in its place and in the summary."""
    view = selectors.present_case(user, case)
    pending = case.approvals.filter(decided_at__isnull=True).first()
    may_work = bool(view["may_work"])
    open_case = case.stage != Stage.CLOSED

    def form(cls: type[forms.CaseActionForm], **kwargs: Any) -> forms.CaseActionForm:
        made = cls(case=case, user=user, **kwargs)
        if bound is not None and bound.prefix == made.prefix:
            return bound
        return made

    page: dict[str, Any] = {}
    if may_work:
        goals = {g.pk: g for g in case.goals.all()}
        actions = {
            a.pk: a for a in PlanAction.objects.filter(goal__case=case, status__in=OPEN_ACTION)
        }
        choices = forms.PlanChoices.of(case) if open_case and goals else None
        for g in view["goals"]:
            if open_case:
                g["form"] = form(forms.PlanActionForm, goal=goals[g["id"]], choices=choices)
            for a in g["actions"]:
                if a["id"] in actions:
                    a["form"] = form(forms.ActionDoneForm, plan_action=actions[a["id"]])
        tasks = {t.pk: t for t in case.tasks.filter(status="open")}
        for t in view["tasks"]:
            if t["id"] in tasks:
                t["form"] = form(forms.TaskDoneForm, task=tasks[t["id"]])
        referrals = {r.pk: r for r in case.external_referrals.filter(outcome="pending")}
        for r in view["external_referrals"]:
            if r["id"] in referrals:
                r["form"] = form(forms.ExternalOutcomeForm, referral=referrals[r["id"]])
        people = {u.pk: u for u in User.objects.filter(pk__in=[m["user"] for m in view["members"]])}
        for m in view["members"]:
            if open_case and m["user"] != case.lead_id:
                m["form"] = form(forms.MemberRemoveForm, person=people[m["user"]])
        if open_case:
            page = {
                "close": form(forms.CloseForm),
                "service": form(forms.ServiceForm),
                "task": form(forms.TaskForm),
                "conference": form(forms.ConferenceForm),
                "transfer": form(forms.TransferForm),
                "member": form(forms.MemberForm),
            }
            external = form(forms.ExternalReferralForm)
            if external.fields["resource"].queryset.exists():  # type: ignore[attr-defined]
                page["external"] = external
            if case.stage == Stage.REVIEW and goals:
                page["review"] = form(forms.ReviewForm)
            if case.stage != Stage.INTAKE:
                page["goal"] = form(forms.GoalForm)
            page["moves"] = [
                (s, Stage(s).label) for s in sorted(stages.NEXT.get(Stage(case.stage), set()))
            ]
            page["move"] = form(forms.MoveForm)
        else:
            page["reopen"] = form(forms.ReopenForm)
        if "notes" in view:
            page["note"] = form(forms.NoteForm)
    may_approve = pending is not None and user in access.approvers(case)
    if may_approve:
        page["approval"] = form(forms.ApprovalForm)
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "view": view,
            "forms": page,
            "pending": pending,
            "may_approve": may_approve,
            "today": clock.today(),
            "error_summary": error_summary(bound) if bound is not None else [],
        },
        status=status,
    )


OPEN_ACTION = ("todo", "doing")


class CaseAction(View):
    """One action on a case: the form validates what was typed, the service decides. A
    refusal shows the case page again with the errors next to their fields and listed at
    the top (400); a stale version (someone saved in between) goes back to the page with
    what was typed kept; a save says what was saved."""

    http_method_names = ["post"]
    form_class: type[forms.CaseActionForm]

    def make_form(
        self, data: Any, case: Case, user: User, /, **kwargs: Any
    ) -> forms.CaseActionForm:
        return self.form_class(data, case=case, user=user)

    def post(self, request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        case = access.get_case_for_user(user, pk, purpose="case_edit")
        form = self.make_form(request.POST, case, user, **kwargs)
        if form.is_valid():
            try:
                form.perform()
            except ValidationError as exc:
                form.refuse(exc)
            except ConflictError as exc:
                messages.error(request, str(exc))
                typed_input.keep(request, page=reverse("cases:detail", args=[case.pk]))
                return redirect("cases:detail", case.pk)
            else:
                messages.success(request, str(form.success))
                return redirect("cases:detail", case.pk)
        case.refresh_from_db()
        return _detail(request, user, case, bound=form, status=400)


def _action(form_class: type[forms.CaseActionForm], **lookups: Any) -> Any:
    """The view of one action; `lookups` maps an address part to the object of the case it
    names (a goal, a task...), found within the case or 404."""

    class View_(CaseAction):
        def make_form(
            self, data: Any, case: Case, user: User, /, **kwargs: Any
        ) -> forms.CaseActionForm:
            found = {
                name: get_object_or_404(finder(case), pk=kwargs[part])
                for part, (name, finder) in lookups.items()
            }
            return form_class(data, case=case, user=user, **found)

    View_.form_class = form_class
    View_.__name__ = View_.__qualname__ = f"{form_class.__name__.removesuffix('Form')}View"
    return login_required(View_.as_view())


move = _action(forms.MoveForm)
close = _action(forms.CloseForm)
reopen = _action(forms.ReopenForm)
approval = _action(forms.ApprovalForm)
goal_add = _action(forms.GoalForm)
action_add = _action(forms.PlanActionForm, goal=("goal", lambda case: case.goals.all()))
action_done = _action(
    forms.ActionDoneForm,
    action=("plan_action", lambda case: PlanAction.objects.filter(goal__case=case)),
)
review = _action(forms.ReviewForm)
service_add = _action(forms.ServiceForm)
task_add = _action(forms.TaskForm)
task_done = _action(forms.TaskDoneForm, task=("task", lambda case: case.tasks.all()))
note_add = _action(forms.NoteForm)
member_add = _action(forms.MemberForm)
member_remove = _action(
    forms.MemberRemoveForm,
    person=("person", lambda case: User.objects.filter(pk__in=case.members.values("user_id"))),
)
conference_add = _action(forms.ConferenceForm)
external_add = _action(forms.ExternalReferralForm)
external_outcome = _action(
    forms.ExternalOutcomeForm,
    referral=("referral", lambda case: case.external_referrals.all()),
)
transfer_add = _action(forms.TransferForm)


@login_required
@require_http_methods(["GET", "POST"])
def intakes(request: HttpRequest) -> HttpResponse:
    """Referrals and transfers waiting for the user's organisation (or township)."""
    user: User = request.user  # type: ignore[assignment]
    pending = selectors.intake_page(user, purpose="intakes", pending_only=True)
    transfers = selectors.transfers_waiting(user, purpose="transfers")
    leads: dict[int, list[User]] = {}
    for org in [i.organisation for i in pending] + [t.to_organisation for t in transfers]:
        if org.pk not in leads:
            leads[org.pk] = selectors.lead_candidates(org)
    bound: forms.DecisionForm | None = None
    if request.method == "POST":
        decided = _decide(request, user, pending, transfers, leads)
        if isinstance(decided, HttpResponse):
            return decided
        bound = decided
    rows = []
    for intake in pending:
        row = selectors.intake_row(intake)
        row["may_decide"] = access.may_decide_intake(user, intake)
        prefix = f"intake-{intake.pk}"
        row["form"] = (
            bound
            if bound is not None and bound.prefix == prefix
            else forms.DecisionForm(
                leads=leads[intake.organisation_id],
                prefix=prefix,
                default=user if access.works_in(user, intake.organisation) else None,
            )
        )
        rows.append(row)
    transfer_rows = []
    for transfer in transfers:
        prefix = f"transfer-{transfer.pk}"
        form = (
            bound
            if bound is not None and bound.prefix == prefix
            else forms.DecisionForm(
                leads=leads[transfer.to_organisation_id], prefix=prefix, default=user
            )
        )
        transfer_rows.append((transfer, form))
    return render(
        request,
        "cases/intakes.html",
        {
            "intakes": rows,
            "transfers": transfer_rows,
            "error_summary": error_summary(bound) if bound is not None else [],
        },
        status=400 if bound is not None else 200,
    )


def _decide(
    request: HttpRequest,
    user: User,
    pending: list[Intake],
    transfers: list[Transfer],
    leads: dict[int, list[User]],
) -> HttpResponse | forms.DecisionForm:
    """Decide the referral or transfer the posted form names (by its prefix): the page to
    go to, or the form with its errors."""
    by_prefix: dict[str, Intake | Transfer] = {f"intake-{i.pk}": i for i in pending}
    by_prefix.update({f"transfer-{t.pk}": t for t in transfers})
    prefix = next((p for p in by_prefix if f"{p}-accept" in request.POST), None)
    if prefix is None:
        raise Http404
    item = by_prefix[prefix]
    org = item.organisation if isinstance(item, Intake) else item.to_organisation
    form = forms.DecisionForm(request.POST, leads=leads[org.pk], prefix=prefix)
    if not form.is_valid():
        return form
    accept = form.cleaned_data["accept"]
    try:
        if isinstance(item, Intake):
            case = case_intakes.intake_decide(
                actor=user,
                intake=item,
                accept=accept,
                reason=form.cleaned_data["reason"],
                lead=form.chosen_lead() if accept else None,
            )
        else:
            case = referrals.transfer_decide(
                actor=user,
                transfer=item,
                accept=accept,
                reason=form.cleaned_data["reason"],
                lead=form.chosen_lead() if accept else None,
            )
    except ValidationError as exc:
        refuse(form, exc)
        return form
    except ConflictError as exc:
        form.add_error(None, str(exc))
        return form
    if case is not None:
        messages.success(request, _("Saved: the case is open."))
        return redirect("cases:detail", case.pk)
    messages.success(request, _("Saved: declined."))
    return redirect("cases:intakes")


@login_required
@require_GET
def decisions(request: HttpRequest) -> HttpResponse:
    """A supervisor's (or approver's) queue: every decision waiting for them, oldest first."""
    user: User = request.user  # type: ignore[assignment]
    rows = selectors.decisions_waiting(user, purpose="decisions")
    return render(request, "cases/decisions.html", {"rows": rows})


@login_required
@require_GET
def coordination(request: HttpRequest) -> HttpResponse:
    """The first `BOARD_ROWS` of each list (the API gives up to 200): a page to act on, not
    to scroll."""
    user: User = request.user  # type: ignore[assignment]
    board = selectors.coordination(user, limit=BOARD_ROWS)
    return render(request, "cases/coordination.html", {"board": board, "rows": BOARD_ROWS})
