"""`shouhu demo load [--children N]`: the demo county (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhu.audit import context
from shouhu.demo.services import demo_load


class Command(BaseCommand):
    help = "Load the demo county: organisations, demo users and about 5,000 children."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load"])
        parser.add_argument("--children", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["children"] < 50:
            raise CommandError("--children must be at least 50.")
        token = context.set_context(context.AuditContext(source="demo"))
        try:
            result = demo_load(children=options["children"], seed=options["seed"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        finally:
            context.reset_context(token)
        self.stdout.write(
            f"Demo county: {result.created} children registered, {result.skipped} already "
            f"there ({result.seconds:.1f} s)."
        )
