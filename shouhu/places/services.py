"""Loading administrative divisions from the NBS code files (modood CSV layout).

Each file holds one level (provinces, cities, areas, streets, villages), optionally gzipped;
the level is read off the length of the codes. Loading is an upsert: re-running it changes
nothing, and a newer edition renames places in place.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

from django.db import transaction

from shouhu.places.models import Level, Place

VENDORED_DIR = Path(__file__).resolve().parent / "data"
VENDORED_FILES = [
    "provinces.csv",
    "cities.csv",
    "areas.csv",
    "streets-demo.csv",
    "villages-demo.csv",
]
LEVEL_BY_LENGTH = {
    2: Level.PROVINCE,
    4: Level.CITY,
    6: Level.COUNTY,
    9: Level.TOWNSHIP,
    12: Level.VILLAGE,
}
PARENT_LENGTH = {Level.CITY: 2, Level.COUNTY: 4, Level.TOWNSHIP: 6, Level.VILLAGE: 9}


class PlaceFileError(ValueError):
    pass


def _open(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig", newline="")


def _rows(path: Path) -> Iterator[tuple[int, str, str]]:
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"code", "name"} <= set(reader.fieldnames):
            raise PlaceFileError(f"{path.name}: needs the columns 'code' and 'name'.")
        for line, row in enumerate(reader, start=2):
            code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
            if not code.isdigit() or len(code) not in LEVEL_BY_LENGTH or not name:
                raise PlaceFileError(f"{path.name}, row {line}: bad code or name ({code!r}).")
            yield line, code, name


def full_code(code: str) -> str:
    return code.ljust(12, "0")


@transaction.atomic
def places_load(path: Path, *, edition: int = 2023, batch_size: int = 5000) -> int:
    """Load one division file; parents must exist (load provinces first). Returns rows."""
    names: dict[str, str] = {}
    batch: list[Place] = []
    count = 0
    for line, code, name in _rows(path):
        level = LEVEL_BY_LENGTH[len(code)]
        parent_code = full_code(code[: PARENT_LENGTH[level]]) if level in PARENT_LENGTH else None
        parent_name = ""
        if parent_code:
            if parent_code not in names:
                parent = Place.objects.filter(pk=parent_code).only("full_name").first()
                if parent is None:
                    raise PlaceFileError(
                        f"{path.name}, row {line}: parent {parent_code} of {code} is not loaded."
                    )
                names[parent_code] = parent.full_name
            parent_name = names[parent_code]
        full_name = f"{parent_name} {name}".strip() if name != "市辖区" else parent_name
        batch.append(
            Place(
                code=full_code(code),
                name=name,
                level=level,
                parent_id=parent_code,
                full_name=full_name[:300],
                edition=edition,
            )
        )
        if len(batch) >= batch_size:
            count += _flush(batch)
    return count + _flush(batch)


def _flush(batch: list[Place]) -> int:
    if batch:
        Place.objects.bulk_create(
            batch,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "level", "parent", "full_name", "edition"],
        )
    n = len(batch)
    batch.clear()
    return n


def places_load_vendored() -> int:
    """The county level in full and the townships and villages of the demo counties."""
    return sum(places_load(VENDORED_DIR / name) for name in VENDORED_FILES)
