"""One form per action on a case (issue 11 §2). Each form knows the case and the person,
offers only the choices that make sense for them (the members of the case, the
organisations that take cases, the resources of the child's county), and `perform()`
hands the cleaned values to the one service function that decides. The API endpoints call
the same service functions with their input schemas (`shouhu/api/cases.py`).

Every form carries a `prefix` so that the many forms of the case page have distinct field
ids (the error summary links to them), and a `success` message said after it saved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.cases import (
    delivery,
    followups,
    intakes,
    members,
    notes,
    plan,
    referrals,
    selectors,
    stages,
)
from shouhu.cases.models import (
    Approval,
    Case,
    CaseRole,
    Channel,
    Domain,
    ExternalReferral,
    Goal,
    GoalStatus,
    Intake,
    Outcome,
    Owner,
    PlanAction,
    ReferralOutcome,
    Resource,
    ServiceType,
    Stage,
    TransferKind,
    Urgency,
)
from shouhu.lib import clock
from shouhu.lib.formerrors import refuse
from shouhu.places.models import code_range
from shouhu.tasks.models import CASE_KINDS, Task

TEXT = 5000
SHORT = 2000


def organisations_for(case: Case) -> Any:
    """Organisations that take cases, other than the case's own, by name; those where the
    child's linked record lives (`linkage`: a hand-over across counties) first."""
    from django.db.models import Case as When_
    from django.db.models import IntegerField, Value, When

    from shouhu.linkage.selectors import other_side_organisations

    there: list[int] | None = getattr(case, "_other_side_organisations", None)
    if there is None:  # asked by several forms of one page: read once
        there = other_side_organisations(case.child)
        case._other_side_organisations = there  # type: ignore[attr-defined]
    found = Organisation.objects.filter(active=True, kind__in=list(access.CASE_ORG_KINDS)).exclude(
        pk=case.organisation_id
    )
    if not there:  # (a CASE of no WHEN is a constant, which PostgreSQL reads as a position)
        return found.order_by("name")
    rank = When_(
        *[When(pk=pk, then=Value(i)) for i, pk in enumerate(there)],
        default=Value(len(there)),
        output_field=IntegerField(),
    )
    return found.annotate(there=rank).order_by("there", "name")


def resources_for(case: Case) -> Any:
    """The resources of the child's county."""
    county = code_range(case.child.residence_id[:6])
    return Resource.objects.filter(place_id__gte=county[0], place_id__lte=county[1]).order_by(
        "name"
    )


def _person(user: User) -> str:
    return str(user)  # the display name (and role), never the login name


class CaseActionForm(forms.Form):
    """A change to one case. Subclasses set `action` (the prefix and the address), the
    `success` message, and implement `perform()`."""

    action: ClassVar[str]
    # Each action's own: hand the cleaned values to the one service function that decides.
    perform: Callable[[], Any]
    success: ClassVar[str | Promise] = _("Saved.")
    versioned: ClassVar[bool] = False

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def __init__(
        self, data: Any = None, *, case: Case, user: User, prefix: str | None = None
    ) -> None:
        super().__init__(data, prefix=prefix or self.action)
        self.case, self.user = case, user
        if self.versioned:
            self.fields["version"].initial = case.version
        else:
            del self.fields["version"]

    def model_field(self, name: str) -> forms.ModelChoiceField:  # type: ignore[type-arg]
        return cast(forms.ModelChoiceField, self.fields[name])  # type: ignore[type-arg]

    def choice_field(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    @property
    def version_read(self) -> int:
        """The version of the case the form was read at (0: none given, which is stale)."""
        return int(self.cleaned_data.get("version") or 0)

    def refuse(self, exc: ValidationError) -> None:
        refuse(self, exc)


# ---------------------------------------------------------------- stage


class MoveForm(CaseActionForm):
    action = "move"
    success = _("Saved: the case moved on.")
    versioned = True
    to = forms.ChoiceField(label=_("Next stage"), choices=Stage.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=TEXT)

    def perform(self) -> Case:
        return stages.transition(
            actor=self.user,
            case=self.case,
            to=self.cleaned_data["to"],
            version=self.version_read,
            note=self.cleaned_data["note"],
        )


class CloseForm(CaseActionForm):
    action = "close"
    success = _("Saved: the case is closed, or waits for the approver.")
    versioned = True
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    reason = forms.CharField(
        label=_("Why the case closes"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )

    def perform(self) -> Case:
        return stages.close(
            actor=self.user,
            case=self.case,
            version=self.version_read,
            outcome=self.cleaned_data["outcome"],
            reason=self.cleaned_data["reason"],
        )


class ReopenForm(CaseActionForm):
    action = "reopen"
    success = _("Saved: the case is open again.")
    versioned = True
    reason = forms.CharField(label=_("Why it reopens"), max_length=TEXT)

    def perform(self) -> Case:
        return stages.reopen(
            actor=self.user,
            case=self.case,
            version=self.version_read,
            reason=self.cleaned_data["reason"],
        )


class ApprovalForm(CaseActionForm):
    action = "approval"
    success = _("Saved: your decision is recorded and the worker is told.")
    approval = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve")), ("0", _("Send back"))],
        coerce=lambda v: v == "1",
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=_("Note (needed to send back)"),
        required=False,
        max_length=TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_approval(self) -> Approval:
        found = Approval.objects.filter(
            case=self.case, pk=self.cleaned_data["approval"], decided_at__isnull=True
        ).first()
        if found is None:
            raise ValidationError(_("This approval has already been decided."))
        return found

    def perform(self) -> Case:
        return stages.approval_decide(
            actor=self.user,
            approval=self.cleaned_data["approval"],
            approve=self.cleaned_data["approve"],
            note=self.cleaned_data["note"],
        )


# ---------------------------------------------------------------- plan


class GoalForm(CaseActionForm):
    action = "goal"
    success = _("Saved: the goal is in the plan.")
    versioned = True
    domain = forms.ChoiceField(label=_("Area"), choices=Domain.choices)
    description = forms.CharField(label=_("Goal"), max_length=SHORT)
    strengths = forms.CharField(label=_("Strengths to build on"), required=False, max_length=SHORT)

    def perform(self) -> Goal:
        return plan.goal_add(
            actor=self.user,
            case=self.case,
            version=self.version_read,
            domain=self.cleaned_data["domain"],
            description=self.cleaned_data["description"],
            strengths=self.cleaned_data["strengths"],
        )


class PlanActionForm(CaseActionForm):
    """An action under one goal (the goal is in the address; the prefix names it, so that
    each goal's form has its own field ids)."""

    action = "plan-action"
    success = _("Saved: the action is in the plan.")
    versioned = True
    description = forms.CharField(label=_("Action to take"), max_length=SHORT)
    owner = forms.ChoiceField(label=_("Carried by"), choices=Owner.choices)
    due_on = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    assignee = forms.TypedChoiceField(
        label=_("Person responsible"), required=False, coerce=int, empty_value=None
    )
    organisation = forms.TypedChoiceField(
        label=_("Organisation responsible"), required=False, coerce=int, empty_value=None
    )

    def __init__(
        self,
        data: Any = None,
        *,
        case: Case,
        user: User,
        goal: Goal,
        choices: PlanChoices | None = None,
    ) -> None:
        super().__init__(data, case=case, user=user, prefix=f"action-{goal.pk}")
        self.goal = goal
        choices = choices or PlanChoices.of(case)
        self.choice_field("assignee").choices = [("", _("(none)")), *choices.members]
        self.choice_field("organisation").choices = [("", _("(none)")), *choices.organisations]

    def perform(self) -> PlanAction:
        wanted, org = self.cleaned_data["assignee"], self.cleaned_data["organisation"]
        return plan.action_add(
            actor=self.user,
            goal=self.goal,
            version=self.version_read,
            description=self.cleaned_data["description"],
            owner=self.cleaned_data["owner"],
            due_on=self.cleaned_data["due_on"],
            assignee=User.objects.filter(pk=wanted).first() if wanted else None,
            organisation=Organisation.objects.filter(pk=org, active=True).first() if org else None,
        )


@dataclass(frozen=True)
class PlanChoices:
    """The people and organisations an action can be given to, read once for every goal's
    form on the page."""

    members: list[tuple[int, str]]
    organisations: list[tuple[int, str]]

    @classmethod
    def of(cls, case: Case) -> PlanChoices:
        members = [
            (m.user_id, _person(m.user))
            for m in case.members.filter(active=True).select_related("user")
        ]
        own = [(case.organisation_id, case.organisation.name)]
        others = [(o.pk, o.name) for o in organisations_for(case)[:300]]
        return cls(members=members, organisations=own + others)


class ActionDoneForm(CaseActionForm):
    action = "action-done"
    success = _("Saved: the action is done.")
    versioned = True

    def __init__(self, data: Any = None, *, case: Case, user: User, plan_action: PlanAction):
        super().__init__(data, case=case, user=user, prefix=f"done-{plan_action.pk}")
        self.plan_action = plan_action

    def perform(self) -> PlanAction:
        return plan.action_update(
            actor=self.user, action=self.plan_action, version=self.version_read, status="done"
        )


class ReviewForm(CaseActionForm):
    """The review against every goal of the plan: a status and what was seen, per goal."""

    action = "review"
    success = _("Saved: the review is recorded.")
    versioned = True

    def __init__(self, data: Any = None, *, case: Case, user: User) -> None:
        super().__init__(data, case=case, user=user)
        self.goals = list(case.goals.order_by("pk"))
        for goal in self.goals:
            self.fields[f"status_{goal.pk}"] = forms.ChoiceField(
                label=_("Status"), choices=GoalStatus.choices, initial=goal.status
            )
            self.fields[f"note_{goal.pk}"] = forms.CharField(
                label=_("What was seen"),
                required=False,
                max_length=TEXT,
                initial=goal.review_note,
            )

    def rows(self) -> list[tuple[Goal, forms.BoundField, forms.BoundField]]:
        return [(g, self[f"status_{g.pk}"], self[f"note_{g.pk}"]) for g in self.goals]

    def perform(self) -> Case:
        return plan.review_record(
            actor=self.user,
            case=self.case,
            version=self.version_read,
            reviews=[
                plan.GoalReview(
                    goal=g.pk,
                    status=self.cleaned_data[f"status_{g.pk}"],
                    note=self.cleaned_data[f"note_{g.pk}"],
                )
                for g in self.goals
            ],
        )


# ---------------------------------------------------------------- services and follow-ups


class ServiceTypeField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: ServiceType) -> str:
        return obj.label()


class ServiceForm(CaseActionForm):
    action = "service"
    success = _("Saved: the service is recorded.")
    versioned = True
    service_type = ServiceTypeField(
        label=_("Service"), queryset=ServiceType.objects.none(), to_field_name="code"
    )
    delivered_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60, initial=60)
    participants = forms.IntegerField(
        label=_("Participants"), min_value=1, max_value=1000, initial=1
    )
    provider = forms.ModelChoiceField(
        label=_("Provider"), queryset=Organisation.objects.none(), empty_label=None
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=TEXT)

    def __init__(self, data: Any = None, *, case: Case, user: User) -> None:
        super().__init__(data, case=case, user=user)
        self.model_field("service_type").queryset = ServiceType.objects.filter(active=True)
        self.fields["delivered_on"].initial = clock.today()
        self.model_field("provider").queryset = Organisation.objects.filter(
            pk__in=[
                case.organisation_id,
                *organisations_for(case).values_list("pk", flat=True)[:300],
            ]
        )
        self.fields["provider"].initial = case.organisation_id

    def perform(self) -> Any:
        return delivery.service_record(
            actor=self.user,
            case=self.case,
            service_type=self.cleaned_data["service_type"].code,
            delivered_on=self.cleaned_data["delivered_on"],
            minutes=self.cleaned_data["minutes"],
            participants=self.cleaned_data["participants"],
            provider=self.cleaned_data["provider"],
            note=self.cleaned_data["note"],
        )


class TaskForm(CaseActionForm):
    action = "task"
    success = _("Saved: the follow-up is on the worklist.")
    kind = forms.ChoiceField(label=_("Kind"), choices=[(k.value, k.label) for k in CASE_KINDS])
    title = forms.CharField(label=_("What"), max_length=200)
    due_on = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    recurring = forms.BooleanField(label=_("Recurring"), required=False)

    def perform(self) -> Task:
        return followups.task_add(
            actor=self.user,
            case=self.case,
            kind=self.cleaned_data["kind"],
            title=self.cleaned_data["title"],
            due_on=self.cleaned_data["due_on"],
            recurring=self.cleaned_data["recurring"],
        )


class TaskDoneForm(CaseActionForm):
    action = "task-done"
    success = _("Saved: the follow-up is done.")
    note = forms.CharField(
        label=_("What was done"),
        required=False,
        max_length=TEXT,
        widget=forms.TextInput(attrs={"placeholder": _("What was done (optional)")}),
    )

    def __init__(self, data: Any = None, *, case: Case, user: User, task: Task) -> None:
        super().__init__(data, case=case, user=user, prefix=f"task-{task.pk}")
        self.task = task

    def perform(self) -> Task | None:
        return followups.task_done(actor=self.user, task=self.task, note=self.cleaned_data["note"])


class NoteForm(CaseActionForm):
    action = "note"
    success = _("Saved: the note is on the case.")
    text = forms.CharField(
        label=_("Note"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def perform(self) -> Any:
        return notes.note_add(actor=self.user, case=self.case, text=self.cleaned_data["text"])


# ---------------------------------------------------------------- people


class MemberForm(CaseActionForm):
    action = "member"
    success = _("Saved: the person is on the case and can open it.")
    person = forms.TypedChoiceField(
        label=_("Person"),
        coerce=int,
        error_messages={"invalid_choice": _("Choose a person from the list.")},
    )
    role = forms.ChoiceField(label=_("Role on the case"), choices=CaseRole.choices)

    def __init__(self, data: Any = None, *, case: Case, user: User) -> None:
        super().__init__(data, case=case, user=user)
        on_case = set(case.members.filter(active=True).values_list("user_id", flat=True))
        self.candidates = {
            u.pk: u for u in selectors.member_candidates(case) if u.pk not in on_case
        }
        self.choice_field("person").choices = [
            (pk, _person(u)) for pk, u in list(self.candidates.items())[:300]
        ]

    def perform(self) -> Any:
        return members.member_add(
            actor=self.user,
            case=self.case,
            user=self.candidates[self.cleaned_data["person"]],
            role=self.cleaned_data["role"],
        )


class MemberRemoveForm(CaseActionForm):
    action = "member-remove"
    success = _("Saved: the person is off the case.")

    def __init__(self, data: Any = None, *, case: Case, user: User, person: User) -> None:
        super().__init__(data, case=case, user=user, prefix=f"remove-{person.pk}")
        self.person = person

    def perform(self) -> Any:
        return members.member_remove(actor=self.user, case=self.case, user=self.person)


# ---------------------------------------------------------------- network


class ConferenceForm(CaseActionForm):
    action = "conference"
    success = _("Saved: the conference is recorded.")
    held_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations"), queryset=Organisation.objects.none()
    )
    participants = forms.TypedMultipleChoiceField(
        label=_("Participants"), coerce=int, required=False
    )
    decisions = forms.CharField(
        label=_("Decisions"), max_length=TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data: Any = None, *, case: Case, user: User) -> None:
        super().__init__(data, case=case, user=user)
        self.fields["held_on"].initial = clock.today()
        self.model_field("organisations").queryset = Organisation.objects.filter(
            pk__in=[
                case.organisation_id,
                *organisations_for(case).values_list("pk", flat=True)[:300],
            ]
        )
        self.fields["organisations"].initial = [case.organisation_id]
        people = {
            m.user_id: m.user for m in case.members.filter(active=True).select_related("user")
        }
        for u in selectors.member_candidates(case):
            people.setdefault(u.pk, u)
        self.people = people
        self.choice_field("participants").choices = [
            (pk, _person(u)) for pk, u in list(people.items())[:300]
        ]

    def perform(self) -> Any:
        return notes.conference_add(
            actor=self.user,
            case=self.case,
            held_on=self.cleaned_data["held_on"],
            organisations=list(self.cleaned_data["organisations"]),
            decisions=self.cleaned_data["decisions"],
            participants=[self.people[pk] for pk in self.cleaned_data["participants"]],
        )


class ExternalReferralForm(CaseActionForm):
    action = "external"
    success = _("Saved: the referral to the resource is recorded.")
    resource = forms.ModelChoiceField(label=_("Resource"), queryset=Resource.objects.none())
    reason = forms.CharField(label=_("Why"), max_length=TEXT)

    def __init__(self, data: Any = None, *, case: Case, user: User) -> None:
        super().__init__(data, case=case, user=user)
        self.model_field("resource").queryset = resources_for(case)

    def perform(self) -> ExternalReferral:
        return referrals.external_referral(
            actor=self.user,
            case=self.case,
            resource=self.cleaned_data["resource"],
            reason=self.cleaned_data["reason"],
            referred_on=clock.today(),
        )


class ExternalOutcomeForm(CaseActionForm):
    action = "external-outcome"
    success = _("Saved: the referral's outcome is recorded.")
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(v, label) for v, label in ReferralOutcome.choices if v != "pending"],
    )

    def __init__(
        self, data: Any = None, *, case: Case, user: User, referral: ExternalReferral
    ) -> None:
        super().__init__(data, case=case, user=user, prefix=f"referral-{referral.pk}")
        self.referral = referral

    def perform(self) -> ExternalReferral:
        return referrals.external_outcome(
            actor=self.user,
            referral=self.referral,
            outcome=self.cleaned_data["outcome"],
            on=clock.today(),
        )


class TransferForm(CaseActionForm):
    action = "transfer"
    success = _("Saved: the organisation is asked; it decides.")
    kind = forms.ChoiceField(label=_("Kind"), choices=TransferKind.choices)
    to = forms.ModelChoiceField(label=_("To"), queryset=Organisation.objects.none())
    reason = forms.CharField(label=_("Why"), max_length=TEXT)

    def __init__(self, data: Any = None, *, case: Case, user: User) -> None:
        super().__init__(data, case=case, user=user)
        self.model_field("to").queryset = organisations_for(case)

    def perform(self) -> Any:
        return referrals.transfer_request(
            actor=self.user,
            case=self.case,
            to=self.cleaned_data["to"],
            kind=self.cleaned_data["kind"],
            reason=self.cleaned_data["reason"],
        )


# ---------------------------------------------------------------- opening and deciding


class CaseOpenForm(forms.Form):
    """Open a case in the worker's own organisation, or refer the child to another one.
    The basis for sharing is not asked: it is read from the records
    (`rules.referral_basis`), and the page shows it."""

    organisation = forms.ModelChoiceField(
        label=_("Organisation that takes the case"),
        queryset=Organisation.objects.none(),
        empty_label=None,
    )
    channel = forms.ChoiceField(label=_("How the child came to us"), choices=Channel.choices)
    reason = forms.CharField(
        label=_("Why the child needs help"),
        max_length=TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    referrer_name = forms.CharField(
        label=_("Who referred the child (name and organisation, if outside the system)"),
        required=False,
        max_length=intakes.REFERRER_MAX,
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)

    def __init__(self, data: Any = None, *, user: User, child: Any) -> None:
        super().__init__(data)
        self.user, self.child = user, child
        own = access.own_case_organisation(user)
        targets = Organisation.objects.filter(
            active=True, kind__in=list(access.CASE_ORG_KINDS)
        ).order_by("name")
        self.model_field().queryset = targets
        if own is not None:
            self.fields["organisation"].initial = own.pk
        self.own = own

    def model_field(self) -> forms.ModelChoiceField:  # type: ignore[type-arg]
        return cast(forms.ModelChoiceField, self.fields["organisation"])  # type: ignore[type-arg]

    def perform(self) -> Case | Intake:
        d = self.cleaned_data
        return intakes.case_open(
            actor=self.user,
            child=self.child,
            channel=d["channel"],
            reason=d["reason"],
            urgency=d["urgency"],
            organisation=d["organisation"],
            referrer_name=d["referrer_name"],
        )


class DecisionForm(forms.Form):
    """Accept (with the lead worker) or decline (with a reason) a referral or a transfer."""

    accept = forms.TypedChoiceField(
        choices=[("1", _("Accept")), ("0", _("Decline"))],
        coerce=lambda v: v == "1",
        widget=forms.HiddenInput,
    )
    lead = forms.TypedChoiceField(
        label=_("Lead worker"), coerce=int, required=False, empty_value=None
    )
    reason = forms.CharField(label=_("Reason (needed to decline)"), required=False, max_length=TEXT)

    def __init__(
        self, data: Any = None, *, leads: list[User], prefix: str, default: User | None = None
    ) -> None:
        """`default`: the lead preset (the decider, when they may lead); without one the
        decider must choose."""
        super().__init__(data, prefix=prefix)
        self.leads = {u.pk: u for u in leads}
        field = cast(forms.ChoiceField, self.fields["lead"])
        preset = default is not None and default.pk in self.leads
        field.choices = [
            *([] if preset else [("", _("Choose the lead worker"))]),
            *((u.pk, _person(u)) for u in leads),
        ]
        if preset:
            field.initial = default.pk  # type: ignore[union-attr]
        kind, _sep, pk = prefix.partition("-")
        field.widget.attrs["data-testid"] = f"{'lead' if kind == 'intake' else 'tlead'}-{pk}"

    def chosen_lead(self) -> User | None:
        wanted = self.cleaned_data.get("lead")
        return self.leads.get(wanted) if wanted else None
