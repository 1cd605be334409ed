"""`shouhu risk recompute`: recompute every child's risk level and follow-up task (the daily
job, and after a bulk import, which leaves risk to it)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from shouhu.screening import risk


class Command(BaseCommand):
    help = "Recompute risk levels and follow-up tasks."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("recompute", help="Recompute every child")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{risk.recompute_all()} children recomputed.")
