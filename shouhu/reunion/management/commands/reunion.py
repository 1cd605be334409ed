"""`shouhu reunion solve` plans next week's online reunion sessions from a JSON instance, and
`shouhu reunion check` audits a plan against its instance, so a county can plan offline and
an auditor can check the plan:

    shouhu reunion solve --input instance.json --output plan.json [--workers 2] [--greedy]
    shouhu reunion check --input instance.json --plan plan.json

The formats, the rules and the objective are documented in `shouhu/lib/reunion_solver.py`.
An invalid instance or an unreadable file exits with status 2 and names the offending entry;
`check` exits with status 1 when the plan breaks a rule, listing every violation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shouhu.lib.reunion_solver import InstanceError, check_plan, greedy, solve


def read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file", returncode=2) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot be read: {exc}", returncode=2) from exc
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path}: not valid JSON: {exc}", returncode=2) from exc


class Command(BaseCommand):
    help = "Plan online reunion sessions (solve) and check a plan (check), on JSON files."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        plan = sub.add_parser("solve", help="Write the optimal plan for an instance.")
        plan.add_argument("--input", type=Path, required=True, help="The instance (JSON).")
        plan.add_argument("--output", type=Path, help="The plan (JSON); default: stdout.")
        plan.add_argument(
            "--workers", type=int, default=1, help="Processes solving the flows (default 1)."
        )
        plan.add_argument(
            "--greedy", action="store_true", help="Write the first-fit baseline plan instead."
        )
        check = sub.add_parser("check", help="List every rule a plan breaks.")
        check.add_argument("--input", type=Path, required=True, help="The instance (JSON).")
        check.add_argument("--plan", type=Path, required=True, help="The plan (JSON).")

    def handle(self, *args: Any, **options: Any) -> None:
        instance = read_json(options["input"])
        try:
            if options["action"] == "solve":
                self.write_plan(instance, options)
            else:
                self.audit(instance, read_json(options["plan"]))
        except InstanceError as exc:
            raise CommandError(
                f"{options['input']}: invalid instance:\n{exc}", returncode=2
            ) from exc

    def write_plan(self, instance: Any, options: dict[str, Any]) -> None:
        plan = (
            greedy(instance) if options["greedy"] else solve(instance, workers=options["workers"])
        )
        text = json.dumps(plan, ensure_ascii=False) + "\n"
        output: Path | None = options["output"]
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        stats = plan["stats"]
        self.stderr.write(
            f"{output}: {stats['sessions']} sessions, {stats['children_served']} of "
            f"{stats['children_wanting']} children served (upper bound {stats['upper_bound']}), "
            f"{stats['seconds']} s"
        )

    def audit(self, instance: Any, plan: Any) -> None:
        problems = check_plan(instance, plan)
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"The plan breaks {len(problems)} rule(s).", returncode=1)
        self.stdout.write(self.style.SUCCESS("The plan keeps every rule."))
