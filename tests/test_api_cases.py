"""The cases API: the contract of `POST /api/v1/cases`, access per role, stage moves,
plan versioning over HTTP, services and `GET /api/v1/tasks?status=overdue`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from shouhu.lib import clock
from shouhu.tasks.models import Task
from tests.test_api_auth import bearer, token_for
from tests.world import TODAY, World

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, username: str) -> None:
        self.client = Client()
        self.headers = bearer(token_for(self.client, username))

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, params, **self.headers)

    def post(self, url: str, data: dict[str, Any]) -> Any:
        return self.client.post(url, data, content_type="application/json", **self.headers)

    def patch(self, url: str, data: dict[str, Any]) -> Any:
        return self.client.patch(url, data, content_type="application/json", **self.headers)


def _open(api: Api, world: World) -> dict[str, Any]:
    response = api.post(
        "/api/v1/cases",
        {
            "child": world.children["a1"].pk,
            "channel": "service",
            "reason": "grandmother ill",
            "urgency": "high",
        },
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_open_list_read_and_conflict(world: World) -> None:
    api = Api("socialworker")
    case = _open(api, world)
    assert case["stage"] == "intake" and case["urgency"] == "high"
    assert case["organisation"] == world.orgs["swo"].pk
    again = api.post(
        "/api/v1/cases",
        {"child": world.children["a1"].pk, "channel": "hotline", "reason": "again"},
    )
    assert again.status_code == 409
    listed = api.get("/api/v1/cases").json()
    assert [c["id"] for c in listed["items"]] == [case["id"]] and listed["count"] == 1
    assert api.get(f"/api/v1/cases/{case['id']}").status_code == 200


def test_bad_channel_and_unknown_child(world: World) -> None:
    api = Api("socialworker")
    bad = api.post(
        "/api/v1/cases", {"child": world.children["a1"].pk, "channel": "gossip", "reason": "x"}
    )
    assert bad.status_code == 400 and "channel" in bad.json()["errors"]
    missing = api.post("/api/v1/cases", {"child": 999999, "channel": "self", "reason": "x"})
    assert missing.status_code == 404


def test_other_organisation_gets_404(world: World) -> None:
    case = _open(Api("socialworker"), world)
    other = Api("socialworker_dest")
    assert other.get(f"/api/v1/cases/{case['id']}").status_code == 404
    assert other.get("/api/v1/cases").json()["items"] == []
    teacher = Api("teacher_a")
    assert teacher.get(f"/api/v1/cases/{case['id']}").status_code == 404


@pytest.mark.usefixtures("sharing_allowed")
def test_referral_to_another_organisation_is_202_then_decided(world: World) -> None:
    teacher = Api("teacher_b")
    response = teacher.post(
        "/api/v1/cases",
        {
            "child": world.children["b1"].pk,
            "channel": "school_referral",
            "reason": "absent",
            "organisation": world.orgs["swo"].pk,
            "consent": "guardian",
        },
    )
    assert response.status_code == 202 and response.json()["status"] == "pending"
    worker = Api("socialworker")
    pending = worker.get("/api/v1/intakes").json()["items"]
    assert [i["child"] for i in pending] == [world.children["b1"].pk]
    decided = worker.post(f"/api/v1/intakes/{pending[0]['id']}/decision", {"accept": True}).json()
    assert decided["intake"]["status"] == "accepted" and decided["case"]["stage"] == "intake"


def test_stages_plan_and_stale_version_over_http(world: World) -> None:
    api = Api("socialworker")
    case = _open(api, world)
    url = f"/api/v1/cases/{case['id']}"
    case = api.post(f"{url}/transitions", {"to": "assessment", "version": case["version"]}).json()
    case = api.post(f"{url}/transitions", {"to": "plan", "version": case["version"]}).json()
    stale = case["version"]
    case = api.post(
        f"{url}/goals",
        {"version": stale, "domain": "family_bonds", "description": "weekly call"},
    ).json()
    conflict = api.post(
        f"{url}/goals", {"version": stale, "domain": "safety", "description": "lost"}
    )
    assert conflict.status_code == 409
    assert f"{stale + 1}" in conflict.json()["detail"]  # their version and ours are named
    goal = case["goals"][0]["id"]
    case = api.post(
        f"{url}/goals/{goal}/actions",
        {
            "version": case["version"],
            "description": "set up the phone",
            "owner": "school",
            "due_on": str(TODAY + dt.timedelta(days=23)),
        },
    ).json()
    action = case["goals"][0]["actions"][0]["id"]
    case = api.patch(
        f"{url}/actions/{action}", {"version": case["version"], "status": "doing"}
    ).json()
    assert case["goals"][0]["actions"][0]["status"] == "doing"
    moved = api.post(f"{url}/transitions", {"to": "services", "version": case["version"]}).json()
    assert moved["pending_approval"] == "plan"
    wrong = api.post(f"{url}/transitions", {"to": "review", "version": moved["version"]})
    assert wrong.status_code == 400


def test_services_and_overdue_tasks(world: World) -> None:
    api = Api("socialworker")
    case = _open(api, world)
    url = f"/api/v1/cases/{case['id']}"
    service = api.post(
        f"{url}/services",
        {
            "service_type": "education_support",
            "delivered_on": str(clock.today()),
            "minutes": 60,
            "participants": 2,
        },
    )
    assert service.status_code == 201
    bad = api.post(
        f"{url}/services",
        {"service_type": "nope", "delivered_on": str(clock.today()), "minutes": 60},
    )
    assert bad.status_code == 400 and "service_type" in bad.json()["errors"]
    task = api.post(
        f"{url}/tasks",
        {"kind": "call", "title": "call the father", "due_on": str(clock.today())},
    ).json()
    Task.objects.filter(pk=task["id"]).update(due_on=clock.today() - dt.timedelta(days=2))
    overdue = api.get("/api/v1/tasks", status="overdue").json()["items"]
    assert [t["id"] for t in overdue] == [task["id"]] and overdue[0]["overdue"] is True
    assert (
        Api("supervisor").get("/api/v1/tasks", status="overdue").json()["items"][0]["id"]
        == task["id"]
    )
    assert Api("teacher_a").get("/api/v1/tasks", status="overdue").json()["items"] == []
    done = api.post(f"/api/v1/tasks/{task['id']}/done", {"note": "talked"}).json()
    assert done["task"]["done_at"] and done["next"] is None
    assert api.get("/api/v1/tasks", status="bogus").status_code == 400


def test_coordination_endpoint(world: World) -> None:
    body = Api("supervisor").get("/api/v1/coordination").json()
    assert set(body) == {
        "gaps",
        "duplicates",
        "overdue_by_worker",
        "caseload",
        "aid_period",
        "double_aid",
        "double_aid_count",
        "unaided",
        "unaided_count",
        "linked",
    }
