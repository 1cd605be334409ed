"""The shipped catalogue of activity and course designs (`catalogue.toml`), loaded by the
migration that creates it and again by anyone who finds it missing (a flushed database)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).resolve().parent / "catalogue.toml"
SOURCE = "吐鲁番市“做有能力的小公民”困境儿童心理援助项目"


def ensure_shipped(design: Any = None) -> int:
    """Create the shipped designs that are missing; returns how many were created. The
    migration passes its historical `Design` model; everyone else the current one."""
    if design is None:
        from shouhu.programmes.models import Design

        design = Design
    with CATALOGUE.open("rb") as f:
        rows = tomllib.load(f)["design"]
    created = 0
    for row in rows:
        low, high = row["hours"]
        _, new = design.objects.get_or_create(
            organisation=None,
            kind=row["kind"],
            name=row["name"],
            defaults={
                "hours_min": low,
                "hours_max": high,
                "content": row["content"],
                "source": SOURCE,
            },
        )
        created += int(new)
    return created
