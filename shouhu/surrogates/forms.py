"""Forms of the surrogate-parent pages: they collect, the services decide
(`lib.formerrors`); a refusal lands next to the field it names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock
from shouhu.surrogates import services
from shouhu.surrogates.models import Arrangement, CommunityRole, Mode

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CADENCE_FIELDS = {Mode.CALL.value: "call_every", Mode.VIDEO.value: "video_every"}
CADENCE_FIELDS[Mode.VISIT.value] = "visit_every"


class ContactForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DATE)
    mode = forms.ChoiceField(label=_("How"), choices=Mode.choices)
    minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=1, max_value=1440)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data: Any = None, *, user: User, arrangement: Arrangement | None) -> None:
        super().__init__(data, initial={"on": clock.today(), "mode": Mode.CALL})
        self.user, self.arrangement = user, arrangement

    def perform(self) -> None:
        assert self.arrangement is not None
        d = self.cleaned_data
        services.contact_record(
            actor=self.user,
            arrangement=self.arrangement,
            on=d["on"],
            mode=d["mode"],
            minutes=d["minutes"],
            notes=d["notes"],
        )


class ArrangementForm(forms.Form):
    """A new surrogate parent and the agreement: who, since when, the duties, the guardian
    who agreed, and how often they keep in touch (at least one way)."""

    organisation = forms.ModelChoiceField(
        label=_("Arranged by"), queryset=Organisation.objects.none(), empty_label=None
    )
    name = forms.CharField(label=_("Surrogate parent's name"), max_length=100)
    community_role = forms.ChoiceField(
        label=_("Role in the community"), choices=CommunityRole.choices
    )
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    guardian = forms.ModelChoiceField(
        label=_("Guardian who agreed"), queryset=FamilyMember.objects.none()
    )
    signed_on = forms.DateField(label=_("Agreement signed on"), widget=DATE)
    since = forms.DateField(label=_("Since"), widget=DATE)
    until = forms.DateField(label=_("Until (if fixed)"), widget=DATE, required=False)
    duties = forms.CharField(
        label=_("Duties"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    agreement_version = forms.CharField(label=_("Agreement version"), max_length=32)
    call_every = forms.IntegerField(
        label=_("A phone call every (days)"), required=False, min_value=1, max_value=366
    )
    video_every = forms.IntegerField(
        label=_("A video call every (days)"), required=False, min_value=1, max_value=366
    )
    visit_every = forms.IntegerField(
        label=_("A visit every (days)"), required=False, min_value=1, max_value=366
    )

    def __init__(self, data: Any = None, *, user: User, child: Child) -> None:
        super().__init__(
            data, initial={"signed_on": clock.today(), "since": clock.today(), "call_every": 7}
        )
        self.user, self.child = user, child
        orgs = Organisation.objects.filter(pk__in=access.surrogate_organisations(user))
        self.fields["organisation"].queryset = orgs.order_by("name")  # type: ignore[attr-defined]
        self.fields["guardian"].queryset = FamilyMember.objects.filter(  # type: ignore[attr-defined]
            household_id=child.household_id, is_guardian=True
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(cleaned.get(f) for f in CADENCE_FIELDS.values()):
            self.add_error(
                "call_every", _("Agree at least one contact cadence, such as a weekly call.")
            )
        return cleaned

    def perform(self) -> None:
        d = self.cleaned_data
        try:
            services.arrangement_create(
                actor=self.user,
                child=self.child,
                organisation=d["organisation"],
                guardian=d["guardian"],
                signed_on=d["signed_on"],
                since=d["since"],
                until=d["until"],
                duties=d["duties"],
                agreement_version=d["agreement_version"],
                cadences=[
                    services.CadenceData(mode, d[name])
                    for mode, name in CADENCE_FIELDS.items()
                    if d.get(name)
                ],
                person=services.SurrogateData(
                    name=d["name"], community_role=d["community_role"], phone=d["phone"]
                ),
            )
        except ValidationError as exc:
            raise ValidationError(_form_names(exc, d)) from None


def _form_names(exc: ValidationError, d: dict[str, Any]) -> dict[str, Any]:
    """The service's field names as this form's: `surrogate.phone` is `phone`, the i-th
    cadence is the field of its mode."""
    modes = [mode for mode, name in CADENCE_FIELDS.items() if d.get(name)]
    out: dict[str, Any] = {}
    for key, errors in exc.message_dict.items():
        name = key.removeprefix("surrogate.")
        if key.startswith("cadences."):
            index = int(key.split(".")[1])
            name = CADENCE_FIELDS[modes[index]] if index < len(modes) else "call_every"
        elif key == "cadences":
            name = "call_every"
        out.setdefault(name, []).extend(errors)
    return out


class EndForm(forms.Form):
    reason = forms.CharField(label=_("Why it ends"), max_length=300)
    ended_on = forms.DateField(label=_("Ended on"), widget=DATE, required=False)

    def __init__(self, data: Any = None, *, user: User, arrangement: Arrangement) -> None:
        super().__init__(data, initial={"ended_on": clock.today()})
        self.user, self.arrangement = user, arrangement

    def perform(self) -> None:
        d = self.cleaned_data
        services.arrangement_end(
            actor=self.user,
            arrangement=self.arrangement,
            reason=d["reason"],
            ended_on=d["ended_on"],
        )
