"""Editing a child's file after registration: the child's facts (`child_update`, with the
optimistic `Child.version`), a family member's facts, the household (address, assistance,
income source), a new family member and the delegated care. The household, its members and
the delegated-care record belong to every child of the household: the editor must be allowed
to edit each of them, and the change history is filed under each of them. A change to a
fact the categories depend on recomputes them and tells the apps above
(`categories.risk_inputs_changed`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.services import attname, diff, record_change, snapshot
from shouhu.children.categories import (
    CATEGORY_FIELDS,
    apply_categories,
    household_recompute_categories,
    risk_inputs_changed,
)
from shouhu.children.data import (
    CHILD_FACT_FIELDS,
    DELEGATED_CARE_FIELDS,
    ENCRYPTED,
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    ChildData,
    ConflictError,
    MemberData,
    build_child,
    build_member,
    created_changes,
    set_id_number,
)
from shouhu.children.models import (
    PARENTS,
    Aid,
    Capacity,
    Child,
    DelegatedCare,
    FamilyMember,
    Household,
    Relation,
)
from shouhu.children.validation import (
    Errors,
    PlaceCache,
    check_choice,
    check_school,
    validate_child,
    validate_member,
)
from shouhu.lib import clock, protect

EDITABLE_CHILD_FIELDS = {f.name for f in fields(ChildData)}


@transaction.atomic
def child_update(
    *,
    actor: User,
    child: Child,
    version: int,
    changes: Mapping[str, Any],
    today: dt.date | None = None,
) -> Child:
    """Change a child's facts. `version` is the version the editor read: if someone saved in
    between, ConflictError is raised and nothing is written."""
    today = today or clock.today()
    if not access.can_edit(actor, child):
        raise PermissionDenied(_("You cannot change this child's registration."))
    unknown = set(changes) - EDITABLE_CHILD_FIELDS
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    locked = Child.objects.select_for_update().select_related("household").get(pk=child.pk)
    if locked.version != version:
        raise ConflictError(
            _(
                "This record was changed by someone else since you opened it. "
                "Reload and apply your changes again."
            )
        )
    current = child_data(locked)
    for key, value in changes.items():
        setattr(current, key, value)
    places = PlaceCache()
    errors = validate_child(current, places, today=today)
    check_school(errors, current.school_id)
    errors.raise_if_any()
    if current.residence_code != locked.residence_id and not access.can_register_in(
        actor, current.residence_code
    ):
        raise PermissionDenied(_("You cannot move a child outside your area."))
    before = snapshot(locked, CHILD_FACT_FIELDS + CATEGORY_FIELDS)
    id_hash_before = locked.id_number_hash
    rebuilt = build_child(current, locked.household, locked.created_by)
    for name in [*CHILD_FACT_FIELDS, "name_pinyin", "name_initials"]:
        raw = attname(locked, name)
        setattr(locked, raw, getattr(rebuilt, raw))
    if "id_number" in changes:
        set_id_number(locked, current.id_number)
    apply_categories(
        locked, list(locked.household.members.all()), locked.household.aid, places, today
    )
    locked.version += 1
    locked.save()
    record_change(
        actor=actor,
        obj=locked,
        operation="update",
        changes=_sealed_change(
            diff(before, snapshot(locked, CHILD_FACT_FIELDS + CATEGORY_FIELDS)),
            "id_number_enc",
            id_hash_before,
            locked.id_number_hash,
        ),
        child_id=locked.pk,
    )
    risk_inputs_changed([locked])
    return locked


def child_data(child: Child) -> ChildData:
    """The child's editable facts (the ID number decrypted): what `child_update` starts
    from and what the edit form shows."""
    return ChildData(
        name=child.name,
        sex=child.sex,
        birth_date=child.birth_date,
        residence_code=child.residence_id,
        living_arrangement=child.living_arrangement,
        id_number=protect.unseal(child.id_number_enc),
        hukou_code=child.hukou_id or "",
        residence_since=child.residence_since,
        school_id=child.school_id,
        grade=child.grade,
        boarding=child.boarding,
        schooling=child.schooling,
        health=child.health,
        disability_type=child.disability_type,
        disability_grade=child.disability_grade,
        guardianship_type=child.guardianship_type,
        guardianship_rating=child.guardianship_rating,
    )


def _sealed_change(
    changes: dict[str, list[Any]], name: str, before: str, after: str
) -> dict[str, list[Any]]:
    """`snapshot` shows an encrypted value only as "changed", so replacing one value by
    another looks like no change: compare the plaintexts and record that it changed."""
    if before != after:
        changes[name] = [ENCRYPTED if before else "", ENCRYPTED if after else ""]
    return changes


@transaction.atomic
def member_update(
    *, actor: User, member: FamilyMember, changes: Mapping[str, Any], today: dt.date | None = None
) -> FamilyMember:
    """Change a family member's facts (away, capacity, phone...) and recompute the categories
    of every child of the household."""
    today = today or clock.today()
    children = list(member.household.children.all())
    if not children or not all(access.can_edit(actor, c) for c in children):
        raise PermissionDenied(_("You cannot change this family's registration."))
    data = MemberData(
        name=member.name,
        relation=member.relation,
        is_guardian=member.is_guardian,
        capacity=member.capacity,
        away=member.away,
        away_place_code=member.away_place_id or "",
        away_since=member.away_since,
        away_reason=member.away_reason,
        workplace=member.workplace,
        phone=protect.unseal(member.phone_enc),
    )
    for key, value in changes.items():
        if not hasattr(data, key):
            raise ValidationError({key: [_("Unknown field.")]})
        setattr(data, key, value)
    validate_member(data, PlaceCache(), today=today, prefix="").raise_if_any()
    before = snapshot(member, MEMBER_FIELDS)
    phone_hash_before = member.phone_hash
    rebuilt = build_member(data, member.household)
    for name in [*MEMBER_FIELDS, "phone_hash"]:
        raw = attname(member, name)
        setattr(member, raw, getattr(rebuilt, raw))
    member.save()
    changes = _sealed_change(
        diff(before, snapshot(member, MEMBER_FIELDS)),
        "phone_enc",
        phone_hash_before,
        member.phone_hash,
    )
    for child in children:
        record_change(
            actor=actor, obj=member, operation="update", changes=changes, child_id=child.pk
        )
    household_recompute_categories(household=member.household, on=today, actor=actor)
    risk_inputs_changed(list(member.household.children.all()))
    return member


# ---------------------------------------------------------------- the household


HOUSEHOLD_EDITABLE = frozenset({"address", "aid", "income_source"})
ADDRESS_MAX = 200
INCOME_SOURCE_MAX = 200


def _household_for_edit(
    actor: User, child: Child, version: int | None = None
) -> tuple[Household, list[Child]]:
    """The child's household, locked, with all its children, once `actor` may edit them.
    `version`, when given, is the household version the editor read: ConflictError if it
    changed since."""
    if not access.can_edit(actor, child):
        raise PermissionDenied(_("You cannot change this child's registration."))
    home = Household.objects.select_for_update().get(pk=child.household_id)
    if version is not None and home.version != version:
        raise ConflictError(
            _(
                "This family was changed by someone else since you opened it. "
                "Your entries are kept below: check them against the saved file and save again."
            )
        )
    children = list(home.children.order_by("pk"))
    if not all(access.can_edit(actor, c) for c in children):
        raise PermissionDenied(_("You cannot change this family's registration."))
    return home, children


@transaction.atomic
def household_update(
    *,
    actor: User,
    child: Child,
    changes: Mapping[str, Any],
    version: int | None = None,
    today: dt.date | None = None,
) -> Household:
    """Change the household of `child`: the address (stored encrypted; "" removes it), the
    assistance it receives (which feeds the poverty category of every child of the
    household) and its income source. `version`: see `_household_for_edit`."""
    today = today or clock.today()
    unknown = set(changes) - HOUSEHOLD_EDITABLE
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    home, children = _household_for_edit(actor, child, version)
    errors = Errors()
    aid = str(changes.get("aid", home.aid))
    check_choice(errors, "aid", aid, Aid)
    address = str(changes.get("address", "")).strip()
    if len(address) > ADDRESS_MAX:
        errors.add("address", _("At most %(n)d characters.") % {"n": ADDRESS_MAX})
    income = str(changes.get("income_source", home.income_source)).strip()
    if len(income) > INCOME_SOURCE_MAX:
        errors.add("income_source", _("At most %(n)d characters.") % {"n": INCOME_SOURCE_MAX})
    errors.raise_if_any()
    before = snapshot(home, HOUSEHOLD_FIELDS)
    old_address = protect.unseal(home.address_enc)
    if "address" in changes and address != old_address:
        home.address_enc = protect.seal(address)
    home.aid = aid
    home.income_source = income
    recorded = _sealed_change(
        diff(before, snapshot(home, HOUSEHOLD_FIELDS)),
        "address_enc",
        old_address,
        address if "address" in changes else old_address,
    )
    if not recorded:
        return home
    home.version += 1
    home.save()
    for c in children:
        record_change(actor=actor, obj=home, operation="update", changes=recorded, child_id=c.pk)
    if "aid" in recorded:  # assistance feeds the poverty category (and so the risk level)
        household_recompute_categories(household=home, on=today, actor=actor)
        risk_inputs_changed(list(home.children.all()))
    return home


@transaction.atomic
def member_add(
    *, actor: User, child: Child, member: MemberData, today: dt.date | None = None
) -> FamilyMember:
    """Add a person to the child's household, validated as at registration. A parent's
    facts feed the left-behind and other categories of every child of the household."""
    today = today or clock.today()
    home, children = _household_for_edit(actor, child)
    errors = validate_member(member, PlaceCache(), today=today, prefix="")
    if member.relation in PARENTS and home.members.filter(relation=member.relation).exists():
        errors.add(
            "relation",
            _("This family already has a %(relation)s: edit that entry instead.")
            % {"relation": str(Relation(member.relation).label).lower()},
        )
    errors.raise_if_any()
    row = build_member(member, home)
    row.save()
    for c in children:
        record_change(
            actor=actor,
            obj=row,
            operation="create",
            changes=created_changes(row, MEMBER_FIELDS),
            child_id=c.pk,
        )
    if row.relation in PARENTS:
        household_recompute_categories(household=home, on=today, actor=actor)
        risk_inputs_changed(list(home.children.all()))
    return row


@transaction.atomic
def delegated_care_set(
    *,
    actor: User,
    child: Child,
    carer_id: int | None,
    no_abuse_record: bool = False,
    no_drugs_alcohol_gambling: bool = False,
    no_neglect_history: bool = False,
    capable_adult: bool = False,
    notice_to_school_on: dt.date | None = None,
    notice_to_village_on: dt.date | None = None,
    confirmation_signed_on: dt.date | None = None,
    version: int | None = None,
    today: dt.date | None = None,
) -> DelegatedCare:
    """Record or update the household's delegated care (委托照护, 未成年人保护法 Art. 22):
    the carer, one of the household's members other than the parents, the eligibility
    checklist, the written notices to school and village and the signed confirmation."""
    today = today or clock.today()
    home, children = _household_for_edit(actor, child, version)
    errors = Errors()
    carer = home.members.filter(pk=carer_id).first() if carer_id is not None else None
    if carer_id is None:
        errors.add("carer", _("This field is required."))
    elif carer is None:
        errors.add("carer", _("The carer must be a member of this child's family."))
    elif carer.relation in PARENTS:
        errors.add("carer", _("A parent cannot be the delegated carer of their own child."))
    elif carer.capacity == Capacity.DECEASED:
        errors.add("carer", _("This person is recorded as deceased."))
    dated = {
        "notice_to_school_on": notice_to_school_on,
        "notice_to_village_on": notice_to_village_on,
        "confirmation_signed_on": confirmation_signed_on,
    }
    for name, day in dated.items():
        if day is not None and day > today:
            errors.add(name, _("Date is in the future."))
    errors.raise_if_any()
    assert carer is not None
    values = {
        "no_abuse_record": no_abuse_record,
        "no_drugs_alcohol_gambling": no_drugs_alcohol_gambling,
        "no_neglect_history": no_neglect_history,
        "capable_adult": capable_adult,
        **dated,
    }
    Household.objects.filter(pk=home.pk).update(version=F("version") + 1)
    return save_delegated_care(
        actor=actor, home=home, carer=carer, values=values, child_ids=[c.pk for c in children]
    )


def save_delegated_care(
    *,
    actor: User | None,
    home: Household,
    carer: FamilyMember,
    values: Mapping[str, Any],
    child_ids: Sequence[int],
) -> DelegatedCare:
    """Create or replace the household's delegated-care record (at registration and by
    `delegated_care_set`), with its change history filed under each of the household's
    children."""
    care = DelegatedCare.objects.select_for_update().filter(household=home).first()
    if care is None:
        care = DelegatedCare.objects.create(household=home, carer=carer, **values)
        operation, changes = "create", created_changes(care, DELEGATED_CARE_FIELDS)
    else:
        before = snapshot(care, DELEGATED_CARE_FIELDS)
        care.carer = carer
        for name, value in values.items():
            setattr(care, name, value)
        care.save()
        operation = "update"
        changes = diff(before, snapshot(care, DELEGATED_CARE_FIELDS))
    for child_id in child_ids:
        record_change(
            actor=actor, obj=care, operation=operation, changes=changes, child_id=child_id
        )
    return care
