"""`shouhu handoff export --child ID --to PEER --output FILE --user USERNAME` and `shouhu
handoff import --file FILE --village CODE --user USERNAME`: hand a child's file to another
deployment, or receive one (`shouhu.handoff.services`, the same as the pages).

The user's access decides, as on the pages: a supervisor of the child's area exports, a
supervisor of the village's area imports. An error is one line with exit code 2, and no
output file is written (the package is written to a temporary file and renamed). An existing
file is overwritten only with `--force`; a package that could not be written is not recorded
as sent (the export and the file are one transaction).
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction
from django.http import Http404

from shouhu import access
from shouhu.accounts.models import User
from shouhu.handoff import receiving, services
from shouhu.handoff.cli import as_command, fail, one_line, read_file, user_named, write_atomically
from shouhu.handoff.models import IncomingStatus, Peer


class Command(BaseCommand):
    help = "Hand a child's file to another deployment, or receive one."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write a child's hand-off package")
        export.add_argument("--child", required=True, help="The child's number")
        export.add_argument("--to", required=True, help="The trusted peer's name")
        export.add_argument("--output", type=Path, required=True, help="The package file")
        export.add_argument("--force", action="store_true", help="Overwrite the output file")
        imported = sub.add_parser("import", help="Receive a hand-off package")
        imported.add_argument("--file", type=Path, required=True, help="The package file")
        imported.add_argument("--village", required=True, help="The destination village code")
        for part in (export, imported):
            part.add_argument("--user", required=True, help="The supervisor (a username)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_named(options["user"])
        try:
            with as_command():
                if options["action"] == "export":
                    self._export(user, options)
                else:
                    self._import(user, options)
        except ValidationError as exc:
            raise fail(one_line(exc)) from None
        except PermissionDenied as exc:
            raise fail(str(exc) or "Not allowed.") from None

    def _export(self, user: User, options: dict[str, Any]) -> None:
        output: Path = options["output"]
        if not output.parent.is_dir():
            raise fail(f"No such directory: {output.parent}")
        if output.exists() and not options["force"]:
            raise fail(f"{output} exists already; give --force to overwrite it.")
        try:
            child = access.get_child_for_user(user, options["child"], purpose="handoff_export")
        except Http404:
            raise fail(f"No child {options['child']} that {user.username} may open.") from None
        peer = Peer.objects.filter(name=options["to"], revoked_at__isnull=True).first()
        if peer is None:
            raise fail(f"No trusted peer {options['to']!r}.")
        with transaction.atomic():  # a file not written is a package not sent
            exported = services.handoff_export(actor=user, child=child, peer=peer)
            write_atomically(output, exported.content)
        self.stdout.write(
            f"Package {exported.outgoing.package_id} for {peer.name} written to {output}."
        )

    def _import(self, user: User, options: dict[str, Any]) -> None:
        data = read_file(options["file"])
        incoming = receiving.handoff_import(actor=user, data=data, village_code=options["village"])
        if incoming.status == IncomingStatus.PENDING:
            self.stdout.write(
                f"Package {incoming.package_id}: the child may be registered already; "
                f"it waits for review at /handoff/incoming/{incoming.pk}/."
            )
        else:
            self.stdout.write(
                f"Package {incoming.package_id}: registered as child {incoming.child_id}."
            )
