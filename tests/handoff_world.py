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


def stranger_bundle(own: dict[str, Any]) -> dict[str, Any]:
    """The own bundle with another deployment's X25519 key: packages for it are sealed to
    a key this deployment does not hold."""
    raw = keys.public_raw(X25519PrivateKey.generate().public_key())
    return {
        **own,
        "deployment": "elsewhere",
        "x25519": {"public_key": keys.b64(raw), "fingerprint": keys.fingerprint(raw)},
    }
