"""Programme pages: the list, one programme with its sessions and participants, the roll call
on a phone (one tap per participant, saved in one request), and the printable sign-in sheet
(签到表). Thin views over `running`, `attendance` and the access rules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu import access
from shouhu.accounts.models import Membership, User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access, log_children_read
from shouhu.children.models import FamilyMember
from shouhu.lib import clock, protect
from shouhu.lib.dates import age_on
from shouhu.lib.formerrors import error_summary, refuse, saved
from shouhu.programmes import forms as forms_
from shouhu.programmes import outcomes
from shouhu.programmes.models import (
    CAREGIVER_KINDS,
    Attendance,
    Counselling,
    Enrolment,
    EnrolmentStatus,
    Presence,
    Programme,
    ProgrammeSession,
    SessionStatus,
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
@require_GET
def programme_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = (
        access.programmes_visible_to(user)
        .select_related("design", "organisation")
        .order_by("-starts_on", "pk")[:200]
    )
    projects = (
        access.projects_visible_to(user)
        .select_related("funder", "implementer")
        .order_by("-starts_on", "pk")[:100]
    )
    may_start = Membership.objects.filter(
        user=user, active=True, role__in=access.PROGRAMME_ROLES
    ).exists()
    return render(
        request,
        "programmes/list.html",
        {"programmes": rows, "projects": projects, "may_start": may_start},
    )


SIGNIFICANCE = 0.05


def _outcome_context(outcome: outcomes.Outcome | None) -> dict[str, Any]:
    """The outcome report and what its plain words need (aggregates only: no child named)."""
    if outcome is None:
        return {"outcome": None}
    mean, low, high, p = outcome.mean_change, outcome.ci_low, outcome.ci_high, outcome.wilcoxon_p
    return {
        "outcome": outcome,
        "change_size": abs(mean) if mean is not None else None,
        "ci_includes_zero": low is not None and high is not None and low <= 0 <= high,
        "significant": p is not None and p < SIGNIFICANCE,
        "p_shown": "" if p is None else "< 0.001" if p < 0.001 else f"= {p:.3f}",
        "wilcoxon_min": outcomes.WILCOXON_MIN,
        "caveat": outcomes.CAVEAT,
    }


def _detail_page(
    request: HttpRequest,
    user: User,
    programme: Programme,
    bound: forms_.SessionForm | forms_.EnrolForm | forms_.CancelForm | None = None,
) -> HttpResponse:
    """The programme with its sessions and participants, and, for its organisers, the forms
    (the one that was refused comes back bound, with its errors)."""
    organiser = access.may_run_programme(user, programme.organisation_id)
    sessions = list(programme.sessions.all())
    context: dict[str, Any] = {
        "programme": programme,
        "sessions": sessions,
        "enrolments": programme.enrolments.select_related("child", "member").order_by(
            "status", "pk"
        ),
        "now": clock.now(),
        "organiser": organiser,
        "error_summary": error_summary(bound) if bound is not None else [],
        # Screening results, even averaged, are the organisers' (a facilitator who is a
        # volunteer sees names, age and village only).
        **(_outcome_context(outcomes.outcomes(programme)) if organiser else {"outcome": None}),
    }
    if organiser:
        filters = {k: request.GET.get(k, "") for k in ("category", "age_min", "age_max")}
        context["session_form"] = (
            bound
            if isinstance(bound, forms_.SessionForm)
            else forms_.SessionForm(user=user, programme=programme)
        )
        enrol_form = (
            bound
            if isinstance(bound, forms_.EnrolForm)
            else forms_.EnrolForm(user=user, programme=programme, filters=filters)
        )
        context["enrol_form"] = enrol_form
        # The target list names children: logged as any list of children.
        log_children_read(
            user=user,
            child_ids=[c.pk for c in enrol_form.shown],
            purpose="programme_target_list",
            object_type="programme",
            object_id=str(programme.pk),
        )
        context["filters"] = filters
        cancel = {bound.session.pk: bound} if isinstance(bound, forms_.CancelForm) else {}
        context["cancel_forms"] = {
            s.pk: cancel.get(s.pk) or forms_.CancelForm(user=user, session=s)
            for s in sessions
            if s.status == SessionStatus.PLANNED
        }
        context["caregivers"] = programme.design.kind in CAREGIVER_KINDS
    return render(
        request, "programmes/detail.html", context, status=400 if bound is not None else 200
    )


@login_required
@require_GET
def programme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    programme = access.get_programme_for_user(user, pk, purpose="programme")
    return _detail_page(request, user, programme)


@login_required
@require_http_methods(["GET", "POST"])
def programme_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = forms_.ProgrammeForm(request.POST or None, user=user)
    if not form.fields["organisation"].queryset.exists():  # type: ignore[attr-defined]
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        try:
            programme = form.perform()
        except ValidationError as exc:
            refuse(form, exc)
        else:
            messages.success(request, _("Saved: the programme is started."))
            return redirect("programmes:detail", programme.pk)
    return render(
        request,
        "programmes/new.html",
        {"form": form, "error_summary": error_summary(form)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def session_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    programme = access.get_programme_for_user(user, pk, purpose="programme")
    form = forms_.SessionForm(request.POST, user=user, programme=programme)
    if saved(request, form, _("Saved: the session is planned.")):
        return redirect("programmes:detail", programme.pk)
    return _detail_page(request, user, programme, form)


@login_required
@require_POST
def enrol(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    programme = access.get_programme_for_user(user, pk, purpose="programme")
    form = forms_.EnrolForm(request.POST, user=user, programme=programme)
    if saved(request, form, _("Saved: the children are enrolled.")):
        return redirect("programmes:detail", programme.pk)
    return _detail_page(request, user, programme, form)


@login_required
@require_POST
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    session = access.get_session_of_programme_for_user(user, pk, purpose="programme")
    form = forms_.CancelForm(request.POST, user=user, session=session)
    if saved(request, form, _("Saved: the session is cancelled.")):
        return redirect("programmes:detail", session.programme_id)
    return _detail_page(request, user, session.programme, form)


def _name(enrolment: Enrolment) -> str:
    person = enrolment.child or enrolment.member
    return person.name if person is not None else ""


def _participants(session: ProgrammeSession) -> list[dict[str, Any]]:
    """The enrolled participants with what was recorded for this session (present by
    default: most are)."""
    marked = dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "status"))
    return [
        {
            "enrolment": e,
            "name": _name(e),
            "status": marked.get(e.pk, Presence.PRESENT),
        }
        for e in session.programme.enrolments.filter(status=EnrolmentStatus.ENROLLED)
        .select_related("child", "member")
        .order_by("pk")
    ]


@login_required
@require_http_methods(["GET", "POST"])
def roll_call(request: HttpRequest, pk: int) -> HttpResponse:
    """The roll call: one row per participant, four choices each, one save."""
    user = _user(request)
    session = access.get_session_of_programme_for_user(user, pk, purpose="roll_call")
    if not access.may_take_roll_call(user, session):
        raise PermissionDenied
    rows = _participants(session)
    form = forms_.RollCallForm(
        request.POST if request.method == "POST" else None, user=user, session=session, rows=rows
    )
    if form.is_bound and form.is_valid():
        try:
            done = form.perform()
        except ValidationError as exc:
            refuse(form, exc)
        else:
            messages.success(
                request,
                _("Saved: the roll call of %(n)d participants.") % {"n": done.saved},
            )
            return redirect("programmes:detail", session.programme_id)
    query = (request.GET.get("q") or "").strip()[:50]
    open_now = session.status != SessionStatus.CANCELLED and session.starts_at <= clock.now()
    candidates = _walk_in_candidates(user, session, query) if query and open_now else []
    if candidates:
        log_children_read(
            user=user,
            child_ids=[pk for c in candidates for pk in c["child_ids"]],
            purpose="programme_walk_in",
            object_type="programme",
            object_id=str(session.programme_id),
        )
    return render(
        request,
        "programmes/roll_call.html",
        {
            "session": session,
            "programme": session.programme,
            "form": form,
            "error_summary": error_summary(form),
            "walk_ins_open": open_now,
            "query": query,
            "candidates": candidates,
        },
        status=400 if form.errors else 200,
    )


WALK_IN_SHOWN = 20


def _walk_in_candidates(user: User, session: ProgrammeSession, query: str) -> list[dict[str, Any]]:
    """Who may be added as a walk-in, by name: children the user reaches (or, for a
    caregiver course, the caregivers at home of those children) not enrolled yet."""
    programme = session.programme
    reached = access.children_visible_to(user)
    enrolled = Enrolment.objects.filter(programme=programme, status=EnrolmentStatus.ENROLLED)
    if programme.design.kind in CAREGIVER_KINDS:
        members = (
            FamilyMember.objects.filter(
                household_id__in=reached.values("household_id"), away=False, name__contains=query
            )
            .exclude(pk__in=enrolled.filter(member__isnull=False).values("member_id"))
            .exclude(capacity__in=["deceased", "missing", "imprisoned", "rehab"])
            .order_by("name", "pk")[:WALK_IN_SHOWN]
        )
        # A caregiver's name points to their household: its children are logged as read.
        homes: dict[int, list[int]] = {}
        for pk, home in reached.filter(
            household_id__in={m.household_id for m in members}
        ).values_list("pk", "household_id"):
            homes.setdefault(home, []).append(pk)
        return [
            {
                "key": f"m{m.pk}",
                "name": m.name,
                "detail": m.get_relation_display(),
                "child_ids": homes.get(m.household_id, []),
            }
            for m in members
        ]
    children = (
        reached.filter(name__contains=query)
        .exclude(pk__in=enrolled.filter(child__isnull=False).values("child_id"))
        .select_related("residence")
        .order_by("name_pinyin", "pk")[:WALK_IN_SHOWN]
    )
    today = clock.today()
    return [
        {
            "key": f"c{c.pk}",
            "name": c.name,
            "detail": _("%(age)d years, %(village)s")
            % {"age": age_on(c.birth_date, today), "village": c.residence.name},
            "child_ids": [c.pk],
        }
        for c in children
    ]


@login_required
@require_POST
def walk_in(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a walk-in to the session's roll call (enrolled; present by default)."""
    user = _user(request)
    session = access.get_session_of_programme_for_user(user, pk, purpose="roll_call")
    if not access.may_take_roll_call(user, session):
        raise PermissionDenied
    form = forms_.WalkInForm(request.POST, user=user, session=session)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("participant", [])))
        return redirect("programmes:roll_call", session.pk)
    try:
        enrolment = form.perform()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("programmes:roll_call", session.pk)
    messages.success(
        request,
        _("Added %(name)s as a walk-in: mark them and save the roll call.")
        % {"name": _name(enrolment)},
    )
    return redirect("programmes:roll_call", session.pk)


@login_required
@require_GET
def sign_in_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable sign-in sheet (签到表) of a session, with a column for signatures."""
    user = _user(request)
    session = access.get_session_of_programme_for_user(user, pk, purpose="roll_call")
    return render(
        request,
        "programmes/sign_in.html",
        {"session": session, "programme": session.programme, "rows": _participants(session)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def counselling_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A child's one-to-one counselling: the sessions, and a new one. The notes are read by
    the counsellor who wrote them and the child's case worker (`may_read_counselling`)."""
    user = _user(request)
    child = access.get_child_for_user(user, pk, purpose="counselling")
    if not access.may_counsel(user, child):
        raise PermissionDenied
    form = forms_.CounsellingForm(request.POST or None, user=user, child=child)
    if request.method == "POST" and saved(request, form, _("Saved: the counselling session.")):
        return redirect("programmes:counselling", child.pk)
    rows = []
    case_worker = access.is_case_worker(user, child)  # once, not per session
    for c in Counselling.objects.filter(child=child).select_related("counsellor"):
        readable = c.counsellor_id == user.pk or case_worker
        rows.append(
            {"row": c, "notes": protect.unseal(c.notes_enc) if readable and c.notes_enc else ""}
        )
    if any(r["notes"] for r in rows):  # the sensitive notes shown: logged as a reveal
        log_access(
            user=user,
            action=Action.REVEAL,
            child_id=child.pk,
            object_type="counselling_notes",
            fields=[access.SENSITIVE],
            purpose="counselling",
        )
    return render(
        request,
        "programmes/counselling.html",
        {
            "child": child,
            "rows": rows,
            "form": form,
            "error_summary": error_summary(form) if form.is_bound else [],
        },
        status=400 if form.is_bound and form.errors else 200,
    )
