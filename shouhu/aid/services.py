"""The writes of sponsors and aid. Each one checks who may do it, refuses bad input with
`ValidationError({field: [message]})` naming the field, and writes all or nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
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
    Status,
)
from shouhu.audit.services import record_change, snapshot
from shouhu.children.models import Child
from shouhu.lib import clock

Errors = dict[str, list[str]]
# DecimalField(max_digits=12, decimal_places=2): at most ten digits before the point.
MONEY_LIMIT = Decimal("10000000000")
FEN = Decimal("0.01")


def fen(value: Decimal | None) -> Decimal:
    """A sum from the database as yuan with two places (SQLite sums drop the places)."""
    return (value if value is not None else Decimal(0)).quantize(FEN)


def money(value: object, field: str, errors: Errors, *, required: bool = True) -> Decimal | None:
    """A sum of money as given: a Decimal (or its text) in yuan with at most two places,
    never negative, never a float (which cannot hold fen exactly). Problems go to
    `errors[field]`."""
    if value is None or value == "":
        if required:
            errors[field] = [_("Give the amount.")]
        return None
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int | str):
        errors[field] = [_("Give the amount as a decimal number of yuan, such as 120.50.")]
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errors[field] = [_("Give the amount as a decimal number of yuan, such as 120.50.")]
        return None
    if not amount.is_finite():
        errors[field] = [_("Give the amount as a decimal number of yuan, such as 120.50.")]
    elif amount < 0:
        errors[field] = [_("The amount cannot be negative.")]
    elif int(amount.as_tuple().exponent) < -2 and amount != amount.quantize(FEN):
        errors[field] = [_("The amount has at most two decimal places (fen).")]
    elif amount >= MONEY_LIMIT:
        errors[field] = [_("The amount is too large.")]
    else:
        return amount.quantize(FEN)
    return None


def _text(value: str, limit: int) -> str:
    return value.strip()[:limit]


def _manages(actor: User, organisation_id: int) -> None:
    if not access.may_manage_aid(actor, organisation_id):
        raise PermissionDenied(_("You do not manage aid for this organisation."))


@transaction.atomic
def sponsor_create(
    *, actor: User, organisation: Organisation, kind: str, name: str, contact: str = ""
) -> Sponsor:
    _manages(actor, organisation.pk)
    errors: Errors = {}
    if kind not in SponsorKind.values:
        errors["kind"] = [_("Choose a person, a company or a foundation.")]
    if not name.strip():
        errors["name"] = [_("Name the sponsor.")]
    if errors:
        raise ValidationError(errors)
    return Sponsor.objects.create(
        organisation=organisation,
        kind=kind,
        name=_text(name, 200),
        contact=_text(contact, 200),
        created_at=clock.now(),
        created_by=actor,
    )


@transaction.atomic
def pledge_add(
    *,
    actor: User,
    sponsor: Sponsor,
    form: str,
    amount: object = None,
    items: str = "",
    recurrence: str = Recurrence.ONCE,
    scheme: Scheme | None = None,
    pledged_on: dt.date | None = None,
) -> Pledge:
    """Money (an amount) or goods (the items), once or every period, optionally to one of
    the organisation's schemes."""
    _manages(actor, sponsor.organisation_id)
    errors: Errors = {}
    if form not in PledgeForm.values:
        errors["form"] = [_("Choose money or goods.")]
    value = money(amount, "amount", errors, required=form == PledgeForm.MONEY)
    if form == PledgeForm.IN_KIND and not items.strip():
        errors["items"] = [_("List the goods pledged.")]
    if recurrence not in Recurrence.values:
        errors["recurrence"] = [_("Choose how often.")]
    if scheme is not None and scheme.organisation_id != sponsor.organisation_id:
        errors["scheme"] = [_("The scheme is not run by the sponsor's organisation.")]
    on = pledged_on or clock.today()
    if on > clock.today():
        errors["pledged_on"] = [_("The pledge cannot be dated in the future.")]
    if errors:
        raise ValidationError(errors)
    return Pledge.objects.create(
        sponsor=sponsor,
        form=form,
        amount=value,
        items=_text(items, 4000),
        recurrence=recurrence,
        scheme=scheme,
        pledged_on=on,
        created_by=actor,
    )


@transaction.atomic
def scheme_create(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    kind: str,
    amount: object,
    starts_on: dt.date,
    ends_on: dt.date,
    criteria: str = "",
) -> Scheme:
    _manages(actor, organisation.pk)
    errors: Errors = {}
    if not name.strip():
        errors["name"] = [_("Name the scheme.")]
    if kind not in AidKind.values:
        errors["kind"] = [_("Choose the kind of aid.")]
    value = money(amount, "amount", errors)
    if ends_on < starts_on:
        errors["ends_on"] = [_("The period ends before it starts.")]
    if errors:
        raise ValidationError(errors)
    assert value is not None
    return Scheme.objects.create(
        organisation=organisation,
        name=_text(name, 200),
        kind=kind,
        amount=value,
        starts_on=starts_on,
        ends_on=ends_on,
        criteria=_text(criteria, 4000),
        created_at=clock.now(),
        created_by=actor,
    )


@transaction.atomic
def application_submit(
    *, actor: User, scheme: Scheme, child: Child, reason: str = ""
) -> Application:
    """A worker who sees the child applies for it to a scheme that is still running."""
    if not access.may_apply_for_aid(actor, child):
        raise PermissionDenied(_("You may not apply for this child."))
    errors: Errors = {}
    if scheme.ends_on < clock.today():
        errors["scheme"] = [_("The scheme's period is over.")]
    elif (
        Application.objects.filter(scheme=scheme, child=child)
        .exclude(status=Status.REJECTED)
        .exists()
    ):
        errors["child"] = [_("The child already has an application to this scheme.")]
    if not reason.strip():
        errors["reason"] = [_("Say why the child needs this aid.")]
    if errors:
        raise ValidationError(errors)
    application = Application.objects.create(
        scheme=scheme,
        child=child,
        reason=_text(reason, 4000),
        submitted_at=clock.now(),
        submitted_by=actor,
    )
    record_change(
        actor=actor,
        obj=application,
        operation="create",
        changes={k: [None, v] for k, v in snapshot(application, ["scheme", "status"]).items()},
        child_id=child.pk,
    )
    return application


@transaction.atomic
def application_decide(
    *,
    actor: User,
    application: Application,
    approve: bool,
    note: str,
    amount: object = None,
) -> Application:
    """A named reviewer of the scheme's organisation approves (with an amount no more than
    the scheme's per child) or rejects, with a note. Never the worker who applied; decided
    once."""
    application = (
        Application.objects.select_for_update().select_related("scheme").get(pk=application.pk)
    )
    _manages(actor, application.scheme.organisation_id)
    if application.submitted_by_id == actor.pk:
        raise PermissionDenied(_("Another person decides the application you made."))
    errors: Errors = {}
    if application.status != Status.SUBMITTED:
        errors["__all__"] = [_("This application was already decided.")]
    if not note.strip():
        errors["note"] = [_("Write why you decide so.")]
    value = None
    if approve:
        given = application.scheme.amount if amount is None or amount == "" else amount
        value = money(given, "amount", errors)
        if value is not None and value > application.scheme.amount:
            errors["amount"] = [
                _("At most the scheme's %(amount)s yuan per child.")
                % {"amount": application.scheme.amount}
            ]
    elif amount not in (None, ""):
        errors["amount"] = [_("A rejected application has no amount.")]
    if errors:
        raise ValidationError(errors)
    before = snapshot(application, ["status", "reviewer", "approved_amount"])
    application.status = Status.APPROVED if approve else Status.REJECTED
    application.reviewer, application.decided_at = actor, clock.now()
    application.decision_note = _text(note, 4000)
    application.approved_amount = value
    application.save(
        update_fields=["status", "reviewer", "decided_at", "decision_note", "approved_amount"]
    )
    after = snapshot(application, ["status", "reviewer", "approved_amount"])
    record_change(
        actor=actor,
        obj=application,
        operation="update",
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        child_id=application.child_id,
    )
    return application


def paid_so_far(application: Application) -> Decimal:
    """The money paid under an application, summed in the database."""
    return fen(application.disbursements.aggregate(total=Sum("amount"))["total"])


@transaction.atomic
def disbursement_add(
    *,
    actor: User,
    application: Application,
    paid_on: dt.date,
    method: str,
    amount: object = None,
    items: str = "",
    receipt_ref: str = "",
) -> Disbursement:
    """A payment (or goods) under an approved application. All payments together never
    exceed the approved amount: the application is locked while they are summed."""
    application = (
        Application.objects.select_for_update().select_related("scheme").get(pk=application.pk)
    )
    _manages(actor, application.scheme.organisation_id)
    errors: Errors = {}
    if application.status != Status.APPROVED or application.approved_amount is None:
        raise ValidationError({"application": [_("Only an approved application is paid.")]})
    if method not in Method.values:
        errors["method"] = [_("Choose how it was paid.")]
    in_kind = method == Method.IN_KIND
    value = money(amount, "amount", errors, required=not in_kind)
    if in_kind and not items.strip():
        errors["items"] = [_("List the goods handed over.")]
    if value is not None and value == 0 and not in_kind:
        errors["amount"] = [_("A payment is more than zero.")]
    if value is not None and "amount" not in errors:
        left = application.approved_amount - paid_so_far(application)
        if value > left:
            errors["amount"] = [
                _("Only %(left)s yuan of the approved %(approved)s is left to pay.")
                % {"left": left, "approved": application.approved_amount}
            ]
    if paid_on > clock.today():
        errors["paid_on"] = [_("The payment cannot be dated in the future.")]
    elif (
        application.decided_at is not None
        and paid_on < application.decided_at.astimezone(clock.SHANGHAI).date()
    ):
        errors["paid_on"] = [_("The payment cannot be dated before the approval.")]
    if method in (Method.BANK_TRANSFER, Method.SCHOOL_FEE) and not receipt_ref.strip():
        errors["receipt_ref"] = [_("Give the receipt or transfer reference.")]
    if errors:
        raise ValidationError(errors)
    where = (
        Child.objects.filter(pk=application.child_id).values("residence_id", "household_id").get()
    )
    disbursement = Disbursement.objects.create(
        application=application,
        child_id=application.child_id,
        scheme_id=application.scheme_id,
        kind=application.scheme.kind,
        paid_on=paid_on,
        amount=value,
        items=_text(items, 4000),
        method=method,
        receipt_ref=_text(receipt_ref, 100),
        recorded_by=actor,
        recorded_at=clock.now(),
        residence=where["residence_id"],
        household_id=where["household_id"],
    )
    reflag([application.child_id])
    disbursement.refresh_from_db(fields=["double"])
    fields = ["application", "paid_on", "amount", "items", "method", "receipt_ref"]
    record_change(
        actor=actor,
        obj=disbursement,
        operation="create",
        changes={k: [None, v] for k, v in snapshot(disbursement, fields).items()},
        child_id=application.child_id,
    )
    return disbursement


@transaction.atomic
def followup_add(
    *,
    actor: User,
    application: Application,
    on: dt.date,
    note: str,
    story: str = "",
) -> FollowUp:
    """What came of the aid (school results, say); `story` is an anonymised account for
    the sponsors, shown to them once approved (`story_approve`)."""
    application = Application.objects.select_related("scheme", "child").get(pk=application.pk)
    _manages(actor, application.scheme.organisation_id)
    errors: Errors = {}
    if application.status != Status.APPROVED:
        errors["application"] = [_("Only an approved application is followed up.")]
    if not note.strip():
        errors["note"] = [_("Write what you found.")]
    if on > clock.today():
        errors["on"] = [_("The follow-up cannot be dated in the future.")]
    if story.strip() and _names_the_child(story, application.child):
        errors["story"] = [_("A story for sponsors never names the child.")]
    if errors:
        raise ValidationError(errors)
    return FollowUp.objects.create(
        application=application,
        on=on,
        note=_text(note, 4000),
        story=_text(story, 4000),
        by=actor,
    )


def _names_the_child(text: str, child: Child) -> bool:
    name = child.name.strip()
    # A Chinese given name (the name without its one-character surname) identifies too.
    given = name[1:] if len(name) >= 3 else ""
    return bool(name and name in text) or bool(given and given in text)


@transaction.atomic
def story_approve(*, actor: User, followup: FollowUp) -> FollowUp:
    """A scheme manager other than its writer lets the sponsors read a follow-up's story."""
    followup = (
        FollowUp.objects.select_for_update()
        .select_related("application__scheme", "application__child")
        .get(pk=followup.pk)
    )
    _manages(actor, followup.application.scheme.organisation_id)
    if followup.by_id == actor.pk:
        raise PermissionDenied(_("Another person approves the story you wrote."))
    if not followup.story.strip():
        raise ValidationError({"story": [_("There is no story to approve.")]})
    if _names_the_child(followup.story, followup.application.child):
        raise ValidationError({"story": [_("A story for sponsors never names the child.")]})
    followup.story_approved_by = actor
    followup.save(update_fields=["story_approved_by"])
    return followup


def child_moved(child: Child) -> None:
    """Keep the area column of the child's payments in step with the registry, and their
    double-aid flags with the household's 低保/特困."""
    Disbursement.objects.filter(child=child).exclude(residence=child.residence_id).update(
        residence=child.residence_id
    )
    reflag([child.pk])


def reflag(child_ids: list[int]) -> None:
    """Set `Disbursement.double` on the payments of these children by the double-aid rule
    (`selectors.double_aid` over all their payments: schemes whose periods overlap, or living
    aid on top of 低保/特困)."""
    from shouhu.aid.selectors import GOVERNMENT, double_aid

    if not child_ids:
        return
    found = double_aid(Child.objects.filter(pk__in=child_ids), dt.date.min, dt.date.max).double
    flagged = Q(pk__in=[])
    for (child_id, kind), sources in found.items():
        schemes = [int(s) for s in sources if s != GOVERNMENT]
        flagged |= Q(child_id=child_id, kind=kind, scheme_id__in=schemes)
    mine = Disbursement.objects.filter(child_id__in=child_ids)
    mine.filter(flagged).exclude(double=True).update(double=True)
    mine.exclude(flagged).exclude(double=False).update(double=False)


def reflag_all(chunk: int = 5000) -> int:
    """`reflag` every child with a payment, a chunk of children at a time (after a bulk
    load, and by the migration that added the flag). Returns the payments flagged."""
    after = 0
    while True:
        ids = list(
            Disbursement.objects.filter(child_id__gt=after)
            .order_by("child_id")
            .values_list("child_id", flat=True)
            .distinct()[:chunk]
        )
        if not ids:
            return Disbursement.objects.filter(double=True).count()
        reflag(ids)
        after = ids[-1]
