"""System administration never exposes children's data."""

from __future__ import annotations

import pytest
from django.contrib import admin

from shouhu.children.models import Child, FamilyMember, Household
from tests.world import World

pytestmark = pytest.mark.django_db


def test_children_are_not_in_the_admin() -> None:
    from shouhu.cases.models import Case, CaseNote, Intake
    from shouhu.screening.models import Administration, Alert, MandatoryReport

    for model in (
        Child,
        Household,
        FamilyMember,
        Administration,
        Alert,
        MandatoryReport,
        Case,
        CaseNote,
        Intake,
    ):
        assert not admin.site.is_registered(model)


def test_admin_configures_case_work(world: World, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.admin)
    for url in (
        "/admin/cases/servicetype/",
        "/admin/cases/resource/add/",
        "/admin/cases/casepolicy/add/",
    ):
        assert client.get(url).status_code == 200, url


def test_admin_designates_safeguarding_responders(world: World, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.admin)
    assert client.get("/admin/screening/responder/add/").status_code == 200
    assert client.get("/admin/screening/instrumentlicence/add/").status_code == 403


def test_admin_manages_organisations(world: World, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.admin)
    assert client.get("/admin/accounts/organisation/").status_code == 200
    client.force_login(world.director_a)
    assert client.get("/admin/accounts/organisation/").status_code == 302  # to the admin login
