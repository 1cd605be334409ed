"""`shouhu link files --left LEFT.csv --right RIGHT.csv --output LINKS.csv [--threshold P]
[--backend duckdb|spark]`: link a home and a destination file of child records.

A file that cannot be linked (unreadable, a missing column, a duplicate record_id, a
malformed value) stops the command with the line and column named and exit code 2, and no
output file is written; the output is written to a temporary file and renamed.
"""

from __future__ import annotations

from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shouhu.linkage import engine, files

INPUT_ERROR = 2


def _probability(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 < number < 1.0:
        raise ArgumentTypeError(f"{value!r} is not a probability between 0 and 1")
    return number


class Command(BaseCommand):
    help = "Record linkage: link the child records of two files."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        link = sub.add_parser("files", help="Link two CSV files of child records")
        link.add_argument("--left", required=True, help="The home records (CSV)")
        link.add_argument("--right", required=True, help="The destination records (CSV)")
        link.add_argument("--output", required=True, help="Where to write the links (CSV)")
        link.add_argument(
            "--threshold",
            type=_probability,
            default=engine.DEFAULT_THRESHOLD,
            help=f"Lowest match probability linked (default {engine.DEFAULT_THRESHOLD})",
        )
        link.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            left = files.read_records(options["left"])
            right = files.read_records(options["right"])
        except files.LinkInputError as exc:
            raise CommandError(str(exc), returncode=INPUT_ERROR) from exc
        try:
            links = engine.link(
                left,
                right,
                options=engine.Options(threshold=options["threshold"], backend=options["backend"]),
            )
        except ImportError as exc:  # pyspark is optional
            raise CommandError(
                f"The {options['backend']} backend is not installed ({exc}); the Spark "
                "backend needs requirements-spark.txt and Java 17."
            ) from exc
        files.write_links(options["output"], links)
        self.stdout.write(
            f"{len(links)} links between {len(left)} left and {len(right)} right records."
        )
