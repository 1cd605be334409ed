"""The keys of hand-off packages (`shouhu keys`): this deployment's X25519 key pair, each
organisation's Ed25519 signing key pair, and the trusted peers (other deployments' public
X25519 keys and their organisations' verify keys), imported from the public bundle a peer
exports (`public_bundle`).

Private keys leave this module only as `cryptography` objects; in the database they are
sealed with the field key (`lib.protect`). A key is never overwritten: generating again
needs `rotate`, which keeps the old key (a rotated deployment key still opens the packages
already sent to it) and makes a new one current.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu.accounts.models import Organisation, User
from shouhu.audit.services import diff, record_change, snapshot
from shouhu.handoff.models import DeploymentKey, Peer, PeerKey, SigningKey
from shouhu.lib import clock, protect

BUNDLE_FORMAT = "shouhu-keys/1"
RAW = serialization.Encoding.Raw
RAW_PUBLIC = serialization.PublicFormat.Raw
RAW_PRIVATE = serialization.PrivateFormat.Raw
NAME_MAX = 100  # Peer.name
CURVE25519_P = 2**255 - 19
PEER_FIELDS = ("name", "deployment", "public_key", "fingerprint", "revoked_at")
PEER_KEY_FIELDS = ("peer", "organisation", "organisation_ref", "fingerprint", "revoked_at")


def deployment_id() -> str:
    """This deployment's name in packages and bundles (`SHOUHU_DEPLOYMENT_ID`)."""
    return str(getattr(settings, "SHOUHU_DEPLOYMENT_ID", "")) or "shouhu"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: str, *, length: int | None = None) -> bytes:
    """Base64 text to bytes; ValueError when it is not base64 (of `length` bytes)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError) as exc:
        raise ValueError("not base64") from exc
    if length is not None and len(raw) != length:
        raise ValueError(f"not {length} bytes")
    return raw


def fingerprint(public_raw: bytes) -> str:
    """The first 128 bits of the SHA-256 of a raw public key, in hex (read aloud in groups
    of four when two people compare keys)."""
    return hashlib.sha256(public_raw).hexdigest()[:32]


def public_raw(key: X25519PublicKey | Ed25519PublicKey) -> bytes:
    return key.public_bytes(RAW, RAW_PUBLIC)


def _private_raw(key: X25519PrivateKey | Ed25519PrivateKey) -> bytes:
    return key.private_bytes(RAW, RAW_PRIVATE, serialization.NoEncryption())


def _seal(key: X25519PrivateKey | Ed25519PrivateKey) -> str:
    return protect.seal(b64(_private_raw(key)))


# ---------------------------------------------------------------- reading keys


def current_deployment_key() -> DeploymentKey | None:
    return DeploymentKey.objects.filter(current=True, revoked_at__isnull=True).first()


def deployment_private_key(fp: str) -> X25519PrivateKey | None:
    """This deployment's private key with this fingerprint (current or rotated, never a
    revoked one), or None."""
    row = DeploymentKey.objects.filter(fingerprint=fp, revoked_at__isnull=True).first()
    if row is None:
        return None
    return X25519PrivateKey.from_private_bytes(unb64(protect.unseal(row.private_key_enc)))


def current_signing_key(organisation: Organisation) -> SigningKey | None:
    return SigningKey.objects.filter(
        organisation=organisation, current=True, revoked_at__isnull=True
    ).first()


def signing_private_key(row: SigningKey) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(unb64(protect.unseal(row.private_key_enc)))


def trusted_signer(fp: str) -> PeerKey | None:
    """A peer organisation's verify key with this fingerprint, neither it nor its peer
    revoked."""
    return (
        PeerKey.objects.filter(
            fingerprint=fp, revoked_at__isnull=True, peer__revoked_at__isnull=True
        )
        .select_related("peer")
        .first()
    )


def verify_key(row: PeerKey) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(unb64(row.public_key, length=32))


def peer_public_key(peer: Peer) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(unb64(peer.public_key, length=32))


def active_peers() -> Any:
    return Peer.objects.filter(revoked_at__isnull=True).order_by("name")


# ---------------------------------------------------------------- generating keys


def _actor_name(actor: User | None) -> str:
    return actor.username if actor is not None else "command line"


def _record_created(
    actor: User | None, row: DeploymentKey | SigningKey | PeerKey | Peer, fields: tuple[str, ...]
) -> None:
    """A key made or trusted, in the change history (its public half only)."""
    record_change(
        actor=actor,
        obj=row,
        operation="create",
        changes={name: [None, value] for name, value in snapshot(row, fields).items()},
        child_id=None,
    )


def _no_longer_current(actor: User | None, old: DeploymentKey | SigningKey) -> None:
    """A key rotated away: kept, no longer current (in the change history)."""
    old.current = False
    old.save(update_fields=["current"])
    record_change(
        actor=actor,
        obj=old,
        operation="update",
        changes={"current": [True, False], "fingerprint": [old.fingerprint, old.fingerprint]},
        child_id=None,
    )


@transaction.atomic
def deployment_key_generate(*, actor: User | None, rotate: bool = False) -> DeploymentKey:
    """A new X25519 key pair for this deployment. Refused when one is current, unless
    `rotate` (the old key is kept, no longer current, still opening what was sent to it)."""
    old = DeploymentKey.objects.select_for_update().filter(current=True).first()
    if old is not None and old.revoked_at is None and not rotate:
        raise ValidationError(
            {"rotate": _("This deployment already has a key; rotate it to make a new one.")}
        )
    if old is not None:
        _no_longer_current(actor, old)
    key = X25519PrivateKey.generate()
    raw = public_raw(key.public_key())
    row = DeploymentKey.objects.create(
        deployment=deployment_id(),
        public_key=b64(raw),
        private_key_enc=_seal(key),
        fingerprint=fingerprint(raw),
        created_at=clock.now(),
        created_by=actor,
    )
    _record_created(actor, row, ("deployment", "fingerprint", "current"))
    return row


@transaction.atomic
def signing_key_generate(
    *, actor: User | None, organisation: Organisation, rotate: bool = False
) -> SigningKey:
    """A new Ed25519 key pair for an organisation (refused when it has one, unless
    `rotate`: packages it signed keep verifying with the old key where peers trust it)."""
    old = (
        SigningKey.objects.select_for_update()
        .filter(organisation=organisation, current=True)
        .first()
    )
    if old is not None and old.revoked_at is None and not rotate:
        raise ValidationError(
            {
                "rotate": _(
                    "%(organisation)s already has a signing key; rotate it to make a new one."
                )
                % {"organisation": organisation.name}
            }
        )
    if old is not None:
        _no_longer_current(actor, old)
    key = Ed25519PrivateKey.generate()
    raw = public_raw(key.public_key())
    row = SigningKey.objects.create(
        organisation=organisation,
        public_key=b64(raw),
        private_key_enc=_seal(key),
        fingerprint=fingerprint(raw),
        created_at=clock.now(),
        created_by=actor,
    )
    _record_created(actor, row, ("organisation", "fingerprint", "current"))
    return row


def public_bundle() -> dict[str, Any]:
    """What a peer needs to send here and to check what is sent from here: the deployment's
    public key and the verify keys of its organisations, each with its fingerprint."""
    own = current_deployment_key()
    if own is None:
        raise ValidationError({"deployment": _("This deployment has no key yet.")})
    signers = SigningKey.objects.filter(current=True, revoked_at__isnull=True).select_related(
        "organisation"
    )
    return {
        "format": BUNDLE_FORMAT,
        "deployment": own.deployment,
        "x25519": {"public_key": own.public_key, "fingerprint": own.fingerprint},
        "organisations": [
            {
                "id": str(s.organisation_id),
                "name": s.organisation.name,
                "ed25519": s.public_key,
                "fingerprint": s.fingerprint,
            }
            for s in signers.order_by("organisation_id")
        ],
    }


# ---------------------------------------------------------------- trusted peers


@dataclass(frozen=True)
class BundleKey:
    organisation: str
    ref: str
    public_key: str
    fingerprint: str


@dataclass(frozen=True)
class Bundle:
    deployment: str
    public_key: str
    fingerprint: str
    organisations: list[BundleKey]


def _checked_key(value: Any, fp: Any, field: str) -> tuple[str, str]:
    """A base64 public key of 32 bytes and the fingerprint it must have."""
    try:
        raw = unb64(str(value), length=32)
    except ValueError:
        raise ValidationError({field: _("This is not a public key.")}) from None
    if fingerprint(raw) != fp:
        raise ValidationError({field: _("The fingerprint does not match the key.")})
    return b64(raw), fingerprint(raw)


def _agreeing_x25519(raw: bytes) -> bool:
    """A peer's X25519 public key that a shared secret can be agreed with: a canonical
    point, not of low order (an exchange with a low-order point gives the all-zero secret,
    which is refused)."""
    if int.from_bytes(raw, "little") >= CURVE25519_P:
        return False
    try:
        X25519PrivateKey.generate().exchange(X25519PublicKey.from_public_bytes(raw))
    except ValueError:
        return False
    return True


def read_bundle(data: Any) -> Bundle:
    """A peer's public bundle, checked: its format, each key's length and fingerprint."""
    if not isinstance(data, Mapping) or data.get("format") != BUNDLE_FORMAT:
        raise ValidationError({"file": _("This is not a public key bundle of Shouhu.")})
    x = data.get("x25519")
    orgs = data.get("organisations")
    deployment = data.get("deployment")
    if not isinstance(x, Mapping) or not isinstance(orgs, list) or not deployment:
        raise ValidationError({"file": _("This is not a public key bundle of Shouhu.")})
    key, fp = _checked_key(x.get("public_key"), x.get("fingerprint"), "x25519")
    if not _agreeing_x25519(unb64(key)):
        raise ValidationError(
            {"x25519": _("This deployment key is not a valid X25519 public key.")}
        )
    found = []
    for i, o in enumerate(orgs):
        if not isinstance(o, Mapping) or not str(o.get("name", "")).strip():
            raise ValidationError({f"organisations.{i}": _("An organisation has no name.")})
        okey, ofp = _checked_key(o.get("ed25519"), o.get("fingerprint"), f"organisations.{i}")
        found.append(BundleKey(str(o["name"])[:200], str(o.get("id", ""))[:32], okey, ofp))
    return Bundle(str(deployment)[:64], key, fp, found)


@transaction.atomic
def peer_trust(*, actor: User | None, bundle: Bundle, name: str, replace: bool = False) -> Peer:
    """Trust a peer deployment from its public bundle. A name already trusted is refused
    unless `replace` (the peer rotated its key: the new key replaces the old, new
    organisation keys are added, the old ones stay until revoked)."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationError({"name": _("Give the peer a name of at most 100 characters.")})
    now = clock.now()
    peer = Peer.objects.select_for_update().filter(name=name).first()
    if peer is not None and peer.revoked_at is None and not replace:
        raise ValidationError(
            {"name": _("A peer of this name is trusted already; replace it to update its keys.")}
        )
    _refuse_revoked_or_taken(bundle, peer)
    before = snapshot(peer, PEER_FIELDS) if peer is not None else None
    if peer is None:
        peer = Peer(name=name, added_at=now)
    peer.deployment = bundle.deployment
    peer.public_key, peer.fingerprint = bundle.public_key, bundle.fingerprint
    peer.added_at, peer.added_by, peer.added_by_name = now, actor, _actor_name(actor)
    peer.revoked_at, peer.revoked_by_name = None, ""
    peer.save()
    if before is None:
        _record_created(actor, peer, PEER_FIELDS)
    else:
        changes = diff(before, snapshot(peer, PEER_FIELDS))
        changes.setdefault("name", [peer.name, peer.name])
        record_change(actor=actor, obj=peer, operation="update", changes=changes, child_id=None)
    for k in bundle.organisations:
        row = PeerKey.objects.filter(peer=peer, fingerprint=k.fingerprint).first()
        if row is None:
            row = PeerKey.objects.create(
                peer=peer,
                fingerprint=k.fingerprint,
                organisation=k.organisation,
                organisation_ref=k.ref,
                public_key=k.public_key,
                added_at=now,
            )
            _record_created(actor, row, PEER_KEY_FIELDS)
            continue
        old = snapshot(row, PEER_KEY_FIELDS)
        row.organisation, row.organisation_ref = k.organisation, k.ref
        row.save(update_fields=["organisation", "organisation_ref"])
        record_change(
            actor=actor,
            obj=row,
            operation="update",
            changes=diff(old, snapshot(row, PEER_KEY_FIELDS)),
            child_id=None,
        )
    return peer


def _refuse_revoked_or_taken(bundle: Bundle, peer: Peer | None) -> None:
    """A revoked key stays revoked: a bundle with the revoked key of a peer, or with a
    revoked organisation key, is refused; so is an organisation key trusted already for
    another peer (a verify key names one peer only)."""
    revoked = _("The key %(fingerprint)s was revoked; a revoked key is never trusted again.")
    if Peer.objects.filter(fingerprint=bundle.fingerprint, revoked_at__isnull=False).exists():
        raise ValidationError({"x25519": revoked % {"fingerprint": bundle.fingerprint}})
    for i, k in enumerate(bundle.organisations):
        found = PeerKey.objects.filter(fingerprint=k.fingerprint).select_related("peer").first()
        if found is None:
            continue
        if found.revoked_at is not None:
            raise ValidationError({f"organisations.{i}": revoked % {"fingerprint": k.fingerprint}})
        if peer is None or found.peer_id != peer.pk:
            raise ValidationError(
                {
                    f"organisations.{i}": _(
                        "The key %(fingerprint)s is trusted already for the peer %(name)s."
                    )
                    % {"fingerprint": k.fingerprint, "name": found.peer.name}
                }
            )


@transaction.atomic
def key_revoke(*, actor: User | None, target: str) -> str:
    """Revoke a peer (by name: it and all its keys), one peer organisation's key, or one of
    this deployment's own keys (by fingerprint). What was revoked, in words."""
    now = clock.now()
    peer = Peer.objects.select_for_update().filter(name=target, revoked_at__isnull=True).first()
    if peer is not None:
        peer.revoked_at, peer.revoked_by_name = now, _actor_name(actor)
        peer.save(update_fields=["revoked_at", "revoked_by_name"])
        _record_revoked(actor, peer)
        for key in PeerKey.objects.select_for_update().filter(peer=peer, revoked_at__isnull=True):
            key.revoked_at = now
            key.save(update_fields=["revoked_at"])
            _record_revoked(actor, key)
        return _("Revoked the peer %(name)s and its keys.") % {"name": peer.name}
    for model in (PeerKey, SigningKey, DeploymentKey):
        row = model.objects.select_for_update().filter(fingerprint=target).first()
        if row is not None and row.revoked_at is None:
            row.revoked_at = now
            row.save(update_fields=["revoked_at"])
            _record_revoked(actor, row)
            return _("Revoked the key %(fingerprint)s.") % {"fingerprint": target}
    raise ValidationError({"target": _("No trusted peer or key of this name or fingerprint.")})


def _record_revoked(actor: User | None, row: DeploymentKey | SigningKey | PeerKey | Peer) -> None:
    record_change(
        actor=actor,
        obj=row,
        operation="update",
        changes={
            "fingerprint": [row.fingerprint, row.fingerprint],
            "revoked_at": [None, row.revoked_at.isoformat() if row.revoked_at else None],
        },
        child_id=None,
    )


def key_list() -> dict[str, Any]:
    """Every key, own and trusted, with its state (for `shouhu keys list`)."""
    return {
        "deployment_keys": list(
            DeploymentKey.objects.values(
                "deployment", "fingerprint", "current", "created_at", "revoked_at"
            )
        ),
        "signing_keys": list(
            SigningKey.objects.values(
                "organisation__name", "fingerprint", "current", "created_at", "revoked_at"
            )
        ),
        "peers": [
            {
                "name": p.name,
                "deployment": p.deployment,
                "fingerprint": p.fingerprint,
                "added_by": p.added_by_name,
                "added_at": p.added_at,
                "revoked_at": p.revoked_at,
                "organisations": list(
                    p.keys.values("organisation", "fingerprint", "added_at", "revoked_at")
                ),
            }
            for p in Peer.objects.prefetch_related("keys").order_by("name")
        ],
    }
