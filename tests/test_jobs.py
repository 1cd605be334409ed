"""The periodic jobs: due by interval, idempotent, and `--once` for cron."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from shouhu import jobs
from shouhu.screening.models import RiskLevel
from tests.world import NOW, World


@pytest.mark.django_db
def test_escalation_runs_at_start_and_every_minute_daily_jobs_wait_a_day(world: World) -> None:
    last: dict[str, dt.datetime] = {}
    assert [name for name, _ in jobs.run_due(last, NOW)] == [
        "escalate_alerts",
        "case_reminders",
        "session_reminders",
    ]
    assert jobs.run_due(last, NOW + dt.timedelta(seconds=30)) == []
    assert [n for n, _ in jobs.run_due(last, NOW + dt.timedelta(minutes=1))] == ["escalate_alerts"]
    assert [n for n, _ in jobs.run_due(last, NOW + dt.timedelta(hours=1))] == [
        "escalate_alerts",
        "case_reminders",
        "session_reminders",
    ]
    ran = [n for n, _ in jobs.run_due(last, NOW + dt.timedelta(days=1))]
    assert ran == [
        "escalate_alerts",
        "case_reminders",
        "session_reminders",
        "no_contact_alerts",
        "recompute_categories",
        "recompute_risk",
    ]


@pytest.mark.django_db
def test_once_runs_every_job(world: World) -> None:
    RiskLevel.objects.all().delete()
    out = StringIO()
    call_command("jobs", "run", "--once", stdout=out)
    assert "escalate_alerts" in out.getvalue() and "recompute_risk" in out.getvalue()
    assert RiskLevel.objects.exists()


def test_a_failing_job_is_retried_next_time(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> str:
        raise RuntimeError("down")

    monkeypatch.setattr(jobs, "JOBS", (jobs.Job("x", dt.timedelta(minutes=1), boom, True),))
    last: dict[str, dt.datetime] = {}
    assert jobs.run_due(last, NOW) == [] and "x" not in last
