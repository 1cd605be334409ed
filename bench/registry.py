"""Registry benchmark: search, a child's page, a filtered list and import throughput.

Run against a database filled by `shouhu gen` (see docs/PERFORMANCE.md):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shouhu_bench \\
        .venv/bin/python bench/registry.py --runs 200

Every request goes through the real stack: Django's test client, middleware, the access
module, the selectors and the templates, as the demo personas. Timings are wall-clock
milliseconds per request on this machine; the import figure is rows per second through
`shouhu.children.importing.import_children` (parse, validate, encrypt, derive categories,
write children, households, parents and change history).
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouhu.settings")
os.environ.setdefault("SHOUHU_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from shouhu.accounts import access  # noqa: E402
from shouhu.accounts.models import User  # noqa: E402
from shouhu.children import protect  # noqa: E402
from shouhu.children.importing import import_children  # noqa: E402
from shouhu.children.models import Child  # noqa: E402
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


def import_rows_csv(n: int, villages: list[str], seed: int) -> bytes:
    """A CSV in the import format with `n` generated children of the given villages."""
    gen = Generator(seed, demo.ANCHOR)
    area = Area(villages=[Village(code, code[:9] + "000") for code in villages], schools={})
    out = io.StringIO()
    columns = ["household_ref", "name", "sex", "birth_date", "id_number", "hukou_code"]
    columns += ["village_code", "living_arrangement", "address", "aid"]
    groups = ["father", "mother"]
    member_fields = ["name", "capacity", "away", "away_place", "away_since", "away_reason"]
    member_fields += ["phone"]
    columns += [f"{g}_{f}" for g in groups for f in member_fields]
    writer = csv.writer(out)
    writer.writerow(columns)
    today = dates.today()
    # ID numbers of another county (霍邱县, 341522) so that the imported children are new,
    # not skipped as already registered by `shouhu gen`.
    ids = IdNumbers(seed)
    for row in gen.rows(area, n):
        row.child.id_number = ids.make("341522", row.child.birth_date, row.child.sex)
        row.child.hukou_code = "341522000000"
        c, h = row.child, row.household
        if dates.age_on(c.birth_date, today) >= 18:
            continue
        values: list[object] = [
            f"B{seed}-{row.household_ref}",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--import-rows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    setup_test_environment()
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
    for name, run in cases.items():
        run()  # warm caches
        stats = run()
        results[name] = stats
        print(f"{name:55s} p50 {stats['p50']:7.2f} ms  p95 {stats['p95']:7.2f} ms", flush=True)

    villages = sorted(
        set(
            Child.objects.filter(id__in=[c.pk for c in township_kids]).values_list(
                "residence", flat=True
            )
        )
    )
    data = import_rows_csv(args.import_rows, villages, seed=args.seed + int(time.time()) % 100000)
    started = time.perf_counter()
    report = import_children(actor=supervisor_user, data=data, file_name="bench.csv")
    seconds = time.perf_counter() - started
    if report.error_count:
        raise SystemExit(f"import failed: {report.file_errors} {report.problems[:5]}")
    rate = report.rows / seconds
    results["import"] = {
        "rows": report.rows,
        "created": report.created,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rate),
    }
    print(
        f"import {report.rows:,} rows ({report.created:,} new): {seconds:.1f} s, {rate:,.0f} rows/s"
    )
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
