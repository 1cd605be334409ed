"""Surrogate parents (代理家长, issue 13): only for left-behind children, one at a time, under
the guardian's agreement; a missed contact cadence is one task for the village's child
director and a risk fact; the surrogate parent is in the child's support network."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.test import Client
from django.urls import reverse

from shouhu import access
from shouhu.audit.models import ChangeRecord
from shouhu.cases import selectors as case_selectors
from shouhu.children.data import MemberData
from shouhu.children.models import Child, FamilyMember
from shouhu.lib.clock import SHANGHAI
from shouhu.screening.models import RiskLevel
from shouhu.surrogates import services
from shouhu.surrogates.models import Arrangement, Contact, SurrogateParent
from shouhu.tasks.models import Task
from tests.world import TODAY, VILLAGE_A, World, child_data, make_user, register

pytestmark = pytest.mark.django_db

WEEKLY_CALL = [services.CadenceData("call", 7)]


def _father(child: Child) -> FamilyMember:
    return FamilyMember.objects.get(household_id=child.household_id, relation="father")


def _arrange(
    world: World,
    *,
    child: str = "a1",
    actor: str = "director_a",
    since: dt.date = TODAY - dt.timedelta(days=20),
    cadences: list[services.CadenceData] | None = None,
    **kw: Any,
) -> Arrangement:
    c = world.children[child]
    user = world.users[actor]
    org = user.memberships.get().organisation
    values: dict[str, Any] = {
        "actor": user,
        "child": c,
        "organisation": org,
        "guardian": _father(c),
        "signed_on": since,
        "since": since,
        "duties": "每周电话，每月看望",
        "agreement_version": "2026-01",
        "cadences": WEEKLY_CALL if cadences is None else cadences,
        "person": services.SurrogateData(name="赵书记", community_role="village_cadre"),
    }
    values.update(kw)
    return services.arrangement_create(**values)


def _tasks(child: Child, status: str = "open") -> list[Task]:
    return list(Task.objects.filter(child=child, kind="surrogate_contact", status=status))


def _errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(excinfo.value.message_dict)


# --- arranging -------------------------------------------------------------------------


def test_a_left_behind_child_gets_a_surrogate_parent_with_an_audit_trail(world: World) -> None:
    a = _arrange(
        world, cadences=[services.CadenceData("call", 7), services.CadenceData("visit", 30)]
    )
    assert a.is_active and a.surrogate.name == "赵书记" and a.cadences.count() == 2
    assert a.guardian == _father(world.children["a1"])
    kinds = set(
        ChangeRecord.objects.filter(child_id=a.child_id).values_list("object_type", flat=True)
    )
    assert {"arrangement", "cadence"} <= kinds
    assert ChangeRecord.objects.filter(
        object_type="surrogateparent", object_id=str(a.surrogate_id)
    ).exists()


def test_only_left_behind_children_get_a_surrogate_parent(world: World) -> None:
    at_home = register(
        world.director_a,
        child_data("陈晨", VILLAGE_A, living_arrangement="both_parents"),
        members=[
            MemberData(name="陈父", relation="father", is_guardian=True),
            MemberData(name="陈母", relation="mother", is_guardian=True),
        ],
    )
    assert not at_home.cat_left_behind_mca and not at_home.cat_left_behind_census
    with pytest.raises(ValidationError) as excinfo:
        services.arrangement_create(
            actor=world.director_a,
            child=at_home,
            organisation=world.orgs["village_a"],
            guardian=_father(at_home),
            signed_on=TODAY,
            since=TODAY,
            duties="看望",
            agreement_version="1",
            cadences=WEEKLY_CALL,
            person=services.SurrogateData(name="赵书记", community_role="village_cadre"),
        )
    assert _errors(excinfo) == {"child"}
    assert not Arrangement.objects.exists() and not SurrogateParent.objects.exists()


def test_one_active_arrangement_per_child(world: World) -> None:
    first = _arrange(world)
    with pytest.raises(ValidationError) as excinfo:
        _arrange(world)
    assert _errors(excinfo) == {"child"}
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds it too
        Arrangement.objects.create(
            child=first.child,
            surrogate=first.surrogate,
            organisation=first.organisation,
            guardian=first.guardian,
            signed_on=TODAY,
            since=TODAY,
            duties="x",
            agreement_version="1",
            created_at=first.created_at,
            created_by=first.created_by,
        )
    services.arrangement_end(actor=world.director_a, arrangement=first, reason="搬家")
    second = _arrange(world)
    assert second.is_active and Arrangement.objects.filter(child=first.child).count() == 2


def test_bad_input_names_each_field_and_writes_nothing(world: World) -> None:
    b1 = world.children["b1"]
    with pytest.raises(ValidationError) as excinfo:
        _arrange(
            world,
            guardian=_father(b1),  # another household's
            signed_on=TODAY + dt.timedelta(days=1),
            since=TODAY - dt.timedelta(days=3),
            until=TODAY - dt.timedelta(days=5),
            duties=" ",
            agreement_version="",
            cadences=[services.CadenceData("call", 7), services.CadenceData("call", 0)],
            person=services.SurrogateData(name=" ", community_role="boss", phone="12345"),
        )
    assert _errors(excinfo) == {
        "guardian",
        "signed_on",
        "since",
        "until",
        "duties",
        "agreement_version",
        "cadences.1.mode",
        "cadences.1.every_days",
        "surrogate.name",
        "surrogate.community_role",
        "surrogate.phone",
    }
    with pytest.raises(ValidationError) as excinfo:
        _arrange(world, cadences=[])
    assert _errors(excinfo) == {"cadences"}
    grandmother = FamilyMember.objects.get(
        household_id=world.children["a1"].household_id, relation="paternal_grandmother"
    )
    with pytest.raises(ValidationError) as excinfo:
        _arrange(world, guardian=grandmother)  # not a guardian
    assert _errors(excinfo) == {"guardian"}
    assert not Arrangement.objects.exists() and not SurrogateParent.objects.exists()


def test_contacts_are_neither_in_the_future_nor_before_the_start(world: World) -> None:
    a = _arrange(world)
    for day in (TODAY + dt.timedelta(days=1), a.since - dt.timedelta(days=1)):
        with pytest.raises(ValidationError) as excinfo:
            services.contact_record(actor=world.director_a, arrangement=a, on=day, mode="call")
        assert _errors(excinfo) == {"on"}
    with pytest.raises(ValidationError) as excinfo:
        services.contact_record(
            actor=world.director_a, arrangement=a, on=TODAY, mode="letter", minutes=0
        )
    assert _errors(excinfo) == {"mode", "minutes"}
    assert not Contact.objects.exists()
    services.contact_record(actor=world.director_a, arrangement=a, on=a.since, mode="call")
    assert ChangeRecord.objects.filter(object_type="contact", child_id=a.child_id).exists()


# --- the missed-contact job ------------------------------------------------------------


def test_a_missed_cadence_opens_one_task_for_the_director_and_a_contact_closes_it(
    world: World,
) -> None:
    a = _arrange(world)  # a weekly call, started 20 days ago, no call yet
    assert services.missed(TODAY) == (1, 0)
    [task] = _tasks(a.child)
    assert task.assignee == world.director_a and task.due_on == TODAY
    assert services.missed(TODAY) == (0, 0)  # idempotent
    assert len(_tasks(a.child)) == 1
    assert ChangeRecord.objects.filter(object_type="task", object_id=str(task.pk)).exists()
    services.contact_record(actor=world.director_a, arrangement=a, on=TODAY, mode="call")
    assert _tasks(a.child) == [] and len(_tasks(a.child, "done")) == 1
    assert services.missed(TODAY) == (0, 0)
    # A week and more later without a call, it is owed again: one new task.
    assert services.missed(TODAY + dt.timedelta(days=8)) == (1, 0)
    assert len(_tasks(a.child)) == 1


def test_the_start_gives_grace_before_the_first_contact(world: World) -> None:
    a = _arrange(world, since=TODAY - dt.timedelta(days=7))
    assert services.missed(TODAY) == (0, 0)  # due today: not yet missed
    assert services.missed(TODAY + dt.timedelta(days=1)) == (1, 0)
    assert _tasks(a.child)


def test_nothing_is_owed_after_the_agreed_end(world: World) -> None:
    _arrange(world, since=TODAY - dt.timedelta(days=40), until=TODAY - dt.timedelta(days=1))
    assert services.missed(TODAY) == (0, 0)


def test_a_visit_keeps_a_call_cadence_but_a_call_never_keeps_a_visit(world: World) -> None:
    a = _arrange(
        world,
        since=TODAY - dt.timedelta(days=40),
        cadences=[services.CadenceData("call", 7), services.CadenceData("visit", 30)],
    )
    services.contact_record(
        actor=world.director_a, arrangement=a, on=TODAY - dt.timedelta(days=2), mode="call"
    )
    assert services.missed(TODAY) == (1, 0)  # the monthly visit is missed
    services.contact_record(actor=world.director_a, arrangement=a, on=TODAY, mode="visit")
    assert _tasks(a.child) == []  # the visit keeps both
    assert services.missed(TODAY + dt.timedelta(days=6)) == (0, 0)


def test_ending_the_arrangement_cancels_its_task(world: World) -> None:
    a = _arrange(world)
    services.missed(TODAY)
    services.arrangement_end(actor=world.director_a, arrangement=a, reason="孩子随父母外出")
    assert _tasks(a.child) == [] and len(_tasks(a.child, "cancelled")) == 1
    assert services.missed(TODAY) == (0, 0)
    with pytest.raises(ValidationError) as excinfo:
        services.arrangement_end(actor=world.director_a, arrangement=a, reason="again")
    assert _errors(excinfo) == {"status"}
    with pytest.raises(PermissionDenied):  # no contact logged on an ended arrangement
        services.contact_record(actor=world.director_a, arrangement=a, on=TODAY, mode="call")


# --- risk and support network ----------------------------------------------------------


def test_the_risk_level_reads_the_surrogate_facts_and_the_rule_fires(
    world: World, clock: Any
) -> None:
    a = _arrange(world, since=TODAY - dt.timedelta(days=3))
    level = RiskLevel.objects.get(child=a.child)
    assert level.facts["surrogate_parent"] is True
    assert level.facts["surrogate_contact_missed"] is False
    clock.move_to(dt.datetime.combine(TODAY + dt.timedelta(days=10), dt.time(10), SHANGHAI))
    assert services.missed() == (1, 0)  # recomputed when the task opens
    level = RiskLevel.objects.get(child=a.child)
    assert level.facts["surrogate_contact_missed"] is True and level.facts["left_behind"]
    from shouhu.lib import risk as rules_lib
    from shouhu.screening import risk

    result = rules_lib.evaluate(risk.rules(), level.facts)
    assert "surrogate_contact_missed" in [r.code for r in result.reasons] or result.level in (
        "orange",
        "red",
    )
    services.contact_record(
        actor=world.director_a, arrangement=a, on=TODAY + dt.timedelta(days=9), mode="call"
    )
    assert RiskLevel.objects.get(child=a.child).facts["surrogate_contact_missed"] is False


def test_the_rule_holds_only_for_a_left_behind_child(world: World) -> None:
    from shouhu.lib import risk as rules_lib
    from shouhu.screening import risk

    facts = {"left_behind": True, "surrogate_contact_missed": True}
    codes = [r.code for r in rules_lib.evaluate(risk.rules(), facts).reasons]
    assert codes == ["surrogate_contact_missed"]
    facts["left_behind"] = False
    codes = [r.code for r in rules_lib.evaluate(risk.rules(), facts).reasons]
    assert "surrogate_contact_missed" not in codes


def test_the_surrogate_parent_is_in_the_support_network(world: World, client: Client) -> None:
    a = _arrange(world)
    network = case_selectors.support_network(world.teacher_a, a.child, detailed=False)
    assert [(s["name"], s["role"]) for s in network["surrogates"]] == [("赵书记", "village_cadre")]
    client.force_login(world.director_a)
    page = client.get(reverse("children:detail", args=[a.child_id])).content.decode()
    assert 'data-testid="network-surrogates"' in page and "赵书记" in page
    services.arrangement_end(actor=world.director_a, arrangement=a, reason="结束")
    network = case_selectors.support_network(world.teacher_a, a.child, detailed=False)
    assert network["surrogates"] == []


# --- access ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["director_a", "supervisor", "socialworker"])
def test_directors_supervisors_and_serving_social_workers_arrange(
    world: World, persona: str
) -> None:
    child = world.children["a1"]
    assert access.may_arrange_surrogate(world.users[persona], child)


@pytest.mark.parametrize(
    "persona", ["director_b", "teacher_a", "volunteer", "official", "counselor", "techenvoy"]
)
def test_outsiders_neither_arrange_nor_read(world: World, persona: str) -> None:
    a = _arrange(world)
    user = world.users[persona]
    assert not access.may_arrange_surrogate(user, a.child)
    with pytest.raises(PermissionDenied):
        services.contact_record(actor=user, arrangement=a, on=TODAY, mode="call")
    with pytest.raises(Http404):
        access.get_surrogate_arrangement_for_user(user, a.pk, purpose="surrogate")
    assert not access.surrogate_arrangements_visible_to(user).exists()


def test_an_outsider_cannot_arrange(world: World) -> None:
    with pytest.raises(PermissionDenied):
        _arrange(world, actor="director_b")
    assert not Arrangement.objects.exists()


def test_a_surrogate_parent_with_a_login_logs_their_own_contacts(world: World) -> None:
    login = make_user("zhao", world.orgs["village_a"], "volunteer")
    a = _arrange(
        world,
        person=services.SurrogateData(name="赵书记", community_role="village_cadre", user=login),
    )
    opened = access.get_surrogate_arrangement_for_user(login, a.pk, purpose="surrogate")
    assert opened == a
    services.contact_record(actor=login, arrangement=a, on=TODAY, mode="call", minutes=15)
    assert Contact.objects.get().recorded_by == login
    assert not access.may_arrange_surrogate(login, a.child)  # nor end it
    with pytest.raises(PermissionDenied):
        services.arrangement_end(actor=login, arrangement=a, reason="不想做了")


# --- pages -----------------------------------------------------------------------------


def _form(world: World, **overrides: str) -> dict[str, str]:
    data = {
        "organisation": str(world.orgs["village_a"].pk),
        "name": "钱老师",
        "community_role": "teacher",
        "phone": "13955001234",
        "guardian": str(_father(world.children["a1"]).pk),
        "signed_on": TODAY.isoformat(),
        "since": TODAY.isoformat(),
        "duties": "每周电话",
        "agreement_version": "2026-01",
        "call_every": "7",
    }
    data.update(overrides)
    return data


def test_the_director_arranges_logs_and_ends_on_the_pages(world: World, client: Client) -> None:
    child = world.children["a1"]
    client.force_login(world.director_a)
    page = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert 'data-testid="surrogate-new-link"' in page
    url = reverse("surrogates:new", args=[child.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, _form(world, phone="123", call_every=""))
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"call_every"}
    bad = client.post(url, _form(world, phone="123"))
    assert bad.status_code == 400 and set(bad.context["form"].errors) == {"phone"}
    assert client.post(url, _form(world)).status_code == 302
    a = Arrangement.objects.get(child=child)
    page = client.get(reverse("children:detail", args=[child.pk])).content.decode()
    assert 'data-testid="surrogate-contact-form"' in page and "钱老师" in page
    detail = reverse("surrogates:detail", args=[a.pk])
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    bad = client.post(detail, {"on": future, "mode": "call"})
    assert bad.status_code == 400 and set(bad.context["form"].errors) == {"on"}
    assert client.post(detail, {"on": TODAY.isoformat(), "mode": "visit"}).status_code == 302
    assert Contact.objects.filter(arrangement=a, mode="visit").exists()
    end = reverse("surrogates:end", args=[a.pk])
    assert client.post(end, {"reason": "父母返乡"}).status_code == 302
    assert Arrangement.objects.get(pk=a.pk).status == "ended"


def test_pages_are_closed_to_outsiders(world: World, client: Client) -> None:
    a = _arrange(world)
    client.force_login(world.director_b)
    assert client.get(reverse("surrogates:detail", args=[a.pk])).status_code == 404
    assert client.get(reverse("surrogates:new", args=[a.child_id])).status_code == 404
    client.force_login(world.teacher_a)  # sees the child, does not arrange
    assert client.get(reverse("surrogates:new", args=[a.child_id])).status_code == 403
    page = client.get(reverse("children:detail", args=[a.child_id])).content.decode()
    assert 'data-testid="surrogate"' not in page
    assert client.get(reverse("surrogates:list")).status_code == 200
