"""The page actions no other test posts (issue 11 §2: every action a page offers is tested
by posting it): the inbox's "mark all read", an action on a safeguarding alert, changing a
facilitator's availability, and taking and closing a technology ticket."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.notify.models import Notification
from shouhu.notify.services import Message, send
from shouhu.reunion import tickets
from shouhu.reunion.models import Site, Ticket, TicketStatus
from shouhu.screening.models import Alert, AlertStatus
from tests.test_reunion import envoy, make_site  # noqa: F401 (fixture)
from tests.test_reunion_manage import _rows
from tests.test_safeguarding_alerts import danger  # noqa: F401 (fixture)
from tests.world import World

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    return client


def test_mark_all_read_empties_only_ones_own_inbox(world: World) -> None:
    send([world.socialworker, world.teacher_a], lambda: Message("x", "新的转介", "", "/cases/"))
    response = _client(world.socialworker).post(reverse("notify:read"))
    assert response.status_code == 302 and response.url == reverse("notify:inbox")
    assert not Notification.objects.filter(user=world.socialworker, read_at__isnull=True)
    assert Notification.objects.filter(user=world.teacher_a, read_at__isnull=True).exists()


def test_an_action_on_an_acknowledged_alert_is_recorded_and_an_empty_one_refused(
    world: World,
    danger: Alert,  # noqa: F811
) -> None:
    supervisor = _client(world.supervisor)
    supervisor.post(reverse("screening:alert_acknowledge", args=[danger.pk]), {"note": "已到现场"})
    url = reverse("screening:alert_action", args=[danger.pk])
    refused = supervisor.post(url, {"note": ""})
    assert refused.status_code == 400 and 'data-testid="error-summary"' in refused.content.decode()
    done = supervisor.post(url, {"note": "已联系派出所，孩子暂住邻居家"})
    assert done.status_code == 302
    danger.refresh_from_db()
    assert danger.status == AlertStatus.ACKNOWLEDGED
    assert danger.events.filter(kind="action", note="已联系派出所，孩子暂住邻居家").exists()


def test_a_facilitators_availability_is_changed_on_the_manage_page(world: World) -> None:
    site = make_site(world)
    facilitator = site.facilitators.get()
    client = _client(world.users["teacher_b"])
    url = reverse("reunion:facilitator_set", args=[site.pk, facilitator.pk])
    prefix = f"facilitator-{facilitator.pk}"
    response = client.post(
        url,
        {
            f"{prefix}-person": world.users["teacher_b"].pk,
            **_rows(f"{prefix}-avail", [{"day": 3, "start": "15:00", "end": "18:00"}]),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [(w.day, f"{w.start:%H:%M}") for w in facilitator.windows.all()] == [(3, "15:00")]


def test_an_envoy_takes_and_the_reporter_closes_a_ticket(world: World, envoy) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    site: Site = make_site(world)
    tickets.ticket_report(actor=world.users["teacher_b"], site=site, problem="摄像头没有画面")
    ticket = Ticket.objects.get()
    taken = _client(envoy).post(reverse("reunion:ticket_take", args=[ticket.pk]))
    assert taken.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.TAKEN and ticket.taken_by == envoy
    early = _client(world.users["teacher_b"]).post(
        reverse("reunion:ticket_close", args=[ticket.pk])
    )
    assert early.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.TAKEN  # not resolved yet: refused with a message
    tickets.ticket_resolve(actor=envoy, ticket=ticket, resolution="重新插好数据线")
    closed = _client(world.users["teacher_b"]).post(
        reverse("reunion:ticket_close", args=[ticket.pk])
    )
    assert closed.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
