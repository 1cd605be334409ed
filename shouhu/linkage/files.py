"""The files of `shouhu link files`: reading and checking the two inputs, writing the links.

An input is UTF-8 CSV with a header (a BOM is fine; extra columns are ignored) and the
columns of `COLUMNS`; every field but `record_id` may be empty, but a value that is there
must be well formed, or the file is refused with the line and the column named.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

COLUMNS = (
    "record_id",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "hukou_place",
    "residence_place",
    "father_name",
    "mother_name",
    "guardian_phone",
)
OUTPUT_COLUMNS = ("left_id", "right_id", "match_probability")

SEXES = {"M": "M", "F": "F", "m": "M", "f": "F", "男": "M", "女": "F"}
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_ID = re.compile(r"^[0-9Xx ]{1,20}$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{7,20}$")
_PLACE_LENGTHS = {"hukou_place": (6,), "residence_place": (6, 9, 12)}


class LinkInputError(Exception):
    """A file that cannot be linked: the message names the file, line and column."""


def read_records(path: str | Path) -> pd.DataFrame:
    """The records of one input, checked; empty fields are None."""
    path = Path(path)
    columns: dict[str, list[str | None]] = {name: [] for name in COLUMNS}
    seen: dict[str, int] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for line, row in _rows(path, handle):
                for name in COLUMNS:
                    columns[name].append(_field(path, line, name, row[name]))
                record_id = columns["record_id"][-1]
                assert record_id is not None
                if record_id in seen:
                    raise LinkInputError(
                        f"{path}, line {line}, column record_id: {record_id!r} is already "
                        f"the record_id of line {seen[record_id]}."
                    )
                seen[record_id] = line
    except UnicodeDecodeError as exc:
        raise LinkInputError(f"{path}: not UTF-8 text ({exc.reason}).") from exc
    except OSError as exc:
        raise LinkInputError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    return pd.DataFrame(columns, dtype=object)


def _rows(path: Path, handle: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(handle)
    header = [(name or "").strip() for name in (reader.fieldnames or [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise LinkInputError(
            f"{path}, line 1 (header), column {missing[0]}: missing "
            f"(the header must name {', '.join(COLUMNS)})."
        )
    reader.fieldnames = header
    for row in reader:
        if None in row.values():
            raise LinkInputError(
                f"{path}, line {reader.line_num}, column {_first_missing(row)}: the row has "
                "fewer fields than the header."
            )
        yield reader.line_num, row


def _first_missing(row: dict[str, str]) -> str:
    return next(name for name in COLUMNS if row.get(name) is None)


def _field(path: Path, line: int, name: str, raw: str) -> str | None:
    value = raw.strip()
    if not value:
        if name == "record_id":
            raise LinkInputError(f"{path}, line {line}, column record_id: empty.")
        return None
    problem = _problem(name, value)
    if problem:
        raise LinkInputError(f"{path}, line {line}, column {name}: {value!r} {problem}.")
    if name == "sex":
        return SEXES[value]
    return value


def _problem(name: str, value: str) -> str | None:
    if name == "sex" and value not in SEXES:
        return "is not M or F"
    if name == "birth_date":
        return None if parse_date(value) else "is not a date (YYYY-MM-DD, YYYY-MM or YYYY)"
    if name == "id_number" and not _ID.match(value):
        return "is not an ID number (digits and X)"
    if name in _PLACE_LENGTHS and (
        not value.isdigit() or len(value) not in _PLACE_LENGTHS[name] or not value.isascii()
    ):
        lengths = " or ".join(str(n) for n in _PLACE_LENGTHS[name])
        return f"is not a {lengths}-digit division code"
    if name == "guardian_phone" and not _PHONE.match(value):
        return "is not a phone number"
    return None


def parse_date(value: str) -> tuple[int, int | None, int | None] | None:
    """`2012-03-15` → (2012, 3, 15); `2012-03`, `2012-03-00` → (2012, 3, None); `2012`,
    `2012-00-00` → (2012, None, None); anything else, or an impossible date, → None."""
    match = _DATE.match(value)
    if not match:
        return None
    year = int(match[1])
    month = int(match[2]) if match[2] and match[2] != "00" else None
    day = int(match[3]) if match[3] and match[3] != "00" and month else None
    if month is None and match[3] and match[3] != "00":
        return None
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError:
        return None
    return year, month, day


def write_links(path: str | Path, links: pd.DataFrame) -> None:
    """Write the links atomically: a temporary file beside the target, then a rename."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(OUTPUT_COLUMNS)
            for left, right, probability in links[list(OUTPUT_COLUMNS)].itertuples(index=False):
                writer.writerow((left, right, f"{probability:.6f}"))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
