"""Screening pages: a child's results and trend, the questionnaire form, one result, and the
safeguarding alerts. Thin views over `services`, `selectors` and `safeguarding`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.services import log_children_read
from shouhu.lib import clock
from shouhu.lib.formerrors import error_summary, refuse
from shouhu.lib.instruments import Instrument
from shouhu.screening import (
    handback,
    registry,
    reporting,
    safeguarding,
    selectors,
    services,
)
from shouhu.screening.forms import GroupForm, ReportCompleteForm, ReportForm
from shouhu.screening.models import Alert, AlertStatus, Mode, Respondent
from shouhu.tasks import selectors as task_selectors
from shouhu.tasks.models import Task, TaskKind


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-Hans"


@login_required
@require_GET
def child_screenings(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="screenings")
    levels, rows = selectors.child_administrations(user, child, language=_language())
    if all(level == access.RESULTS_NONE for level in levels.values()):
        raise PermissionDenied(_("You may not see screening results."))
    charts = selectors.trend_charts(rows)
    today = clock.today()
    drafts = {d.instrument: d for d in selectors.drafts_of(user, child)}
    available = [
        {"code": inst.code, "name": inst.name.text(_language()), "draft": drafts.get(inst.code)}
        for inst in registry.enabled()
        if access.can_administer(user, child, kind=inst.kind)
        and not services.age_refusal(inst, child, today)
    ]
    return render(
        request,
        "screening/child.html",
        {"child": child, "rows": rows, "charts": charts, "available": available},
    )


class QuestionnaireForm(forms.Form):
    """The answers to one instrument: a choice per question asked in this mode. Every
    question may be left blank here (a draft keeps what there is); the service refuses a
    submission with a question unanswered and says which."""

    save_draft = forms.BooleanField(required=False)
    respondent = forms.ChoiceField(choices=Respondent.choices, required=False)

    def __init__(self, *args: Any, inst: Instrument, mode: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inst = inst
        for item in asked(inst, mode):
            self.fields[f"item-{item.id}"] = forms.TypedChoiceField(
                choices=[(str(o.value), str(o.value)) for o in item.options],
                coerce=int,
                required=False,
                empty_value=None,
                error_messages={"invalid_choice": gettext_lazy("Choose one of the answers.")},
            )

    def answers(self) -> dict[str, int]:
        return {
            name.removeprefix("item-"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("item-") and value is not None
        }

    def item_errors(self) -> dict[str, list[str]]:
        """Form and service errors by item id ("" for the rest)."""
        out: dict[str, list[str]] = {}
        for name, errors in self.errors.items():
            if name.startswith("item-"):
                key = name.removeprefix("item-")
            elif name.startswith("answers."):
                key = name.removeprefix("answers.")
            else:
                key = ""
            out.setdefault(key, []).extend(str(e) for e in errors)
        return out

    def add_service_errors(self, exc: ValidationError) -> None:
        for name, messages_ in (exc.message_dict if hasattr(exc, "error_dict") else {}).items():
            for message in messages_:
                self.errors.setdefault(name, self.error_class()).append(message)
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)


def asked(inst: Instrument, mode: str) -> list[Any]:
    """The questions asked in this mode (e.g. PHQ-A's suicide questions in an interview only)."""
    return [item for item in inst.items if not item.modes or mode in item.modes]


def _form_items(
    inst: Instrument, language: str, answers: dict[str, str], mode: str, errors: dict[str, Any]
) -> list[dict[str, Any]]:
    out = []
    for item in asked(inst, mode):
        out.append(
            {
                "item": item,
                "text": item.text.get(language) or item.text.get("en") or f"{item.number}",
                "options": [
                    {"value": o.value, "label": o.label.get(language) or o.label.get("en", "")}
                    for o in item.options
                ],
                "answer": answers.get(item.id, ""),
                "show_if": item.show_if,
                "errors": errors.get(item.id, []),
            }
        )
    return out


def _instrument_or_404(code: str) -> Instrument:
    try:
        return registry.get(code)
    except ValidationError:
        raise Http404(_("There is no such questionnaire.")) from None


def _self_report(inst: Instrument, mode: str, respondent: str = "") -> bool:
    return (respondent or inst.respondent) == Respondent.CHILD and mode == Mode.SELF_REPORT


@login_required
@require_http_methods(["GET", "POST"])
def screening_new(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="administer")
    params = request.POST if request.method == "POST" else request.GET
    inst = _instrument_or_404(params.get("instrument") or request.GET.get("instrument", ""))
    if not access.can_administer(user, child, kind=inst.kind):
        raise PermissionDenied(_("You may not give this child this instrument."))
    back = reverse("screening:child", args=[child.pk])
    refused = services.age_refusal(inst, child, clock.today())
    if refused:
        messages.error(request, refused)
        return redirect(back)
    group = None
    group_id = params.get("group") or ""
    if group_id:
        group = access.get_group_for_user(user, group_id, purpose="administer")
        if group.instrument != inst.code or not group.children.filter(pk=child.pk).exists():
            raise PermissionDenied(_("This child is not in this group screening."))
    language = params.get("language") or _language()
    if language not in services.LANGUAGES or not inst.has_text(language):
        language = "zh-Hans" if inst.has_text("zh-Hans") else "en"
    mode = params.get("mode") or inst.modes[0]
    if mode not in inst.modes:
        mode = inst.modes[0]
    after = reverse("screening:group", args=[group.pk]) if group is not None else back
    self_report = _self_report(inst, mode)
    draft = services.draft_of(actor=user, child=child, instrument=inst.code)
    form = QuestionnaireForm(request.POST or None, inst=inst, mode=mode)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["save_draft"]:
                kept = services.draft_save(
                    actor=user,
                    child=child,
                    instrument=inst.code,
                    answers=form.answers(),
                    mode=mode,
                    language=language,
                    group=group,
                )
            else:
                administration = services.administer(
                    actor=user,
                    child=child,
                    instrument=inst.code,
                    answers=form.answers(),
                    mode=mode,
                    respondent=form.cleaned_data["respondent"] or None,
                    language=language,
                    group=group,
                )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            drafted = bool(form.cleaned_data["save_draft"])
            if drafted:
                messages.success(request, DRAFT_KEPT)
                alert = services.draft_calls_for_action(kept)
            else:
                alert = administration.action in {"imminent", "alert", "mandatory_report"}
                if group is None:
                    after = reverse("screening:detail", args=[administration.pk])
            if _self_report(inst, mode, form.cleaned_data["respondent"]):
                # The child answered on this device: nothing more until the worker has the
                # phone back.
                handback.lock(request, next_url=after, alert=alert)
                return redirect("screening:handback")
            if alert:
                messages.warning(request, DRAFT_NEEDS_ACTION if drafted else ALERT_RAISED)
            return redirect(after)
    if request.method == "GET" and self_report:
        # From here the child holds the device: only this questionnaire and the hand-back.
        handback.start(request, form_url=request.get_full_path(), next_url=after)
    if request.method == "POST":
        typed = {
            name.removeprefix("item-"): str(form.data.get(name, ""))
            for name in form.fields
            if name.startswith("item-")
        }
    else:
        typed = {k: str(v) for k, v in (services.draft_answers(draft) if draft else {}).items()}
    errors = form.item_errors() if form.is_bound else {}
    one_by_one = params.get("layout") == "single"
    items = _form_items(inst, language, typed, mode, errors)
    return render(
        request,
        "screening/form.html",
        {
            "child": child,
            "inst": inst,
            "name": inst.name.get(language) or inst.name.get("en", inst.code),
            "instructions": (inst.timeframe.get(language, "") if inst.timeframe else ""),
            "items": items,
            "mode": mode,
            "modes": [(m, Mode(m).label) for m in inst.modes if m in Mode.values],
            "language": language,
            "errors": errors,
            "general_errors": errors.get("", []),
            "missing": [entry for entry in items if entry["errors"]],
            "one_by_one": one_by_one,
            "group": group,
            "draft": draft,
            "answering": handback.answering(request),
        },
        status=400 if errors else 200,
    )


DRAFT_NEEDS_ACTION = gettext_lazy(
    "An answer kept in this draft calls for action now: a safeguarding alert has been raised "
    "and the responders were notified. Act on it, and finish the questionnaire when you can."
)
DRAFT_KEPT = gettext_lazy(
    "Kept as an unfinished questionnaire: it is not scored and not a result until every "
    "question is answered and it is submitted."
)


ALERT_RAISED = gettext_lazy("A safeguarding alert has been raised; the responders were notified.")


@login_required
def hand_back(request: HttpRequest) -> HttpResponse:
    """ "Thank you, give the phone back": the worker's password unlocks the session."""
    if handback.locked(request) is None:
        return redirect("/")
    wrong = False
    if request.method == "POST":
        unlocked, target, alert = handback.unlock(request, request.POST.get("password", ""))
        if unlocked:
            if alert:
                messages.warning(request, ALERT_RAISED)
            return redirect(target)
        if target:  # too many wrong passwords: logged out
            return redirect(target)
        wrong = True
    return render(
        request, "screening/handback.html", {"wrong": wrong}, status=400 if wrong else 200
    )


@login_required
@require_GET
def screening_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    administration, level = selectors.get_administration_for_user(user, pk)
    language = _language()
    row = selectors.present(
        administration,
        level,
        language=language,
        hide_giver=bool(selectors.confidential_givers(user, [administration])),
    )
    inst = registry.definition(administration.instrument)
    answered = []
    if "answers" in row:
        for item in inst.items:
            value = row["answers"].get(item.id)
            label = ""
            if value is not None:
                option = next((o for o in item.options if o.value == value), None)
                label = option.label.get(language, "") if option else str(value)
            answered.append(
                {
                    "number": item.number,
                    "text": item.text.get(language, ""),
                    "value": value,
                    "label": label,
                }
            )
    band = inst.band_for(administration.total) if administration.total is not None else None
    return render(
        request,
        "screening/detail.html",
        {
            "row": row,
            "child": administration.child,
            "answered": answered,
            "band_label": band.label.get(language, band.code) if band else "",
            "full": level == access.RESULTS_FULL,
        },
    )


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    status = request.GET.get("status", "")
    page = safeguarding.alerts_listed(
        user, status=status if status in AlertStatus.values else None, purpose="alerts", limit=200
    )
    shown = access.alerts_with_reasons(user, page)
    alerts = [
        safeguarding.present_alert(a, reasons=a.pk in shown, language=_language()) for a in page
    ]
    return render(
        request,
        "screening/alerts.html",
        {"alerts": alerts, "status": status, "statuses": AlertStatus.choices},
    )


class AlertNoteForm(forms.Form):
    """What was done: optional when acknowledging, required to record an action or close
    (the service says so). The API's `AlertNoteIn` is the same input."""

    note = forms.CharField(
        label=gettext_lazy("What was done"), required=False, max_length=5000, strip=True
    )


def _alert_page(
    request: HttpRequest, user: User, alert: Alert, form: AlertNoteForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "screening/alert.html",
        {
            "alert": alert,
            "view": safeguarding.present_alert(
                alert,
                reasons=bool(access.alerts_with_reasons(user, [alert])),
                language=_language(),
            ),
            "events": [
                {"event": e, "note": safeguarding.event_note(e)}
                for e in alert.events.select_related("by")
            ],
            "may_act": access.may_handle_alert(user, alert),
            "guardians": reporting.guardians_to_tell(alert.child),
            "form": form,
            "error_summary": error_summary(form),
        },
        status=status,
    )


@login_required
@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alert = safeguarding.get_alert_for_user(user, pk)
    return _alert_page(request, user, alert, AlertNoteForm())


def _alert_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alert = safeguarding.get_alert_for_user(user, pk)
    form = AlertNoteForm(request.POST)
    if form.is_valid():
        note = form.cleaned_data["note"]
        try:
            if step == "acknowledge":
                safeguarding.acknowledge(actor=user, alert=alert, note=note)
            else:
                safeguarding.record_action(
                    actor=user, alert=alert, note=note, close=step == "close"
                )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {}
            for message in errors.get("note", []):
                form.add_error("note", message)
            if not errors:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, ALERT_SAVED[step])
            return redirect("screening:alert", alert.pk)
    alert.refresh_from_db()
    return _alert_page(request, user, alert, form, status=400)


ALERT_SAVED = {
    "acknowledge": gettext_lazy("Alert acknowledged."),
    "action": gettext_lazy("Action recorded."),
    "close": gettext_lazy("Alert closed."),
}


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_step(request, pk, "acknowledge")


@login_required
@require_POST
def alert_action(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_step(request, pk, "action")


@login_required
@require_POST
def alert_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_step(request, pk, "close")


def _worklist_row(task: Task, user: User) -> dict[str, Any]:
    """A follow-up as the worklist shows it, leading to where it is done: the visit form
    for one's own home visit, the case for a case's follow-up, else the child's file."""
    if task.kind == TaskKind.HOME_VISIT:
        own = task.assignee_id == user.pk
        url = reverse("screening:visit_new" if own else "children:detail", args=[task.child_id])
        return {
            "due_on": task.due_on,
            "child": task.child,
            "kind": "home_visit",
            "level": task,
            "url": url,
            "label": _("Home visit"),
            "assignee": task.assignee,
        }
    return {
        "due_on": task.due_on,
        "child": task.child,
        "kind": "case" if task.case_id else task.kind,
        "level": None,
        "url": reverse("cases:detail", args=[task.case_id])
        if task.case_id
        else reverse("children:detail", args=[task.child_id]),
        "label": _("Case follow-up: %(title)s") % {"title": _(task.title)}
        if task.case_id
        else f"{task.get_kind_display()}{_(': ')}{_(task.title)}",
        "assignee": task.assignee,
    }


@login_required
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """Home visits and follow-ups owed: the user's own, and for supervisors and officials
    those of their area; overdue first."""
    user: User = request.user  # type: ignore[assignment]
    today = clock.today()
    show = request.GET.get("show", "all")
    if show not in task_selectors.SHOWS:
        show = "all"
    # The first 200, earliest due first: what can be done this week, on a phone.
    tasks = task_selectors.worklist(user, purpose="worklist", today=today, limit=200, show=show)
    overdue = task_selectors.tasks_for(user, status="overdue", today=today, show=show).count()
    rows = [_worklist_row(t, user) for t in tasks]
    return render(
        request,
        "screening/worklist.html",
        {
            "rows": rows,
            "today": today,
            "overdue": overdue,
            "show": show,
            "shows": [
                ("all", _("All")),
                ("mine", _("Mine")),
                ("home_visits", _("Home visits")),
                ("cases", _("Case follow-ups")),
            ],
            "more": len(rows) == 200,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="mandatory_report")
    form = ReportForm(request.POST or None, child=child)
    if request.method == "POST" and form.is_valid():
        try:
            report = reporting.open_report(
                actor=user,
                child=child,
                triggers=form.cleaned_data["triggers"],
                description=form.cleaned_data["description"],
                suspected=[m.pk for m in form.cleaned_data["suspected"]],
            )
        except ValidationError as exc:
            refuse(form, exc)
        else:
            messages.success(
                request,
                _("Saved: the report is open; the township supervisor and the bureau are told."),
            )
            return redirect("screening:report", report.pk)
    return render(
        request,
        "screening/report_new.html",
        {"child": child, "form": form, "error_summary": error_summary(form)},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rows = list(reporting.reports_visible_to(user).order_by("completed_at", "-opened_at")[:200])
    log_children_read(
        user=user,
        child_ids=[r.child_id for r in rows],
        purpose="mandatory_reports",
        object_type="mandatory_report",
    )
    return render(
        request,
        "screening/reports.html",
        {"reports": [reporting.present_report(user, r) for r in rows]},
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    report = reporting.get_report_for_user(user, pk)
    form = ReportCompleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            reporting.complete(
                actor=user,
                report=report,
                police_told_at=d["police_told_at"],
                receiving_unit=d["receiving_unit"],
                reference=d["police_reference"],
            )
        except ValidationError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Saved: the police report is recorded."))
            return redirect("screening:report", report.pk)
    return render(
        request,
        "screening/report.html",
        {
            "report": reporting.present_report(user, report),
            "form": form,
            "error_summary": error_summary(form),
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_list(request: HttpRequest) -> HttpResponse:
    """The worker's group screenings, and a new one: a class (a school of the worker's and a
    grade) or an activity group (the children of a village, optionally of an age range)."""
    user: User = request.user  # type: ignore[assignment]
    form = GroupForm.for_user(user, request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            group = form.perform(user)
        except ValidationError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Saved: the group screening is ready."))
            return redirect("screening:group", group.pk)
    return render(
        request,
        "screening/groups.html",
        {
            "groups": [
                {"group": g, "instrument": _instrument_name(g.instrument)}
                for g in selectors.groups_of(user)
            ],
            "form": form,
            "error_summary": error_summary(form),
        },
        status=400 if form.errors else 200,
    )


def _instrument_name(code: str) -> str:
    inst = registry.definitions().get(code)
    return inst.name.text(_language()) if inst else code


@login_required
@require_GET
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    group = access.get_group_for_user(user, pk, purpose="group_screening")
    rows = selectors.group_progress(user, group)
    return render(
        request,
        "screening/group.html",
        {
            "group": group,
            "instrument_name": _instrument_name(group.instrument),
            "rows": rows,
            "follow_up": [r for r in rows if r["follow_up"]],
            "done": sum(1 for r in rows if r["administration"]),
        },
    )
