"""A package received beside a registered child: each compared field, as one reader may
see it, and whether the two agree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shouhu import access
from shouhu.children.models import Child, Relation
from shouhu.children.selectors import MASK
from shouhu.lib import idnumber, protect


@dataclass(frozen=True)
class Difference:
    """One compared field: the package's value and the registered child's, as a reader
    with these field classes may see them (identifying values partly masked, as on the
    child's page; fields above the reader's ceiling wholly masked), and whether the
    plaintexts agree."""

    field: str
    package: str
    registry: str
    same: bool


COMPARED = (
    "name",
    "sex",
    "birth_date",
    "id_number",
    "hukou_code",
    "living_arrangement",
    "schooling",
    "health",
    "disability_type",
    "disability_grade",
    "guardianship_type",
    "guardianship_rating",
)
SENSITIVE_FIELDS = frozenset(
    {"health", "disability_type", "disability_grade", "guardianship_type", "guardianship_rating"}
)
Family = list[tuple[str, str, str]]


def _registry_values(child: Child) -> tuple[dict[str, str], Family]:
    values = {
        "name": child.name,
        "sex": child.sex,
        "birth_date": child.birth_date.isoformat(),
        "id_number": protect.unseal(child.id_number_enc),
        "hukou_code": child.hukou_id or "",
        "living_arrangement": child.living_arrangement,
        "schooling": child.schooling,
        "health": child.health,
        "disability_type": child.disability_type,
        "disability_grade": child.disability_grade,
        "guardianship_type": child.guardianship_type,
        "guardianship_rating": child.guardianship_rating,
    }
    family = [
        (m.relation, m.name, protect.unseal(m.phone_enc))
        for m in child.household.members.order_by("id")
    ]
    return values, family


def _relation(code: str) -> str:
    return str(Relation(code).label) if code in Relation.values else code


def _family(members: Family, *, phones: bool) -> str:
    def one(relation: str, name: str, phone: str) -> str:
        if phone and phones:
            return f"{name} ({_relation(relation)}, {idnumber.mask_phone(phone)})"
        return f"{name} ({_relation(relation)})"

    shown = (one(relation, name, phone) for relation, name, phone in members)
    return "; ".join(sorted(shown))


def _shown(name: str, value: str, classes: frozenset[str]) -> str:
    if not value:
        return ""
    if name in SENSITIVE_FIELDS and access.SENSITIVE not in classes:
        return MASK
    if name == "id_number":
        return idnumber.mask(value) if access.IDENTIFYING in classes else MASK
    return value


def differences(
    body: dict[str, Any],
    child: Child,
    *,
    package_classes: frozenset[str] = access.ALL,
    registry_classes: frozenset[str] = access.ALL,
) -> list[Difference]:
    """Each compared field of the package's child against the registered child, and the
    family (relations, names, phones)."""
    theirs = {k: str(body["child"].get(k) or "") for k in COMPARED}
    their_family = sorted(
        (str(m.get("relation", "")), str(m.get("name", "")), str(m.get("phone", "")))
        for m in body["members"]
    )
    ours, our_family = _registry_values(child)
    found = [
        Difference(
            k,
            _shown(k, theirs[k], package_classes),
            _shown(k, ours[k], registry_classes),
            theirs[k] == ours[k],
        )
        for k in COMPARED
    ]
    found.append(
        Difference(
            "members",
            _family(their_family, phones=access.IDENTIFYING in package_classes),
            _family(our_family, phones=access.IDENTIFYING in registry_classes),
            their_family == sorted(our_family),
        )
    )
    return found
