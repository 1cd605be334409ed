"""Forms of the screening pages that are plain forms (the questionnaires have their own
engine): the home visit, the mandatory report."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock, dates
from shouhu.screening.models import Administration, Trigger, VisitPlace
from shouhu.screening.visits import assessments_to_link, members_to_meet

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MemberChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: FamilyMember) -> str:
        return f"{obj.get_relation_display()} {obj.name}"


class AssessmentChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Administration) -> str:
        when = obj.administered_at.astimezone(dates.SHANGHAI)
        return str(_("Needs assessment of %(when)s") % {"when": f"{when:%Y-%m-%d %H:%M}"})


class HomeVisitForm(forms.Form):
    visited_on = forms.DateField(label=_("Date of the visit"), widget=DATE)
    place = forms.ChoiceField(
        label=_("Where the visit took place"), choices=VisitPlace.choices, initial="home"
    )
    place_note = forms.CharField(label=_("Where exactly"), max_length=200, required=False)
    child_seen = forms.BooleanField(label=_("The child was seen"), required=False, initial=True)
    met = MemberChoices(
        label=_("Family members met"),
        queryset=FamilyMember.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    others_met = forms.CharField(
        label=_("Others met (neighbours, teacher...)"), max_length=200, required=False
    )
    notes = forms.CharField(
        label=_("What was seen and heard"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Stored encrypted; read only by those who see the child's sensitive fields."),
    )
    actions = forms.CharField(
        label=_("Actions agreed"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    next_visit_on = forms.DateField(label=_("Next visit"), required=False, widget=DATE)
    assessment = AssessmentChoice(
        label=_("Needs assessment made on this visit"),
        queryset=Administration.objects.none(),
        required=False,
        empty_label=_("(none)"),
    )

    def __init__(self, data: Any = None, *, child: Child) -> None:
        linkable = assessments_to_link(child)
        super().__init__(
            data,
            initial={
                "visited_on": clock.today(),
                "assessment": linkable[0].pk if linkable else None,
            },
        )
        members = members_to_meet(child)
        cast(MemberChoices, self.fields["met"]).queryset = FamilyMember.objects.filter(
            pk__in=[m.pk for m in members]
        )
        cast(AssessmentChoice, self.fields["assessment"]).queryset = Administration.objects.filter(
            pk__in=[a.pk for a in linkable]
        )


class ReportForm(forms.Form):
    """A mandatory report (强制报告) opened from the child's page."""

    triggers = forms.MultipleChoiceField(
        label=_("Situation"),
        choices=Trigger.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one situation.")},
    )
    description = forms.CharField(
        label=_("What was disclosed or found"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    suspected = MemberChoices(
        label=_("Family members suspected of the harm (they will not be told)"),
        queryset=FamilyMember.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, data: Any = None, *, child: Child) -> None:
        super().__init__(data)
        cast(MemberChoices, self.fields["suspected"]).queryset = child.household.members.all()


class ReportCompleteForm(forms.Form):
    """Completing a report: when the police were told, which unit, its reference."""

    police_told_at = forms.DateTimeField(
        label=_("When the police were told"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={"required": _("When were the police told?")},
    )
    receiving_unit = forms.CharField(
        label=_("Receiving police unit"),
        max_length=200,
        error_messages={"required": _("Which police unit received the report?")},
    )
    police_reference = forms.CharField(
        label=_("Police reference"),
        max_length=100,
        error_messages={"required": _("Give the reference the police gave.")},
    )
