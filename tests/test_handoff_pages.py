"""The hand-off pages: for supervisors only (403 for other roles; another area's child or
package 404). Exporting from the child's page downloads the package; receiving one registers
the child or shows the package beside its possible duplicate, masked like the child's page;
the review registers it or attaches it without changing the registered file."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from shouhu.accounts.models import User
from shouhu.audit.models import AccessLog, Action
from shouhu.children.models import Child
from shouhu.handoff import receiving, services
from shouhu.handoff.models import Incoming, IncomingStatus, Outgoing, Peer
from tests.handoff_world import PEER, destination_supervisor, set_up_keys
from tests.world import DEST_COMMUNITY, ID_A1, VILLAGE_B, World

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


def _page(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _package(world: World, peer: Peer) -> bytes:
    return services.handoff_export(
        actor=world.supervisor, child=world.children["a1"], peer=peer
    ).content


def test_the_child_page_offers_the_hand_off_to_its_supervisor_only(
    world: World, peer: Peer
) -> None:
    a1 = world.children["a1"]
    url = f"/children/{a1.pk}/handoff/"
    assert url in _page(world.supervisor).get(f"/children/{a1.pk}/").content.decode()
    assert url not in _page(world.director_a).get(f"/children/{a1.pk}/").content.decode()


def test_exporting_from_the_page_downloads_the_package(world: World, peer: Peer) -> None:
    a1 = world.children["a1"]
    client = _page(world.supervisor)
    assert client.get(f"/children/{a1.pk}/handoff/").status_code == 200

    response = client.post(f"/children/{a1.pk}/handoff/", {"peer": peer.pk})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    envelope = json.loads(response.content)
    assert set(envelope) == {"header", "ciphertext"}
    assert Outgoing.objects.get().package_id in response["Content-Disposition"]


def test_an_export_refused_comes_back_on_the_form(world: World) -> None:
    peer = set_up_keys(world)  # no sharing basis for a1
    a1 = world.children["a1"]

    response = _page(world.supervisor).post(f"/children/{a1.pk}/handoff/", {"peer": peer.pk})

    assert response.status_code == 400
    assert b"error-summary" in response.content
    assert not Outgoing.objects.exists()


@pytest.mark.parametrize("who", ["teacher_a", "director_a", "official", "volunteer"])
def test_other_roles_cannot_export_from_the_page(world: World, peer: Peer, who: str) -> None:
    response = _page(world.users[who]).post(
        f"/children/{world.children['a1'].pk}/handoff/", {"peer": peer.pk}
    )
    assert response.status_code in (403, 404)
    assert not Outgoing.objects.exists()


def test_another_countys_supervisor_gets_404(world: World, peer: Peer) -> None:
    other = destination_supervisor(world)
    response = _page(other).get(f"/children/{world.children['a1'].pk}/handoff/")
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["teacher_a", "director_a", "socialworker"])
def test_the_hand_off_pages_are_for_supervisors(world: World, who: str) -> None:
    client = _page(world.users[who])
    assert client.get("/handoff/").status_code == 403
    assert client.get("/handoff/import/").status_code == 403


def test_receiving_a_package_on_the_page_registers_the_child(world: World, peer: Peer) -> None:
    receiver = destination_supervisor(world)
    upload = SimpleUploadedFile("a1.json", _package(world, peer), "application/json")

    response = _page(receiver).post("/handoff/import/", {"file": upload, "village": DEST_COMMUNITY})

    incoming = Incoming.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/handoff/incoming/{incoming.pk}/"
    assert incoming.status == IncomingStatus.REGISTERED
    assert Child.objects.get(pk=incoming.child_id).residence_id == DEST_COMMUNITY
    home = _page(receiver).get("/handoff/")
    assert home.status_code == 200 and "张伟" in home.content.decode()


def test_a_tampered_upload_is_refused_next_to_the_file_field(world: World, peer: Peer) -> None:
    receiver = destination_supervisor(world)
    envelope = json.loads(_package(world, peer))
    envelope["header"]["nonce"] = "AAAAAAAAAAAAAAAA"
    upload = SimpleUploadedFile("a1.json", json.dumps(envelope).encode(), "application/json")

    response = _page(receiver).post("/handoff/import/", {"file": upload, "village": DEST_COMMUNITY})

    assert response.status_code == 400
    assert "altered" in response.content.decode()
    assert not Incoming.objects.exists()


def _pending(world: World, peer: Peer) -> Incoming:
    return receiving.handoff_import(
        actor=world.supervisor, data=_package(world, peer), village_code=VILLAGE_B
    )


def test_the_review_shows_the_package_beside_the_candidate_masked(world: World, peer: Peer) -> None:
    incoming = _pending(world, peer)
    a1 = world.children["a1"]

    response = _page(world.supervisor).get(f"/handoff/incoming/{incoming.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="candidate"' in html and f"/children/{a1.pk}/" in html
    assert ID_A1 not in html and ID_A1[:4] in html  # partly masked, as on the child's page
    assert "13800138000" not in html
    assert AccessLog.objects.filter(
        user=world.supervisor, child_id=a1.pk, action=Action.VIEW_CHILD, purpose="handoff_review"
    ).exists()


def test_the_review_is_404_outside_the_village_area(world: World, peer: Peer) -> None:
    incoming = _pending(world, peer)
    other = destination_supervisor(world)
    assert _page(other).get(f"/handoff/incoming/{incoming.pk}/").status_code == 404


def test_attaching_on_the_page_changes_nothing_in_the_file(world: World, peer: Peer) -> None:
    incoming = _pending(world, peer)
    a1 = world.children["a1"]

    response = _page(world.supervisor).post(
        f"/handoff/incoming/{incoming.pk}/attach/", {"attach-child": a1.pk}
    )

    assert response.status_code == 302 and response["Location"] == f"/children/{a1.pk}/"
    incoming.refresh_from_db()
    assert incoming.status == IncomingStatus.ATTACHED
    a1.refresh_from_db()
    assert a1.version == 1 and a1.residence_id == world.children["a1"].residence_id
    # The child's history names the package; its page still shows the two side by side.
    history = _page(world.supervisor).get(f"/children/{a1.pk}/").content.decode()
    assert "package received" in history and incoming.package_id in history
    after = _page(world.supervisor).get(f"/handoff/incoming/{incoming.pk}/").content.decode()
    assert 'data-testid="candidate"' in after and 'data-testid="attach-form"' not in after


def test_registering_on_the_page_after_review(world: World, peer: Peer) -> None:
    incoming = _pending(world, peer)

    response = _page(world.supervisor).post(f"/handoff/incoming/{incoming.pk}/register/", {})

    incoming.refresh_from_db()
    assert incoming.status == IncomingStatus.REGISTERED_AFTER_REVIEW
    assert response["Location"] == f"/children/{incoming.child_id}/"
    again = _page(world.supervisor).post(f"/handoff/incoming/{incoming.pk}/register/", {})
    assert again.status_code == 400


def test_the_pages_answer_in_chinese(world: World, peer: Peer) -> None:
    incoming = _pending(world, peer)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.supervisor)
    for url in ("/handoff/", "/handoff/import/", f"/handoff/incoming/{incoming.pk}/"):
        assert client.get(url).status_code == 200
    assert PEER in client.get("/handoff/").content.decode()


def test_the_list_reads_a_fixed_number_of_queries(world: World, peer: Peer) -> None:
    """More packages, no more queries (no query per row)."""
    client = _page(world.supervisor)
    _pending(world, peer)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/handoff/").status_code == 200
        return len(queries)

    one = count()
    for _ in range(3):
        _pending(world, peer)
    assert count() == one


def test_the_list_logs_each_package_waiting_for_review(world: World, peer: Peer) -> None:
    """A package waiting for review shows a child not registered here: the read is logged
    by the package received (there is no child to log it by yet)."""
    waiting = [_pending(world, peer), _pending(world, peer)]

    assert _page(world.supervisor).get("/handoff/").status_code == 200

    logged = AccessLog.objects.filter(
        user=world.supervisor, purpose="handoff_list", object_type="handoff_incoming"
    )
    assert sorted(r.object_id for r in logged) == sorted(str(i.pk) for i in waiting)
    assert {(r.action, r.child_id) for r in logged} == {(Action.LIST_CHILDREN, None)}
