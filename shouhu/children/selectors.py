"""Reads of the registry, always through the access module.

- `children_search` — the visible children matching filters and a free-text query (name,
  pinyin or its initials, the last digits of an ID number);
- `present_child_row` — the basic fields shown in lists and exports;
- `present_child` — a whole file for one user: fields above their ceiling masked;
- `reveal` — the plaintext of a protected field class, or of one value of it, logged ("break
  glass" for officials);
- `present_child_rows` — list rows with who the child lives with, and the categories each row's
  reader may see;
- `history_visible_to` / `present_history` — the change history, without what the reader
  may not know changed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.audit.models import SOURCE_LABELS, AccessLog, Action, ChangeRecord
from shouhu.audit.services import log_access, log_children_read
from shouhu.children.models import (
    Capacity,
    Child,
    ChildAssignment,
    ChildQuerySet,
    Consent,
    ConsentScope,
    DelegatedCare,
    FamilyMember,
    Household,
    ProcessingBasis,
)
from shouhu.lib import clock, dates, idnumber, pinyin, protect
from shouhu.lib.categories import CATEGORY_CODES
from shouhu.lib.text import reason_problem
from shouhu.notify.services import Message, send
from shouhu.places.models import Place, code_range

# Categories anyone who sees the child may see; the others reveal health, poverty or family
# circumstances and are sensitive.
BASIC_CATEGORIES = ("left_behind_mca", "left_behind_census", "migrant")
SENSITIVE_CATEGORIES = tuple(c for c in CATEGORY_CODES if c not in BASIC_CATEGORIES)
MASK = "***"


@dataclass
class ChildFilters:
    q: str = ""
    place: str = ""  # 12-digit code of any level: children living inside it
    school_id: int | None = None
    category: str = ""
    age_min: int | None = None
    age_max: int | None = None


def logged_filters(filters: ChildFilters) -> dict[str, Any]:
    """Filters as written to the access log: digits of ID numbers are identifying, so a
    query containing digits is logged as `[digits]`."""
    values = {k: v for k, v in vars(filters).items() if v not in ("", None)}
    if any(ch.isdigit() for ch in values.get("q", "")):
        values["q"] = "[digits]"
    return values


def _is_id_query(text: str) -> bool:
    body = text[:-1] if text[-1:] in "xX" else text
    return len(text) >= 4 and body.isdigit()


def _text_query(qs: ChildQuerySet, user: User, text: str) -> ChildQuerySet:
    text = text.strip()
    if not text:
        return qs
    phone = protect.mobile_number(text)
    if _is_id_query(text) or phone is not None:
        # Searching by ID digits is an identifying operation: only over children whose
        # identifying fields the user may see.
        identifying = access.visible_q(user, needs=access.IDENTIFYING)
        if identifying is None:
            return qs.none()
        qs = qs.filter(identifying)
        if len(text) == 18:
            return qs.filter(id_number_hash=protect.id_hash(text))
        if phone is None:
            return _id_tail(qs, text)
        by_id = _id_tail(qs, text) if _is_id_query(text) else qs.none()
        # Eleven digits starting with 1 may be a guardian's mobile number: the children of
        # every household with a member of that number (exact match through its hash).
        homes = FamilyMember.objects.filter(phone_hash=protect.phone_hash(phone))
        return qs.filter(
            Q(pk__in=list(by_id.values_list("pk", flat=True)))
            | Q(household_id__in=homes.values("household_id"))
        )
    key = pinyin.query_key(text)
    if key and key == text.lower().replace(" ", ""):
        return qs.filter(Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key))
    if len(text) <= 2:
        # One or two characters: a surname, or a whole two-character name. Matching the start
        # of the name uses a B-tree index; a trigram index needs three characters.
        return qs.filter(name__startswith=text)
    return qs.filter(name__contains=text)


# At most this many children share the indexed last four characters within one user's
# scope (a million children give ~100); beyond it the rest are not checked.
TAIL_CANDIDATES = 5000


def _id_tail(qs: ChildQuerySet, text: str) -> ChildQuerySet:
    """Children whose ID number ends with `text` (4-17 characters). The index holds a hash
    of the last four characters; longer tails are checked against the decrypted numbers of
    those few candidates."""
    qs = qs.filter(id_tail_hash=protect.id_tail_hash(text))
    if len(text) <= protect.TAIL_DIGITS:
        return qs
    want = text.upper()
    keep = [
        pk
        for pk, sealed in qs.order_by().values_list("pk", "id_number_enc")[:TAIL_CANDIDATES]
        if protect.unseal(sealed).upper().endswith(want)
    ]
    return qs.filter(pk__in=keep)


def count_capped(qs: models.QuerySet[Any], cap: int) -> tuple[int, bool]:
    """How many rows `qs` has, counting no further than `cap`: `(min(count, cap), more)`.

    A pager needs no exact count of thousands of matches ("more than 1,000"), and an exact
    count of a common name reads every matching row. Unordered, so the database can stop
    after `cap + 1` rows."""
    found = qs.order_by()[: cap + 1].count()
    return min(found, cap), found > cap


def children_search(
    *, user: User, filters: ChildFilters, today: dt.date | None = None
) -> ChildQuerySet:
    today = today or clock.today()
    needs = access.SENSITIVE if filters.category in SENSITIVE_CATEGORIES else access.BASIC
    qs = access.children_visible_to(user, needs=needs)
    qs = _text_query(qs, user, filters.q)
    if filters.place:
        low, high = code_range(_significant(filters.place))
        if low == high:  # a village: equality lets the (residence, name) index give the order
            qs = qs.filter(residence=low)
        else:
            qs = qs.filter(residence__gte=low, residence__lte=high)
    if filters.school_id is not None:
        qs = qs.filter(school_id=filters.school_id)
    if filters.category:
        if filters.category not in CATEGORY_CODES:
            return qs.none()
        qs = qs.in_category(filters.category)
    if filters.age_min is not None:
        qs = qs.filter(birth_date__lte=dates.add_years(today, -filters.age_min))
    if filters.age_max is not None:
        qs = qs.filter(birth_date__gt=dates.add_years(today, -(filters.age_max + 1)))
    qs = qs.select_related("residence", "school")
    # Pinyin order, as Chinese rosters are sorted (and as the indexes are built). With a
    # search text the matches are few: sort them (an expression keeps the planner from
    # walking the whole pinyin index in order, hoping to meet matches early).
    if filters.q.strip():
        return qs.order_by(Lower("name_pinyin"), "id")
    return qs.order_by("name_pinyin", "id")


def _significant(code: str) -> str:
    """`341524000000` → `341524`; a code of any level to its subtree prefix."""
    code = code.ljust(12, "0")
    for digits in (2, 4, 6, 9):
        if code[digits:] == "0" * (12 - digits):
            return code[:digits]
    return code


def present_child_row(child: Child, *, today: dt.date | None = None) -> dict[str, Any]:
    """Basic fields only: what every user who may see the child may see."""
    today = today or clock.today()
    return {
        "id": child.pk,
        "name": child.name,
        "sex": child.sex,
        "birth_date": child.birth_date.isoformat(),
        "age": dates.age_on(child.birth_date, today),
        "village_code": child.residence_id,
        "village": child.residence.name,
        "school_id": child.school_id,
        "school": child.school.name if child.school else "",
        "grade": child.grade,
        "categories": [c for c in BASIC_CATEGORIES if getattr(child, f"cat_{c}")],
    }


NOT_AT_HOME = frozenset({Capacity.DECEASED, Capacity.MISSING, Capacity.IMPRISONED, Capacity.REHAB})


def _member_view(m: FamilyMember, classes: frozenset[str]) -> dict[str, Any]:
    identifying, sensitive = access.IDENTIFYING in classes, access.SENSITIVE in classes
    phone = protect.unseal(m.phone_enc) if m.phone_enc and identifying else ""
    return {
        "id": m.pk,
        "name": m.name,
        "relation": m.relation,
        "is_guardian": m.is_guardian,
        "away": m.away,
        # A parent who has died, is missing or in prison or rehabilitation is never "at
        # home", whatever `away` says (the reason itself is sensitive).
        "at_home": not m.away and m.capacity not in NOT_AT_HOME,
        "away_place": m.away_place.full_name if m.away_place else "",
        "away_since": m.away_since.isoformat() if m.away_since else None,
        "away_reason": m.away_reason,
        "capacity": m.capacity if sensitive else MASK,
        "workplace": m.workplace if identifying else (MASK if m.workplace else ""),
        "phone": idnumber.mask_phone(phone) if phone else (MASK if m.phone_enc else ""),
    }


def present_child(user: User, child: Child, *, today: dt.date | None = None) -> dict[str, Any]:
    """The whole file as this user may see it. Identifying values are always masked here
    (a reveal shows them, and is logged); sensitive ones only within the ceiling."""
    classes = access.field_classes(user, child)
    sensitive = access.SENSITIVE in classes
    view = present_child_row(child, today=today)
    number = protect.unseal(child.id_number_enc) if access.IDENTIFYING in classes else ""
    view.update(
        {
            "version": child.version,
            "field_classes": sorted(classes),
            "hukou": child.hukou.full_name if child.hukou else "",
            "residence": child.residence.full_name,
            "residence_since": child.residence_since.isoformat() if child.residence_since else None,
            "boarding": child.boarding,
            "schooling": child.schooling,
            "living_arrangement": child.living_arrangement,
            "has_id_number": bool(child.id_number_enc),
            "id_number": idnumber.mask(number) if number else (MASK if child.id_number_enc else ""),
            "health": child.health if sensitive else MASK,
            "disability_type": child.disability_type if sensitive else MASK,
            "disability_grade": child.disability_grade if sensitive else MASK,
            "guardianship_type": child.guardianship_type if sensitive else MASK,
            "guardianship_rating": child.guardianship_rating if sensitive else MASK,
            "categories": [
                c
                for c in CATEGORY_CODES
                if getattr(child, f"cat_{c}") and (sensitive or c in BASIC_CATEGORIES)
            ],
            "household": {
                "id": child.household_id,
                "aid": child.household.aid if sensitive else MASK,
                "members": [
                    _member_view(m, classes)
                    for m in child.household.members.select_related("away_place")
                ],
            },
        }
    )
    return view


REVEAL_FIELDS = ("id_number", "address", "phone")


def _reveal_one(
    child: Child, field_class: str, field: str, member_id: int | None
) -> tuple[dict[str, Any], FamilyMember | None]:
    """One identifying value: the child's ID number, the address, or one member's phone."""
    if field_class != access.IDENTIFYING or field not in REVEAL_FIELDS:
        raise PermissionDenied(_("Unknown field."))
    if field == "id_number":
        return {"id_number": protect.unseal(child.id_number_enc)}, None
    if field == "address":
        return {"address": protect.unseal(child.household.address_enc)}, None
    member = (
        FamilyMember.objects.filter(household_id=child.household_id, pk=member_id).first()
        if member_id is not None
        else None
    )
    if member is None:
        raise Http404("No such family member.")
    return {"phones": {str(member.pk): protect.unseal(member.phone_enc)}}, member


def reveal(
    *,
    user: User,
    child: Child,
    field_class: str,
    reason: str = "",
    field: str = "",
    member_id: int | None = None,
    purpose: str = "",
) -> dict[str, Any]:
    """Plaintext of one field class. Within the user's ceiling it is logged; above it only an
    official covering the child may reach, naming a `purpose` (`BreakGlassPurpose`) and a
    reason in words (break glass), and the county's auditors are told.

    With `field` only one identifying value is shown: `id_number`, `address`, or the `phone`
    of the family member `member_id` (a member of another household is 404)."""
    classes = access.field_classes(user, child)
    break_glass = field_class not in classes
    if break_glass:
        _check_break_glass(user, child, purpose, reason)
    member: FamilyMember | None = None
    values: dict[str, Any]
    if field:
        # One value only (least disclosure): `id_number`, `address` or a member's `phone`.
        values, member = _reveal_one(child, field_class, field, member_id)
    elif field_class == access.IDENTIFYING:
        members = list(child.household.members.all())
        values = {
            "id_number": protect.unseal(child.id_number_enc),
            "address": protect.unseal(child.household.address_enc),
            "phones": {str(m.pk): protect.unseal(m.phone_enc) for m in members if m.phone_enc},
            "workplaces": {str(m.pk): m.workplace for m in members if m.workplace},
        }
    elif field_class == access.SENSITIVE:
        values = {
            "health": child.health,
            "disability_type": child.disability_type,
            "disability_grade": child.disability_grade,
            "guardianship_type": child.guardianship_type,
            "guardianship_rating": child.guardianship_rating,
            "aid": child.household.aid,
            "categories": [c for c in CATEGORY_CODES if getattr(child, f"cat_{c}")],
            "capacities": {str(m.pk): m.capacity for m in child.household.members.all()},
        }
    else:
        raise PermissionDenied(_("Unknown field class."))
    detail: dict[str, Any] = {"break_glass": break_glass}
    if field:
        detail["field"] = field
    if break_glass:
        detail["break_glass_purpose"] = purpose
    entry = log_access(
        user=user,
        action=Action.REVEAL,
        child_id=child.pk,
        object_type="familymember" if member is not None else "",
        object_id=str(member.pk) if member is not None else "",
        fields=[field_class],
        reason=reason.strip(),
        purpose="break_glass" if break_glass else "reveal",
        detail=detail,
    )
    if break_glass:
        _tell_auditors(user, child, entry, purpose)
    return values


def _check_break_glass(user: User, child: Child, purpose: str, reason: str) -> None:
    if not access.can_break_glass(user, child):
        raise PermissionDenied(_("You may not see these fields."))
    if purpose not in access.BreakGlassPurpose.values:
        raise PermissionDenied(_("Choose what you need these fields for."))
    problem = reason_problem(reason)
    if problem == "short":
        raise PermissionDenied(_("Give the reason you need these fields (at least 10 characters)."))
    if problem is not None:
        raise PermissionDenied(
            _("Write the reason in words: what you need these fields for and why.")
        )


def _tell_auditors(user: User, child: Child, entry: AccessLog, purpose: str) -> None:
    """Every break glass reaches the county's auditors (`access.break_glass_auditors`) at
    once. The message names who and for what purpose, not the child nor the reason: the
    auditor reads those in the access log, where reading is itself logged."""
    link = f"{reverse('audit:log')}?break_glass=1"

    def message() -> Message:
        subject = _("%(user)s broke glass on a child's file: %(purpose)s") % {
            "user": str(user),
            "purpose": access.BreakGlassPurpose(purpose).label,
        }
        body = _(
            "Protected fields were shown past the reader's ceiling. Review the entry in the "
            "access log."
        )
        return Message("break_glass", subject, body, link)

    send(access.break_glass_auditors(child, user), message)


def possible_duplicates(
    *, user: User, id_number: str, name: str, birth_date: dt.date | None, village_code: str
) -> list[Child]:
    """Children the user may see who may be the one being registered: same ID number, or
    same name, birth date and village. Children outside the user's area are not looked at:
    any answer about them, even a count, would tell whoever registers children whether an ID
    number is registered anywhere in the country. (The page says, for every query alike,
    to check with the supervisor.) Every lookup is logged, with the children it found."""
    q = Q()
    if id_number:
        q |= Q(id_number_hash=protect.id_hash(id_number))
    if name and birth_date and village_code:
        q |= Q(name=name.strip(), birth_date=birth_date, residence_id=village_code)
    if not q:
        return []
    visible = list(access.children_visible_to(user).filter(q).select_related("residence")[:10])
    log_children_read(
        user=user,
        child_ids=[c.pk for c in visible],
        purpose="duplicate_check",
        fields=[access.BASIC],
        detail={"by_id_number": bool(id_number), "by_name": bool(name and birth_date)},
    )
    return visible


# ---------------------------------------------------------------- list rows


def _covered(user: User, field_class: str, ids: Sequence[int]) -> set[int]:
    """Which of these visible children the user sees with `field_class` (one query at most)."""
    grants = access.scope_of(user).grants
    if not any(field_class in g.classes for g in grants):
        return set()
    if all(field_class in g.classes for g in grants):
        return set(ids)
    visible = access.children_visible_to(user, needs=field_class).filter(pk__in=ids)
    return set(visible.values_list("pk", flat=True))


def present_child_rows(
    user: User, children: Sequence[Child], *, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """Rows of the list page: `present_child_row`, with every category of the children whose
    sensitive fields the user may see, the living arrangement, the parents who are away and
    the guardians at home (relation codes). Two queries at most, whatever the number of rows."""
    rows = [present_child_row(child, today=today) for child in children]
    if not rows:
        return rows
    sensitive = _covered(user, access.SENSITIVE, [c.pk for c in children])
    family: dict[int, list[FamilyMember]] = defaultdict(list)
    members = FamilyMember.objects.filter(household_id__in={c.household_id for c in children})
    for m in members.only("household_id", "relation", "is_guardian", "away", "capacity").order_by(
        "id"
    ):
        family[m.household_id].append(m)
    for child, row in zip(children, rows, strict=True):
        if child.pk in sensitive:
            row["categories"] = [c for c in CATEGORY_CODES if getattr(child, f"cat_{c}")]
        home = family[child.household_id]
        row["living_arrangement"] = child.living_arrangement
        row["parents_away"] = [
            m.relation for m in home if m.away and m.relation in ("father", "mother")
        ]
        row["guardians_at_home"] = [
            m.relation
            for m in home
            if m.is_guardian and not m.away and m.capacity not in NOT_AT_HOME
        ]
    return rows


# ---------------------------------------------------------------- the file's other parts


def present_assignments(child: Child, classes: frozenset[str]) -> list[ChildAssignment]:
    """Who serves the child. That a counsellor serves a child is sensitive (it speaks of the
    child's mental health): those rows only for readers who may see sensitive fields."""
    rows = child.assignments.select_related("organisation", "user").order_by("-active", "-id")
    if access.SENSITIVE not in classes:
        rows = rows.exclude(kind="counselor")
    return list(rows)


def present_child_extras(child: Child, classes: frozenset[str]) -> dict[str, Any]:
    """The rest of a child's file for one reader: who serves the child, the delegated care
    record (its Art. 22 eligibility checklist speaks of the carer's past: sensitive), and the
    guardians' consents and the legal bases of processing (sensitive: their scopes speak of
    screening). Four queries at most."""
    sensitive = access.SENSITIVE in classes
    care = DelegatedCare.objects.filter(household_id=child.household_id)
    consents: list[Consent] = []
    bases: list[ProcessingBasis] = []
    if sensitive:
        consents = list(child.consents.select_related("given_by"))
        bases = list(child.processing_bases.order_by("purpose"))
    return {
        "assignments": present_assignments(child, classes),
        "delegated_care": care.select_related("carer").first(),
        "checklist_visible": sensitive,
        "consents": consents,
        "legal_bases": bases,
    }


HISTORY_MODELS: dict[str, type[models.Model]] = {
    "child": Child,
    "familymember": FamilyMember,
    "household": Household,
    "childassignment": ChildAssignment,
    "consent": Consent,
    "processingbasis": ProcessingBasis,
    "delegatedcare": DelegatedCare,
}
# Fields of the change history above the basic class, per object type. Values of these are
# shown only to readers who may see the class (`_enc` values are never in the history).
HISTORY_FIELD_CLASSES: dict[str, dict[str, str]] = {
    "child": {
        "id_number_enc": access.IDENTIFYING,
        "health": access.SENSITIVE,
        "disability_type": access.SENSITIVE,
        "disability_grade": access.SENSITIVE,
        "guardianship_type": access.SENSITIVE,
        "guardianship_rating": access.SENSITIVE,
        **{f"cat_{c}": access.SENSITIVE for c in SENSITIVE_CATEGORIES},
    },
    "familymember": {
        "capacity": access.SENSITIVE,
        "workplace": access.IDENTIFYING,
        "phone_enc": access.IDENTIFYING,
    },
    "household": {
        "address_enc": access.IDENTIFYING,
        "aid": access.SENSITIVE,
        "income_source": access.SENSITIVE,
    },
    # Consents and legal bases are shown on the file only to readers of sensitive fields
    # (a consent's scopes speak of screening).
    "consent": dict.fromkeys(
        ("given_by", "given_on", "version", "scopes", "withdrawn_on"), access.SENSITIVE
    ),
    "processingbasis": dict.fromkeys(("purpose", "basis", "note"), access.SENSITIVE),
    # The Art. 22 eligibility checklist speaks of the carer's past (as on the file).
    "delegatedcare": dict.fromkeys(
        ("no_abuse_record", "no_drugs_alcohol_gambling", "no_neglect_history", "capable_adult"),
        access.SENSITIVE,
    ),
}
NAMED_MODELS: tuple[type[models.Model], ...] = (Place, Organisation, User, FamilyMember)
ENCRYPTED_CHANGED = "[encrypted value changed]"  # what `audit.services.snapshot` records


def child_history(child: Child) -> QuerySet[ChangeRecord]:
    """The child's change history, newest first (member and household changes are filed
    under each child of the household), unfiltered: readers get `history_visible_to`."""
    return (
        ChangeRecord.objects.filter(child_id=child.pk)
        .select_related("actor")
        .order_by("-at", "-id")
    )


def _counselling_assignments(records: Sequence[ChangeRecord]) -> set[str]:
    """Ids of the counselling assignments the records speak of (one query at most)."""
    ids = _int_keys({r.object_id for r in records if r.object_type == "childassignment"})
    if not ids:
        return set()
    rows = ChildAssignment.objects.filter(pk__in=ids, kind="counselor")
    return {str(pk) for pk in rows.values_list("pk", flat=True)}


def register_history(object_type: str, model: type[models.Model], classes: dict[str, str]) -> None:
    """An app above the registry puts its records of a child in the child's history: their
    fields labelled from `model`, each shown only to readers of its class in `classes`."""
    HISTORY_MODELS[object_type] = model
    HISTORY_FIELD_CLASSES[object_type] = classes


def _visible_lines(
    record: ChangeRecord, classes: frozenset[str], counselling: set[str]
) -> dict[str, Any]:
    """The fields of a change record the reader may know changed. A field above the
    reader's ceiling is left out altogether (a masked line would say that the child's
    household went on 低保 or that a disability was recorded); so is every field of a
    counselling assignment for readers below the sensitive class."""
    if access.SENSITIVE not in classes and (
        record.object_id in counselling and record.object_type == "childassignment"
    ):
        return {}
    hidden = HISTORY_FIELD_CLASSES.get(record.object_type, {})
    return {
        name: pair
        for name, pair in record.changes.items()
        if name not in hidden or hidden[name] in classes
    }


def history_visible_to(child: Child, classes: frozenset[str]) -> list[ChangeRecord]:
    """The child's change history as one reader may know it, newest first: records whose
    every field is above the reader's ceiling are left out, so that neither a line nor a
    record says that something hidden changed; the others keep only their visible fields.
    Filtered before paging, so a page's length says nothing either."""
    records = list(child_history(child))
    counselling = _counselling_assignments(records)
    return [r for r in records if not r.changes or _visible_lines(r, classes, counselling)]


def _model_field(model: type[models.Model] | None, name: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _int_keys(values: set[Any]) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


def _related_names(records: Sequence[ChangeRecord]) -> dict[type[models.Model], dict[Any, str]]:
    """Names of the places, organisations and users the records refer to by key (one query
    per kind of object)."""
    keys: dict[type[models.Model], set[Any]] = defaultdict(set)
    for r in records:
        model = HISTORY_MODELS.get(r.object_type)
        for name, pair in r.changes.items():
            field = _model_field(model, name)
            if field is None or field.related_model not in NAMED_MODELS:
                continue
            for value in pair if isinstance(pair, list) else [pair]:
                if value not in (None, ""):
                    keys[field.related_model].add(value)  # type: ignore[index]
    names: dict[type[models.Model], dict[Any, str]] = {}
    if keys.get(Place):
        places = Place.objects.filter(pk__in=[str(k) for k in keys[Place]])
        names[Place] = {p.pk: p.full_name or p.name for p in places}
    if keys.get(Organisation):
        orgs = Organisation.objects.filter(pk__in=_int_keys(keys[Organisation]))
        names[Organisation] = {o.pk: o.name for o in orgs}
    if keys.get(User):
        users = User.objects.filter(pk__in=_int_keys(keys[User]))
        names[User] = {u.pk: u.display_name or u.username for u in users}
    if keys.get(FamilyMember):
        members = FamilyMember.objects.filter(pk__in=_int_keys(keys[FamilyMember]))
        names[FamilyMember] = {m.pk: m.name for m in members.only("name")}
    return names


def _shown(
    field: models.Field[Any, Any] | None,
    value: Any,
    names: dict[type[models.Model], dict[Any, str]],
) -> Any:
    """A recorded value as a reader understands it: choice labels, yes/no, names for keys."""
    if value in (None, ""):
        return None
    if value == ENCRYPTED_CHANGED:
        return _("recorded (not shown)")
    if isinstance(value, list):  # consent scopes
        scopes = dict(ConsentScope.choices)
        return ", ".join(str(scopes.get(v, v)) for v in value)
    if field is None:
        return value
    related = field.related_model
    if related is not None and related != "self":
        return names.get(related, {}).get(value, value)
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if value is True or value is False:
        return _("yes") if value else _("no")
    return value


def present_history(
    records: Sequence[ChangeRecord], classes: frozenset[str]
) -> list[dict[str, Any]]:
    """Change records for one reader: field names and choice values in the reader's language,
    names instead of keys; fields above the reader's ceiling and the records left with none
    are not shown at all (see `history_visible_to`, which pages should use to page them)."""
    counselling = _counselling_assignments(records)
    visible = [(r, _visible_lines(r, classes, counselling)) for r in records]
    visible = [(r, lines) for r, lines in visible if lines or not r.changes]
    names = _related_names([r for r, _lines in visible])
    rows = []
    for r, lines in visible:
        model = HISTORY_MODELS.get(r.object_type)
        changes = []
        for name, pair in lines.items():
            before, after = (pair[0], pair[-1]) if isinstance(pair, list) and pair else (None, pair)
            field = _model_field(model, name)
            label = str(field.verbose_name) if field is not None else name
            changes.append((label, _shown(field, before, names), _shown(field, after, names)))
        rows.append(
            {
                "at": r.at,
                "actor": str(r.actor) if r.actor is not None else str(SOURCE_LABELS["system"]),
                "source": str(SOURCE_LABELS.get(r.source, r.source)) if r.source else "",
                "operation": r.operation,
                "what": str(model._meta.verbose_name) if model is not None else r.object_type,
                "changes": changes,
            }
        )
    return rows
