"""The family's page actions over the API (issue 11 §2): the household, family members and
the guardian's consent, with the same rules as the pages."""

from __future__ import annotations

import pytest

from shouhu.children import consents
from shouhu.children.models import Consent, FamilyMember
from tests.test_api_cases import Api
from tests.world import TODAY, World

pytestmark = pytest.mark.django_db


def test_household_and_members_over_the_api(world: World) -> None:
    child = world.children["a1"]
    api = Api("director_a")
    base = f"/api/v1/children/{child.pk}"
    changed = api.patch(f"{base}/household", {"aid": "dibao", "income_source": "务农"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["household"]["aid"] == "dibao"
    assert api.patch(f"{base}/household", {"aid": "rich"}).status_code == 400
    added = api.post(f"{base}/members", {"name": "王大伯", "relation": "other_relative"})
    assert added.status_code == 201, added.content
    uncle = FamilyMember.objects.get(name="王大伯")
    father = child.household.members.get(relation="father")
    dead = api.patch(f"{base}/members/{father.pk}", {"capacity": "deceased", "away": False})
    assert dead.status_code == 200, dead.content
    row = next(m for m in dead.json()["household"]["members"] if m["id"] == father.pk)
    assert row["at_home"] is False  # a dead parent is never at home
    assert api.patch(f"{base}/members/{uncle.pk}", {"phone": "1380013"}).status_code == 400
    teacher = Api("teacher_a")
    assert teacher.patch(f"{base}/household", {"aid": "none"}).status_code == 403


def test_consent_over_the_api_by_those_who_refer(world: World) -> None:
    child = world.children["a1"]
    guardian = child.household.members.filter(is_guardian=True).first()
    assert guardian is not None
    api = Api("socialworker")
    base = f"/api/v1/children/{child.pk}/consents"
    made = api.post(
        base,
        {
            "given_by": guardian.pk,
            "given_on": TODAY.isoformat(),
            "version": "2026-1",
            "scopes": ["sharing"],
        },
    )
    assert made.status_code == 201, made.content
    assert consents.sharing_consent(child) == Consent.objects.get(pk=made.json()["id"])
    bad = api.post(
        base,
        {"given_by": guardian.pk, "given_on": TODAY.isoformat(), "version": "v", "scopes": ["x"]},
    )
    assert bad.status_code == 400
    withdrawn = api.post(f"{base}/{made.json()['id']}/withdraw", {})
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_on"] == TODAY.isoformat()
    assert consents.sharing_consent(child) is None
    volunteer = Api("volunteer").post(
        base,
        {
            "given_by": guardian.pk,
            "given_on": TODAY.isoformat(),
            "version": "v",
            "scopes": ["sharing"],
        },
    )
    assert volunteer.status_code in (403, 404)


def test_the_export_over_the_api_is_the_pages_export(world: World) -> None:
    import io

    from openpyxl import load_workbook

    from shouhu.audit.models import AccessLog

    api = Api("director_a")
    response = api.client.get("/api/v1/children/export", **api.headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet.max_row >= 2
    assert AccessLog.objects.filter(action="export", user=world.director_a).exists()
    bad = api.client.get("/api/v1/children/export", {"include": "everything"}, **api.headers)
    assert bad.status_code == 400
