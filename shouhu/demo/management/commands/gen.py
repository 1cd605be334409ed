"""`shouhu gen --children N`: synthetic registry data at any scale (benchmarks)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from shouhu.audit import context
from shouhu.demo import services
from shouhu.demo.generator import DESTINATION, HOME_COUNTY


class Command(BaseCommand):
    help = "Generate N synthetic children (with households and parents) in the demo counties."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1, help="same seed, same children")
        parser.add_argument("--batch", type=int, default=services.BATCH)
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="skip the change-history rows (faster; for throw-away benchmark data)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["children"]
        if n < 1:
            raise CommandError("--children must be positive.")
        started = time.perf_counter()
        token = context.set_context(context.AuditContext(source="gen"))
        try:
            services.ensure_places()
            with transaction.atomic():
                orgs = services.build_organisations()
            migrants = n // 12
            home = services.area(HOME_COUNTY, orgs)
            dest = services.area(
                DESTINATION,
                orgs,
                migrant=True,
                hukou_villages=[v.code for v in home.villages],
            )
            history = not options["no_history"]
            created, skipped = services.generate(
                children=n - migrants,
                seed=options["seed"] * 1000,
                area=home,
                batch=options["batch"],
                history=history,
            )
            c2, s2 = services.generate(
                children=migrants,
                seed=options["seed"] * 1000 + 1,
                area=dest,
                batch=options["batch"],
                history=history,
            )
        finally:
            context.reset_context(token)
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Generated {created + c2} children ({skipped + s2} already there) in {seconds:.1f} s "
            f"({(created + c2) / max(seconds, 1e-9):,.0f} children/s)."
        )
