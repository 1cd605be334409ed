"""Reads of the registry, always through the access module.

- `children_search` — the visible children matching filters and a free-text query (name,
  pinyin or its initials, the last digits of an ID number);
- `present_child_row` — the basic fields shown in lists and exports;
- `present_child` — a whole file for one user: fields above their ceiling masked;
- `reveal` — the plaintext of a protected field class, logged ("break glass" for officials).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from shouhu.accounts import access
from shouhu.accounts.models import User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access
from shouhu.children import protect
from shouhu.children.models import Child, ChildQuerySet, FamilyMember
from shouhu.lib import dates, idnumber, pinyin
from shouhu.lib.categories import CATEGORY_CODES
from shouhu.places.models import code_range

# Categories anyone who sees the child may see; the others reveal health, poverty or family
# circumstances and are sensitive.
BASIC_CATEGORIES = ("left_behind_mca", "left_behind_census", "migrant")
SENSITIVE_CATEGORIES = tuple(c for c in CATEGORY_CODES if c not in BASIC_CATEGORIES)
MASK = "***"
BREAK_GLASS_MIN_REASON = 10


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
    if _is_id_query(text):
        # Searching by ID digits is an identifying operation: only over children whose
        # identifying fields the user may see.
        identifying = access.visible_q(user, needs=access.IDENTIFYING)
        if identifying is None:
            return qs.none()
        qs = qs.filter(identifying)
        if len(text) == 18:
            return qs.filter(id_number_hash=protect.id_hash(text))
        return qs.filter(id_tail_hash=protect.id_tail_hash(text))
    key = pinyin.query_key(text)
    if key and key == text.lower().replace(" ", ""):
        return qs.filter(Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key))
    if len(text) <= 2:
        # One or two characters: a surname, or a whole two-character name. Matching the start
        # of the name uses a B-tree index; a trigram index needs three characters.
        return qs.filter(name__startswith=text)
    return qs.filter(name__contains=text)


def children_search(
    *, user: User, filters: ChildFilters, today: dt.date | None = None
) -> ChildQuerySet:
    today = today or dates.today()
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
    today = today or dates.today()
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


def _member_view(m: FamilyMember, classes: frozenset[str]) -> dict[str, Any]:
    identifying, sensitive = access.IDENTIFYING in classes, access.SENSITIVE in classes
    phone = protect.unseal(m.phone_enc) if m.phone_enc and identifying else ""
    return {
        "id": m.pk,
        "name": m.name,
        "relation": m.relation,
        "is_guardian": m.is_guardian,
        "away": m.away,
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


def reveal(*, user: User, child: Child, field_class: str, reason: str = "") -> dict[str, Any]:
    """Plaintext of one field class. Within the user's ceiling it is logged; above it only an
    official covering the child may reach, with a reason of some substance (break glass)."""
    classes = access.field_classes(user, child)
    break_glass = field_class not in classes
    if break_glass:
        if not access.can_break_glass(user, child):
            raise PermissionDenied(_("You may not see these fields."))
        if len(reason.strip()) < BREAK_GLASS_MIN_REASON:
            raise PermissionDenied(
                _("Give the reason you need these fields (at least 10 characters).")
            )
    if field_class == access.IDENTIFYING:
        members = list(child.household.members.all())
        values: dict[str, Any] = {
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
    log_access(
        user=user,
        action=Action.REVEAL,
        child_id=child.pk,
        fields=[field_class],
        reason=reason.strip(),
        purpose="break_glass" if break_glass else "reveal",
        detail={"break_glass": break_glass},
    )
    return values


def possible_duplicates(
    *, user: User, id_number: str, name: str, birth_date: dt.date | None, village_code: str
) -> tuple[list[Child], int]:
    """Children who may already be registered: same ID number anywhere, or same name, birth
    date and village. Returns the ones the user may see, and how many others exist (shown as
    a count only, never as names)."""
    q = Q()
    if id_number:
        q |= Q(id_number_hash=protect.id_hash(id_number))
    if name and birth_date and village_code:
        q |= Q(name=name.strip(), birth_date=birth_date, residence_id=village_code)
    if not q:
        return [], 0
    matches = Child.objects.filter(q)
    visible = list(access.children_visible_to(user).filter(q).select_related("residence")[:10])
    if visible:
        log_access(
            user=user,
            action=Action.LIST_CHILDREN,
            purpose="duplicate_check",
            detail={"child_ids": [c.pk for c in visible]},
        )
    return visible, max(matches.count() - len(visible), 0)
