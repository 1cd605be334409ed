"""Hand-off packages between deployments (`shouhu.handoff`): a package round trip creates the
child in the receiving jurisdiction; a package altered in its header or its ciphertext, sealed
to another deployment's key, or signed by a key not trusted (unknown, rotated away or revoked)
is refused and registers nothing; a child without a consent or legal basis for sharing is
never exported; a package that may be a child registered already waits for review and changes
nothing; only a supervisor of the child's area exports; every export and import is logged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.models import AccessLog, Action, ChangeRecord
from shouhu.children.consents import consent_record, consent_withdraw
from shouhu.children.models import Child, ProcessingBasis
from shouhu.handoff import keys, receiving, services
from shouhu.handoff.differences import differences
from shouhu.handoff.models import Incoming, IncomingStatus, Outgoing, Peer, PeerKey
from shouhu.lib import protect
from tests.handoff_world import (
    PEER,
    body_of,
    destination_supervisor,
    sealed,
    set_up_keys,
    stranger_bundle,
)
from tests.world import DEST_COMMUNITY, ID_A1, TODAY, VILLAGE_B, World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    """The refusals are read in English here (the messages are translated; the Chinese
    catalogue may say them otherwise)."""
    with translation.override("en"):
        yield


@pytest.fixture
def peer(sharing_allowed: World) -> Peer:
    return set_up_keys(sharing_allowed)


@pytest.fixture
def receiver(world: World) -> User:
    return destination_supervisor(world)


def _export(world: World, peer: Peer, child: str = "a1") -> bytes:
    return services.handoff_export(
        actor=world.supervisor, child=world.children[child], peer=peer
    ).content


def _refusal(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(excinfo.value.message_dict["file"])


def _envelope(data: bytes) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads(data)
    return envelope


# ---------------------------------------------------------------- the round trip


def test_a_round_trip_registers_the_child_in_the_receiving_village(
    world: World, peer: Peer, receiver: User
) -> None:
    data = _export(world, peer)
    assert "张伟".encode() not in data and ID_A1.encode() not in data  # encrypted

    incoming = receiving.handoff_import(actor=receiver, data=data, village_code=DEST_COMMUNITY)

    assert incoming.status == IncomingStatus.REGISTERED
    child = Child.objects.get(pk=incoming.child_id)
    assert child.pk != world.children["a1"].pk
    assert (child.name, child.residence_id, child.birth_date) == (
        "张伟",
        DEST_COMMUNITY,
        world.children["a1"].birth_date,
    )
    assert protect.unseal(child.id_number_enc) == ID_A1
    assert child.household.village_id == DEST_COMMUNITY
    members = {m.name: m for m in child.household.members.all()}
    assert set(members) == {"父亲", "母亲", "奶奶"}
    assert protect.unseal(members["父亲"].phone_enc) == "13800138000"
    assert members["父亲"].is_guardian and members["父亲"].away
    # The legal basis for sharing travelled with the file.
    assert ProcessingBasis.objects.get(child=child, purpose="sharing").basis == "statutory_duty"
    # The receiver now sees the child; the categories were derived here, not copied.
    assert access.children_visible_to(receiver).filter(pk=child.pk).exists()
    assert child.cat_left_behind_mca == world.children["a1"].cat_left_behind_mca
    assert Outgoing.objects.get(package_id=incoming.package_id).child == world.children["a1"]


def test_the_same_package_is_received_only_once(world: World, peer: Peer, receiver: User) -> None:
    data = _export(world, peer)
    receiving.handoff_import(actor=receiver, data=data, village_code=DEST_COMMUNITY)
    with pytest.raises(ValidationError) as refused:
        receiving.handoff_import(actor=receiver, data=data, village_code=DEST_COMMUNITY)
    assert "already" in _refusal(refused)
    assert Child.objects.filter(name="张伟").count() == 2  # the sender's and one received


# ---------------------------------------------------------------- refusals


def _refused_and_nothing_registered(receiver: User, data: bytes) -> str:
    before = Child.objects.count()
    with pytest.raises(ValidationError) as refused:
        receiving.handoff_import(actor=receiver, data=data, village_code=DEST_COMMUNITY)
    assert Child.objects.count() == before
    assert not Incoming.objects.exists()
    assert AccessLog.objects.filter(
        user=receiver, action=Action.DENIED, purpose="handoff_import"
    ).exists()
    return _refusal(refused)


def test_a_tampered_ciphertext_is_refused(world: World, peer: Peer, receiver: User) -> None:
    envelope = _envelope(_export(world, peer))
    raw = bytearray(keys.unb64(envelope["ciphertext"]))
    raw[len(raw) // 2] ^= 0x01
    envelope["ciphertext"] = keys.b64(bytes(raw))

    message = _refused_and_nothing_registered(receiver, json.dumps(envelope).encode())

    assert "altered" in message


@pytest.mark.parametrize("field", ["nonce", "ephemeral"])
def test_a_tampered_header_is_refused(world: World, peer: Peer, receiver: User, field: str) -> None:
    envelope = _envelope(_export(world, peer))
    raw = bytearray(keys.unb64(envelope["header"][field]))
    raw[0] ^= 0x80
    envelope["header"][field] = keys.b64(bytes(raw))

    message = _refused_and_nothing_registered(receiver, json.dumps(envelope).encode())

    assert "altered" in message


def test_a_header_naming_another_trusted_signer_is_refused(
    world: World, peer: Peer, receiver: User
) -> None:
    """The sender's fingerprint is authenticated: naming another trusted key breaks it."""
    other = keys.signing_key_generate(actor=None, organisation=world.orgs["bureau"])
    PeerKey.objects.create(
        peer=peer,
        organisation="金寨县民政局",
        public_key=other.public_key,
        fingerprint=other.fingerprint,
        added_at=peer.added_at,
    )
    envelope = _envelope(_export(world, peer))
    envelope["header"]["sender"] = other.fingerprint

    assert "altered" in _refused_and_nothing_registered(receiver, json.dumps(envelope).encode())


def test_a_package_sealed_to_another_deployments_key_is_refused(
    world: World, peer: Peer, receiver: User
) -> None:
    bundle = keys.read_bundle(stranger_bundle(keys.public_bundle()))
    elsewhere = keys.peer_trust(actor=world.admin, bundle=bundle, name="别处")
    data = _export(world, elsewhere)

    message = _refused_and_nothing_registered(receiver, data)

    assert "another deployment" in message


def test_a_package_is_refused_once_the_deployment_key_is_revoked(
    world: World, peer: Peer, receiver: User
) -> None:
    data = _export(world, peer)
    keys.key_revoke(actor=None, target=peer.fingerprint)  # this deployment's own key

    assert "another deployment" in _refused_and_nothing_registered(receiver, data)


def test_a_rotated_deployment_key_still_opens_what_was_sent_to_it(
    world: World, peer: Peer, receiver: User
) -> None:
    data = _export(world, peer)
    keys.deployment_key_generate(actor=None, rotate=True)

    incoming = receiving.handoff_import(actor=receiver, data=data, village_code=DEST_COMMUNITY)

    assert incoming.status == IncomingStatus.REGISTERED


def test_a_package_signed_by_a_revoked_key_is_refused(
    world: World, peer: Peer, receiver: User
) -> None:
    data = _export(world, peer)
    signer = keys.current_signing_key(world.orgs["township1"])
    assert signer is not None
    keys.key_revoke(actor=None, target=signer.fingerprint)  # the peer's verify key

    assert "does not trust" in _refused_and_nothing_registered(receiver, data)


def test_a_package_from_a_revoked_peer_is_refused(world: World, peer: Peer, receiver: User) -> None:
    data = _export(world, peer)
    keys.key_revoke(actor=None, target=PEER)

    assert "does not trust" in _refused_and_nothing_registered(receiver, data)


def test_a_package_signed_by_an_untrusted_key_is_refused(
    world: World, peer: Peer, receiver: User
) -> None:
    """The township rotates its key after the bundle was trusted: the new key is unknown."""
    keys.signing_key_generate(actor=None, organisation=world.orgs["township1"], rotate=True)
    data = _export(world, peer)

    assert "does not trust" in _refused_and_nothing_registered(receiver, data)


def test_a_file_that_is_not_a_package_is_refused(world: World, peer: Peer, receiver: User) -> None:
    assert "not a hand-off package" in _refused_and_nothing_registered(receiver, b"{}")


def test_a_package_without_consent_inside_is_refused(
    world: World, peer: Peer, receiver: User
) -> None:
    """A trusted sender that put no consent in the file (an older version, a bug): refused."""
    body = json.loads(json.dumps(body_of(world, peer)))
    body["processing_bases"] = []

    assert "consent" in _refused_and_nothing_registered(receiver, sealed(world, peer, body))


def test_the_file_as_the_tests_build_it_is_received(
    world: World, peer: Peer, receiver: User
) -> None:
    """The files the refusals below change are, unchanged, received: each refusal is about
    the one thing changed."""
    data = sealed(world, peer, body_of(world, peer))

    incoming = receiving.handoff_import(actor=receiver, data=data, village_code=DEST_COMMUNITY)

    assert incoming.status == IncomingStatus.REGISTERED


def test_a_child_without_consent_or_legal_basis_is_not_exported(world: World) -> None:
    peer = set_up_keys(world)  # no sharing basis recorded for any child here
    with pytest.raises(ValidationError) as refused:
        services.handoff_export(actor=world.supervisor, child=world.children["b1"], peer=peer)
    assert "consent" in refused.value.message_dict
    assert not Outgoing.objects.exists()
    assert not AccessLog.objects.filter(action=Action.EXPORT).exists()


def test_a_withdrawn_consent_does_not_allow_an_export(world: World) -> None:
    peer = set_up_keys(world)
    b1 = world.children["b1"]
    guardian = b1.household.members.get(name="父亲")
    consent = consent_record(
        actor=world.director_b,
        child=b1,
        given_by=guardian,
        given_on=TODAY,
        version="2026-01",
        scopes=["registry", "sharing"],
    )
    assert services.handoff_export(actor=world.supervisor, child=b1, peer=peer).content
    consent_withdraw(actor=world.director_b, consent=consent)

    with pytest.raises(ValidationError):
        services.handoff_export(actor=world.supervisor, child=b1, peer=peer)


def test_an_organisation_without_a_signing_key_cannot_export(
    world: World, sharing_allowed: World
) -> None:
    keys.deployment_key_generate(actor=None)
    peer = keys.peer_trust(actor=None, bundle=keys.read_bundle(keys.public_bundle()), name=PEER)
    with pytest.raises(ValidationError) as refused:
        services.handoff_export(actor=world.supervisor, child=world.children["a1"], peer=peer)
    assert "signing key" in " ".join(refused.value.message_dict["peer"])


# ---------------------------------------------------------------- duplicates and review


def _received_as_duplicate(world: World, peer: Peer) -> Incoming:
    """The township's supervisor receives a1's package into village B: the ID number is
    registered in the township already (a1 itself)."""
    data = _export(world, peer)
    return receiving.handoff_import(actor=world.supervisor, data=data, village_code=VILLAGE_B)


def test_a_possible_duplicate_waits_for_review_and_changes_nothing(
    world: World, peer: Peer
) -> None:
    a1 = world.children["a1"]
    before = Child.objects.count()
    changes_before = ChangeRecord.objects.filter(child_id=a1.pk).count()

    incoming = _received_as_duplicate(world, peer)

    assert incoming.status == IncomingStatus.PENDING
    assert incoming.child_id is None and incoming.candidates == [a1.pk]
    assert Child.objects.count() == before
    a1.refresh_from_db()
    assert (a1.version, a1.residence_id, a1.name) == (1, world.children["a1"].residence_id, "张伟")
    assert ChangeRecord.objects.filter(child_id=a1.pk).count() == changes_before
    # The file is kept sealed.
    assert "张伟" not in incoming.payload_enc and ID_A1 not in incoming.payload_enc


def test_attaching_a_package_records_it_in_the_history_and_overwrites_nothing(
    world: World, peer: Peer
) -> None:
    a1 = world.children["a1"]
    incoming = _received_as_duplicate(world, peer)
    # The registered file moved on since: the package's grade is now different.
    Child.objects.filter(pk=a1.pk).update(grade="四年级")

    receiving.incoming_attach(actor=world.supervisor, incoming=incoming, child=a1)

    incoming.refresh_from_db()
    assert (incoming.status, incoming.child_id) == (IncomingStatus.ATTACHED, a1.pk)
    a1.refresh_from_db()
    assert a1.grade == "四年级" and a1.version == 1
    record = ChangeRecord.objects.get(child_id=a1.pk, object_type="incoming")
    assert record.changes["status"] == ["pending", "attached"]
    assert record.changes["package_id"][-1] == incoming.package_id
    assert AccessLog.objects.filter(purpose="handoff_attach", child_id=a1.pk).exists()
    with pytest.raises(ValidationError):  # reviewed once
        receiving.incoming_register(actor=world.supervisor, incoming=incoming)


def test_registering_a_reviewed_package_as_a_new_child(world: World, peer: Peer) -> None:
    incoming = _received_as_duplicate(world, peer)

    child = receiving.incoming_register(actor=world.supervisor, incoming=incoming)

    assert child.pk != world.children["a1"].pk and child.residence_id == VILLAGE_B
    incoming.refresh_from_db()
    assert incoming.status == IncomingStatus.REGISTERED_AFTER_REVIEW
    assert incoming.resolved_by == world.supervisor


def test_only_a_candidate_may_be_attached(world: World, peer: Peer) -> None:
    incoming = _received_as_duplicate(world, peer)
    with pytest.raises(ValidationError) as refused:
        receiving.incoming_attach(
            actor=world.supervisor, incoming=incoming, child=world.children["b1"]
        )
    assert "child" in refused.value.message_dict


def test_differences_are_listed_masked(world: World, peer: Peer) -> None:
    incoming = _received_as_duplicate(world, peer)
    body = receiving.package_body(incoming)
    body["child"]["guardianship_rating"] = "poor"
    found = {d.field: d for d in differences(body, world.children["a1"])}

    assert found["id_number"].same and ID_A1 not in found["id_number"].package
    assert found["id_number"].package.startswith(ID_A1[:4]) and "*" in found["id_number"].package
    assert not found["guardianship_rating"].same
    assert "13800138000" not in found["members"].package


# ---------------------------------------------------------------- access


def test_a_teacher_cannot_export(world: World, peer: Peer) -> None:
    teacher = world.teacher_a
    assert access.can_see(teacher, world.children["a1"], access.BASIC)
    assert not access.may_export_handoff(teacher, world.children["a1"])
    with pytest.raises(PermissionDenied):
        services.handoff_export(actor=teacher, child=world.children["a1"], peer=peer)
    assert not Outgoing.objects.exists()


@pytest.mark.parametrize("who", ["director_a", "official", "socialworker"])
def test_other_roles_of_the_area_cannot_export(world: World, peer: Peer, who: str) -> None:
    with pytest.raises(PermissionDenied):
        services.handoff_export(actor=world.users[who], child=world.children["a1"], peer=peer)


def test_another_countys_supervisor_cannot_export(world: World, peer: Peer, receiver: User) -> None:
    assert not access.may_export_handoff(receiver, world.children["a1"])
    with pytest.raises(PermissionDenied):
        services.handoff_export(actor=receiver, child=world.children["a1"], peer=peer)


def test_a_supervisor_imports_only_into_their_area(
    world: World, peer: Peer, receiver: User
) -> None:
    data = _export(world, peer)
    with pytest.raises(PermissionDenied):
        receiving.handoff_import(actor=receiver, data=data, village_code=VILLAGE_B)
    with pytest.raises(PermissionDenied):
        receiving.handoff_import(actor=world.director_dest, data=data, village_code=DEST_COMMUNITY)
    assert not Incoming.objects.exists()


def test_a_package_waits_only_for_the_supervisors_of_its_village(
    world: World, peer: Peer, receiver: User
) -> None:
    incoming = _received_as_duplicate(world, peer)
    assert access.incoming_visible_to(world.supervisor).filter(pk=incoming.pk).exists()
    assert not access.incoming_visible_to(receiver).exists()
    with pytest.raises(PermissionDenied):
        receiving.incoming_register(actor=receiver, incoming=incoming)


# ---------------------------------------------------------------- audit


def test_export_and_import_are_logged(world: World, peer: Peer, receiver: User) -> None:
    data = _export(world, peer)
    exported = AccessLog.objects.get(action=Action.EXPORT, purpose="handoff_export")
    assert exported.user == world.supervisor and exported.child_id == world.children["a1"].pk
    assert exported.detail["peer"] == PEER and set(exported.fields) == set(access.ALL)

    incoming = receiving.handoff_import(actor=receiver, data=data, village_code=DEST_COMMUNITY)

    imported = AccessLog.objects.get(action=Action.IMPORT, purpose="handoff_import")
    assert imported.user == receiver and imported.child_id == incoming.child_id
    assert imported.object_id == incoming.package_id == exported.object_id


# ---------------------------------------------------------------- keys


def test_keys_are_not_overwritten_without_rotate(world: World) -> None:
    first = keys.deployment_key_generate(actor=None)
    with pytest.raises(ValidationError):
        keys.deployment_key_generate(actor=None)
    second = keys.deployment_key_generate(actor=None, rotate=True)
    first.refresh_from_db()
    assert not first.current and second.current and first.fingerprint != second.fingerprint
    keys.signing_key_generate(actor=None, organisation=world.orgs["township1"])
    with pytest.raises(ValidationError):
        keys.signing_key_generate(actor=None, organisation=world.orgs["township1"])


def test_private_keys_are_stored_sealed(world: World) -> None:
    key = keys.deployment_key_generate(actor=None)
    assert key.private_key_enc.startswith("v1:")
    assert keys.unb64(protect.unseal(key.private_key_enc), length=32)


def test_a_bundle_whose_fingerprint_does_not_match_is_refused(world: World) -> None:
    keys.deployment_key_generate(actor=None)
    bundle = keys.public_bundle()
    bundle["x25519"]["fingerprint"] = "0" * 32
    with pytest.raises(ValidationError) as refused:
        keys.read_bundle(bundle)
    assert "x25519" in refused.value.message_dict


def test_a_signed_file_missing_a_section_is_refused(
    world: World, peer: Peer, receiver: User
) -> None:
    body = body_of(world, peer)
    del body["household"]

    assert "incomplete" in _refused_and_nothing_registered(receiver, sealed(world, peer, body))


def test_a_child_the_registry_refuses_is_logged_and_not_received(
    world: World, peer: Peer, receiver: User
) -> None:
    body = body_of(world, peer)
    body["child"]["sex"] = "X"

    message = _refused_and_nothing_registered(receiver, sealed(world, peer, body))

    assert "sex" in message
