"""What the hand-off tests share: one test database plays both deployments. The sending
side is the township of tests/world.py (its supervisor, its organisation's signing key); the
receiving side is a supervisor of 宝安区. This deployment trusts its own public bundle as the
peer "宝安区" — the package is sealed and opened exactly as between two servers."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from shouhu.accounts.models import OrgKind, Role, User
from shouhu.handoff import keys
from shouhu.handoff.models import Peer
from shouhu.handoff.package import build_file, seal
from tests.world import DESTINATION, World, make_user, org

PEER = "宝安区"


def destination_supervisor(world: World) -> User:
    bureau = org("宝安区民政局", OrgKind.CIVIL_AFFAIRS, DESTINATION)
    user = make_user("supervisor_dest", bureau, Role.SUPERVISOR)
    world.users["supervisor_dest"] = user
    return user


def set_up_keys(world: World) -> Peer:
    """The deployment's key, the township's signing key, and the own bundle trusted."""
    keys.deployment_key_generate(actor=None)
    keys.signing_key_generate(actor=None, organisation=world.orgs["township1"])
    bundle = keys.read_bundle(keys.public_bundle())
    return keys.peer_trust(actor=world.admin, bundle=bundle, name=PEER)


def stranger_bundle(own: dict[str, Any], *, organisations: bool = False) -> dict[str, Any]:
    """The own bundle with another deployment's X25519 key: packages for it are sealed to
    a key this deployment does not hold. Without the own organisations' keys unless asked
    (a verify key is trusted for one peer only)."""
    raw = keys.public_raw(X25519PrivateKey.generate().public_key())
    return {
        **own,
        "deployment": "elsewhere",
        "x25519": {"public_key": keys.b64(raw), "fingerprint": keys.fingerprint(raw)},
        "organisations": own["organisations"] if organisations else [],
    }


def body_of(world: World, peer: Peer) -> dict[str, Any]:
    """The file of a1 as the township sends it to `peer` (as `handoff_export` builds it),
    to change before sealing it with `sealed`."""
    signer = keys.current_signing_key(world.orgs["township1"])
    assert signer is not None
    return build_file(
        child=world.children["a1"],
        organisation=world.orgs["township1"],
        signer_fingerprint=signer.fingerprint,
        deployment=keys.deployment_id(),
        recipient_deployment=peer.deployment,
        recipient_fingerprint=peer.fingerprint,
        actor=world.supervisor,
    )


def sealed(world: World, peer: Peer, body: dict[str, Any]) -> bytes:
    """A file signed with the township's key and sealed to `peer`."""
    signer = keys.current_signing_key(world.orgs["township1"])
    assert signer is not None
    return seal(
        body, signing_key=keys.signing_private_key(signer), recipient=keys.peer_public_key(peer)
    )
