"""Registering many children at once (imports, generated data): all or nothing.

Every row is validated first and every error is reported with its source line and field; if
there is any error nothing is written. Children already registered (same ID number, or same
name, birth date and village) among those the importing user may see are skipped, so
re-importing a file creates no duplicates.
Rows with the same household number in the same village share one household.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit import context
from shouhu.audit.models import ChangeRecord
from shouhu.children import signals
from shouhu.children.categories import CATEGORY_FIELDS, apply_categories
from shouhu.children.data import (
    CHILD_FACT_FIELDS,
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    ChildData,
    HouseholdData,
    MemberData,
    build_child,
    build_member,
    created_changes,
)
from shouhu.children.models import Child, ChildQuerySet, FamilyMember, Household
from shouhu.children.validation import (
    PlaceCache,
    validate_child,
    validate_household,
    validate_member,
)
from shouhu.lib import clock, protect


@dataclass
class RegistrationRow:
    line: int
    household_ref: str
    household: HouseholdData
    child: ChildData
    members: list[MemberData] = field(default_factory=list)


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass
class BulkResult:
    created: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)  # the registered children skipped

    @property
    def ok(self) -> bool:
        return not self.errors


def _errors_of(exc_dict: dict[str, list[str]], line: int) -> list[RowError]:
    return [RowError(line, name, msg) for name, msgs in exc_dict.items() for msg in msgs]


def bulk_validate(
    rows: Sequence[RegistrationRow], *, actor: User | None, places: PlaceCache, today: dt.date
) -> list[RowError]:
    codes = set()
    for r in rows:
        codes |= {r.child.residence_code, r.child.hukou_code, r.household.village_code}
        codes |= {m.away_place_code for m in r.members}
    places.preload(codes)
    errors: list[RowError] = []
    for r in rows:
        found = validate_child(r.child, places, today=today).errors
        found.update(validate_household(r.household, places).errors)
        for i, m in enumerate(r.members):
            found.update(validate_member(m, places, today=today, prefix=f"members.{i}.").errors)
        errors += _errors_of(found, r.line)
        if (
            actor is not None
            and "residence_code" not in found
            and not access.can_register_in(actor, r.child.residence_code)
        ):
            errors.append(
                RowError(r.line, "residence_code", _("This village is outside your area."))
            )
    return errors


def _existing_keys(
    rows: Sequence[RegistrationRow], scope: ChildQuerySet
) -> tuple[dict[str, int], dict[tuple[str, dt.date, str], int]]:
    """The children of `scope` already registered under the rows' ID numbers, or (rows
    without one) names, birth dates and villages, by key."""
    hashes = sorted({protect.id_hash(r.child.id_number) for r in rows if r.child.id_number})
    by_id: dict[str, int] = {}
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        by_id.update(
            (h, pk)
            for pk, h in scope.filter(id_number_hash__in=chunk).values_list("pk", "id_number_hash")
        )
    names = {r.child.name.strip() for r in rows if not r.child.id_number}
    villages = {r.child.residence_code for r in rows if not r.child.id_number}
    by_name: dict[tuple[str, dt.date, str], int] = {}
    if names:
        for pk, name, born, village in scope.filter(
            name__in=names, residence_id__in=villages
        ).values_list("pk", "name", "birth_date", "residence_id"):
            by_name[(name, born, village)] = pk
    return by_id, by_name


def _households(
    rows: Sequence[RegistrationRow],
) -> dict[tuple[str, str], Household]:
    keys = {(r.household.village_code, r.household_ref) for r in rows if r.household_ref}
    found: dict[tuple[str, str], Household] = {}
    refs = {ref for _, ref in keys}
    if refs:
        for h in Household.objects.filter(ref__in=refs, village_id__in={v for v, _ in keys}):
            found[(h.village_id, h.ref)] = h
    return found


@transaction.atomic
def bulk_register(
    *,
    actor: User | None,
    rows: Sequence[RegistrationRow],
    today: dt.date | None = None,
    check_access: bool = True,
    history: bool = True,
    assess_risk: bool = True,
) -> BulkResult:
    """Register many children in one transaction. `assess_risk=False` leaves their risk
    levels to `shouhu risk recompute` (the data generator, which runs it once at the end)."""
    today = today or clock.today()
    places = PlaceCache()
    errors = bulk_validate(rows, actor=actor if check_access else None, places=places, today=today)
    if errors:
        return BulkResult(errors=errors)
    # A user's import is checked against the children the user may see: skipping a row (or
    # not) for a child registered elsewhere would tell whether an ID number is registered
    # anywhere in the country. The operator's import (no user) checks the whole registry.
    scope = (
        access.children_visible_to(actor)
        if actor is not None and check_access
        else Child.objects.all()
    )
    existing_ids, existing_names = _existing_keys(rows, scope)
    by_id, by_name = set(existing_ids), set(existing_names)
    existing_households = _households(rows)
    result = BulkResult()
    new_households: dict[tuple[str, str], Household] = {}
    pending: list[tuple[RegistrationRow, Household]] = []
    seen_ids: set[str] = set()
    for i, r in enumerate(rows):
        id_key = protect.id_hash(r.child.id_number) if r.child.id_number else ""
        name_key = (r.child.name.strip(), r.child.birth_date, r.child.residence_code)
        if (id_key and (id_key in by_id or id_key in seen_ids)) or (
            not id_key and name_key in by_name
        ):
            result.skipped += 1
            found = existing_ids.get(id_key) if id_key else existing_names.get(name_key)
            if found is not None:
                result.matched.append(found)
            continue
        if id_key:
            seen_ids.add(id_key)
        else:
            by_name.add(name_key)
        key = (r.household.village_code, r.household_ref or f"#row{i}")
        home = existing_households.get(key) or new_households.get(key)
        if home is None:
            home = Household(
                village_id=r.household.village_code,
                ref=r.household_ref,
                address_enc=protect.seal(r.household.address),
                aid=r.household.aid,
                income_source=r.household.income_source,
            )
            new_households[key] = home
        pending.append((r, home))
    Household.objects.bulk_create(list(new_households.values()), batch_size=2000)
    members_of: dict[int, list[FamilyMember]] = {}
    new_members: list[FamilyMember] = []
    created_homes = {id(h) for h in new_households.values()}
    for r, home in pending:
        if id(home) in created_homes and home.pk not in members_of:
            members_of[home.pk] = [build_member(m, home) for m in r.members]
            new_members += members_of[home.pk]
    FamilyMember.objects.bulk_create(new_members, batch_size=2000)
    old_homes = {home.pk for _, home in pending if home.pk not in members_of}
    for m in FamilyMember.objects.filter(household_id__in=old_homes):
        members_of.setdefault(m.household_id, []).append(m)
    children = []
    for r, home in pending:
        child = build_child(r.child, home, actor)
        apply_categories(child, members_of.get(home.pk, []), home.aid, places, today)
        children.append(child)
    Child.objects.bulk_create(children, batch_size=2000)
    if assess_risk:
        signals.registered_in_bulk.send(sender=Child, children=children)
    if history:
        _history(actor, children, list(new_households.values()), new_members)
    result.created = len(children)
    return result


def _history(
    actor: User | None,
    children: Sequence[Child],
    households: Sequence[Household],
    members: Sequence[FamilyMember],
) -> None:
    """One "create" change record per new household, family member and child, as the
    single path writes them; a household's and its members' records are filed under the
    first child registered into that household. No query but the inserts."""
    source = context.current().source
    name = actor.username if actor is not None else "system"
    first_child: dict[int, int] = {}
    for c in children:
        first_child.setdefault(c.household_id, c.pk)

    def record(
        obj: Household | FamilyMember | Child, child_id: int, names: list[str]
    ) -> ChangeRecord:
        return ChangeRecord(
            actor=actor,
            actor_name=name,
            child_id=child_id,
            object_type=obj._meta.model_name or "",
            object_id=str(obj.pk),
            operation="create",
            changes=created_changes(obj, names),
            source=source,
        )

    records = [
        record(h, first_child[h.pk], HOUSEHOLD_FIELDS) for h in households if h.pk in first_child
    ]
    records += [
        record(m, first_child[m.household_id], MEMBER_FIELDS)
        for m in members
        if m.household_id in first_child
    ]
    records += [record(c, c.pk, CHILD_FACT_FIELDS + CATEGORY_FIELDS) for c in children]
    ChangeRecord.objects.bulk_create(records, batch_size=2000)


def raise_for(result: BulkResult) -> None:
    """Turn row errors into one ValidationError keyed `row N: field`."""
    if result.errors:
        raise ValidationError({f"row {e.line}: {e.field}": [e.message] for e in result.errors})
