"""A hand-off package: the child's file as JSON, signed by the sending organisation
(Ed25519) and encrypted to the receiving deployment (X25519 + HKDF-SHA256 + AES-256-GCM).

The file is one JSON envelope::

    {"header": {"format", "recipient", "ephemeral", "nonce", "sender"},
     "ciphertext": base64}

`recipient` and `sender` are the fingerprints of the receiving deployment's key and of the
signing organisation's key; `ephemeral` the sender's one-time X25519 public key. The whole
header, as canonical JSON, is the associated data of the encryption: changing any byte of it
or of the ciphertext makes the package refuse to open. Inside is `{"body": file, "signature":
base64}`, the signature over the canonical JSON of the file.

`build_file` writes the child's file (`FILE_FORMAT`); `seal` and `open_sealed` are the
cryptography alone and know no database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.utils.translation import gettext as _

from shouhu.accounts.models import Organisation, User
from shouhu.cases.models import Case
from shouhu.children.consents import sharing_status
from shouhu.children.models import Child, DelegatedCare, FamilyMember
from shouhu.handoff.keys import b64, fingerprint, public_raw, unb64
from shouhu.lib import clock, protect

ENVELOPE_FORMAT = "shouhu-handoff/1"
FILE_FORMAT = 1
HKDF_INFO = b"shouhu-handoff-v1 aes-256-gcm"
MAX_PACKAGE_BYTES = 2 * 1024 * 1024
HEADER_KEYS = frozenset({"format", "recipient", "ephemeral", "nonce", "sender"})


class PackageRefused(Exception):
    """A package that does not open: damaged, tampered, for another deployment, or signed
    by a key this deployment does not trust. The message says which, in words."""


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that is signed and authenticated."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _aes_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=HKDF_INFO
    ).derive(shared)


# ---------------------------------------------------------------- sealing and opening


def seal(
    body: dict[str, Any], *, signing_key: Ed25519PrivateKey, recipient: X25519PublicKey
) -> bytes:
    """Sign the file with the organisation's key and encrypt it to the recipient."""
    signature = signing_key.sign(canonical(body))
    inner = canonical({"body": body, "signature": b64(signature)})
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = public_raw(ephemeral.public_key())
    recipient_raw = public_raw(recipient)
    nonce = os.urandom(12)
    header = {
        "format": ENVELOPE_FORMAT,
        "recipient": fingerprint(recipient_raw),
        "ephemeral": b64(ephemeral_raw),
        "nonce": b64(nonce),
        "sender": fingerprint(public_raw(signing_key.public_key())),
    }
    key = _aes_key(ephemeral.exchange(recipient), ephemeral_raw, recipient_raw)
    ciphertext = AESGCM(key).encrypt(nonce, inner, canonical(header))
    envelope = {"header": header, "ciphertext": b64(ciphertext)}
    return json.dumps(envelope, indent=1, sort_keys=True).encode() + b"\n"


@dataclass(frozen=True)
class Opened:
    header: dict[str, str]
    body: dict[str, Any]


def read_header(data: bytes) -> tuple[dict[str, str], bytes]:
    """The envelope's header and ciphertext; refused when it is not a hand-off package."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise PackageRefused(_("This file is too large to be a hand-off package."))
    try:
        envelope = json.loads(data.decode("utf-8"))
        header = envelope["header"]
        ciphertext = unb64(envelope["ciphertext"])
        ok = isinstance(header, dict) and set(header) == HEADER_KEYS
        ok = ok and all(isinstance(v, str) for v in header.values())
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        ok = False
    if not ok:
        raise PackageRefused(_("This file is not a hand-off package."))
    if header["format"] != ENVELOPE_FORMAT:
        raise PackageRefused(_("This package is of a format this deployment does not read."))
    return header, ciphertext


def open_sealed(
    data: bytes,
    *,
    private_key_for: Callable[[str], X25519PrivateKey | None],
    verify_key_for: Callable[[str], Ed25519PublicKey | None],
) -> Opened:
    """Decrypt with this deployment's key named by the header and verify the signature with
    the trusted key of the signer it names. Any tampering, a package for another deployment
    and an unknown or revoked signer are refused (`PackageRefused`)."""
    header, ciphertext = read_header(data)
    private = private_key_for(header["recipient"])
    if private is None:
        raise PackageRefused(
            _("This package is addressed to another deployment's key, not to this one.")
        )
    tampered = _("This package was altered or damaged after it was sealed; it cannot be trusted.")
    try:
        ephemeral_raw = unb64(header["ephemeral"], length=32)
        nonce = unb64(header["nonce"], length=12)
        ephemeral = X25519PublicKey.from_public_bytes(ephemeral_raw)
        recipient_raw = public_raw(private.public_key())
        key = _aes_key(private.exchange(ephemeral), ephemeral_raw, recipient_raw)
        inner = json.loads(AESGCM(key).decrypt(nonce, ciphertext, canonical(header)))
        body, signature = inner["body"], unb64(inner["signature"], length=64)
    except (InvalidTag, ValueError, KeyError, TypeError):
        raise PackageRefused(tampered) from None
    except RecursionError:  # authenticated, but nested deeper than any file of the format
        raise PackageRefused(
            _("The file in this package is nested too deeply to be read.")
        ) from None
    verify = verify_key_for(header["sender"])
    if verify is None:
        raise PackageRefused(
            _("This package is signed by an organisation this deployment does not trust.")
        )
    try:
        verify.verify(signature, canonical(body))
    except InvalidSignature:
        raise PackageRefused(tampered) from None
    except RecursionError:
        raise PackageRefused(
            _("The file in this package is nested too deeply to be read.")
        ) from None
    if not isinstance(body, dict) or body.get("format") != FILE_FORMAT:
        raise PackageRefused(_("This package is of a format this deployment does not read."))
    return Opened(header=header, body=body)


# ---------------------------------------------------------------- the child's file


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _members(child: Child) -> list[FamilyMember]:
    return list(child.household.members.select_related("away_place").order_by("id"))


def _member(m: FamilyMember) -> dict[str, Any]:
    return {
        "name": m.name,
        "relation": m.relation,
        "is_guardian": m.is_guardian,
        "capacity": m.capacity,
        "away": m.away,
        "away_place_code": m.away_place_id or "",
        "away_place_name": m.away_place.full_name if m.away_place else "",
        "away_since": _date(m.away_since),
        "away_reason": m.away_reason,
        "workplace": m.workplace,
        "phone": protect.unseal(m.phone_enc),
    }


def _child(child: Child) -> dict[str, Any]:
    return {
        "name": child.name,
        "sex": child.sex,
        "birth_date": child.birth_date.isoformat(),
        "id_number": protect.unseal(child.id_number_enc),
        "hukou_code": child.hukou_id or "",
        "hukou_name": child.hukou.full_name if child.hukou else "",
        "residence_code": child.residence_id,
        "residence_name": child.residence.full_name,
        "residence_since": _date(child.residence_since),
        "school_name": child.school.name if child.school else "",
        "grade": child.grade,
        "boarding": child.boarding,
        "schooling": child.schooling,
        "health": child.health,
        "disability_type": child.disability_type,
        "disability_grade": child.disability_grade,
        "living_arrangement": child.living_arrangement,
        "guardianship_type": child.guardianship_type,
        "guardianship_rating": child.guardianship_rating,
    }


CATEGORIES = (
    "left_behind_mca",
    "left_behind_census",
    "migrant",
    "difficulty_poverty",
    "difficulty_disability",
    "difficulty_guardianship",
    "de_facto_unsupported",
    "orphan",
)


def _categories(child: Child) -> dict[str, Any]:
    """The categories as the sender derived them: facts for the reader, never typed in here
    (the receiving registry derives its own)."""
    return {
        "flags": [c for c in CATEGORIES if getattr(child, f"cat_{c}")],
        "on": _date(child.categories_on),
        "valid_until": _date(child.categories_valid_until),
    }


def _care(child: Child, index: dict[int, int]) -> dict[str, Any] | None:
    care = DelegatedCare.objects.filter(household_id=child.household_id).first()
    if care is None or care.carer_id not in index:
        return None
    return {
        "carer": index[care.carer_id],
        "no_abuse_record": care.no_abuse_record,
        "no_drugs_alcohol_gambling": care.no_drugs_alcohol_gambling,
        "no_neglect_history": care.no_neglect_history,
        "capable_adult": care.capable_adult,
        "notice_to_school_on": _date(care.notice_to_school_on),
        "notice_to_village_on": _date(care.notice_to_village_on),
        "confirmation_signed_on": _date(care.confirmation_signed_on),
    }


def _consents(child: Child, index: dict[int, int]) -> list[dict[str, Any]]:
    return [
        {
            "given_by": index.get(c.given_by_id),
            "given_by_name": c.given_by.name,
            "given_on": c.given_on.isoformat(),
            "version": c.version,
            "scopes": list(c.scopes),
            "withdrawn_on": _date(c.withdrawn_on),
        }
        for c in child.consents.select_related("given_by").order_by("given_on", "id")
    ]


def _cases(child: Child) -> list[dict[str, Any]]:
    """The child's open cases, in summary: who works on it, its stage and goals. Case notes
    are sealed and never leave the deployment."""
    cases = Case.objects.filter(child=child, closed_at__isnull=True).select_related("organisation")
    return [
        {
            "organisation": case.organisation.name,
            "stage": case.stage,
            "urgency": case.urgency,
            "opened_at": case.opened_at.isoformat(),
            "goals": [
                {"domain": g.domain, "description": g.description, "status": g.status}
                for g in case.goals.order_by("id")
            ],
        }
        for case in cases.order_by("opened_at", "id")
    ]


def build_file(
    *,
    child: Child,
    organisation: Organisation,
    signer_fingerprint: str,
    deployment: str,
    recipient_deployment: str,
    recipient_fingerprint: str,
    actor: User,
) -> dict[str, Any]:
    """The child's whole file, decrypted, for the receiving deployment."""
    members = _members(child)
    index = {m.pk: i for i, m in enumerate(members)}
    home = child.household
    status = sharing_status(child)
    return {
        "format": FILE_FORMAT,
        "package_id": str(uuid.uuid4()),
        "created_at": clock.now().isoformat(),
        "sender": {
            "deployment": deployment,
            "organisation": {"id": str(organisation.pk), "name": organisation.name},
            "signer_fingerprint": signer_fingerprint,
            "exported_by": str(actor),
        },
        "recipient": {"deployment": recipient_deployment, "fingerprint": recipient_fingerprint},
        "child": _child(child),
        "categories": _categories(child),
        "household": {
            "village_code": home.village_id,
            "village_name": home.village.full_name,
            "address": protect.unseal(home.address_enc),
            "aid": home.aid,
            "income_source": home.income_source,
        },
        "members": [_member(m) for m in members],
        "delegated_care": _care(child, index),
        "consents": _consents(child, index),
        "processing_bases": [
            {
                "purpose": b.purpose,
                "basis": b.basis,
                "note": b.note,
                "recorded_on": b.recorded_on.isoformat(),
            }
            for b in child.processing_bases.order_by("purpose")
        ],
        "sharing": {"allowed": status.allowed, "basis": status.basis},
        "cases": _cases(child),
    }
