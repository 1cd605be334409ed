"""`shouhu jobs run` — the periodic jobs of `shouhu.jobs` in one worker process (escalation
every minute; categories and risk daily). `--once` runs each job once and exits (cron)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from shouhu import jobs
from shouhu.lib import clock


class Command(BaseCommand):
    help = "Run the periodic jobs (alert escalation, category and risk recomputation)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run")
        run.add_argument("--once", action="store_true", help="Run every job once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["once"]:
            jobs.run_forever()
            return
        now = clock.now()
        last = {job.name: now - job.every for job in jobs.JOBS}
        for name, outcome in jobs.run_due(last, now):
            self.stdout.write(f"{name}: {outcome}")
