"""The inbox over the API: the same messages as the inbox page, in the reader's language,
and marking them read (all, or the ones named)."""

from __future__ import annotations

import pytest
from django.test import Client

from shouhu.notify.models import Notification
from shouhu.notify.services import Message, send
from tests.test_api_auth import bearer, token_for
from tests.world import World

pytestmark = pytest.mark.django_db


def _send(world: World, n: int) -> None:
    for i in range(n):
        send(
            [world.socialworker],
            lambda i=i: Message("case_reminder", f"Follow-up {i}", "", f"/cases/{i}/"),  # type: ignore[misc]
        )


def test_the_inbox_lists_ones_own_messages_and_marks_them_read(world: World) -> None:
    _send(world, 3)
    send([world.teacher_a], lambda: Message("x", "not yours", "", ""))
    client = Client()
    auth = bearer(token_for(client, "socialworker"))
    body = client.get("/api/v1/inbox", HTTP_ACCEPT_LANGUAGE="en", **auth).json()
    assert body["unread"] == 3 and len(body["items"]) == 3
    assert {i["link"] for i in body["items"]} == {"/cases/0/", "/cases/1/", "/cases/2/"}
    first = body["items"][0]["id"]
    marked = client.post("/api/v1/inbox/read", {"ids": [first]}, "application/json", **auth)
    assert marked.status_code == 200 and marked.json() == {"marked": 1}
    unread = client.get("/api/v1/inbox", {"unread": "true"}, **auth).json()
    assert unread["unread"] == 2 and first not in {i["id"] for i in unread["items"]}
    assert client.post("/api/v1/inbox/read", {}, "application/json", **auth).json() == {"marked": 2}
    assert not Notification.objects.filter(user=world.socialworker, read_at__isnull=True)
    assert Notification.objects.filter(user=world.teacher_a, read_at__isnull=True).count() == 1


def test_marking_read_refuses_what_is_not_a_list_of_ids(world: World) -> None:
    client = Client()
    auth = bearer(token_for(client, "socialworker"))
    response = client.post("/api/v1/inbox/read", {"ids": "all"}, "application/json", **auth)
    assert response.status_code == 400 and "ids" in response.content.decode()
