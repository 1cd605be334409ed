"""Safeguarding alerts reach the right people: imminent risk goes at once to the responders
and the township supervisors, who see why and may act; the guidance fits what raised the
alert; the API acknowledges, closes and lists alerts under the page's rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog, Action
from shouhu.children.models import Child
from shouhu.notify.models import Notification
from shouhu.screening import registry, safeguarding, services
from shouhu.screening.models import Administration, Alert, AlertStatus, Level, Priority
from tests.test_api_auth import bearer, token_for
from tests.world import NOW, World

pytestmark = pytest.mark.django_db

PHQ9_CALM = {
    f"phq9_{i}": 0
    for i in (
        "anhedonia",
        "low_mood",
        "sleep",
        "fatigue",
        "appetite",
        "worthlessness",
        "concentration",
        "psychomotor",
        "self_harm",
    )
}
SUICIDE_STEPS = "移除危险物品"  # the suicide-risk text, old and new


def home_visit(**answers: int) -> dict[str, int]:
    """A complete home visit with no concern, but for `answers`."""
    inst = registry.definition("home_visit")
    return {**{item.id: 0 for item in inst.items}, **answers}


def _visit(world: World, child: Child, **answers: int) -> Administration:
    return services.administer(
        actor=world.users["director_a"],
        child=child,
        instrument="home_visit",
        answers=home_visit(**answers),
        now=NOW,
    )


@pytest.fixture
def danger(world: World) -> Alert:
    """张伟 (a1, village A of township 1) found in immediate danger by his child director."""
    _visit(world, world.children["a1"], hv_immediate_danger=3)
    return Alert.objects.get()


@pytest.fixture
def teen(world: World) -> Child:
    child = world.children["b1"]
    Child.objects.filter(pk=child.pk).update(birth_date=NOW.date() - dt.timedelta(days=14 * 366))
    child.refresh_from_db()
    return child


def _client(user: Any, language: str = "zh-hans") -> Client:
    client = Client()
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


class _Api:
    def __init__(self, user: Any) -> None:
        self.client = Client()
        self.headers = bearer(token_for(self.client, user.username))

    def get(self, url: str) -> Any:
        return self.client.get(url, **self.headers)

    def post(self, url: str, data: dict[str, Any]) -> Any:
        return self.client.post(url, data, content_type="application/json", **self.headers)


# --- 1. imminent risk reaches the township supervisor at once ---------------------------


def test_imminent_alert_goes_at_once_to_responders_and_township_supervisor(
    world: World, danger: Alert
) -> None:
    director, supervisor = world.users["director_a"], world.supervisor
    assert danger.priority == Priority.IMMINENT and danger.level == Level.RESPONDER
    assert set(danger.recipients.all()) == {director, supervisor}
    told = Notification.objects.filter(category="safeguarding")
    assert set(told.values_list("user__username", flat=True)) == {"director_a", "supervisor"}
    # The county is not told until the escalation; a director of another village never.
    assert not told.filter(user__in=[world.official, world.users["director_b"]]).exists()
    [event] = danger.events.filter(kind="notified")
    assert sorted(event.recipients) == sorted([director.pk, supervisor.pk])


def test_supervisor_sees_the_reason_and_acknowledges_an_imminent_alert_at_once(
    world: World, danger: Alert
) -> None:
    supervisor = _client(world.supervisor)
    url = reverse("screening:alert", args=[danger.pk])
    page = supervisor.get(url).content.decode()
    assert "孩子处于紧急危险中" in page and "仅对响应人显示" not in page
    assert 'data-testid="acknowledge"' in page
    done = supervisor.post(
        reverse("screening:alert_acknowledge", args=[danger.pk]), {"note": "已到现场"}
    )
    assert done.status_code == 302
    danger.refresh_from_db()
    assert danger.status == AlertStatus.ACKNOWLEDGED and danger.acknowledged_by == world.supervisor
    # The county officer follows the area's alerts: no reason, no buttons.
    official = _client(world.official).get(url).content.decode()
    assert "紧急危险" not in official and 'data-testid="acknowledge"' not in official


def test_urgent_alert_keeps_the_staged_escalation(world: World, teen: Child) -> None:
    services.administer(
        actor=world.counselor,
        child=teen,
        instrument="phq9",
        answers={**PHQ9_CALM, "phq9_self_harm": 1},
        now=NOW,
    )
    alert = Alert.objects.get()
    assert alert.priority == Priority.URGENT
    assert world.supervisor not in alert.recipients.all()
    assert not Notification.objects.filter(user=world.supervisor).exists()
    assert (
        _client(world.supervisor)
        .post(reverse("screening:alert_acknowledge", args=[alert.pk]), {"note": "x"})
        .status_code
        == 403
    )
    safeguarding.escalate_overdue(NOW + dt.timedelta(hours=24))
    assert Notification.objects.filter(user=world.supervisor, category="safeguarding").exists()
    assert (
        _client(world.supervisor)
        .post(reverse("screening:alert_acknowledge", args=[alert.pk]), {"note": "x"})
        .status_code
        == 302
    )


def test_a_failed_close_keeps_the_note_typed(world: World, danger: Alert) -> None:
    supervisor = _client(world.supervisor)
    refused = supervisor.post(
        reverse("screening:alert_close", args=[danger.pk]), {"note": "孩子已安置在邻居家"}
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "孩子已安置在邻居家" in page and "请先确认预警" in page
    # Reloading that page, or switching the language, asks for the action's address with
    # GET: the alert's page answers, not "405 Method Not Allowed".
    again = supervisor.get(reverse("screening:alert_close", args=[danger.pk]), follow=True)
    assert again.status_code == 200
    assert again.redirect_chain == [(reverse("screening:alert", args=[danger.pk]), 302)]


def test_closing_an_alert_settles_it_in_every_inbox(world: World, danger: Alert) -> None:
    link = reverse("screening:alert", args=[danger.pk])
    told = Notification.objects.filter(link=link)
    assert told.count() >= 2 and not told.filter(read_at__isnull=False).exists()
    safeguarding.acknowledge(actor=world.supervisor, alert=danger, now=NOW)
    assert told.filter(read_at__isnull=True).count() == told.count()  # still to deal with
    safeguarding.record_action(
        actor=world.supervisor, alert=danger, note="孩子已安置在邻居家", close=True, now=NOW
    )
    assert not told.filter(read_at__isnull=True).exists()


# --- 2. guidance that fits the reason -------------------------------------------------


def test_guidance_fits_danger_at_home_not_suicide(world: World, danger: Alert) -> None:
    url = reverse("screening:alert", args=[danger.pk])
    page = _client(world.supervisor).get(url).content.decode()
    assert "110" in page and SUICIDE_STEPS not in page
    english = _client(world.supervisor, "en").get(url).content.decode()
    assert "call the police (110)" in english and "mental-health evaluation" not in english


def test_guidance_for_abuse_and_for_self_harm(world: World, teen: Child) -> None:
    a1 = world.children["a1"]
    _visit(world, a1, hv_violence_at_home=3)
    services.administer(
        actor=world.counselor,
        child=teen,
        instrument="phq9",
        answers={**PHQ9_CALM, "phq9_self_harm": 2},
        now=NOW,
    )
    abuse = Alert.objects.get(child=a1)
    self_harm = Alert.objects.get(child=teen)
    director = _client(world.users["director_a"])
    abuse_page = director.get(reverse("screening:alert", args=[abuse.pk])).content.decode()
    assert "不要反复询问孩子" in abuse_page and SUICIDE_STEPS not in abuse_page
    counsellor = _client(world.counselor)
    page = counsellor.get(reverse("screening:alert", args=[self_harm.pk])).content.decode()
    assert "安全计划" in page and "不要反复询问孩子" not in page


def test_guidance_does_not_tell_area_followers_what_was_found(world: World, danger: Alert) -> None:
    page = _client(world.official).get(reverse("screening:alert", args=[danger.pk]))
    text = page.content.decode()
    assert 'data-testid="guidance"' in text and "110" not in text


# --- 3. the API ---------------------------------------------------------------------------


def test_api_supervisor_acknowledges_then_closes_an_imminent_alert(
    world: World, danger: Alert
) -> None:
    api = _Api(world.supervisor)
    listed = api.get("/api/v1/alerts")
    assert listed.status_code == 200, listed.content
    [item] = listed.json()["items"]
    assert item["id"] == danger.pk and item["reasons_shown"] is True and item["may_act"]
    assert item["flags"] == ["immediate_danger"] and "紧急危险" in item["reasons"][0]
    early = api.post(f"/api/v1/alerts/{danger.pk}/close", {"note": "done"})
    assert early.status_code == 400 and "确认" in early.json()["detail"] + str(early.json())
    ack = api.post(f"/api/v1/alerts/{danger.pk}/acknowledge", {"note": "在路上"})
    assert ack.status_code == 200, ack.content
    assert ack.json()["status"] == "acknowledged"
    again = api.post(f"/api/v1/alerts/{danger.pk}/acknowledge", {"note": ""})
    assert again.status_code == 400
    no_note = api.post(f"/api/v1/alerts/{danger.pk}/close", {"note": " "})
    assert no_note.status_code == 400 and "note" in no_note.json()["errors"]
    acted = api.post(f"/api/v1/alerts/{danger.pk}/action", {"note": "已联系派出所"})
    assert acted.status_code == 200 and acted.json()["status"] == "acknowledged"
    closed = api.post(f"/api/v1/alerts/{danger.pk}/close", {"note": "孩子已安全，已报警"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    danger.refresh_from_db()
    assert danger.status == AlertStatus.CLOSED
    kinds = list(danger.events.values_list("kind", flat=True))
    assert kinds == ["raised", "notified", "acknowledged", "action", "closed"]


def test_api_followers_see_no_reason_and_may_not_act(world: World, danger: Alert) -> None:
    api = _Api(world.official)
    [item] = api.get("/api/v1/alerts").json()["items"]
    assert item["reasons_shown"] is False and item["flags"] == [] and item["reasons"] == []
    assert item["may_act"] is False and "110" not in " ".join(item["guidance"])
    refused = api.post(f"/api/v1/alerts/{danger.pk}/acknowledge", {"note": ""})
    assert refused.status_code == 403
    danger.refresh_from_db()
    assert danger.status == AlertStatus.OPEN


def test_api_alert_outside_scope_is_404_like_a_missing_one(world: World, danger: Alert) -> None:
    api = _Api(world.users["director_b"])
    assert api.get("/api/v1/alerts").json()["items"] == []
    for url in (f"/api/v1/alerts/{danger.pk}/acknowledge", "/api/v1/alerts/999999/acknowledge"):
        assert api.post(url, {"note": ""}).status_code == 404
    assert (
        _Api(world.supervisor)
        .post(f"/api/v1/alerts/{danger.pk}/close", {"note": "x", "extra": 1})
        .status_code
        == 400
    )


def test_api_alert_reads_are_logged_with_the_child(world: World, danger: Alert) -> None:
    api = _Api(world.supervisor)
    before = AccessLog.objects.count()
    api.get("/api/v1/alerts?status=open")
    listed = AccessLog.objects.order_by("-pk").first()
    assert listed is not None and AccessLog.objects.count() == before + 1
    assert listed.action == Action.LIST_CHILDREN and listed.username == "supervisor"
    assert listed.child_id == danger.child_id and listed.detail["children_shown"] == 1
    api.post(f"/api/v1/alerts/{danger.pk}/acknowledge", {"note": ""})
    read = AccessLog.objects.filter(object_type="alert", object_id=str(danger.pk)).last()
    assert read is not None and read.child_id == danger.child_id
    assert read.action == Action.VIEW_CHILD


def test_api_schema_documents_the_alert_endpoints(world: World) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/alerts/{alert_id}/acknowledge" in paths
    assert "/api/v1/alerts/{alert_id}/close" in paths
    listed = paths["/api/v1/alerts"]["get"]["responses"]["200"]["content"]
    assert "AlertList" in str(listed)


def test_the_inbox_reads_in_each_readers_language(world: World, danger: Alert) -> None:
    """The alert was raised from a Chinese page; the supervisor who reads the site in English
    reads the message in English, and the history says who acted by name."""
    english = _client(world.supervisor, "en").get(reverse("notify:inbox")).content.decode()
    assert "Imminent risk: a child needs help now" in english and "立即" not in english
    chinese = _client(world.supervisor).get(reverse("notify:inbox")).content.decode()
    assert "Imminent risk" not in chinese
    page = _client(world.supervisor, "en").get(reverse("screening:alert", args=[danger.pk]))
    history = page.content.decode()
    assert "Township supervisor" in history and "乡镇" not in history
    assert str(world.users["director_a"]) in history
