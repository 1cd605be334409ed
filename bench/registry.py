"""Registry benchmark: search, a child's page, a filtered list and import throughput.

From nothing to figures in one command (`make bench` runs this; see docs/PERFORMANCE.md):

    .venv/bin/python bench/registry.py \\
        --database postgres://postgres@127.0.0.1:5432/shouhu_bench --children 1000000

creates the database if it is missing, migrates it, tops it up to `--children` generated
children with `shouhu gen` (then VACUUM ANALYZE), and runs. Without `--database` it runs
on the configured database (DATABASE_URL) as it is.

Every request goes through the real stack: Django's test client, middleware, the access
module, the selectors and the templates, as the demo personas; the same cases are also timed
at the selector level (`children_search` with the page's capped count and first page,
`get_child_for_user` + `present_child`) to separate the database from the request's fixed
cost. Timings are wall-clock milliseconds on this machine.

Import throughput is rows per second through `shouhu.children.importing.import_children`
(parse, validate, encrypt, derive categories, write children, households, parents and
change history) and through the bulk path alone (`shouhu.children.bulk.bulk_register` over
prepared rows). Both run in a transaction that is rolled back once the deferred foreign-key
checks have run, so the benchmark leaves the database as it found it and can be repeated.
On PostgreSQL the server-side cost of inserting the same number of child rows alone
(`INSERT ... SELECT`, every index maintained) is measured too: a floor no Python can beat.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouhu.settings")
os.environ.setdefault("SHOUHU_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")


def _use_database_from_argv() -> None:
    """`--database URL`: create that PostgreSQL database if needed and use it (before Django
    reads its settings)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--database")
    url = pre.parse_known_args()[0].database
    if not url:
        return
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url


_use_database_from_argv()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from shouhu import access  # noqa: E402
from shouhu.accounts.models import User  # noqa: E402
from shouhu.children import bulk, protect, selectors  # noqa: E402
from shouhu.children.bulk import RegistrationRow as Row  # noqa: E402
from shouhu.children.importing import import_children  # noqa: E402
from shouhu.children.models import Child  # noqa: E402
from shouhu.children.views import COUNT_CAP, PAGE_SIZE  # noqa: E402
from shouhu.demo import services as demo  # noqa: E402
from shouhu.demo.generator import Area, Generator, Village  # noqa: E402
from shouhu.demo.people import IdNumbers  # noqa: E402
from shouhu.lib import dates, pinyin  # noqa: E402


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "max": round(ordered[-1], 2),
    }


def timed(client: Client, urls: list[str]) -> dict[str, float]:
    samples = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return percentiles(samples)


def login(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def sample_children(user: User, k: int, rng: random.Random) -> list[Child]:
    visible = access.children_visible_to(user)
    top = visible.order_by("-id").values_list("id", flat=True).first() or 0
    low = visible.order_by("id").values_list("id", flat=True).first() or 0
    chosen: list[Child] = []
    while len(chosen) < k:
        pk = rng.randint(low, top)
        child = visible.filter(id__gte=pk).order_by("id").first()
        if child is not None:
            chosen.append(child)
    return chosen


OTHER_COUNTY = "341522"  # 霍邱县: ID numbers of imported children are new, not skipped


def generated_rows(n: int, villages: list[str], seed: int) -> list[Row]:
    """`n` generated children of the given villages, with ID numbers of another county."""
    gen = Generator(seed, demo.ANCHOR)
    area = Area(villages=[Village(code, code[:9] + "000") for code in villages], schools={})
    ids = IdNumbers(seed)
    today = dates.today()
    rows = []
    for row in gen.rows(area, n):
        if dates.age_on(row.child.birth_date, today) >= 18:
            continue
        row.child.id_number = ids.make(OTHER_COUNTY, row.child.birth_date, row.child.sex)
        row.child.hukou_code = OTHER_COUNTY + "000000"
        row.household_ref = f"B{seed}-{row.household_ref}"
        rows.append(row)
    return rows


def import_rows_csv(rows: list[Row]) -> bytes:
    """The rows as a CSV in the import format (child, household, father and mother)."""
    out = io.StringIO()
    columns = ["household_ref", "name", "sex", "birth_date", "id_number", "hukou_code"]
    columns += ["village_code", "living_arrangement", "address", "aid"]
    groups = ["father", "mother"]
    member_fields = ["name", "capacity", "away", "away_place", "away_since", "away_reason"]
    member_fields += ["phone"]
    columns += [f"{g}_{f}" for g in groups for f in member_fields]
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        c, h = row.child, row.household
        values: list[object] = [
            row.household_ref,
            c.name,
            c.sex,
            c.birth_date.isoformat(),
            c.id_number,
            c.hukou_code,
            c.residence_code,
            c.living_arrangement,
            h.address,
            h.aid,
        ]
        by_relation = {m.relation: m for m in row.members}
        for g in groups:
            m = by_relation[g]
            values += [
                m.name,
                m.capacity,
                "是" if m.away else "否",
                m.away_place_code,
                m.away_since.isoformat() if m.away_since else "",
                m.away_reason,
                m.phone,
            ]
        writer.writerow(values)
    return out.getvalue().encode("utf-8")


class _Rollback(Exception):
    pass


def rolled_back(work: Callable[[], object]) -> float:
    """Seconds `work` takes in a transaction, deferred constraint checks included; then the
    transaction is rolled back."""
    seconds = 0.0
    try:
        with transaction.atomic():
            started = time.perf_counter()
            work()
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            seconds = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return seconds


CHILD_COPY_COLUMNS = [
    f.column for f in Child._meta.concrete_fields if not f.primary_key and f.column
]


def server_insert_floor(n: int) -> float:
    """Seconds PostgreSQL takes to insert `n` child rows (copies of existing rows with new
    ID hashes) with every index and constraint: the database's share of an import."""
    columns = ", ".join(CHILD_COPY_COLUMNS)
    source = ", ".join(
        "md5(id_number_hash) || 'b'" if c == "id_number_hash" else c for c in CHILD_COPY_COLUMNS
    )
    sql = (
        f"INSERT INTO children_child ({columns}) SELECT {source} FROM children_child "
        "WHERE id %% 7 = 3 LIMIT %s"
    )

    def insert() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [n])

    return rolled_back(insert)


def selector_page(user: User, filters: selectors.ChildFilters) -> None:
    """What the list page asks of the database: the count and the first page."""
    found = selectors.children_search(user=user, filters=filters)
    selectors.count_capped(found, COUNT_CAP)
    [selectors.present_child_row(c) for c in found[:PAGE_SIZE]]


def selector_child(user: User, pk: int) -> None:
    child = access.get_child_for_user(user, pk, purpose="view")
    selectors.present_child(user, child)


def timed_calls(calls: list[Callable[[], object]]) -> dict[str, float]:
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def measure_import(args: argparse.Namespace, user: User, villages: list[str]) -> dict[str, object]:
    seed = args.seed
    results: dict[str, object] = {}
    rows = generated_rows(args.import_rows, villages, seed)
    data = import_rows_csv(rows)
    found: dict[str, int] = {}

    def run_import() -> None:
        report = import_children(actor=user, data=data, file_name="bench.csv")
        if report.error_count:
            raise SystemExit(f"import failed: {report.file_errors} {report.problems[:5]}")
        found.update(rows=report.rows, created=report.created)

    seconds = rolled_back(run_import)
    results["import (CSV, import_children)"] = {
        **found,
        "seconds": round(seconds, 2),
        "rows_per_s": round(found["rows"] / seconds),
    }

    for row in rows:  # the same people as in the file: the child, father and mother
        row.members = [m for m in row.members if m.relation in {"father", "mother"}]

    def run_bulk() -> None:
        result = bulk.bulk_register(actor=user, rows=rows)
        bulk.raise_for(result)
        found.update(rows=len(rows), created=result.created)

    seconds = rolled_back(run_bulk)
    results["bulk path (bulk_register)"] = {
        **found,
        "seconds": round(seconds, 2),
        "rows_per_s": round(found["rows"] / seconds),
    }
    if connection.vendor == "postgresql":
        seconds = server_insert_floor(len(rows))
        results["server only: INSERT ... SELECT of child rows"] = {
            "rows": len(rows),
            "seconds": round(seconds, 2),
            "rows_per_s": round(len(rows) / seconds),
        }
    for name, stats in results.items():
        assert isinstance(stats, dict)
        print(
            f"{name:55s} {stats['rows']:,} rows in {stats['seconds']:.1f} s: "
            f"{stats['rows_per_s']:,} rows/s",
            flush=True,
        )
    return results


def top_up(children: int) -> None:
    """Generate children until there are `children` (a new seed for every top-up)."""
    have = Child.objects.count()
    if have >= children:
        return
    print(f"generating {children - have:,} children (shouhu gen)...", flush=True)
    started = time.perf_counter()
    call_command(
        "gen", children=children - have, seed=100 + have % 997, batch=10000, no_history=True
    )
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="PostgreSQL URL; created and migrated if needed")
    parser.add_argument(
        "--children", type=int, default=0, help="top the database up to this many children"
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--import-rows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--skip-pages", action="store_true", help="only the import")
    parser.add_argument("--skip-import", action="store_true", help="only the pages")
    args = parser.parse_args()
    if args.database:
        call_command("migrate", interactive=False, verbosity=0)
    top_up(args.children)
    # No `setup_test_environment` (the test client's host is allowed above): its template
    # instrumentation keeps every response's context alive, so the collector's full passes
    # grow slower as a run goes on and the cases timed last look slow; a production process
    # has none of it.
    rng = random.Random(args.seed)
    demo.ensure_personas()
    total = Child.objects.count()
    print(f"database: {connection.vendor}, children: {total:,}", flush=True)

    results: dict[str, object] = {"children": total, "vendor": connection.vendor}
    official, supervisor = login("official1"), login("supervisor1")
    official_user = User.objects.get(username="official1")
    supervisor_user = User.objects.get(username="supervisor1")
    county_kids = sample_children(official_user, args.runs, rng)
    township_kids = sample_children(supervisor_user, args.runs, rng)

    cases: dict[str, Callable[[], dict[str, float]]] = {
        "search by name, county (official)": lambda: timed(
            official, [f"/?q={c.name}" for c in county_kids]
        ),
        "search by pinyin, county (official)": lambda: timed(
            official, [f"/?q={pinyin.name_keys(c.name)[0]}" for c in county_kids]
        ),
        "search by initials, township (supervisor)": lambda: timed(
            supervisor, [f"/?q={pinyin.name_keys(c.name)[1]}" for c in township_kids]
        ),
        "search by ID tail (6), township (supervisor)": lambda: timed(
            supervisor,
            [f"/?q={protect.unseal(c.id_number_enc)[-6:]}" for c in township_kids],
        ),
        "search by full ID, township (supervisor)": lambda: timed(
            supervisor, [f"/?q={protect.unseal(c.id_number_enc)}" for c in township_kids]
        ),
        "child page (official)": lambda: timed(
            official, [f"/children/{c.pk}/" for c in county_kids]
        ),
        "child page (supervisor)": lambda: timed(
            supervisor, [f"/children/{c.pk}/" for c in township_kids]
        ),
        "filtered list: category + village, page 1 (supervisor)": lambda: timed(
            supervisor,
            [f"/?category=left_behind_mca&place={c.residence_id}" for c in township_kids],
        ),
        "filtered list: category, county, page 3 (official)": lambda: timed(
            official, ["/?category=left_behind_census&page=3"] * args.runs
        ),
    }
    f = selectors.ChildFilters
    cases.update(
        {
            "selector: search by name, county (official)": lambda: timed_calls(
                [partial(selector_page, official_user, f(q=c.name)) for c in county_kids]
            ),
            "selector: search by pinyin, county (official)": lambda: timed_calls(
                [
                    partial(selector_page, official_user, f(q=pinyin.name_keys(c.name)[0]))
                    for c in county_kids
                ]
            ),
            "selector: search by ID tail (6), township (supervisor)": lambda: timed_calls(
                [
                    partial(
                        selector_page, supervisor_user, f(q=protect.unseal(c.id_number_enc)[-6:])
                    )
                    for c in township_kids
                ]
            ),
            "selector: child file (official)": lambda: timed_calls(
                [partial(selector_child, official_user, c.pk) for c in county_kids]
            ),
        }
    )
    if not args.skip_pages:
        for name, run in cases.items():
            run()  # warm caches
            stats = run()
            results[name] = stats
            print(f"{name:55s} p50 {stats['p50']:7.2f} ms  p95 {stats['p95']:7.2f} ms", flush=True)

    if not args.skip_import:
        villages = sorted({c.residence_id for c in township_kids})
        results.update(measure_import(args, supervisor_user, villages))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
