"""`shouhu keys` and `shouhu handoff`: keys made, shown, trusted, listed and revoked; a
package exported to a file and imported from it; every error one clear line with exit code
2, and no output file left behind."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from shouhu.audit.models import AccessLog, Action, ChangeRecord
from shouhu.children.models import Child, ProcessingBasis
from shouhu.handoff.models import (
    DeploymentKey,
    Incoming,
    IncomingStatus,
    Outgoing,
    Peer,
    SigningKey,
)
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
    _run("keys", "generate", "--user", "admin")
    _run("keys", "generate", "--organisation", str(world.orgs["township1"].pk), "--user", "admin")
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

    assert "Revoked" in _run("keys", "revoke", PEER, "--user", "admin")
    peer.refresh_from_db()
    assert peer.revoked_at is not None and not peer.keys.filter(revoked_at__isnull=True).exists()


def test_keys_are_not_overwritten_without_rotate(keyed: World) -> None:
    before = DeploymentKey.objects.get()
    assert "rotate" in _fails("keys", "generate", "--user", "admin")
    township = str(keyed.orgs["township1"].pk)
    assert "rotate" in _fails("keys", "generate", "--organisation", township, "--user", "admin")
    _run("keys", "generate", "--rotate", "--user", "admin")
    assert DeploymentKey.objects.count() == 2
    assert DeploymentKey.objects.get(current=True).pk != before.pk


def test_keys_errors_are_one_line(keyed: World, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    admin = ("--user", "admin")
    assert "not a JSON file" in _fails(
        "keys", "trust", "--file", str(broken), "--name", "x", *admin
    )
    missing = str(tmp_path / "no.json")
    assert "Cannot read" in _fails("keys", "trust", "--file", missing, "--name", "x", *admin)
    assert "trusted already" in _fails(
        "keys", "trust", "--file", str(_bundle(tmp_path)), "--name", PEER, *admin
    )
    assert "No trusted peer or key" in _fails("keys", "revoke", "nobody", *admin)


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


# ---------------------------------------------------------------- who acts, and the output file


@pytest.mark.parametrize(
    "args",
    [
        ("keys", "generate", "--rotate"),
        ("keys", "trust", "--file", "bundle.json", "--name", "别处"),
        ("keys", "revoke", PEER),
    ],
    ids=["generate", "trust", "revoke"],
)
def test_keys_that_change_something_need_a_known_user(keyed: World, args: tuple[str, ...]) -> None:
    before = ChangeRecord.objects.count()
    assert "--user" in _fails(*args)
    assert "No active user" in _fails(*args, "--user", "nobody")
    assert ChangeRecord.objects.count() == before
    assert not Peer.objects.filter(revoked_at__isnull=False).exists()


def test_the_keys_commands_record_who_made_and_trusted_each_key(keyed: World) -> None:
    records = ChangeRecord.objects.filter(
        object_type__in=["deploymentkey", "signingkey", "peer", "peerkey"]
    )
    assert sorted(r.object_type for r in records) == [
        "deploymentkey",
        "peer",
        "peerkey",
        "signingkey",
    ]
    assert {(r.actor, r.source) for r in records} == {(keyed.admin, "command")}


def _export_to(keyed: World, output: Path, *more: str) -> str:
    return _run(
        "handoff",
        "export",
        "--child",
        str(keyed.children["a1"].pk),
        "--to",
        PEER,
        "--output",
        str(output),
        "--user",
        "supervisor",
        *more,
    )


def test_an_export_does_not_overwrite_a_file_without_force(keyed: World, tmp_path: Path) -> None:
    output = tmp_path / "a1.json"
    output.write_bytes(b"kept")

    with pytest.raises(CommandError) as caught:
        _export_to(keyed, output)

    assert caught.value.returncode == 2 and "--force" in str(caught.value)
    assert output.read_bytes() == b"kept"
    assert not Outgoing.objects.exists()
    assert not AccessLog.objects.filter(action=Action.EXPORT).exists()

    _export_to(keyed, output, "--force")

    assert json.loads(output.read_bytes())["header"]
    assert Outgoing.objects.count() == 1


def test_a_package_that_cannot_be_written_is_not_recorded_as_sent(
    keyed: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)  # the package's last step
    output = tmp_path / "a1.json"

    with pytest.raises(CommandError) as caught:
        _export_to(keyed, output)

    assert caught.value.returncode == 2 and "No space left" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not output.exists() and list(tmp_path.iterdir()) == [tmp_path / "bundle.json"]
    assert not Outgoing.objects.exists()
    assert not AccessLog.objects.filter(action=Action.EXPORT).exists()
