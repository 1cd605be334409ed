"""Screening administrations: scores recomputed from answers, field-level protection per
role on pages and API, the licence register, and safeguarding alerts with a controlled clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from shouhu.accounts.models import Role
from shouhu.audit.models import AccessLog, Action
from shouhu.children.models import Child
from shouhu.notify.models import Notification
from shouhu.screening import registry, safeguarding, services
from shouhu.screening.models import (
    Administration,
    Alert,
    AlertStatus,
    EventKind,
    Level,
    Priority,
    Responder,
)
from tests.test_api_auth import bearer, token_for
from tests.world import NOW, World, make_user

pytestmark = pytest.mark.django_db

PHQ9_ITEMS = [
    "phq9_anhedonia",
    "phq9_low_mood",
    "phq9_sleep",
    "phq9_fatigue",
    "phq9_appetite",
    "phq9_worthlessness",
    "phq9_concentration",
    "phq9_psychomotor",
    "phq9_self_harm",
]
# HL7 SDC example: the file claims 13, the answers make 10 (instruments.md).
HL7_ANSWERS = dict(zip(PHQ9_ITEMS, [0, 0, 0, 1, 2, 1, 3, 2, 1], strict=True))
CALM = dict.fromkeys(PHQ9_ITEMS, 0)


class _Api:
    def __init__(self, headers: dict[str, str]) -> None:
        self.client, self.headers = Client(), headers

    def get(self, url: str) -> Any:
        return self.client.get(url, **self.headers)

    def post(self, url: str, data: dict[str, Any]) -> Any:
        return self.client.post(url, data, content_type="application/json", **self.headers)


@pytest.fixture
def api() -> Any:
    return lambda user: _Api(bearer(token_for(Client(), user.username)))


@pytest.fixture
def teen(world: World) -> Child:
    """李娜 (b1), 14 years old, served by the counsellor through an assignment."""
    child = world.children["b1"]
    Child.objects.filter(pk=child.pk).update(birth_date=dt.date(2012, 5, 1))
    child.refresh_from_db()
    return child


def _give(world: World, child: Child, answers: dict[str, int], **kw: Any) -> Administration:
    return services.administer(
        actor=world.counselor,
        child=child,
        instrument=kw.pop("instrument", "phq9"),
        answers=answers,
        now=kw.pop("now", NOW),
        administered_at=kw.pop("at", NOW),
        **kw,
    )


# --- scoring and storage ------------------------------------------------------------------


def test_scores_are_recomputed_from_the_answers(world: World, teen: Child) -> None:
    a = _give(world, teen, HL7_ANSWERS)
    assert a.total == 10 and a.band == "moderate" and a.follow_up
    assert {f["code"] for f in a.flags} >= {"self_harm_thoughts"}
    assert services.answers_of(a) == HL7_ANSWERS
    assert "phq9_self_harm" not in a.answers_enc  # encrypted at rest


def test_unknown_item_and_out_of_range_value_name_the_item(world: World, teen: Child) -> None:
    with pytest.raises(ValidationError) as bad:
        _give(world, teen, {**CALM, "phq9_sleep": 4})
    assert "answers.phq9_sleep" in bad.value.message_dict
    with pytest.raises(ValidationError) as unknown:
        _give(world, teen, {**CALM, "phq9_nonsense": 1})
    assert "answers.phq9_nonsense" in unknown.value.message_dict
    assert not Administration.objects.exists()


def test_age_outside_the_instrument_is_refused(world: World) -> None:
    young = world.children["b1"]  # 11 years old: PHQ-9 here is for 12-17
    with pytest.raises(ValidationError) as bad:
        _give(world, young, CALM)
    assert "instrument" in bad.value.message_dict


def test_only_those_who_may_read_the_answers_may_enter_them(world: World, teen: Child) -> None:
    for persona in ("teacher_b", "director_b", "volunteer", "official"):
        with pytest.raises(PermissionDenied):
            services.administer(
                actor=world.users[persona],
                child=teen,
                instrument="phq9",
                answers=CALM,
                now=NOW,
                administered_at=NOW,
            )


def test_scoring_only_instrument_needs_licensed_text_before_use(world: World, teen: Child) -> None:
    with pytest.raises(ValidationError):
        registry.get("sdq_self")
    with pytest.raises(ValidationError) as refused:
        registry.set_enabled(actor=None, code="sdq_self", on=True)
    assert "install-text" in str(refused.value)
    inst = registry.definition("sdq_self")
    texts = {item.id: f"Item {item.number}" for item in inst.items}
    with pytest.raises(ValidationError):
        registry.install_text(actor=None, code="sdq_self", language="en", texts=texts, reference="")
    registry.install_text(
        actor=None, code="sdq_self", language="en", texts=texts, reference="youthinmind licence 42"
    )
    registry.set_enabled(actor=None, code="sdq_self", on=True)
    assert registry.get("sdq_self").has_text("en")


def test_instruments_command_refuses_to_enable_unlicensed_text() -> None:
    with pytest.raises(CommandError, match="install-text"):
        call_command("instruments", "enable", "sdq_self")
    call_command("instruments", "check")


# --- field-level protection ---------------------------------------------------------------


def _screenings(client: Client, child: Child) -> Any:
    return client.get(reverse("screening:child", args=[child.pk]))


def test_counsellor_sees_answers_and_the_read_is_logged(world: World, teen: Child) -> None:
    a = _give(world, teen, HL7_ANSWERS)
    client = Client()
    client.force_login(world.counselor)
    page = client.get(reverse("screening:detail", args=[a.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="answers"' in body and 'data-testid="total"' in body
    assert AccessLog.objects.filter(
        action=Action.VIEW_SCREENING, user=world.counselor, object_id=str(a.pk)
    ).exists()


@pytest.mark.parametrize("persona", ["director_b", "teacher_b", "supervisor"])
def test_directors_and_teachers_see_only_follow_up(world: World, teen: Child, persona: str) -> None:
    a = _give(world, teen, HL7_ANSWERS)
    client = Client()
    client.force_login(world.users[persona])
    body = client.get(reverse("screening:detail", args=[a.pk])).content.decode()
    assert 'data-testid="result"' in body and 'data-testid="action"' in body
    assert 'data-testid="answers"' not in body and 'data-testid="total"' not in body
    listing = _screenings(client, teen).content.decode()
    assert ">10<" not in listing and "moderate" not in listing
    assert "PHQ" not in listing and "患者健康问卷" not in listing
    assert not AccessLog.objects.filter(action=Action.VIEW_SCREENING, user=world.users[persona])


def test_volunteer_sees_nothing(world: World) -> None:
    child = world.children["a1"]  # the volunteer is matched to 张伟
    client = Client()
    client.force_login(world.volunteer)
    assert _screenings(client, child).status_code == 403


def test_api_post_and_list_per_role(world: World, teen: Child, api: Any) -> None:
    response = api(world.counselor).post(
        f"/api/v1/children/{teen.pk}/screenings",
        {"instrument": "phq9", "answers": HL7_ANSWERS},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == 10 and body["band"] == "moderate"
    assert "self_harm_thoughts" in {f["code"] for f in body["flags"]}
    assert isinstance(body["subscales"], dict)
    full = api(world.counselor).get(f"/api/v1/children/{teen.pk}/screenings").json()
    assert full["items"][0]["answers"] == HL7_ANSWERS
    summary = api(world.users["teacher_b"]).get(f"/api/v1/children/{teen.pk}/screenings").json()
    assert summary["items"][0]["follow_up"] is True
    assert "answers" not in summary["items"][0] and "total" not in summary["items"][0]
    assert "instrument" not in summary["items"][0]  # which questionnaire says what was feared
    assert summary["items"][0]["instrument_name"] == "心理健康筛查"  # the API speaks zh-Hans
    outside = api(world.users["teacher_a"]).get(f"/api/v1/children/{teen.pk}/screenings")
    assert outside.status_code == 404


def test_api_bad_answers_are_400_naming_the_item(world: World, teen: Child, api: Any) -> None:
    response = api(world.counselor).post(
        f"/api/v1/children/{teen.pk}/screenings",
        {"instrument": "phq9", "answers": {**CALM, "phq9_fatigue": 7}},
    )
    assert response.status_code == 400
    assert "answers.phq9_fatigue" in response.json()["errors"]
    faked = api(world.counselor).post(
        f"/api/v1/children/{teen.pk}/screenings",
        {"instrument": "phq9", "answers": CALM, "total": 27},
    )
    assert faked.status_code == 400  # a total cannot be sent, only answers


def test_api_time_without_offset_is_shanghai_time_not_a_500(
    world: World, teen: Child, api: Any
) -> None:
    response = api(world.counselor).post(
        f"/api/v1/children/{teen.pk}/screenings",
        {"instrument": "phq9", "answers": CALM, "administered_at": "2026-01-05T09:30:00"},
    )
    assert response.status_code == 201, response.content
    stored = Administration.objects.get(pk=response.json()["id"])
    assert stored.administered_at == dt.datetime(2026, 1, 5, 1, 30, tzinfo=dt.UTC)
    future = api(world.counselor).post(
        f"/api/v1/children/{teen.pk}/screenings",
        {"instrument": "phq9", "answers": CALM, "administered_at": "2099-01-05T09:30:00"},
    )
    assert future.status_code == 400 and "administered_at" in future.json()["errors"]


def test_api_lists_instruments_with_items_in_order(world: World, api: Any) -> None:
    items = api(world.counselor).get("/api/v1/instruments").json()["items"]
    phq9 = next(i for i in items if i["code"] == "phq9")
    assert [i["id"] for i in phq9["items"]] == PHQ9_ITEMS
    sdq = next(i for i in items if i["code"] == "sdq_self")
    assert sdq["enabled"] is False and all(not i["text"] for i in sdq["items"])


# --- safeguarding -------------------------------------------------------------------------


def test_item_9_raises_an_alert_to_the_responders_at_once(world: World, teen: Child) -> None:
    responder = make_user("responder", world.orgs["clinic"], Role.COUNSELOR)
    Responder.objects.create(organisation=world.orgs["clinic"], user=responder)
    a = _give(world, teen, {**CALM, "phq9_self_harm": 1})
    alert = Alert.objects.get(administration=a)
    assert alert.priority == Priority.URGENT and alert.status == AlertStatus.OPEN
    assert alert.due_at == NOW + dt.timedelta(hours=24)
    assert set(alert.recipients.all()) == {responder, world.counselor}
    assert Notification.objects.filter(user=responder, category="safeguarding").exists()


def test_alert_reasons_in_words_for_responders_and_hidden_from_area_followers(
    world: World, teen: Child, api: Any
) -> None:
    """The supervisor follows the area's alerts but was not asked to respond: they see that
    an alert is open and its priority, never which answer raised it."""
    a = _give(world, teen, {**CALM, "phq9_self_harm": 1})
    alert = Alert.objects.get(administration=a)
    url = reverse("screening:alert", args=[alert.pk])
    responder = Client()
    responder.force_login(world.counselor)
    page = responder.get(url).content.decode()
    assert "有轻生或自伤念头" in page and "self_harm_thoughts" not in page
    follower = Client()
    follower.force_login(world.supervisor)
    page = follower.get(url).content.decode()
    assert "轻生" not in page and "self_harm" not in page
    listed = follower.get(reverse("screening:alerts")).content.decode()
    assert teen.name in listed and "轻生" not in listed
    followed = api(world.supervisor).get("/api/v1/alerts").json()["items"]
    assert [i["id"] for i in followed] == [alert.pk]
    assert followed[0]["flags"] == [] and followed[0]["reasons_shown"] is False
    mine = api(world.counselor).get("/api/v1/alerts").json()["items"]
    assert mine[0]["flags"] == ["self_harm_thoughts"] and "轻生" in mine[0]["reasons"][0]


def test_result_pages_show_words_not_codes(world: World, teen: Child) -> None:
    a = _give(world, teen, HL7_ANSWERS)
    counsellor = Client()
    counsellor.force_login(world.counselor)
    page = counsellor.get(reverse("screening:detail", args=[a.pk])).content.decode()
    assert "中度" in page and "有轻生或自伤念头" in page and "self_harm_thoughts" not in page
    teacher = Client()
    teacher.force_login(world.users["teacher_b"])
    summary = teacher.get(reverse("screening:detail", args=[a.pk])).content.decode()
    assert "须当天见到孩子" in summary and ">alert<" not in summary and "轻生" not in summary


def test_asq_question_5_is_imminent_with_a_30_minute_deadline(world: World, teen: Child) -> None:
    answers = {
        "asq_wished_dead": 1,
        "asq_better_off_dead": 0,
        "asq_suicidal_thoughts_week": 0,
        "asq_attempt_ever": 0,
        "asq_suicidal_thoughts_now": 1,
    }
    a = _give(world, teen, answers, instrument="asq", mode="interview")
    alert = Alert.objects.get(administration=a)
    assert alert.priority == Priority.IMMINENT
    assert alert.due_at == NOW + dt.timedelta(minutes=30)


def test_calm_answers_raise_nothing(world: World, teen: Child) -> None:
    _give(world, teen, CALM)
    assert not Alert.objects.exists() and not Notification.objects.exists()


def test_unacknowledged_alert_escalates_to_supervisor_then_county(
    world: World, teen: Child
) -> None:
    _give(world, teen, {**CALM, "phq9_self_harm": 2})
    alert = Alert.objects.get()
    assert safeguarding.escalate_overdue(NOW + dt.timedelta(hours=23)) == []
    first = NOW + dt.timedelta(hours=24)
    assert [a.pk for a in safeguarding.escalate_overdue(first)] == [alert.pk]
    assert safeguarding.escalate_overdue(first) == []  # idempotent
    alert.refresh_from_db()
    assert alert.level == Level.SUPERVISOR and world.supervisor in alert.recipients.all()
    assert world.official not in alert.recipients.all()
    safeguarding.escalate_overdue(first + dt.timedelta(hours=24))
    alert.refresh_from_db()
    assert alert.level == Level.COUNTY and world.official in alert.recipients.all()
    kinds = list(alert.events.values_list("kind", flat=True))
    assert kinds.count(EventKind.ESCALATED) == 2


def test_acknowledged_alert_does_not_escalate(world: World, teen: Child) -> None:
    _give(world, teen, {**CALM, "phq9_self_harm": 1})
    alert = Alert.objects.get()
    with pytest.raises(PermissionDenied):
        safeguarding.acknowledge(actor=world.users["teacher_b"], alert=alert)
    safeguarding.acknowledge(
        actor=world.counselor,
        alert=alert,
        note="Talked with her",
        now=NOW + dt.timedelta(minutes=5),
    )
    assert safeguarding.escalate_overdue(NOW + dt.timedelta(days=3)) == []
    with pytest.raises(ValidationError):
        safeguarding.record_action(actor=world.counselor, alert=alert, note="")
    safeguarding.record_action(
        actor=world.counselor,
        alert=alert,
        note="Referred to the county hospital",
        close=True,
        now=NOW + dt.timedelta(minutes=40),
    )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED
    assert list(alert.events.values_list("kind", flat=True)) == [
        "raised",
        "notified",
        "acknowledged",
        "closed",
    ]


def test_alerts_api_lists_only_visible_alerts(world: World, teen: Child, api: Any) -> None:
    _give(world, teen, {**CALM, "phq9_self_harm": 1})
    assert len(api(world.counselor).get("/api/v1/alerts").json()["items"]) == 1
    assert len(api(world.supervisor).get("/api/v1/alerts").json()["items"]) == 1
    assert api(world.users["director_a"]).get("/api/v1/alerts").json()["items"] == []
    assert api(world.volunteer).get("/api/v1/alerts").json()["items"] == []


def test_alert_page_acknowledge_flow(world: World, teen: Child) -> None:
    _give(world, teen, {**CALM, "phq9_self_harm": 1})
    alert = Alert.objects.get()
    client = Client()
    client.force_login(world.counselor)
    page = client.get(reverse("screening:alert", args=[alert.pk]))
    assert 'data-testid="acknowledge"' in page.content.decode()
    client.post(reverse("screening:alert_acknowledge", args=[alert.pk]), {"note": "ok"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == world.counselor
    outsider = Client()
    outsider.force_login(world.users["director_a"])
    assert outsider.get(reverse("screening:alert", args=[alert.pk])).status_code == 404


def test_interview_only_questions_are_refused_in_self_report(world: World, teen: Child) -> None:
    answers = {
        "phqa_low_mood_irritable": 1,
        "phqa_anhedonia": 0,
        "phqa_sleep": 0,
        "phqa_appetite_weight": 0,
        "phqa_fatigue": 0,
        "phqa_worthlessness": 0,
        "phqa_concentration": 0,
        "phqa_psychomotor": 0,
        "phqa_self_harm": 0,
    }
    _give(world, teen, answers, instrument="phqa", mode="self_report")
    with pytest.raises(ValidationError) as bad:
        _give(
            world,
            teen,
            {**answers, "phqa_suicide_attempt_ever": 1},
            instrument="phqa",
            mode="self_report",
        )
    assert "answers.phqa_suicide_attempt_ever" in bad.value.message_dict
    interview = _give(
        world,
        teen,
        {**answers, "phqa_suicide_attempt_ever": 1},
        instrument="phqa",
        mode="interview",
    )
    assert interview.action == "alert"
    client = Client()
    client.force_login(world.counselor)
    form = client.get(
        reverse("screening:new", args=[teen.pk]) + "?instrument=phqa&mode=self_report"
    ).content.decode()
    assert 'data-item="phqa_suicide_attempt_ever"' not in form
    form = client.get(
        reverse("screening:new", args=[teen.pk]) + "?instrument=phqa&mode=interview"
    ).content.decode()
    assert 'data-item="phqa_suicide_attempt_ever"' in form


def test_child_page_shows_the_trend_to_the_counsellor_only(world: World, teen: Child) -> None:
    _give(world, teen, CALM, at=NOW - dt.timedelta(days=60))
    _give(world, teen, HL7_ANSWERS)
    client = Client()
    client.force_login(world.counselor)
    page = client.get(reverse("children:detail", args=[teen.pk])).content.decode()
    assert 'data-testid="trend-phq9"' in page and "points=" in page
    assert AccessLog.objects.filter(
        user=world.counselor, action=Action.VIEW_SCREENING, purpose="child_page_trend"
    ).exists()
    for persona in ("teacher_b", "director_b"):
        client.force_login(world.users[persona])
        page = client.get(reverse("children:detail", args=[teen.pk])).content.decode()
        assert 'data-testid="trend-phq9"' not in page
