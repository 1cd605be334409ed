"""Forms of the screening pages that are plain forms (the questionnaires have their own
engine): the home visit, the mandatory report."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from shouhu.accounts.models import User
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock, dates
from shouhu.screening import registry, selectors, services
from shouhu.screening.models import Administration, GroupSession, Trigger, VisitPlace
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


class GroupForm(forms.Form):
    """A group screening: a class (a school of the worker's and a grade) or an activity
    group (the children of a village, of an age range if given). The choices are the
    worker's own (`selectors.group_sources`)."""

    instrument = forms.ChoiceField(label=_("Instrument"))
    source = forms.ChoiceField(
        label=_("Who is screened"),
        choices=[
            ("class", _("A class")),
            ("village", _("An activity group: the children of a village")),
        ],
        widget=forms.RadioSelect,
        initial="class",
        required=False,  # what was filled in says it: a school, else a village
    )
    school = forms.TypedChoiceField(label=_("School"), coerce=int, required=False)
    grade = forms.CharField(
        label=_("Grade"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 七年级")}),
    )
    village = forms.ChoiceField(label=_("Village"), required=False)
    age_min = forms.IntegerField(label=_("Ages from"), min_value=0, max_value=18, required=False)
    age_max = forms.IntegerField(label=_("to"), min_value=0, max_value=18, required=False)
    title = forms.CharField(
        label=_("Group"),
        max_length=200,
        required=False,
        help_text=_("The class or activity; the grade or village if left empty."),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        instruments: list[tuple[str, str]],
        schools: list[tuple[Any, str]],
        villages: list[tuple[Any, str]],
    ) -> None:
        super().__init__(data)
        cast(forms.ChoiceField, self.fields["instrument"]).choices = instruments
        # Nothing to start a group from: the page shows the list only.
        self.offered = bool(instruments) and bool(schools or villages)
        self.has_schools, self.has_villages = bool(schools), bool(villages)
        cast(forms.ChoiceField, self.fields["school"]).choices = [("", "—"), *schools]
        cast(forms.ChoiceField, self.fields["village"]).choices = [("", "—"), *villages]
        if not schools:
            self.fields["source"].initial = "village"
        self.village_names = dict(villages)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("source"):
            data["source"] = (
                "village" if data.get("village") and not data.get("school") else "class"
            )
        if data.get("source") == "class" and not data.get("school"):
            self.add_error("school", _("Choose the school of the class."))
        if data.get("source") == "village" and not data.get("village"):
            self.add_error("village", _("Choose the village of the group."))
        low, high = data.get("age_min"), data.get("age_max")
        if low is not None and high is not None and low > high:
            self.add_error("age_max", _("The upper age is below the lower one."))
        return data

    @classmethod
    def for_user(cls, user: User, data: Any = None) -> GroupForm:
        """The form with the worker's own choices (the page and the API)."""
        sources = selectors.group_sources(user)
        language = "en" if (get_language() or "").startswith("en") else "zh-Hans"
        return cls(
            data,
            instruments=[
                (i.code, i.name.text(language)) for i in registry.enabled() if i.kind == "screening"
            ],
            schools=sources["schools"],
            villages=sources["villages"],
        )

    def perform(self, user: User) -> GroupSession:
        """Gather the group's children and start the group screening (a refusal names the
        field, or the whole form)."""
        d = self.cleaned_data
        by_class = d["source"] == "class"
        children = selectors.group_candidates(
            user,
            kind="screening",
            school_id=d["school"] if by_class else None,
            grade=d["grade"].strip() if by_class else "",
            village="" if by_class else d["village"],
            age_min=None if by_class else d["age_min"],
            age_max=None if by_class else d["age_max"],
        )
        return services.group_create(
            actor=user,
            instrument=d["instrument"],
            title=self.group_title(),
            held_on=clock.today(),
            children=children,
        )

    def group_title(self) -> str:
        d = self.cleaned_data
        if d["title"].strip():
            return str(d["title"]).strip()
        if d["source"] == "class":
            return str(d["grade"]).strip()
        return str(self.village_names.get(d["village"], ""))
