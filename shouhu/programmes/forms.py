"""The forms of the programme pages: start a programme, plan or cancel a session, enrol
participants from the target list. Each form's `perform` calls the service; the service's
refusals come back next to the field (`lib.formerrors.refuse`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouhu import access
from shouhu.accounts.models import Membership, Organisation, User
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock
from shouhu.programmes import outcomes, running
from shouhu.programmes.models import (
    CAREGIVER_KINDS,
    Concern,
    Design,
    Mode,
    Presence,
    Programme,
    ProgrammeSession,
    Project,
    VenueKind,
)
from shouhu.screening.services import get_language_code

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ProgrammeForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organiser"), queryset=Organisation.objects.none()
    )
    design = forms.ModelChoiceField(label=_("Activity or course"), queryset=Design.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_on = forms.DateField(label=_("Starts"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends"), widget=DATE)
    capacity = forms.IntegerField(
        label=_("Places available"),
        min_value=1,
        required=False,
        help_text=_("Leave empty for no limit; when full, the next wait on a list."),
    )
    project = forms.ModelChoiceField(
        label=_("Project"), queryset=Project.objects.none(), required=False
    )
    # A text field shown as a list: a refused code gets the service's own reason, not
    # "not one of the available choices".
    instrument = forms.CharField(
        label=_("Measure before and after with"),
        max_length=40,
        required=False,
        widget=forms.Select,
        help_text=_(
            "Each child takes this screening before the programme and again at its end; the "
            "programme's page compares the two. Each is for the ages shown."
        ),
    )

    def __init__(self, data: Any = None, *, user: User) -> None:
        super().__init__(data, initial={"starts_on": clock.today()})
        language = get_language_code()
        self.fields["instrument"].widget.choices = [
            ("", _("No measurement")),
            *(
                (
                    i.code,
                    _("%(name)s (ages %(low)s to %(high)s)")
                    % {"name": i.name.text(language), "low": i.ages[0], "high": i.ages[1]},
                )
                for i in outcomes.instruments_for_programmes()
            ),
        ]
        self.user = user
        orgs = Membership.objects.filter(
            user=user, active=True, role__in=access.PROGRAMME_ROLES
        ).values("organisation_id")
        organisations = Organisation.objects.filter(pk__in=orgs).order_by("name")
        cast(forms.ModelChoiceField, self.fields["organisation"]).queryset = organisations  # type: ignore[type-arg]
        if len(organisations) == 1:
            self.fields["organisation"].initial = organisations[0].pk
        designs = Design.objects.filter(organisation__isnull=True) | Design.objects.filter(
            organisation__in=organisations
        )
        cast(forms.ModelChoiceField, self.fields["design"]).queryset = designs.order_by(  # type: ignore[type-arg]
            "kind", "id"
        )
        cast(forms.ModelChoiceField, self.fields["project"]).queryset = (  # type: ignore[type-arg]
            access.projects_visible_to(user).order_by("-starts_on")
        )

    def clean(self) -> dict[str, Any]:
        """The period's errors on the first submit, with the others."""
        d = super().clean() or {}
        starts, ends, project = d.get("starts_on"), d.get("ends_on"), d.get("project")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The programme ends before it starts."))
        elif starts and ends and project and (starts < project.starts_on or ends > project.ends_on):
            self.add_error(
                "starts_on",
                _("The programme must lie within the project's period (%(start)s to %(end)s).")
                % {"start": project.starts_on, "end": project.ends_on},
            )
        code, design = (d.get("instrument") or "").strip(), d.get("design")
        if code and design is not None:
            refused = outcomes.instrument_refusal(code, caregivers=design.kind in CAREGIVER_KINDS)
            if refused:
                self.add_error("instrument", refused)
        return d

    def perform(self) -> Programme:
        d = self.cleaned_data
        return running.programme_create(
            actor=self.user,
            organisation=d["organisation"],
            design=d["design"],
            title=d["title"],
            starts_on=d["starts_on"],
            ends_on=d["ends_on"],
            capacity=d["capacity"],
            project=d["project"],
            instrument=d["instrument"],
        )


class SessionForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Starts"), widget=WHEN)
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60, initial=90)
    venue_kind = forms.ChoiceField(label=_("Venue"), choices=VenueKind.choices)
    venue = forms.CharField(label=_("Venue (in words)"), max_length=200, required=False)
    facilitators = forms.ModelMultipleChoiceField(
        label=_("Facilitators"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    speakers = forms.CharField(label=_("External speakers"), max_length=300, required=False)
    quantity = forms.IntegerField(
        label=_("Materials handed out"), min_value=0, initial=0, required=False
    )

    def __init__(self, data: Any = None, *, user: User, programme: Programme) -> None:
        super().__init__(data, prefix="session")
        self.user, self.programme = user, programme
        people = Membership.objects.filter(
            organisation_id=programme.organisation_id, active=True
        ).values("user_id")
        cast(forms.ModelMultipleChoiceField, self.fields["facilitators"]).queryset = (  # type: ignore[type-arg]
            User.objects.filter(pk__in=people, is_active=True).order_by("display_name")
        )

    def perform(self) -> ProgrammeSession:
        d = self.cleaned_data
        starts_at: dt.datetime = d["starts_at"]
        if timezone.is_naive(starts_at):
            starts_at = timezone.make_aware(starts_at, clock.SHANGHAI)
        return running.session_add(
            actor=self.user,
            programme=self.programme,
            starts_at=starts_at,
            minutes=d["minutes"],
            venue_kind=d["venue_kind"],
            venue=d["venue"],
            facilitators=list(d["facilitators"]),
            speakers=d["speakers"],
            quantity=d["quantity"] or 0,
        )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why it is cancelled"), max_length=300)

    def __init__(self, data: Any = None, *, user: User, session: ProgrammeSession) -> None:
        super().__init__(data, prefix=f"cancel-{session.pk}")
        self.user, self.session = user, session

    def perform(self) -> ProgrammeSession:
        return running.session_cancel(
            actor=self.user, session=self.session, reason=self.cleaned_data["reason"]
        )


def _category_choices() -> list[tuple[str, str]]:
    from django.db import models

    from shouhu.lib.categories import CATEGORY_CODES

    out = []
    for code in CATEGORY_CODES:
        field = Child._meta.get_field(f"cat_{code}")
        assert isinstance(field, models.Field)
        out.append((code, str(field.verbose_name)))
    return out


class ChildChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Child) -> str:
        return f"{obj.name}（{obj.residence.name if obj.residence_id else ''}）"


SHOWN = 200


class MemberChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: FamilyMember) -> str:
        return f"{obj.name}（{obj.get_relation_display()}）"


class EnrolForm(forms.Form):
    """Enrol children from the target list: those the organiser reaches in the programme's
    area who are not yet enrolled (the gap), narrowed by category and age."""

    category = forms.ChoiceField(label=_("Category"), required=False)
    age_min = forms.IntegerField(label=_("Ages from"), min_value=0, max_value=18, required=False)
    age_max = forms.IntegerField(label=_("to"), min_value=0, max_value=18, required=False)
    children = ChildChoices(
        label=_("Children not yet enrolled"),
        queryset=Child.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    members = MemberChoices(
        label=_("Caregivers not yet enrolled"),
        queryset=FamilyMember.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(
        self, data: Any = None, *, user: User, programme: Programme, filters: Any = None
    ) -> None:
        super().__init__(data, prefix="enrol")
        self.user, self.programme = user, programme
        from shouhu.lib.categories import CATEGORY_CODES

        cast(forms.ChoiceField, self.fields["category"]).choices = [
            ("", _("Any")),
            *_category_choices(),
        ]
        filters = filters or {}
        gap = access.children_visible_to(user).exclude(enrolments__programme=programme)
        category = filters.get("category") or ""
        if category in CATEGORY_CODES:
            gap = gap.filter(**{f"cat_{category}": True})
        today = clock.today()
        from shouhu.lib import dates

        for key, bound in (("age_min", "lte"), ("age_max", "gt")):
            raw = str(filters.get(key) or "")
            if raw.isdigit() and int(raw) <= 18:
                years = int(raw) if key == "age_min" else int(raw) + 1
                gap = gap.filter(**{f"birth_date__{bound}": dates.add_years(today, -years)})
        gap = gap.select_related("residence").order_by("name_pinyin", "id")
        self.caregivers = programme.design.kind in CAREGIVER_KINDS
        self.shown: list[Child] = []
        if self.caregivers:
            # The caregivers at home of the children in the list (a course for the adults).
            del self.fields["children"]
            cast(MemberChoices, self.fields["members"]).queryset = (
                FamilyMember.objects.filter(household_id__in=gap.values("household_id"), away=False)
                .exclude(enrolments__programme=programme)
                .exclude(capacity__in=["deceased", "missing", "imprisoned", "rehab"])
                .order_by("household_id", "id")
            )
        else:
            del self.fields["members"]
            field = cast(ChildChoices, self.fields["children"])
            field.queryset = gap  # any child of the gap may be posted
            # The page lists the first of the gap (narrow it by category or age); the view
            # logs them as read.
            self.shown = list(gap[:SHOWN])
            field.choices = [(c.pk, field.label_from_instance(c)) for c in self.shown]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = data.get("members") if self.caregivers else data.get("children")
        if not self.errors and not chosen:
            name = "members" if self.caregivers else "children"
            self.add_error(name, _("Choose at least one participant."))
        return data

    def perform(self) -> list[Any]:
        if self.caregivers:
            return [
                running.enrol(actor=self.user, programme=self.programme, member=member)
                for member in self.cleaned_data["members"]
            ]
        return [
            running.enrol(actor=self.user, programme=self.programme, child=child)
            for child in self.cleaned_data["children"]
        ]


class CounsellingForm(forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=8 * 60, initial=50)
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices)
    concern = forms.ChoiceField(label=_("Presenting concern"), choices=Concern.choices)
    notes = forms.CharField(
        label=_("Notes (sensitive: only you and the child's case worker read them)"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)
    project = forms.ModelChoiceField(
        label=_("Project"), queryset=Project.objects.none(), required=False
    )

    def __init__(self, data: Any = None, *, user: User, child: Child) -> None:
        super().__init__(data, initial={"held_on": clock.today()})
        self.user, self.child = user, child
        cast(forms.ModelChoiceField, self.fields["project"]).queryset = (  # type: ignore[type-arg]
            access.projects_visible_to(user).order_by("-starts_on")
        )

    def perform(self) -> Any:
        from shouhu.programmes.counselling import counselling_record

        d = self.cleaned_data
        return counselling_record(
            actor=self.user,
            child=self.child,
            held_on=d["held_on"],
            minutes=d["minutes"],
            mode=d["mode"],
            concern=d["concern"],
            notes=d["notes"],
            next_step=d["next_step"],
            project=d["project"],
        )


class RollCallForm(forms.Form):
    """The roll call: one choice per enrolled participant (`p-<enrolment id>`), present by
    default or what was recorded; saved in one request by `attendance.roll_call`."""

    def __init__(
        self, data: Any = None, *, user: User, session: ProgrammeSession, rows: list[dict[str, Any]]
    ) -> None:
        super().__init__(data)
        self.user, self.session = user, session
        self.order: list[int] = []
        for row in rows:
            pk = row["enrolment"].pk
            self.order.append(pk)
            self.fields[f"p-{pk}"] = forms.ChoiceField(
                label=row["name"],
                choices=Presence.choices,
                initial=row["status"],
                widget=forms.RadioSelect,
            )

    def perform(self) -> Any:
        from shouhu.programmes.attendance import roll_call

        marks = [{"participant": pk, "status": self.cleaned_data[f"p-{pk}"]} for pk in self.order]
        try:
            return roll_call(actor=self.user, session=self.session, rows=marks)
        except ValidationError as exc:
            # The service names rows by their place in the list: put each on its participant.
            if hasattr(exc, "error_dict"):
                raise ValidationError(
                    {
                        _row_field(name, self.order): errors
                        for name, errors in exc.error_dict.items()
                    }
                ) from None
            raise


def _row_field(name: str, order: list[int]) -> str:
    parts = name.split(".")
    if len(parts) == 3 and parts[0] == "rows" and parts[1].isdigit() and int(parts[1]) < len(order):
        return f"p-{order[int(parts[1])]}"
    return "__all__"


class WalkInForm(forms.Form):
    """A walk-in chosen from the roll call's search: `c<child id>` or `m<member id>`, among
    the children (or their caregivers at home) the user reaches."""

    participant = forms.RegexField(
        regex=r"^[cm][0-9]{1,18}$",
        max_length=20,
        error_messages={
            "invalid": _("Choose someone from the list."),
            "required": _("Choose someone from the list."),
        },
    )

    def __init__(self, data: Any = None, *, user: User, session: ProgrammeSession) -> None:
        super().__init__(data)
        self.user, self.session = user, session

    def clean_participant(self) -> Child | FamilyMember:
        key: str = self.cleaned_data["participant"]
        reached = access.children_visible_to(self.user)
        found: Child | FamilyMember | None
        if key[0] == "c":
            found = reached.filter(pk=int(key[1:])).first()
        else:
            found = FamilyMember.objects.filter(
                pk=int(key[1:]), household_id__in=reached.values("household_id")
            ).first()
        if found is None:
            raise ValidationError(_("Choose someone from the list."))
        return found

    def perform(self) -> Any:
        person = self.cleaned_data["participant"]
        return running.walk_in(
            actor=self.user,
            session=self.session,
            child=person if isinstance(person, Child) else None,
            member=person if isinstance(person, FamilyMember) else None,
        )
