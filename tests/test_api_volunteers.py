"""Volunteers over the API: the same rules as the services, errors naming their field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.test_api_cases import Api
from tests.world import TODAY, World

pytestmark = pytest.mark.django_db


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def test_a_volunteer_goes_from_application_to_certificate_over_the_api(world: World) -> None:
    api = Api("socialworker")
    org = world.orgs["swo"].pk
    bad = api.post("/api/v1/volunteers", {"organisation": org, "name": "小王", "home": "999"})
    assert bad.status_code == 400 and "home" in bad.json()["errors"]
    v = _ok(api.post("/api/v1/volunteers", {"organisation": org, "name": "小王"}), 201)
    base = f"/api/v1/volunteers/{v['id']}"
    assert v["cleared"] is False and v["missing"][0] == "identity"
    early = api.post(f"{base}/status", {"action": "activate"})
    assert early.status_code == 400 and "status" in early.json()["errors"]
    day = TODAY.isoformat()
    until = (TODAY + dt.timedelta(days=365)).isoformat()
    _ok(
        api.post(
            f"{base}/checks",
            {"kind": "identity", "result": "clear", "checked_on": day},
        ),
        201,
    )
    no_expiry = api.post(
        f"{base}/checks", {"kind": "record_inquiry", "result": "clear", "checked_on": day}
    )
    assert no_expiry.status_code == 400 and "expires_on" in no_expiry.json()["errors"]
    _ok(
        api.post(
            f"{base}/checks",
            {"kind": "record_inquiry", "result": "clear", "checked_on": day, "expires_on": until},
        ),
        201,
    )
    _ok(
        api.post(
            f"{base}/trainings",
            {"kind": "safeguarding", "title": "儿童保护", "completed_on": day, "hours": "2.5"},
        ),
        201,
    )
    _ok(
        api.post(
            f"{base}/agreements",
            {"version": "2026-01", "signed_on": day, "scope": "陪伴", "confidentiality": True},
        ),
        201,
    )
    active = _ok(api.post(f"{base}/status", {"action": "activate"}))
    assert active["cleared"] is True and active["status"] == "active"

    start = f"{(TODAY - dt.timedelta(days=1)).isoformat()}T09:00:00+08:00"
    end = f"{(TODAY - dt.timedelta(days=1)).isoformat()}T11:00:00+08:00"
    entry = _ok(
        api.post(
            f"{base}/hours",
            {"activity": "课业辅导", "starts_at": start, "ends_at": end, "minutes": 100},
        ),
        201,
    )
    assert entry["status"] == "pending"
    overlap = api.post(f"{base}/hours", {"activity": "家访", "starts_at": start, "ends_at": end})
    assert overlap.status_code == 400 and "starts_at" in overlap.json()["errors"]
    naive = api.post(
        f"{base}/hours",
        {"activity": "家访", "starts_at": start[:19], "ends_at": end[:19]},
    )
    assert naive.status_code == 400
    approved = _ok(api.post(f"{base}/hours/{entry['id']}/approve", {}))
    assert approved["status"] == "approved"
    again = api.post(f"{base}/hours/{entry['id']}/decline", {})
    assert again.status_code == 400 and "status" in again.json()["errors"]
    fix = _ok(
        api.post(f"{base}/hours/{entry['id']}/adjustments", {"minutes": 20, "reason": "漏记"}),
        201,
    )
    _ok(api.post(f"{base}/hours/{fix['id']}/approve", {}))
    hours = _ok(api.get(f"{base}/hours"))
    assert hours["approved_minutes"] == 120 and len(hours["items"]) == 2

    certificate = _ok(
        api.post(
            f"{base}/certificates",
            {"period_from": (TODAY - dt.timedelta(days=30)).isoformat(), "period_to": day},
        ),
        201,
    )
    assert certificate["minutes"] == 120 and certificate["hours"] == 2.0
    listed = _ok(api.get(f"{base}/certificates"))
    assert [c["number"] for c in listed["items"]] == [certificate["number"]]
    page = api.client.get(certificate["verify"])
    assert page.status_code == 200 and "小王" in page.content.decode()

    record = _ok(api.get(base))
    assert [c["kind"] for c in record["checks"]] == ["record_inquiry", "identity"]
    assert record["trainings"][0]["title"] == "儿童保护"


def test_other_organisations_and_volunteers_do_not_reach_the_record(world: World) -> None:
    v = _ok(
        Api("socialworker").post(
            "/api/v1/volunteers", {"organisation": world.orgs["swo"].pk, "name": "小李"}
        ),
        201,
    )
    assert Api("director_a").get(f"/api/v1/volunteers/{v['id']}").status_code == 404
    assert Api("volunteer").get(f"/api/v1/volunteers/{v['id']}").status_code == 404
    refused = Api("director_a").post(
        "/api/v1/volunteers", {"organisation": world.orgs["swo"].pk, "name": "小张"}
    )
    assert refused.status_code == 403
    mine = _ok(Api("volunteer").get("/api/v1/volunteers"))  # the volunteer's own record
    assert len(mine["items"]) == 1 and mine["items"][0]["cleared"] is True


def test_the_list_asks_the_same_number_of_queries_for_one_volunteer_or_many(
    world: World,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = Api("socialworker")
    org = world.orgs["swo"].pk
    _ok(api.post("/api/v1/volunteers", {"organisation": org, "name": "一号"}), 201)
    with CaptureQueriesContext(connection) as one:
        assert len(_ok(api.get("/api/v1/volunteers"))["items"]) == 1
    for n in range(5):
        _ok(api.post("/api/v1/volunteers", {"organisation": org, "name": f"志愿者{n}"}), 201)
    with CaptureQueriesContext(connection) as six:
        assert len(_ok(api.get("/api/v1/volunteers"))["items"]) == 6
    assert len(six) == len(one)


def test_matching_and_check_in_over_the_api(world: World, clock: Any) -> None:
    from shouhu.children.models import FamilyMember
    from shouhu.volunteers.models import Check, MatchStatus
    from tests.world import clear_volunteer, make_user

    user = make_user("pairing", world.orgs["swo"], "volunteer")
    volunteer = clear_volunteer(user, world.orgs["swo"], by=world.socialworker)
    child = world.children["a1"]
    api = Api("socialworker")
    Check.objects.filter(volunteer=volunteer, kind="record_inquiry").update(result="pending")
    assert _ok(api.get(f"/api/v1/children/{child.pk}/volunteer-suggestions"))["items"] == []
    pending = api.post(
        f"/api/v1/children/{child.pk}/volunteer-matches",
        {"volunteer": volunteer.pk, "purpose": "陪读"},
    )
    assert pending.status_code == 400 and "volunteer" in pending.json()["errors"]
    Check.objects.filter(volunteer=volunteer, kind="record_inquiry").update(result="clear")
    found = _ok(api.get(f"/api/v1/children/{child.pk}/volunteer-suggestions", days="sat,sun"))
    assert [s["volunteer"] for s in found["items"]] == [volunteer.pk]
    match = _ok(
        api.post(
            f"/api/v1/children/{child.pk}/volunteer-matches",
            {"volunteer": volunteer.pk, "purpose": "陪读"},
        ),
        201,
    )
    assert match["status"] == MatchStatus.PROPOSED
    url = f"/api/v1/volunteer-matches/{match['id']}"
    no_consent = api.post(f"{url}/decision", {"approve": True})
    assert no_consent.status_code == 400
    assert {"consent_by", "consent_on"} <= set(no_consent.json()["errors"])
    father = FamilyMember.objects.get(household=child.household, relation="father")
    done = _ok(
        api.post(
            f"{url}/decision",
            {"approve": True, "consent_by": father.pk, "consent_on": TODAY.isoformat()},
        )
    )
    assert done["status"] == MatchStatus.ACTIVE and done["consent_by"] == father.pk
    from shouhu.audit.models import AccessLog

    assert AccessLog.objects.filter(
        object_type="volunteer_match", object_id=str(match["id"]), child_id=child.pk
    ).exists()
    listed = _ok(api.get(f"/api/v1/children/{child.pk}/volunteer-matches"))["items"]
    assert [m["id"] for m in listed] == [match["id"]]
    # An outsider neither sees the match nor decides it.
    assert Api("teacher_b").post(f"{url}/end", {"reason": "x"}).status_code == 404
    assert _ok(api.post(f"{url}/end", {"reason": "转学"}))["status"] == MatchStatus.ENDED

    own = Api("pairing")
    base = f"/api/v1/volunteers/{volunteer.pk}"
    assert own.post(f"{base}/check-out", {}).status_code == 400
    _ok(own.post(f"{base}/check-in", {"activity": "周末课业辅导"}), 201)
    again = own.post(f"{base}/check-in", {"activity": "周末课业辅导"})
    assert again.status_code == 400 and "volunteer" in again.json()["errors"]
    clock.shift(dt.timedelta(minutes=50))
    entry = _ok(own.post(f"{base}/check-out", {"minutes": 45}), 201)
    assert entry["status"] == "pending" and entry["minutes"] == 45
    # The volunteer does not approve their own hours.
    assert own.post(f"{base}/hours/{entry['id']}/approve", {}).status_code == 403
