"""A child's risk colour, recomputed from its inputs, and the follow-up visits it sets.

Inputs, gathered as flat facts for the rules of `shouhu.lib.risk` (the rules file is
`risk_rules.toml` here, or the file `settings.SHOUHU_RISK_RULES` names):

- `living_arrangement`, `guardianship_rating`, `categories` (derived category codes);
- `home_visit_band`, `home_visit_actions`, `home_visit_flags` of the latest home-visit needs
  assessment, and its answers on contact: `parent_last_seen` (0 within 6 months, 1 6–12
  months, 2 over 12) and `parent_contact` (0 weekly, 1 less often, 2 none for a month);
- `screening_follow_up` and `screening_actions`: the latest result of each mental-health
  screening in the last `SCREENING_WINDOW_DAYS`;
- `strengths_band` of the latest strengths profile;
- `open_alerts` and `open_imminent_alerts`: safeguarding alerts not yet closed;
- `open_mandatory_reports` (not yet completed with the police's reference) and
  `recent_mandatory_reports` (opened in the last `REPORT_WINDOW_DAYS`, completed or not);
- `left_behind` (either count of left-behind children), `surrogate_parent` (an active
  surrogate-parent arrangement) and `surrogate_contact_missed` (one of its agreed contact
  cadences is missed: `surrogates.selectors.standings`).

`recompute(child)` is called by every service that changes one of them (registry changes,
administrations, alerts); it stores the level with its reasons and keeps exactly one open
home-visit task for the child, due by the interval of the level, assigned to a child director
of the child's village.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from shouhu.accounts.models import Membership, Role, User
from shouhu.children.models import Child
from shouhu.lib import clock, dates
from shouhu.lib import risk as rules_lib
from shouhu.lib.categories import CATEGORY_CODES
from shouhu.screening.models import (
    Administration,
    Alert,
    AlertStatus,
    HomeVisit,
    MandatoryReport,
    Priority,
    RiskLevel,
)
from shouhu.screening.services import answers_of
from shouhu.surrogates.selectors import standings
from shouhu.tasks import services as task_services
from shouhu.tasks.models import Task, TaskKind, TaskStatus

DEFAULT_RULES = Path(__file__).resolve().parent / "risk_rules.toml"
SCREENING_WINDOW_DAYS = 180
REPORT_WINDOW_DAYS = 180
HOME_VISIT = "home_visit"


@cache
def _load(path: str) -> rules_lib.Rules:
    return rules_lib.load(Path(path))


def rules() -> rules_lib.Rules:
    return _load(str(getattr(settings, "SHOUHU_RISK_RULES", "") or DEFAULT_RULES))


@dataclass
class Inputs:
    """What the rules read about one child besides the registry row."""

    administrations: list[Administration] = field(default_factory=list)  # oldest first
    open_alerts: list[str] = field(default_factory=list)  # priorities of alerts not closed
    last_seen: dt.date | None = None  # the latest in-person contact in the contact log
    reports: list[tuple[dt.datetime, bool]] = field(default_factory=list)  # (opened, completed)
    last_visit: dt.date | None = None  # the latest recorded home visit
    surrogate: bool = False  # an active surrogate-parent arrangement
    surrogate_missed: bool = False  # and one of its contact cadences is missed


def inputs_for(child_ids: Sequence[int], *, today: dt.date | None = None) -> dict[int, Inputs]:
    """Inputs of many children in a few queries each for all of them (the administrations
    without their encrypted answers, except the home visits whose contact answers the rules
    read)."""
    inputs = {pk: Inputs() for pk in child_ids}
    for child_id, found in standings(child_ids=child_ids, today=today or clock.today()).items():
        inputs[child_id].surrogate = True
        inputs[child_id].surrogate_missed = found.is_missed
    for a in Administration.objects.filter(child_id__in=child_ids).order_by(
        "administered_at", "id"
    ):
        inputs[a.child_id].administrations.append(a)
    for child_id, priority in (
        Alert.objects.filter(child_id__in=child_ids)
        .exclude(status=AlertStatus.CLOSED)
        .values_list("child_id", "priority")
    ):
        inputs[child_id].open_alerts.append(priority)
    for child_id, opened_at, completed_at in MandatoryReport.objects.filter(
        child_id__in=child_ids
    ).values_list("child_id", "opened_at", "completed_at"):
        inputs[child_id].reports.append((opened_at, completed_at is not None))
    from django.db.models import Max

    from shouhu.reunion.models import IN_PERSON, Contact

    for row in (
        Contact.objects.filter(child_id__in=child_ids, mode__in=IN_PERSON)
        .values("child_id")
        .annotate(last=Max("on"))
    ):
        inputs[row["child_id"]].last_seen = row["last"]
    for row in (
        HomeVisit.objects.filter(child_id__in=child_ids)
        .values("child_id")
        .annotate(last=Max("visited_on"))
    ):
        inputs[row["child_id"]].last_visit = row["last"]
    return inputs


def _last(rows: Sequence[Administration], **match: str) -> Administration | None:
    found = [a for a in rows if all(getattr(a, k) == v for k, v in match.items())]
    return found[-1] if found else None


def facts_for(child: Child, inputs: Inputs, now: dt.datetime) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "living_arrangement": child.living_arrangement,
        "guardianship_rating": child.guardianship_rating or None,
        "categories": [code for code in CATEGORY_CODES if getattr(child, f"cat_{code}")],
        "left_behind": child.cat_left_behind_mca or child.cat_left_behind_census,
        "surrogate_parent": inputs.surrogate,
        "surrogate_contact_missed": inputs.surrogate_missed,
    }
    rows = inputs.administrations
    visit = _last(rows, instrument=HOME_VISIT)
    if visit is not None:
        answers = answers_of(visit)
        facts.update(
            home_visit_band=visit.band or None,
            home_visit_actions=sorted({f["action"] for f in visit.flags}),
            home_visit_flags=sorted({f["code"] for f in visit.flags}),
            parent_last_seen=answers.get("hv_parent_last_seen"),
            parent_contact=answers.get("hv_parent_contact"),
            last_home_visit=visit.administered_at.isoformat(),
        )
    if inputs.last_visit is not None and (
        visit is None or inputs.last_visit > timezone.localtime(visit.administered_at).date()
    ):
        facts["last_home_visit"] = inputs.last_visit.isoformat()
    if inputs.last_seen is not None:
        # The contact log's dates are exact: they take precedence over the visit's answer.
        today = timezone.localtime(now).date()
        if inputs.last_seen > dates.add_months(today, -6):
            facts["parent_last_seen"] = 0
        elif inputs.last_seen > dates.add_months(today, -12):
            facts["parent_last_seen"] = 1
        else:
            facts["parent_last_seen"] = 2
        facts["last_seen_in_person"] = inputs.last_seen.isoformat()
    since = now - dt.timedelta(days=SCREENING_WINDOW_DAYS)
    latest = {a.instrument: a for a in rows if a.kind == "screening" and a.administered_at >= since}
    facts["screening_follow_up"] = any(a.follow_up for a in latest.values())
    facts["screening_actions"] = sorted({a.action for a in latest.values() if a.action})
    strengths = _last(rows, kind="strengths")
    facts["strengths_band"] = strengths.band if strengths else None
    facts["open_alerts"] = len(inputs.open_alerts)
    facts["open_imminent_alerts"] = inputs.open_alerts.count(Priority.IMMINENT)
    facts["open_mandatory_reports"] = sum(1 for _, done in inputs.reports if not done)
    recent = now - dt.timedelta(days=REPORT_WINDOW_DAYS)
    facts["recent_mandatory_reports"] = sum(1 for at, _ in inputs.reports if at >= recent)
    return facts


def directors_of(villages: Iterable[str]) -> dict[str, User]:
    """The child director of each village (the first appointed, if several)."""
    found: dict[str, User] = {}
    for m in (
        Membership.objects.filter(
            role=Role.CHILD_DIRECTOR,
            active=True,
            user__is_active=True,
            organisation__active=True,
            organisation__jurisdiction_id__in=set(villages),
        )
        .select_related("user", "organisation")
        .order_by("id")
    ):
        found.setdefault(m.organisation.jurisdiction_id, m.user)
    return found


def _assess(child: Child, inputs: Inputs, now: dt.datetime) -> RiskLevel:
    current = rules()
    facts = facts_for(child, inputs, now)
    result = rules_lib.evaluate(current, facts)
    return RiskLevel(
        child=child,
        level=result.level,
        reasons=[
            {"code": r.code, "level": r.level, "label": dict(r.label)} for r in result.reasons
        ],
        facts=facts,
        computed_at=now,
        interval_days=current.intervals[result.level],
        residence=child.residence_id,
    )


def _visit_task(
    level: RiskLevel,
    inputs: Inputs,
    task: Task | None,
    director: User | None,
    now: dt.datetime,
) -> tuple[Task, bool]:
    """The child's open home-visit task after this assessment, and whether it must be
    written: due `interval` days after the last visit (or from now when there has been
    none); a more urgent level brings an open task forward, never back."""
    last = _last(inputs.administrations, instrument=HOME_VISIT)
    assessed = timezone.localtime(last.administered_at).date() if last else None
    visited = max((d for d in (assessed, inputs.last_visit) if d is not None), default=None)
    start = visited or timezone.localtime(now).date()
    due = start + dt.timedelta(days=level.interval_days)
    reason = level.reasons[0]["code"] if level.reasons else "routine"
    if task is None:
        return (
            Task(
                child_id=level.child_id,
                kind=TaskKind.HOME_VISIT,
                title=gettext_noop("Home visit"),  # shown in the reader's language
                due_on=due,
                reason=reason,
                level=level.level,
                assignee=director,
                created_at=now,
                residence=level.residence,
            ),
            True,
        )
    changed = False
    visited_since = visited is not None and timezone.localtime(task.created_at).date() < visited
    if due < task.due_on or visited_since:
        task.due_on, changed = due, True
    if task.level != level.level or task.reason != reason:
        task.level, task.reason, changed = level.level, reason, True
    if task.assignee_id is None and director is not None:
        task.assignee, changed = director, True
    if task.residence != level.residence:
        task.residence, changed = level.residence, True
    return task, changed


LEVEL_FIELDS = ["level", "reasons", "facts", "computed_at", "interval_days", "residence"]
TASK_FIELDS = ["due_on", "level", "reason", "assignee", "residence"]


@transaction.atomic
def recompute(child: Child, *, now: dt.datetime | None = None) -> RiskLevel:
    now = now or clock.now()
    child = Child.objects.select_for_update().get(pk=child.pk)
    inputs = inputs_for([child.pk], today=timezone.localtime(now).date())[child.pk]
    level = _assess(child, inputs, now)
    RiskLevel.objects.update_or_create(
        child=child, defaults={name: getattr(level, name) for name in LEVEL_FIELDS}
    )
    open_task = Task.objects.filter(
        child=child, kind=TaskKind.HOME_VISIT, status=TaskStatus.OPEN
    ).first()
    director = directors_of([child.residence_id]).get(child.residence_id)
    task, changed = _visit_task(level, inputs, open_task, director, now)
    if task.pk is None:
        task.save()
    elif changed:
        task.save(update_fields=TASK_FIELDS)
    return level


def recompute_all(
    *, ids: Sequence[int] | None = None, batch: int = 1000, now: dt.datetime | None = None
) -> int:
    """Every child (or those of `ids`), a batch at a time: the daily job, and the end of a
    bulk registration. The same assessment as `recompute`, with a few queries per batch."""
    now = now or clock.now()
    done = 0
    if ids is None:
        ids = list(Child.objects.order_by("pk").values_list("pk", flat=True))
    for offset in range(0, len(ids), batch):
        chunk = ids[offset : offset + batch]
        with transaction.atomic():
            children = list(Child.objects.filter(pk__in=chunk).select_for_update())
            inputs = inputs_for(chunk, today=timezone.localtime(now).date())
            directors = directors_of({c.residence_id for c in children})
            tasks = {
                t.child_id: t
                for t in Task.objects.filter(
                    child_id__in=chunk, kind=TaskKind.HOME_VISIT, status=TaskStatus.OPEN
                )
            }
            levels: list[RiskLevel] = []
            new_tasks: list[Task] = []
            changed_tasks: list[Task] = []
            for child in children:
                level = _assess(child, inputs[child.pk], now)
                levels.append(level)
                task, changed = _visit_task(
                    level,
                    inputs[child.pk],
                    tasks.get(child.pk),
                    directors.get(child.residence_id),
                    now,
                )
                if task.pk is None:
                    new_tasks.append(task)
                elif changed:
                    changed_tasks.append(task)
            RiskLevel.objects.bulk_create(
                levels, update_conflicts=True, unique_fields=["child"], update_fields=LEVEL_FIELDS
            )
            Task.objects.bulk_create(new_tasks)
            Task.objects.bulk_update(changed_tasks, TASK_FIELDS)
        done += len(children)
    return done


def assess_new(children: Sequence[Child], *, now: dt.datetime | None = None) -> int:
    """First assessment of children registered in this transaction (a bulk registration):
    they have no administrations, alerts, reports, contacts or tasks yet, so the registry
    row is all the rules read, and nothing is read back. The same levels and visit tasks as
    `recompute_all`, without its per-batch queries."""
    now = now or clock.now()
    empty = Inputs()
    directors = directors_of({c.residence_id for c in children})
    levels: list[RiskLevel] = []
    new_tasks: list[Task] = []
    for child in children:
        level = _assess(child, empty, now)
        levels.append(level)
        task, _ = _visit_task(level, empty, None, directors.get(child.residence_id), now)
        new_tasks.append(task)
    RiskLevel.objects.bulk_create(levels, batch_size=2000)
    Task.objects.bulk_create(new_tasks, batch_size=2000)
    return len(levels)


def visit_done(administration: Administration, *, now: dt.datetime | None = None) -> None:
    """A home-visit assessment closes the open visit task (the next one is scheduled by the
    recomputation that follows)."""
    task_services.home_visit_done(
        administration.child_id,
        by=administration.administered_by,
        now=now or clock.now(),
        administration_id=administration.pk,
    )
