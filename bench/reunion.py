"""Reunion benchmark: the min-cost-flow planner against the greedy first-fit baseline.

Issue target: a county (50,000 children, 800 sites) planned optimally in under 10 s and a
province (1,000,000 children, 16,000 sites) in under 3 minutes on the 2-core machine, with
served / upper bound reported beside the greedy baseline. From nothing to figures:

    .venv/bin/python bench/reunion.py --json var/bench-reunion.json

generates both instances from `--seed` (not timed), then times `solve` (its flows in
`--workers` processes, default 2: the machine's cores) and `greedy` on each, validation
included (the instance is passed as the parsed JSON dictionary, so reading the file is not
timed); checks the county plans with `check_plan` (`--check-all` checks the province's too,
which takes a few minutes) and prints one table. "peak MB" is the process's high-water mark
(`getrusage`) after each step: the generated instance, a few GB of Python dictionaries at
province size, is most of it, and is printed on its own. `--sizes county` runs one size;
`--write-dir DIR` also writes each instance as JSON for `shouhu reunion solve`.

The generated instances aim at what counties report:

- sites in townships of 6-14: a township centre (the boarding school, 3-4 devices) and
  village children's homes (1-4 devices, most with 1-2);
- sites open after school on weekdays (start 15:30-16:30, end 18:30-21:00; a third stay open
  into the evening for parents' calls; some close on Wednesday), on Saturday 09:00-17:00 (or
  with a lunch break) and on Sunday mornings or all day at about two thirds of them;
- 1-3 facilitators per site covering subsets of the opening hours (a teacher on weekdays, a
  volunteer on Saturday, sometimes nobody on Sunday afternoon);
- children at their village's site, half of them also at the township centre, a few at a
  neighbouring village; ~20% in sibling groups of 2-3 (a few siblings board at the centre);
  sessions 1 (70%) or 2; priority 1 (10%), 2 (25%), 3 (65%);
- one or two migrant parents each, with windows by work pattern: factory day shift (weekday
  evenings from 19:00-20:00, Sunday), rotating night shift (weekday afternoons, Saturday),
  construction (late evenings, Sunday afternoon), service trades (one weekday off) and
  irregular gig work, each shifted by up to half an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shouhu.lib.reunion_solver import check_plan, greedy, hhmm, parse_instance, solve

SIZES = {"county": (50_000, 800), "province": (1_000_000, 16_000)}
TARGETS = {"county": 10, "province": 180}  # seconds
Window = dict[str, Any]


def window(day: int, start: int, end: int) -> Window:
    return {"day": day, "start": hhmm(start), "end": hhmm(min(end, 24 * 60))}


def h(hours: float) -> int:
    return round(hours * 60)


def site_entry(rng: random.Random, site_id: str, centre: bool) -> tuple[Window, list[Window]]:
    devices = rng.choice((3, 4)) if centre else rng.choices((1, 2, 3, 4), (40, 35, 15, 10))[0]
    opening: list[Window] = []
    start = h(16) + rng.choice((-30, 0, 0, 30))
    end = rng.choices((h(18.5), h(19), h(19.5), h(20), h(20.5), h(21)), (10, 40, 15, 15, 10, 10))[0]
    closed = {3} if rng.random() < 0.2 else set()
    opening += [window(d, start, end) for d in range(1, 6) if d not in closed]
    if rng.random() < 0.6:
        opening.append(window(6, h(9), h(17)))
    else:
        opening += [window(6, h(9), h(12)), window(6, h(14), h(17))]
    sunday = rng.random()
    if sunday < 0.35:
        opening.append(window(7, h(9), h(12)))
    elif sunday < 0.65:
        opening.append(window(7, h(9), h(17)))
    facilitators = [[window(d, start, end) for d in range(1, 6)]]  # the teacher
    weekend = [window(6, h(8.5), h(17.5))]
    if rng.random() < 0.7:
        weekend.append(window(7, h(8.5), h(12.5)))
    if rng.random() < 0.5:
        weekend.append(window(7, h(13.5), h(17.5)))
    facilitators.append(weekend)
    if rng.random() < 0.3:  # a second volunteer covering some evenings
        facilitators.append([window(d, h(18), h(21)) for d in rng.sample(range(1, 6), 3)])
    site = {"id": site_id, "devices": devices, "open": opening}
    return site, [
        {"id": f"{site_id}-f{k}", "site": site_id, "available": avail}
        for k, avail in enumerate(facilitators)
    ]


def parent_windows(rng: random.Random) -> list[Window]:
    def jitter() -> int:
        return rng.choice((-30, -20, -10, 0, 0, 10, 20, 30))

    kind = rng.choices(("day", "night", "building", "service", "gig"), (40, 15, 20, 15, 10))[0]
    if kind == "day":
        start = h(19) + rng.choice((0, 30, 60)) + jitter()
        out = [window(d, start, h(22)) for d in range(1, 6)]
        out.append(window(7, h(10) + jitter(), h(20)))
        if rng.random() < 0.4:
            out.append(window(6, h(18) + jitter(), h(22)))
        return out
    if kind == "night":
        out = [window(d, h(13) + jitter(), h(18) + jitter()) for d in range(1, 6)]
        return [*out, window(6, h(10) + jitter(), h(16) + jitter())]
    if kind == "building":
        out = [window(d, h(20) + jitter(), h(21.5)) for d in range(1, 8)]
        return [*out, window(7, h(12) + jitter(), h(18) + jitter())]
    if kind == "service":
        off = rng.randint(1, 5)
        out = [window(off, h(9) + jitter(), h(21) + jitter())]
        return out + [window(d, h(21.5), h(22.5)) for d in range(1, 8) if d != off]
    out = []
    for day in sorted(rng.sample(range(1, 8), rng.randint(2, 4))):
        start = h(rng.choice((9, 10, 11, 14, 15, 16, 17, 19))) + jitter()
        out.append(window(day, start, start + h(rng.choice((1, 1.5, 2, 3)))))
    return out


def generate(children: int, sites: int, seed: int) -> dict[str, Any]:
    """A seeded instance of the given size (module docstring)."""
    rng = random.Random(seed)
    site_list: list[dict[str, Any]] = []
    facilitators: list[dict[str, Any]] = []
    townships: list[list[str]] = []
    while len(site_list) < sites:
        size = min(rng.randint(6, 14), sites - len(site_list))
        ids = [f"s{len(site_list) + k}" for k in range(size)]
        for k, sid in enumerate(ids):
            site, facs = site_entry(rng, sid, centre=k == 0)
            site_list.append(site)
            facilitators += facs
        townships.append(ids)
    kids: list[dict[str, Any]] = []
    while len(kids) < children:
        kids += family(rng, len(kids), rng.choice(townships), children - len(kids))
    return {
        "slot_minutes": 20,
        "sites": site_list,
        "facilitators": facilitators,
        "children": kids,
    }


def family(rng: random.Random, first: int, township: list[str], room: int) -> list[dict[str, Any]]:
    size = 1 if rng.random() < 0.89 else rng.choices((2, 3), (75, 25))[0]
    size = min(size, room)
    home = rng.choice(township[1:] or township)
    sites = [home]
    if home != township[0] and rng.random() < 0.5:
        sites.append(township[0])
    if len(township) > 2 and rng.random() < 0.05:
        sites.append(rng.choice([s for s in township[1:] if s != home] or [home]))
    sites = sorted(set(sites))
    parents = [
        {"id": f"p{first}-{k}", "available": parent_windows(rng)}
        for k in range(rng.choices((1, 2), (60, 40))[0])
    ]
    kids = []
    for k in range(size):
        mine = sites
        if k > 0 and rng.random() < 0.05:
            mine = sorted({*sites, township[0]})  # boards at the township centre
        kids.append(
            {
                "id": f"c{first + k}",
                "family": f"fam{first}",
                "sites": mine,
                "sessions": rng.choices((1, 2), (70, 30))[0],
                "priority": rng.choices((1, 2, 3), (10, 25, 65))[0],
                "parents": parents,
            }
        )
    return kids


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    plan = fn()
    return plan, time.perf_counter() - started


def run(name: str, seed: int, workers: int, check: bool, write_dir: Path | None) -> dict[str, Any]:
    children, sites = SIZES[name]
    started = time.perf_counter()
    instance = generate(children, sites, seed)
    generated = time.perf_counter() - started
    if write_dir is not None:
        write_dir.mkdir(parents=True, exist_ok=True)
        (write_dir / f"reunion-{name}.json").write_text(json.dumps(instance))
    row: dict[str, Any] = {"size": name, "children": children, "sites": sites, "seed": seed}
    row["generate_seconds"] = round(generated, 1)
    row["instance_peak_mb"] = round(peak_mb())  # the generated dictionaries alone
    row["wanted_sessions"] = sum(c["sessions"] for c in instance["children"])
    row["load_before"] = round(os.getloadavg()[0], 2)
    methods: dict[str, Callable[[], dict[str, Any]]] = {
        "solver": lambda: solve(instance, workers=workers),
        "greedy": lambda: greedy(instance),
    }
    for label, fn in methods.items():
        plan, seconds = timed(fn)
        stats = plan["stats"]
        row[label] = {
            "seconds": round(seconds, 2),
            "served": stats["children_served"],
            "served_by_priority": stats["served_by_priority"],
            "upper_bound": stats["upper_bound"],
            "reachable": stats["reachable"],
            "sessions": stats["sessions"],
            "child_sessions": stats["child_sessions"],
            "peak_mb": round(peak_mb()),
        }
        if check:
            problems = check_plan(parse_instance(instance), plan)
            row[label]["violations"] = len(problems)
            for problem in problems[:5]:
                print(f"  {label}: {problem}", file=sys.stderr)
        del plan
    return row


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'size':9} {'children':>9} {'sites':>6} {'method':7} {'served':>8} {'upper':>8} "
        f"{'p1/p2/p3 served':>22} {'sessions':>9} {'child-sess':>10} {'seconds':>8} {'peak MB':>8}"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        for label in ("solver", "greedy"):
            r = row[label]
            by = r["served_by_priority"]
            upper = "-" if r["upper_bound"] is None else str(r["upper_bound"])
            lines.append(
                f"{row['size']:9} {row['children']:>9} {row['sites']:>6} {label:7} "
                f"{r['served']:>8} {upper:>8} {by['1']:>7}/{by['2']:>6}/{by['3']:>7} "
                f"{r['sessions']:>9} {r['child_sessions']:>10} {r['seconds']:>8.2f} "
                f"{r['peak_mb']:>8}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=list(SIZES))
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workers", type=int, default=2, help="processes for the flows")
    parser.add_argument("--check-all", action="store_true", help="check every plan")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--write-dir", type=Path, help="write the instances as JSON here")
    args = parser.parse_args()
    rows = []
    for name in args.sizes:
        check = args.check_all or name == "county"
        rows.append(run(name, args.seed, args.workers, check, args.write_dir))
        print(f"{name}: done", file=sys.stderr)
    print(table(rows))
    for row in rows:
        solver, baseline = row["solver"], row["greedy"]
        target = TARGETS[row["size"]]
        verdict = "met" if solver["seconds"] < target else "MISSED"
        checked = ", ".join(
            f"{label} {row[label]['violations']}"
            for label in ("solver", "greedy")
            if "violations" in row[label]
        )
        print(
            f"{row['size']}: solver {solver['seconds']} s against < {target} s: {verdict}; "
            f"served {solver['served']} = upper bound {solver['upper_bound']} "
            f"(greedy {baseline['served']}); {row['wanted_sessions']} sessions wanted, "
            f"{solver['reachable']} children reachable; peak MB with the instance alone "
            f"{row['instance_peak_mb']}; load average {row['load_before']}"
            + (f"; rule violations: {checked}" if checked else "")
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
