"""`shouhu keys generate [--organisation ID] [--rotate] --user USERNAME`, `shouhu keys show`
(or `export-public`), `shouhu keys trust --file BUNDLE.json --name NAME [--replace] --user
USERNAME`, `shouhu keys list`, `shouhu keys revoke NAME-OR-FINGERPRINT --user USERNAME`: the
keys of hand-off packages (`shouhu.handoff.keys`). Who made, trusted or revoked a key is in
the change history: `--user` is required for those.

`show` prints this deployment's public bundle as JSON (the deployment's X25519 public key and
its organisations' Ed25519 verify keys, each with its fingerprint): give it to a peer, who
trusts it with `trust`, after both sides compare the fingerprints by another channel.
Errors are one line and exit code 2.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from shouhu.accounts.models import Organisation, User
from shouhu.handoff import keys
from shouhu.handoff.cli import as_command, fail, one_line, read_file, user_named

ACTED = frozenset({"generate", "trust", "revoke"})  # audited: an acting user is required


class Command(BaseCommand):
    help = "Keys of hand-off packages: this deployment's, its organisations', trusted peers'."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        generate = sub.add_parser(
            "generate", help="Make this deployment's or an organisation's key"
        )
        generate.add_argument("--organisation", type=int, help="An organisation's signing key")
        generate.add_argument("--rotate", action="store_true", help="Replace the current key")
        for name in ("show", "export-public"):
            sub.add_parser(name, help="Print this deployment's public key bundle (JSON)")
        trust = sub.add_parser("trust", help="Trust a peer deployment's public bundle")
        trust.add_argument("--file", type=Path, required=True, help="The peer's bundle (JSON)")
        trust.add_argument("--name", required=True, help="What to call the peer")
        trust.add_argument("--replace", action="store_true", help="Update a trusted peer's keys")
        sub.add_parser("list", help="List every key, own and trusted")
        revoke = sub.add_parser("revoke", help="Revoke a peer (by name) or a key (by fingerprint)")
        revoke.add_argument("target", help="A peer's name or a key's fingerprint")
        for part in (generate, trust, revoke):
            part.add_argument("--user", default="", help="Who does it (a username; required)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        actor: User | None = None
        if action in ACTED:
            if not options["user"]:
                raise fail(f"keys {action}: give who does it with --user USERNAME.")
            actor = user_named(options["user"])
        try:
            with as_command():
                if action == "generate":
                    self._generate(actor, options)
                elif action in ("show", "export-public"):
                    self._print(keys.public_bundle())
                elif action == "trust":
                    self._trust(actor, options)
                elif action == "list":
                    self._print(keys.key_list())
                else:
                    self.stdout.write(keys.key_revoke(actor=actor, target=options["target"]))
        except ValidationError as exc:
            raise fail(one_line(exc)) from None

    def _print(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str))

    def _generate(self, actor: User | None, options: dict[str, Any]) -> None:
        if options["organisation"] is None:
            key = keys.deployment_key_generate(actor=actor, rotate=options["rotate"])
            self.stdout.write(f"Deployment {key.deployment}: key {key.fingerprint}.")
            return
        organisation = Organisation.objects.filter(pk=options["organisation"]).first()
        if organisation is None:
            raise fail(f"No organisation {options['organisation']}.")
        signing = keys.signing_key_generate(
            actor=actor, organisation=organisation, rotate=options["rotate"]
        )
        self.stdout.write(f"{organisation.name}: signing key {signing.fingerprint}.")

    def _trust(self, actor: User | None, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        try:
            data = json.loads(read_file(path).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise fail(f"{path}: not a JSON file.") from None
        peer = keys.peer_trust(
            actor=actor,
            bundle=keys.read_bundle(data),
            name=options["name"],
            replace=options["replace"],
        )
        count = peer.keys.filter(revoked_at__isnull=True).count()
        self.stdout.write(
            f"Trusted {peer.name} ({peer.deployment}): key {peer.fingerprint}, "
            f"{count} organisation key(s)."
        )
