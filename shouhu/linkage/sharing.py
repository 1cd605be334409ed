"""Sharing a child's file with the organisation of the other side of a link.

The rule (one place): a share needs a link, someone who looks after the child's file in its
own jurisdiction (`access.may_share_child`), an organisation of the other side
(`access.share_organisations_for`), and a basis on record —

- the guardian's consent: a consent in force covering sharing (`children.consents`);
- a legal basis: a processing basis for sharing recorded on the file;
- the child's own request: only from a child of 14 or more (PIPL Art. 31: a younger child's
  information needs the guardian's consent), with what the child asked, in their words.

A share opens the basic fields; the whole file (each reader still capped by their role) only
on the guardian's consent or a legal basis. Either side ends it, with a reason. The share
and its end are change records with the child, and every read across it is logged as any
read of a child's file (`access.get_child_for_user`).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.audit.services import record_change
from shouhu.children.consents import sharing_consent, sharing_status
from shouhu.children.models import Child
from shouhu.lib import clock
from shouhu.lib.dates import age_on
from shouhu.linkage.models import Basis, Candidate, Fields, Share, Status
from shouhu.notify.services import Message, send

CHILD_REQUEST_AGE = 14
NOTE_MAX = 1000


def basis_problem(
    child: Child, basis: str, fields: str, note: str, today: dt.date
) -> dict[str, list[str]]:
    """What is missing for this basis, by field ({} = the share may be made)."""
    errors: dict[str, list[str]] = {}
    if basis not in Basis.values:
        errors["basis"] = [_("Choose the basis of the share.")]
        return errors
    if fields not in Fields.values:
        errors["extent"] = [_("Choose what is shared.")]
    if basis == Basis.CONSENT and sharing_consent(child) is None:
        errors["basis"] = [
            _(
                "No consent of the guardian covering sharing is in force: "
                "record it on the file first."
            )
        ]
    elif basis == Basis.LEGAL and not child.processing_bases.filter(purpose="sharing").exists():
        errors["basis"] = [_("No legal basis for sharing is recorded on the file.")]
    elif basis == Basis.CHILD:
        if age_on(child.birth_date, today) < CHILD_REQUEST_AGE:
            errors["basis"] = [
                _(
                    "A child under %(age)d cannot consent alone: "
                    "the guardian's consent or a legal basis is needed."
                )
                % {"age": CHILD_REQUEST_AGE}
            ]
        elif not note.strip():
            errors["basis_note"] = [_("Write what the child asked, and when.")]
        if fields == Fields.FULL:
            errors["extent"] = [_("On the child's own request only the basic fields are shared.")]
    if len(note) > NOTE_MAX:
        errors["basis_note"] = [_("At most %(n)d characters.") % {"n": NOTE_MAX}]
    return errors


@transaction.atomic
def share_create(
    *,
    actor: User,
    candidate: Candidate,
    child: Child,
    organisation: Organisation,
    basis: str,
    fields: str = Fields.BASIC,
    note: str = "",
    now: dt.datetime | None = None,
) -> Share:
    now = now or clock.now()
    today = timezone.localtime(now).date()
    # The link is read again under its lock: a link undone meanwhile (which ends its shares
    # under the same lock) is never shared.
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if child.pk not in {candidate.home_id, candidate.destination_id}:
        raise ValidationError({"child": [_("This child is not one of the linked records.")]})
    if not access.may_share_child(actor, child):
        raise PermissionDenied(_("Only those who look after the child's file share it."))
    errors = basis_problem(child, basis, fields, note, today)
    if candidate.status != Status.LINKED:
        errors.setdefault("__all__", []).append(_("Only linked records are shared."))
    if organisation.pk not in {o.pk for o in access.share_organisations_for(candidate, child)}:
        errors["organisation"] = [_("Choose an organisation of the other side of the link.")]
    if errors:
        raise ValidationError(errors)
    if basis == Basis.CONSENT:
        note = sharing_status(child).basis + (f" — {note.strip()}" if note.strip() else "")
    elif basis == Basis.LEGAL and not note.strip():
        note = sharing_status(child).basis
    try:
        with transaction.atomic():
            share = Share.objects.create(
                candidate=candidate,
                child=child,
                organisation=organisation,
                fields=fields,
                basis=basis,
                basis_note=note.strip(),
                started_by=actor,
                started_at=now,
            )
    except IntegrityError:
        raise ValidationError(
            {"organisation": [_("The file is already shared with this organisation.")]}
        ) from None
    record_change(
        actor=actor,
        obj=share,
        operation="create",
        changes={
            "organisation": [None, organisation.pk],
            "fields": [None, fields],
            "basis": [None, basis],
        },
        child_id=child.pk,
    )
    access.forget_assignments()
    send(
        [
            m.user
            for m in organisation.memberships.filter(
                active=True, role__in=list(access.SHARE_ROLES)
            ).select_related("user")
        ],
        lambda: Message(
            "share_made",
            _("A child's file from another area is shared with your organisation"),
            "",
            f"/children/{child.pk}/",
        ),
        now=now,
    )
    return share


def consent_withdrawn(*, child: Child, actor: User | None = None, **signal: object) -> int:
    """The guardian withdrew a consent: the shares of the child's file made on the guardian's
    consent end with it, unless a consent covering sharing is still in force (connected to
    `children.signals.consent_withdrawn`). How many ended."""
    if sharing_consent(child) is not None:
        return 0
    ended = 0
    for share in Share.objects.select_for_update().filter(
        child=child, active=True, basis=Basis.CONSENT
    ):
        share.active, share.ended_at = False, clock.now()
        share.ended_by = actor if actor is not None and actor.is_authenticated else None
        share.end_reason = _("The guardian withdrew the consent to sharing.")
        share.save()
        record_change(
            actor=actor,
            obj=share,
            operation="update",
            changes={"active": [True, False], "end_reason": [None, share.end_reason]},
            child_id=child.pk,
        )
        ended += 1
    access.forget_assignments()
    return ended


@transaction.atomic
def share_end(*, actor: User, share: Share, reason: str, now: dt.datetime | None = None) -> Share:
    now = now or clock.now()
    share = Share.objects.select_for_update().select_related("child").get(pk=share.pk)
    if not access.may_end_share(actor, share):
        raise PermissionDenied(_("Only either side of the share ends it."))
    if not share.active:
        raise ValidationError(_("This share has already ended."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why.")]})
    share.active, share.ended_by, share.ended_at = False, actor, now
    share.end_reason = reason.strip()[:NOTE_MAX]
    share.save()
    record_change(
        actor=actor,
        obj=share,
        operation="update",
        changes={"active": [True, False], "end_reason": [None, share.end_reason]},
        child_id=share.child_id,
    )
    access.forget_assignments()
    return share
