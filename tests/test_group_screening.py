"""Group screening: a school counsellor screens a class in one sitting and leaves with the
list of children who need follow-up."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from shouhu.accounts.models import Membership, Role
from shouhu.screening import services
from shouhu.screening.models import Administration, GroupSession
from tests.world import PASSWORD, VILLAGE_B, World, child_data, register

pytestmark = pytest.mark.django_db

GAD7 = [
    "gad7_nervous",
    "gad7_uncontrolled_worry",
    "gad7_excessive_worry",
    "gad7_trouble_relaxing",
    "gad7_restless",
    "gad7_irritable",
    "gad7_dread",
]


@pytest.fixture
def school_counsellor(world: World):  # type: ignore[no-untyped-def]
    user = world.counselor
    Membership.objects.create(user=user, organisation=world.orgs["school_b"], role=Role.COUNSELOR)
    return user


def test_class_screening_lists_who_needs_follow_up(world: World, school_counsellor) -> None:  # type: ignore[no-untyped-def]
    classmate = register(
        world.users["director_b"],
        child_data("赵敏", VILLAGE_B, sex="F", school_id=world.orgs["school_b"].pk, grade="五年级"),
    )
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(school_counsellor)
    response = client.post(
        reverse("screening:groups"),
        {
            "instrument": "gad7",
            "school": world.orgs["school_b"].pk,
            "grade": "五年级",
            "title": "五(1)班",
        },
    )
    group = GroupSession.objects.get()
    assert response.status_code == 302
    assert set(group.children.all()) == {world.children["b1"], classmate}
    worried = {item: 2 for item in GAD7}  # total 14: moderate, follow-up
    calm = {item: 0 for item in GAD7}
    for child, answers in ((world.children["b1"], worried), (classmate, calm)):
        url = reverse("screening:new", args=[child.pk])
        data = {"instrument": "gad7", "group": group.pk, "language": "en"}
        data.update({f"item-{k}": v for k, v in answers.items()})
        # The child answered on the counsellor's phone: it is handed back before the list.
        assert client.post(url, data).url == reverse("screening:handback")
        unlocked = client.post(reverse("screening:handback"), {"password": PASSWORD})
        assert unlocked.url == reverse("screening:group", args=[group.pk])
    assert Administration.objects.filter(group=group).count() == 2
    page = client.get(reverse("screening:group", args=[group.pk])).content.decode()
    needs = page.split('data-testid="needs-follow-up"')[1].split("</section>")[0]
    assert "李娜" in needs and "赵敏" not in needs
    assert "2 of 2 done" in page


def test_group_refuses_children_the_worker_may_not_screen(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        services.group_create(
            actor=world.counselor,
            instrument="gad7",
            title="x",
            held_on=world.children["a1"].birth_date,
            children=[world.children["a1"]],  # not served by the counsellor
        )
    assert "张伟" in str(refused.value)


def test_only_the_conducting_worker_opens_the_group(world: World, school_counsellor) -> None:  # type: ignore[no-untyped-def]
    group = services.group_create(
        actor=school_counsellor,
        instrument="gad7",
        title="五(1)班",
        held_on=world.children["b1"].birth_date,
        children=[world.children["b1"]],
    )
    client = Client()
    client.force_login(world.users["teacher_b"])
    assert client.get(reverse("screening:group", args=[group.pk])).status_code == 404


def test_activity_group_of_a_village_for_a_counsellor_without_a_school(world: World) -> None:
    """A hospital counsellor serving children of a village gathers them at the village's
    children's home: only the children they may screen are in the group."""
    client = Client()
    client.force_login(world.counselor)
    page = client.get(reverse("screening:groups")).content.decode()
    assert 'name="village"' in page and VILLAGE_B in page
    response = client.post(
        reverse("screening:groups"),
        {"instrument": "gad7", "source": "village", "village": VILLAGE_B, "title": "儿童之家"},
    )
    assert response.status_code == 302, response.content.decode()
    group = GroupSession.objects.get()
    assert list(group.children.all()) == [world.children["b1"]]
    listed = client.get(reverse("screening:groups")).content.decode()
    assert "儿童之家" in listed and "gad7" not in listed.split('data-testid="groups"')[1]


def test_too_big_a_group_is_refused_with_a_message_not_cut_short(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shouhu.screening import selectors

    monkeypatch.setattr(selectors, "MAX_GROUP", 0)
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.counselor)
    response = client.post(
        reverse("screening:groups"),
        {"instrument": "gad7", "source": "village", "village": VILLAGE_B, "title": "x"},
    )
    assert response.status_code == 400 and "narrow the group" in response.content.decode()
    assert not GroupSession.objects.exists()


def test_a_refused_group_form_says_what_to_correct_next_to_the_field(world: World) -> None:
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.counselor)
    response = client.post(
        reverse("screening:groups"),
        {"instrument": "gad7", "source": "village", "age_min": "12", "age_max": "9"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    summary = page.split('data-testid="error-summary"')[1].split("</div>")[0]
    assert 'href="#id_village"' in summary and 'href="#id_age_max"' in summary
    assert "Choose the village of the group." in page
    assert not GroupSession.objects.exists()


def test_a_group_screening_through_the_api_and_its_read_logged(world: World) -> None:
    from shouhu.audit.models import AccessLog
    from tests.test_api_auth import bearer, token_for

    client = Client()
    auth = bearer(token_for(client, "counselor"))
    refused = client.post(
        "/api/v1/screening-groups",
        {"instrument": "gad7", "source": "village"},
        "application/json",
        **auth,
    )
    assert refused.status_code == 400 and "village" in refused.json()["errors"]
    created = client.post(
        "/api/v1/screening-groups",
        {"instrument": "gad7", "village": VILLAGE_B, "title": "儿童之家"},
        "application/json",
        **auth,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert [c["child"] for c in body["children"]] == [world.children["b1"].pk]
    assert body["children"][0]["done"] is False
    listed = client.get("/api/v1/screening-groups", **auth).json()["items"]
    assert [g["id"] for g in listed] == [body["id"]]
    assert client.get(f"/api/v1/screening-groups/{body['id']}", **auth).status_code == 200
    logged = AccessLog.objects.filter(
        purpose="api_group_screening", object_id=str(body["id"]), child_id=world.children["b1"].pk
    )
    assert logged.exists()
    other = Client()
    other_auth = bearer(token_for(other, "socialworker"))
    assert other.get(f"/api/v1/screening-groups/{body['id']}", **other_auth).status_code == 404
