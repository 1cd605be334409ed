"""Writes to the registry. Every write is a transaction, validated here, and recorded in the
change history; derived categories are recomputed whenever a fact they depend on changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, OrgKind, User
from shouhu.audit.services import attname, diff, record_change, snapshot
from shouhu.children import signals
from shouhu.children.models import (
    Aid,
    AwayReason,
    Basis,
    Capacity,
    Child,
    ChildAssignment,
    Consent,
    ConsentScope,
    DelegatedCare,
    FamilyMember,
    GuardianshipRating,
    GuardianshipType,
    Health,
    Household,
    Living,
    ProcessingBasis,
    Purpose,
    Relation,
    Schooling,
    Sex,
)
from shouhu.lib import categories as rules
from shouhu.lib import clock, dates, idnumber, phone, pinyin, protect
from shouhu.places.models import Level, Place

CHILD_FACT_FIELDS = [
    "name",
    "sex",
    "birth_date",
    "id_number_enc",
    "hukou",
    "residence",
    "residence_since",
    "school",
    "grade",
    "boarding",
    "schooling",
    "health",
    "disability_type",
    "disability_grade",
    "living_arrangement",
    "guardianship_type",
    "guardianship_rating",
]
MEMBER_FIELDS = [
    "name",
    "relation",
    "is_guardian",
    "capacity",
    "away",
    "away_place",
    "away_since",
    "away_reason",
    "workplace",
    "phone_enc",
]
HOUSEHOLD_FIELDS = ["village", "address_enc", "aid", "income_source"]
DELEGATED_CARE_FIELDS = [
    "carer",
    "no_abuse_record",
    "no_drugs_alcohol_gambling",
    "no_neglect_history",
    "capable_adult",
    "notice_to_school_on",
    "notice_to_village_on",
    "confirmation_signed_on",
]
CONSENT_FIELDS = ["given_by", "given_on", "version", "scopes"]
PARENTS = frozenset({Relation.FATHER, Relation.MOTHER})
ENCRYPTED = "[encrypted value changed]"  # how `audit.services.snapshot` records an `_enc` value


class ConflictError(Exception):
    """Someone else saved the record since it was read (optimistic versioning)."""


@dataclass
class ChildData:
    name: str
    sex: str
    birth_date: dt.date
    residence_code: str
    living_arrangement: str
    id_number: str = ""
    hukou_code: str = ""
    residence_since: dt.date | None = None
    school_id: int | None = None
    grade: str = ""
    boarding: bool = False
    schooling: str = Schooling.ENROLLED
    health: str = Health.WELL
    disability_type: str = ""
    disability_grade: str = ""
    guardianship_type: str = ""
    guardianship_rating: str = ""


@dataclass
class MemberData:
    name: str
    relation: str
    is_guardian: bool = False
    capacity: str = Capacity.ABLE
    away: bool = False
    away_place_code: str = ""
    away_since: dt.date | None = None
    away_reason: str = ""
    workplace: str = ""
    phone: str = ""


@dataclass
class HouseholdData:
    village_code: str
    address: str = ""
    aid: str = Aid.NONE
    income_source: str = ""


@dataclass
class DelegatedCareData:
    carer_index: int  # index into the members list
    no_abuse_record: bool = False
    no_drugs_alcohol_gambling: bool = False
    no_neglect_history: bool = False
    capable_adult: bool = False
    notice_to_school_on: dt.date | None = None
    notice_to_village_on: dt.date | None = None
    confirmation_signed_on: dt.date | None = None


@dataclass
class ConsentData:
    given_by_index: int
    given_on: dt.date
    version: str
    scopes: list[str] = field(default_factory=lambda: ["registry"])


# ---------------------------------------------------------------- validation helpers


class Errors:
    """Collects field errors; `raise_if_any()` raises one ValidationError with all of them."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(self.prefix + name, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


class PlaceCache:
    """Looks places up once; used by single writes and by bulk import alike."""

    def __init__(self) -> None:
        self._cache: dict[str, Place | None] = {}

    def get(self, code: str) -> Place | None:
        if code not in self._cache:
            self._cache[code] = Place.objects.filter(pk=code).first()
        return self._cache[code]

    def preload(self, codes: Iterable[str]) -> None:
        missing = {c for c in codes if c and c not in self._cache}
        found = {p.code: p for p in Place.objects.filter(pk__in=missing)}
        for code in missing:
            self._cache[code] = found.get(code)

    def districts(self, *codes: str) -> frozenset[str]:
        counties = {c[:6] for c in codes if c}
        out = set()
        for county in counties:
            place = self.get(county + "000000")
            if place is not None and place.is_city_district:
                out.add(county)
        return frozenset(out)


_CHOICE_VALUES: dict[Any, frozenset[str]] = {}


def _choice(errors: Errors, name: str, value: str, choices: Any, *, blank: bool = False) -> None:
    if blank and not value:
        return
    allowed_values = _CHOICE_VALUES.get(choices)
    if allowed_values is None:
        allowed_values = _CHOICE_VALUES[choices] = frozenset(choices.values)
    if value not in allowed_values:
        allowed = ", ".join(choices.values)
        errors.add(
            name,
            _("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": allowed},
        )


def _place(
    errors: Errors, places: PlaceCache, name: str, code: str, *, min_level: int, required: bool
) -> Place | None:
    if not code:
        if required:
            errors.add(name, _("This field is required."))
        return None
    place = places.get(code)
    if place is None:
        errors.add(name, _("No place has the code %(code)s.") % {"code": code})
    elif place.level < min_level:
        errors.add(name, _("%(name)s is not precise enough here.") % {"name": place.name})
    return place


def validate_child(data: ChildData, places: PlaceCache, *, today: dt.date) -> Errors:
    errors = Errors()
    if not data.name.strip():
        errors.add("name", _("This field is required."))
    _choice(errors, "sex", data.sex, Sex)
    if data.birth_date > today:
        errors.add("birth_date", _("Date of birth is in the future."))
    elif dates.age_on(data.birth_date, today) >= 18:
        errors.add("birth_date", _("The registry is for children under 18."))
    if data.id_number:
        try:
            idnumber.check_against(data.id_number, birth_date=data.birth_date, sex=data.sex)
        except idnumber.IdNumberError as exc:
            errors.add("id_number", _id_message(exc))
    _place(
        errors,
        places,
        "residence_code",
        data.residence_code,
        min_level=Level.VILLAGE,
        required=True,
    )
    _place(errors, places, "hukou_code", data.hukou_code, min_level=Level.COUNTY, required=False)
    if data.residence_since and data.residence_since > today:
        errors.add("residence_since", _("Date is in the future."))
    _choice(errors, "living_arrangement", data.living_arrangement, Living)
    _choice(errors, "schooling", data.schooling, Schooling)
    _choice(errors, "health", data.health, Health)
    _choice(errors, "guardianship_type", data.guardianship_type, GuardianshipType, blank=True)
    _choice(errors, "guardianship_rating", data.guardianship_rating, GuardianshipRating, blank=True)
    return errors


def _id_message(exc: idnumber.IdNumberError) -> str:
    messages = {
        "length": _("ID number must have 18 characters."),
        "checksum": _("ID number check digit is wrong."),
        "component": _("ID number contains an impossible date."),
        "format": _("ID number is not in the GB 11643 format."),
        "sex_mismatch": _("ID number's sex digit disagrees with the sex entered."),
    }
    if exc.code == "birth_date_mismatch":
        return _("ID number does not match the date of birth.")
    return messages.get(exc.code, str(exc))


def validate_member(data: MemberData, places: PlaceCache, *, today: dt.date, prefix: str) -> Errors:
    errors = Errors(prefix)
    if not data.name.strip():
        errors.add("name", _("This field is required."))
    _choice(errors, "relation", data.relation, Relation)
    _choice(errors, "capacity", data.capacity, Capacity)
    _choice(errors, "away_reason", data.away_reason, AwayReason, blank=True)
    if data.away:
        if data.away_since is None:
            errors.add("away_since", _("Say since when this person has been away."))
        elif data.away_since > today:
            errors.add("away_since", _("Date is in the future."))
        _place(
            errors,
            places,
            "away_place_code",
            data.away_place_code,
            min_level=Level.PROVINCE,
            required=False,
        )
    if data.phone and not phone.is_valid(data.phone):
        errors.add("phone", str(phone.PROBLEM))
    return errors


def validate_household(data: HouseholdData, places: PlaceCache) -> Errors:
    errors = Errors("household.")
    _place(
        errors, places, "village_code", data.village_code, min_level=Level.VILLAGE, required=True
    )
    _choice(errors, "aid", data.aid, Aid)
    return errors


# ---------------------------------------------------------------- building rows


def build_child(data: ChildData, household: Household, actor: User | None) -> Child:
    full, initials = pinyin.name_keys(data.name)
    child = Child(
        household=household,
        name=data.name.strip(),
        name_pinyin=full,
        name_initials=initials,
        sex=data.sex,
        birth_date=data.birth_date,
        hukou_id=data.hukou_code or None,
        residence_id=data.residence_code,
        residence_since=data.residence_since,
        school_id=data.school_id,
        grade=data.grade,
        boarding=data.boarding,
        schooling=data.schooling,
        health=data.health,
        disability_type=data.disability_type,
        disability_grade=data.disability_grade,
        living_arrangement=data.living_arrangement,
        guardianship_type=data.guardianship_type,
        guardianship_rating=data.guardianship_rating,
        created_by=actor,
    )
    set_id_number(child, data.id_number)
    return child


def set_id_number(child: Child, number: str) -> None:
    if number:
        normal = idnumber.normalize(number)
        child.id_number_enc = protect.seal(normal)
        child.id_number_hash = protect.id_hash(normal)
        child.id_tail_hash = protect.id_tail_hash(normal)
    else:
        child.id_number_enc = child.id_number_hash = child.id_tail_hash = ""


def build_member(data: MemberData, household: Household) -> FamilyMember:
    member = FamilyMember(
        household=household,
        name=data.name.strip(),
        relation=data.relation,
        is_guardian=data.is_guardian,
        capacity=data.capacity,
        away=data.away,
        away_place_id=data.away_place_code or None,
        away_since=data.away_since if data.away else None,
        away_reason=data.away_reason if data.away else "",
        workplace=data.workplace,
    )
    set_phone(member, data.phone)
    return member


def set_phone(member: FamilyMember, phone: str) -> None:
    member.phone_enc = protect.seal(protect.normalize_phone(phone)) if phone else ""
    member.phone_hash = protect.phone_hash(phone) if phone else ""


# ---------------------------------------------------------------- categories


def facts_of(child: Child, members: Sequence[FamilyMember], aid: str) -> rules.ChildFacts:
    parents = tuple(
        rules.ParentFacts(
            relation=m.relation,
            capacity=m.capacity,
            away=m.away,
            away_since=m.away_since,
            away_reason=m.away_reason,
            away_place=m.away_place_id or "",
        )
        for m in members
        if m.relation in {Relation.FATHER, Relation.MOTHER}
    )
    return rules.ChildFacts(
        birth_date=child.birth_date,
        residence=child.residence_id,
        hukou=child.hukou_id or "",
        residence_since=child.residence_since,
        parents=parents,
        household_aid=aid,
        disabled=bool(child.disability_type),
        guardianship_type=child.guardianship_type,
        guardianship_rating=child.guardianship_rating,
    )


def risk_inputs_changed(children: Sequence[Child]) -> None:
    """The registry facts behind the risk level changed: screening recomputes it and cases
    keep their area columns in step (`signals.facts_changed`; bulk imports leave the risk
    level to `shouhu risk recompute`)."""
    signals.facts_changed.send(sender=Child, children=list(children))


def apply_categories(
    child: Child, members: Sequence[FamilyMember], aid: str, places: PlaceCache, on: dt.date
) -> bool:
    """Set the child's derived categories in memory; True when any of them changed."""
    result = rules.derive(
        facts_of(child, members, aid),
        on,
        places.districts(child.hukou_id or "", child.residence_id),
    )
    changed = False
    for code in rules.CATEGORY_CODES:
        name = f"cat_{code}"
        if getattr(child, name) != getattr(result, code):
            setattr(child, name, getattr(result, code))
            changed = True
    child.categories_on = on
    child.categories_valid_until = result.valid_until
    return changed


CATEGORY_FIELDS = [f"cat_{c}" for c in rules.CATEGORY_CODES]


def child_recompute_categories(
    *, child: Child, on: dt.date | None = None, actor: User | None = None
) -> Child:
    """Derive the child's categories again; the change (if any) is recorded under `actor`,
    the person whose edit caused it (None: the daily job)."""
    on = on or clock.today()
    members = list(child.household.members.all())
    before = snapshot(child, CATEGORY_FIELDS)
    apply_categories(child, members, child.household.aid, PlaceCache(), on)
    child.save(update_fields=[*CATEGORY_FIELDS, "categories_on", "categories_valid_until"])
    record_change(
        actor=actor,
        obj=child,
        operation="update",
        changes=diff(before, snapshot(child, CATEGORY_FIELDS)),
        child_id=child.pk,
    )
    return child


def household_recompute_categories(
    *, household: Household, on: dt.date | None = None, actor: User | None = None
) -> None:
    for child in household.children.select_related("household"):
        child_recompute_categories(child=child, on=on, actor=actor)


def children_recompute_due(*, on: dt.date | None = None, batch: int = 1000) -> int:
    """Daily job: recompute children whose categories may have changed with time alone
    (a 16th or 18th birthday, six months away reached). Idempotent."""
    on = on or clock.today()
    due = Child.objects.filter(categories_valid_until__lte=on).select_related("household")
    count = 0
    for child in due.iterator(chunk_size=batch):
        with transaction.atomic():
            child_recompute_categories(child=child, on=on)
        count += 1
    return count


# ---------------------------------------------------------------- registration


def _check_school(errors: Errors, school_id: int | None) -> None:
    if (
        school_id is not None
        and not Organisation.objects.filter(pk=school_id, kind=OrgKind.SCHOOL).exists()
    ):
        errors.add("school_id", _("No such school."))


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
    _check_school(errors, child.school_id)
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
        _save_delegated_care(
            actor=actor,
            home=home,
            carer=new_members[delegated_care.carer_index],
            values=_care_values(delegated_care),
            child_ids=list(home.children.values_list("pk", flat=True)),
        )
    if consent is not None and new_members:
        _consent_create(
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


def created_changes(obj: Any, names: list[str]) -> dict[str, list[Any]]:
    """The change-history entry of a new row: every field that has a value, as [None, value]
    (encrypted values only as "changed", see `audit.services.snapshot`)."""
    return {k: [None, v] for k, v in snapshot(obj, names).items() if v not in ("", None, False)}


def _sealed_change(
    changes: dict[str, list[Any]], name: str, before: str, after: str
) -> dict[str, list[Any]]:
    """`snapshot` shows an encrypted value only as "changed", so replacing one value by
    another looks like no change: compare the plaintexts and record that it changed."""
    if before != after:
        changes[name] = [ENCRYPTED if before else "", ENCRYPTED if after else ""]
    return changes


def _care_values(data: DelegatedCareData) -> dict[str, Any]:
    return {f.name: getattr(data, f.name) for f in fields(data) if f.name != "carer_index"}


def _save_delegated_care(
    *,
    actor: User | None,
    home: Household,
    carer: FamilyMember,
    values: Mapping[str, Any],
    child_ids: Sequence[int],
) -> DelegatedCare:
    """Create or replace the household's delegated-care record, with its change history
    filed under each of the household's children."""
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


# ---------------------------------------------------------------- updates


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
    current = _child_data(locked)
    for key, value in changes.items():
        setattr(current, key, value)
    places = PlaceCache()
    errors = validate_child(current, places, today=today)
    _check_school(errors, current.school_id)
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


def _child_data(child: Child) -> ChildData:
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


# ---------------------------------------------------------------- the rest of the file
#
# The household, its members and the delegated-care record belong to every child of the
# household: the editor must be allowed to edit each of them, and the change history is
# filed under each of them.

HOUSEHOLD_EDITABLE = frozenset({"address", "aid", "income_source"})
ADDRESS_MAX = 200
INCOME_SOURCE_MAX = 200
NOTE_MAX = 300


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
    _choice(errors, "aid", aid, Aid)
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
    return _save_delegated_care(
        actor=actor, home=home, carer=carer, values=values, child_ids=[c.pk for c in children]
    )


@transaction.atomic
def assignment_create(
    *,
    actor: User | None,
    child: Child,
    organisation: Organisation,
    kind: str,
    user: User | None = None,
    started_on: dt.date | None = None,
) -> ChildAssignment:
    """Open a child to a worker or organisation. Referrals and transfers to another
    organisation need the guardian's sharing consent or a recorded legal basis."""
    if kind in {"referral", "transfer"} and not sharing_allowed(child):
        raise ValidationError(
            {"kind": [_("Sharing needs the guardian's consent or a recorded legal basis.")]}
        )
    row = ChildAssignment.objects.create(
        child=child,
        organisation=organisation,
        user=user,
        kind=kind,
        started_on=started_on or clock.today(),
    )
    record_change(
        actor=actor,
        obj=row,
        operation="create",
        changes=created_changes(row, ["organisation", "user", "kind"]),
        child_id=child.pk,
    )
    return row


def sharing_consent(child: Child) -> Consent | None:
    """The guardian's consent in force that covers sharing with other organisations."""
    return next(
        (
            c
            for c in child.consents.filter(withdrawn_on__isnull=True).order_by("-given_on")
            if "sharing" in c.scopes
        ),
        None,
    )


@dataclass(frozen=True)
class SharingStatus:
    """Whether the child's file may go to another organisation, and on what record."""

    allowed: bool
    basis: str


def sharing_status(child: Child) -> SharingStatus:
    """What the child's page and the referral page both say about sharing (one rule)."""
    consent = sharing_consent(child)
    if consent is not None:
        return SharingStatus(
            True,
            _("the guardian's consent given by %(name)s on %(date)s")
            % {"name": consent.given_by.name, "date": consent.given_on.isoformat()},
        )
    basis = child.processing_bases.filter(purpose="sharing").first()
    if basis is not None:
        return SharingStatus(True, str(basis.get_basis_display()))
    return SharingStatus(False, "")


def sharing_allowed(child: Child) -> bool:
    """The child's file may go to another organisation: a guardian's sharing consent or a
    recorded legal basis for sharing (cases add the child's own request and emergencies:
    `cases.services.referral_basis`)."""
    return (
        sharing_consent(child) is not None
        or child.processing_bases.filter(purpose="sharing").exists()
    )


# ---------------------------------------------------------------- consent and legal basis


@transaction.atomic
def consent_record(
    *,
    actor: User,
    child: Child,
    given_by: FamilyMember,
    given_on: dt.date,
    version: str,
    scopes: Sequence[str],
) -> Consent:
    """Record a guardian's consent (PIPL Art. 31) for the listed processing scopes."""
    if not access.may_record_consent(actor, child):
        raise PermissionDenied(_("You cannot record consent for this child."))
    errors = Errors()
    if given_by.household_id != child.household_id or not given_by.is_guardian:
        errors.add("given_by", _("Consent must come from a guardian of this child."))
    for scope in scopes:
        _choice(errors, "scopes", scope, ConsentScope)
    if not scopes:
        errors.add("scopes", _("Choose at least one purpose."))
    if not version.strip():
        errors.add("version", _("This field is required."))
    if given_on > clock.today():
        errors.add("given_on", _("Date is in the future."))
    errors.raise_if_any()
    return _consent_create(actor, child, given_by, given_on, version.strip(), sorted(set(scopes)))


def _consent_create(
    actor: User,
    child: Child,
    given_by: FamilyMember,
    given_on: dt.date,
    version: str,
    scopes: Sequence[str],
) -> Consent:
    """A consent row and its change-history entry (registration and later consents)."""
    consent = Consent.objects.create(
        child=child,
        given_by=given_by,
        given_on=given_on,
        version=version,
        scopes=list(scopes),
        recorded_by=actor,
    )
    record_change(
        actor=actor,
        obj=consent,
        operation="create",
        changes=created_changes(consent, CONSENT_FIELDS),
        child_id=child.pk,
    )
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User, consent: Consent, on: dt.date | None = None) -> Consent:
    """A guardian withdraws consent; sharing that rested on it is no longer allowed."""
    if not access.may_record_consent(actor, consent.child):
        raise PermissionDenied(_("You cannot change this child's registration."))
    on = on or clock.today()
    errors = Errors()
    if consent.withdrawn_on is not None:
        errors.add("withdrawn_on", _("This consent is already withdrawn."))
    elif on > clock.today():
        errors.add("withdrawn_on", _("Date is in the future."))
    elif on < consent.given_on:
        errors.add("withdrawn_on", _("Consent cannot be withdrawn before it was given."))
    errors.raise_if_any()
    consent.withdrawn_on = on
    consent.save(update_fields=["withdrawn_on"])
    record_change(
        actor=actor,
        obj=consent,
        operation="update",
        changes={"withdrawn_on": [None, consent.withdrawn_on.isoformat()]},
        child_id=consent.child_id,
    )
    return consent


@transaction.atomic
def processing_basis_record(
    *, actor: User, child: Child, purpose: str, basis: str, note: str = ""
) -> ProcessingBasis:
    """Record (or replace) the legal basis of one processing purpose for a child."""
    if not access.can_edit(actor, child):
        raise PermissionDenied(_("You cannot change this child's registration."))
    errors = Errors()
    _choice(errors, "purpose", purpose, Purpose)
    _choice(errors, "basis", basis, Basis)
    if basis != Basis.CONSENT and not note.strip():
        errors.add("note", _("Say which duty or emergency this rests on."))
    if len(note.strip()) > NOTE_MAX:
        errors.add("note", _("At most %(n)d characters.") % {"n": NOTE_MAX})
    errors.raise_if_any()
    names = ["purpose", "basis", "note"]
    old = ProcessingBasis.objects.select_for_update().filter(child=child, purpose=purpose).first()
    before = snapshot(old, names) if old is not None else None
    row = ProcessingBasis.objects.update_or_create(
        child=child,
        purpose=purpose,
        defaults={
            "basis": basis,
            "note": note.strip(),
            "recorded_on": clock.today(),
            "recorded_by": actor,
        },
    )[0]
    if before is None:
        changes = created_changes(row, names)
    else:
        changes = diff(before, snapshot(row, names))
        if changes:  # say which purpose's basis changed
            changes = {"purpose": [purpose, purpose], **changes}
    record_change(
        actor=actor,
        obj=row,
        operation="create" if before is None else "update",
        changes=changes,
        child_id=child.pk,
    )
    return row
