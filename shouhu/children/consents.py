"""Consent and legal basis: a guardian's consent (PIPL Art. 31) for listed processing
scopes and its withdrawal, the legal basis of each processing purpose, and the rule whether
the child's file may go to another organisation (`sharing_status`, which the child's page
and the referral page both show; cases add the child's own request and emergencies:
`cases.rules.referral_basis`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.services import diff, record_change, snapshot
from shouhu.children.data import CONSENT_FIELDS, created_changes
from shouhu.children.models import (
    Basis,
    Child,
    Consent,
    ConsentScope,
    FamilyMember,
    ProcessingBasis,
    Purpose,
)
from shouhu.children.validation import Errors, check_choice
from shouhu.lib import clock

NOTE_MAX = 300  # ProcessingBasis.note


def sharing_consent(child: Child) -> Consent | None:
    """The guardian's consent in force that covers sharing with other organisations."""
    return next(
        (
            c
            for c in child.consents.filter(withdrawn_on__isnull=True).order_by("-given_on")
            if "sharing" in c.scopes
        ),
        None,
    )


@dataclass(frozen=True)
class SharingStatus:
    """Whether the child's file may go to another organisation, and on what record."""

    allowed: bool
    basis: str


def sharing_status(child: Child) -> SharingStatus:
    """What the child's page and the referral page both say about sharing (one rule)."""
    consent = sharing_consent(child)
    if consent is not None:
        return SharingStatus(
            True,
            _("the guardian's consent given by %(name)s on %(date)s")
            % {"name": consent.given_by.name, "date": consent.given_on.isoformat()},
        )
    basis = child.processing_bases.filter(purpose="sharing").first()
    if basis is not None:
        return SharingStatus(True, str(basis.get_basis_display()))
    return SharingStatus(False, "")


def sharing_allowed(child: Child) -> bool:
    """The child's file may go to another organisation: a guardian's sharing consent or a
    recorded legal basis for sharing (cases add the child's own request and emergencies:
    `cases.rules.referral_basis`)."""
    return (
        sharing_consent(child) is not None
        or child.processing_bases.filter(purpose="sharing").exists()
    )


# ---------------------------------------------------------------- consent and legal basis


@transaction.atomic
def consent_record(
    *,
    actor: User,
    child: Child,
    given_by: FamilyMember,
    given_on: dt.date,
    version: str,
    scopes: Sequence[str],
) -> Consent:
    """Record a guardian's consent (PIPL Art. 31) for the listed processing scopes."""
    if not access.may_record_consent(actor, child):
        raise PermissionDenied(_("You cannot record consent for this child."))
    errors = Errors()
    if given_by.household_id != child.household_id or not given_by.is_guardian:
        errors.add("given_by", _("Consent must come from a guardian of this child."))
    for scope in scopes:
        check_choice(errors, "scopes", scope, ConsentScope)
    if not scopes:
        errors.add("scopes", _("Choose at least one purpose."))
    if not version.strip():
        errors.add("version", _("This field is required."))
    if given_on > clock.today():
        errors.add("given_on", _("Date is in the future."))
    errors.raise_if_any()
    return consent_create(actor, child, given_by, given_on, version.strip(), sorted(set(scopes)))


def consent_create(
    actor: User,
    child: Child,
    given_by: FamilyMember,
    given_on: dt.date,
    version: str,
    scopes: Sequence[str],
) -> Consent:
    """A consent row and its change-history entry (registration and later consents)."""
    consent = Consent.objects.create(
        child=child,
        given_by=given_by,
        given_on=given_on,
        version=version,
        scopes=list(scopes),
        recorded_by=actor,
    )
    record_change(
        actor=actor,
        obj=consent,
        operation="create",
        changes=created_changes(consent, CONSENT_FIELDS),
        child_id=child.pk,
    )
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User, consent: Consent, on: dt.date | None = None) -> Consent:
    """A guardian withdraws consent; sharing that rested on it is no longer allowed."""
    if not access.may_record_consent(actor, consent.child):
        raise PermissionDenied(_("You cannot change this child's registration."))
    on = on or clock.today()
    errors = Errors()
    if consent.withdrawn_on is not None:
        errors.add("withdrawn_on", _("This consent is already withdrawn."))
    elif on > clock.today():
        errors.add("withdrawn_on", _("Date is in the future."))
    elif on < consent.given_on:
        errors.add("withdrawn_on", _("Consent cannot be withdrawn before it was given."))
    errors.raise_if_any()
    consent.withdrawn_on = on
    consent.save(update_fields=["withdrawn_on"])
    record_change(
        actor=actor,
        obj=consent,
        operation="update",
        changes={"withdrawn_on": [None, consent.withdrawn_on.isoformat()]},
        child_id=consent.child_id,
    )
    from shouhu.children.signals import consent_withdrawn

    consent_withdrawn.send(sender=Consent, child=consent.child, consent=consent, actor=actor)
    return consent


@transaction.atomic
def processing_basis_record(
    *, actor: User, child: Child, purpose: str, basis: str, note: str = ""
) -> ProcessingBasis:
    """Record (or replace) the legal basis of one processing purpose for a child."""
    if not access.can_edit(actor, child):
        raise PermissionDenied(_("You cannot change this child's registration."))
    errors = Errors()
    check_choice(errors, "purpose", purpose, Purpose)
    check_choice(errors, "basis", basis, Basis)
    if basis != Basis.CONSENT and not note.strip():
        errors.add("note", _("Say which duty or emergency this rests on."))
    if len(note.strip()) > NOTE_MAX:
        errors.add("note", _("At most %(n)d characters.") % {"n": NOTE_MAX})
    errors.raise_if_any()
    names = ["purpose", "basis", "note"]
    old = ProcessingBasis.objects.select_for_update().filter(child=child, purpose=purpose).first()
    before = snapshot(old, names) if old is not None else None
    row = ProcessingBasis.objects.update_or_create(
        child=child,
        purpose=purpose,
        defaults={
            "basis": basis,
            "note": note.strip(),
            "recorded_on": clock.today(),
            "recorded_by": actor,
        },
    )[0]
    if before is None:
        changes = created_changes(row, names)
    else:
        changes = diff(before, snapshot(row, names))
        if changes:  # say which purpose's basis changed
            changes = {"purpose": [purpose, purpose], **changes}
    record_change(
        actor=actor,
        obj=row,
        operation="create" if before is None else "update",
        changes=changes,
        child_id=child.pk,
    )
    return row
