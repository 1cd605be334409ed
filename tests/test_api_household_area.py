"""The API registers a household only in the registrar's area (issue 10, 6.11), as the page
does: a household village outside it is a 4xx naming the field, and nothing is written."""

from __future__ import annotations

import pytest
from django.test import Client

from shouhu.children.models import Child, Household
from tests.test_api_children import URL, api, new_child, post
from tests.world import VILLAGE_B, VILLAGE_C, World

pytestmark = pytest.mark.django_db


def test_household_village_outside_the_registrars_area_is_refused(
    client: Client, world: World
) -> None:
    payload = new_child()  # the child lives in village A, director_a's village
    payload["household"]["village_code"] = VILLAGE_C  # another township
    households = Household.objects.count()
    response = post(client, payload, api(client, world, "director_a"))
    assert 400 <= response.status_code < 500
    assert "household.village_code" in response.json()["errors"]
    assert Household.objects.count() == households
    assert not Child.objects.filter(name="赵小雨").exists()


def test_household_village_inside_a_supervisors_township_is_accepted(
    client: Client, world: World
) -> None:
    payload = new_child()
    payload["household"]["village_code"] = VILLAGE_B  # same township as village A
    response = post(client, payload, api(client, world, "supervisor"))
    assert response.status_code == 201, response.content
    child = Child.objects.get(pk=response.json()["id"])
    assert child.household.village_id == VILLAGE_B
    assert client.get(f"{URL}/{child.pk}", **api(client, world, "supervisor")).status_code == 200
