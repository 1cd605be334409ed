"""`shouhu import children FILE [--as USERNAME] [--dry-run]`: the web import, from a shell.

With `--as` the command acts as that user, so the same access rules apply: the user must be
one who registers children (`access.can_register`), and rows outside their area are errors.
Without it, the operator at the server imports for any place, and
the access log records a system import. Exits non-zero when the file has any problem;
nothing is written then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhu.accounts.models import User
from shouhu.audit import context
from shouhu.children import importing


class Command(BaseCommand):
    help = "Import children, households and guardians from an .xlsx or CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["children"], help="What the file holds.")
        parser.add_argument("file", type=Path, help="The .xlsx or .csv file.")
        parser.add_argument(
            "--as",
            dest="username",
            default="",
            help="Import as this user: their area decides which villages they may register "
            "(default: the system operator, any place).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["username"]:
            user = User.objects.filter(username=options["username"], is_active=True).first()
            if user is None:
                raise CommandError(f"No active user {options['username']!r}.")
            if not importing.can_import(user):
                raise CommandError(f"{user.username} may not register children anywhere.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        token = context.set_context(context.AuditContext(source="command"))
        try:
            with path.open("rb") as handle:
                report = importing.import_children_file(
                    actor=user, file=handle, file_name=path.name, dry_run=options["dry_run"]
                )
        finally:
            context.reset_context(token)
        for message in report.file_errors:
            self.stderr.write(f"{path.name}: {message}")
        for problem in report.problems:
            self.stderr.write(str(problem))
        if not report.ok:
            raise CommandError(f"{report.error_count} problem(s); nothing was imported.")
        verb = "would be created" if report.dry_run else "created"
        self.stdout.write(
            f"{report.created} {verb}, {report.skipped} skipped (already registered)."
        )
