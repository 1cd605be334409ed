"""Screening pages: a child's results and trend, the questionnaire form, one result, and the
safeguarding alerts. Thin views over `services`, `selectors` and `safeguarding`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu.accounts import access
from shouhu.accounts.models import User
from shouhu.audit.services import log_children_read
from shouhu.lib import clock
from shouhu.lib.instruments import Instrument
from shouhu.screening import (
    handback,
    registry,
    reporting,
    risk,
    safeguarding,
    selectors,
    services,
)
from shouhu.screening.models import AlertStatus, Mode, Respondent, Trigger


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
    available = [
        {"code": inst.code, "name": inst.name.text(_language())}
        for inst in registry.enabled()
        if access.can_administer(user, child, kind=inst.kind)
    ]
    return render(
        request,
        "screening/child.html",
        {"child": child, "rows": rows, "charts": charts, "available": available},
    )


def _form_items(
    inst: Instrument, language: str, answers: dict[str, str], mode: str
) -> list[dict[str, Any]]:
    out = []
    for item in inst.items:
        if item.modes and mode not in item.modes:
            continue  # e.g. PHQ-A's suicide questions are asked in an interview only
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
            }
        )
    return out


@login_required
@require_http_methods(["GET", "POST"])
def screening_new(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="administer")
    code = request.GET.get("instrument") or request.POST.get("instrument", "")
    inst = registry.get(code)  # ValidationError → 400 page below
    if not access.can_administer(user, child, kind=inst.kind):
        raise PermissionDenied(_("You may not give this child this instrument."))
    group = None
    group_id = request.GET.get("group") or request.POST.get("group") or ""
    if group_id:
        group = selectors.get_group_for_user(user, int(group_id) if group_id.isdigit() else 0)
        if group.instrument != inst.code or not group.children.filter(pk=child.pk).exists():
            raise PermissionDenied(_("This child is not in this group screening."))
    language = request.POST.get("language") or request.GET.get("language") or _language()
    if language not in services.LANGUAGES or not inst.has_text(language):
        language = "zh-Hans" if inst.has_text("zh-Hans") else "en"
    mode = request.POST.get("mode") or request.GET.get("mode") or inst.modes[0]
    if mode not in inst.modes:
        mode = inst.modes[0]
    errors: dict[str, list[str]] = {}
    posted: dict[str, str] = {}
    if request.method == "POST":
        posted = {item.id: request.POST.get(f"item-{item.id}", "").strip() for item in inst.items}
        answers: dict[str, Any] = {}
        for item_id, raw in posted.items():
            if raw == "":
                continue
            try:
                answers[item_id] = int(raw)
            except ValueError:
                errors[f"answers.{item_id}"] = [_("Choose one of the answers.")]
        if not errors:
            try:
                administration = services.administer(
                    actor=user,
                    child=child,
                    instrument=inst.code,
                    answers=answers,
                    mode=mode,
                    respondent=request.POST.get("respondent") or None,
                    language=language,
                    group=group,
                )
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                alert = administration.action in {"imminent", "alert", "mandatory_report"}
                # Back to the class list for the next child, or to the result.
                after = (
                    reverse("screening:group", args=[group.pk])
                    if group is not None
                    else reverse("screening:detail", args=[administration.pk])
                )
                if (
                    administration.respondent == Respondent.CHILD
                    and administration.mode == Mode.SELF_REPORT
                ):
                    # The child answered on this device: nothing more until the worker
                    # has the phone back.
                    handback.lock(request, next_url=after, alert=alert)
                    return redirect("screening:handback")
                if alert:
                    messages.warning(request, ALERT_RAISED)
                return redirect(after)
    one_by_one = request.GET.get("layout") == "single" or request.POST.get("layout") == "single"
    return render(
        request,
        "screening/form.html",
        {
            "child": child,
            "inst": inst,
            "name": inst.name.get(language) or inst.name.get("en", inst.code),
            "instructions": (inst.timeframe.get(language, "") if inst.timeframe else ""),
            "items": _form_items(inst, language, posted, mode),
            "mode": mode,
            "modes": [(m, Mode(m).label) for m in inst.modes if m in Mode.values],
            "language": language,
            "errors": errors,
            "one_by_one": one_by_one,
            "group": group,
        },
        status=400 if errors else 200,
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
    rows = safeguarding.alerts_visible_to(user)
    if status in AlertStatus.values:
        rows = rows.filter(status=status)
    page = list(rows.order_by("-raised_at", "-id")[:200])
    log_children_read(
        user=user, child_ids=[a.child_id for a in page], purpose="alerts", object_type="alert"
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


@login_required
@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alert = safeguarding.get_alert_for_user(user, pk)
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
            "events": alert.events.select_related("by"),
            "may_act": alert.recipients.filter(pk=user.pk).exists(),
            "guardians": reporting.guardians_to_tell(alert.child),
        },
    )


@login_required
@require_POST
def alert_act(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    alert = safeguarding.get_alert_for_user(user, pk)
    what = request.POST.get("what", "")
    note = request.POST.get("note", "")
    try:
        if what == "acknowledge":
            safeguarding.acknowledge(actor=user, alert=alert, note=note)
        else:
            safeguarding.record_action(actor=user, alert=alert, note=note, close=what == "close")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("screening:alert", alert.pk)


@login_required
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """Home visits and follow-ups owed: the user's own, and for supervisors and officials
    those of their area; overdue first."""
    user: User = request.user  # type: ignore[assignment]
    today = clock.today()
    from shouhu.cases.selectors import tasks_for

    # The first 100 of each, earliest due first: what can be done this week, on a phone.
    tasks = risk.worklist(user, today=today, limit=100)
    follow_ups = list(tasks_for(user, status="open", today=today)[:100])
    overdue = sum(1 for t in tasks if t.due_on < today) + sum(
        1 for t in follow_ups if t.due_on < today
    )
    log_children_read(
        user=user,
        child_ids=[t.child_id for t in tasks] + [t.case.child_id for t in follow_ups],
        purpose="worklist",
        detail={"visits": len(tasks), "follow_ups": len(follow_ups)},
    )
    return render(
        request,
        "screening/worklist.html",
        {"tasks": tasks, "follow_ups": follow_ups, "today": today, "overdue": overdue},
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="mandatory_report")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            suspected = [int(v) for v in request.POST.getlist("suspected")]
        except ValueError:
            suspected = [-1]
        try:
            report = reporting.open_report(
                actor=user,
                child=child,
                triggers=request.POST.getlist("triggers"),
                description=request.POST.get("description", ""),
                suspected=suspected,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            return redirect("screening:report", report.pk)
    return render(
        request,
        "screening/report_new.html",
        {
            "child": child,
            "triggers": Trigger.choices,
            "members": child.household.members.all(),
            "errors": errors,
            "posted": request.POST,
        },
        status=400 if errors else 200,
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
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        told = parse_datetime(request.POST.get("police_told_at", "") or "")
        if told is not None and timezone.is_naive(told):
            told = timezone.make_aware(told)
        try:
            reporting.complete(
                actor=user,
                report=report,
                police_told_at=told,
                receiving_unit=request.POST.get("receiving_unit", ""),
                reference=request.POST.get("police_reference", ""),
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        else:
            return redirect("screening:report", report.pk)
    return render(
        request,
        "screening/report.html",
        {
            "report": reporting.present_report(user, report),
            "errors": errors,
            "posted": request.POST,
        },
        status=400 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_list(request: HttpRequest) -> HttpResponse:
    """The worker's group screenings, and a new one: a class (a school of the worker's and a
    grade) or an activity group (the children of a village, optionally of an age range)."""
    user: User = request.user  # type: ignore[assignment]
    screenings = [
        {"code": i.code, "name": i.name.text(_language())}
        for i in registry.enabled()
        if i.kind == "screening"
    ]
    sources = selectors.group_sources(user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        by_class = post.get("source", "class") == "class"
        grade = post.get("grade", "").strip()
        village = post.get("village", "")
        try:
            children = selectors.group_candidates(
                user,
                kind="screening",
                school_id=_int(post.get("school")) if by_class else None,
                grade=grade if by_class else "",
                village="" if by_class else village,
                age_min=None if by_class else _int(post.get("age_min")),
                age_max=None if by_class else _int(post.get("age_max")),
            )
            group = services.group_create(
                actor=user,
                instrument=post.get("instrument", ""),
                title=post.get("title", "").strip()
                or grade
                or dict(sources["villages"]).get(village, ""),
                held_on=clock.today(),
                children=children,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            return redirect("screening:group", group.pk)
    return render(
        request,
        "screening/groups.html",
        {
            "groups": [
                {"group": g, "instrument": _instrument_name(g.instrument)}
                for g in selectors.groups_of(user)
            ],
            "instruments": screenings,
            "schools": sources["schools"],
            "villages": sources["villages"],
            "errors": errors,
            "posted": request.POST,
        },
        status=400 if errors else 200,
    )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _instrument_name(code: str) -> str:
    inst = registry.definitions().get(code)
    return inst.name.text(_language()) if inst else code


@login_required
@require_GET
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    group = selectors.get_group_for_user(user, pk)
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
