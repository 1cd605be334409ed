"""Registering a child with household and guardians in one flow, the duplicate warning,
editing a child and editing a family member. Thin: forms shape input, services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from shouhu.accounts import access
from shouhu.accounts.models import Organisation, OrgKind, User
from shouhu.children import forms as registry_forms
from shouhu.children import selectors, services
from shouhu.children.models import Child, FamilyMember
from shouhu.places.models import Level, Place, code_range

MEMBER_ROWS = 4


def registrable_villages(user: User) -> list[tuple[str, str]]:
    """Villages where the user may register children, labelled township · village."""
    prefixes = [
        g.place_prefix
        for g in access.scope_of(user).grants
        if g.place_prefix and access.IDENTIFYING in g.classes
    ]
    if not prefixes:
        return []
    q = Q()
    for prefix in prefixes:
        low, high = code_range(prefix)
        q |= Q(code__gte=low, code__lte=high)
    villages = Place.objects.filter(q, level=Level.VILLAGE).select_related("parent")
    return [
        (v.code, f"{v.parent.name} · {v.name}" if v.parent else v.name)
        for v in villages.order_by("code")[:2000]
    ]


def schools_near(user: User) -> list[tuple[int, str]]:
    prefixes = [g.place_prefix for g in access.scope_of(user).grants if g.place_prefix]
    if not prefixes:
        return []
    q = Q()
    for prefix in prefixes:
        low, high = code_range(prefix[:6])  # schools of the county serve its villages
        q |= Q(jurisdiction__gte=low, jurisdiction__lte=high)
    schools = Organisation.objects.filter(q, kind=OrgKind.SCHOOL).order_by("name")[:500]
    return [(s.pk, s.name) for s in schools]


def _member_initial() -> list[dict[str, Any]]:
    return [{"relation": "father"}, {"relation": "mother"}, {}, {}][:MEMBER_ROWS]


@login_required
def register(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    villages = registrable_villages(user)
    if not villages:
        raise PermissionDenied(_("Only child directors and supervisors register children."))
    schools = schools_near(user)
    post = request.POST if request.method == "POST" else None
    child_form = registry_forms.ChildForm(post, villages=villages, schools=schools)
    household_form = registry_forms.HouseholdForm(post, prefix="household")
    member_formset = registry_forms.MemberFormSet(post, prefix="members")
    if post is None:
        for form, initial in zip(member_formset.forms, _member_initial(), strict=False):
            form.initial = initial
    care_form = registry_forms.DelegatedCareForm(post, prefix="care")
    consent_form = registry_forms.ConsentForm(post, prefix="consent")
    duplicates: list[Child] = []
    hidden_duplicates = 0
    if post is not None:
        forms_valid = all(
            f.is_valid() for f in (child_form, household_form, member_formset, care_form)
        )
        forms_valid = consent_form.is_valid() and forms_valid
        if forms_valid:
            child_data = child_form.data_for_service()
            duplicates, hidden_duplicates = selectors.possible_duplicates(
                user=user,
                id_number=child_data.id_number,
                name=child_data.name,
                birth_date=child_data.birth_date,
                village_code=child_data.residence_code,
            )
            if (duplicates or hidden_duplicates) and not post.get("confirm_not_duplicate"):
                messages.warning(
                    request,
                    _("This child may already be registered. Check below, then confirm."),
                )
            else:
                saved = _save_registration(
                    request,
                    user,
                    child_form,
                    household_form,
                    member_formset,
                    care_form,
                    consent_form,
                )
                if saved is not None:
                    messages.success(request, _("%(name)s is registered.") % {"name": saved.name})
                    return redirect("children:detail", pk=saved.pk)
    context = {
        "child_form": child_form,
        "household_form": household_form,
        "member_formset": member_formset,
        "care_form": care_form,
        "consent_form": consent_form,
        "duplicates": duplicates,
        "hidden_duplicates": hidden_duplicates,
        "ask_confirm": bool(duplicates or hidden_duplicates),
    }
    return render(request, "children/register.html", context)


def _save_registration(
    request: HttpRequest,
    user: User,
    child_form: registry_forms.ChildForm,
    household_form: forms.Form,
    member_formset: forms.BaseFormSet,  # type: ignore[type-arg]
    care_form: registry_forms.DelegatedCareForm,
    consent_form: registry_forms.ConsentForm,
) -> Child | None:
    child_data = child_form.data_for_service()
    rows = [i for i, f in enumerate(member_formset.forms) if f.has_changed()]
    members = [member_formset.forms[i].data_for_service() for i in rows]
    care = care_form.data_for_service()
    consent = consent_form.data_for_service()
    # The forms name a row of the table; the services take an index into the filled rows.
    if care is not None:
        if care.carer_index not in rows:
            care_form.add_error("carer_row", _("No family member in this row."))
            return None
        care.carer_index = rows.index(care.carer_index)
    if consent is not None:
        if consent.given_by_index not in rows:
            consent_form.add_error("given_by_row", _("No family member in this row."))
            return None
        consent.given_by_index = rows.index(consent.given_by_index)
    hd = household_form.cleaned_data
    try:
        return services.child_register(
            actor=user,
            child=child_data,
            household=services.HouseholdData(
                village_code=child_data.residence_code,
                address=hd["address"],
                aid=hd["aid"],
                income_source=hd["income_source"],
            ),
            members=members,
            delegated_care=care,
            consent=consent,
        )
    except ValidationError as exc:
        errors = {}
        for key, value in exc.message_dict.items():
            parts = key.split(".")
            if parts[0] == "members" and len(parts) == 3 and int(parts[1]) < len(rows):
                key = f"members.{rows[int(parts[1])]}.{parts[2]}"
            errors[key] = value
        registry_forms.attach_service_errors(
            errors, child=child_form, household=household_form, members=member_formset
        )
    except PermissionDenied as exc:
        child_form.add_error("residence_code", str(exc))
    return None


@login_required
@require_GET
def duplicates(request: HttpRequest) -> HttpResponse:
    """htmx fragment: children who may already be registered, before the form is saved.
    Only for those who register: for anyone else it would tell whether an ID number is
    registered somewhere."""
    user: User = request.user  # type: ignore[assignment]
    if not access.can_register(user):
        raise PermissionDenied(_("Only child directors and supervisors register children."))
    get = request.GET
    id_number = get.get("id_number", "").strip().upper()
    birth = parse_date(get.get("birth_date", "")) if get.get("birth_date") else None
    found, hidden = selectors.possible_duplicates(
        user=user,
        id_number=id_number if len(id_number) == 18 else "",
        name=get.get("name", "").strip()[:100],
        birth_date=birth,
        village_code=get.get("residence_code", "").strip()[:12],
    )
    return render(
        request,
        "children/_duplicates.html",
        {"duplicates": found, "hidden_duplicates": hidden, "ask_confirm": False},
    )


def _child_initial(child: Child) -> dict[str, Any]:
    data = services._child_data(child)
    initial = {k: getattr(data, k) for k in services.EDITABLE_CHILD_FIELDS}
    initial["id_number"] = ""
    return initial


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="edit")
    if not access.can_edit(user, child):
        raise PermissionDenied(_("You cannot change this child's registration."))
    villages = registrable_villages(user)
    if child.residence_id not in {code for code, _label in villages}:
        villages.append((child.residence_id, child.residence.name))
    schools = schools_near(user)
    if request.method == "POST":
        form = registry_forms.ChildForm(request.POST, villages=villages, schools=schools)
        version = _int(request.POST.get("version"))
        if form.is_valid() and version is not None:
            new = form.data_for_service()
            current = services._child_data(child)
            changes = {
                name: getattr(new, name)
                for name in services.EDITABLE_CHILD_FIELDS
                if getattr(new, name) != getattr(current, name)
            }
            if not new.id_number:  # left empty: keep the stored number
                changes.pop("id_number", None)
            try:
                services.child_update(actor=user, child=child, version=version, changes=changes)
            except services.ConflictError as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                registry_forms.attach_service_errors(exc.message_dict, child=form)
            except PermissionDenied as exc:
                form.add_error("residence_code", str(exc))
            else:
                messages.success(request, _("Changes saved."))
                return redirect("children:detail", pk=child.pk)
        version_value = request.POST.get("version", "")
    else:
        form = registry_forms.ChildForm(
            initial=_child_initial(child), villages=villages, schools=schools
        )
        version_value = str(child.version)
    context = {"child": child, "form": form, "version": version_value}
    return render(request, "children/edit.html", context)


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@login_required
def member_edit(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="edit")
    member = FamilyMember.objects.filter(pk=member_pk, household_id=child.household_id).first()
    if member is None:
        raise Http404
    if not access.can_edit(user, child):
        raise PermissionDenied(_("You cannot change this family's registration."))
    if request.method == "POST":
        form = registry_forms.MemberForm(request.POST)
        if form.is_valid():
            data = form.data_for_service()
            changes = {
                k: v
                for k, v in vars(data).items()
                if k != "phone" or v  # an empty phone box keeps the stored number
            }
            try:
                services.member_update(actor=user, member=member, changes=changes)
            except ValidationError as exc:
                for key, msgs in exc.message_dict.items():
                    for message in msgs:
                        form.add_error(key if key in form.fields else None, message)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Changes saved."))
                return redirect("children:detail", pk=child.pk)
    else:
        form = registry_forms.MemberForm(
            initial={
                "relation": member.relation,
                "name": member.name,
                "is_guardian": member.is_guardian,
                "capacity": member.capacity,
                "away": member.away,
                "away_place_code": member.away_place_id or "",
                "away_since": member.away_since,
                "away_reason": member.away_reason,
                "workplace": member.workplace,
            }
        )
    return render(
        request, "children/member_edit.html", {"child": child, "member": member, "form": form}
    )


@login_required
@require_GET
def place_options(request: HttpRequest) -> HttpResponse:
    """htmx/datalist helper: places whose name contains the text typed (work destinations)."""
    text = request.GET.get("q", "").strip()[:20]
    places = (
        Place.objects.filter(full_name__contains=text, level__lte=Level.COUNTY).order_by("code")[
            :30
        ]
        if len(text) >= 2
        else Place.objects.none()
    )
    return render(request, "children/_place_options.html", {"places": places})
