"""The periodic jobs: due by interval from the schedule in the database (a restart delays
nothing and repeats nothing), idempotent, `--once` for cron, one worker per job at a time."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from shouhu import jobs
from shouhu.jobs.models import JobRun
from shouhu.screening.models import RiskLevel
from tests.world import NOW, World

pytestmark = pytest.mark.django_db

ALL = [
    "escalate_alerts",
    "case_reminders",
    "session_reminders",
    "no_contact_alerts",
    "recompute_categories",
    "recompute_risk",
    "volunteer_clearance",
    "surrogate_contacts",
    "record_linkage",
]


def _names(done: list[tuple[str, str]]) -> list[str]:
    return [name for name, _ in done]


def test_each_job_runs_when_its_interval_has_passed(world: World) -> None:
    assert _names(jobs.run_due(NOW)) == ALL  # nothing ran yet: everything is due
    assert jobs.run_due(NOW + dt.timedelta(seconds=30)) == []
    assert _names(jobs.run_due(NOW + dt.timedelta(minutes=1))) == ["escalate_alerts"]
    assert _names(jobs.run_due(NOW + dt.timedelta(hours=1))) == [
        "escalate_alerts",
        "case_reminders",
        "session_reminders",
    ]
    assert _names(jobs.run_due(NOW + dt.timedelta(days=1))) == ALL


def test_a_restart_neither_delays_nor_repeats_the_daily_jobs(world: World) -> None:
    """The schedule is in the database: a worker started again an hour later (or cron with
    `--once`) runs only what is due, and the daily jobs a day after they last ran."""
    jobs.run_due(NOW)
    out = StringIO()
    later = NOW + dt.timedelta(hours=1)
    import time_machine

    with time_machine.travel(later, tick=False):
        call_command("jobs", "run", "--once", stdout=out)
    assert "recompute_risk" not in out.getvalue() and "escalate_alerts" in out.getvalue()
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        out = StringIO()
        call_command("jobs", "run", "--once", stdout=out)
    assert "recompute_risk" in out.getvalue()
    status = StringIO()
    call_command("jobs", "status", stdout=status)
    assert "recompute_risk: last" in status.getvalue()


def test_once_on_a_new_database_runs_every_job(world: World) -> None:
    RiskLevel.objects.all().delete()
    out = StringIO()
    call_command("jobs", "run", "--once", stdout=out)
    assert all(name in out.getvalue() for name in ALL)
    assert RiskLevel.objects.exists()


def test_a_failing_job_is_recorded_and_retried_next_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("down")
        return "ok"

    monkeypatch.setattr(jobs, "JOBS", (jobs.Job("x", dt.timedelta(hours=1), flaky),))
    assert jobs.run_due(NOW) == []
    row = JobRun.objects.get(name="x")
    assert row.error == "RuntimeError: down" and row.succeeded_at is None
    assert jobs.run_due(NOW + dt.timedelta(seconds=15)) == [("x", "ok")]
    row.refresh_from_db()
    assert row.error == "" and row.succeeded_at == NOW + dt.timedelta(seconds=15)


def test_a_job_running_in_another_worker_is_not_started_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs, "JOBS", (jobs.Job("x", dt.timedelta(minutes=1), lambda: "ok"),))
    JobRun.objects.create(name="x", started_at=NOW - dt.timedelta(minutes=5))
    assert jobs.run_due(NOW) == []  # started five minutes ago, not finished: running
    assert jobs.run_due(NOW + jobs.LEASE) == [("x", "ok")]  # its worker died: run again
