"""The programmes API (issue 12): the contract of the roll call
(`{"rows": [{"participant": id, "status": ...}]}`), projects and their progress, programmes,
sessions, enrolments and counselling, with the services' rules and errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from shouhu.audit.models import AccessLog
from shouhu.programmes.models import Attendance, Design, Kind
from tests.test_api_cases import Api
from tests.world import TODAY, TOWNSHIP_1, VILLAGE_A, World, child_data, register

pytestmark = pytest.mark.django_db


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def test_a_project_runs_a_programme_with_a_roll_call_and_shows_its_progress(world: World) -> None:
    director = Api("director_a")
    project = _ok(
        director.post(
            "/api/v1/projects",
            {
                "name": "做有能力的小公民",
                "funder": world.orgs["bureau"].pk,
                "implementer": world.orgs["village_a"].pk,
                "starts_on": str(TODAY - dt.timedelta(days=30)),
                "ends_on": str(TODAY + dt.timedelta(days=300)),
                "places": [TOWNSHIP_1],
                "target_groups": ["left_behind_mca"],
                "targets": {"person_times": 8000, "counselling": 120},
            },
        ),
        201,
    )
    design = Design.objects.filter(organisation=None, kind=Kind.GROUP_ACTIVITY).first()
    assert design is not None
    programme = _ok(
        director.post(
            "/api/v1/programmes",
            {
                "organisation": world.orgs["village_a"].pk,
                "design": design.pk,
                "title": "情绪小怪兽（第一期）",
                "starts_on": str(TODAY - dt.timedelta(days=10)),
                "ends_on": str(TODAY + dt.timedelta(days=60)),
                "project": project["id"],
            },
        ),
        201,
    )
    pid = programme["id"]
    kids = [world.children["a1"], register(world.director_a, child_data("赵一", VILLAGE_A))]
    participants = [
        _ok(director.post(f"/api/v1/programmes/{pid}/enrolments", {"child": c.pk}), 201)["id"]
        for c in kids
    ]
    started = (dt.datetime.combine(TODAY, dt.time(8)) - dt.timedelta(days=1)).isoformat()
    session = _ok(
        director.post(f"/api/v1/programmes/{pid}/sessions", {"starts_at": started, "minutes": 90}),
        201,
    )
    url = f"/api/v1/sessions/{session['id']}/attendance"
    refused = director.post(url, {"rows": [{"participant": 999999, "status": "present"}]})
    assert refused.status_code == 400 and "rows.0.participant" in refused.json()["errors"]
    assert not Attendance.objects.exists()
    rows = [
        {"participant": participants[0], "status": "present"},
        {"participant": participants[1], "status": "late"},
    ]
    done = _ok(director.post(url, {"rows": rows}))
    assert done["saved"] == 2 and done["counts"]["present"] == 1 and done["counts"]["late"] == 1
    listed = _ok(director.get(f"/api/v1/programmes/{pid}/enrolments"))["items"]
    assert {i["name"] for i in listed} == {"张伟", "赵一"}
    assert AccessLog.objects.filter(purpose="api_enrolments", child_id=kids[1].pk).exists()
    _ok(
        Api("socialworker").post(
            f"/api/v1/children/{kids[0].pk}/counselling",
            {"held_on": str(TODAY), "minutes": 50, "mode": "phone", "concern": "separation"},
        ),
        201,
    )
    progress = _ok(director.get(f"/api/v1/projects/{project['id']}/progress"))
    assert progress["figures"]["person_times"] == 2  # the counselling is not the project's
    targets = {t["measure"]: t for t in progress["targets"]}
    assert float(targets["person_times"]["achieved"]) == 2.0
    official = _ok(Api("official").get(f"/api/v1/projects/{project['id']}/progress"))
    assert official["figures"]["persons"] == 2  # the funder's official: aggregates
    assert Api("official").get(f"/api/v1/programmes/{pid}/enrolments").status_code == 404


def test_a_future_session_has_no_roll_call_and_outsiders_get_404(world: World) -> None:
    director = Api("director_a")
    design = Design.objects.filter(organisation=None, kind=Kind.GROUP_ACTIVITY).first()
    assert design is not None
    pid = _ok(
        director.post(
            "/api/v1/programmes",
            {
                "organisation": world.orgs["village_a"].pk,
                "design": design.pk,
                "title": "专注力",
                "starts_on": str(TODAY),
                "ends_on": str(TODAY + dt.timedelta(days=30)),
            },
        ),
        201,
    )["id"]
    enrolled = _ok(
        director.post(f"/api/v1/programmes/{pid}/enrolments", {"child": world.children["a1"].pk}),
        201,
    )["id"]
    later = (dt.datetime.combine(TODAY + dt.timedelta(days=3), dt.time(15))).isoformat()
    sid = _ok(
        director.post(f"/api/v1/programmes/{pid}/sessions", {"starts_at": later, "minutes": 60}),
        201,
    )["id"]
    body = {"rows": [{"participant": enrolled, "status": "present"}]}
    future = director.post(f"/api/v1/sessions/{sid}/attendance", body)
    assert future.status_code == 400 and "尚未开始" in str(future.json()["errors"])
    assert Api("director_b").post(f"/api/v1/sessions/{sid}/attendance", body).status_code == 404
    bad = director.post(f"/api/v1/programmes/{pid}/sessions", {"starts_at": later, "minutes": -1})
    assert bad.status_code == 400 and "minutes" in bad.json()["errors"]
