"""Browsing the registry: the list with filters and search, a child's file, reveals.

Thin views: access through `shouhu.access`, reads through `selectors`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from shouhu import access
from shouhu.accounts.models import Organisation, OrgKind, User
from shouhu.audit.services import log_children_read
from shouhu.children import consents, forms, panels, selectors
from shouhu.children.models import (
    Aid,
    AwayReason,
    Capacity,
    Child,
    GuardianshipRating,
    GuardianshipType,
    Health,
    Living,
    Relation,
)
from shouhu.lib import typed_input
from shouhu.lib.categories import CATEGORY_CODES
from shouhu.lib.text import printable
from shouhu.places.models import Level, Place, code_range

PAGE_SIZE = 50
HISTORY_SIZE = 50
# The list counts its matches up to here and then says "more than ...": an exact count of
# a county's children or of a common name costs more than the rest of the page.
COUNT_CAP = 1000
# Places and schools of a scope change rarely; the filter selects are rebuilt at most this
# often (seconds).
CHOICES_TTL = 300


class CappedPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator over the first `COUNT_CAP` matches; `more` says whether there are more."""

    more = False

    @cached_property
    def count(self) -> int:
        assert isinstance(self.object_list, models.QuerySet)
        found, self.more = selectors.count_capped(self.object_list, COUNT_CAP)
        return found


# What each derived category means (shared/domain/china-practice.md §2), shown on the file.
CATEGORY_EXPLANATIONS: dict[str, Promise] = {
    "left_behind_mca": gettext_lazy(
        "Under 16; both parents away for work outside the county for six months or more, "
        "or one away for work and the other unable to care for the child."
    ),
    "left_behind_census": gettext_lazy(
        "Under 18; at least one parent has left the township for six months or more."
    ),
    "migrant": gettext_lazy(
        "Under 16; has lived for six months or more outside the county of the hukou."
    ),
    "difficulty_poverty": gettext_lazy(
        "The household receives the minimum living allowance, extreme-poverty support or "
        "low-income support."
    ),
    "difficulty_disability": gettext_lazy("The child has a recorded disability."),
    "difficulty_guardianship": gettext_lazy(
        "No guardian, parents unable to guard, an insufficient delegated guardian, or "
        "guardianship rated poor."
    ),
    "de_facto_unsupported": gettext_lazy(
        "Both parents severely disabled, seriously ill, imprisoned, in drug rehabilitation or "
        "out of contact; or one dead or missing and the other in one of these situations."
    ),
    "orphan": gettext_lazy("Both parents have died."),
}


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
    """Places and schools inside the user's scope, for the filter selects (cached per scope:
    only names and codes, which any user of the scope may see)."""
    grants = access.scope_of(user).grants
    key = "filter-choices:" + ";".join(
        sorted({f"{g.place_prefix}/{g.school_id or ''}" for g in grants})
    )
    choices: dict[str, Any] | None = cache.get(key)
    if choices is None:
        choices = _filter_choices(user)
        cache.set(key, choices, CHOICES_TTL)
    return choices


def _filter_choices(user: User) -> dict[str, Any]:
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
    school_ids -= {s.pk for s in schools}
    if school_ids:
        schools += list(Organisation.objects.filter(pk__in=school_ids).order_by("name"))
    return {"places": places, "schools": schools}


def _is_rows_request(request: HttpRequest) -> bool:
    """An htmx request for the result rows only (a history restore wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == "results"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


@login_required
@require_GET
def child_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if access.envoy_only(user):  # no child is theirs: their start page is the device tickets
        return redirect("reunion:tickets")
    filters = filters_from(request)
    found = selectors.children_search(user=user, filters=filters)
    paginator = CappedPaginator(found, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    labels = category_labels()
    relations, living = dict(Relation.choices), dict(Living.choices)
    rows = selectors.present_child_rows(user, list(page.object_list))
    for row in rows:
        row["category_labels"] = [(code, labels[code]) for code in row["categories"]]
        row["living_label"] = living.get(row["living_arrangement"], "")
        row["away_labels"] = [relations.get(r, r) for r in row["parents_away"]]
        row["guardian_labels"] = [relations.get(r, r) for r in row["guardians_at_home"]]
    log_children_read(
        user=user,
        child_ids=[row["id"] for row in rows],
        purpose="list",
        detail={
            "filters": selectors.logged_filters(filters),
            "count": paginator.count,
            "more": paginator.more,
            "page": page.number,
        },
    )
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    context = {
        "filters": filters,
        "rows": rows,
        "page": page,
        "count": paginator.count,
        "more": paginator.more,
        "query": urlencode(query),
        "can_register": access.can_register(user),
        # A volunteer not cleared today is told why the list is empty.
        "not_cleared": access.volunteer_refusal(user) if not rows else None,
    }
    if _is_rows_request(request):
        response = render(request, "children/_rows.html", context)
    else:
        context.update(filter_choices(user))
        may_see_sensitive = any(access.SENSITIVE in g.classes for g in access.scope_of(user).grants)
        context["categories"] = [
            (code, label)
            for code, label in labels.items()
            if may_see_sensitive or code in selectors.BASIC_CATEGORIES
        ]
        response = render(request, "children/list.html", context)
    # The same URL answers with the rows or with the whole page: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@login_required
@require_GET
def child_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="view")
    view = selectors.present_child(user, child)
    classes = frozenset(view["field_classes"])
    identifying, sensitive = access.IDENTIFYING in classes, access.SENSITIVE in classes
    screening_levels = access.screening_levels(user, child)
    sees_screenings = screening_levels["needs_assessment"] != access.RESULTS_NONE
    labels = category_labels()
    view["category_labels"] = [
        (code, labels[code], CATEGORY_EXPLANATIONS[code]) for code in view["categories"]
    ]
    relations, capacities = dict(Relation.choices), dict(Capacity.choices)
    reasons = dict(AwayReason.choices)
    for member in view["household"]["members"]:
        member["relation_label"] = relations.get(member["relation"], member["relation"])
        member["capacity_label"] = (
            capacities.get(member["capacity"], member["capacity"]) if sensitive else ""
        )
        member["away_reason_label"] = reasons.get(member["away_reason"], "")
    view["household"]["aid_label"] = dict(Aid.choices).get(view["household"]["aid"], "")
    history = Paginator(selectors.history_visible_to(child, classes), HISTORY_SIZE).get_page(
        request.GET.get("history")
    )
    context = {
        "child": child,
        "view": view,
        "identifying": identifying,
        "sensitive": sensitive,
        "has_address": bool(child.household.address_enc),
        "break_glass": access.can_break_glass(user, child) and not (identifying and sensitive),
        "break_glass_purposes": access.BreakGlassPurpose.choices,
        "can_edit": access.can_edit(user, child),
        "sees_screenings": sees_screenings,
        # Anyone but a volunteer may refer: exactly those who see screening summaries.
        "may_refer": sees_screenings,
        "sharing": consents.sharing_status(child) if sees_screenings else None,
        "may_record_consent": access.may_record_consent(user, child),
        **panels.context(
            panels.Page(
                user=user,
                child=child,
                sensitive=sensitive,
                may_refer=sees_screenings,
                screening_levels=screening_levels,
            )
        ),
        **selectors.present_child_extras(child, classes),
        "history": selectors.present_history(list(history.object_list), classes),
        "history_page": history,
    }
    return render(request, "children/detail.html", context)


@login_required
@require_POST
def child_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a protected field class, or one value of it (`field`: the ID number, the address
    or the phone of family member `member`), in plaintext, logged; officials above their
    ceiling give a reason (break glass)."""
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="reveal")
    form = forms.RevealForm(request.POST)
    valid = form.is_valid()
    data = form.cleaned_data
    field_class, field = data.get("field_class", ""), data.get("field", "")
    context: dict[str, Any] = {
        "child": child,
        "field_class": field_class,
        "field": field,
        "inline": request.headers.get("HX-Request") == "true",
    }
    try:
        if not valid:
            raise PermissionDenied(" ".join(str(m) for ms in form.errors.values() for m in ms))
        values = selectors.reveal(
            user=user,
            child=child,
            field_class=field_class,
            reason=data["reason"],
            field=field,
            member_id=data["member"],
            purpose=data["purpose"],
        )
    except PermissionDenied as refused:
        if str(data.get("reason") or "").strip() and access.can_break_glass(user, child):
            return _break_glass_refused(request, child, str(refused))
        context["error"] = str(refused)
        return _reveal_response(request, context, status=403)
    family = selectors.present_child(user, child)["household"]["members"]
    members = {str(m["id"]): m for m in family}
    relations = dict(Relation.choices)
    if field_class == access.SENSITIVE and not field:
        values = dict(values)
        for name, choices in (
            ("health", Health),
            ("guardianship_type", GuardianshipType),
            ("guardianship_rating", GuardianshipRating),
            ("aid", Aid),
        ):
            values[name] = dict(choices.choices).get(values[name], values[name])
    context.update(
        {
            "values": values,
            "phones": [
                (relations.get(members[k]["relation"], ""), members[k]["name"], phone)
                for k, phone in values.get("phones", {}).items()
                if k in members
            ],
            "labels": category_labels(),
        }
    )
    return _reveal_response(request, context)


def _break_glass_refused(request: HttpRequest, child: Child, error: str) -> HttpResponse:
    """A refused break glass goes back to the file with the reason and purpose typed, and
    says why (a whole page: the person may need to reword a long reason)."""
    page = reverse("children:detail", args=[child.pk])
    typed_input.keep(request, page=page)
    messages.error(request, error)
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=200)
        response["HX-Redirect"] = page
        return response
    return HttpResponseRedirect(page)


def _reveal_response(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    template = "children/_reveal.html" if context["inline"] else "children/reveal.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    patch_cache_control(response, no_store=True)
    return response
