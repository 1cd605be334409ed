"""`shouhu places load FILE...` loads division files; `shouhu places load --vendored` loads
the files shipped with Shouhu (county level in full, demo counties to village level)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhu.places.services import PlaceFileError, places_load, places_load_vendored


class Command(BaseCommand):
    help = "Load administrative divisions (NBS 12-digit codes)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="Load division CSV files (.csv or .csv.gz).")
        load.add_argument("files", nargs="*", type=Path)
        load.add_argument("--vendored", action="store_true", help="Load the bundled files.")
        load.add_argument("--edition", type=int, default=2023)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            if not options["files"] and not options["vendored"]:
                raise CommandError("Give one or more files, or --vendored.")
            try:
                total = places_load_vendored() if options["vendored"] else 0
                for path in options["files"]:
                    if not path.exists():
                        raise CommandError(f"{path}: no such file.")
                    n = places_load(path, edition=options["edition"])
                    self.stdout.write(f"{path.name}: {n} places")
                    total += n
            except PlaceFileError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS(f"Loaded {total} places."))
