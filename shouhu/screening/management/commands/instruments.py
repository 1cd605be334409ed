"""`shouhu instruments list | check | install-text CODE FILE | enable CODE | disable CODE`.

`install-text` reads a JSON object of item id → text for one language, installed under the
licence given with `--licence` (required). Instruments shipped as scoring definitions only
cannot be enabled before their licensed text is installed.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from shouhu.lib import instruments as defs
from shouhu.screening import registry


def _fail(exc: ValidationError) -> CommandError:
    return CommandError("; ".join(f"{k}: {', '.join(v)}" for k, v in exc.message_dict.items()))


class Command(BaseCommand):
    help = "List, check, license and enable screening instruments."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Instruments with their licence and whether enabled")
        check = sub.add_parser("check", help="Validate definition files")
        check.add_argument("paths", nargs="*", type=Path)
        install = sub.add_parser("install-text", help="Install licensed item text")
        install.add_argument("code")
        install.add_argument("file", type=Path)
        install.add_argument("--language", default="zh-Hans", choices=["zh-Hans", "en"])
        install.add_argument("--licence", required=True, help="Licence or permission reference")
        for name in ("enable", "disable"):
            p = sub.add_parser(name)
            p.add_argument("code")
            p.add_argument("--licence", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for inst, on in registry.catalogue():
                state = "enabled" if on else "disabled"
                self.stdout.write(
                    f"{inst.code}\t{inst.version}\t{inst.text}\t{state}\t{inst.name.text('en')}"
                )
        elif action == "check":
            paths = options["paths"] or sorted(registry.DEFINITIONS.glob("*.toml"))
            for path in paths:
                try:
                    defs.load(path)
                except defs.DefinitionError as exc:
                    raise CommandError(str(exc)) from exc
            self.stdout.write(f"{len(paths)} definitions are valid.")
        elif action == "install-text":
            try:
                texts = json.loads(options["file"].read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{options['file']}: {exc}") from exc
            if not isinstance(texts, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in texts.items()
            ):
                raise CommandError(f"{options['file']}: expected an object of item id → text")
            try:
                registry.install_text(
                    actor=None,
                    code=options["code"],
                    language=options["language"],
                    texts=texts,
                    reference=options["licence"],
                )
            except ValidationError as exc:
                raise _fail(exc) from exc
            self.stdout.write(
                f"Installed {len(texts)} items of {options['code']} ({options['language']})."
            )
        else:
            try:
                registry.set_enabled(
                    actor=None,
                    code=options["code"],
                    on=action == "enable",
                    reference=options["licence"],
                )
            except ValidationError as exc:
                raise _fail(exc) from exc
            self.stdout.write(f"{options['code']}: {action}d.")
