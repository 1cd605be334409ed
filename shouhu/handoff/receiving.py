"""Receiving a child's file from another deployment (each write one transaction, each
audited).

The package is opened with this deployment's key and its signature verified against a
trusted peer organisation's key; the file must carry a consent or legal basis for sharing.
Then the registry's duplicate check (`children.selectors.possible_duplicates`, within the
importer's area): no candidate, and the child is registered in the village the importer
names (`children.registration.child_register`); a candidate, and the package waits as an
`Incoming` for review — nothing registered is ever overwritten. The reviewer registers it as
a new child or attaches it to a registered one (the package stays the record of what was
received; the differences are listed, never copied over).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access, record_change
from shouhu.children.consents import consent_create, processing_basis_record
from shouhu.children.data import (
    ChildData,
    ConsentData,
    DelegatedCareData,
    HouseholdData,
    MemberData,
)
from shouhu.children.models import Basis, Child
from shouhu.children.registration import child_register
from shouhu.children.selectors import possible_duplicates
from shouhu.handoff import keys
from shouhu.handoff.differences import differences
from shouhu.handoff.models import Incoming, IncomingStatus, PeerKey
from shouhu.handoff.package import PackageRefused, open_sealed
from shouhu.lib import clock, protect
from shouhu.places.models import Level, Place

MAX_AGE = dt.timedelta(days=30)
CLOCK_SKEW = dt.timedelta(minutes=10)


def _refused(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _private_key(fp: str) -> Any:
    return keys.deployment_private_key(fp)


@dataclass
class _Verified:
    body: dict[str, Any]
    signer: PeerKey


def _open(data: bytes) -> _Verified:
    signer: dict[str, PeerKey] = {}

    def verify_key_for(fp: str) -> Any:
        row = keys.trusted_signer(fp)
        if row is None:
            return None
        signer["row"] = row
        return keys.verify_key(row)

    opened = open_sealed(data, private_key_for=_private_key, verify_key_for=verify_key_for)
    body = opened.body
    if not _complete(body):
        raise PackageRefused(_("The child's file in this package is incomplete."))
    if body["sender"]["signer_fingerprint"] != opened.header["sender"]:
        raise PackageRefused(_("This package was altered or damaged after it was sealed."))
    problem = (
        addressing_problem(body, opened.header["recipient"], signer["row"])
        or age_problem(body["created_at"])
        or (_("This package was imported already.") if _imported(body["package_id"]) else "")
        or consent_problem(body)
    )
    if problem:
        raise PackageRefused(problem)
    return _Verified(body, signer["row"])


def _imported(package_id: str) -> bool:
    return Incoming.objects.filter(package_id=package_id).exists()


def addressing_problem(body: dict[str, Any], recipient_fp: str, signer: PeerKey) -> str:
    """Why the signed file does not fit the envelope it came in: signed for another
    deployment (a package opened there and sealed again to here), or naming a sending
    deployment or organisation other than the trusted key's."""
    recipient, sender = body["recipient"], body["sender"]
    if recipient["fingerprint"] != recipient_fp or recipient["deployment"] != keys.deployment_id():
        return _("This package was signed for another deployment and forwarded here: refused.")
    if sender["deployment"] != signer.peer.deployment:
        return _(
            "This package names a sending deployment other than the one trusted with its "
            "signing key: refused."
        )
    organisation = sender["organisation"]
    if organisation["name"] != signer.organisation or (
        signer.organisation_ref and str(organisation.get("id", "")) != signer.organisation_ref
    ):
        return _(
            "This package names a sending organisation other than the one trusted with its "
            "signing key: refused."
        )
    return ""


def age_problem(created_at: str) -> str:
    """A package is received within 30 days of being sealed, and never dated ahead of this
    deployment's clock by more than a few minutes."""
    try:
        sealed = _instant(created_at)
    except ValidationError:
        return _("The child's file in this package is incomplete.")
    now = clock.now()
    if sealed < now - MAX_AGE:
        return _("This package was sealed more than 30 days ago: ask the sender for a new one.")
    if sealed > now + CLOCK_SKEW:
        return _("This package is dated in the future: check the clocks of both deployments.")
    return ""


SECTIONS: dict[str, type] = {
    "package_id": str,
    "created_at": str,
    "sender": dict,
    "child": dict,
    "household": dict,
    "members": list,
    "consents": list,
    "processing_bases": list,
    "recipient": dict,
}


def _complete(body: dict[str, Any]) -> bool:
    """The file has every section of its format, each of its kind (a signed file from a
    trusted peer may still come from a faulty version)."""
    if not all(isinstance(body.get(k), kind) for k, kind in SECTIONS.items()):
        return False
    sender, recipient = body["sender"], body["recipient"]
    organisation = sender.get("organisation")
    return (
        0 < len(body["package_id"]) <= 36
        and isinstance(sender.get("signer_fingerprint"), str)
        and isinstance(sender.get("deployment"), str)
        and isinstance(organisation, dict)
        and isinstance(organisation.get("name"), str)
        and isinstance(recipient.get("deployment"), str)
        and isinstance(recipient.get("fingerprint"), str)
        and all(isinstance(m, dict) for m in body["members"])
    )


def consent_problem(body: dict[str, Any]) -> str:
    """Why the file may not be received: it must carry a guardian's consent to sharing in
    force (given by a guardian among its members) or a legal basis for sharing."""
    try:
        members = body["members"]
        consent = any(
            c.get("withdrawn_on") is None
            and isinstance(c.get("scopes"), list)
            and "sharing" in c["scopes"]
            and isinstance(c.get("given_by"), int)
            and 0 <= c["given_by"] < len(members)
            and members[c["given_by"]].get("is_guardian") is True
            for c in body["consents"]
        )
        basis = any(
            b.get("purpose") == "sharing" and b.get("basis") in Basis.values
            for b in body["processing_bases"]
        )
    except (KeyError, TypeError, AttributeError):
        return _("The child's file in this package is incomplete.")
    if consent or basis:
        return ""
    return _(
        "This package carries no guardian's consent to sharing and no legal basis for "
        "sharing: it was not imported."
    )


def _log_refused(actor: User, message: str, village_code: str) -> None:
    log_access(
        user=actor,
        action=Action.DENIED,
        object_type="handoff_package",
        purpose="handoff_import",
        reason=message,
        detail={"village": village_code},
    )


def _check_village(actor: User, village_code: str) -> Place:
    """The destination village, in the importer's area; a refusal is logged."""
    place = Place.objects.filter(pk=village_code, level=Level.VILLAGE).first()
    if place is None:
        message = _("No village has the code %(code)s.") % {"code": village_code}
        _log_refused(actor, message, village_code)
        raise ValidationError({"village": message})
    if not access.may_import_handoff(actor, village_code):
        message = _("Only a supervisor of this village's area receives a child here.")
        _log_refused(actor, message, village_code)
        raise PermissionDenied(message)
    return place


def handoff_import(*, actor: User, data: bytes, village_code: str) -> Incoming:
    """Receive a package into a village of the importer's area: verified, then registered,
    or kept for review when the child may be registered already. A refused package is
    logged with its reason and leaves nothing else behind."""
    village = _check_village(actor, village_code.strip())
    try:
        verified = _open(data)
    except PackageRefused as exc:
        _log_refused(actor, str(exc), village.code)
        raise _refused(str(exc)) from None
    try:
        return _receive(actor, verified, village)
    except ValidationError as exc:  # the registry refused the file's child
        _log_refused(actor, " ".join(exc.messages), village.code)
        raise
    except IntegrityError:  # the same package, imported at the same time by someone else
        package_id = verified.body["package_id"]
        if not Incoming.objects.filter(package_id=package_id).exists():  # committed since
            raise
        message = _("This package was imported already.")
        _log_refused(actor, message, village.code)
        raise _refused(message) from None


@transaction.atomic
def _receive(actor: User, verified: _Verified, village: Place) -> Incoming:
    body = verified.body
    data = child_data(body, village.code)
    candidates = possible_duplicates(
        user=actor,
        id_number=data.id_number,
        name=data.name,
        birth_date=data.birth_date,
        village_code=village.code,
    )
    now = clock.now()
    incoming = Incoming(
        package_id=str(body["package_id"])[:36],
        peer=verified.signer.peer,
        signer=verified.signer,
        sender_organisation=verified.signer.organisation[:200],
        sent_at=_instant(body["created_at"]),
        name=data.name[:100],
        birth_date=data.birth_date,
        village=village,
        payload_enc=protect.seal(json.dumps(body, ensure_ascii=False, sort_keys=True)),
        candidates=[c.pk for c in candidates],
        status=IncomingStatus.PENDING if candidates else IncomingStatus.REGISTERED,
        imported_at=now,
        imported_by=actor,
    )
    if not candidates:
        incoming.child = _register(actor, body, village.code, incoming.sender_organisation)
    incoming.save()
    log_access(
        user=actor,
        action=Action.IMPORT,
        child_id=incoming.child_id,
        object_type="handoff_package",
        object_id=incoming.package_id,
        fields=sorted(access.ALL),
        purpose="handoff_import",
        detail={
            "peer": incoming.peer.name,
            "status": incoming.status,
            "candidates": len(candidates),
            "count": 1,
        },
    )
    return incoming


def _instant(text: Any) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(str(text))
    except ValueError:
        raise _refused(_("The child's file in this package is incomplete.")) from None
    return value if value.tzinfo else value.replace(tzinfo=clock.SHANGHAI)


def _date(text: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(text)) if text else None


def _known_place(code: Any) -> str:
    """A place code of the sender that this deployment knows too (else left out: the file
    itself keeps it)."""
    code = str(code or "")
    return code if code and Place.objects.filter(pk=code).exists() else ""


def child_data(body: dict[str, Any], village_code: str) -> ChildData:
    """The child of the package as the registry's input, living in `village_code`: the
    sender's school is not a school here, and the time since the child moved starts again."""
    try:
        c = body["child"]
        birth = _date(c["birth_date"])
        assert birth is not None
        return ChildData(
            name=str(c["name"]),
            sex=str(c["sex"]),
            birth_date=birth,
            residence_code=village_code,
            living_arrangement=str(c["living_arrangement"]),
            id_number=str(c.get("id_number", "")),
            hukou_code=_known_place(c.get("hukou_code")),
            grade=str(c.get("grade", "")),
            boarding=bool(c.get("boarding", False)),
            schooling=str(c.get("schooling", "enrolled")),
            health=str(c.get("health", "well")),
            disability_type=str(c.get("disability_type", "")),
            disability_grade=str(c.get("disability_grade", "")),
            guardianship_type=str(c.get("guardianship_type", "")),
            guardianship_rating=str(c.get("guardianship_rating", "")),
        )
    except (KeyError, TypeError, ValueError, AssertionError):
        raise _refused(_("The child's file in this package is incomplete.")) from None


def _members(body: dict[str, Any]) -> list[MemberData]:
    return [
        MemberData(
            name=str(m["name"]),
            relation=str(m["relation"]),
            is_guardian=bool(m.get("is_guardian")),
            capacity=str(m.get("capacity", "able")),
            away=bool(m.get("away")),
            away_place_code=_known_place(m.get("away_place_code")),
            away_since=_date(m.get("away_since")),
            away_reason=str(m.get("away_reason", "")),
            workplace=str(m.get("workplace", "")),
            phone=str(m.get("phone", "")),
        )
        for m in body["members"]
    ]


def _care(body: dict[str, Any]) -> DelegatedCareData | None:
    care = body.get("delegated_care")
    if not care:
        return None
    return DelegatedCareData(
        carer_index=int(care["carer"]),
        no_abuse_record=bool(care.get("no_abuse_record")),
        no_drugs_alcohol_gambling=bool(care.get("no_drugs_alcohol_gambling")),
        no_neglect_history=bool(care.get("no_neglect_history")),
        capable_adult=bool(care.get("capable_adult")),
        notice_to_school_on=_date(care.get("notice_to_school_on")),
        notice_to_village_on=_date(care.get("notice_to_village_on")),
        confirmation_signed_on=_date(care.get("confirmation_signed_on")),
    )


def _consents_in_force(body: dict[str, Any], members: list[MemberData]) -> list[ConsentData]:
    return [
        ConsentData(
            given_by_index=c["given_by"],
            given_on=dt.date.fromisoformat(c["given_on"]),
            version=str(c["version"])[:20],
            scopes=[str(s) for s in c["scopes"]],
        )
        for c in body["consents"]
        if c.get("withdrawn_on") is None
        and isinstance(c.get("scopes"), list)
        and isinstance(c.get("given_by"), int)
        and 0 <= c["given_by"] < len(members)
        and members[c["given_by"]].is_guardian
    ]


def _register(actor: User, body: dict[str, Any], village_code: str, sender: str) -> Child:
    """Register the package's child in `village_code`, with its family, delegated care,
    the guardians' consents in force and the legal bases of processing (noted as recorded
    by `sender`, the organisation of the trusted signing key). The address stays in the
    package: the family lives elsewhere now."""
    try:
        members = _members(body)
        care = _care(body)
        consents = _consents_in_force(body, members)
        household = body["household"]
        aid, income = str(household.get("aid", "none")), str(household.get("income_source", ""))
        bases = [
            (str(b["purpose"]), str(b["basis"]), str(b.get("note", "")))
            for b in body["processing_bases"]
        ]
    except (KeyError, TypeError, ValueError):
        raise _refused(_("The child's file in this package is incomplete.")) from None
    try:
        child = child_register(
            actor=actor,
            child=child_data(body, village_code),
            household=HouseholdData(village_code=village_code, aid=aid, income_source=income),
            members=members,
            delegated_care=care,
            consent=consents[0] if consents else None,
        )
        rows = list(child.household.members.order_by("id"))
        for c in consents[1:]:
            consent_create(actor, child, rows[c.given_by_index], c.given_on, c.version, c.scopes)
        for purpose, basis, note in bases:
            processing_basis_record(
                actor=actor,
                child=child,
                purpose=purpose,
                basis=basis,
                note=note or _("Recorded by %(sender)s.") % {"sender": sender},
            )
    except ValidationError as exc:
        raise _refused(_in_package(exc)) from None
    return child


def _in_package(exc: ValidationError) -> str:
    """A registry's field error about the package's file, naming the field."""
    if hasattr(exc, "error_dict"):
        parts = [f"{name}: {' '.join(map(str, msgs))}" for name, msgs in exc.message_dict.items()]
    else:
        parts = [str(m) for m in exc.messages]
    return _("The child in this package cannot be registered here (%(problems)s).") % {
        "problems": "; ".join(parts)
    }


# ---------------------------------------------------------------- review


def package_body(incoming: Incoming) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(protect.unseal(incoming.payload_enc))
    return body


def _pending(actor: User, incoming: Incoming) -> Incoming:
    if not access.may_import_handoff(actor, incoming.village_id):
        raise PermissionDenied(_("Only a supervisor of this village's area reviews this package."))
    locked = Incoming.objects.select_for_update().get(pk=incoming.pk)
    if locked.status != IncomingStatus.PENDING:
        raise ValidationError({"status": _("This package has been reviewed already.")})
    trusted = PeerKey.objects.filter(
        pk=locked.signer_id, revoked_at__isnull=True, peer__revoked_at__isnull=True
    )
    if not trusted.exists():
        raise ValidationError(
            {
                "signer": _(
                    "The key that signed this package, or its deployment, was revoked since "
                    "the package was received: it can no longer be registered or attached."
                )
            }
        )
    return locked


@transaction.atomic
def incoming_register(*, actor: User, incoming: Incoming) -> Child:
    """The reviewer finds the package is a child not registered here: register it."""
    locked = _pending(actor, incoming)
    child = _register(actor, package_body(locked), locked.village_id, locked.sender_organisation)
    locked.child, locked.status = child, IncomingStatus.REGISTERED_AFTER_REVIEW
    locked.resolved_by, locked.resolved_at = actor, clock.now()
    locked.save(update_fields=["child", "status", "resolved_by", "resolved_at"])
    log_access(
        user=actor,
        action=Action.IMPORT,
        child_id=child.pk,
        object_type="handoff_incoming",
        object_id=str(locked.pk),
        fields=sorted(access.ALL),
        purpose="handoff_register",
        detail={"package_id": locked.package_id},
    )
    return child


@transaction.atomic
def incoming_attach(*, actor: User, incoming: Incoming, child: Child) -> Incoming:
    """The reviewer finds the package is a child already registered: the package is
    attached to that child's file, as a line of its history (the package page keeps showing
    it beside the child, with the fields that differ). Nothing of the registered file
    changes; what to take over is edited by hand."""
    locked = _pending(actor, incoming)
    if child.pk not in locked.candidates:
        raise ValidationError({"child": _("Choose one of the possible duplicates.")})
    if not access.can_edit(actor, child):
        raise PermissionDenied(_("You cannot change this child's registration."))
    differing = [d.field for d in differences(package_body(locked), child) if not d.same]
    locked.child, locked.status = child, IncomingStatus.ATTACHED
    locked.resolved_by, locked.resolved_at = actor, clock.now()
    locked.save(update_fields=["child", "status", "resolved_by", "resolved_at"])
    record_change(
        actor=actor,
        obj=locked,
        operation="update",
        changes={
            "package_id": [locked.package_id, locked.package_id],
            "sender_organisation": [locked.sender_organisation, locked.sender_organisation],
            "status": [IncomingStatus.PENDING.value, locked.status],
        },
        child_id=child.pk,
    )
    log_access(
        user=actor,
        action=Action.IMPORT,
        child_id=child.pk,
        object_type="handoff_incoming",
        object_id=str(locked.pk),
        fields=sorted(access.ALL),
        purpose="handoff_attach",
        detail={"package_id": locked.package_id, "differences": differing},
    )
    return locked
