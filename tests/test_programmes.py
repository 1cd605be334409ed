"""Programmes (issue 12), the first part: the shipped catalogue, running a programme and its
sessions, enrolment with a waiting list, the roll call (one request, fixed queries, three
absences followed up), one-to-one counselling, and the figures counted from the records
against hand-counted fixtures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shouhu.children.models import Child, FamilyMember
from shouhu.lib import protect
from shouhu.lib.clock import SHANGHAI
from shouhu.places.models import Place
from shouhu.programmes import attendance, counselling, running, selectors, served
from shouhu.programmes.models import (
    Attendance,
    Design,
    Enrolment,
    Kind,
    Measure,
    Programme,
    ProgrammeSession,
    Project,
    Target,
)
from shouhu.tasks.models import Task
from tests.world import NOW, TODAY, TOWNSHIP_1, VILLAGE_A, World, child_data, register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    """The services' messages in English, as the assertions read them."""
    from django.utils import translation

    with translation.override("en"):
        yield


def _at(days: int, hour: int = 15) -> dt.datetime:
    return dt.datetime.combine(TODAY + dt.timedelta(days=days), dt.time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def project(world: World) -> Project:
    project = Project.objects.create(
        name="做有能力的小公民",
        funder=world.orgs["bureau"],
        implementer=world.orgs["village_a"],
        starts_on=TODAY - dt.timedelta(days=60),
        ends_on=TODAY + dt.timedelta(days=60),
        target_groups=["left_behind_mca"],
        created_at=NOW,
        created_by=world.official,
    )
    project.places.set([Place.objects.get(pk=TOWNSHIP_1)])
    return project


def _programme(
    world: World, project: Project | None, kind: str = Kind.GROUP_ACTIVITY, **kw: Any
) -> Programme:
    design = Design.objects.filter(organisation=None, kind=kind).first()
    assert design is not None
    return running.programme_create(
        actor=world.director_a,
        organisation=world.orgs["village_a"],
        design=design,
        title=kw.pop("title", design.name),
        starts_on=kw.pop("starts_on", TODAY - dt.timedelta(days=30)),
        ends_on=kw.pop("ends_on", TODAY + dt.timedelta(days=30)),
        project=project,
        **kw,
    )


def _children(world: World, n: int) -> list[Child]:
    return [register(world.director_a, child_data(f"孩{i}", VILLAGE_A)) for i in range(n)]


def test_the_catalogue_ships_the_ten_activities_and_six_courses_of_seed_003(world: World) -> None:
    shipped = Design.objects.filter(organisation=None)
    activities = shipped.filter(kind=Kind.GROUP_ACTIVITY)
    courses = shipped.filter(kind=Kind.CAREGIVER_COURSE)
    assert activities.count() == 10 and courses.count() == 6
    assert activities.first().name == "我是有能力的小公民"  # type: ignore[union-attr]
    assert courses.filter(name="如何说，孩子才会听", content="亲子沟通的有效技巧").exists()
    assert {(d.hours_min, d.hours_max) for d in shipped} == {(2, 4)}


def test_periods_durations_and_reach_are_checked(world: World, project: Project) -> None:
    with pytest.raises(ValidationError) as outside:
        _programme(world, project, starts_on=project.starts_on - dt.timedelta(days=1))
    assert "starts_on" in outside.value.message_dict
    programme = _programme(world, project)
    with pytest.raises(ValidationError) as late:
        running.session_add(
            actor=world.director_a, programme=programme, starts_at=_at(45), minutes=90
        )
    assert "starts_at" in late.value.message_dict
    with pytest.raises(ValidationError) as negative:
        running.session_add(
            actor=world.director_a, programme=programme, starts_at=_at(1), minutes=-5
        )
    assert "minutes" in negative.value.message_dict
    assert not ProgrammeSession.objects.exists()
    with pytest.raises(PermissionDenied):  # another organisation's people
        running.session_add(
            actor=world.director_b, programme=programme, starts_at=_at(1), minutes=60
        )
    other_village = world.children["b1"]
    with pytest.raises(ValidationError) as reach:
        running.enrol(actor=world.director_a, programme=programme, child=other_village)
    assert reach.value.message_dict["participant"] == ["This child is outside your reach."]


def test_a_full_programme_puts_the_next_on_the_waiting_list_and_refuses_twice(
    world: World, project: Project
) -> None:
    programme = _programme(world, project, capacity=2)
    kids = _children(world, 3)
    statuses = [
        running.enrol(actor=world.director_a, programme=programme, child=c).status for c in kids
    ]
    assert statuses == ["enrolled", "enrolled", "waiting"]
    with pytest.raises(ValidationError) as twice:
        running.enrol(actor=world.director_a, programme=programme, child=kids[0])
    assert "already enrolled" in twice.value.message_dict["participant"][0]
    walk_in = running.enrol(
        actor=world.director_a, programme=programme, child=world.children["a1"], walk_in=True
    )
    assert walk_in.status == "enrolled"  # there at the roll call: never on the waiting list
    course = _programme(world, project, kind=Kind.CAREGIVER_COURSE)
    with pytest.raises(ValidationError):
        running.enrol(actor=world.director_a, programme=course, child=kids[0])
    grandma = FamilyMember.objects.get(
        household_id=kids[0].household_id, relation="paternal_grandmother"
    )
    assert running.enrol(actor=world.director_a, programme=course, member=grandma).member == grandma


def _rows(enrolments: list[Enrolment], status: str = "present") -> list[dict[str, Any]]:
    return [{"participant": e.pk, "status": status} for e in enrolments]


def test_a_roll_call_is_one_write_with_a_fixed_number_of_queries(
    world: World, project: Project
) -> None:
    programme = _programme(world, project)
    kids = _children(world, 30)
    enrolled = [running.enrol(actor=world.director_a, programme=programme, child=c) for c in kids]
    first = running.session_add(
        actor=world.director_a, programme=programme, starts_at=_at(-2), minutes=60
    )
    second = running.session_add(
        actor=world.director_a, programme=programme, starts_at=_at(-1), minutes=60
    )
    with CaptureQueriesContext(connection) as few:
        attendance.roll_call(actor=world.director_a, session=first, rows=_rows(enrolled[:3]))
    with CaptureQueriesContext(connection) as many:
        attendance.roll_call(actor=world.director_a, session=second, rows=_rows(enrolled))
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert Attendance.objects.filter(session=second).count() == 30
    # A second roll call corrects the first.
    attendance.roll_call(actor=world.director_a, session=second, rows=_rows(enrolled[:1], "late"))
    assert Attendance.objects.get(session=second, enrolment=enrolled[0]).status == "late"
    assert Attendance.objects.filter(session=second).count() == 30


def test_a_sessions_headcount_follows_its_roll_calls_and_is_rebuilt(
    world: World, project: Project
) -> None:
    programme = _programme(world, project)
    enrolled = [
        running.enrol(actor=world.director_a, programme=programme, child=c)
        for c in _children(world, 6)
    ]
    session = running.session_add(
        actor=world.director_a, programme=programme, starts_at=_at(-1), minutes=60
    )
    rows = _rows(enrolled[:3]) + _rows(enrolled[3:4], "late") + _rows(enrolled[4:], "absent")
    attendance.roll_call(actor=world.director_a, session=session, rows=rows)
    session.refresh_from_db()
    assert (session.status, session.attended) == ("held", 4)  # present or late
    # Taken again for two of them: the others keep their marks, the count follows.
    again = _rows(enrolled[:1], "excused") + _rows(enrolled[4:5], "present")
    attendance.roll_call(actor=world.director_a, session=session, rows=again)
    session.refresh_from_db()
    assert session.attended == 4
    attendance.roll_call(
        actor=world.director_a, session=session, rows=_rows(enrolled[1:3], "absent")
    )
    session.refresh_from_db()
    assert session.attended == 2
    # A count gone wrong (bulk writes bypassing the roll call) is rebuilt from the records.
    ProgrammeSession.objects.filter(pk=session.pk).update(attended=99)
    served.rebuild(project.pk)
    session.refresh_from_db()
    assert session.attended == 2


def test_a_roll_call_is_refused_whole_before_the_session_or_when_cancelled(
    world: World, project: Project
) -> None:
    programme = _programme(world, project)
    (kid,) = _children(world, 1)
    enrolment = running.enrol(actor=world.director_a, programme=programme, child=kid)
    coming = running.session_add(
        actor=world.director_a, programme=programme, starts_at=_at(1), minutes=60
    )
    with pytest.raises(ValidationError, match="not started yet"):
        attendance.roll_call(actor=world.director_a, session=coming, rows=_rows([enrolment]))
    past = running.session_add(
        actor=world.director_a, programme=programme, starts_at=_at(-1), minutes=60
    )
    with pytest.raises(ValidationError) as bad:
        attendance.roll_call(
            actor=world.director_a,
            session=past,
            rows=[
                {"participant": enrolment.pk, "status": "present"},
                {"participant": 999999, "status": "present"},
                {"participant": enrolment.pk, "status": "asleep"},
            ],
        )
    assert set(bad.value.message_dict) == {
        "rows.1.participant",
        "rows.2.participant",
        "rows.2.status",
    }
    assert not Attendance.objects.exists()
    running.session_cancel(actor=world.director_a, session=coming, reason="暴雨")
    with pytest.raises(ValidationError, match="cancelled"):
        attendance.roll_call(actor=world.director_a, session=coming, rows=_rows([enrolment]))
    with pytest.raises(PermissionDenied):
        attendance.roll_call(actor=world.teacher_a, session=past, rows=_rows([enrolment]))


def test_three_absences_in_a_row_open_a_task_for_the_childs_director(
    world: World, project: Project
) -> None:
    programme = _programme(world, project)
    kids = _children(world, 2)
    absent, present = (
        running.enrol(actor=world.director_a, programme=programme, child=c) for c in kids
    )
    for day in (-3, -2, -1):
        session = running.session_add(
            actor=world.director_a, programme=programme, starts_at=_at(day), minutes=60
        )
        done = attendance.roll_call(
            actor=world.director_a,
            session=session,
            rows=[
                {"participant": absent.pk, "status": "absent"},
                {"participant": present.pk, "status": "present"},
            ],
        )
    assert done.followed_up == [kids[0].pk]
    task = Task.objects.get(child=kids[0], title=attendance.ABSENCE_TASK)
    assert task.assignee == world.director_a and task.reason == programme.title
    assert not Task.objects.filter(child=kids[1], title=attendance.ABSENCE_TASK).exists()


def test_counselling_notes_are_sealed_and_a_future_date_refused(
    world: World, project: Project
) -> None:
    a1 = world.children["a1"]
    with pytest.raises(ValidationError) as future:
        counselling.counselling_record(
            actor=world.socialworker,
            child=a1,
            held_on=TODAY + dt.timedelta(days=1),
            minutes=50,
            mode="in_person",
            concern="separation",
        )
    assert "held_on" in future.value.message_dict
    row = counselling.counselling_record(
        actor=world.socialworker,
        child=a1,
        held_on=TODAY,
        minutes=50,
        mode="phone",
        concern="separation",
        notes="想妈妈，夜里哭",
        project=project,
    )
    assert "想妈妈" not in row.notes_enc and protect.unseal(row.notes_enc) == "想妈妈，夜里哭"
    with pytest.raises(PermissionDenied):
        counselling.counselling_record(
            actor=world.teacher_a,
            child=a1,
            held_on=TODAY,
            minutes=50,
            mode="phone",
            concern="school",
        )


def test_the_figures_are_counted_from_the_records(world: World, project: Project) -> None:
    """Hand-counted: 3 children and a caregiver; two held activity sessions (90 + 60 min)
    with 3 + 2 attended, one absent; a caregiver session (120 min) attended by one; a
    cancelled session not counted; two counselling sessions (one for a child of no session).
    Person-times 3 + 2 + 1 + 2 = 8; persons 4 children + 1 caregiver = 5; class hours 4.5."""
    Target.objects.create(project=project, measure=Measure.PERSON_TIMES, value=16)
    Target.objects.create(project=project, measure=Measure.COUNSELLING, value=2)
    activity = _programme(world, project)
    kids = _children(world, 3)
    e = [running.enrol(actor=world.director_a, programme=activity, child=c) for c in kids]
    one = running.session_add(
        actor=world.director_a, programme=activity, starts_at=_at(-5), minutes=90
    )
    two = running.session_add(
        actor=world.director_a, programme=activity, starts_at=_at(-4), minutes=60
    )
    off = running.session_add(
        actor=world.director_a, programme=activity, starts_at=_at(3), minutes=60
    )
    running.session_cancel(actor=world.director_a, session=off, reason="考试周")
    attendance.roll_call(actor=world.director_a, session=one, rows=_rows(e))
    attendance.roll_call(
        actor=world.director_a,
        session=two,
        rows=[*_rows(e[:1]), *_rows(e[1:2], "late"), *_rows(e[2:], "absent")],
    )
    course = _programme(world, project, kind=Kind.CAREGIVER_COURSE)
    grandma = FamilyMember.objects.get(
        household_id=kids[0].household_id, relation="paternal_grandmother"
    )
    g = running.enrol(actor=world.director_a, programme=course, member=grandma)
    lesson = running.session_add(
        actor=world.director_a, programme=course, starts_at=_at(-3), minutes=120
    )
    attendance.roll_call(actor=world.director_a, session=lesson, rows=_rows([g]))
    counselling.counselling_record(
        actor=world.socialworker,
        child=world.children["a1"],
        held_on=TODAY,
        minutes=50,
        mode="in_person",
        concern="emotions",
        project=project,
    )
    counselling.counselling_record(
        actor=world.socialworker,
        child=world.children["a1"],
        held_on=TODAY - dt.timedelta(days=1),
        minutes=40,
        mode="video",
        concern="family",
        project=project,
    )
    f = selectors.figures(project)
    assert (f.person_times, f.persons, f.children_served, f.counselling) == (8, 5, 4, 2)
    assert f.class_hours == Decimal("4.5")
    assert (f.child_activities, f.caregiver_events) == (2, 1)
    # Coverage: the township's MCA left-behind children served over all of them.
    group = Child.objects.filter(residence__code__startswith="341524101", cat_left_behind_mca=True)
    served = group.filter(pk__in=[*[c.pk for c in kids], world.children["a1"].pk]).count()
    assert f.target_group == group.count() > 0
    assert f.coverage == (Decimal(served) * 100 / Decimal(group.count())).quantize(Decimal("0.1"))
    progress = {p.measure: p for p in selectors.progress(project)}
    assert progress["person_times"].achieved == 8 and progress["person_times"].share == 0.5
    assert progress["counselling"].share == 1.0


def test_the_roll_call_page_saves_every_mark_and_the_sheet_lists_everyone(
    world: World, project: Project
) -> None:
    from django.test import Client
    from django.urls import reverse

    programme = _programme(world, project)
    kids = _children(world, 2)
    enrolled = [running.enrol(actor=world.director_a, programme=programme, child=c) for c in kids]
    session = running.session_add(
        actor=world.director_a, programme=programme, starts_at=_at(-1), minutes=60
    )
    client = Client()
    client.force_login(world.director_a)
    url = reverse("programmes:roll_call", args=[session.pk])
    page = client.get(url).content.decode()
    assert "孩0" in page and "孩1" in page
    bad = client.post(url, {f"p-{enrolled[0].pk}": "present", f"p-{enrolled[1].pk}": "asleep"})
    assert bad.status_code == 400 and 'data-testid="error-summary"' in bad.content.decode()
    assert not Attendance.objects.exists()
    saved = client.post(url, {f"p-{enrolled[0].pk}": "present", f"p-{enrolled[1].pk}": "absent"})
    assert saved.status_code == 302 and saved.url == reverse(
        "programmes:detail", args=[programme.pk]
    )
    marks = dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "status"))
    assert marks == {enrolled[0].pk: "present", enrolled[1].pk: "absent"}
    sheet = client.get(reverse("programmes:sign_in", args=[session.pk])).content.decode()
    assert "孩0" in sheet and "孩1" in sheet and 'class="signature"' in sheet
    outsider = Client()
    outsider.force_login(world.director_b)
    assert outsider.get(url).status_code == 404
    assert outsider.get(reverse("programmes:detail", args=[programme.pk])).status_code == 404
    listed = client.get(reverse("programmes:list")).content.decode()
    assert programme.title in listed


def test_the_funders_official_reads_the_projects_progress_page(
    world: World, project: Project
) -> None:
    from django.test import Client
    from django.urls import reverse

    Target.objects.create(project=project, measure=Measure.COUNSELLING, value=4)
    counselling.counselling_record(
        actor=world.socialworker,
        child=world.children["a1"],
        held_on=TODAY,
        minutes=45,
        mode="in_person",
        concern="school",
        notes="不愿上学",
        project=project,
    )
    official = Client()
    official.force_login(world.official)
    official.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = official.get(reverse("programmes:project", args=[project.pk])).content.decode()
    targets = page.split('data-testid="targets"')[1].split("</table>")[0]
    assert "One-to-one counselling sessions" in targets and "25%" in targets
    assert "张伟" not in page and "不愿上学" not in page  # aggregates only
    listed = official.get(reverse("programmes:list")).content.decode()
    assert project.name in listed
    other = Client()
    other.force_login(world.director_b)
    assert other.get(reverse("programmes:project", args=[project.pk])).status_code == 404


def test_the_pages_start_a_programme_plan_and_cancel_a_session_and_enrol_the_gap(
    world: World, project: Project
) -> None:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(world.director_a)
    design = Design.objects.filter(organisation=None, kind=Kind.GROUP_ACTIVITY).first()
    assert design is not None
    new = reverse("programmes:new")
    data = {
        "organisation": world.orgs["village_a"].pk,
        "design": design.pk,
        "title": "",
        "starts_on": str(TODAY),
        "ends_on": str(TODAY - dt.timedelta(days=1)),
        "project": project.pk,
    }
    refused = client.post(new, data)
    page = refused.content.decode()
    assert refused.status_code == 400 and 'href="#id_title"' in page
    assert "The programme ends before it starts." in page
    started = client.post(
        new, {**data, "title": "我有专注力", "ends_on": str(TODAY + dt.timedelta(days=20))}
    )
    programme = Programme.objects.get(title="我有专注力")
    assert started.status_code == 302 and started.url == reverse(
        "programmes:detail", args=[programme.pk]
    )
    sessions = reverse("programmes:session_new", args=[programme.pk])
    when = dt.datetime.combine(TODAY + dt.timedelta(days=40), dt.time(15)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    late = client.post(
        sessions,
        {"session-starts_at": when, "session-minutes": "90", "session-venue_kind": "village"},
    )
    assert late.status_code == 400 and "within the programme" in late.content.decode()
    soon = dt.datetime.combine(TODAY + dt.timedelta(days=3), dt.time(15)).strftime("%Y-%m-%dT%H:%M")
    planned = client.post(
        sessions,
        {"session-starts_at": soon, "session-minutes": "90", "session-venue_kind": "village"},
    )
    assert planned.status_code == 302
    session = programme.sessions.get()
    cancel = reverse("programmes:cancel", args=[session.pk])
    assert client.post(cancel, {f"cancel-{session.pk}-reason": ""}).status_code == 400
    assert client.post(cancel, {f"cancel-{session.pk}-reason": "暴雨停课"}).status_code == 302
    session.refresh_from_db()
    assert session.status == "cancelled" and session.cancel_reason == "暴雨停课"
    # The target list: the children the director reaches who are not yet enrolled.
    detail = client.get(reverse("programmes:detail", args=[programme.pk])).content.decode()
    a1 = world.children["a1"]
    assert f'value="{a1.pk}"' in detail and world.children["b1"].name not in detail
    from shouhu.audit.models import AccessLog

    assert AccessLog.objects.filter(
        user=world.director_a, purpose="programme_target_list", child_id=a1.pk
    ).exists()
    enrol = reverse("programmes:enrol", args=[programme.pk])
    assert client.post(enrol, {}).status_code == 400
    assert client.post(enrol, {"enrol-children": [a1.pk]}).status_code == 302
    assert programme.enrolments.get().child == a1
    again = client.get(reverse("programmes:detail", args=[programme.pk])).content.decode()
    assert f'name="enrol-children" value="{a1.pk}"' not in again
    # Others of the area see nothing of it.
    other = Client()
    other.force_login(world.director_b)
    assert other.post(enrol, {"enrol-children": [a1.pk]}).status_code == 404


def test_counselling_is_recorded_on_the_childs_page_and_its_notes_stay_with_the_counsellor(
    world: World,
) -> None:
    from django.test import Client
    from django.urls import reverse

    b1 = world.children["b1"]
    counsellor = Client()
    counsellor.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    counsellor.force_login(world.counselor)
    child_page = counsellor.get(reverse("children:detail", args=[b1.pk])).content.decode()
    assert 'data-testid="counselling-link"' in child_page
    url = reverse("programmes:counselling", args=[b1.pk])
    data = {"held_on": str(TODAY), "minutes": "50", "mode": "in_person", "concern": "separation"}
    refused = counsellor.post(url, {**data, "minutes": "0", "concern": ""})
    page = refused.content.decode()
    assert (
        refused.status_code == 400 and 'href="#id_minutes"' in page and 'href="#id_concern"' in page
    )
    saved = counsellor.post(url, {**data, "notes": "想妈妈，夜里哭"})
    assert saved.status_code == 302
    assert "想妈妈，夜里哭" in counsellor.get(url).content.decode()
    from shouhu.audit.models import AccessLog

    reveals = AccessLog.objects.filter(object_type="counselling_notes", child_id=b1.pk)
    assert reveals.filter(user=world.counselor, action="reveal").exists()
    # A teacher of the child's school sees the child, not the counselling.
    teacher = Client()
    teacher.force_login(world.teacher_b)
    assert (
        'data-testid="counselling-link"'
        not in teacher.get(reverse("children:detail", args=[b1.pk])).content.decode()
    )
    assert teacher.get(url).status_code == 403
    # Another worker who may counsel the child reads the session, not its notes.
    from shouhu.children.assignments import assignment_create

    assignment_create(
        actor=None,
        child=b1,
        organisation=world.orgs["swo"],
        kind="counselor",
        user=world.socialworker,
    )
    worker = Client()
    worker.force_login(world.socialworker)
    other = worker.get(url).content.decode()
    assert "Missing parents away" in other or "思念外出父母" in other
    assert "想妈妈" not in other
    assert not reveals.filter(user=world.socialworker).exists()


def test_only_the_organisers_people_facilitate_a_session(world: World, project: Project) -> None:
    """A facilitator sees the participants: someone of another organisation is refused."""
    programme = _programme(world, project)
    with pytest.raises(ValidationError) as outsider:
        running.session_add(
            actor=world.director_a,
            programme=programme,
            starts_at=_at(1),
            minutes=60,
            facilitators=[world.director_b],
        )
    assert "facilitators" in outsider.value.message_dict
    assert not ProgrammeSession.objects.exists()
    session = running.session_add(
        actor=world.director_a,
        programme=programme,
        starts_at=_at(1),
        minutes=60,
        facilitators=[world.director_a],
    )
    assert list(session.facilitators.all()) == [world.director_a]
