"""Questionnaires are submitted complete or kept as drafts: a half-done questionnaire is never
scored, never a result and raises nothing; instruments are offered only inside their age
range; an unknown instrument is a 404, not a server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from shouhu.children.models import Child
from shouhu.lib import instruments as defs
from shouhu.screening import services
from shouhu.screening.models import Administration, Alert, Draft, RiskLevel
from tests.test_api_auth import bearer, token_for
from tests.world import NOW, World

pytestmark = pytest.mark.django_db

HOME_VISIT_ITEMS = [item.id for item in defs.load_shipped()["home_visit"].items]


@pytest.fixture
def a1(world: World) -> Child:
    """张伟, 11 years old, village A: his child director gives him home visits."""
    return world.children["a1"]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _new(child: Child) -> str:
    return reverse("screening:new", args=[child.pk])


def test_a_home_visit_with_one_answer_of_28_is_refused_naming_each_missing_question(
    world: World, a1: Child
) -> None:
    director = _client(world.users["director_a"])
    response = director.post(
        _new(a1), {"instrument": "home_visit", "item-hv_living_arrangement": "0"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert not Administration.objects.exists()
    assert "无需跟进" not in page
    assert "27 道题需要回答" in page  # the summary at the top
    for item in HOME_VISIT_ITEMS[1:]:
        assert f'href="#q-{item}" data-testid="missing-{item}"' in page  # linked from the top
        assert f'data-testid="error-{item}"' in page  # and said at the question
    assert 'data-testid="error-hv_living_arrangement"' not in page
    assert 'value="0" checked' in page  # what was typed is kept


def test_the_service_refuses_a_half_done_questionnaire(world: World, a1: Child) -> None:
    with pytest.raises(ValidationError) as refused:
        services.administer(
            actor=world.users["director_a"],
            child=a1,
            instrument="home_visit",
            answers={"hv_living_arrangement": 0},
            now=NOW,
        )
    assert set(refused.value.message_dict) == {f"answers.{i}" for i in HOME_VISIT_ITEMS[1:]}


def test_the_api_refuses_a_half_done_questionnaire(world: World) -> None:
    teen = world.children["b1"]
    Child.objects.filter(pk=teen.pk).update(birth_date=NOW.date().replace(year=NOW.year - 14))
    client = Client()
    response = client.post(
        f"/api/v1/children/{teen.pk}/screenings",
        {"instrument": "phq9", "answers": {"phq9_anhedonia": 0}},
        content_type="application/json",
        **bearer(token_for(client, "counselor")),
    )
    assert response.status_code == 400
    assert "answers.phq9_self_harm" in response.json()["errors"]
    assert not Administration.objects.exists()


def test_a_draft_is_kept_unscored_and_is_finished_later(world: World, a1: Child) -> None:
    director = _client(world.users["director_a"])
    before = RiskLevel.objects.get(child=a1)
    kept = director.post(
        _new(a1),
        {"instrument": "home_visit", "item-hv_living_arrangement": "1", "save_draft": "on"},
    )
    assert kept.status_code == 302
    told = director.get(kept.url).content.decode()
    assert "未完成的问卷" in told and "草稿中有需要立即处置的回答" not in told
    draft = Draft.objects.get(child=a1)
    assert draft.started_by == world.users["director_a"]
    assert "hv_living_arrangement" not in draft.answers_enc  # sealed like the answers
    assert not Administration.objects.exists() and not Alert.objects.exists()
    after = RiskLevel.objects.get(child=a1)
    assert (after.level, after.reasons) == (before.level, before.reasons)
    # Not a result anywhere: the results list is empty; the form opens where it was left.
    listing = director.get(reverse("screening:child", args=[a1.pk])).content.decode()
    assert 'data-testid="draft-home_visit"' in listing
    assert Administration.objects.filter(child=a1).count() == 0
    form = director.get(_new(a1) + "?instrument=home_visit").content.decode()
    assert 'data-testid="draft-note"' in form
    assert 'name="item-hv_living_arrangement" value="1" checked' in form
    # Nobody else reads it back.
    assert services.draft_of(actor=world.supervisor, child=a1, instrument="home_visit") is None
    complete = {f"item-{i}": "0" for i in HOME_VISIT_ITEMS}
    done = director.post(_new(a1), {"instrument": "home_visit", **complete})
    assert done.status_code == 302
    assert Administration.objects.filter(child=a1).count() == 1
    assert not Draft.objects.exists()


def test_instruments_are_offered_only_inside_their_age_range(world: World, a1: Child) -> None:
    worker = _client(world.users["socialworker"])  # a1's case worker: may screen him
    listing = worker.get(reverse("screening:child", args=[a1.pk])).content.decode()
    assert 'data-testid="start-gad7"' in listing  # 10-17
    assert 'data-testid="start-phq9"' not in listing  # 12-17; he is 11
    opened = worker.get(_new(a1) + "?instrument=phq9", follow=True)
    assert opened.redirect_chain[-1][0] == reverse("screening:child", args=[a1.pk])
    assert "12" in opened.content.decode() and "17" in opened.content.decode()
    posted = worker.post(_new(a1), {"instrument": "phq9", "item-phq9_anhedonia": "0"})
    assert posted.status_code == 302 and not Administration.objects.exists()


def test_an_unknown_instrument_is_a_404_not_a_server_error(world: World, a1: Child) -> None:
    director = _client(world.users["director_a"])
    assert director.get(_new(a1) + "?instrument=nope").status_code == 404
    assert director.get(_new(a1)).status_code == 404
    assert director.post(_new(a1), {"instrument": "nope"}).status_code == 404


def test_danger_kept_in_a_draft_raises_the_alert_at_once_and_only_once(
    world: World, a1: Child
) -> None:
    """A child director who finds a child in immediate danger and keeps the home visit to
    finish later has told the responders and the township supervisor at that moment; the
    finished visit does not raise the same alert again."""
    director = _client(world.users["director_a"])
    draft = {"instrument": "home_visit", "item-hv_immediate_danger": "3", "save_draft": "on"}
    kept = director.post(_new(a1), draft)
    assert kept.status_code == 302
    told = director.get(kept.url).content.decode()
    assert "草稿中有需要立即处置的回答" in told and "已发出保护预警" in told
    alert = Alert.objects.get(child=a1)
    assert alert.priority == "imminent" and alert.administration is None
    recipients = set(alert.recipients.all())
    assert world.supervisor in recipients and world.users["director_a"] in recipients
    assert RiskLevel.objects.get(child=a1).level == "red"
    # The supervisor reads why, as for a submitted visit.
    supervisor = _client(world.supervisor)
    page = supervisor.get(reverse("screening:alert", args=[alert.pk])).content.decode()
    assert "立即危险" in page or "紧急危险" in page
    # Keeping the draft again, then finishing the visit: still one alert, now with the visit.
    assert director.post(_new(a1), draft).status_code == 302
    complete = {f"item-{i}": "0" for i in HOME_VISIT_ITEMS} | {"item-hv_immediate_danger": "3"}
    assert director.post(_new(a1), {"instrument": "home_visit", **complete}).status_code == 302
    visit = Administration.objects.get(child=a1)
    assert Alert.objects.filter(child=a1).count() == 1
    alert.refresh_from_db()
    assert alert.administration == visit
    # The result does not read as "few needs" beside the danger: the total's level says so.
    result = director.get(reverse("screening:detail", args=[visit.pk])).content.decode()
    assert "按总分的等级" in result and "无论总分如何" in result
