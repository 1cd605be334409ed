"""The project's monthly report (printable page and workbook), the breakdown on the project
page, staged acceptance and an organisation's own designs (issue 12)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog
from shouhu.programmes import selectors
from shouhu.programmes.models import Design, Milestone
from tests.test_programme_figures import M1, M2, _english, fixture  # noqa: F401
from tests.world import TODAY, World

pytestmark = pytest.mark.django_db

NAMES = ("甲", "乙", "丙", "王芳", "张伟")


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_funders_official_reads_the_monthly_report_with_no_child_named(
    fixture: dict[str, Any],  # noqa: F811
) -> None:
    project, world = fixture["project"], fixture["world"]
    url = reverse("programmes:report", args=[project.pk])
    page = _client(world.official).get(url, {"month": f"{M1:%Y-%m}"})
    assert page.status_code == 200
    html = page.content.decode()
    assert not any(name in html for name in NAMES)
    f = selectors.figures(project, M1, M1)
    total = selectors.figures(project)
    # The month's figures and those since the start, in the figures table.
    table = html.split('data-testid="report-figures"')[1].split("</table>")[0]
    assert f">{f.person_times}<" in table and f">{total.person_times}<" in table
    log = AccessLog.objects.filter(user=world.official, purpose="project_report").last()
    assert log is not None and log.action == "export" and log.detail["month"] == f"{M1:%Y-%m}"


def test_the_workbook_has_the_same_numbers_as_the_page(fixture: dict[str, Any]) -> None:  # noqa: F811
    from openpyxl import load_workbook

    project, world = fixture["project"], fixture["world"]
    got = _client(world.director_a).get(
        reverse("programmes:report_xlsx", args=[project.pk]), {"month": f"{M2:%Y-%m}"}
    )
    assert got.status_code == 200
    assert got["Content-Disposition"].endswith(f'-{M2:%Y-%m}.xlsx"')
    book = load_workbook(io.BytesIO(got.content))
    summary = [row for row in book.worksheets[0].iter_rows(values_only=True)]
    by_label = {row[0]: row[1:] for row in summary if row and row[0]}
    assert by_label["Service person-times"][:2] == (4, 4)  # M2 alone; M2 is the first month
    assert by_label["Class hours"][:2] == (1.5, 1.5)
    months = list(book["By month"].iter_rows(values_only=True))
    assert months[1][:3] == (f"{M2:%Y-%m}", 4, 4)
    townships = {r[0]: r[1:3] for r in book["Township"].iter_rows(min_row=2, values_only=True)}
    assert townships["麻埠镇"] == (3, 3) and townships["梅山镇"] == (1, 1)
    cells = " ".join(
        str(c)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for c in row
    )
    assert not any(name in cells for name in NAMES)
    assert AccessLog.objects.filter(
        user=world.director_a, purpose="project_report", action="export"
    ).exists()


def test_a_month_outside_the_project_or_a_stranger_gets_nothing(fixture: dict[str, Any]) -> None:  # noqa: F811
    project, world = fixture["project"], fixture["world"]
    url = reverse("programmes:report", args=[project.pk])
    official = _client(world.official)
    assert official.get(url, {"month": "2001-01"}).status_code == 404
    assert official.get(url, {"month": "January"}).status_code == 404
    assert _client(world.teacher_b).get(url).status_code == 404
    xlsx = reverse("programmes:report_xlsx", args=[project.pk])
    assert _client(world.volunteer).get(xlsx).status_code == 404


def test_the_project_page_breaks_the_figures_down(fixture: dict[str, Any]) -> None:  # noqa: F811
    project, world = fixture["project"], fixture["world"]
    url = reverse("programmes:project", args=[project.pk])
    html = _client(world.official).get(url, {"by": "township"}).content.decode()
    table = html.split('data-testid="breakdown"')[1].split("</table>")[0]
    assert "麻埠镇" in table and "梅山镇" in table
    assert not any(name in html for name in NAMES)
    months = _client(world.official).get(url).content.decode()
    assert f"{M2:%Y-%m}" in months.split('data-testid="breakdown"')[1]
    # A month outside the project is said next to the field; the months are shown.
    bad = _client(world.official).get(url, {"by": "sex", "first": "2001-01"}).content.decode()
    assert "The project runs from" in bad


def test_the_funder_accepts_a_stage_the_implementer_plans(fixture: dict[str, Any]) -> None:  # noqa: F811
    project, world = fixture["project"], fixture["world"]
    director, official = _client(world.director_a), _client(world.official)
    got = director.post(
        reverse("programmes:stage_new", args=[project.pk]),
        {"stage-title": "中期验收", "stage-due_on": f"{TODAY:%Y-%m-%d}"},
    )
    assert got.status_code == 302
    stage = Milestone.objects.get(project=project, title="中期验收")
    accept = reverse("programmes:stage_accept", args=[stage.pk])
    day = f"{TODAY:%Y-%m-%d}"
    # The implementer cannot accept its own work.
    assert (
        director.post(
            accept, {f"accept-{stage.pk}-accepted_on": day, f"accept-{stage.pk}-note": "好"}
        ).status_code
        == 403
    )
    # A note is required; a future date is refused; both come back next to the field.
    empty = official.post(
        accept, {f"accept-{stage.pk}-accepted_on": day, f"accept-{stage.pk}-note": ""}
    )
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    late = official.post(
        accept, {f"accept-{stage.pk}-accepted_on": future, f"accept-{stage.pk}-note": "查阅台账"}
    )
    assert late.status_code == 400 and "future" in late.content.decode()
    ok = official.post(
        accept,
        {f"accept-{stage.pk}-accepted_on": day, f"accept-{stage.pk}-note": "查阅台账，走访两村"},
    )
    assert ok.status_code == 302
    stage.refresh_from_db()
    assert (stage.accepted_on, stage.accepted_by, stage.note) == (
        TODAY,
        world.official,
        "查阅台账，走访两村",
    )
    again = official.post(
        accept, {f"accept-{stage.pk}-accepted_on": day, f"accept-{stage.pk}-note": "再次"}
    )
    assert again.status_code == 400
    stage.refresh_from_db()
    assert stage.note == "查阅台账，走访两村"
    # A stage outside the project's period is refused by field.
    bad = director.post(
        reverse("programmes:stage_new", args=[project.pk]),
        {"stage-title": "结项", "stage-due_on": "2001-01-01"},
    )
    assert bad.status_code == 400 and "within the project" in bad.content.decode()


def test_an_organisation_adds_its_own_design(world: World) -> None:
    director = _client(world.director_a)
    url = reverse("programmes:designs")
    data = {
        "design-organisation": world.orgs["village_a"].pk,
        "design-kind": "interest_group",
        "design-name": "剪纸兴趣小组",
        "design-hours_min": 2,
        "design-hours_max": 3,
        "design-content": "每周一次，传承非遗",
    }
    assert director.post(url, data).status_code == 302
    design = Design.objects.get(name="剪纸兴趣小组")
    assert design.organisation == world.orgs["village_a"]
    again = director.post(url, data)
    assert again.status_code == 400 and "already has a design" in again.content.decode()
    flipped = director.post(
        url, {**data, "design-name": "书法", "design-hours_min": 4, "design-hours_max": 2}
    )
    assert flipped.status_code == 400
    # Its own organisers see it in the catalogue and can start it; another village cannot.
    assert "剪纸兴趣小组" in director.get(url).content.decode()
    assert "剪纸兴趣小组" in director.get(reverse("programmes:new")).content.decode()
    assert "剪纸兴趣小组" not in _client(world.director_b).get(url).content.decode()
    assert _client(world.volunteer).post(url, data).status_code == 403


# ---------------------------------------------------------------- the same over the API


def test_the_api_gives_the_numbers_of_the_page(fixture: dict[str, Any]) -> None:  # noqa: F811
    from tests.test_api_cases import Api

    project = fixture["project"]
    official, director = Api("official"), Api("director_a")
    for by in selectors.BREAKDOWNS:
        # The implementer's organiser sees every line as the page shows it to them.
        got = director.get(f"/api/v1/projects/{project.pk}/figures", by=by)
        assert got.status_code == 200, got.content
        body = got.json()
        want = selectors.breakdown(project, by)  # type: ignore[arg-type]
        assert [(r["key"], r["person_times"], r["persons"]) for r in body["rows"]] == [
            (r.key, r.person_times, r.persons) for r in want
        ]
        assert body["figures"]["person_times"] == selectors.figures(project).person_times
    month = official.get(
        f"/api/v1/projects/{project.pk}/figures", by="sex", first=f"{M1:%Y-%m}", last=f"{M1:%Y-%m}"
    ).json()
    assert month["figures"]["person_times"] == 4 and month["first"] == f"{M1:%Y-%m}"
    bad = official.get(f"/api/v1/projects/{project.pk}/figures", first="2001-01")
    assert bad.status_code == 400 and "first" in bad.json()["errors"]
    assert official.get(f"/api/v1/projects/{project.pk}/figures", by="colour").status_code == 400
    report = director.get(f"/api/v1/projects/{project.pk}/report", month=f"{M2:%Y-%m}")
    assert report.status_code == 200, report.content
    r = report.json()
    assert r["month_figures"]["person_times"] == 4 and r["to_date"]["person_times"] == 4
    assert {x["key"]: x["person_times"] for x in r["breakdowns"]["township"]}["341524100"] == 1
    assert [(x["held"], x["attended"], x["enrolled"]) for x in r["programmes"]] == [(1, 3, 4)]
    assert not any(name in report.content.decode() for name in NAMES)
    xlsx = official.get(f"/api/v1/projects/{project.pk}/report.xlsx", month=f"{M1:%Y-%m}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert AccessLog.objects.filter(purpose="api_project_report").count() == 2
    assert Api("teacher_b").get(f"/api/v1/projects/{project.pk}/report").status_code == 404


def test_stages_and_designs_over_the_api(fixture: dict[str, Any]) -> None:  # noqa: F811
    from tests.test_api_cases import Api

    project, world = fixture["project"], fixture["world"]
    director, official = Api("director_a"), Api("official")
    stage = director.post(
        f"/api/v1/projects/{project.pk}/milestones", {"title": "中期", "due_on": str(TODAY)}
    )
    assert stage.status_code == 201, stage.content
    url = f"/api/v1/milestones/{stage.json()['id']}/accept"
    assert director.post(url, {"accepted_on": str(TODAY), "note": "自评"}).status_code == 403
    done = official.post(url, {"accepted_on": str(TODAY), "note": "查阅台账"})
    assert done.status_code == 200 and done.json()["accepted_by"] == str(world.official)
    twice = official.post(url, {"accepted_on": str(TODAY), "note": "再次"})
    assert twice.status_code == 400 and "accepted_on" in twice.json()["errors"]
    listed = official.get(f"/api/v1/projects/{project.pk}/milestones").json()["items"]
    assert [m["note"] for m in listed] == ["查阅台账"]
    made = director.post(
        "/api/v1/designs",
        {"organisation": world.orgs["village_a"].pk, "kind": "peer_group", "name": "妈妈互助会"},
    )
    assert made.status_code == 201, made.content
    names = {d["name"] for d in director.get("/api/v1/designs").json()["items"]}
    assert "妈妈互助会" in names and len(names) >= 17
    wrong = director.post(
        "/api/v1/designs",
        {"organisation": world.orgs["village_a"].pk, "kind": "party", "name": "联欢"},
    )
    assert wrong.status_code == 400 and "kind" in wrong.json()["errors"]
    assert "妈妈互助会" not in {
        d["name"] for d in Api("director_b").get("/api/v1/designs").json()["items"]
    }


def test_a_supervisor_reads_the_projects_inside_their_township_only(
    fixture: dict[str, Any],  # noqa: F811
) -> None:
    from shouhu.places.models import Place
    from tests.world import TOWNSHIP_1

    county_wide, world = fixture["project"], fixture["world"]
    supervisor = _client(world.supervisor)
    # The county-wide project covers more than the township: not theirs to read.
    assert supervisor.get(reverse("programmes:project", args=[county_wide.pk])).status_code == 404
    county_wide.places.set([Place.objects.get(pk=TOWNSHIP_1)])
    page = supervisor.get(reverse("programmes:project", args=[county_wide.pk]))
    assert page.status_code == 200 and not any(name in page.content.decode() for name in NAMES)
    assert 'data-testid="stage-form"' not in page.content.decode()
    got = supervisor.post(
        reverse("programmes:stage_new", args=[county_wide.pk]),
        {"stage-title": "中期", "stage-due_on": f"{TODAY:%Y-%m-%d}"},
    )
    assert got.status_code == 403


def test_small_lines_are_withheld_from_readers_who_do_not_see_the_participants(
    fixture: dict[str, Any],  # noqa: F811
) -> None:
    """The funder's official learns how many were served in each township, category, sex
    and age band only where at least 5 people are counted; the implementer sees them all."""
    from tests.test_api_cases import Api

    project = fixture["project"]
    assert selectors.SMALL == 5
    rows = Api("official").get(f"/api/v1/projects/{project.pk}/figures", by="township").json()
    # Every line of the fixture has fewer than 5 people, or a small target group.
    assert rows["rows"] and all(r["suppressed"] and r["persons"] is None for r in rows["rows"])
    assert rows["figures"]["person_times"] == 8  # the project's total is not a small line
    months = Api("official").get(f"/api/v1/projects/{project.pk}/figures", by="month").json()
    assert not any(r["suppressed"] for r in months["rows"])
    page = _client(fixture["world"].official).get(
        reverse("programmes:project", args=[project.pk]), {"by": "sex"}
    )
    assert "Fewer than 5 people: not shown" in page.content.decode()
    mine = _client(fixture["world"].director_a).get(
        reverse("programmes:project", args=[project.pk]), {"by": "sex"}
    )
    assert "Fewer than 5 people" not in mine.content.decode()
    report = Api("official").get(f"/api/v1/projects/{project.pk}/report", month=f"{M1:%Y-%m}")
    assert all(r["suppressed"] for rows in report.json()["breakdowns"].values() for r in rows)
    # With 5 children of one sex served, their line is shown to the official too.
    assert (
        selectors.suppress_small(
            [selectors.Row(key="F", label="F", person_times=9, persons=5, counselling=0)]
        )[0].suppressed
        is False
    )
