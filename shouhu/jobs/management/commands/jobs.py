"""`shouhu jobs run` — the periodic jobs of `shouhu.jobs` in one worker process (escalation
every minute; categories and risk daily). `--once` runs what is due and exits (cron, a
process manager); `status` shows each job's last run and when it is next due."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from shouhu import jobs


class Command(BaseCommand):
    help = "Run the periodic jobs (alert escalation, category and risk recomputation)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run")
        run.add_argument("--once", action="store_true", help="Run what is due and exit")
        sub.add_parser("status", help="Each job's last run and when it is next due")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "status":
            for row in jobs.schedule():
                when = row["succeeded_at"].isoformat() if row["succeeded_at"] else "never"
                self.stdout.write(
                    f"{row['name']}: last {when}, next {row['next_due'].isoformat()}"
                    + (f", failed: {row['error']}" if row["error"] else "")
                )
            return
        if not options["once"]:
            jobs.run_forever()
            return
        for name, outcome in jobs.run_due():
            self.stdout.write(f"{name}: {outcome}")
