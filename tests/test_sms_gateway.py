"""The SMS gateway adapter against a gateway on localhost: what it posts, and that a failing
gateway loses no record and stops no other channel."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from shouhu.children.models import FamilyMember
from shouhu.notify import gateways
from shouhu.notify.services import ParentOutbox, send_to_parent
from tests.world import World

pytestmark = pytest.mark.django_db


class Gateway:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.status = 200


@pytest.fixture
def gateway(settings: Any) -> Iterator[Gateway]:
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length).decode("utf-8"))
            state.received.append((dict(self.headers), body))
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SHOUHU_SMS_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SHOUHU_SMS_TOKEN = "gw-token"
    settings.SHOUHU_PARENT_BACKENDS = [
        "shouhu.notify.gateways.HttpSmsGateway",
        "shouhu.notify.services.ParentOutbox",
    ]
    ParentOutbox.outbox.clear()
    yield state
    server.shutdown()
    server.server_close()


def _father(world: World) -> FamilyMember:
    return FamilyMember.objects.get(
        household_id=world.children["a1"].household_id, relation="father"
    )


def test_a_parents_message_goes_to_the_gateway_signed(world: World, gateway: Gateway) -> None:
    message = send_to_parent(_father(world), "reunion", "周三16:40视频团聚，点击链接加入。")
    headers, body = gateway.received[0]
    assert body == {"to": "+8613800138000", "text": "【守护】周三16:40视频团聚，点击链接加入。"}
    assert headers["Authorization"] == "Bearer gw-token"
    assert message.backends == ["sms", "outbox"] and message.sent_at is not None


def test_a_failing_gateway_is_logged_and_the_other_channels_still_go(
    world: World, gateway: Gateway
) -> None:
    gateway.status = 503
    message = send_to_parent(_father(world), "reunion", "测试")
    assert len(gateway.received) == 1
    assert message.backends == ["outbox"] and len(ParentOutbox.outbox) == 1


def test_the_gateway_needs_its_address(settings: Any) -> None:
    settings.SHOUHU_SMS_URL = ""
    with pytest.raises(ImproperlyConfigured):
        gateways.HttpSmsGateway()
