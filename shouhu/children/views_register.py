"""Registering a child with household and guardians in one flow, the duplicate warning,
editing a child and editing a family member. Thin: forms shape input, services decide."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from shouhu import access
from shouhu.accounts.models import Organisation, OrgKind, User
from shouhu.children import consents, editing, registration, selectors
from shouhu.children import forms as registry_forms
from shouhu.children.data import ChildData, ConflictError, HouseholdData
from shouhu.children.models import Child, ConsentScope, DelegatedCare, FamilyMember
from shouhu.lib import clock
from shouhu.lib.formerrors import error_summary
from shouhu.lib.text import printable
from shouhu.places.models import Level, Place, code_range


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
    return [{"relation": "father"}, {"relation": "mother"}]


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
    if post is not None:
        # Every part is checked on the first submit, so that all its errors show at once.
        checked = [
            f.is_valid()
            for f in (child_form, household_form, member_formset, care_form, consent_form)
        ]
        forms_valid = all(checked)
        duplicates = _duplicates_of(user, child_form)
        if forms_valid:
            if duplicates and not post.get("confirm_not_duplicate"):
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
        "ask_confirm": bool(duplicates),
        "error_summary": error_summary(
            child_form, household_form, member_formset, care_form, consent_form
        ),
        "more_rows_open": post is not None
        and any(f.has_changed() or f.errors for f in member_formset.forms[4:]),
    }
    return render(request, "children/register.html", context)


def _duplicates_of(user: User, child_form: registry_forms.ChildForm) -> list[Child]:
    """Possible duplicates from whichever identifying facts of the form are valid, so the
    warning stays on the page while other fields still have errors."""
    d = getattr(child_form, "cleaned_data", {})
    id_number = d.get("id_number", "") if "id_number" not in child_form.errors else ""
    return selectors.possible_duplicates(
        user=user,
        id_number=id_number if len(id_number) == 18 else "",
        name=str(d.get("name", "")).strip(),
        birth_date=d.get("birth_date"),
        village_code=d.get("residence_code", ""),
    )


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
        if not members[consent.given_by_index].is_guardian:  # as consents.consent_record
            consent_form.add_error(
                "given_by_row", _("Consent must come from a guardian of this child.")
            )
            return None
    hd = household_form.cleaned_data
    try:
        return registration.child_register(
            actor=user,
            child=child_data,
            household=HouseholdData(
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
    id_number = printable(get.get("id_number", ""), 18).upper()
    birth = _date(get.get("birth_date", ""))
    found = selectors.possible_duplicates(
        user=user,
        id_number=id_number if len(id_number) == 18 else "",
        name=printable(get.get("name", ""), 100),
        birth_date=birth,
        village_code=printable(get.get("residence_code", ""), 12),
    )
    return render(
        request,
        "children/_duplicates.html",
        {"duplicates": found, "ask_confirm": True},
    )


# Fields the edit form compares with what the editor first saw (a three-way merge when
# someone else saved meanwhile). The ID number never travels in the page in clear.
COMPARED_FIELDS = sorted(editing.EDITABLE_CHILD_FIELDS - {"id_number"})


def _as_text(value: object) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "on"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _facts(data: ChildData) -> dict[str, str]:
    return {name: _as_text(getattr(data, name)) for name in COMPARED_FIELDS}


def _original(raw: str | None) -> dict[str, str] | None:
    """The facts as the editor first saw them (a hidden field); None if missing or garbled."""
    try:
        value = json.loads(raw or "")
    except ValueError:
        return None
    if not isinstance(value, dict) or set(value) != set(COMPARED_FIELDS):
        return None
    return {k: str(v) for k, v in value.items()}


def _display(form: forms.Form, name: str, text: str) -> str:
    field = form.fields[name]
    if isinstance(field, forms.ChoiceField):
        labels = {str(k): v for k, v in field.choices}  # type: ignore[union-attr,misc]
        return str(labels.get(text, text)) or "—"
    if isinstance(field, forms.BooleanField):
        return "✓" if text else "✗"
    return text or "—"


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="edit")
    if not access.can_edit(user, child):
        raise PermissionDenied(_("You cannot change this child's registration."))
    villages = registrable_villages(user)
    if child.residence_id not in {code for code, _label in villages}:
        villages.append((child.residence_id, child.residence.name))
    choices: dict[str, Any] = {"villages": villages, "schools": schools_near(user)}
    masked_id = str(selectors.present_child(user, child)["id_number"])
    stored = editing.child_data(child)
    if request.method != "POST":
        initial: dict[str, Any] = {k: getattr(stored, k) for k in COMPARED_FIELDS}
        initial["id_number"] = masked_id
        form = registry_forms.ChildForm(initial=initial, **choices)
        return _edit_page(request, child, form, child.version, _facts(stored))
    form = registry_forms.ChildForm(request.POST, **choices)
    version = _int(request.POST.get("version"))
    original = _original(request.POST.get("original")) or _facts(stored)
    if not form.is_valid() or version is None:
        if version is None:
            form.add_error(None, _("The form is incomplete; open the page again."))
        return _edit_page(request, child, form, version or child.version, original)
    new = form.data_for_service()
    if not form.cleaned_data["hukou_code"].strip() and not original["hukou_code"]:
        new.hukou_code = ""  # still unknown; do not fill in the village by leaving it empty
    typed = _facts(new)
    changes: dict[str, Any] = {
        name: getattr(new, name) for name in COMPARED_FIELDS if typed[name] != original[name]
    }
    if new.id_number != masked_id and new.id_number != stored.id_number:
        changes["id_number"] = new.id_number  # typed anew, or emptied to remove it
    if not changes:
        messages.info(request, _("Nothing was changed."))
        return redirect("children:detail", pk=child.pk)
    try:
        editing.child_update(actor=user, child=child, version=version, changes=changes)
    except ConflictError:
        return _edit_conflict(request, child, form, original, typed, set(changes), choices)
    except ValidationError as exc:
        registry_forms.attach_service_errors(exc.message_dict, child=form)
    except PermissionDenied as exc:
        form.add_error("residence_code", str(exc))
    else:
        messages.success(request, _("Changes saved."))
        return redirect("children:detail", pk=child.pk)
    return _edit_page(request, child, form, version, original)


def _edit_conflict(
    request: HttpRequest,
    child: Child,
    form: registry_forms.ChildForm,
    original: dict[str, str],
    typed: dict[str, str],
    mine: set[str],
    choices: dict[str, Any],
) -> HttpResponse:
    """Someone saved since the editor opened the page: their changes come into the form,
    the editor's own stay, and fields both changed are marked. Saving again applies the
    editor's changes on top of the current version."""
    child.refresh_from_db()
    current = _facts(editing.child_data(child))
    theirs = {name for name in COMPARED_FIELDS if current[name] != original[name]}
    data: QueryDict = request.POST.copy()
    for name in theirs - mine:
        data.setlist(name, [current[name]] if current[name] else [])
    merged = registry_forms.ChildForm(data, **choices)
    merged.is_valid()
    merged.add_error(
        None,
        _(
            "Someone else saved this child's registration while you were editing. Their "
            "changes are now in the form and your entries are kept; check the fields marked "
            "below, then save again."
        ),
    )
    for name in sorted(theirs & mine):
        if typed[name] != current[name]:
            merged.add_error(
                name,
                _("Changed meanwhile to: %(value)s. Your entry is kept.")
                % {"value": _display(merged, name, current[name])},
            )
    return _edit_page(request, child, merged, child.version, current)


def _edit_page(
    request: HttpRequest,
    child: Child,
    form: registry_forms.ChildForm,
    version: int,
    original: dict[str, str],
) -> HttpResponse:
    context = {
        "child": child,
        "form": form,
        "version": version,
        "original": json.dumps(original, ensure_ascii=False, sort_keys=True),
        # The rest of the file, each part with its own page (editors see every field class).
        "members": list(child.household.members.all()),
        "delegated_care": DelegatedCare.objects.filter(household_id=child.household_id)
        .select_related("carer")
        .first(),
        "consents": list(child.consents.select_related("given_by")),
        "legal_bases": list(child.processing_bases.order_by("purpose")),
    }
    return render(request, "children/edit.html", context)


def _date(value: str) -> dt.date | None:
    try:
        return parse_date(value.strip()) if value else None
    except ValueError:  # well formed but impossible, e.g. 2024-02-31
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@login_required
def member_edit(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="edit")
    member = (
        FamilyMember.objects.filter(pk=member_pk, household_id=child.household_id)
        .select_related("away_place")
        .first()
    )
    if member is None:
        raise Http404
    if not access.can_edit(user, child):
        raise PermissionDenied(_("You cannot change this family's registration."))
    shown = selectors.present_child(user, child)["household"]["members"]
    masked_phone = next((str(m["phone"]) for m in shown if m["id"] == member.pk), "")
    if request.method == "POST":
        form = registry_forms.MemberForm(request.POST)
        if form.is_valid():
            data = form.data_for_service()
            changes = vars(data)
            if data.phone == masked_phone and masked_phone:
                changes.pop("phone")  # the masked number left as shown keeps the stored one
            try:
                editing.member_update(actor=user, member=member, changes=changes)
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
        place = member.away_place
        form = registry_forms.MemberForm(
            initial={
                "relation": member.relation,
                "name": member.name,
                "is_guardian": member.is_guardian,
                "capacity": member.capacity,
                "away": member.away,
                "away_place_code": (place.full_name or place.code) if place else "",
                "away_since": member.away_since,
                "away_reason": member.away_reason,
                "workplace": member.workplace,
                "phone": masked_phone,
            }
        )
    return render(
        request, "children/member_edit.html", {"child": child, "member": member, "form": form}
    )


@login_required
@require_GET
def place_options(request: HttpRequest) -> HttpResponse:
    """htmx/datalist helper: places whose name contains the text typed (work destinations)."""
    get = request.GET
    text = get.get("q", "") or next(
        (get.get(key, "") for key in get if key.endswith("away_place_code")), ""
    )
    text = text.strip()[:30]
    places = registry_forms.places_matching(text) if len(text) >= 2 and not text.isdigit() else []
    return render(request, "children/_place_options.html", {"places": places})


# ---------------------------------------------------------------- the rest of the file
#
# The household, a new family member, delegated care, consent and the legal basis of
# processing. Each page opens the child through the access module (404 outside scope) and
# refuses those who may not edit (403); the services check again and validate.


def _child_for_consent(request: HttpRequest, pk: int) -> tuple[User, Child]:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="consent")
    if not access.may_record_consent(user, child):
        raise PermissionDenied(_("You cannot record consent for this child."))
    return user, child


def _child_to_edit(request: HttpRequest, pk: int) -> tuple[User, Child]:
    user: User = request.user  # type: ignore[assignment]
    child = access.get_child_for_user(user, pk, purpose="edit")
    if not access.can_edit(user, child):
        raise PermissionDenied(_("You cannot change this child's registration."))
    return user, child


def _service_errors(form: forms.Form, exc: ValidationError, **renamed: str) -> None:
    """Field errors of a service onto the form (`renamed` maps service names to fields)."""
    for key, msgs in exc.message_dict.items():
        name = renamed.get(key, key)
        for message in msgs:
            form.add_error(name if name in form.fields else None, message)


def _file_form_page(
    request: HttpRequest,
    child: Child,
    form: forms.Form,
    *,
    title: str,
    intro: str = "",
    testid: str,
    submit: str = "",
    wide: tuple[str, ...] = (),
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    context = {
        "child": child,
        "form": form,
        "title": title,
        "intro": intro,
        "testid": testid,
        "submit": submit or _("Save"),
        "wide": wide,
        "can_edit": access.can_edit(request.user, child),  # type: ignore[arg-type]
        **(extra or {}),
    }
    return render(request, "children/file_form.html", context)


def _save(
    request: HttpRequest, child: Child, form: forms.Form, write: Callable[[], object]
) -> HttpResponse | None:
    """Run a service for a valid form: field errors go onto the form, a refusal or a stale
    version becomes the form's error (the typed entries stay); saved → back to the file."""
    try:
        write()
    except ValidationError as exc:
        _service_errors(form, exc)
    except (PermissionDenied, ConflictError) as exc:
        form.add_error(None, str(exc))
    else:
        return _saved(request, child)
    return None


def _saved(request: HttpRequest, child: Child) -> HttpResponse:
    messages.success(request, _("Changes saved."))
    return redirect("children:detail", pk=child.pk)


@login_required
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The household's address (encrypted, shown masked), assistance and income source."""
    user, child = _child_to_edit(request, pk)
    home = child.household
    masked = selectors.MASK if home.address_enc else ""
    if request.method == "POST":
        form = registry_forms.HouseholdEditForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            changes: dict[str, Any] = {"aid": d["aid"], "income_source": d["income_source"]}
            if d["address"] != masked or not masked:
                changes["address"] = d["address"]  # the mask left as shown keeps the address
            saved = _save(
                request,
                child,
                form,
                lambda: editing.household_update(
                    actor=user, child=child, changes=changes, version=d.get("version")
                ),
            )
            if saved is not None:
                return saved
    else:
        form = registry_forms.HouseholdEditForm(
            initial={
                "address": masked,
                "aid": home.aid,
                "income_source": home.income_source,
                "version": home.version,
            }
        )
    return _file_form_page(
        request,
        child,
        form,
        title=_("Household"),
        intro=_(
            "The household of %(name)s. Categories of every child of the household are "
            "worked out again when the assistance changes."
        )
        % {"name": child.name},
        testid="household-form",
    )


@login_required
def member_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a person to the household, with the same fields as at registration."""
    user, child = _child_to_edit(request, pk)
    if request.method == "POST":
        form = registry_forms.MemberForm(request.POST)
        if form.is_valid():
            saved = _save(
                request,
                child,
                form,
                lambda: editing.member_add(actor=user, child=child, member=form.data_for_service()),
            )
            if saved is not None:
                return saved
    else:
        form = registry_forms.MemberForm()
    return _file_form_page(
        request,
        child,
        form,
        title=_("Add a family member"),
        intro=_(
            "A parent, grandparent, relative or carer of %(name)s. For a parent working "
            "away, give where (a city or county name, or its code) and since when."
        )
        % {"name": child.name},
        testid="member-new-form",
        submit=_("Add"),
        extra={"work_places": True},
    )


@login_required
def delegated_care_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Record or update the household's delegated care (Minors Protection Law Art. 22)."""
    user, child = _child_to_edit(request, pk)
    members = list(child.household.members.all())
    care = DelegatedCare.objects.filter(household_id=child.household_id).first()
    if request.method == "POST":
        form = registry_forms.DelegatedCareEditForm(request.POST, members=members)
        if form.is_valid():
            saved = _save(
                request,
                child,
                form,
                lambda: editing.delegated_care_set(
                    actor=user,
                    child=child,
                    carer_id=form.cleaned_data["carer"],
                    version=form.cleaned_data.get("version"),
                    **form.checklist(),
                ),
            )
            if saved is not None:
                return saved
    else:
        initial: dict[str, Any] = {"version": child.household.version}
        if care is not None:
            checklist = registry_forms.CareChecklistForm.CHECKLIST
            initial = {name: getattr(care, name) for name in checklist}
            initial["carer"] = care.carer_id
        form = registry_forms.DelegatedCareEditForm(initial=initial, members=members)
    return _file_form_page(
        request,
        child,
        form,
        title=_("Delegated care (Minors Protection Law Art. 22)"),
        intro=_(
            "The carer the parents entrusted %(name)s to, chosen among the family members "
            "(add the carer to the family first). Tick each eligibility point that was "
            "checked."
        )
        % {"name": child.name},
        testid="care-form",
    )


@login_required
def consent_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a guardian's consent (PIPL Art. 31) given after registration."""
    user, child = _child_for_consent(request, pk)
    guardians = list(child.household.members.filter(is_guardian=True))
    if request.method == "POST":
        form = registry_forms.ConsentRecordForm(request.POST, guardians=guardians)
        if form.is_valid():
            d = form.cleaned_data
            given_by = child.household.members.get(pk=d["given_by"])
            saved = _save(
                request,
                child,
                form,
                lambda: consents.consent_record(
                    actor=user,
                    child=child,
                    given_by=given_by,
                    given_on=d["given_on"],
                    version=d["version"],
                    scopes=d["scopes"],
                ),
            )
            if saved is not None:
                return saved
    else:
        form = registry_forms.ConsentRecordForm(
            initial={"given_on": clock.today(), "scopes": ["registry"]}, guardians=guardians
        )
    return _file_form_page(
        request,
        child,
        form,
        title=_("Record a guardian's consent"),
        intro=(
            _("Consent to the processing of %(name)s's data, given by a guardian.")
            % {"name": child.name}
        )
        + (
            ""
            if guardians
            else " " + _("No family member is marked as guardian: edit the family first.")
        ),
        testid="consent-form",
        wide=("scopes",),
    )


@login_required
def consent_withdraw(request: HttpRequest, pk: int, consent_pk: int) -> HttpResponse:
    """A guardian withdraws a consent; sharing that rested on it stops being allowed."""
    user, child = _child_for_consent(request, pk)
    consent = child.consents.filter(pk=consent_pk).select_related("given_by").first()
    if consent is None:
        raise Http404
    if request.method == "POST":
        form = registry_forms.ConsentWithdrawForm(request.POST)
        if form.is_valid():
            saved = _save(
                request,
                child,
                form,
                lambda: consents.consent_withdraw(
                    actor=user, consent=consent, on=form.cleaned_data["withdrawn_on"]
                ),
            )
            if saved is not None:
                return saved
    else:
        form = registry_forms.ConsentWithdrawForm(initial={"withdrawn_on": clock.today()})
    scopes = dict(ConsentScope.choices)
    return _file_form_page(
        request,
        child,
        form,
        title=_("Withdraw a consent"),
        intro=_(
            "Consent given on %(date)s by %(guardian)s (notice version %(version)s) for: "
            "%(scopes)s."
        )
        % {
            "date": consent.given_on.isoformat(),
            "guardian": consent.given_by.name,
            "version": consent.version,
            "scopes": ", ".join(str(scopes.get(s, s)) for s in consent.scopes),
        },
        testid="withdraw-form",
        submit=_("Withdraw"),
    )


@login_required
def basis_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Record (or replace) the legal basis of one purpose of processing the child's data."""
    user, child = _child_to_edit(request, pk)
    if request.method == "POST":
        form = registry_forms.ProcessingBasisForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            saved = _save(
                request,
                child,
                form,
                lambda: consents.processing_basis_record(
                    actor=user, child=child, purpose=d["purpose"], basis=d["basis"], note=d["note"]
                ),
            )
            if saved is not None:
                return saved
    else:
        form = registry_forms.ProcessingBasisForm(
            initial={"purpose": printable(request.GET.get("purpose", ""), 16)}
        )
    return _file_form_page(
        request,
        child,
        form,
        title=_("Legal basis of processing"),
        intro=_(
            "Why %(name)s's data may be processed for one purpose. A basis already recorded "
            "for the purpose is replaced."
        )
        % {"name": child.name},
        testid="basis-form",
    )
