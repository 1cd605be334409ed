"""Forms of the reunion pages. They only shape input (an unknown id, a date that is no
date, a number that is no number are field errors, never a 500); the rules live in
`services`, whose field errors are put back on the form by `attach_service_errors`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shouhu.accounts.models import Organisation
from shouhu.children.models import Child, FamilyMember
from shouhu.reunion.models import ContactMode, Device, Facilitator, Feeling, Site

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


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
