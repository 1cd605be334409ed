"""`shouhu keys` and `shouhu handoff`: keys made, shown, trusted, listed and revoked; a
package exported to a file and imported from it; every error one clear line with exit code
2, and no output file left behind."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from shouhu.audit.models import AccessLog, Action
from shouhu.children.models import Child, ProcessingBasis
from shouhu.handoff.models import DeploymentKey, Incoming, IncomingStatus, Peer, SigningKey
from tests.handoff_world import PEER, destination_supervisor
from tests.world import DEST_COMMUNITY, World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    """The refusals are read in English here (the messages are translated; the Chinese
    catalogue may say them otherwise)."""
    with translation.override("en"):
        yield


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _fails(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        _run(*args)
    assert caught.value.returncode == 2
    message = str(caught.value)
    assert message and "\n" not in message
    return message


@pytest.fixture
def keyed(sharing_allowed: World, tmp_path: Path) -> World:
    world = sharing_allowed
    _run("keys", "generate")
    _run("keys", "generate", "--organisation", str(world.orgs["township1"].pk))
    bundle = tmp_path / "bundle.json"
    bundle.write_text(_run("keys", "show"), encoding="utf-8")
    _run("keys", "trust", "--file", str(bundle), "--name", PEER, "--user", "admin")
    return world


def test_keys_generate_show_trust_list_and_revoke(keyed: World, tmp_path: Path) -> None:
    assert DeploymentKey.objects.filter(current=True).count() == 1
    assert SigningKey.objects.filter(organisation=keyed.orgs["township1"]).count() == 1
    bundle = json.loads(_run("keys", "export-public"))
    assert bundle["x25519"]["fingerprint"] == DeploymentKey.objects.get().fingerprint
    assert [o["name"] for o in bundle["organisations"]] == ["麻埠镇人民政府"]
    peer = Peer.objects.get(name=PEER)
    assert peer.added_by == keyed.admin and peer.keys.count() == 1
    listed = json.loads(_run("keys", "list"))
    assert listed["peers"][0]["name"] == PEER
    assert "private" not in json.dumps(listed)

    assert "Revoked" in _run("keys", "revoke", PEER)
    peer.refresh_from_db()
    assert peer.revoked_at is not None and not peer.keys.filter(revoked_at__isnull=True).exists()


def test_keys_are_not_overwritten_without_rotate(keyed: World) -> None:
    before = DeploymentKey.objects.get()
    assert "rotate" in _fails("keys", "generate")
    assert "rotate" in _fails("keys", "generate", "--organisation", str(keyed.orgs["township1"].pk))
    _run("keys", "generate", "--rotate")
    assert DeploymentKey.objects.count() == 2
    assert DeploymentKey.objects.get(current=True).pk != before.pk


def test_keys_errors_are_one_line(keyed: World, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert "not a JSON file" in _fails("keys", "trust", "--file", str(broken), "--name", "x")
    missing = str(tmp_path / "no.json")
    assert "Cannot read" in _fails("keys", "trust", "--file", missing, "--name", "x")
    assert "trusted already" in _fails(
        "keys", "trust", "--file", str(_bundle(tmp_path)), "--name", PEER
    )
    assert "No trusted peer or key" in _fails("keys", "revoke", "nobody")


def _bundle(tmp_path: Path) -> Path:
    path = tmp_path / "again.json"
    path.write_text(_run("keys", "show"), encoding="utf-8")
    return path


def test_a_package_round_trip_through_files(keyed: World, tmp_path: Path) -> None:
    receiver = destination_supervisor(keyed)
    package = tmp_path / "a1.json"
    said = _run(
        "handoff",
        "export",
        "--child",
        str(keyed.children["a1"].pk),
        "--to",
        PEER,
        "--output",
        str(package),
        "--user",
        "supervisor",
    )
    assert str(package) in said and package.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left

    said = _run(
        "handoff",
        "import",
        "--file",
        str(package),
        "--village",
        DEST_COMMUNITY,
        "--user",
        receiver.username,
    )

    incoming = Incoming.objects.get()
    assert incoming.status == IncomingStatus.REGISTERED and f"child {incoming.child_id}" in said
    assert Child.objects.get(pk=incoming.child_id).residence_id == DEST_COMMUNITY
    assert AccessLog.objects.filter(action=Action.EXPORT, purpose="handoff_export").count() == 1
    assert AccessLog.objects.filter(action=Action.IMPORT, purpose="handoff_import").count() == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"--to": "nobody"}, "No trusted peer"),
        ({"--user": "teacher_a"}, "supervisor"),
        ({"--user": "nobody"}, "No active user"),
        ({"--child": "999999"}, "No child"),
        ({"--child": "b1"}, "consent"),
    ],
)
def test_an_export_error_is_one_line_exit_2_and_writes_no_file(
    keyed: World, tmp_path: Path, change: dict[str, str], expected: str
) -> None:
    ProcessingBasis.objects.filter(child=keyed.children["b1"]).delete()
    out = tmp_path / "out"
    out.mkdir()
    options = {
        "--child": str(keyed.children["a1"].pk),
        "--to": PEER,
        "--output": str(out / "package.json"),
        "--user": "supervisor",
        **change,
    }
    if options["--child"] == "b1":
        options["--child"] = str(keyed.children["b1"].pk)
    args = [part for pair in options.items() for part in pair]

    message = _fails("handoff", "export", *args)

    assert expected in message
    assert list(out.iterdir()) == []


def test_an_import_error_is_one_line_and_exit_2(keyed: World, tmp_path: Path) -> None:
    receiver = destination_supervisor(keyed)
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\x00\x01 not a package")
    args = ["--village", DEST_COMMUNITY, "--user", receiver.username]

    assert "not a hand-off package" in _fails("handoff", "import", "--file", str(junk), *args)
    assert "Cannot read" in _fails(
        "handoff", "import", "--file", str(tmp_path / "missing.json"), *args
    )
    assert not Incoming.objects.exists()
