"""The registry's children as the engine's records (the columns of `files.COLUMNS`).

The destination side: children whose hukou is in another county than the one they live in
(migrant children, whatever their category says). The home side: the children living in
those hukou counties. Parents' names come from the household's father and mother, the phone
from its first guardian with one; identifying values are unsealed here, inside the job, and
never leave it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.db.models.functions import Substr

from shouhu.children.models import Child, FamilyMember, Relation
from shouhu.lib import protect
from shouhu.places.models import code_range

if TYPE_CHECKING:
    import pandas as pd

CHUNK = 5_000
COLUMNS = [
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
]


def destination_children() -> Any:
    """Children living outside their hukou county."""
    return (
        Child.objects.filter(hukou__isnull=False)
        .annotate(hukou_county=Substr("hukou_id", 1, 6), living_county=Substr("residence_id", 1, 6))
        .exclude(hukou_county=F("living_county"))
    )


def home_children(counties: Iterable[str]) -> Any:
    """Children living in the given counties (6-digit codes)."""
    children = Child.objects.none()
    for county in sorted(set(counties)):
        low, high = code_range(county)
        children = children | Child.objects.filter(residence_id__gte=low, residence_id__lte=high)
    return children


def records(children: Any) -> pd.DataFrame:
    """The engine's records of these children, read in chunks."""
    import pandas as pd  # only in the job (see `matching`)

    rows: list[dict[str, Any]] = []
    ids = list(children.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        fields = (
            "pk",
            "name",
            "sex",
            "birth_date",
            "id_number_enc",
            "hukou_id",
            "residence_id",
            "household_id",
        )
        found = list(Child.objects.filter(pk__in=chunk).values_list(*fields))
        parents = _parents({row[7] for row in found})
        for pk, name, sex, born, sealed, hukou, residence, household in found:
            father, mother, phone = parents.get(household, ("", "", ""))
            rows.append(
                {
                    "record_id": str(pk),
                    "name": name,
                    "sex": sex or "",
                    "birth_date": born.isoformat() if born else "",
                    "id_number": protect.unseal(sealed) if sealed else "",
                    "hukou_place": (hukou or "")[:6],
                    "residence_place": residence or "",
                    "father_name": father,
                    "mother_name": mother,
                    "guardian_phone": phone,
                }
            )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype(object).where(frame != "", None)


def _parents(households: set[int]) -> dict[int, tuple[str, str, str]]:
    found: dict[int, list[str]] = {}
    members = (
        FamilyMember.objects.filter(household_id__in=households)
        .order_by("household_id", "-is_guardian", "id")
        .values_list("household_id", "relation", "name", "is_guardian", "phone_enc")
    )
    for household, relation, name, guardian, sealed in members:
        row = found.setdefault(household, ["", "", ""])
        if relation == Relation.FATHER and not row[0]:
            row[0] = name
        elif relation == Relation.MOTHER and not row[1]:
            row[1] = name
        if guardian and sealed and not row[2]:
            row[2] = protect.unseal(sealed)
    return {h: (r[0], r[1], r[2]) for h, r in found.items()}
