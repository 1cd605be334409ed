"""A child who answered on the worker's phone sees nothing more until the worker enters
their password: not the result, not the alert, not a classmate's name."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.children.models import Child
from shouhu.screening.models import Administration, Alert
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db

PHQ9 = [
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


@pytest.fixture
def teen(world: World) -> Child:
    child = world.children["b1"]
    Child.objects.filter(pk=child.pk).update(birth_date=dt.date(2012, 5, 1))
    child.refresh_from_db()
    return child


def _answer(client: Client, child: Child, mode: str, **extra: str) -> str:
    data = {"instrument": "phq9", "mode": mode, **extra}
    data.update({f"item-{item}": "0" for item in PHQ9})
    data["item-phq9_self_harm"] = "2"  # raises an alert
    response = client.post(reverse("screening:new", args=[child.pk]), data)
    assert response.status_code == 302, response.content
    return str(response.url)


def test_self_report_locks_the_session_until_the_workers_password(
    world: World, teen: Child
) -> None:
    client = Client()
    client.force_login(world.counselor)
    assert _answer(client, teen, "self_report") == reverse("screening:handback")
    given = Administration.objects.get(child=teen)
    assert Alert.objects.filter(administration=given).exists()
    thanks = client.get(reverse("screening:handback"))
    page = thanks.content.decode()
    assert thanks.status_code == 200 and 'data-testid="hand-back"' in page
    assert "预警" not in page and teen.name not in page  # no alert, no result
    for url in (
        reverse("screening:detail", args=[given.pk]),
        reverse("children:detail", args=[teen.pk]),
        reverse("children:list"),
    ):
        assert client.get(url).url == reverse("screening:handback"), url
    wrong = client.post(reverse("screening:handback"), {"password": "guess"})
    assert wrong.status_code == 400
    assert client.get(reverse("screening:detail", args=[given.pk])).status_code == 302
    back = client.post(reverse("screening:handback"), {"password": PASSWORD}, follow=True)
    assert back.redirect_chain[-1][0] == reverse("screening:detail", args=[given.pk])
    assert "已发出保护预警" in back.content.decode()  # the alert, told to the worker now
    assert client.get(reverse("children:detail", args=[teen.pk])).status_code == 200


def test_five_wrong_passwords_end_the_session(world: World, teen: Child) -> None:
    client = Client()
    client.force_login(world.counselor)
    _answer(client, teen, "self_report")
    for _ in range(4):
        assert client.post(reverse("screening:handback"), {"password": "x"}).status_code == 400
    last = client.post(reverse("screening:handback"), {"password": "x"})
    assert last.url == reverse("accounts:login")
    after = client.get(reverse("children:detail", args=[teen.pk]))
    assert after.status_code == 302 and reverse("accounts:login") in after.url


def test_an_interview_by_the_worker_does_not_lock(world: World, teen: Child) -> None:
    client = Client()
    client.force_login(world.counselor)
    given_url = _answer(client, teen, "interview", respondent="worker")
    assert given_url.startswith("/screenings/")
    assert client.get(reverse("children:detail", args=[teen.pk])).status_code == 200


def test_an_unlocked_session_has_no_hand_back_page(world: World) -> None:
    client = Client()
    client.force_login(world.counselor)
    assert client.get(reverse("screening:handback")).url == "/"


def test_while_the_child_answers_only_the_questionnaire_and_hand_back_are_reachable(
    world: World, teen: Child
) -> None:
    """Opening a questionnaire the child fills in hands the device over: no navigation, and
    every other page leads back to the questionnaire until the worker's password."""
    client = Client()
    client.force_login(world.counselor)
    form_url = reverse("screening:new", args=[teen.pk]) + "?instrument=phq9&mode=self_report"
    page = client.get(form_url).content.decode()
    assert 'data-testid="questionnaire"' in page
    assert 'aria-label="主导航"' not in page
    assert reverse("screening:alerts") not in page and 'data-testid="inbox-link"' not in page
    assert 'data-testid="give-back"' in page and 'data-testid="modes"' not in page
    for url in (
        reverse("children:list"),
        reverse("children:detail", args=[teen.pk]),
        reverse("screening:alerts"),
        reverse("screening:child", args=[teen.pk]),
    ):
        assert client.get(url).url == form_url, url
    assert client.get(reverse("screening:handback")).status_code == 200
    # The worker takes the device back without an answer given: nothing stored.
    back = client.post(reverse("screening:handback"), {"password": PASSWORD})
    assert back.url == reverse("screening:child", args=[teen.pk])
    assert not Administration.objects.exists()
    assert client.get(reverse("children:list")).status_code == 200
    assert 'data-testid="inbox-link"' in client.get(reverse("children:list")).content.decode()


def test_the_worker_filling_in_an_interview_keeps_the_navigation(world: World, teen: Child) -> None:
    client = Client()
    client.force_login(world.counselor)
    url = reverse("screening:new", args=[teen.pk]) + "?instrument=phq9&mode=interview"
    assert 'data-testid="inbox-link"' in client.get(url).content.decode()
    assert client.get(reverse("children:list")).status_code == 200
