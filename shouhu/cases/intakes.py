"""Referring a child and opening a case: an intake to the actor's own organisation or to
another, its decision, and the case it opens (the lead worker, their assignment, the first
home visit). `case_open` is `POST /cases`.

Who may do what (through the case section of `shouhu.access`):
- open an intake: anyone who may see the child's file, except volunteers;
- accept or decline an intake: a social worker or counsellor of the receiving organisation,
  or a township supervisor of the child's place (who names the lead worker: one of the
  organisation's social workers or counsellors, `selectors.lead_candidates`).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.cases.members import open_child_to
from shouhu.cases.models import (
    Case,
    CaseMember,
    CaseRole,
    Channel,
    ConsentBasis,
    Intake,
    IntakeStatus,
    ServiceRecord,
    Stage,
    StageChange,
    Urgency,
)
from shouhu.cases.rules import SHARING_REFUSED, check_choice, raise_if_any, referral_basis
from shouhu.cases.selectors import has_open_case, interval_days
from shouhu.children.data import ConflictError
from shouhu.children.models import Child
from shouhu.lib import clock
from shouhu.notify.services import Message, send
from shouhu.tasks.models import Task, TaskKind

REFERRER_MAX = 100  # Intake.referrer_name


@transaction.atomic
def intake_create(
    *,
    actor: User,
    child: Child,
    channel: str,
    reason: str,
    urgency: str = Urgency.NORMAL,
    consent: str = ConsentBasis.NONE,
    organisation: Organisation | None = None,
    referrer_name: str = "",
    now: dt.datetime | None = None,
) -> Intake:
    """A referral of the child to `organisation` (default: the actor's own). The basis for
    sharing the child's file is derived from the records (`referral_basis`); `consent` is
    checked as a choice and otherwise not taken: nobody's word replaces a recorded consent."""
    now = now or clock.now()
    if not access.may_refer(actor, child):
        raise PermissionDenied(_("You may not refer this child."))
    errors: dict[str, list[str]] = {}
    check_choice(errors, "channel", channel, Channel)
    check_choice(errors, "urgency", urgency, Urgency)
    check_choice(errors, "consent", consent, ConsentBasis)
    if not reason.strip():
        errors["reason"] = [_("Say why the child needs help.")]
    if len(referrer_name.strip()) > REFERRER_MAX:
        errors["referrer_name"] = [_("At most 100 characters.")]
    if organisation is None:
        organisation = access.own_case_organisation(actor)
        if organisation is None:
            errors["organisation"] = [_("Choose the organisation that should take the case.")]
    elif not access.takes_cases(organisation):
        errors["organisation"] = [_("This organisation does not take cases.")]
    assert organisation is not None or errors
    basis = referral_basis(child, channel=channel, urgency=urgency)
    if organisation is not None and not basis and not access.works_in(actor, organisation):
        errors.setdefault("consent", []).append(str(SHARING_REFUSED))
    raise_if_any(errors)
    assert organisation is not None
    if has_open_case(child, organisation):
        raise ConflictError(_("This child already has an open case in this organisation."))
    intake = Intake.objects.create(
        child=child,
        organisation=organisation,
        channel=channel,
        reason=reason.strip(),
        urgency=urgency,
        consent=basis or ConsentBasis.NONE,
        referred_by=actor,
        referrer_name=referrer_name.strip(),
        created_at=now,
    )
    if not access.works_in(actor, organisation):
        send(
            access.intake_deciders(intake),
            lambda: Message(
                "case_intake",
                _("New referral waiting for your decision"),
                _("Urgency: %(urgency)s") % {"urgency": Urgency(urgency).label},
                f"/cases/intakes/{intake.pk}/",
            ),
            now=now,
        )
    return intake


@transaction.atomic
def intake_decide(
    *,
    actor: User,
    intake: Intake,
    accept: bool,
    reason: str = "",
    lead: User | None = None,
    now: dt.datetime | None = None,
) -> Case | None:
    """Accept (opening a case with `lead`; without one the decider, when they may lead, else
    a field error on `lead`) or decline with a reason. Accepting a referral from outside the
    organisation checks `referral_basis` again (a consent may have been withdrawn since)."""
    now = now or clock.now()
    intake = Intake.objects.select_for_update().get(pk=intake.pk)
    if not access.may_decide_intake(actor, intake):
        raise PermissionDenied(_("Only the receiving organisation or a supervisor decides."))
    if intake.status != IntakeStatus.PENDING:
        raise ValidationError(_("This intake has already been decided."))
    if not accept:
        if not reason.strip():
            raise ValidationError({"reason": [_("Say why the intake is declined.")]})
        intake.status = IntakeStatus.DECLINED
        intake.decided_by, intake.decided_at = actor, now
        intake.decision_reason = reason.strip()
        intake.save()
        return None
    from_outside = not access.works_in(intake.referred_by, intake.organisation)
    if from_outside and not referral_basis(
        intake.child, channel=intake.channel, urgency=intake.urgency
    ):
        raise ValidationError({"consent": [SHARING_REFUSED]})
    lead = chosen_lead(lead, actor, intake.organisation)
    intake.status = IntakeStatus.ACCEPTED
    intake.decided_by, intake.decided_at = actor, now
    intake.decision_reason = reason.strip()
    intake.save()
    return open_from_intake(intake=intake, lead=lead, actor=actor, now=now)


def chosen_lead(lead: User | None, actor: User, organisation: Organisation) -> User:
    """The chosen lead worker; without a choice the decider, if they may lead."""
    if lead is None:
        if access.works_in(actor, organisation):
            return actor
        raise ValidationError(
            {
                "lead": [
                    _("Choose the lead worker: a social worker or counsellor of %(organisation)s.")
                    % {"organisation": organisation.name}
                ]
            }
        )
    if not lead.is_active or not access.works_in(lead, organisation):
        raise ValidationError(
            {
                "lead": [
                    _("The lead worker must be a social worker or counsellor of %(organisation)s.")
                    % {"organisation": organisation.name}
                ]
            }
        )
    return lead


def open_from_intake(*, intake: Intake, lead: User, actor: User, now: dt.datetime) -> Case:
    """The case an accepted intake (or transfer) opens: the lead on the case and assigned to
    the child, the first home visit on the risk level's interval. One open case per child and
    organisation: a second is a conflict."""
    if has_open_case(intake.child, intake.organisation):
        raise ConflictError(_("This child already has an open case in this organisation."))
    try:
        with transaction.atomic():
            case = Case.objects.create(
                child=intake.child,
                organisation=intake.organisation,
                intake=intake,
                lead=lead,
                urgency=intake.urgency,
                opened_at=now,
                residence=intake.child.residence_id,
            )
    except IntegrityError:  # a concurrent open of the same case
        raise ConflictError(
            _("This child already has an open case in this organisation.")
        ) from None
    StageChange.objects.create(case=case, stage=Stage.INTAKE, at=now, by=actor)
    CaseMember.objects.create(case=case, user=lead, role=_role_of(lead, case), added_at=now)
    open_child_to(case, lead, now)
    Task.objects.create(
        child=case.child,
        case=case,
        residence=case.residence,
        kind=TaskKind.VISIT,
        title=gettext_noop("Home visit"),  # kept in English, shown in the reader's language
        assignee=lead,
        due_on=timezone.localtime(now).date() + dt.timedelta(days=interval_days(case.child)),
        recurring=True,
        created_at=now,
    )
    return case


def _role_of(user: User, case: Case) -> str:
    return CaseRole.COUNSELLOR if access.is_counsellor(user, case.organisation) else CaseRole.WORKER


def case_open(
    *,
    actor: User,
    child: Child,
    channel: str,
    reason: str,
    urgency: str = Urgency.NORMAL,
    consent: str = ConsentBasis.NONE,
    organisation: Organisation | None = None,
    referrer_name: str = "",
    now: dt.datetime | None = None,
) -> Case | Intake:
    """`POST /cases`: a worker opens a case in their own organisation at once; naming
    another organisation makes a pending intake for it to decide."""
    with transaction.atomic():
        intake = intake_create(
            actor=actor,
            child=child,
            channel=channel,
            reason=reason,
            urgency=urgency,
            consent=consent,
            organisation=organisation,
            referrer_name=referrer_name,
            now=now,
        )
        if not access.works_in(actor, intake.organisation):
            return intake
        case = intake_decide(actor=actor, intake=intake, accept=True, now=now)
        assert case is not None
        return case


# ---------------------------------------------------------------- the case's area


def child_moved(child: Child) -> None:
    """Keep the area columns of the child's cases and services in step with the registry
    (`tasks` keeps its follow-ups' own)."""
    Case.objects.filter(child=child).exclude(residence=child.residence_id).update(
        residence=child.residence_id
    )
    ServiceRecord.objects.filter(child=child).exclude(residence=child.residence_id).update(
        residence=child.residence_id
    )
