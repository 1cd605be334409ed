"""The forms of the project pages: plan and accept a stage (阶段验收), add an organisation's
own activity design, and choose how the figures are broken down."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from shouhu import access
from shouhu.accounts.models import Membership, Organisation, User
from shouhu.lib import clock
from shouhu.programmes import projects, selectors
from shouhu.programmes.models import Design, Kind, Milestone, Project
from shouhu.programmes.served import month_of

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Stage"), max_length=200)
    due_on = forms.DateField(label=_("Due"), widget=DATE)

    def __init__(self, data: Any = None, *, user: User, project: Project) -> None:
        super().__init__(data, prefix="stage")
        self.user, self.project = user, project

    def perform(self) -> Milestone:
        d = self.cleaned_data
        return projects.milestone_add(
            actor=self.user, project=self.project, title=d["title"], due_on=d["due_on"]
        )


class AcceptForm(forms.Form):
    accepted_on = forms.DateField(label=_("Accepted on"), widget=DATE)
    note = forms.CharField(
        label=_("Acceptance note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was checked (records, visits, materials) and what was found."),
    )

    def __init__(self, data: Any = None, *, user: User, milestone: Milestone) -> None:
        super().__init__(
            data, prefix=f"accept-{milestone.pk}", initial={"accepted_on": clock.today()}
        )
        self.user, self.milestone = user, milestone

    def perform(self) -> Milestone:
        d = self.cleaned_data
        return projects.milestone_accept(
            actor=self.user, milestone=self.milestone, accepted_on=d["accepted_on"], note=d["note"]
        )


class DesignForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    hours_min = forms.IntegerField(
        label=_("Class hours (from)"), min_value=1, max_value=200, initial=1
    )
    hours_max = forms.IntegerField(
        label=_("Class hours (to)"), min_value=1, max_value=200, initial=1
    )
    content = forms.CharField(
        label=_("Content"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, data: Any = None, *, user: User) -> None:
        super().__init__(data, prefix="design")
        self.user = user
        orgs = Membership.objects.filter(
            user=user, active=True, role__in=access.PROGRAMME_ROLES
        ).values("organisation_id")
        field = cast(forms.ModelChoiceField, self.fields["organisation"])  # type: ignore[type-arg]
        field.queryset = Organisation.objects.filter(pk__in=orgs).order_by("name")
        if field.queryset.count() == 1:
            field.initial = field.queryset.first()

    def perform(self) -> Design:
        d = self.cleaned_data
        return projects.design_add(
            actor=self.user,
            organisation=d["organisation"],
            kind=d["kind"],
            name=d["name"],
            hours_min=d["hours_min"],
            hours_max=d["hours_max"],
            content=d["content"],
        )


class FiguresForm(forms.Form):
    """How the project page breaks the figures down: by what, over which months."""

    by = forms.ChoiceField(
        label=_("Break down by"),
        choices=[(k, v) for k, v in selectors.BREAKDOWN_NAMES.items()],
        required=False,
    )
    first = forms.DateField(
        label=_("First month"), widget=MONTH, input_formats=["%Y-%m"], required=False
    )
    last = forms.DateField(
        label=_("Last month"), widget=MONTH, input_formats=["%Y-%m"], required=False
    )

    def __init__(self, data: Any = None, *, project: Project) -> None:
        super().__init__(data)
        self.project = project

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        first: dt.date | None = d.get("first")
        last: dt.date | None = d.get("last")
        start, end = month_of(self.project.starts_on), month_of(self.project.ends_on)
        for name, value in (("first", first), ("last", last)):
            if value is not None and not start <= month_of(value) <= end:
                self.add_error(
                    name,
                    _("The project runs from %(first)s to %(last)s.")
                    % {"first": f"{start:%Y-%m}", "last": f"{end:%Y-%m}"},
                )
        if first and last and first > last:
            self.add_error("last", _("The last month comes before the first."))
        return d

    def choice(self) -> tuple[str, dt.date | None, dt.date | None]:
        if not self.is_valid():
            return "month", None, None
        d = self.cleaned_data
        return d.get("by") or "month", d.get("first"), d.get("last")
