"""Several writers at once on the embedded SQLite default (issue 10, "no lost writes").

Builds the demo county in a fresh SQLite file (migrate + `shouhu demo load`), then starts
one process per writer, all at the same moment, each saving records as a person would:

- `home_visit`: director1 saves complete home visits for the children of the village;
- `contact`: director2 logs calls with parents;
- `attendance`: teacher1 marks attendance of the week's reunion sessions (that process's
  clock is moved to after the sessions);
- `jobs`: the jobs worker runs every periodic job again and again meanwhile.

Each write is its own transaction, as in a request. The result counts the errors (with
their messages) and compares the rows in the database with the writes that succeeded: 0
errors and 0 lost rows is the target. Used by tests/test_sqlite_concurrency.py with small
numbers; as a benchmark:

    .venv/bin/python bench/sqlite_writers.py --writers 6 --writes 40
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("home_visit", "contact", "attendance")


@dataclasses.dataclass
class Outcome:
    kind: str
    done: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    rows: set[tuple[int, int]] = dataclasses.field(default_factory=set)  # attendance keys


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouhu.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(database_url: str) -> None:
    """A fresh demo county in the database named by `database_url`."""
    env = {**os.environ, "DATABASE_URL": database_url, "SHOUHU_DEMO": "1"}
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        [python, "-c", "from shouhu.cli import main; main()", "demo", "load"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _complete_home_visit() -> dict[str, int]:
    from shouhu.lib import instruments

    definition = instruments.load_shipped()["home_visit"]
    answers: dict[str, int] = {}
    while True:
        wanted = {
            item.id: item.min_value
            for item in definition.items
            if item.id in instruments.visible_items(definition, answers)  # type: ignore[arg-type]
        }
        if wanted == answers:
            return answers
        answers = wanted


def _writes(kind: str, count: int):  # type: ignore[no-untyped-def]
    """The `count` writes of one writer, each a callable saving one record."""
    from shouhu.access import children_visible_to
    from shouhu.accounts.models import User
    from shouhu.lib import clock
    from shouhu.reunion import attendance as reunion
    from shouhu.reunion.models import Session
    from shouhu.screening import services as screening

    if kind == "home_visit":
        director = User.objects.get(username="director1")
        kids = list(children_visible_to(director).order_by("pk")[:count])
        answers = _complete_home_visit()
        return [
            lambda c=c: screening.administer(
                actor=director, child=c, instrument="home_visit", answers=answers
            )
            for c in kids
        ]
    if kind == "contact":
        director = User.objects.get(username="director2")
        kids = list(children_visible_to(director).order_by("pk")[:count])
        return [
            lambda c=c: reunion.contact_add(actor=director, child=c, mode="call", on=clock.today())
            for c in kids
        ]
    teacher = User.objects.get(username="teacher1")
    sessions = list(Session.objects.order_by("starts_at", "pk")[:count])
    return [
        lambda s=s: reunion.attendance_record(
            actor=teacher,
            session=s,
            rows=[
                {"child": c.pk, "present": True, "parent_joined": True, "minutes": 15}
                for c in s.children.all()
            ],
        )
        for s in sessions
    ]


def _writer(kind: str, database_url: str, count: int, start: float, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    _setup_django(database_url)
    from django.db import close_old_connections

    traveller = None
    if kind == "attendance":  # sessions are planned ahead: mark them as if after the week
        import time_machine

        from shouhu.reunion.models import Session

        last = Session.objects.order_by("-starts_at").values_list("starts_at", flat=True)[0]
        traveller = time_machine.travel(last + dt.timedelta(hours=1), tick=True)
        traveller.start()
    writes = _writes(kind, count)
    outcome = Outcome(kind)
    time.sleep(max(0.0, start - time.time()))
    began = time.perf_counter()
    for write in writes:
        try:
            saved = write()
            outcome.done += 1
            if kind == "attendance":
                outcome.rows |= {(saved.pk, c.pk) for c in saved.children.all()}
        except Exception as error:  # every failure is counted, whatever it is
            outcome.errors.append(f"{type(error).__name__}: {error}")
        close_old_connections()
    outcome.seconds = time.perf_counter() - began
    if traveller is not None:
        traveller.stop()
    queue.put(outcome)


def _jobs(database_url: str, stop_at: float, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    _setup_django(database_url)
    from shouhu import jobs
    from shouhu.jobs.models import JobRun
    from shouhu.lib import clock

    outcome = Outcome("jobs")
    began = time.perf_counter()
    while time.time() < stop_at:
        now = clock.now()
        try:
            JobRun.objects.all().delete()  # every job due at every turn: the most writes
            for name, result in jobs.run_due(now):
                outcome.done += 1
                if "failed" in result:
                    outcome.errors.append(f"{name}: {result}")
        except Exception as error:
            outcome.errors.append(f"{type(error).__name__}: {error}")
    outcome.seconds = time.perf_counter() - began
    queue.put(outcome)


def _rows(database_url: str) -> dict[str, object]:
    _setup_django(database_url)
    from shouhu.reunion.models import Attendance, Contact
    from shouhu.screening.models import Administration

    return {
        "home_visit": Administration.objects.filter(instrument="home_visit").count(),
        "contact": Contact.objects.exclude(session__isnull=False).count(),
        "attendance": Attendance.objects.count(),
        "attendance_keys": set(Attendance.objects.values_list("session_id", "child_id")),
    }


def _count_rows(database_url: str) -> dict[str, object]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_rows, (database_url,))


def run(database_url: str, *, writers: int, writes: int) -> dict[str, object]:
    """`writers` processes (home visits, contacts and attendance in turn) of `writes` each,
    and the jobs worker, all at once. Returns errors, rows expected and found."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    before = _count_rows(database_url)
    start = time.time() + 8.0  # every process set up and waiting by then
    procs = [
        ctx.Process(
            target=_writer,
            args=(KINDS[i % len(KINDS)], database_url, writes, start, queue),
        )
        for i in range(writers)
    ]
    procs.append(ctx.Process(target=_jobs, args=(database_url, start + 6.0, queue)))
    for proc in procs:
        proc.start()
    outcomes = []
    while len(outcomes) < len(procs):
        try:
            outcomes.append(queue.get(timeout=5))
        except Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a writer process died (exit codes {dead})") from None
    for proc in procs:
        proc.join()
    after = _count_rows(database_url)
    done = {kind: sum(o.done for o in outcomes if o.kind == kind) for kind in KINDS}
    # Attendance rows are one per child and session: writers of the same sessions update
    # the same rows, so the rows expected are the children of the sessions marked.
    marked: set[tuple[int, int]] = set().union(*(o.rows for o in outcomes))
    done["attendance"] = len(marked - before["attendance_keys"])  # type: ignore[operator]
    return {
        "outcomes": outcomes,
        "errors": [e for o in outcomes for e in o.errors],
        "done": done,
        "added": {kind: after[kind] - before[kind] for kind in KINDS},  # type: ignore[operator]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--database", help="an existing demo database (default: a fresh one)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/writers.sqlite3"
        if not args.database:
            build(url)
        began = time.perf_counter()
        result = run(url, writers=args.writers, writes=args.writes)
        elapsed = time.perf_counter() - began
    if args.json:
        keep = ("errors", "done", "added")
        print(json.dumps({key: result[key] for key in keep}, ensure_ascii=False))
        return
    for outcome in result["outcomes"]:  # type: ignore[attr-defined]
        rate = outcome.done / outcome.seconds if outcome.seconds else 0.0
        print(
            f"{outcome.kind:<11} {outcome.done:>5} done  {len(outcome.errors):>3} errors  "
            f"{outcome.seconds:6.1f} s  {rate:6.1f}/s"
        )
    print(f"rows added: {result['added']}  writes done: {result['done']}  ({elapsed:.1f} s)")
    for error in result["errors"][:10]:  # type: ignore[index]
        print("error:", error)


if __name__ == "__main__":
    main()
