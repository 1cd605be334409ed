"""Risk level: rules over facts (pure), recomputed when inputs change, the follow-up visit
it sets, and the worklist of the responsible child director."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.children.models import Child
from shouhu.lib import risk as rules_lib
from shouhu.screening import risk, safeguarding, services
from shouhu.screening.models import Alert, RiskLevel
from shouhu.tasks.models import Task, TaskStatus
from tests.world import NOW, TODAY, World

DEFAULT = risk.DEFAULT_RULES
HV_ITEMS: list[str] = []


def _rules() -> rules_lib.Rules:
    return rules_lib.load(DEFAULT)


# --- the rules, without a database --------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "level"),
    [
        ({}, "green"),
        ({"parent_last_seen": 0}, "green"),
        ({"parent_last_seen": 1}, "yellow"),
        ({"parent_last_seen": 2}, "red"),
        ({"screening_follow_up": True}, "yellow"),
        ({"screening_follow_up": False}, "green"),
        ({"open_alerts": 1}, "orange"),
        ({"open_alerts": 1, "open_imminent_alerts": 1}, "red"),
        ({"guardianship_rating": "poor"}, "orange"),
        ({"living_arrangement": "alone"}, "red"),
        ({"home_visit_actions": ["follow_up", "mandatory_report"]}, "red"),
        ({"categories": ["left_behind_mca"]}, "green"),
        ({"categories": ["de_facto_unsupported"]}, "orange"),
    ],
)
def test_default_rules(facts: dict[str, Any], level: str) -> None:
    assert rules_lib.evaluate(_rules(), facts).level == level


def test_reasons_list_every_rule_that_holds_highest_first() -> None:
    result = rules_lib.evaluate(
        _rules(), {"parent_last_seen": 2, "guardianship_rating": "fair", "open_alerts": 1}
    )
    assert [r.code for r in result.reasons] == [
        "parent_not_seen_over_12_months",
        "alert_open",
        "fair_guardianship",
    ]


def test_default_intervals() -> None:
    assert _rules().intervals == {"red": 7, "orange": 14, "yellow": 30, "green": 90}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[intervals]\npurple = 3\n", 'unknown level "purple"'),
        ("[intervals]\nred = 0\n", "intervals.red"),
        (
            '[[rules]]\ncode = "x"\nlevel = "pink"\nwhen = [{fact = "a", eq = 1}]\n'
            'label = {zh-Hans = "x", en = "x"}\n',
            'rule "x": level',
        ),
        (
            '[[rules]]\ncode = "x"\nlevel = "red"\nwhen = [{fact = "a", near = 1}]\n'
            'label = {zh-Hans = "x", en = "x"}\n',
            'rule "x": when[0]',
        ),
        (
            '[[rules]]\ncode = "x"\nlevel = "red"\nwhen = []\nlabel = {zh-Hans = "x", en = "x"}\n',
            "at least one condition",
        ),
        (
            '[[rules]]\ncode = "x"\nlevel = "red"\nwhen = [{fact = "a", gte = "2"}]\n'
            'label = {zh-Hans = "x", en = "x"}\n',
            "gte needs a number",
        ),
        (
            '[[rules]]\ncode = "x"\nlevel = "red"\nwhen = [{fact = "a", eq = 1}]\n'
            'label = {en = "x"}\n',
            "zh-Hans and en",
        ),
        ('colour = "red"\n', "unknown keys"),
    ],
)
def test_bad_rules_files_name_the_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(rules_lib.RulesError, match=r"rules\.toml") as bad:
        rules_lib.load(path)
    assert message in str(bad.value)


# --- recomputation in the application -----------------------------------------------------


def _home_visit(world: World, child: Child, **answers: int) -> Any:
    from shouhu.screening import registry

    inst = registry.definition("home_visit")
    full = {item.id: item.min_value for item in inst.items if item.show_if is None}
    full.update(answers)
    return services.administer(
        actor=world.users["director_b"],
        child=child,
        instrument="home_visit",
        answers=full,
        now=NOW,
        administered_at=NOW,
    )


@pytest.mark.django_db
def test_registration_sets_a_level_and_a_visit_for_the_village_director(world: World) -> None:
    child = world.children["b1"]
    level = RiskLevel.objects.get(child=child)
    assert level.level == "green" and level.interval_days == 90
    task = Task.objects.get(kind="home_visit", child=child, status=TaskStatus.OPEN)
    assert task.assignee == world.users["director_b"] and task.kind == "home_visit"


@pytest.mark.django_db
def test_parent_not_seen_for_a_year_is_red_and_brings_the_visit_forward(world: World) -> None:
    child = world.children["b1"]
    _home_visit(world, child, hv_parent_last_seen=1)
    level = RiskLevel.objects.get(child=child)
    assert level.level == "yellow" and level.interval_days == 30
    assert "parent_not_seen_6_12_months" in [r["code"] for r in level.reasons]
    done = Task.objects.get(kind="home_visit", child=child, status=TaskStatus.DONE)
    assert done.done_by == world.users["director_b"]
    task = Task.objects.get(kind="home_visit", child=child, status=TaskStatus.OPEN)
    assert task.due_on == TODAY + dt.timedelta(days=30)
    _home_visit(world, child, hv_parent_last_seen=2)
    assert RiskLevel.objects.get(child=child).level == "red"
    task = Task.objects.get(kind="home_visit", child=child, status=TaskStatus.OPEN)
    assert task.due_on == TODAY + dt.timedelta(days=7)
    assert Task.objects.filter(kind="home_visit", child=child, status=TaskStatus.OPEN).count() == 1


@pytest.mark.django_db
def test_registry_change_recomputes_the_level(world: World) -> None:
    from shouhu.children import editing

    child = world.children["b1"]
    editing.child_update(
        actor=world.users["director_b"],
        child=child,
        version=child.version,
        changes={"guardianship_rating": "poor"},
    )
    assert RiskLevel.objects.get(child=child).level == "orange"


@pytest.mark.django_db
def test_open_alert_raises_the_level_until_it_is_closed(world: World) -> None:
    child = world.children["b1"]
    Child.objects.filter(pk=child.pk).update(birth_date=dt.date(2012, 5, 1))
    child.refresh_from_db()
    answers = {
        "phq9_anhedonia": 0,
        "phq9_low_mood": 0,
        "phq9_sleep": 0,
        "phq9_fatigue": 0,
        "phq9_appetite": 0,
        "phq9_worthlessness": 0,
        "phq9_concentration": 0,
        "phq9_psychomotor": 0,
        "phq9_self_harm": 1,
    }
    services.administer(
        actor=world.counselor,
        child=child,
        instrument="phq9",
        answers=answers,
        now=NOW,
        administered_at=NOW,
    )
    assert RiskLevel.objects.get(child=child).level == "orange"
    alert = Alert.objects.get(child=child)
    safeguarding.acknowledge(actor=world.counselor, alert=alert, now=NOW)
    safeguarding.record_action(
        actor=world.counselor, alert=alert, note="Seen by the county clinic", close=True, now=NOW
    )
    # Closed: the screening result itself still asks for follow-up.
    level = RiskLevel.objects.get(child=child)
    assert level.level == "yellow"
    assert [r["code"] for r in level.reasons] == ["screening_follow_up"]


@pytest.mark.django_db
def test_child_page_shows_level_and_why_but_not_to_volunteers(world: World) -> None:
    child = world.children["a1"]
    Child.objects.filter(pk=child.pk).update(guardianship_rating="fair")
    risk.recompute(child)
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.users["director_a"])
    page = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert 'data-testid="risk-level"' in page and "Guardianship rated fair" in page
    client.force_login(world.volunteer)
    page = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert 'data-testid="risk"' not in page


@pytest.mark.django_db
def test_worklist_of_director_and_supervisor(world: World) -> None:
    client = Client()
    client.force_login(world.users["director_b"])
    mine = client.get(reverse("screening:worklist")).content.decode()
    assert "李娜" in mine and "张伟" not in mine
    client.force_login(world.supervisor)
    area = client.get(reverse("screening:worklist")).content.decode()
    assert "李娜" in area and "张伟" in area
    client.force_login(world.volunteer)
    assert "李娜" not in client.get(reverse("screening:worklist")).content.decode()


@pytest.mark.django_db
def test_batch_recompute_agrees_with_one_child_recompute(world: World) -> None:
    from django.core.management import call_command

    _home_visit(world, world.children["b1"], hv_parent_last_seen=2)
    Child.objects.filter(pk=world.children["a1"].pk).update(guardianship_rating="poor")
    one_by_one = {}
    for child in Child.objects.all():
        level = risk.recompute(child, now=NOW)
        one_by_one[child.pk] = (level.level, level.reasons, level.interval_days)
    tasks = dict(
        Task.objects.filter(kind="home_visit", status=TaskStatus.OPEN).values_list(
            "child_id", "due_on"
        )
    )
    RiskLevel.objects.all().delete()
    Task.objects.filter(kind="home_visit", status=TaskStatus.OPEN).delete()
    call_command("risk", "recompute")
    batch = {r.child_id: (r.level, r.reasons, r.interval_days) for r in RiskLevel.objects.all()}
    assert batch == one_by_one
    assert {one_by_one[world.children["b1"].pk][0], one_by_one[world.children["a1"].pk][0]} == {
        "red",
        "orange",
    }
    assert (
        dict(
            Task.objects.filter(kind="home_visit", status=TaskStatus.OPEN).values_list(
                "child_id", "due_on"
            )
        ).keys()
        == tasks.keys()
    )
