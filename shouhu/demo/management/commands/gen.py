"""`shouhu gen --children N`: synthetic registry data at any scale (benchmarks)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhu.audit import context
from shouhu.demo import services
from shouhu.demo.generator import DESTINATION, HOME_COUNTY


class Command(BaseCommand):
    help = (
        "Generate N synthetic children (households, parents, grandparents) in the villages "
        "of a county, one in twelve of them migrant children in a destination district."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1, help="same seed, same children")
        parser.add_argument(
            "--county",
            default=HOME_COUNTY,
            help="6-digit code of the home county; its villages must be loaded "
            f"(default {HOME_COUNTY}, vendored)",
        )
        parser.add_argument(
            "--destination",
            default=DESTINATION,
            help=f"6-digit code of the district of the migrant children (default {DESTINATION})",
        )
        parser.add_argument("--batch", type=int, default=services.BATCH)
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="skip the change-history rows (faster; for throw-away benchmark data)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n, seed = options["children"], options["seed"]
        if n < 1:
            raise CommandError("--children must be positive.")
        for name in ("county", "destination"):
            if not (len(options[name]) == 6 and options[name].isdigit()):
                raise CommandError(f"--{name} must be a 6-digit county code.")
        started = time.perf_counter()
        token = context.set_context(context.AuditContext(source="gen"))
        try:
            services.ensure_places()
            created, skipped = services.populate(
                children=n,
                seed=seed * 1000,
                home=options["county"],
                dest=options["destination"],
                # Different seeds start ID sequence numbers elsewhere: they add children.
                id_seeds=(seed * 2, seed * 2 + 1),
                batch=options["batch"],
                history=not options["no_history"],
            )
        except ValueError as exc:
            raise CommandError(f"{exc} Load them with `shouhu places load FILE`.") from exc
        finally:
            context.reset_context(token)
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Generated {created} children ({skipped} already there) in {seconds:.1f} s "
            f"({created / max(seconds, 1e-9):,.0f} children/s)."
        )
