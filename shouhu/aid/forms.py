"""One form per action of the aid pages (STYLE 15): each collects what was typed and hands
it to the one service that decides (`aid.services`, also called by the API), so that its
refusals land next to the field they name (`lib.formerrors.saved`).

Amounts are text fields: `services.money` reads them as Decimal yuan (never a float) and
says what is wrong with them in words. The forms of the application page carry a prefix
so that their fields have distinct ids on the one page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.aid import selectors, services
from shouhu.aid.models import (
    AidKind,
    Application,
    Disbursement,
    FollowUp,
    Method,
    Pledge,
    PledgeForm,
    Recurrence,
    Scheme,
    Sponsor,
    SponsorKind,
)
from shouhu.children.models import Child
from shouhu.lib import clock, money

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT = 4000


def _label(model: Any, field: str) -> Any:
    """A field's label is its model field's (one name, one translation, everywhere)."""
    return capfirst(model._meta.get_field(field).verbose_name)


def _amount(label: Any, *, required: bool = False, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=20,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def _text(label: Any, *, required: bool = True, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=TEXT, widget=forms.Textarea(attrs={"rows": rows})
    )


class _OrganisationChoice(forms.Form):
    """A form that names one of the organisations whose aid the person manages (chosen
    for them when there is one)."""

    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none(), empty_label=None
    )

    def __init__(self, data: Any = None, *, user: User) -> None:
        super().__init__(data)
        self.user = user
        field = self.fields["organisation"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Organisation.objects.filter(
            pk__in=access.aid_organisations(user)
        ).order_by("name")


class SponsorForm(_OrganisationChoice):
    kind = forms.ChoiceField(label=_label(Sponsor, "kind"), choices=SponsorKind.choices)
    name = forms.CharField(label=_label(Sponsor, "name"), max_length=200)
    contact = forms.CharField(
        label=_label(Sponsor, "contact"),
        max_length=200,
        required=False,
        help_text=_("Who to speak to, and how (not shown to anyone outside the organisation)."),
    )

    def perform(self) -> Sponsor:
        d = self.cleaned_data
        self.saved = services.sponsor_create(
            actor=self.user,
            organisation=d["organisation"],
            kind=d["kind"],
            name=d["name"],
            contact=d["contact"],
        )
        return self.saved


class PledgeAddForm(forms.Form):
    """Money (an amount) or goods (the items), once or every period, to one of the
    organisation's schemes or to its aid in general."""

    # Named as the service names it, so that its refusals land here.
    form = forms.ChoiceField(
        label=_label(Pledge, "form"), choices=PledgeForm.choices, widget=forms.RadioSelect
    )
    amount = _amount(_label(Pledge, "amount"), help_text=_("For money, such as 5000.00."))
    items = _text(_label(Pledge, "items"), required=False, rows=2)
    recurrence = forms.ChoiceField(
        label=_label(Pledge, "recurrence"), choices=Recurrence.choices, initial=Recurrence.ONCE
    )
    scheme = forms.ModelChoiceField(
        label=_label(Pledge, "scheme"),
        queryset=Scheme.objects.none(),
        required=False,
        empty_label=_("Any of the organisation's aid"),
    )
    pledged_on = forms.DateField(label=_label(Pledge, "pledged_on"), required=False, widget=DATE)

    def __init__(self, data: Any = None, *, user: User, sponsor: Sponsor) -> None:
        super().__init__(data, initial={"pledged_on": clock.today()})
        self.user, self.sponsor = user, sponsor
        field = self.fields["scheme"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Scheme.objects.filter(organisation_id=sponsor.organisation_id)

    def perform(self) -> None:
        d = self.cleaned_data
        services.pledge_add(
            actor=self.user,
            sponsor=self.sponsor,
            form=d["form"],
            amount=d["amount"] or None,
            items=d["items"],
            recurrence=d["recurrence"],
            scheme=d["scheme"],
            pledged_on=d["pledged_on"],
        )


class SchemeForm(_OrganisationChoice):
    name = forms.CharField(label=_label(Scheme, "name"), max_length=200)
    kind = forms.ChoiceField(label=_label(Scheme, "kind"), choices=AidKind.choices)
    amount = _amount(_label(Scheme, "amount"), required=True, help_text=_("Such as 1200.00."))
    starts_on = forms.DateField(label=_label(Scheme, "starts_on"), widget=DATE)
    ends_on = forms.DateField(label=_label(Scheme, "ends_on"), widget=DATE)
    criteria = _text(_label(Scheme, "criteria"), required=False)

    def perform(self) -> Scheme:
        d = self.cleaned_data
        self.saved = services.scheme_create(
            actor=self.user,
            organisation=d["organisation"],
            name=d["name"],
            kind=d["kind"],
            amount=d["amount"],
            starts_on=d["starts_on"],
            ends_on=d["ends_on"],
            criteria=d["criteria"],
        )
        return self.saved


class _SchemeChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.organisation.name} · {money.yuan(obj.amount)}"


class ApplicationForm(forms.Form):
    """A worker who sees the child applies for it to a scheme whose period is not over."""

    scheme = _SchemeChoice(
        label=_label(Application, "scheme"),
        queryset=Scheme.objects.none(),
        empty_label=_("Choose a scheme"),
    )
    reason = _text(_label(Application, "reason"), rows=4)

    def __init__(self, data: Any = None, *, user: User, child: Child) -> None:
        super().__init__(data)
        self.user, self.child = user, child
        field = self.fields["scheme"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = selectors.schemes_open_to_applications(clock.today())

    def perform(self) -> Application:
        d = self.cleaned_data
        self.saved = services.application_submit(
            actor=self.user, scheme=d["scheme"], child=self.child, reason=d["reason"]
        )
        return self.saved


class ApplicationAction(forms.Form):
    success: Any = ""

    def __init__(self, data: Any = None, *, user: User, application: Application) -> None:
        super().__init__(data, prefix=self.prefix)
        self.user, self.application = user, application


class DecisionForm(ApplicationAction):
    """Approve with an amount (the scheme's when left empty) or decline, with the reason."""

    prefix = "decision"
    success = _("Saved: the application is decided.")
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("decline", _("Decline"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Approve or decline."),
            "invalid_choice": _("Approve or decline."),
        },
    )
    amount = _amount(
        _label(Application, "approved_amount"),
        help_text=_("When approving; empty: the scheme's amount per child."),
    )
    note = _text(_label(Application, "decision_note"))

    def perform(self) -> None:
        d = self.cleaned_data
        services.application_decide(
            actor=self.user,
            application=self.application,
            approve=d["decision"] == "approve",
            note=d["note"],
            amount=d["amount"] or None,
        )


class DisbursementForm(ApplicationAction):
    """A payment, or goods handed over, under the approved application."""

    prefix = "payment"
    success = _("Saved: the payment is recorded.")
    paid_on = forms.DateField(label=_label(Disbursement, "paid_on"), widget=DATE)
    method = forms.ChoiceField(label=_label(Disbursement, "method"), choices=Method.choices)
    amount = _amount(
        _label(Disbursement, "amount"), help_text=_("Such as 600.00; empty for goods only.")
    )
    items = _text(_label(Disbursement, "items"), required=False, rows=2)
    receipt_ref = forms.CharField(
        label=_label(Disbursement, "receipt_ref"), max_length=100, required=False
    )

    def __init__(self, data: Any = None, *, user: User, application: Application) -> None:
        super().__init__(data, user=user, application=application)
        self.initial["paid_on"] = clock.today()

    def perform(self) -> None:
        d = self.cleaned_data
        paid_on: dt.date = d["paid_on"]
        services.disbursement_add(
            actor=self.user,
            application=self.application,
            paid_on=paid_on,
            method=d["method"],
            amount=d["amount"] or None,
            items=d["items"],
            receipt_ref=d["receipt_ref"],
        )


class FollowUpForm(ApplicationAction):
    """What came of the aid, and optionally an anonymised story for the sponsors."""

    prefix = "followup"
    success = _("Saved: the follow-up is recorded.")
    on = forms.DateField(label=_label(FollowUp, "on"), widget=DATE)
    note = _text(_label(FollowUp, "note"))
    story = _text(_label(FollowUp, "story"), required=False)

    def __init__(self, data: Any = None, *, user: User, application: Application) -> None:
        super().__init__(data, user=user, application=application)
        self.initial["on"] = clock.today()
        self.fields["story"].help_text = _(
            "Anonymised: never the child's name, school, village or photo. The sponsors read "
            "it once another manager approves it."
        )

    def perform(self) -> None:
        d = self.cleaned_data
        services.followup_add(
            actor=self.user,
            application=self.application,
            on=d["on"],
            note=d["note"],
            story=d["story"],
        )


class StoryApprovalForm(forms.Form):
    """Let the sponsors read a follow-up's story (no field: the button is the action)."""

    prefix = "story"
    success = _("Saved: the sponsors may read the story.")

    def __init__(self, data: Any = None, *, user: User, followup: FollowUp) -> None:
        super().__init__(data, prefix=self.prefix)
        self.user, self.followup = user, followup

    def perform(self) -> None:
        services.story_approve(actor=self.user, followup=self.followup)


class ReportPeriodForm(forms.Form):
    """The period of a sponsor's report (the payments and stories dated in it)."""

    first = forms.DateField(label=_("From"), widget=DATE)
    last = forms.DateField(label=_("To"), widget=DATE)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if d.get("first") and d.get("last") and d["last"] < d["first"]:
            self.add_error("last", _("The span ends before it starts."))
        return d
