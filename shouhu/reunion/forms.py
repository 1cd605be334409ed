"""Forms of the reunion pages. They only shape input (an unknown id, a date that is no
date, a number that is no number are field errors, never a 500); the rules live in the
services (`sites`, `planning`, `attendance`, `tickets`...), whose field errors are put back
on the form by `attach_service_errors`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shouhu.accounts.models import Organisation, User
from shouhu.children.models import Child, FamilyMember
from shouhu.places.models import Place
from shouhu.reunion import selectors
from shouhu.reunion.models import (
    Channel as ContactChannel,
)
from shouhu.reunion.models import (
    ContactMode,
    Device,
    DeviceStatus,
    Facilitator,
    Feeling,
    Site,
    SiteKind,
    Weekday,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
BLANK_ROWS = 3  # empty rows under the windows of a form, to add more


def attach_service_errors(form: forms.Form, errors: Mapping[str, Sequence[str]]) -> None:
    """A service's field errors on the form's field of that name, the rest at the top."""
    for key, messages in errors.items():
        name = key if key in form.fields else None
        for message in messages:
            form.add_error(name, message)


def service_errors(exc: Any) -> dict[str, list[str]]:
    """The field errors of a service's `ValidationError` (`__all__` when it has none)."""
    if hasattr(exc, "error_dict"):
        return dict(exc.message_dict)
    return {"__all__": list(exc.messages)}


class PlanForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.filter(active=True)
    )
    week = forms.DateField(label=_("Week of"), widget=DATE)


class TicketReportForm(forms.Form):
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    device = forms.ModelChoiceField(
        label=_("Device"), queryset=Device.objects.none(), required=False
    )
    problem = forms.CharField(label=_("Problem"), max_length=2000, widget=forms.Textarea)

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["device"].queryset = Device.objects.filter(  # type: ignore[attr-defined]
            site__in=sites
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        site, device = data.get("site"), data.get("device")
        if site is not None and device is not None and device.site_id != site.pk:
            self.add_error("device", _("The device is not at this site."))
        return data


class TicketResolveForm(forms.Form):
    resolution = forms.CharField(label=_("What was done"), max_length=2000)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class AbsenceForm(forms.Form):
    facilitator = forms.ModelChoiceField(
        label=_("Facilitator"), queryset=Facilitator.objects.none(), required=False
    )
    on = forms.DateField(label=_("Date"), widget=DATE)

    def __init__(self, *args: Any, facilitators: QuerySet[Facilitator], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = facilitators  # type: ignore[attr-defined]


class ContactForm(forms.Form):
    mode = forms.ChoiceField(label=_("Kind"), choices=ContactMode.choices)
    on = forms.DateField(label=_("Date"), widget=DATE)
    member = forms.ModelChoiceField(
        label=_("Parent"), queryset=FamilyMember.objects.none(), required=False
    )
    minutes = forms.IntegerField(label=_("Minutes"), min_value=0, max_value=24 * 60, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, child: Child, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = child.household.members.all()  # type: ignore[attr-defined]


FEELINGS = [("", "—"), *Feeling.choices]


class AttendanceForm(forms.Form):
    """One set of fields per child of the session (`c<id>-present`, `-joined`, `-minutes`,
    `-problems`, `-reason`, `-feeling`)."""

    def __init__(self, *args: Any, kids: Iterable[Child], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kids = list(kids)
        for child in self.kids:
            p = f"c{child.pk}-"
            self.fields[p + "present"] = forms.BooleanField(required=False, initial=True)
            self.fields[p + "joined"] = forms.BooleanField(required=False)
            self.fields[p + "minutes"] = forms.IntegerField(
                min_value=0, max_value=240, required=False, initial=0
            )
            self.fields[p + "problems"] = forms.CharField(max_length=200, required=False)
            self.fields[p + "reason"] = forms.CharField(max_length=200, required=False)
            self.fields[p + "feeling"] = forms.TypedChoiceField(
                choices=FEELINGS, coerce=int, empty_value=None, required=False
            )

    def cards(self) -> list[dict[str, Any]]:
        """Per child: the child and its bound fields, for the template."""
        names = ("present", "joined", "minutes", "problems", "reason", "feeling")
        return [{"child": c, **{n: self[f"c{c.pk}-{n}"] for n in names}} for c in self.kids]

    def rows(self) -> list[dict[str, Any]]:
        """The service's rows (`attendance_record`)."""
        data = self.cleaned_data
        out = []
        for child in self.kids:
            p = f"c{child.pk}-"
            out.append(
                {
                    "child": child.pk,
                    "present": bool(data.get(p + "present")),
                    "parent_joined": bool(data.get(p + "joined")),
                    "minutes": data.get(p + "minutes") or 0,
                    "quality_problems": data.get(p + "problems") or "",
                    "no_show_reason": data.get(p + "reason") or "",
                    "feeling": data.get(p + "feeling"),
                }
            )
        return out

    def attach(self, errors: Mapping[str, Sequence[str]]) -> None:
        """The service's `rows.<i>.<field>` errors on that child's field."""
        fields = {
            "minutes": "minutes",
            "no_show_reason": "reason",
            "feeling": "feeling",
            "child": None,
        }
        for key, messages in errors.items():
            parts = key.split(".")
            name: str | None = None
            if parts[0] == "rows" and len(parts) == 3 and parts[1].isdecimal():
                index, field = int(parts[1]), fields.get(parts[2])
                if index < len(self.kids) and field:
                    name = f"c{self.kids[index].pk}-{field}"
            for message in messages:
                self.add_error(name, message)


# ---------------------------------------------------------------- weekly windows


class WindowForm(forms.Form):
    """One weekly window (a site's opening hours, a facilitator's or a parent's free time).
    A row left empty is no window."""

    day = forms.TypedChoiceField(label=_("Day"), choices=Weekday.choices, coerce=int)
    start = forms.TimeField(label=_("From"), required=False, widget=TIME)
    end = forms.TimeField(label=_("Until"), required=False, widget=TIME)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is None and end is None:
            return data
        if start is None and "start" not in self.errors:
            self.add_error("start", _("Give the time it starts."))
        elif end is None and "end" not in self.errors:
            self.add_error("end", _("Give the time it ends."))
        elif start is not None and end is not None and end <= start:
            self.add_error("end", _("The window ends before it starts."))
        return data

    def window(self) -> dict[str, Any] | None:
        d = self.cleaned_data
        if d.get("start") is None:
            return None
        return {"day": d["day"], "start": f"{d['start']:%H:%M}", "end": f"{d['end']:%H:%M}"}


class BaseWindowFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        # Every row is read, even one equal to its initial value: an empty row is no window
        # (WindowForm.clean), not a row skipped unread.
        return {"empty_permitted": False, "use_required_attribute": False}

    def windows(self) -> list[dict[str, Any]]:
        """The windows of the rows filled in (call after `is_valid()`)."""
        return [w for w in (f.window() for f in self.forms) if w is not None]

    def refuse(self, exc: Any) -> None:
        """A service's refusal of the windows (`openings.2: overlaps...`) above the rows."""
        for message in (m for ms in service_errors(exc).values() for m in ms):
            self._non_form_errors = self.error_class(
                [*self.non_form_errors(), message], error_class="nonform"
            )


WindowFormSet = forms.formset_factory(
    WindowForm, formset=BaseWindowFormSet, extra=BLANK_ROWS, max_num=50, validate_max=True
)


def window_rows(data: Any, prefix: str, windows: Iterable[Any] = ()) -> BaseWindowFormSet:
    """The rows of a window form: the current windows, then empty rows to add more."""
    initial = [
        {"day": w.day, "start": w.start, "end": w.end} if not isinstance(w, dict) else w
        for w in windows
    ]
    return cast(BaseWindowFormSet, WindowFormSet(data, prefix=prefix, initial=initial))


# ---------------------------------------------------------------- sites, devices, people


class PlaceChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Place) -> str:
        return f"— {obj.name}" if obj.level == 5 else obj.name


class SiteForm(forms.Form):
    """A site's settings; `organisation` only when it is created."""

    organisation = forms.ModelChoiceField(
        label=_("Managed by"), queryset=Organisation.objects.none(), empty_label=None
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=SiteKind.choices)
    place = PlaceChoiceField(label=_("Place"), queryset=Place.objects.none())
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    active = forms.BooleanField(label=_("Active (planned each week)"), required=False)

    def __init__(
        self,
        data: Any = None,
        *,
        organisations: Sequence[Organisation],
        places: QuerySet[Place],
        site: Site | None = None,
    ) -> None:
        initial = (
            {
                "name": site.name,
                "kind": site.kind,
                "place": site.place_id,
                "address": site.address,
                "active": site.active,
            }
            if site is not None
            else {"kind": SiteKind.SCHOOL}
        )
        super().__init__(data, initial=initial, prefix="site")
        if site is None:
            del self.fields["active"]
            cast(forms.ModelChoiceField, self.fields["organisation"]).queryset = (  # type: ignore[type-arg]
                Organisation.objects.filter(pk__in=[o.pk for o in organisations])
            )
        else:
            del self.fields["organisation"]
        cast(forms.ModelChoiceField, self.fields["place"]).queryset = places  # type: ignore[type-arg]
        self.rows = window_rows(data, "open", site.openings.all() if site is not None else ())

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.rows.is_valid()])


class DeviceForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=50)
    kind = forms.CharField(label=_("Kind"), max_length=50, initial="tablet")
    status = forms.ChoiceField(
        label=_("Status"), choices=DeviceStatus.choices, initial=DeviceStatus.WORKING
    )

    def __init__(self, data: Any = None, *, device: Device | None = None) -> None:
        initial = (
            {"label": device.label, "kind": device.kind, "status": device.status}
            if device is not None
            else None
        )
        super().__init__(
            data, initial=initial, prefix=f"device-{device.pk}" if device else "device"
        )
        self.device = device
        self.open_ticket: Any = None  # a fault reported and not yet resolved


class FacilitatorForm(forms.Form):
    """A facilitator of the site and their weekly availability (`rows`)."""

    person = forms.TypedChoiceField(
        label=_("Add a teacher, cadre or volunteer"),
        coerce=int,
        error_messages={"invalid_choice": _("Choose a person from the list.")},
    )

    def __init__(
        self,
        data: Any = None,
        *,
        site: Site,
        facilitator: Facilitator | None = None,
    ) -> None:
        prefix = f"facilitator-{facilitator.pk}" if facilitator else "facilitator"
        super().__init__(data, prefix=prefix)
        self.facilitator = facilitator
        if facilitator is not None:
            del self.fields["person"]
            self.candidates = {facilitator.user_id: facilitator.user}
            windows: Iterable[Any] = facilitator.windows.all()
        else:
            self.candidates = {u.pk: u for u in selectors.facilitator_candidates(site)[:300]}
            cast(forms.ChoiceField, self.fields["person"]).choices = [
                (pk, str(u)) for pk, u in self.candidates.items()
            ]
            windows = ()
        self.rows = window_rows(data, f"{prefix}-avail", windows)

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.rows.is_valid()])

    def person_chosen(self) -> User:
        if self.facilitator is not None:
            return self.facilitator.user
        return self.candidates[self.cleaned_data["person"]]


class SiteChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.name} · {obj.place.name}"


class ParticipantForm(forms.Form):
    sites = SiteChoices(
        label=_("Sites the child can reach"),
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sessions = forms.TypedChoiceField(
        label=_("Sessions a week"),
        choices=[(n, str(n)) for n in range(8)],
        coerce=int,
        initial=1,
        help_text=_(
            "At least two are planned when the risk level is orange or red or the case plan "
            "works on the family bonds."
        ),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[(1, _("1 (highest)")), (2, "2"), (3, _("3 (lowest)"))],
        coerce=int,
        initial=3,
    )
    active = forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.HiddenInput,
    )

    def __init__(self, data: Any = None, *, sites: QuerySet[Site], current: Any = None) -> None:
        initial = (
            {
                "sites": list(current.sites.all()),
                "sessions": current.sessions_per_week,
                "priority": current.priority,
            }
            if current is not None
            else None
        )
        super().__init__(data, initial=initial)
        field = cast(forms.ModelMultipleChoiceField, self.fields["sites"])  # type: ignore[type-arg]
        field.queryset = sites


class ParentWindowsForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Preferred channel"), choices=ContactChannel.choices, initial="wechat"
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        availability: Any,
        phone: str | None,
    ) -> None:
        """`phone`: the number shown to those who edit the family (None: no phone field)."""
        initial: dict[str, Any] = {"phone": phone or ""}
        if availability is not None:
            initial["channel"] = availability.channel
        super().__init__(data, initial=initial)
        if phone is None:
            del self.fields["phone"]
        self.rows = window_rows(data, "w", availability.windows.all() if availability else ())

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.rows.is_valid()])
