"""`shouhu programmes reaggregate [--project ID]`: rebuild the pre-aggregate of project
figures (`programmes.Served`) from the attendances and counselling records."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shouhu.programmes import served
from shouhu.programmes.models import Project


class Command(BaseCommand):
    help = "Programme maintenance: rebuild the figures' pre-aggregate."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        again = sub.add_parser("reaggregate", help="Rebuild the project figures from the records")
        again.add_argument("--project", type=int, help="Only this project (its number)")

    def handle(self, *args: Any, **options: Any) -> None:
        projects = Project.objects.order_by("pk")
        if options.get("project") is not None:
            projects = projects.filter(pk=options["project"])
            if not projects.exists():
                raise CommandError(f"There is no project {options['project']}.")
        total = 0
        for pk in projects.values_list("pk", flat=True):
            total += served.rebuild(pk)
        self.stdout.write(f"{projects.count()} projects, {total} participant-months.")
