"""`shouhu safeguarding escalate`: the periodic job (run it every minute from cron or the
task runner). Idempotent: each overdue alert moves up one level once per deadline."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from shouhu.screening import safeguarding


class Command(BaseCommand):
    help = "Escalate safeguarding alerts not acknowledged in time."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("escalate", help="Escalate overdue alerts one level")

    def handle(self, *args: Any, **options: Any) -> None:
        escalated = safeguarding.escalate_overdue()
        self.stdout.write(f"{len(escalated)} alert(s) escalated.")
