"""Periodic jobs, run by one worker without extra servers (`shouhu jobs run`), or once each
from cron (`shouhu jobs run --once`). Every job is idempotent: running it twice, or late,
does no harm."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from shouhu.lib import clock

logger = logging.getLogger(__name__)


def _escalate() -> str:
    from shouhu.screening import safeguarding

    return f"{len(safeguarding.escalate_overdue())} escalated"


def _remind() -> str:
    from shouhu.cases import services

    reminded, escalated = services.remind()
    return f"{reminded} reminded, {escalated} overdue reported"


def _session_reminders() -> str:
    from shouhu.reunion import services

    return f"{services.remind_sessions()} sessions reminded"


def _no_contact() -> str:
    from shouhu.reunion import services

    return f"{services.no_contact_alerts()} children without contact"


def _categories() -> str:
    from shouhu.children import services

    return f"{services.children_recompute_due()} recomputed"


def _risk() -> str:
    from shouhu.screening import risk

    return f"{risk.recompute_all()} recomputed"


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    run: Callable[[], str]
    at_start: bool  # run as soon as the worker starts (else after the first interval)


JOBS = (
    Job("escalate_alerts", dt.timedelta(minutes=1), _escalate, at_start=True),
    Job("case_reminders", dt.timedelta(hours=1), _remind, at_start=True),
    Job("session_reminders", dt.timedelta(minutes=10), _session_reminders, at_start=True),
    Job("no_contact_alerts", dt.timedelta(days=1), _no_contact, at_start=False),
    Job("recompute_categories", dt.timedelta(days=1), _categories, at_start=False),
    Job("recompute_risk", dt.timedelta(days=1), _risk, at_start=False),
)


def run_due(last: dict[str, dt.datetime], now: dt.datetime) -> list[tuple[str, str]]:
    """Run every job whose interval has passed since `last[name]` (missing = due when
    `at_start`); update `last`; a failing job is logged and tried again next time."""
    done = []
    for job in JOBS:
        previous = last.get(job.name)
        if previous is None and not job.at_start:
            last[job.name] = now
            continue
        if previous is not None and now - previous < job.every:
            continue
        try:
            done.append((job.name, job.run()))
        except Exception:
            logger.exception("job %s failed", job.name)
            continue
        last[job.name] = now
    return done


def run_forever(tick: float = 15.0) -> None:  # pragma: no cover - a loop around run_due
    last: dict[str, dt.datetime] = {}
    while True:
        for name, outcome in run_due(last, clock.now()):
            logger.info("job %s: %s", name, outcome)
        time.sleep(tick)
