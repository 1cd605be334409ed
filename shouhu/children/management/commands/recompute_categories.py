"""Daily job: recompute categories that change with time alone (birthdays, six months away).

Idempotent; schedule it once a day (cron or the task runner)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shouhu.audit import context
from shouhu.children.categories import children_recompute_due


class Command(BaseCommand):
    help = "Recompute derived categories of children whose categories may have changed today."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--on", type=dt.date.fromisoformat, help="Date (default: today).")

    def handle(self, *args: Any, **options: Any) -> None:
        token = context.set_context(context.AuditContext(source="command"))
        try:
            count = children_recompute_due(on=options["on"])
        finally:
            context.reset_context(token)
        self.stdout.write(self.style.SUCCESS(f"Recomputed {count} children."))
