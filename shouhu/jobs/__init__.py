"""Periodic jobs, run by one worker without extra servers (`shouhu jobs run`), or from cron
or a process manager (`shouhu jobs run --once` runs what is due and exits). The schedule is
in the database (`JobRun`): a restart neither delays a daily job nor runs it twice. Every job
is idempotent: running it twice, or late, does no harm."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from shouhu.lib import clock

logger = logging.getLogger(__name__)


def _escalate() -> str:
    from shouhu.screening import safeguarding

    return f"{len(safeguarding.escalate_overdue())} escalated"


def _remind() -> str:
    from shouhu.cases import followups

    reminded, escalated = followups.remind()
    return f"{reminded} reminded, {escalated} overdue reported"


def _session_reminders() -> str:
    from shouhu.reunion import notices

    return f"{notices.remind_sessions()} sessions reminded"


def _no_contact() -> str:
    from shouhu.reunion import attendance

    return f"{attendance.no_contact_alerts()} children without contact"


def _categories() -> str:
    from shouhu.children import categories

    return f"{categories.children_recompute_due()} recomputed"


def _risk() -> str:
    from shouhu.screening import risk

    return f"{risk.recompute_all()} recomputed"


def _volunteers() -> str:
    from shouhu.volunteers import services

    return f"{services.lapse()} volunteers lapsed"


def _surrogates() -> str:
    from shouhu.surrogates import services

    opened, closed = services.missed()
    return f"{opened} missed surrogate contacts, {closed} kept again"


def _linkage() -> str:
    from shouhu.linkage import matching

    run = matching.run_matching()
    return f"{run.linked} linked, {run.to_review} to review"


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    run: Callable[[], str]


JOBS = (
    Job("escalate_alerts", dt.timedelta(minutes=1), _escalate),
    Job("case_reminders", dt.timedelta(hours=1), _remind),
    Job("session_reminders", dt.timedelta(minutes=10), _session_reminders),
    Job("no_contact_alerts", dt.timedelta(days=1), _no_contact),
    Job("recompute_categories", dt.timedelta(days=1), _categories),
    Job("recompute_risk", dt.timedelta(days=1), _risk),
    Job("volunteer_clearance", dt.timedelta(days=1), _volunteers),
    Job("surrogate_contacts", dt.timedelta(days=1), _surrogates),
    Job("record_linkage", dt.timedelta(days=1), _linkage),
)
# A job started this long ago and not finished is taken to have died with its worker.
LEASE = dt.timedelta(minutes=30)


def due(job: Job, row: Any, now: dt.datetime) -> bool:
    """Never succeeded, or its interval has passed since it last succeeded; and not running
    in another worker now."""
    running = (
        row.started_at is not None
        and (row.finished_at is None or row.finished_at < row.started_at)
        and now - row.started_at < LEASE
    )
    if running:
        return False
    return row.succeeded_at is None or now - row.succeeded_at >= job.every


def _claim(job: Job, now: dt.datetime) -> bool:
    """Mark the job started if it is due (one transaction: two workers never both claim)."""
    from shouhu.jobs.models import JobRun

    with transaction.atomic():
        JobRun.objects.get_or_create(name=job.name)
        row = JobRun.objects.select_for_update().get(name=job.name)
        if not due(job, row, now):
            return False
        row.started_at = now
        row.save(update_fields=["started_at"])
        return True


def run_due(now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """Run every job that is due; record each outcome. A failing job is logged, recorded
    and tried again at the next tick."""
    from shouhu.jobs.models import JobRun

    now = now or clock.now()
    done = []
    for job in JOBS:
        if not _claim(job, now):
            continue
        try:
            outcome = job.run()
        except Exception as exc:
            logger.exception("job %s failed", job.name)
            JobRun.objects.filter(name=job.name).update(
                finished_at=clock.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
            )
            continue
        JobRun.objects.filter(name=job.name).update(
            finished_at=clock.now(), succeeded_at=now, outcome=outcome[:200], error=""
        )
        done.append((job.name, outcome))
    return done


def schedule(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Each job with its last run and when it is next due (`shouhu jobs status`)."""
    from shouhu.jobs.models import JobRun

    now = now or clock.now()
    rows = {r.name: r for r in JobRun.objects.all()}
    out = []
    for job in JOBS:
        row = rows.get(job.name)
        succeeded = row.succeeded_at if row else None
        out.append(
            {
                "name": job.name,
                "every": job.every,
                "succeeded_at": succeeded,
                "next_due": succeeded + job.every if succeeded else now,
                "outcome": row.outcome if row else "",
                "error": row.error if row else "",
            }
        )
    return out


def run_forever(tick: float = 15.0) -> None:  # pragma: no cover - a loop around run_due
    while True:
        for name, outcome in run_due():
            logger.info("job %s: %s", name, outcome)
        time.sleep(tick)
