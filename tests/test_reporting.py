"""Mandatory reports (强制报告): opened from findings or by hand, parallel notice, reporter
confidentiality, no dismissal, completion only with the police report's details."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog
from shouhu.children.models import FamilyMember
from shouhu.notify.models import Notification
from shouhu.screening import registry, reporting, services
from shouhu.screening.models import MandatoryReport, RiskLevel, Trigger
from tests.world import NOW, World

pytestmark = pytest.mark.django_db


def _visit(world: World, **answers: int) -> None:
    inst = registry.definition("home_visit")
    full = {item.id: item.min_value for item in inst.items if item.show_if is None}
    full.update(answers)
    services.administer(
        actor=world.users["director_b"],
        child=world.children["b1"],
        instrument="home_visit",
        answers=full,
        now=NOW,
        administered_at=NOW,
    )


def test_home_visit_finding_opens_a_report_with_parallel_notice(world: World) -> None:
    _visit(world, hv_living_arrangement=3)
    report = MandatoryReport.objects.get()
    assert report.triggers == [Trigger.LIVING_ALONE] and not report.completed
    assert report.reporter == world.users["director_b"]
    told = set(
        Notification.objects.filter(category="mandatory_report").values_list(
            "user__username", flat=True
        )
    )
    assert {"supervisor", "official", "director_b"} <= told
    assert RiskLevel.objects.get(child=world.children["b1"]).level == "red"


def test_calm_visit_opens_no_report(world: World) -> None:
    _visit(world)
    assert not MandatoryReport.objects.exists()


def test_reporter_is_confidential_except_to_reporter_and_county_officer(world: World) -> None:
    report = reporting.open_report(
        actor=world.users["director_b"],
        child=world.children["b1"],
        triggers=[Trigger.ABUSE],
        description="bruises",
        now=NOW,
    )
    assert reporting.present_report(world.users["director_b"], report)["reporter"]
    assert reporting.present_report(world.official, report)["reporter"]
    assert reporting.present_report(world.supervisor, report)["reporter"] is None
    client = Client()
    client.force_login(world.supervisor)
    page = client.get(reverse("screening:report", args=[report.pk])).content.decode()
    assert "director_b" not in page and 'data-testid="reporter"' in page
    assert AccessLog.objects.filter(
        user=world.supervisor, object_type="mandatory_report", object_id=str(report.pk)
    ).exists()


def test_visit_that_opened_a_report_does_not_name_its_giver_to_others(world: World) -> None:
    """The director who gave the visit is the report's reporter: the visit's record must
    not tell the supervisor who that was."""
    _visit(world, hv_living_arrangement=3)
    report = MandatoryReport.objects.get()
    visit = report.administration
    assert visit is not None
    url = reverse("screening:detail", args=[visit.pk])
    supervisor = Client()
    supervisor.force_login(world.supervisor)
    page = supervisor.get(url)
    assert page.status_code == 200 and 'data-testid="total"' in page.content.decode()
    assert "director_b" not in page.content.decode()
    listed = supervisor.get(reverse("screening:child", args=[world.children["b1"].pk]))
    assert "director_b" not in listed.content.decode()
    reporter = Client()
    reporter.force_login(world.users["director_b"])
    assert "director_b" in reporter.get(url).content.decode()


def test_a_report_opened_by_hand_raises_the_risk_until_completed_and_for_six_months(
    world: World,
) -> None:
    child = world.children["b1"]
    report = reporting.open_report(
        actor=world.users["director_b"], child=child, triggers=[Trigger.ABUSE], now=NOW
    )
    level = RiskLevel.objects.get(child=child)
    assert level.level == "red" and level.reasons[0]["code"] == "mandatory_report_open"
    reporting.complete(
        actor=world.supervisor,
        report=report,
        police_told_at=NOW,
        receiving_unit="派出所",
        reference="JJ-1",
        now=NOW + dt.timedelta(hours=2),
    )
    assert RiskLevel.objects.get(child=child).level == "orange"
    from shouhu.screening import risk

    risk.recompute(child, now=NOW + dt.timedelta(days=181))
    assert RiskLevel.objects.get(child=child).level not in {"red", "orange"}


def test_report_cannot_be_completed_without_police_details(world: World) -> None:
    report = reporting.open_report(
        actor=world.users["director_b"], child=world.children["b1"], triggers=["abandonment"]
    )
    with pytest.raises(ValidationError) as missing:
        reporting.complete(
            actor=world.users["director_b"],
            report=report,
            police_told_at=None,
            receiving_unit="",
            reference="",
        )
    assert set(missing.value.message_dict) == {
        "police_told_at",
        "receiving_unit",
        "police_reference",
    }
    done = reporting.complete(
        actor=world.users["director_b"],
        report=report,
        police_told_at=NOW,
        receiving_unit="麻埠派出所",
        reference="JQ-2026-1130-01",
        now=NOW + dt.timedelta(minutes=20),
    )
    assert done.completed and done.completed_by == world.users["director_b"]
    with pytest.raises(ValidationError):
        reporting.complete(
            actor=world.users["director_b"],
            report=report,
            police_told_at=NOW,
            receiving_unit="x",
            reference="y",
        )


def test_there_is_no_way_to_dismiss_a_report(world: World) -> None:
    report = reporting.open_report(
        actor=world.users["director_b"], child=world.children["b1"], triggers=["missing"]
    )
    assert not any(name.startswith(("dismiss", "cancel", "delete")) for name in dir(reporting))
    client = Client()
    client.force_login(world.users["director_b"])
    response = client.post(reverse("screening:report", args=[report.pk]), {"dismiss": "1"})
    assert response.status_code == 400
    report.refresh_from_db()
    assert not report.completed


def test_suspected_guardian_is_never_told(world: World) -> None:
    child = world.children["b1"]
    members = list(FamilyMember.objects.filter(household_id=child.household_id))
    guardians = [m for m in members if m.is_guardian]
    assert guardians, "the world's children have guardians"
    suspect = guardians[0]
    reporting.open_report(
        actor=world.users["director_b"],
        child=child,
        triggers=[Trigger.DOMESTIC_VIOLENCE],
        suspected=[suspect.pk],
    )
    assert suspect not in reporting.guardians_to_tell(child)


def test_bad_report_input_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as bad:
        reporting.open_report(
            actor=world.users["director_b"], child=world.children["b1"], triggers=[]
        )
    assert "triggers" in bad.value.message_dict
    with pytest.raises(ValidationError):
        reporting.open_report(
            actor=world.users["director_b"], child=world.children["b1"], triggers=["gossip"]
        )
    other = FamilyMember.objects.exclude(household_id=world.children["b1"].household_id).first()
    assert other is not None
    with pytest.raises(ValidationError):
        reporting.open_report(
            actor=world.users["director_b"],
            child=world.children["b1"],
            triggers=["abuse"],
            suspected=[other.pk],
        )
    with pytest.raises(PermissionDenied):
        reporting.open_report(actor=world.volunteer, child=world.children["a1"], triggers=["abuse"])


def test_report_page_flow(world: World) -> None:
    client = Client()
    client.force_login(world.users["director_b"])
    child = world.children["b1"]
    response = client.post(
        reverse("screening:report_new", args=[child.pk]),
        {"triggers": ["injury"], "description": "burn on the arm"},
    )
    report = MandatoryReport.objects.get()
    assert response.status_code == 302
    page = client.post(
        reverse("screening:report", args=[report.pk]),
        {
            "police_told_at": f"{NOW - dt.timedelta(hours=1):%Y-%m-%dT%H:%M}",
            "receiving_unit": "麻埠派出所",
            "police_reference": "A-1",
        },
    )
    assert page.status_code == 302
    report.refresh_from_db()
    assert report.completed and report.police_reference == "A-1"
    outsider = Client()
    outsider.force_login(world.users["director_a"])
    assert outsider.get(reverse("screening:report", args=[report.pk])).status_code == 404


def test_a_refused_report_keeps_what_was_typed_by_its_field(world: World) -> None:
    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.users["director_b"])
    child = world.children["b1"]
    response = client.post(
        reverse("screening:report_new", args=[child.pk]), {"description": "烫伤在手臂"}
    )
    page = response.content.decode()
    assert response.status_code == 400 and 'href="#id_triggers_0"' in page
    assert "Choose at least one situation." in page and "烫伤在手臂" in page
    assert not MandatoryReport.objects.exists()
    client.post(
        reverse("screening:report_new", args=[child.pk]),
        {"triggers": ["injury"], "description": "烫伤在手臂"},
    )
    report = MandatoryReport.objects.get()
    refused = client.post(reverse("screening:report", args=[report.pk]), {"receiving_unit": "x"})
    page = refused.content.decode()
    assert refused.status_code == 400 and 'href="#id_police_told_at"' in page
    assert "When were the police told?" in page and 'value="x"' in page


def test_mandatory_reports_over_the_api(world: World) -> None:
    from tests.test_api_cases import Api

    child = world.children["b1"]
    api = Api("director_b")
    created = api.post(
        f"/api/v1/children/{child.pk}/reports",
        {"triggers": ["injury"], "description": "烫伤"},
    )
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    assert api.post(f"/api/v1/children/{child.pk}/reports", {"triggers": ["x"]}).status_code == 400
    listed = api.get("/api/v1/reports").json()
    assert [r["id"] for r in listed] == [rid] and listed[0]["completed"] is False
    incomplete = api.post(
        f"/api/v1/reports/{rid}/complete",
        {"police_told_at": NOW.isoformat(), "receiving_unit": "", "police_reference": "A"},
    )
    assert incomplete.status_code == 400
    done = api.post(
        f"/api/v1/reports/{rid}/complete",
        {
            "police_told_at": (NOW - dt.timedelta(hours=1)).isoformat(),
            "receiving_unit": "麻埠派出所",
            "police_reference": "A-1",
        },
    )
    assert done.status_code == 200 and done.json()["completed"] is True
    assert Api("director_a").get(f"/api/v1/reports/{rid}").status_code == 404
