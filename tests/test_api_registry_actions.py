"""The registry's page actions over the API too (issue 11 §2): delegated care, the legal
basis of a purpose, and the import of a spreadsheet, with the pages' rules and errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from shouhu.children.models import Child, DelegatedCare, ProcessingBasis
from tests.test_api_auth import bearer, token_for
from tests.test_import import valid_rows, xlsx
from tests.world import World

pytestmark = pytest.mark.django_db


def _api(username: str) -> tuple[Client, dict[str, Any]]:
    client = Client()
    return client, bearer(token_for(client, username))


def test_delegated_care_is_recorded_and_a_parent_is_refused(world: World) -> None:
    a1 = world.children["a1"]
    members = {m.relation: m for m in a1.household.members.all()}
    client, auth = _api("director_a")
    url = f"/api/v1/children/{a1.pk}/care"
    refused = client.put(url, {"carer": members["father"].pk}, "application/json", **auth)
    assert refused.status_code == 400 and "carer" in refused.json()["errors"]
    assert not DelegatedCare.objects.filter(household=a1.household).exists()
    body = {
        "carer": members["paternal_grandmother"].pk,
        "capable_adult": True,
        "confirmation_signed_on": "2026-01-05",
    }
    saved = client.put(url, body, "application/json", **auth)
    assert saved.status_code == 200, saved.content
    care = DelegatedCare.objects.get(household=a1.household)
    assert care.carer == members["paternal_grandmother"] and care.capable_adult
    other, other_auth = _api("director_b")
    assert other.put(url, body, "application/json", **other_auth).status_code == 404


def test_a_legal_basis_needs_its_duty_unless_it_is_consent(world: World) -> None:
    a1 = world.children["a1"]
    client, auth = _api("director_a")
    url = f"/api/v1/children/{a1.pk}/legal-bases"
    refused = client.post(
        url, {"purpose": "sharing", "basis": "statutory_duty"}, "application/json", **auth
    )
    assert refused.status_code == 400 and "note" in refused.json()["errors"]
    saved = client.post(
        url,
        {"purpose": "sharing", "basis": "statutory_duty", "note": "未保法第11条"},
        "application/json",
        **auth,
    )
    assert saved.status_code == 201, saved.content
    assert saved.json()["basis"] == "statutory_duty"
    assert ProcessingBasis.objects.get(child=a1, purpose="sharing").note == "未保法第11条"


def test_an_import_registers_every_row_or_names_each_problem(world: World) -> None:
    client, auth = _api("director_a")
    before = Child.objects.count()
    bad = [row[:] for row in valid_rows()]
    bad[1][3] = "2017-13-45"  # no such date
    upload = SimpleUploadedFile("children.xlsx", xlsx(bad))
    refused = client.post("/api/v1/children/import", {"file": upload}, **auth)
    assert refused.status_code == 400, refused.content
    report = refused.json()["report"]
    assert refused.json()["errors"] == {"rows.3.birth_date": [report["problems"][0]["message"]]}
    assert not report["ok"] and report["created"] == 0
    assert [(p["line"], p["column"]) for p in report["problems"]] == [(3, "出生日期 birth_date")]
    assert Child.objects.count() == before
    checked = client.post(
        "/api/v1/children/import",
        {"file": SimpleUploadedFile("children.xlsx", xlsx(valid_rows())), "dry_run": "true"},
        **auth,
    )
    assert checked.status_code == 200 and checked.json()["dry_run"]
    assert Child.objects.count() == before
    done = client.post(
        "/api/v1/children/import",
        {"file": SimpleUploadedFile("children.xlsx", xlsx(valid_rows()))},
        **auth,
    )
    assert done.status_code == 200, done.content
    assert done.json()["created"] == len(valid_rows()) == Child.objects.count() - before
    teacher, teacher_auth = _api("teacher_a")
    again = SimpleUploadedFile("children.xlsx", xlsx(valid_rows()))
    assert (
        teacher.post("/api/v1/children/import", {"file": again}, **teacher_auth).status_code == 403
    )
