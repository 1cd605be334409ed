"""Project pages: progress against the targets with the figures broken down, the monthly
report (printable page and workbook), staged acceptance, and the organisation's own
activity designs. Aggregates only: these pages name no child."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access
from shouhu.lib import clock
from shouhu.lib.formerrors import error_summary, saved
from shouhu.programmes import project_forms, report, selectors
from shouhu.programmes.models import Design, Measure, Milestone, Project


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _withheld(
    user: User, project: Project, by: str, rows: list[selectors.Row]
) -> list[selectors.Row]:
    """Small lines of an attribute breakdown withheld from a reader without row access."""
    if by == "month" or access.sees_project_rows(user, project):
        return rows
    return selectors.suppress_small(rows)


def _project_page(
    request: HttpRequest,
    user: User,
    project: Project,
    bound: project_forms.MilestoneForm | project_forms.AcceptForm | None = None,
) -> HttpResponse:
    figures_form = project_forms.FiguresForm(request.GET or None, project=project)
    by, first, last = figures_form.choice()
    whole = selectors.counts_for(project)
    figures = selectors.figures(project, counts=whole)
    milestones = list(project.milestones.select_related("accepted_by"))
    may_accept = access.may_accept_milestone(user, project)
    accept_bound = (
        {bound.milestone.pk: bound} if isinstance(bound, project_forms.AcceptForm) else {}
    )
    return render(
        request,
        "programmes/project.html",
        {
            "project": project,
            "figures": figures,
            "progress": [
                {"row": p, "label": Measure(p.measure).label, "percent": min(p.share, 1.0) * 100}
                for p in selectors.progress(project, figures)
            ],
            "figures_form": figures_form,
            "by": by,
            "by_name": selectors.BREAKDOWN_NAMES[by],
            "rows": _withheld(
                user,
                project,
                by,
                selectors.breakdown(
                    project,
                    by,  # type: ignore[arg-type]
                    first,
                    last,
                    counts=None if first or last else whole,
                ),
            ),
            "small": selectors.SMALL,
            "milestones": milestones,
            "accept_forms": {
                m.pk: accept_bound.get(m.pk) or project_forms.AcceptForm(user=user, milestone=m)
                for m in milestones
                if may_accept and m.accepted_on is None
            },
            "milestone_form": (
                bound
                if isinstance(bound, project_forms.MilestoneForm)
                else project_forms.MilestoneForm(user=user, project=project)
            )
            if access.may_record_project(user, project.funder_id, project.implementer_id)
            else None,
            "error_summary": error_summary(bound) if bound is not None else [],
            "programmes": project.programmes.select_related("design").order_by("starts_on"),
            "report_month": f"{report.parse_month(project, None, clock.today()):%Y-%m}",
        },
        status=400 if bound is not None else 200,
    )


@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's progress against each target, counted from the records; the funder's
    officials read it for their area (aggregates: no child is named)."""
    user = _user(request)
    return _project_page(request, user, access.get_project_for_user(user, pk))


@login_required
@require_POST
def milestone_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    project = access.get_project_for_user(user, pk)
    form = project_forms.MilestoneForm(request.POST, user=user, project=project)
    if saved(request, form, _("Saved: the stage is planned.")):
        return redirect("programmes:project", project.pk)
    return _project_page(request, user, project, form)


@login_required
@require_POST
def milestone_accept(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    milestone = Milestone.objects.filter(pk=pk).first()
    if milestone is None:
        raise Http404
    project = access.get_project_for_user(user, milestone.project_id)
    form = project_forms.AcceptForm(request.POST, user=user, milestone=milestone)
    if saved(request, form, _("Saved: the stage is accepted.")):
        return redirect("programmes:project", project.pk)
    return _project_page(request, user, project, form)


def _report(request: HttpRequest, pk: int) -> tuple[User, report.MonthlyReport]:
    user = _user(request)
    project = access.get_project_for_user(user, pk)
    try:
        month = report.parse_month(project, request.GET.get("month"), clock.today())
    except report.NoSuchMonth as exc:
        raise Http404(str(exc)) from None
    return user, report.monthly(project, month, small=access.sees_project_rows(user, project))


@login_required
@require_GET
def monthly_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The monthly report as a printable page."""
    user, monthly = _report(request, pk)
    log_access(
        user=user,
        action=Action.EXPORT,
        object_type="project",
        object_id=str(monthly.project.pk),
        purpose="project_report",
        detail={"month": f"{monthly.month:%Y-%m}", "format": "page"},
    )
    return render(
        request,
        "programmes/report.html",
        {
            "report": monthly,
            "figure_rows": [
                (label, this_month, total)
                for (label, this_month), (_label, total) in zip(
                    report.figure_lines(monthly.month_figures),
                    report.figure_lines(monthly.to_date),
                    strict=True,
                )
            ],
            "sections": [
                (str(selectors.BREAKDOWN_NAMES[by]), rows)
                for by, rows in monthly.breakdowns.items()
            ],
            "measures": {m.value: str(m.label) for m in Measure},
            "small": selectors.SMALL,
            "now": clock.now(),
        },
    )


@login_required
@require_GET
def monthly_report_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """The monthly report as a workbook (logged as an export)."""
    user, monthly = _report(request, pk)
    body = report.workbook(monthly)
    log_access(
        user=user,
        action=Action.EXPORT,
        object_type="project",
        object_id=str(monthly.project.pk),
        purpose="project_report",
        detail={"month": f"{monthly.month:%Y-%m}", "format": "xlsx"},
    )
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"project-{monthly.project.pk}-{monthly.month:%Y-%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def designs(request: HttpRequest) -> HttpResponse:
    """The catalogue: the shipped designs and the user's organisations' own; organisers add
    their own."""
    user = _user(request)
    form = project_forms.DesignForm(request.POST or None, user=user)
    organiser = form.fields["organisation"].queryset.exists()  # type: ignore[attr-defined]
    if request.method == "POST":
        if not organiser:
            raise PermissionDenied
        if saved(request, form, _("Saved: the design is in your catalogue.")):
            return redirect("programmes:designs")
    orgs = form.fields["organisation"].queryset  # type: ignore[attr-defined]
    from django.db.models import Q

    rows = Design.objects.filter(Q(organisation=None) | Q(organisation__in=orgs)).select_related(
        "organisation"
    )
    return render(
        request,
        "programmes/designs.html",
        {
            "designs": rows.order_by("kind", "organisation_id", "id"),
            "form": form if organiser else None,
            "error_summary": error_summary(form) if request.method == "POST" else [],
        },
        status=400 if form.errors else 200,
    )
