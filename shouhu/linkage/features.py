"""The columns the linkage model compares, derived from the records' fields.

Each profile turns the contract's columns (`files.COLUMNS`) into the columns its comparisons
and blocking rules name. The Chinese profile asks `chinese` for its keys; the western one
(FEBRL, for the benchmark) reads `name` as `surname, given` and `residence_place` as
`street number|street|locality|suburb|state`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from shouhu.linkage import chinese
from shouhu.linkage.files import parse_date

Row = dict[str, Any]


def chinese_features(records: pd.DataFrame) -> pd.DataFrame:
    return _derive(records, _chinese_row)


def western_features(records: pd.DataFrame) -> pd.DataFrame:
    return _derive(records, _western_row)


def _derive(records: pd.DataFrame, build: Callable[[Row], Row]) -> pd.DataFrame:
    rows = [build(row) for row in records.to_dict("records")]
    frame = pd.DataFrame(rows)
    return frame.astype(object).where(frame.notna(), None)


def _chinese_row(row: Row) -> Row:
    out: Row = {"unique_id": row["record_id"], "sex": row.get("sex") or None}
    out.update(_name_columns(row.get("name")))
    birth = _birth(row.get("birth_date"))
    ids = chinese.id_keys(row["id_number"]) if row.get("id_number") else None
    out.update(_id_columns(ids, birth, out["sex"]))
    if ids is not None and ids.valid and ids.birth_date and birth is None:
        # The number's birth date stands in for a missing one (and its sex for a missing sex).
        birth = chinese.date_keys(*(int(p) for p in ids.birth_date.split("-")))
    if out["sex"] is None and ids is not None and ids.valid:
        out["sex"] = ids.sex
    out.update(_date_columns(birth))
    out.update(_place_columns(row.get("hukou_place") or None, row.get("residence_place") or None))
    for parent in ("father", "mother"):
        keys = chinese.name_keys(row.get(f"{parent}_name") or "")
        out[f"{parent}_norm"] = keys.norm if keys else None
        out[f"{parent}_py"] = keys.pinyin if keys else None
    out["phone"] = chinese.phone_key(row.get("guardian_phone") or "")
    return out


def _name_columns(raw: str | None) -> Row:
    keys = chinese.name_keys(raw or "")
    if keys is None:
        return dict.fromkeys(NAME_COLUMNS)
    return {
        "name_norm": keys.norm,
        "name_py": keys.pinyin,
        "name_py_alt": keys.pinyin_alt,
        "surname_py": keys.surname_pinyin or None,
        "given": keys.given or None,
        "given_py": keys.given_pinyin or None,
        "given_sorted": keys.given_sorted or None,
        "name_shape": None if keys.is_pinyin else keys.shape,
        "name_initials": keys.initials,
    }


NAME_COLUMNS = (
    "name_norm",
    "name_py",
    "name_py_alt",
    "surname_py",
    "given",
    "given_py",
    "given_sorted",
    "name_shape",
    "name_initials",
)


def _birth(raw: str | None) -> chinese.DateKeys | None:
    parsed = parse_date(raw) if raw else None
    return chinese.date_keys(*parsed) if parsed else None


def _date_columns(birth: chinese.DateKeys | None) -> Row:
    if birth is None:
        return dict.fromkeys(("dob", "birth_year", "birth_month", "dob_swapped", "dob_lunar"))
    return {
        "dob": birth.iso,
        "birth_year": birth.year,
        "birth_month": birth.month,
        "dob_swapped": birth.swapped,
        "dob_lunar": birth.lunar_as_solar,
    }


def _id_columns(ids: chinese.IdKeys | None, birth: chinese.DateKeys | None, sex: Any) -> Row:
    if ids is None:
        return dict.fromkeys(("id_number", "id_trusted", "id_dob", "id_head", "id_tail"))
    return {
        "id_number": ids.number,
        "id_trusted": chinese.id_agrees(ids, birth=birth, sex=sex),
        "id_dob": ids.birth_date,
        "id_head": ids.number[:10] if len(ids.number) >= 14 else None,
        "id_tail": ids.number[-9:] if len(ids.number) >= 14 else None,
    }


def _place_columns(hukou: str | None, residence: str | None) -> Row:
    return {
        "hukou": hukou,
        "hukou_city": hukou[:4] if hukou else None,
        "residence": residence,
        "residence_town": residence[:9] if residence and len(residence) >= 9 else None,
        "residence_county": residence[:6] if residence else None,
    }


def _western_row(row: Row) -> Row:
    surname, _, given = (row.get("name") or "").partition(",")
    parts = (row.get("residence_place") or "").split("|")
    parts += [""] * (5 - len(parts))
    return {
        "unique_id": row["record_id"],
        "surname": surname.strip().lower() or None,
        "given_name": given.strip().lower() or None,
        "dob": (row.get("birth_date") or "").strip() or None,  # as written: compared by edits
        "soc_sec_id": (row.get("id_number") or "").strip() or None,
        "street_number": parts[0].strip() or None,
        "address_1": parts[1].strip().lower() or None,
        "address_2": parts[2].strip().lower() or None,
        "suburb": parts[3].strip().lower() or None,
        "state": parts[4].strip().lower() or None,
        "postcode": row.get("hukou_place") or None,
    }
