"""What a hand-off package must prove before it is received, and what a key's history keeps:
the signed file names this deployment as its recipient (a package opened elsewhere and
sealed again to here is refused) and the trusted key's deployment and organisation as its
sender; the sending organisation shown is the trusted key's; a verify key is trusted for one
peer only, and a revoked key never again; revoking a key after import stops the review; a
consent's scopes are a list; a package is received within 30 days of being sealed and is
never dated ahead; a file nested too deeply, a second import of the same package at the
same time and a peer's invalid X25519 key are refused clearly; keys made, rotated, trusted
and revoked are in the change history; a refused destination village is logged."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from shouhu.accounts.models import User
from shouhu.audit.models import AccessLog, Action, ChangeRecord
from shouhu.children.models import Child
from shouhu.handoff import keys, receiving, services
from shouhu.handoff.models import Incoming, IncomingStatus, Peer, PeerKey
from shouhu.handoff.package import ENVELOPE_FORMAT, _aes_key, canonical
from tests.handoff_world import (
    PEER,
    body_of,
    destination_supervisor,
    sealed,
    set_up_keys,
    stranger_bundle,
)
from tests.world import DEST_COMMUNITY, VILLAGE_B, World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def peer(sharing_allowed: World) -> Peer:
    return set_up_keys(sharing_allowed)


@pytest.fixture
def receiver(world: World) -> User:
    return destination_supervisor(world)


def _export(world: World, peer: Peer) -> bytes:
    return services.handoff_export(
        actor=world.supervisor, child=world.children["a1"], peer=peer
    ).content


def _refused(receiver: User, data: bytes) -> str:
    """The package is refused, registers nothing, and the refusal is logged with its
    reason; the refusal's words."""
    before = Child.objects.count()
    with pytest.raises(ValidationError) as refused:
        receiving.handoff_import(actor=receiver, data=data, village_code=DEST_COMMUNITY)
    message = " ".join(refused.value.message_dict["file"])
    assert Child.objects.count() == before
    assert not Incoming.objects.exists()
    assert AccessLog.objects.filter(
        user=receiver, action=Action.DENIED, purpose="handoff_import", reason=message
    ).exists()
    return message


def _signer(world: World) -> PeerKey:
    signing = keys.current_signing_key(world.orgs["township1"])
    assert signing is not None
    return PeerKey.objects.get(fingerprint=signing.fingerprint)


# ---------------------------------------------------------------- forwarding


@pytest.mark.parametrize(
    ("part", "key", "value"),
    [
        ("recipient", "fingerprint", "0" * 32),
        ("recipient", "fingerprint", ""),
        ("recipient", "deployment", "elsewhere"),
    ],
)
def test_a_package_signed_for_another_deployment_is_refused(
    world: World, peer: Peer, receiver: User, part: str, key: str, value: str
) -> None:
    """Signed by a trusted organisation for another deployment, opened there and sealed
    again to this one (the signature is intact): refused."""
    body = body_of(world, peer)
    body[part][key] = value

    assert "forwarded" in _refused(receiver, sealed(world, peer, body))


def test_a_package_naming_another_sending_deployment_is_refused(
    world: World, peer: Peer, receiver: User
) -> None:
    body = body_of(world, peer)
    body["sender"]["deployment"] = "elsewhere"

    assert "sending deployment" in _refused(receiver, sealed(world, peer, body))


# ---------------------------------------------------------------- the sending organisation


@pytest.mark.parametrize(("key", "value"), [("name", "宝安区民政局"), ("id", "999999")])
def test_a_package_naming_another_sending_organisation_is_refused(
    world: World, peer: Peer, receiver: User, key: str, value: str
) -> None:
    """The organisation in the file is the sender's word; the trusted key's is the fact."""
    body = body_of(world, peer)
    body["sender"]["organisation"][key] = value

    assert "sending organisation" in _refused(receiver, sealed(world, peer, body))


def test_the_sending_organisation_received_is_the_trusted_keys(
    world: World, peer: Peer, receiver: User
) -> None:
    incoming = receiving.handoff_import(
        actor=receiver, data=_export(world, peer), village_code=DEST_COMMUNITY
    )

    assert incoming.signer == _signer(world)
    assert incoming.sender_organisation == _signer(world).organisation == "麻埠镇人民政府"


def test_a_verify_key_is_trusted_for_one_peer_only(world: World, peer: Peer) -> None:
    """The township's key, trusted for 宝安区, cannot be trusted for another peer too: the
    signer of a package names one peer."""
    bundle = keys.read_bundle(stranger_bundle(keys.public_bundle(), organisations=True))
    with pytest.raises(ValidationError) as refused:
        keys.peer_trust(actor=world.admin, bundle=bundle, name="别处")
    assert "trusted already" in " ".join(refused.value.message_dict["organisations.0"])
    assert not Peer.objects.filter(name="别处").exists()

    other = keys.peer_trust(
        actor=world.admin,
        bundle=keys.read_bundle(stranger_bundle(keys.public_bundle())),
        name="别处",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PeerKey.objects.create(
            peer=other,
            organisation="麻埠镇人民政府",
            public_key=_signer(world).public_key,
            fingerprint=_signer(world).fingerprint,
            added_at=other.added_at,
        )


# ---------------------------------------------------------------- revoked keys


def _pending(world: World, peer: Peer) -> Incoming:
    """a1's package received into village B, where a1 is registered: it waits for review."""
    incoming = receiving.handoff_import(
        actor=world.supervisor, data=_export(world, peer), village_code=VILLAGE_B
    )
    assert incoming.status == IncomingStatus.PENDING
    return incoming


@pytest.mark.parametrize("revoked", ["signer", "peer"])
def test_a_package_whose_signer_was_revoked_since_import_is_not_reviewed(
    world: World, peer: Peer, revoked: str
) -> None:
    incoming = _pending(world, peer)
    target = _signer(world).fingerprint if revoked == "signer" else PEER
    keys.key_revoke(actor=world.admin, target=target)
    before = Child.objects.count()

    with pytest.raises(ValidationError) as refused:
        receiving.incoming_register(actor=world.supervisor, incoming=incoming)
    assert "revoked" in " ".join(refused.value.message_dict["signer"])
    with pytest.raises(ValidationError) as refused:
        receiving.incoming_attach(
            actor=world.supervisor, incoming=incoming, child=world.children["a1"]
        )
    assert "revoked" in " ".join(refused.value.message_dict["signer"])

    incoming.refresh_from_db()
    assert incoming.status == IncomingStatus.PENDING and incoming.child_id is None
    assert Child.objects.count() == before


def test_a_revoked_organisation_key_is_never_trusted_again(world: World, peer: Peer) -> None:
    signer = _signer(world)
    keys.key_revoke(actor=world.admin, target=signer.fingerprint)

    with pytest.raises(ValidationError) as refused:
        keys.peer_trust(
            actor=world.admin,
            bundle=keys.read_bundle(keys.public_bundle()),
            name=PEER,
            replace=True,
        )

    assert "revoked" in " ".join(refused.value.message_dict["organisations.0"])
    signer.refresh_from_db()
    assert signer.revoked_at is not None


def test_a_revoked_peer_is_not_trusted_again_with_its_revoked_key(world: World, peer: Peer) -> None:
    keys.key_revoke(actor=world.admin, target=PEER)

    with pytest.raises(ValidationError) as refused:
        keys.peer_trust(actor=world.admin, bundle=keys.read_bundle(keys.public_bundle()), name=PEER)

    assert "revoked" in " ".join(refused.value.message_dict["x25519"])
    peer.refresh_from_db()
    assert peer.revoked_at is not None
    assert not PeerKey.objects.filter(peer=peer, revoked_at__isnull=True).exists()


# ---------------------------------------------------------------- the file's content


def test_a_consent_whose_scopes_are_not_a_list_is_no_consent(
    world: World, peer: Peer, receiver: User
) -> None:
    """ "no_sharing" holds "sharing" as a string, not as a scope."""
    body = body_of(world, peer)
    body["processing_bases"] = []
    father = next(i for i, m in enumerate(body["members"]) if m["is_guardian"])
    body["consents"] = [
        {
            "given_by": father,
            "given_by_name": body["members"][father]["name"],
            "given_on": "2026-01-05",
            "version": "2026-01",
            "scopes": "no_sharing",
            "withdrawn_on": None,
        }
    ]

    assert "consent" in _refused(receiver, sealed(world, peer, body))


def test_a_package_older_than_30_days_is_refused(
    world: World, peer: Peer, receiver: User, clock: time_machine.Traveller
) -> None:
    data = _export(world, peer)
    clock.shift(dt.timedelta(days=30, minutes=1))

    assert "30 days" in _refused(receiver, data)


def test_a_package_dated_ahead_is_refused(
    world: World, peer: Peer, receiver: User, clock: time_machine.Traveller
) -> None:
    clock.shift(dt.timedelta(minutes=11))
    data = _export(world, peer)
    clock.shift(-dt.timedelta(minutes=11))

    assert "future" in _refused(receiver, data)


def test_a_package_a_few_minutes_ahead_or_29_days_old_is_received(
    world: World, peer: Peer, receiver: User, clock: time_machine.Traveller
) -> None:
    """Clocks differ by a few minutes; a package may wait weeks to be carried over."""
    clock.shift(dt.timedelta(minutes=9))
    ahead = _export(world, peer)
    clock.shift(-dt.timedelta(minutes=9))
    old = _export(world, peer)

    first = receiving.handoff_import(actor=receiver, data=ahead, village_code=DEST_COMMUNITY)
    clock.shift(dt.timedelta(days=29, hours=23))
    second = receiving.handoff_import(actor=receiver, data=old, village_code=DEST_COMMUNITY)

    assert first.status == IncomingStatus.REGISTERED
    assert second.status == IncomingStatus.PENDING  # the first registered the child here


# ---------------------------------------------------------------- robustness


DEEP = 100_000


def test_a_header_nested_too_deeply_is_refused(world: World, peer: Peer, receiver: User) -> None:
    data = b'{"header": ' + b"[" * DEEP + b"]" * DEEP + b', "ciphertext": ""}'

    assert "not a hand-off package" in _refused(receiver, data)


def _sealed_inner(peer: Peer, sender: str, inner: bytes) -> bytes:
    """Any bytes encrypted to `peer` as a package's inner part (what `package.seal` does
    with a signed file)."""
    ephemeral = X25519PrivateKey.generate()
    recipient = keys.peer_public_key(peer)
    ephemeral_raw, recipient_raw = (
        keys.public_raw(ephemeral.public_key()),
        keys.public_raw(recipient),
    )
    nonce = os.urandom(12)
    header = {
        "format": ENVELOPE_FORMAT,
        "recipient": keys.fingerprint(recipient_raw),
        "ephemeral": keys.b64(ephemeral_raw),
        "nonce": keys.b64(nonce),
        "sender": sender,
    }
    key = _aes_key(ephemeral.exchange(recipient), ephemeral_raw, recipient_raw)
    ciphertext = AESGCM(key).encrypt(nonce, inner, canonical(header))
    return json.dumps({"header": header, "ciphertext": keys.b64(ciphertext)}).encode()


def test_a_file_nested_too_deeply_is_refused(world: World, peer: Peer, receiver: User) -> None:
    inner = b'{"body": ' + b"[" * DEEP + b"]" * DEEP + b', "signature": ""}'

    message = _refused(receiver, _sealed_inner(peer, _signer(world).fingerprint, inner))

    assert "nested too deeply" in message


def test_the_same_package_imported_twice_at_once_is_refused_as_imported_already(
    world: World, peer: Peer, receiver: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two imports of one package at the same moment: both pass the check, the second
    insert meets the first's package number, and is refused as imported already."""
    data = _export(world, peer)
    first = receiving.handoff_import(actor=receiver, data=data, village_code=DEST_COMMUNITY)
    monkeypatch.setattr(receiving, "_imported", lambda package_id: False)

    with pytest.raises(ValidationError) as refused:
        receiving.handoff_import(actor=receiver, data=data, village_code=DEST_COMMUNITY)

    assert "imported already" in " ".join(refused.value.message_dict["file"])
    assert list(Incoming.objects.all()) == [first]
    assert AccessLog.objects.filter(
        user=receiver, action=Action.DENIED, purpose="handoff_import"
    ).exists()


LOW_ORDER = [
    bytes(32),
    (1).to_bytes(32, "little"),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    (2**255 - 19).to_bytes(32, "little"),  # p itself: 0, not in canonical form
    (2**255 - 19 + 9).to_bytes(32, "little"),  # the base point, not in canonical form
]


@pytest.mark.parametrize("raw", LOW_ORDER, ids=["zero", "one", "order-8", "p", "p+9"])
def test_a_bundle_with_an_invalid_x25519_key_is_refused(world: World, raw: bytes) -> None:
    keys.deployment_key_generate(actor=None)
    bundle: dict[str, Any] = keys.public_bundle()
    bundle["x25519"] = {"public_key": keys.b64(raw), "fingerprint": keys.fingerprint(raw)}

    with pytest.raises(ValidationError) as refused:
        keys.read_bundle(bundle)

    assert "X25519" in " ".join(refused.value.message_dict["x25519"])


# ---------------------------------------------------------------- the history of keys


def _history(object_type: str) -> list[ChangeRecord]:
    return list(ChangeRecord.objects.filter(object_type=object_type).order_by("id"))


def test_keys_made_rotated_trusted_and_revoked_are_in_the_change_history(world: World) -> None:
    admin = world.admin
    first = keys.deployment_key_generate(actor=admin)
    second = keys.deployment_key_generate(actor=admin, rotate=True)
    signing = keys.signing_key_generate(actor=admin, organisation=world.orgs["township1"])
    peer = keys.peer_trust(actor=admin, bundle=keys.read_bundle(keys.public_bundle()), name=PEER)
    keys.key_revoke(actor=admin, target=PEER)

    made, rotated, made_again = _history("deploymentkey")
    assert (made.operation, made.object_id) == ("create", str(first.pk))
    assert made.changes["fingerprint"] == [None, first.fingerprint]
    assert (rotated.object_id, rotated.changes["current"]) == (str(first.pk), [True, False])
    assert made_again.object_id == str(second.pk)
    (signed,) = _history("signingkey")
    assert signed.changes["organisation"] == [None, world.orgs["township1"].pk]
    assert signed.changes["fingerprint"] == [None, signing.fingerprint]
    trusted, revoked = _history("peer")
    assert trusted.operation == "create" and trusted.changes["fingerprint"][1] == peer.fingerprint
    assert revoked.operation == "update" and revoked.changes["revoked_at"][0] is None
    key_trusted, key_revoked = _history("peerkey")
    assert key_trusted.changes["fingerprint"] == [None, signing.fingerprint]
    assert key_revoked.changes["revoked_at"][1] is not None
    records = [made, rotated, made_again, signed, trusted, revoked, key_trusted, key_revoked]
    assert {(r.actor, r.actor_name) for r in records} == {(admin, admin.username)}
    assert "private" not in json.dumps([r.changes for r in records])


def test_revoking_one_key_is_in_the_change_history(world: World, peer: Peer) -> None:
    own = keys.current_deployment_key()
    assert own is not None

    keys.key_revoke(actor=world.admin, target=own.fingerprint)

    record = ChangeRecord.objects.get(object_type="deploymentkey", operation="update")
    assert record.object_id == str(own.pk) and record.actor == world.admin
    assert record.changes["revoked_at"][0] is None and record.changes["revoked_at"][1]


# ---------------------------------------------------------------- the destination village


def test_a_village_outside_the_importers_area_is_refused_and_logged(
    world: World, peer: Peer, receiver: User
) -> None:
    with pytest.raises(PermissionDenied):
        receiving.handoff_import(actor=receiver, data=_export(world, peer), village_code=VILLAGE_B)

    denied = AccessLog.objects.get(user=receiver, action=Action.DENIED)
    assert denied.purpose == "handoff_import" and denied.detail["village"] == VILLAGE_B
    assert "supervisor" in denied.reason


def test_an_unknown_village_is_refused_and_logged(world: World, peer: Peer, receiver: User) -> None:
    with pytest.raises(ValidationError) as refused:
        receiving.handoff_import(actor=receiver, data=_export(world, peer), village_code="999")

    assert "village" in refused.value.message_dict
    denied = AccessLog.objects.get(user=receiver, action=Action.DENIED)
    assert denied.detail["village"] == "999" and "999" in denied.reason
