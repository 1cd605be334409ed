"""Forms of the volunteer pages: they collect, the services decide (`lib.formerrors`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shouhu.accounts.models import Organisation, User
from shouhu.children.models import Child, FamilyMember
from shouhu.lib.clock import SHANGHAI
from shouhu.places.models import Place
from shouhu.volunteers import hours as hours_service
from shouhu.volunteers import matching, services
from shouhu.volunteers.models import (
    CheckKind,
    CheckResult,
    Hours,
    Match,
    TrainingKind,
    Volunteer,
)


class HoursForm(forms.Form):
    """Hours entered by the organising unit: the activity, its day and times, and the
    minutes of actual service (without travel; default the whole time)."""

    activity = forms.CharField(label=_("Activity"), max_length=200)
    day = forms.DateField(
        label=_("Date of the service"), widget=forms.DateInput(attrs={"type": "date"})
    )
    # Named as the service names them, so that its refusals land next to them.
    starts_at = forms.TimeField(
        label=_("Check-in time"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    ends_at = forms.TimeField(
        label=_("Check-out time"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    minutes = forms.IntegerField(
        label=_("Minutes of service (without travel)"),
        required=False,
        min_value=1,
        max_value=24 * 60,
        help_text=_("Leave empty when the whole time was service."),
    )

    def __init__(self, data: Any = None, *, user: User, volunteer: Volunteer) -> None:
        super().__init__(data)
        self.user, self.volunteer = user, volunteer

    def perform(self) -> None:
        d = self.cleaned_data
        day: dt.date = d["day"]
        hours_service.hours_record(
            actor=self.user,
            volunteer=self.volunteer,
            activity=d["activity"],
            starts_at=dt.datetime.combine(day, d["starts_at"], tzinfo=SHANGHAI),
            ends_at=dt.datetime.combine(day, d["ends_at"], tzinfo=SHANGHAI),
            minutes=d["minutes"],
        )


class DecisionForm(forms.Form):
    """Approve or decline a pending entry of hours."""

    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("decline", _("Decline"))],
        error_messages={
            "required": _("Approve or decline."),
            "invalid_choice": _("Approve or decline."),
        },
    )

    def __init__(self, data: Any = None, *, user: User, entry: Hours) -> None:
        super().__init__(data)
        self.user, self.entry = user, entry

    def perform(self) -> None:
        hours_service.hours_decide(
            actor=self.user, entry=self.entry, approve=self.cleaned_data["decision"] == "approve"
        )


DATE = forms.DateInput(attrs={"type": "date"})


def _blank(choices: Any) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


class _Acting(forms.Form):
    """A form about one volunteer, performed by `user`."""

    def __init__(self, data: Any = None, *, user: User, volunteer: Volunteer) -> None:
        super().__init__(data)
        self.user, self.volunteer = user, volunteer


class CheckForm(_Acting):
    kind = forms.ChoiceField(label=_("Check"), choices=_blank(CheckKind.choices))
    result = forms.ChoiceField(label=_("Result"), choices=_blank(CheckResult.choices))
    checked_on = forms.DateField(label=_("Checked on"), widget=DATE)
    expires_on = forms.DateField(
        label=_("Valid until"),
        widget=DATE,
        required=False,
        help_text=_("Required for a clear inquiry into offence records."),
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def perform(self) -> None:
        services.check_record(actor=self.user, volunteer=self.volunteer, **self.cleaned_data)


class TrainingForm(_Acting):
    kind = forms.ChoiceField(label=_("Kind"), choices=_blank(TrainingKind.choices))
    title = forms.CharField(label=_("Course"), max_length=200)
    completed_on = forms.DateField(label=_("Completed on"), widget=DATE)
    hours = forms.DecimalField(label=_("Hours"), max_digits=5, decimal_places=1, min_value=0.1)
    trainer = forms.CharField(label=_("Trainer"), max_length=100, required=False)

    def perform(self) -> None:
        services.training_record(actor=self.user, volunteer=self.volunteer, **self.cleaned_data)


class AgreementForm(_Acting):
    version = forms.CharField(label=_("Agreement version"), max_length=32)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)
    expires_on = forms.DateField(label=_("Valid until"), widget=DATE, required=False)
    scope = forms.CharField(label=_("Scope of service"), max_length=300)
    confidentiality = forms.BooleanField(
        label=_("Includes the clause to keep children's information confidential"),
        required=False,
    )

    def perform(self) -> None:
        services.agreement_sign(actor=self.user, volunteer=self.volunteer, **self.cleaned_data)


class StatusForm(_Acting):
    """Activate (or reinstate), suspend or end the volunteer's service."""

    status = forms.ChoiceField(
        label=_("Change to"),
        choices=_blank(
            [
                ("active", _("Active")),
                ("suspended", _("Suspended")),
                ("exited", _("Exited")),
            ]
        ),
    )
    reason = forms.CharField(
        label=_("Why"),
        max_length=300,
        required=False,
        help_text=_("Required to suspend or end the service."),
    )

    def perform(self) -> None:
        d, actor, v = self.cleaned_data, self.user, self.volunteer
        if d["status"] in ("suspended", "exited") and not d["reason"].strip():
            raise ValidationError({"reason": [_("Say why.")]})
        if d["status"] == "active":
            services.activate(actor=actor, volunteer=v)
        elif d["status"] == "suspended":
            services.suspend(actor=actor, volunteer=v, reason=d["reason"])
        else:
            services.exit_volunteer(actor=actor, volunteer=v, reason=d["reason"])


class SupervisionForm(_Acting):
    held_on = forms.DateField(label=_("Held on"), widget=DATE)
    topics = forms.CharField(label=_("Topics"), widget=forms.Textarea(attrs={"rows": 2}))
    concerns = forms.CharField(
        label=_("Concerns"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    suspend_now = forms.BooleanField(
        label=_("Suspend the volunteer now because of these concerns"), required=False
    )

    def perform(self) -> None:
        services.supervision_record(actor=self.user, volunteer=self.volunteer, **self.cleaned_data)


class CommendationForm(_Acting):
    title = forms.CharField(label=_("Commendation"), max_length=200)
    given_on = forms.DateField(label=_("Given on"), widget=DATE)
    given_by = forms.CharField(label=_("Given by"), max_length=200)

    def perform(self) -> None:
        services.commendation_add(actor=self.user, volunteer=self.volunteer, **self.cleaned_data)


class EvaluationForm(_Acting):
    evaluated_on = forms.DateField(label=_("Evaluated on"), widget=DATE)
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        coerce=int,
        choices=_blank([(n, str(n)) for n in range(5, 0, -1)]),
        help_text=_("5 is the best."),
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def perform(self) -> None:
        services.evaluation_add(actor=self.user, volunteer=self.volunteer, **self.cleaned_data)


class CertificateForm(_Acting):
    period_from = forms.DateField(label=_("Service from"), widget=DATE)
    period_to = forms.DateField(label=_("Service until"), widget=DATE)

    def perform(self) -> None:
        hours_service.certificate_issue(
            actor=self.user, volunteer=self.volunteer, **self.cleaned_data
        )


class CheckInForm(_Acting):
    activity = forms.CharField(label=_("Activity"), max_length=200)

    def perform(self) -> None:
        hours_service.check_in(
            actor=self.user, volunteer=self.volunteer, activity=self.cleaned_data["activity"]
        )


class CheckOutForm(_Acting):
    minutes = forms.IntegerField(
        label=_("Minutes of service (without travel)"),
        required=False,
        min_value=1,
        max_value=24 * 60,
        help_text=_("Leave empty when the whole time was service."),
    )

    def perform(self) -> None:
        shift = hours_service.open_shift(self.volunteer)
        if shift is None:
            raise ValidationError({"minutes": [_("The volunteer is not checked in.")]})
        hours_service.check_out(actor=self.user, shift=shift, minutes=self.cleaned_data["minutes"])


class RegisterForm(forms.Form):
    """An application: the volunteer's basic information."""

    organisation = forms.TypedChoiceField(label=_("Organisation"), coerce=int)
    name = forms.CharField(label=_("Name"), max_length=100)
    sex = forms.ChoiceField(
        label=_("Sex"), choices=_blank([("M", _("Male")), ("F", _("Female"))]), required=False
    )
    birth_date = forms.DateField(label=_("Date of birth"), widget=DATE, required=False)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        required=False,
        help_text=_("18 characters; kept sealed."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    home = forms.ChoiceField(label=_("Lives in"), required=False)
    languages = forms.CharField(
        label=_("Languages and dialects"),
        max_length=200,
        required=False,
        help_text=_("Separated by commas, for example: Mandarin, Sichuanese"),
    )
    availability = forms.CharField(
        label=_("Availability"),
        max_length=200,
        required=False,
        help_text=_("Days of the week, for example: Saturday, Sunday or weekday evenings"),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        user: User,
        organisations: list[tuple[int, str]],
        places: list[tuple[str, str]],
    ) -> None:
        super().__init__(data)
        self.user = user
        org_field = self.fields["organisation"]
        assert isinstance(org_field, forms.ChoiceField)
        org_field.choices = organisations
        home_field = self.fields["home"]
        assert isinstance(home_field, forms.ChoiceField)
        home_field.choices = _blank(places)
        self.volunteer: Volunteer | None = None

    def perform(self) -> None:
        d = dict(self.cleaned_data)
        organisation = Organisation.objects.get(pk=d.pop("organisation"))
        home = d.pop("home")
        self.volunteer = services.volunteer_register(
            actor=self.user,
            organisation=organisation,
            home=Place.objects.filter(pk=home).first() if home else None,
            **d,
        )


class ProposeForm(forms.Form):
    """Propose one of the suggested volunteers for the child."""

    volunteer = forms.TypedChoiceField(label=_("Volunteer"), coerce=int)
    purpose = forms.CharField(label=_("What the volunteer will do"), max_length=300)

    def __init__(
        self, data: Any = None, *, user: User, child: Child, volunteers: list[tuple[int, str]]
    ) -> None:
        super().__init__(data)
        self.user, self.child = user, child
        field = self.fields["volunteer"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = volunteers

    def perform(self) -> None:
        volunteer = Volunteer.objects.get(pk=self.cleaned_data["volunteer"])
        matching.match_propose(
            actor=self.user,
            volunteer=volunteer,
            child=self.child,
            purpose=self.cleaned_data["purpose"],
        )


class MatchDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("decline", _("Decline"))],
        widget=forms.RadioSelect,
    )
    consent_by = forms.TypedChoiceField(
        label=_("Guardian who consented"), coerce=int, empty_value=None, required=False
    )
    consent_on = forms.DateField(label=_("Consent given on"), widget=DATE, required=False)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        help_text=_("Required to decline."),
    )

    def __init__(self, data: Any = None, *, user: User, match: Match) -> None:
        super().__init__(data, prefix=f"m{match.pk}")
        self.user, self.match = user, match
        field = self.fields["consent_by"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _blank(
            FamilyMember.objects.filter(
                household_id=match.child.household_id, is_guardian=True
            ).values_list("pk", "name")
        )

    def perform(self) -> None:
        d = self.cleaned_data
        matching.match_decide(
            actor=self.user,
            match=self.match,
            approve=d["decision"] == "approve",
            consent_by=FamilyMember.objects.filter(pk=d["consent_by"]).first()
            if d["consent_by"]
            else None,
            consent_on=d["consent_on"],
            reason=d["reason"],
        )


class MatchEndForm(forms.Form):
    reason = forms.CharField(label=_("Why the match ends"), max_length=300)

    def __init__(self, data: Any = None, *, user: User, match: Match) -> None:
        super().__init__(data, prefix=f"e{match.pk}")
        self.user, self.match = user, match

    def perform(self) -> None:
        matching.match_end(actor=self.user, match=self.match, reason=self.cleaned_data["reason"])


class MatchFilterForm(forms.Form):
    """What the child needs of a volunteer: languages or dialects, and days."""

    languages = forms.CharField(
        label=_("Languages or dialects"),
        max_length=200,
        required=False,
        help_text=_("Separated by commas, for example: Miao"),
    )
    days = forms.MultipleChoiceField(
        label=_("Days"),
        choices=[(d, label) for d, label in matching.DAY_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def wanted(self) -> tuple[list[str], list[str]]:
        d = self.cleaned_data
        return sorted(matching.languages_of(d["languages"])), list(d["days"])
