"""The aid API (issue 13): sponsors, schemes, applications and their decisions, payments,
and the sponsor's report, with the services' rules and the routers' error shape (400 with
the field named)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shouhu.accounts.models import Role
from shouhu.aid.models import Disbursement
from shouhu.audit.models import AccessLog, ChangeRecord
from tests.test_api_cases import Api
from tests.world import NOW, TODAY, VILLAGE_A, World, child_data, make_user, register

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def _refused(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"], body
    return dict(body)


def _scheme(api: Api, world: World, **kw: Any) -> dict[str, Any]:
    body = {
        "organisation": world.orgs["swo"].pk,
        "name": "流动书桌助学金",
        "kind": "education",
        "criteria": "在读小学生",
        "amount": "1200.00",
        "starts_on": str(TODAY - 60 * DAY),
        "ends_on": str(TODAY + 300 * DAY),
    }
    body.update(kw)
    return dict(_ok(api.post("/api/v1/aid/schemes", body), 201))


@pytest.fixture
def reviewer(world: World) -> Api:
    make_user("swo_reviewer", world.orgs["swo"], Role.SOCIAL_WORKER)
    return Api("swo_reviewer")


def _approved(world: World, reviewer: Api, amount: str = "1000.00") -> dict[str, Any]:
    scheme = _scheme(Api("socialworker"), world)
    with time_machine.travel(NOW - 10 * DAY, tick=False):
        application = _ok(
            Api("director_a").post(
                "/api/v1/aid/applications",
                {"scheme": scheme["id"], "child": world.children["a1"].pk, "reason": "奶奶年老"},
            ),
            201,
        )
        decided = _ok(
            reviewer.post(
                f"/api/v1/aid/applications/{application['id']}/decision",
                {"approve": True, "note": "符合条件", "amount": amount},
            )
        )
    return dict(decided)


def test_a_scheme_an_application_a_decision_and_payments(world: World, reviewer: Api) -> None:
    decided = _approved(world, reviewer)
    assert decided["status"] == "approved"
    assert decided["reviewer"] == "swo_reviewer" and decided["decision_note"] == "符合条件"
    assert decided["approved_amount"] == "1000.00"
    worker = Api("socialworker")
    pay = {
        "application": decided["id"],
        "paid_on": str(TODAY),
        "method": "bank_transfer",
        "amount": "999.99",
        "receipt_ref": "BT-1",
    }
    paid = _ok(worker.post("/api/v1/aid/disbursements", pay), 201)
    assert paid["amount"] == "999.99" and paid["child"] == world.children["a1"].pk
    _refused(worker.post("/api/v1/aid/disbursements", pay | {"amount": "0.02"}), "amount")
    _ok(worker.post("/api/v1/aid/disbursements", pay | {"amount": "0.01"}), 201)
    listed = _ok(worker.get("/api/v1/aid/applications"))
    assert listed["count"] == 1 and listed["items"][0]["paid"] == "1000.00"
    payments = _ok(worker.get("/api/v1/aid/disbursements", application=decided["id"]))
    assert [p["amount"] for p in payments["items"]] == ["0.01", "999.99"]
    assert ChangeRecord.objects.filter(object_type="disbursement").count() == 2
    assert AccessLog.objects.filter(
        user=world.socialworker, purpose="api_aid_disbursements", child_id=world.children["a1"].pk
    ).exists()


@pytest.mark.parametrize("amount", [12.5, 12, "12.345", "-1.00", "1,000", "NaN"])
def test_money_is_a_decimal_string_of_at_most_two_places(world: World, amount: Any) -> None:
    body = _refused(
        Api("socialworker").post(
            "/api/v1/aid/schemes",
            {
                "organisation": world.orgs["swo"].pk,
                "name": "x",
                "kind": "living",
                "amount": amount,
                "starts_on": str(TODAY),
                "ends_on": str(TODAY),
            },
        ),
        "amount",
    )
    assert set(body["errors"]) == {"amount"}


def test_an_approval_above_the_schemes_amount_is_refused(world: World, reviewer: Api) -> None:
    scheme = _scheme(Api("socialworker"), world)
    application = _ok(
        Api("director_a").post(
            "/api/v1/aid/applications",
            {"scheme": scheme["id"], "child": world.children["a1"].pk, "reason": "x"},
        ),
        201,
    )
    url = f"/api/v1/aid/applications/{application['id']}/decision"
    _refused(reviewer.post(url, {"approve": True, "note": "ok", "amount": "1200.01"}), "amount")
    assert _ok(reviewer.post(url, {"approve": False, "note": "名额已满"}))["status"] == "rejected"


def test_a_worker_who_cannot_see_the_child_cannot_apply(world: World) -> None:
    scheme = _scheme(Api("socialworker"), world)
    body = {"scheme": scheme["id"], "child": world.children["a1"].pk, "reason": "x"}
    assert Api("director_b").post("/api/v1/aid/applications", body).status_code == 404
    assert Api("volunteer").post("/api/v1/aid/applications", body).status_code == 403
    assert not _ok(Api("socialworker").get("/api/v1/aid/applications"))["items"]


def test_the_applicant_does_not_decide_and_outsiders_see_nothing(
    world: World, reviewer: Api
) -> None:
    decided = _approved(world, reviewer)
    url = f"/api/v1/aid/applications/{decided['id']}/decision"
    assert Api("director_b").post(url, {"approve": True, "note": "x"}).status_code == 404
    for user in ("volunteer", "techenvoy", "director_b"):
        api = Api(user)
        assert _ok(api.get("/api/v1/aid/applications"))["items"] == []
        assert _ok(api.get("/api/v1/aid/disbursements"))["items"] == []
    pay = {"application": decided["id"], "paid_on": str(TODAY), "method": "cash", "amount": "1"}
    _refused(Api("director_b").post("/api/v1/aid/disbursements", pay), "application")
    # The applicant reads the application but pays nothing: the scheme is not theirs.
    assert Api("director_a").post("/api/v1/aid/disbursements", pay).status_code == 403


def test_sponsors_pledges_and_a_report_that_names_no_child(world: World, reviewer: Api) -> None:
    worker = Api("socialworker")
    decided = _approved(world, reviewer)
    sponsor = _ok(
        worker.post(
            "/api/v1/sponsors",
            {"organisation": world.orgs["swo"].pk, "kind": "company", "name": "某科技公司"},
        ),
        201,
    )
    _refused(worker.post(f"/api/v1/sponsors/{sponsor['id']}/pledges", {"form": "money"}), "amount")
    pledge = _ok(
        worker.post(
            f"/api/v1/sponsors/{sponsor['id']}/pledges",
            {
                "form": "money",
                "amount": "20000.00",
                "recurrence": "yearly",
                "scheme": decided["scheme"],
            },
        ),
        201,
    )
    assert pledge["amount"] == "20000.00"
    pay = {"application": decided["id"], "paid_on": str(TODAY), "method": "cash", "amount": "300"}
    _ok(worker.post("/api/v1/aid/disbursements", pay), 201)
    assert [s["name"] for s in _ok(worker.get("/api/v1/sponsors"))["items"]] == ["某科技公司"]
    assert _ok(Api("director_a").get("/api/v1/sponsors"))["items"] == []
    report = Api("socialworker").client.get(
        f"/api/v1/sponsors/{sponsor['id']}/report",
        {"first": str(TODAY - 30 * DAY), "last": str(TODAY)},
        **Api("socialworker").headers,
    )
    body = _ok(report)
    assert body["children"] == 1 and body["amount"] == "300.00"
    text = report.content.decode()
    child = world.children["a1"]
    assert child.name not in text and '"child"' not in text and '"id"' not in text
    assert set(body) == {"sponsor", "first", "last", "children", "amount", "lines"} | {
        "stories",
        "note",
    }
    assert {k for line in body["lines"] for k in line} == {
        "scheme",
        "month",
        "children",
        "amount",
        "payments",
    }
    assert (
        Api("director_a")
        .get(f"/api/v1/sponsors/{sponsor['id']}/report", first=str(TODAY), last=str(TODAY))
        .status_code
        == 404
    )


def test_a_refused_payment_writes_nothing(world: World, reviewer: Api) -> None:
    decided = _approved(world, reviewer)
    body = _refused(
        Api("socialworker").post(
            "/api/v1/aid/disbursements",
            {
                "application": decided["id"],
                "paid_on": str(TODAY + DAY),
                "method": "bank_transfer",
                "amount": "10.00",
            },
        ),
        "paid_on",
    )
    assert set(body["errors"]) == {"paid_on", "receipt_ref"}
    assert not Disbursement.objects.exists()


def test_the_application_list_reads_a_fixed_number_of_queries(world: World, reviewer: Api) -> None:
    decided = _approved(world, reviewer)
    worker = Api("socialworker")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            _ok(worker.get("/api/v1/aid/applications"))
        return len(queries)

    one = count()
    for name in ("孙一", "孙二", "孙三"):
        child = register(world.director_a, child_data(name, VILLAGE_A))
        _ok(
            Api("director_a").post(
                "/api/v1/aid/applications",
                {"scheme": decided["scheme"], "child": child.pk, "reason": "x"},
            ),
            201,
        )
    assert count() == one


def test_a_follow_up_with_a_story_the_sponsor_reads_once_another_manager_approves(
    world: World, reviewer: Api
) -> None:
    application = _approved(world, reviewer)
    worker = Api("socialworker")
    url = f"/api/v1/aid/applications/{application['id']}/followups"
    named = worker.post(
        url, {"on": str(TODAY), "note": "成绩进步", "story": f"{world.children['a1'].name}很开心"}
    )
    _refused(named, "story")
    _refused(worker.post(url, {"on": str(TODAY + DAY), "note": "x"}), "on")
    followup = _ok(
        worker.post(url, {"on": str(TODAY), "note": "成绩进步", "story": "一名孩子买了台灯"}), 201
    )
    assert followup["story_approved"] is False
    approve = f"/api/v1/aid/followups/{followup['id']}/story-approval"
    assert worker.post(approve, {}).status_code == 403  # not its own writer
    assert _ok(reviewer.post(approve, {}))["story_approved"] is True
    assert Api("teacher_a").post(approve, {}).status_code == 404
