"""Forms of the registry pages. They only shape input: validation of the facts (ID number
check digit against birth date and sex, places, dates) lives in `services`, whose field
errors are mapped back onto these forms by `attach_service_errors`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.db.models import F, Q, Value
from django.db.models.functions import Replace
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from shouhu.access import BreakGlassPurpose
from shouhu.children import consents, editing
from shouhu.children.data import ChildData, ConsentData, DelegatedCareData, MemberData
from shouhu.children.models import (
    Aid,
    AwayReason,
    Basis,
    Capacity,
    ConsentScope,
    GuardianshipRating,
    GuardianshipType,
    Health,
    Living,
    Purpose,
    Relation,
    Schooling,
    Sex,
)
from shouhu.lib import phone as phone_numbers
from shouhu.places.models import Level, Place

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _blank(choices: Any) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


class ChildForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    sex = forms.ChoiceField(label=_("Sex"), choices=_blank(Sex.choices))
    birth_date = forms.DateField(label=_("Date of birth"), widget=DATE)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        required=False,
        help_text=_("18 characters; checked against the date of birth and sex."),
    )
    residence_code = forms.ChoiceField(
        label=_("Village where the child lives"),
        error_messages={"invalid_choice": _("You cannot register children living in this place.")},
    )
    residence_since = forms.DateField(label=_("Living here since"), required=False, widget=DATE)
    hukou_code = forms.CharField(
        label=_("Hukou place code"),
        max_length=12,
        required=False,
        help_text=_("12-digit code; leave empty if the hukou is the village of residence."),
    )
    school_id = forms.TypedChoiceField(
        label=_("School"), coerce=int, empty_value=None, required=False
    )
    grade = forms.CharField(label=_("Grade"), max_length=20, required=False)
    boarding = forms.BooleanField(label=_("Boarding at school"), required=False)
    schooling = forms.ChoiceField(
        label=_("Schooling"), choices=Schooling.choices, initial=Schooling.ENROLLED
    )
    living_arrangement = forms.ChoiceField(
        label=_("Living arrangement"), choices=_blank(Living.choices)
    )
    health = forms.ChoiceField(label=_("Health"), choices=Health.choices, initial=Health.WELL)
    disability_type = forms.CharField(label=_("Disability type"), max_length=50, required=False)
    disability_grade = forms.CharField(label=_("Disability grade"), max_length=10, required=False)
    guardianship_type = forms.ChoiceField(
        label=_("Guardianship type"), choices=_blank(GuardianshipType.choices), required=False
    )
    guardianship_rating = forms.ChoiceField(
        label=_("Guardianship rating"), choices=_blank(GuardianshipRating.choices), required=False
    )

    def __init__(
        self,
        *args: Any,
        villages: Sequence[tuple[str, str]] = (),
        schools: Sequence[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        village_field = self.fields["residence_code"]
        assert isinstance(village_field, forms.ChoiceField)
        village_field.choices = _blank(villages)
        school_field = self.fields["school_id"]
        assert isinstance(school_field, forms.ChoiceField)
        school_field.choices = [("", "—"), *schools]

    def clean_id_number(self) -> str:
        return str(self.cleaned_data["id_number"]).strip().upper()

    def data_for_service(self) -> ChildData:
        d = self.cleaned_data
        return ChildData(
            name=d["name"].strip(),
            sex=d["sex"],
            birth_date=d["birth_date"],
            residence_code=d["residence_code"],
            living_arrangement=d["living_arrangement"],
            id_number=d["id_number"],
            hukou_code=d["hukou_code"].strip() or d["residence_code"],
            residence_since=d["residence_since"],
            school_id=d["school_id"],
            grade=d["grade"],
            boarding=d["boarding"],
            schooling=d["schooling"],
            health=d["health"],
            disability_type=d["disability_type"],
            disability_grade=d["disability_grade"],
            guardianship_type=d["guardianship_type"],
            guardianship_rating=d["guardianship_rating"],
        )


def _offer_rows(form: forms.Form, name: str, rows: int) -> None:
    """A select of the family table's row numbers (shown from 1, valued from 0)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = [("", "—"), *[(i, str(i + 1)) for i in range(rows)]]


class HouseholdForm(forms.Form):
    address = forms.CharField(label=_("Home address"), max_length=200, required=False)
    aid = forms.ChoiceField(label=_("Assistance"), choices=Aid.choices, initial=Aid.NONE)
    income_source = forms.CharField(label=_("Income source"), max_length=100, required=False)


class MemberForm(forms.Form):
    relation = forms.ChoiceField(label=_("Relation"), choices=_blank(Relation.choices))
    name = forms.CharField(label=_("Name"), max_length=100)
    is_guardian = forms.BooleanField(label=_("Guardian"), required=False)
    capacity = forms.ChoiceField(
        label=_("Capacity to care"), choices=Capacity.choices, initial=Capacity.ABLE
    )
    away = forms.BooleanField(label=_("Away from the child"), required=False)
    away_place_code = forms.CharField(
        label=_("Where (place code or name)"),
        max_length=60,
        required=False,
        help_text=_("A city or county, e.g. 杭州 or 杭州 西湖, or its code."),
        widget=forms.TextInput(
            attrs={
                "list": "work-places",
                "autocomplete": "off",
                "hx-get": reverse_lazy("children:place_options"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#work-places",
            }
        ),
    )
    away_since = forms.DateField(label=_("Away since"), required=False, widget=DATE)
    away_reason = forms.ChoiceField(
        label=_("Reason"), choices=_blank(AwayReason.choices), required=False
    )
    workplace = forms.CharField(label=_("Workplace"), max_length=100, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def clean_phone(self) -> str:
        number: str = self.cleaned_data["phone"].strip()
        # A masked number shown on an edit page and sent back unchanged is not typed: the
        # service keeps the stored one.
        if number and "*" not in number and not phone_numbers.is_valid(number):
            raise forms.ValidationError(phone_numbers.PROBLEM)
        return number

    def clean_away_place_code(self) -> str:
        code, candidates = resolve_place(self.cleaned_data["away_place_code"])
        if code is not None:
            return code
        if candidates:
            names = "; ".join(f"{p.full_name or p.name} ({p.code})" for p in candidates)
            raise forms.ValidationError(
                _("Several places match: %(names)s. Type more of the name or the code."),
                params={"names": names},
            )
        raise forms.ValidationError(_("No city or county has this name."))

    def has_changed(self) -> bool:
        """A row of the family table counts when a name is written in it; the relation
        select comes pre-filled, so it alone does not make a row."""
        if not self.is_bound:
            return super().has_changed()
        return bool(str(self.data.get(self.add_prefix("name"), "")).strip())

    def data_for_service(self) -> MemberData:
        d = self.cleaned_data
        return MemberData(
            name=d["name"].strip(),
            relation=d["relation"],
            is_guardian=d["is_guardian"],
            capacity=d["capacity"],
            away=d["away"],
            away_place_code=d["away_place_code"].strip(),
            away_since=d["away_since"],
            away_reason=d["away_reason"],
            workplace=d["workplace"],
            phone=d["phone"].strip(),
        )


MEMBER_ROWS = 8  # four shown, four more folded away: no JavaScript needed to add a row
MemberFormSet = forms.formset_factory(
    MemberForm, extra=MEMBER_ROWS, max_num=MEMBER_ROWS, absolute_max=MEMBER_ROWS
)


class CareChecklistForm(forms.Form):
    """The Art. 22 eligibility checklist and the dates of the delegated-care record."""

    no_abuse_record = forms.BooleanField(
        label=_("no record of sexual abuse or violence"), required=False
    )
    no_drugs_alcohol_gambling = forms.BooleanField(
        label=_("no drug use, alcoholism or gambling"), required=False
    )
    no_neglect_history = forms.BooleanField(
        label=_("has not neglected a child's care"), required=False
    )
    capable_adult = forms.BooleanField(
        label=_("capable adult living with the child"), required=False
    )
    notice_to_school_on = forms.DateField(
        label=_("written notice to school"), required=False, widget=DATE
    )
    notice_to_village_on = forms.DateField(
        label=_("written notice to village"), required=False, widget=DATE
    )
    confirmation_signed_on = forms.DateField(
        label=_("confirmation (委托监护确认书) signed"), required=False, widget=DATE
    )

    CHECKLIST = (
        "no_abuse_record",
        "no_drugs_alcohol_gambling",
        "no_neglect_history",
        "capable_adult",
        "notice_to_school_on",
        "notice_to_village_on",
        "confirmation_signed_on",
    )

    def checklist(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.CHECKLIST}


class DelegatedCareForm(CareChecklistForm):
    carer_row = forms.TypedChoiceField(
        label=_("Delegated carer (row)"), coerce=int, empty_value=None, required=False
    )
    field_order = ["carer_row"]

    def __init__(self, *args: Any, rows: int = 8, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_rows(self, "carer_row", rows)

    def data_for_service(self) -> DelegatedCareData | None:
        d = self.cleaned_data
        if d.get("carer_row") is None:
            return None
        return DelegatedCareData(
            carer_index=d["carer_row"],
            no_abuse_record=d["no_abuse_record"],
            no_drugs_alcohol_gambling=d["no_drugs_alcohol_gambling"],
            no_neglect_history=d["no_neglect_history"],
            capable_adult=d["capable_adult"],
            notice_to_school_on=d["notice_to_school_on"],
            notice_to_village_on=d["notice_to_village_on"],
            confirmation_signed_on=d["confirmation_signed_on"],
        )


class ConsentForm(forms.Form):
    given_by_row = forms.TypedChoiceField(
        label=_("Consent given by (row)"), coerce=int, empty_value=None, required=False
    )
    given_on = forms.DateField(label=_("Consent date"), required=False, widget=DATE)
    version = forms.CharField(label=_("Notice version"), max_length=20, required=False)
    scopes = forms.MultipleChoiceField(
        label=_("Consent covers"),
        choices=ConsentScope.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, rows: int = 8, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_rows(self, "given_by_row", rows)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("given_by_row") is not None:
            if not data.get("given_on"):
                self.add_error("given_on", _("This field is required."))
            if not data.get("version"):
                self.add_error("version", _("This field is required."))
            if not data.get("scopes"):
                self.add_error("scopes", _("Choose at least one purpose."))
        return data

    def data_for_service(self) -> ConsentData | None:
        d = self.cleaned_data
        if d.get("given_by_row") is None:
            return None
        return ConsentData(
            given_by_index=d["given_by_row"],
            given_on=d["given_on"],
            version=d["version"],
            scopes=list(d["scopes"]),
        )


# ---------------------------------------------------------------- editing the rest of the file


def _people(members: Sequence[Any]) -> list[tuple[int, str]]:
    return [(m.pk, f"{m.name} · {m.get_relation_display()}") for m in members]


class HouseholdEditForm(HouseholdForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    address = forms.CharField(
        label=_("Home address"),
        max_length=editing.ADDRESS_MAX,
        required=False,
        help_text=_(
            "Shown masked: leave it as it is to keep it, type a new one to replace it, or "
            "empty the box to remove it."
        ),
    )
    income_source = forms.CharField(
        label=_("Income source"), max_length=editing.INCOME_SOURCE_MAX, required=False
    )


class DelegatedCareEditForm(CareChecklistForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    carer = forms.TypedChoiceField(label=_("Delegated carer"), coerce=int, empty_value=None)
    field_order = ["carer"]

    def __init__(self, *args: Any, members: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["carer"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *_people(members)]


class ConsentRecordForm(forms.Form):
    given_by = forms.TypedChoiceField(label=_("Consent given by"), coerce=int, empty_value=None)
    given_on = forms.DateField(label=_("Consent date"), widget=DATE)
    version = forms.CharField(label=_("Notice version"), max_length=20)
    scopes = forms.MultipleChoiceField(
        label=_("Consent covers"),
        choices=ConsentScope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one purpose.")},
    )

    def __init__(self, *args: Any, guardians: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["given_by"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *_people(guardians)]


class ConsentWithdrawForm(forms.Form):
    withdrawn_on = forms.DateField(label=_("Withdrawn on"), widget=DATE)


class RevealForm(forms.Form):
    """Show a protected field class, or one value of it, in plaintext. `purpose` and
    `reason` are required past the reader's ceiling (break glass); the selector checks them,
    so that the page and the API apply one rule."""

    field_class = forms.CharField(required=False, max_length=32)
    field = forms.CharField(required=False, max_length=32)
    member = forms.CharField(required=False, max_length=20)
    purpose = forms.ChoiceField(
        label=_("What you need them for"),
        required=False,
        choices=[("", "—"), *BreakGlassPurpose.choices],
    )
    reason = forms.CharField(
        label=_("Why you need them (logged and reviewed)"),
        required=False,
        max_length=1000,
        strip=True,
    )

    def clean_member(self) -> int | None:
        """A family member's id; anything else names no member (404, as a missing one)."""
        raw = self.cleaned_data.get("member", "")
        return int(raw) if raw.isdigit() and 1 <= int(raw) <= 2**62 else None


class ProcessingBasisForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=_blank(Purpose.choices))
    basis = forms.ChoiceField(label=_("Legal basis"), choices=_blank(Basis.choices))
    note = forms.CharField(
        label=_("Note"),
        max_length=consents.NOTE_MAX,
        required=False,
        help_text=_("For a statutory duty or an emergency: which one (law, document, event)."),
    )


def attach_service_errors(
    errors: Mapping[str, Sequence[str]],
    *,
    child: forms.Form,
    household: forms.Form | None = None,
    members: forms.BaseFormSet | None = None,  # type: ignore[type-arg]
) -> None:
    """Put the services' field errors (`name`, `household.aid`, `members.1.away_since`) on
    the form field they belong to; anything unplaceable goes to the child form's top."""
    for key, messages in errors.items():
        target: forms.Form = child
        name: str | None = key
        parts = key.split(".")
        if parts[0] == "members" and members is not None and len(parts) == 3:
            index = int(parts[1])
            if index < len(members.forms):
                target, name = members.forms[index], parts[2]
        elif parts[0] == "household" and household is not None and len(parts) == 2:
            target, name = household, parts[1]
            if name == "village_code":
                target, name = child, "residence_code"
        if name not in target.fields:
            name = None
        for message in messages:
            target.add_error(name, message)


# ---------------------------------------------------------------- places by name


def places_matching(text: str, *, limit: int = 30) -> list[Place]:
    """County-level and larger places whose full name contains every word typed
    (`杭州 西湖`), larger places first."""
    words = text.split()
    if not words:
        return []
    qs = Place.objects.filter(level__lte=Level.COUNTY).annotate(
        compact=Replace(F("full_name"), Value(" "), Value(""))
    )
    for word in words[:4]:
        qs = qs.filter(compact__contains=word)
    return list(qs.order_by("level", "code")[:limit])


def resolve_place(text: str) -> tuple[str | None, list[Place]]:
    """A work destination typed as a code or a name: `(code, [])` when it names one place,
    `("", [])` when empty, `(None, candidates)` when several or none match."""
    text = " ".join(text.split())
    if not text:
        return "", []
    if text.isdigit():
        return text.ljust(12, "0") if len(text) in (2, 4, 6, 9) else text, []
    compact = text.replace(" ", "")
    exact = list(
        Place.objects.filter(level__lte=Level.COUNTY)
        .annotate(compact=Replace(F("full_name"), Value(" "), Value("")))
        .filter(Q(name=text) | Q(compact=compact))
        .order_by("level", "code")[:10]
    )
    if len(exact) == 1:
        return exact[0].code, []
    if exact:
        return None, exact
    found = places_matching(text, limit=11)
    if len(found) == 1:
        return found[0].code, []
    starting = [p for p in found if p.name.startswith(text.split()[-1])]
    if len(starting) == 1:
        return starting[0].code, []
    return None, (starting or found)[:10]
