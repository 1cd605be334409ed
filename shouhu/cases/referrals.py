"""Referrals out of a case: to a resource of the directory outside the system (and what came
of it), and to another organisation in the system, either to work beside (a referral) or to
take the case over (a transfer, which closes the case here). Sharing the child's file needs
`rules.referral_basis`; accepting opens the child to the receiving organisation by an
assignment, and opens its case with the lead it names; who then reads the referring case:
`access.cases_visible_to`."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.cases.intakes import chosen_lead, open_from_intake
from shouhu.cases.models import (
    Case,
    Channel,
    ConsentBasis,
    ExternalReferral,
    Intake,
    IntakeStatus,
    ReferralOutcome,
    Resource,
    Stage,
    Transfer,
    TransferKind,
)
from shouhu.cases.rules import SHARING_REFUSED, check_choice, raise_if_any, referral_basis
from shouhu.cases.stages import close_now
from shouhu.children.assignments import assignment_create
from shouhu.children.models import ChildAssignment
from shouhu.lib import clock
from shouhu.notify.services import Message, send


@transaction.atomic
def external_referral(
    *, actor: User, case: Case, resource: Resource, reason: str, referred_on: dt.date
) -> ExternalReferral:
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why.")]})
    return ExternalReferral.objects.create(
        case=case, resource=resource, reason=reason.strip(), referred_on=referred_on, by=actor
    )


@transaction.atomic
def external_outcome(
    *, actor: User, referral: ExternalReferral, outcome: str, on: dt.date
) -> ExternalReferral:
    if not access.may_work(actor, referral.case):
        raise PermissionDenied(_("You do not work on this case."))
    errors: dict[str, list[str]] = {}
    check_choice(errors, "outcome", outcome, ReferralOutcome)
    raise_if_any(errors)
    referral.outcome, referral.outcome_on = outcome, on
    referral.save(update_fields=["outcome", "outcome_on"])
    return referral


@transaction.atomic
def transfer_request(
    *,
    actor: User,
    case: Case,
    to: Organisation,
    kind: str,
    reason: str,
    now: dt.datetime | None = None,
) -> Transfer:
    """Refer (both keep working) or transfer (the case moves) to another organisation in the
    system. Sharing the child's file needs the guardian's sharing consent or a legal basis."""
    now = now or clock.now()
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    errors: dict[str, list[str]] = {}
    check_choice(errors, "kind", kind, TransferKind)
    if to.pk == case.organisation_id:
        errors["to"] = [_("Choose another organisation.")]
    elif not access.takes_cases(to):
        errors["to"] = [_("This organisation does not take cases.")]
    if not reason.strip():
        errors["reason"] = [_("Say why.")]
    if not referral_basis(case.child, channel="", urgency=case.urgency):
        errors["consent"] = [str(SHARING_REFUSED)]
    if case.stage == Stage.CLOSED:
        errors.setdefault("__all__", []).append(_("The case is closed."))
    raise_if_any(errors)
    transfer = Transfer.objects.create(
        case=case,
        kind=kind,
        to_organisation=to,
        reason=reason.strip(),
        requested_by=actor,
        requested_at=now,
    )
    send(
        access.members_with_case_roles(to),
        lambda: Message(
            "case_transfer", _("A case is offered to your organisation"), "", "/cases/intakes/"
        ),
        now=now,
    )
    return transfer


@transaction.atomic
def transfer_decide(
    *,
    actor: User,
    transfer: Transfer,
    accept: bool,
    reason: str = "",
    lead: User | None = None,
    now: dt.datetime | None = None,
) -> Case | None:
    now = now or clock.now()
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if not access.works_in(actor, transfer.to_organisation):
        raise PermissionDenied(_("Only the receiving organisation decides."))
    if transfer.status != IntakeStatus.PENDING:
        raise ValidationError(_("This has already been decided."))
    transfer.decided_by, transfer.decided_at = actor, now
    transfer.decision_reason = reason.strip()
    if not accept:
        if not reason.strip():
            raise ValidationError({"reason": [_("Say why.")]})
        transfer.status = IntakeStatus.DECLINED
        transfer.save()
        return None
    lead = chosen_lead(lead, actor, transfer.to_organisation)
    old = Case.objects.select_for_update().get(pk=transfer.case_id)
    intake = Intake.objects.create(
        child=old.child,
        organisation=transfer.to_organisation,
        channel=Channel.SERVICE,
        reason=transfer.reason,
        urgency=old.urgency,
        consent=ConsentBasis.LEGAL if not old.intake else old.intake.consent,
        referred_by=transfer.requested_by,
        created_at=now,
        status=IntakeStatus.ACCEPTED,
        decided_by=actor,
        decided_at=now,
    )
    assignment_create(
        actor=None,
        child=old.child,
        organisation=transfer.to_organisation,
        kind=transfer.kind,
        started_on=timezone.localtime(now).date(),
    )
    new = open_from_intake(intake=intake, lead=lead, actor=actor, now=now)
    if transfer.kind == TransferKind.TRANSFER and old.stage != Stage.CLOSED:
        close_now(old, actor, now, "transferred", transfer.reason)
        old.version += 1
        old.save()
        ChildAssignment.objects.filter(
            child=old.child, organisation=old.organisation, kind="case_worker", active=True
        ).update(active=False, ended_on=timezone.localtime(now).date())
        access.forget_assignments()  # a queryset update sends no signal
    transfer.status = IntakeStatus.ACCEPTED
    transfer.new_case = new
    transfer.save()
    return new
