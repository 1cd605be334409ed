"""Surrogate parents over the API: the same rules as the services and pages, every refusal
naming its field, outsiders answered 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from shouhu.children.models import FamilyMember
from shouhu.surrogates.models import Arrangement
from shouhu.tasks.models import Task
from tests.test_api_cases import Api
from tests.world import TODAY, World

pytestmark = pytest.mark.django_db


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def _payload(world: World, **overrides: Any) -> dict[str, Any]:
    child = world.children["a1"]
    father = FamilyMember.objects.get(household_id=child.household_id, relation="father")
    since = TODAY - dt.timedelta(days=20)
    data: dict[str, Any] = {
        "child": child.pk,
        "organisation": world.orgs["village_a"].pk,
        "guardian": father.pk,
        "surrogate": {"name": "赵书记", "community_role": "village_cadre", "phone": "13955001234"},
        "signed_on": since.isoformat(),
        "since": since.isoformat(),
        "duties": "每周电话，每月看望",
        "agreement_version": "2026-01",
        "cadences": [{"mode": "call", "every_days": 7}, {"mode": "visit", "every_days": 30}],
    }
    data.update(overrides)
    return data


def test_arrange_log_and_end_over_the_api(world: World) -> None:
    api = Api("director_a")
    a = _ok(api.post("/api/v1/surrogates", _payload(world)), 201)
    assert a["surrogate"] == "赵书记" and a["status"] == "active" and a["missed"] is True
    assert {c["mode"]: c["missed"] for c in a["cadences"]} == {"call": True, "visit": False}
    listed = _ok(api.get("/api/v1/surrogates"))["items"]
    assert [x["id"] for x in listed] == [a["id"]]
    base = f"/api/v1/surrogates/{a['id']}"
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    bad = api.post(f"{base}/contacts", {"on": future, "mode": "call"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"on"}
    bad = api.post(f"{base}/contacts", {"on": TODAY.isoformat(), "mode": "letter"})
    assert bad.status_code == 400 and "mode" in bad.json()["errors"]
    after = _ok(
        api.post(f"{base}/contacts", {"on": TODAY.isoformat(), "mode": "call", "minutes": 20}),
        201,
    )
    assert after["missed"] is False
    contacts = _ok(api.get(f"{base}/contacts"))
    assert [(c["mode"], c["minutes"]) for c in contacts] == [("call", 20)]
    assert _ok(api.get(base))["id"] == a["id"]
    bad = api.post(f"{base}/end", {"reason": ""})
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]
    ended = _ok(api.post(f"{base}/end", {"reason": "父母返乡"}))
    assert ended["status"] == "ended" and ended["end_reason"] == "父母返乡"
    again = api.post(f"{base}/end", {"reason": "again"})
    assert again.status_code == 400 and "status" in again.json()["errors"]


def test_refusals_name_their_fields_and_write_nothing(world: World) -> None:
    api = Api("director_a")
    bad = api.post(
        "/api/v1/surrogates",
        _payload(
            world,
            surrogate={"name": "赵书记", "community_role": "village_cadre", "phone": "12"},
            since=(TODAY - dt.timedelta(days=30)).isoformat(),
            cadences=[],
        ),
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"surrogate.phone", "since", "cadences"}
    bad = api.post("/api/v1/surrogates", _payload(world, guardian=world.children["b1"].pk + 10**6))
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"guardian"}
    bad = api.post(
        "/api/v1/surrogates", _payload(world, cadences=[{"mode": "call", "every_days": 0}])
    )
    assert bad.status_code == 400 and "cadences.0.every_days" in bad.json()["errors"]
    assert not Arrangement.objects.exists()
    _ok(api.post("/api/v1/surrogates", _payload(world)), 201)
    twice = api.post("/api/v1/surrogates", _payload(world))
    assert twice.status_code == 400 and set(twice.json()["errors"]) == {"child"}


def test_outsiders_get_404_and_see_nothing(world: World) -> None:
    a = _ok(Api("director_a").post("/api/v1/surrogates", _payload(world)), 201)
    other = Api("director_b")
    assert other.get(f"/api/v1/surrogates/{a['id']}").status_code == 404
    assert other.get(f"/api/v1/surrogates/{a['id']}/contacts").status_code == 404
    logged = other.post(
        f"/api/v1/surrogates/{a['id']}/contacts", {"on": TODAY.isoformat(), "mode": "call"}
    )
    assert logged.status_code == 404
    assert other.post(f"/api/v1/surrogates/{a['id']}/end", {"reason": "x"}).status_code == 404
    assert _ok(other.get("/api/v1/surrogates"))["items"] == []
    assert other.post("/api/v1/surrogates", _payload(world)).status_code == 404
    teacher = Api("teacher_a")  # sees the child's basic fields, does not arrange
    assert teacher.post("/api/v1/surrogates", _payload(world)).status_code == 403
    assert teacher.get(f"/api/v1/surrogates/{a['id']}").status_code == 404


def test_the_job_task_is_closed_by_a_contact_over_the_api(world: World) -> None:
    from shouhu.surrogates import services

    api = Api("director_a")
    a = _ok(api.post("/api/v1/surrogates", _payload(world)), 201)
    assert services.missed() == (1, 0)
    open_tasks = Task.objects.filter(kind="surrogate_contact", status="open")
    assert open_tasks.count() == 1
    _ok(
        api.post(
            f"/api/v1/surrogates/{a['id']}/contacts", {"on": TODAY.isoformat(), "mode": "visit"}
        ),
        201,
    )
    assert not open_tasks.exists()
