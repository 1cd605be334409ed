"""Browsing the registry: the list with filters and search, a child's file, reveals.

Thin views: access through `shouhu.accounts.access`, reads through `selectors`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from shouhu.accounts import access
from shouhu.accounts.models import Organisation, OrgKind, User
from shouhu.audit.models import Action, ChangeRecord
from shouhu.audit.services import log_access
from shouhu.children import selectors
from shouhu.children.models import Child, ChildAssignment, FamilyMember, Household
from shouhu.lib.categories import CATEGORY_CODES
from shouhu.lib.text import printable
from shouhu.places.models import Level, Place, code_range

PAGE_SIZE = 50
HISTORY_SIZE = 50


def category_labels() -> dict[str, str]:
    labels = {}
    for code in CATEGORY_CODES:
        field = Child._meta.get_field(f"cat_{code}")
        assert isinstance(field, models.Field)
        labels[code] = str(field.verbose_name)
    return labels


def _int(value: str | None, *, low: int = 0, high: int = 10**9) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if low <= number <= high else None


def filters_from(request: HttpRequest) -> selectors.ChildFilters:
    """List filters from query parameters; anything malformed is ignored, never an error."""
    get = request.GET
    place = get.get("place", "").strip()
    category = get.get("category", "").strip()
    return selectors.ChildFilters(
        q=printable(get.get("q", ""), 50),
        place=place if len(place) == 12 and place.isdigit() else "",
        school_id=_int(get.get("school"), low=1),
        category=category if category in CATEGORY_CODES else "",
        age_min=_int(get.get("age_min"), high=17),
        age_max=_int(get.get("age_max"), high=17),
    )


def filter_choices(user: User) -> dict[str, Any]:
    """Places and schools inside the user's scope, for the filter selects."""
    prefixes = [g.place_prefix for g in access.scope_of(user).grants if g.place_prefix]
    places: list[Place] = []
    schools: list[Organisation] = []
    if prefixes:
        place_q = Place.objects.none()
        school_q = Organisation.objects.none()
        for prefix in prefixes:
            low, high = code_range(prefix)
            place_q |= Place.objects.filter(
                code__gte=low, code__lte=high, level__in=[Level.TOWNSHIP, Level.VILLAGE]
            )
            school_q |= Organisation.objects.filter(
                kind=OrgKind.SCHOOL, jurisdiction__gte=low, jurisdiction__lte=high
            )
        places = list(place_q.order_by("code")[:500])
        schools = list(school_q.order_by("name")[:200])
    school_ids = {g.school_id for g in access.scope_of(user).grants if g.school_id is not None}
    if school_ids:
        schools += list(Organisation.objects.filter(pk__in=school_ids).order_by("name"))
    return {"places": places, "schools": schools}


@login_required
@require_GET
def child_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    filters = filters_from(request)
    found = selectors.children_search(user=user, filters=filters)
    paginator = Paginator(found, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    labels = category_labels()
    rows = [selectors.present_child_row(child) for child in page.object_list]
    for row in rows:
        row["category_labels"] = [(code, labels[code]) for code in row["categories"]]
    log_access(
        user=user,
        action=Action.LIST_CHILDREN,
        purpose="list",
        detail={
            "filters": selectors.logged_filters(filters),
            "count": paginator.count,
            "page": page.number,
        },
    )
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    context = {
        "filters": filters,
        "rows": rows,
        "page": page,
        "count": paginator.count,
        "query": urlencode(query),
        "can_register": access.can_register(user),
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render(request, "children/_rows.html", context)
    context.update(filter_choices(user))
    may_see_sensitive = any(access.SENSITIVE in g.classes for g in access.scope_of(user).grants)
    context["categories"] = [
        (code, label)
        for code, label in labels.items()
        if may_see_sensitive or code in selectors.BASIC_CATEGORIES
    ]
    return render(request, "children/list.html", context)


HISTORY_MODELS: dict[str, type[models.Model]] = {
    "child": Child,
    "familymember": FamilyMember,
    "household": Household,
    "childassignment": ChildAssignment,
}


def _label_value(model: type[models.Model] | None, name: str, value: object) -> tuple[str, object]:
    """A field's verbose name and, for choices, the label of the value."""
    if model is None:
        return name, value
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name, value
    if not isinstance(field, models.Field):
        return name, value
    if field.choices and value not in (None, ""):
        value = dict(field.flatchoices).get(value, value)
    elif value is True or value is False:
        value = _("yes") if value else _("no")
    return str(field.verbose_name), value


def _history(child: Child) -> list[dict[str, Any]]:
    """Changes to the child and to the family (member changes are filed under each child),
    with field names and choice values in the reader's language."""
    records = ChangeRecord.objects.filter(child_id=child.pk).order_by("-at", "-id")
    rows = []
    for r in records[:HISTORY_SIZE]:
        model = HISTORY_MODELS.get(r.object_type)
        changes = []
        for name, pair in r.changes.items():
            before, after = (pair[0], pair[-1]) if isinstance(pair, list) and pair else (None, pair)
            label, before = _label_value(model, name, before)
            _label, after = _label_value(model, name, after)
            changes.append((label, before, after))
        what = str(model._meta.verbose_name) if model is not None else r.object_type
        rows.append({"record": r, "what": what, "changes": changes})
    return rows


@login_required
@require_GET
def child_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="view")
    view = selectors.present_child(user, child)
    labels = category_labels()
    view["category_labels"] = [(code, labels[code]) for code in view["categories"]]
    classes = set(view["field_classes"])
    members = {m.pk: m for m in child.household.members.all()}
    for member in view["household"]["members"]:
        model = members.get(member["id"])
        member["relation_label"] = model.get_relation_display() if model else member["relation"]
        if model and access.SENSITIVE in classes:
            member["capacity_label"] = model.get_capacity_display()
        member["away_reason_label"] = model.get_away_reason_display() if model else ""
    context = {
        "child": child,
        "view": view,
        "identifying": access.IDENTIFYING in classes,
        "sensitive": access.SENSITIVE in classes,
        "break_glass": access.can_break_glass(user, child)
        and not {access.IDENTIFYING, access.SENSITIVE} <= classes,
        "can_edit": access.can_edit(user, child),
        "delegated": getattr(child.household, "delegated_care", None),
        "consents": list(child.consents.all()) if access.SENSITIVE in classes else [],
        "assignments": list(child.assignments.select_related("organisation", "user")),
        "history": _history(child),
    }
    return render(request, "children/detail.html", context)


@login_required
@require_POST
def child_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one protected field class in plaintext, logged; officials above their ceiling
    give a reason (break glass)."""
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="reveal")
    field_class = request.POST.get("field_class", "")
    reason = request.POST.get("reason", "")
    try:
        values = selectors.reveal(user=user, child=child, field_class=field_class, reason=reason)
    except PermissionDenied as refused:
        context = {"child": child, "error": str(refused), "field_class": field_class}
        return _reveal_response(request, context, status=403)
    members = {str(m.pk): m for m in FamilyMember.objects.filter(household_id=child.household_id)}
    context = {
        "child": child,
        "field_class": field_class,
        "values": values,
        "members": members,
        "labels": category_labels(),
    }
    return _reveal_response(request, context)


def _reveal_response(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    template = (
        "children/_reveal.html" if request.headers.get("HX-Request") else "children/reveal.html"
    )
    return render(request, template, context, status=status)
