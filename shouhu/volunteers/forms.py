"""Forms of the volunteer pages: they collect, the services decide (`lib.formerrors`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shouhu.accounts.models import User
from shouhu.lib.clock import SHANGHAI
from shouhu.volunteers import hours as hours_service
from shouhu.volunteers.models import Hours, Volunteer


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
