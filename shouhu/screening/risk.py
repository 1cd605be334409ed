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
- `open_alerts` and `open_imminent_alerts`: safeguarding alerts not yet closed.

`recompute(child)` is called by every service that changes one of them (registry changes,
administrations, alerts); it stores the level with its reasons and keeps exactly one open
home-visit task for the child, due by the interval of the level, assigned to a child director
of the child's village.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from shouhu.accounts import access
from shouhu.accounts.models import Membership, Role, User
from shouhu.children.models import Child
from shouhu.lib import risk as rules_lib
from shouhu.lib.categories import CATEGORY_CODES
from shouhu.screening.models import (
    Administration,
    Alert,
    AlertStatus,
    FollowUpTask,
    Priority,
    RiskLevel,
    TaskStatus,
)
from shouhu.screening.services import answers_of

DEFAULT_RULES = Path(__file__).resolve().parent / "risk_rules.toml"
SCREENING_WINDOW_DAYS = 180
HOME_VISIT = "home_visit"


@cache
def _load(path: str) -> rules_lib.Rules:
    return rules_lib.load(Path(path))


def rules() -> rules_lib.Rules:
    return _load(str(getattr(settings, "SHOUHU_RISK_RULES", "") or DEFAULT_RULES))


def _latest(child: Child, **filters: Any) -> Administration | None:
    return (
        Administration.objects.filter(child=child, **filters)
        .order_by("-administered_at", "-id")
        .first()
    )


def facts_for(child: Child, now: dt.datetime) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "living_arrangement": child.living_arrangement,
        "guardianship_rating": child.guardianship_rating or None,
        "categories": [code for code in CATEGORY_CODES if getattr(child, f"cat_{code}")],
    }
    visit = _latest(child, instrument=HOME_VISIT)
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
    since = now - dt.timedelta(days=SCREENING_WINDOW_DAYS)
    latest: dict[str, Administration] = {}
    for a in Administration.objects.filter(
        child=child, kind="screening", administered_at__gte=since
    ).order_by("administered_at", "id"):
        latest[a.instrument] = a
    facts["screening_follow_up"] = any(a.follow_up for a in latest.values())
    facts["screening_actions"] = sorted({a.action for a in latest.values() if a.action})
    strengths = _latest(child, kind="strengths")
    facts["strengths_band"] = strengths.band if strengths else None
    open_alerts = Alert.objects.filter(child=child).exclude(status=AlertStatus.CLOSED)
    facts["open_alerts"] = open_alerts.count()
    facts["open_imminent_alerts"] = open_alerts.filter(priority=Priority.IMMINENT).count()
    return facts


def responsible_director(child: Child) -> User | None:
    """The child director of the child's village (the first appointed, if several)."""
    membership = (
        Membership.objects.filter(
            role=Role.CHILD_DIRECTOR,
            active=True,
            user__is_active=True,
            organisation__active=True,
            organisation__jurisdiction_id=child.residence_id,
        )
        .select_related("user")
        .order_by("id")
        .first()
    )
    return membership.user if membership else None


@transaction.atomic
def recompute(child: Child, *, now: dt.datetime | None = None) -> RiskLevel:
    now = now or timezone.now()
    child = Child.objects.select_for_update().get(pk=child.pk)
    current = rules()
    facts = facts_for(child, now)
    result = rules_lib.evaluate(current, facts)
    interval = current.intervals[result.level]
    reasons = [{"code": r.code, "level": r.level, "label": dict(r.label)} for r in result.reasons]
    level, _created = RiskLevel.objects.update_or_create(
        child=child,
        defaults={
            "level": result.level,
            "reasons": reasons,
            "facts": facts,
            "computed_at": now,
            "interval_days": interval,
        },
    )
    _schedule_visit(child, level, now)
    return level


def _schedule_visit(child: Child, level: RiskLevel, now: dt.datetime) -> None:
    """One open home-visit task, due `interval` days after the last visit (or from now when
    there has been none); a more urgent level brings an open task forward, never back."""
    last = _latest(child, instrument=HOME_VISIT)
    start = timezone.localtime(last.administered_at if last else now).date()
    due = start + dt.timedelta(days=level.interval_days)
    reason = level.reasons[0]["code"] if level.reasons else "routine"
    task = FollowUpTask.objects.filter(child=child, kind=HOME_VISIT, status=TaskStatus.OPEN).first()
    if task is None:
        FollowUpTask.objects.create(
            child=child,
            kind=HOME_VISIT,
            due_on=due,
            reason=reason,
            level=level.level,
            assignee=responsible_director(child),
            created_at=now,
        )
        return
    changed = False
    if due < task.due_on or (last is not None and task.created_at < last.administered_at):
        task.due_on, changed = due, True
    if task.level != level.level or task.reason != reason:
        task.level, task.reason, changed = level.level, reason, True
    if task.assignee_id is None:
        task.assignee = responsible_director(child)
        changed = task.assignee is not None or changed
    if changed:
        task.save(update_fields=["due_on", "level", "reason", "assignee"])


def visit_done(administration: Administration, *, now: dt.datetime | None = None) -> None:
    """A home-visit assessment closes the open visit task (the next one is scheduled by the
    recomputation that follows)."""
    now = now or timezone.now()
    FollowUpTask.objects.filter(
        child_id=administration.child_id, kind=HOME_VISIT, status=TaskStatus.OPEN
    ).update(
        status=TaskStatus.DONE,
        done_at=now,
        done_by=administration.administered_by,
        administration=administration,
    )


def worklist(user: User, *, today: dt.date) -> QuerySet[FollowUpTask]:
    """Open tasks the user owes: assigned to them, or, for supervisors and officials, of the
    children in their jurisdiction."""
    area = access.jurisdiction_q(user, roles=frozenset({Role.SUPERVISOR, Role.OFFICIAL}))
    return (
        FollowUpTask.objects.filter(status=TaskStatus.OPEN)
        .filter(Q(assignee=user) | area)
        .select_related("child", "assignee")
        .order_by("due_on", "id")
    )


def recompute_all(*, batch: int = 500, now: dt.datetime | None = None) -> int:
    """Every child (the daily job, and after a bulk import): returns how many."""
    done = 0
    ids = Child.objects.order_by("pk").values_list("pk", flat=True)
    for pk in ids.iterator(chunk_size=batch):
        recompute(Child(pk=pk), now=now)
        done += 1
    return done
