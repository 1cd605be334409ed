"""Registering with household and guardians in one flow, the duplicate warning, editing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog, ChangeRecord
from shouhu.children.models import Child, FamilyMember, Household
from tests.world import ID_A1, VILLAGE_A, VILLAGE_B, WORK_CITY, World

pytestmark = pytest.mark.django_db


def form(**overrides: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "周小溪",
        "sex": "F",
        "birth_date": "2016-09-09",
        "id_number": "",
        "residence_code": VILLAGE_A,
        "living_arrangement": "grandparents",
        "schooling": "enrolled",
        "health": "well",
        "household-aid": "none",
        "members-TOTAL_FORMS": "4",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "8",
    }
    for i, (relation, name) in enumerate([("father", "周大山"), ("mother", "吴小红")]):
        data.update(
            {
                f"members-{i}-relation": relation,
                f"members-{i}-name": name,
                f"members-{i}-is_guardian": "on",
                f"members-{i}-capacity": "able",
                f"members-{i}-away": "on",
                f"members-{i}-away_place_code": WORK_CITY,
                f"members-{i}-away_since": "2024-02-01",
                f"members-{i}-away_reason": "work",
            }
        )
    for i in (2, 3):
        data[f"members-{i}-relation"] = ""
        data[f"members-{i}-capacity"] = "able"
    data.update(overrides)
    return data


def test_register_page_needs_a_registry_role(client: Client, world: World) -> None:
    assert client.get(reverse("children:register")).status_code == 302
    client.force_login(world.teacher_a)
    assert client.get(reverse("children:register")).status_code == 403
    client.force_login(world.director_a)
    page = client.get(reverse("children:register")).content.decode()
    assert VILLAGE_A in page and VILLAGE_B not in page  # only villages of their area


def test_register_child_household_and_parents_in_one_go(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    response = client.post(reverse("children:register"), form())
    child = Child.objects.get(name="周小溪")
    assert response.status_code == 302
    assert response["Location"] == reverse("children:detail", args=[child.pk])
    assert child.cat_left_behind_mca  # derived: both parents away for work
    assert set(
        FamilyMember.objects.filter(household=child.household).values_list("name", flat=True)
    ) == {
        "周大山",
        "吴小红",
    }
    page = client.get(response["Location"]).content.decode()
    assert "周大山" in page and "农村留守儿童" in page
    assert "变更历史" in page and "出生日期" in page  # history with field names in Chinese


def test_errors_point_at_the_field_and_member_row_and_nothing_is_written(
    client: Client, world: World
) -> None:
    client.force_login(world.director_a)
    before = (Child.objects.count(), Household.objects.count(), FamilyMember.objects.count())
    response = client.post(
        reverse("children:register"),
        form(id_number="341524201609090011", **{"members-1-away_since": ""}),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "身份证号" in page and "请填写此人离开的起始日期" in page
    assert (
        Child.objects.count(),
        Household.objects.count(),
        FamilyMember.objects.count(),
    ) == before


def test_register_outside_area_is_refused(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    response = client.post(reverse("children:register"), form(residence_code=VILLAGE_B))
    assert response.status_code == 200
    assert not Child.objects.filter(name="周小溪").exists()


def test_duplicate_warning_fragment_and_blocking(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    fragment = client.get(reverse("children:duplicates"), {"id_number": ID_A1})
    assert "张伟" in fragment.content.decode()
    entry = AccessLog.objects.filter(purpose="duplicate_check").latest("id")
    assert entry.detail["child_ids"] == [world.children["a1"].pk]
    assert ID_A1 not in str(entry.detail)
    same = client.get(
        reverse("children:duplicates"),
        {"name": "张伟", "birth_date": "2015-03-01", "residence_code": VILLAGE_A},
    )
    assert "张伟" in same.content.decode()
    # Another village's director is told a duplicate exists, without its name.
    client.force_login(world.director_b)
    hidden = client.get(reverse("children:duplicates"), {"id_number": ID_A1}).content.decode()
    assert "张伟" not in hidden and "管辖区域外" in hidden
    client.force_login(world.director_a)
    data = form(name="张伟", sex="M", birth_date="2015-03-01", id_number=ID_A1)
    blocked = client.post(reverse("children:register"), data)
    assert blocked.status_code == 200 and Child.objects.filter(name="张伟").count() == 1
    assert "confirm_not_duplicate" in blocked.content.decode()


def test_edit_saves_records_history_and_detects_conflicts(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    client.force_login(world.director_a)
    url = reverse("children:edit", args=[a1.pk])
    page = client.get(url)
    assert page.status_code == 200 and ID_A1 not in page.content.decode()
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update({"grade": "四年级", "version": str(a1.version), "school_id": str(a1.school_id)})
    data["birth_date"] = a1.birth_date.isoformat()
    data["boarding"] = ""
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    a1.refresh_from_db()
    assert a1.grade == "四年级" and a1.id_number_enc  # empty ID box kept the number
    assert ChangeRecord.objects.filter(child_id=a1.pk, operation="update").exists()
    stale = client.post(url, {**data, "grade": "五年级"})  # same old version
    assert stale.status_code == 200 and "其他人" in stale.content.decode()
    a1.refresh_from_db()
    assert a1.grade == "四年级"


def test_edit_outside_scope_is_404_and_teachers_may_not_edit(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    assert client.get(reverse("children:edit", args=[world.children["b1"].pk])).status_code == 404
    client.force_login(world.teacher_a)
    assert client.get(reverse("children:edit", args=[world.children["a1"].pk])).status_code == 403


def test_member_edit_recomputes_categories(client: Client, world: World) -> None:
    a1 = world.children["a1"]
    assert a1.cat_left_behind_mca
    father = a1.household.members.get(relation="father")
    client.force_login(world.director_a)
    url = reverse("children:member_edit", args=[a1.pk, father.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"relation": "father", "name": father.name, "is_guardian": "on", "capacity": "able"}
    )
    assert response.status_code == 302
    a1.refresh_from_db()
    assert not a1.cat_left_behind_mca  # the father came home
    other = world.children["b1"].household.members.first()
    assert other is not None
    foreign = reverse("children:member_edit", args=[a1.pk, other.pk])
    assert client.get(foreign).status_code == 404


def test_duplicate_check_is_only_for_those_who_register(client: Client, world: World) -> None:
    for persona in ("teacher_a", "volunteer", "official"):
        client.force_login(getattr(world, persona))
        response = client.get(reverse("children:duplicates"), {"id_number": ID_A1})
        assert response.status_code == 403, persona
        assert "张伟" not in response.content.decode()
