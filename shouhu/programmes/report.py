"""The monthly report of a funded project (月度报告), generated from the records: the month's
and the cumulative figures, progress against the targets, the month broken down by township,
category, sex and age band, each programme's sessions held or cancelled, counselling by mode
and concern, and the staged acceptance. Aggregates only: no child is named. The printable
page and the workbook are two renderings of one `MonthlyReport`, so they show the same
numbers as the project page and the API (all read `selectors`)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from shouhu.programmes import selectors
from shouhu.programmes.models import (
    Concern,
    Counselling,
    Enrolment,
    EnrolmentStatus,
    Kind,
    Measure,
    Milestone,
    Mode,
    Programme,
    ProgrammeSession,
    Project,
    SessionStatus,
)
from shouhu.programmes.served import month_bounds, month_of

SECTIONS = ("township", "category", "sex", "age_band")
SMALL_TEXT = f"<{selectors.SMALL}"


@dataclass(frozen=True)
class ProgrammeLine:
    """One programme's month: sessions held and cancelled (with why), class hours, and
    attendances (present or late) against its enrolled participants."""

    programme: str
    kind: str
    held: int
    cancelled: int
    class_hours: Decimal
    attended: int
    enrolled: int
    cancel_reasons: list[str]


@dataclass(frozen=True)
class MonthlyReport:
    project: Project
    month: dt.date  # its first day
    month_figures: selectors.Figures
    to_date: selectors.Figures  # from the project's start to the end of the month
    progress: list[selectors.Progress]
    months: list[selectors.Row]  # each month so far
    breakdowns: dict[str, list[selectors.Row]]  # the month by township, category, ...
    programmes: list[ProgrammeLine]
    counselling_by_mode: list[tuple[str, int]]
    counselling_by_concern: list[tuple[str, int]]
    milestones: list[Milestone] = field(default_factory=list)

    @property
    def title(self) -> str:
        return _("%(project)s: monthly report for %(month)s") % {
            "project": self.project.name,
            "month": f"{self.month:%Y-%m}",
        }


class NoSuchMonth(ValueError):
    pass


def parse_month(project: Project, text: str | None, today: dt.date) -> dt.date:
    """`YYYY-MM` inside the project's period; default the month of `today` (within the
    period, else its last month)."""
    first, last = month_of(project.starts_on), month_of(project.ends_on)
    if not text:
        return min(max(month_of(today), first), last)
    try:
        month = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise NoSuchMonth(_("Give the month as YYYY-MM, for example 2026-09.")) from None
    if not first <= month <= last:
        raise NoSuchMonth(
            _("The project runs from %(first)s to %(last)s: choose a month in between.")
            % {"first": f"{first:%Y-%m}", "last": f"{last:%Y-%m}"}
        )
    return month


def monthly(project: Project, month: dt.date, *, small: bool = True) -> MonthlyReport:
    """The report of `month` (a first day of a month), in a fixed number of queries.
    `small=False`: lines of a breakdown by an attribute with fewer than
    `selectors.SMALL` people are withheld (a reader without row access)."""
    month = month_of(month)
    first = month_of(project.starts_on)
    since_start, this_month = selectors.counts_and_last_month(project, first, month)
    month_figures = selectors.figures(project, counts=this_month)
    to_date = selectors.figures(project, counts=since_start)
    since, until = month_bounds(month)
    in_month = ProgrammeSession.objects.filter(
        programme__project=project, starts_at__gte=since, starts_at__lt=until
    )
    per_programme = {
        r["programme_id"]: r
        for r in in_month.values("programme_id")
        .annotate(
            held=Count("pk", filter=Q(status=SessionStatus.HELD)),
            cancelled=Count("pk", filter=Q(status=SessionStatus.CANCELLED)),
            minutes=Sum("minutes", filter=Q(status=SessionStatus.HELD)),
            attended=Sum("attended", filter=Q(status=SessionStatus.HELD)),
        )
        .order_by()
    }
    reasons: dict[int, list[str]] = {}
    for programme_id, reason in in_month.filter(status=SessionStatus.CANCELLED).values_list(
        "programme_id", "cancel_reason"
    ):
        reasons.setdefault(programme_id, []).append(reason)
    enrolled = dict(
        Enrolment.objects.filter(programme_id__in=per_programme, status=EnrolmentStatus.ENROLLED)
        .values_list("programme_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    kinds = {k.value: str(k.label) for k in Kind}
    lines = []
    for pk, title, kind in (
        Programme.objects.filter(pk__in=per_programme)
        .order_by("title", "pk")
        .values_list("pk", "title", "design__kind")
    ):
        got = per_programme[pk]
        lines.append(
            ProgrammeLine(
                programme=title,
                kind=kinds.get(kind, kind),
                held=got["held"],
                cancelled=got["cancelled"],
                class_hours=(Decimal(got["minutes"] or 0) / 60).quantize(Decimal("0.1")),
                attended=got["attended"] or 0,
                enrolled=enrolled.get(pk, 0),
                cancel_reasons=reasons.get(pk, []),
            )
        )
    counselled = Counselling.objects.filter(
        project=project, held_on__gte=month, held_on__lt=until.date()
    )
    modes = dict(counselled.values_list("mode").annotate(n=Count("pk")).order_by())
    concerns = dict(counselled.values_list("concern").annotate(n=Count("pk")).order_by())
    return MonthlyReport(
        project=project,
        month=month,
        month_figures=month_figures,
        to_date=to_date,
        progress=selectors.progress(project, to_date),
        months=selectors.breakdown(project, "month", first, month),
        breakdowns={
            by: _shown(selectors.breakdown(project, by, counts=this_month), small)  # type: ignore[arg-type]
            for by in SECTIONS
        },
        programmes=lines,
        counselling_by_mode=[(str(m.label), modes[m]) for m in Mode if m in modes],
        counselling_by_concern=[(str(c.label), concerns[c]) for c in Concern if c in concerns],
        milestones=list(project.milestones.select_related("accepted_by")),
    )


def _shown(rows: list[selectors.Row], small: bool) -> list[selectors.Row]:
    return rows if small else selectors.suppress_small(rows)


def figure_lines(f: selectors.Figures) -> list[tuple[str, object]]:
    """The figures as labelled lines, the same on the page and in the workbook."""
    return [
        (_("Service person-times"), f.person_times),
        (_("People served"), f.persons),
        (_("Children served"), f.children_served),
        (_("Class hours"), f.class_hours),
        (_("One-to-one counselling sessions"), f.counselling),
        (_("Child activities held"), f.child_activities),
        (_("Caregiver events held"), f.caregiver_events),
        (_("Materials handed out"), f.materials),
        (_("Children in the target group"), f.target_group),
        (_("Coverage of the target group (%)"), f.coverage),
    ]


def _cell(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def workbook(report: MonthlyReport) -> bytes:
    """The report as an .xlsx workbook (openpyxl): one sheet per part."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = _("Summary")[:31]
    p = report.project
    summary.append([report.title])
    summary["A1"].font = bold
    summary.append([_("Funder"), p.funder.name])
    summary.append([_("Implemented by"), p.implementer.name])
    summary.append([_("Period"), f"{p.starts_on:%Y-%m-%d} – {p.ends_on:%Y-%m-%d}"])
    summary.append([])
    summary.append([_("Figure"), _("This month"), _("Since the start")])
    for (label, month_value), (_label, total) in zip(
        figure_lines(report.month_figures), figure_lines(report.to_date), strict=True
    ):
        summary.append([label, _cell(month_value), _cell(total)])
    summary.append([])
    summary.append([_("Target"), _("Achieved"), _("Goal"), _("Progress (%)")])
    for pr in report.progress:
        summary.append(
            [
                str(Measure(pr.measure).label),
                _cell(pr.achieved),
                _cell(pr.target),
                round(pr.share * 100, 1),
            ]
        )
    summary.append([])
    summary.append([_("Categories overlap: a child counts in each of their categories.")])
    summary.append([_("No child is named in this report.")])

    months = book.create_sheet(_("By month")[:31])
    months.append(
        [
            _("Month"),
            _("Service person-times"),
            _("People served"),
            _("Counselling"),
            _("Class hours"),
        ]
    )
    for r in report.months:
        months.append([r.label, r.person_times, r.persons, r.counselling, _cell(r.class_hours)])

    for by, rows in report.breakdowns.items():
        sheet = book.create_sheet(str(selectors.BREAKDOWN_NAMES[by])[:31])
        sheet.append(
            [
                str(selectors.BREAKDOWN_NAMES[by]),
                _("Service person-times"),
                _("People served"),
                _("Counselling"),
                _("Children in the target group"),
                _("Of them served"),
                _("Coverage (%)"),
            ]
        )
        for r in rows:
            if r.suppressed:
                sheet.append([r.label, SMALL_TEXT])
                continue
            sheet.append(
                [
                    r.label,
                    r.person_times,
                    r.persons,
                    r.counselling,
                    r.target_group,
                    r.served_in_group,
                    _cell(r.coverage),
                ]
            )

    runs = book.create_sheet(_("Programmes")[:31])
    runs.append(
        [
            _("Programme"),
            _("Kind"),
            _("Sessions held"),
            _("Sessions cancelled"),
            _("Class hours"),
            _("Attendances"),
            _("Enrolled"),
            _("Why cancelled"),
        ]
    )
    for line in report.programmes:
        runs.append(
            [
                line.programme,
                line.kind,
                line.held,
                line.cancelled,
                _cell(line.class_hours),
                line.attended,
                line.enrolled,
                "; ".join(line.cancel_reasons),
            ]
        )

    talks = book.create_sheet(_("Counselling")[:31])
    talks.append([_("Mode"), _("Sessions")])
    for label, n in report.counselling_by_mode:
        talks.append([label, n])
    talks.append([])
    talks.append([_("Presenting concern"), _("Sessions")])
    for label, n in report.counselling_by_concern:
        talks.append([label, n])

    stages = book.create_sheet(_("Staged acceptance")[:31])
    stages.append([_("Stage"), _("Due"), _("Accepted"), _("Accepted by"), _("Acceptance note")])
    for m in report.milestones:
        stages.append(
            [m.title, m.due_on, m.accepted_on, str(m.accepted_by) if m.accepted_by else "", m.note]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
