"""Registering a child: into a new household with its members, or into an existing one; with
the delegated care and the guardian's consent when they are known. Every field error is
collected first; the categories are derived before the child is saved, and each new row is
recorded in the change history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.services import record_change
from shouhu.children.categories import CATEGORY_FIELDS, apply_categories, risk_inputs_changed
from shouhu.children.consents import consent_create
from shouhu.children.data import (
    CHILD_FACT_FIELDS,
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    ChildData,
    ConsentData,
    DelegatedCareData,
    HouseholdData,
    MemberData,
    build_child,
    build_member,
    created_changes,
)
from shouhu.children.editing import save_delegated_care
from shouhu.children.models import Child, FamilyMember, Household
from shouhu.children.validation import (
    Errors,
    PlaceCache,
    check_school,
    validate_child,
    validate_household,
    validate_member,
)
from shouhu.lib import clock, protect


@transaction.atomic
def child_register(
    *,
    actor: User,
    child: ChildData,
    household: HouseholdData | None = None,
    household_id: int | None = None,
    members: Sequence[MemberData] = (),
    delegated_care: DelegatedCareData | None = None,
    consent: ConsentData | None = None,
    today: dt.date | None = None,
) -> Child:
    """Register a child with a new household (and its members), or into an existing one."""
    today = today or clock.today()
    places = PlaceCache()
    errors = validate_child(child, places, today=today)
    check_school(errors, child.school_id)
    if household is not None:
        errors.errors.update(validate_household(household, places).errors)
    for i, m in enumerate(members):
        errors.errors.update(validate_member(m, places, today=today, prefix=f"members.{i}.").errors)
    if delegated_care is not None and members:
        _check_member_index(
            errors, "delegated_care.carer_index", delegated_care.carer_index, len(members)
        )
    if consent is not None and members:
        _check_member_index(errors, "consent.given_by_index", consent.given_by_index, len(members))
        if (
            0 <= consent.given_by_index < len(members)
            and not members[consent.given_by_index].is_guardian
        ):
            errors.add(
                "consent.given_by_index", _("Consent must come from a guardian of this child.")
            )
    errors.raise_if_any()
    if not access.can_register_in(actor, child.residence_code):
        raise PermissionDenied(_("You cannot register children living in this place."))
    if household is not None and not access.can_register_in(actor, household.village_code):
        # The family's village is registry data of that area, as the child's residence is.
        errors.add("household.village_code", _("This village is outside your area."))
        errors.raise_if_any()

    if household_id is not None:
        home = Household.objects.select_for_update().get(pk=household_id)
    else:
        assert household is not None, "a new household or an existing household_id"
        home = Household.objects.create(
            village_id=household.village_code,
            address_enc=protect.seal(household.address),
            aid=household.aid,
            income_source=household.income_source,
        )
    new_members = [build_member(m, home) for m in members]
    FamilyMember.objects.bulk_create(new_members)
    all_members = list(home.members.all())
    row = build_child(child, home, actor)
    apply_categories(row, all_members, home.aid, places, today)
    row.save()
    if household_id is None:
        record_change(
            actor=actor,
            obj=home,
            operation="create",
            changes=created_changes(home, HOUSEHOLD_FIELDS),
            child_id=row.pk,
        )
    for new in new_members:
        record_change(
            actor=actor,
            obj=new,
            operation="create",
            changes=created_changes(new, MEMBER_FIELDS),
            child_id=row.pk,
        )
    record_change(
        actor=actor,
        obj=row,
        operation="create",
        changes=created_changes(row, CHILD_FACT_FIELDS + CATEGORY_FIELDS),
        child_id=row.pk,
    )
    if delegated_care is not None and new_members:
        save_delegated_care(
            actor=actor,
            home=home,
            carer=new_members[delegated_care.carer_index],
            values=_care_values(delegated_care),
            child_ids=list(home.children.values_list("pk", flat=True)),
        )
    if consent is not None and new_members:
        consent_create(
            actor,
            row,
            new_members[consent.given_by_index],
            consent.given_on,
            consent.version,
            consent.scopes,
        )
    risk_inputs_changed([row])
    return row


def _check_member_index(errors: Errors, name: str, index: int, count: int) -> None:
    if not 0 <= index < count:
        errors.add(name, _("No family member in this row."))


def _care_values(data: DelegatedCareData) -> dict[str, Any]:
    return {f.name: getattr(data, f.name) for f in fields(data) if f.name != "carer_index"}
