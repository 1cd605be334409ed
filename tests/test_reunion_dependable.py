"""Issue 10, section 4 ("nothing silently cancelled") and the reunion parts of sections 2
and 6: a change re-plans through the solver and accounts for every child; attendance only
once a session has begun; no negative days in the contact log; planning by the site's
managers and never in the past; no 500 on unknown input; reads of children and of a
parent's phone logged with the children."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from shouhu.accounts.models import Role
from shouhu.audit.models import AccessLog, Action
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import dates
from shouhu.notify.models import Notification
from shouhu.reunion import attendance, planning, replanning, selectors, sites, tickets, windows
from shouhu.reunion.models import (
    Contact,
    ParentAvailability,
    Rebooking,
    Schedule,
    Session,
    SessionStatus,
    Site,
    TicketStatus,
    UnservedReason,
)
from tests.test_reunion import BEFORE, WEEK, make_site
from tests.world import NOW, TODAY, VILLAGE_B, World, child_data, make_user, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(world: World) -> Site:
    return make_site(world)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(username: str) -> tuple[Client, dict[str, str]]:
    from tests.test_api_auth import bearer, token_for

    client = Client()
    return client, bearer(token_for(client, username))


def _at(day: int, hour: int, minute: int) -> dt.datetime:
    return dates.start_of_day(WEEK + dt.timedelta(days=day - 1)) + dt.timedelta(
        hours=hour, minutes=minute
    )


def _family(world: World, name: str, windows: list[dict[str, Any]] | None) -> Child:
    """A child of a new household in village B, with both parents away, enrolled at the
    site; the father can take calls in `windows` (None: no times recorded)."""
    child = register(world.users["director_b"], child_data(name, VILLAGE_B))
    site = Site.objects.get()
    sites.participant_set(actor=world.users["director_b"], child=child, sites=[site])
    if windows is not None:
        father = FamilyMember.objects.get(household_id=child.household_id, relation="father")
        sites.parent_availability_set(
            actor=world.users["director_b"], member=father, windows=windows
        )
    return child


def _book(
    schedule: Schedule, site: Site, device: int, at: dt.datetime, kids: list[Child]
) -> Session:
    session = Session.objects.create(
        schedule=schedule,
        site=site,
        device=site.devices.order_by("label")[device - 1],
        starts_at=at,
        minutes=20,
        room=planning.room_name(),
    )
    session.children.set(kids)
    return session


def _busy_device(world: World, site: Site) -> dict[str, Any]:
    """Device 1 carries eight families' sessions; device 2 is taken at the times of two of
    them. 刘一 can only call on Monday 16:40-17:00 (device 2 is taken then) and 陈二's
    parents' times have been deleted since the plan: neither can be rebooked."""
    evenings = [{"day": d, "start": "16:00", "end": "18:00"} for d in range(1, 6)]
    movable = [_family(world, f"孩子{i}", evenings) for i in range(6)]
    only_then = _family(world, "刘一", [{"day": 1, "start": "16:40", "end": "17:00"}])
    no_times = _family(world, "陈二", evenings)
    schedule = Schedule.objects.create(
        week_start=WEEK,
        organisation=site.organisation,
        created_at=BEFORE,
        created_by=world.users["teacher_b"],
    )
    on_one = [
        _book(schedule, site, 1, _at(1, 16, 40), [only_then]),
        _book(schedule, site, 1, _at(2, 16, 40), [no_times]),
        *(
            _book(schedule, site, 1, _at(3 + i % 3, 16, 20 * (i // 3)), [c])
            for i, c in enumerate(movable)
        ),
    ]
    others = register(world.users["director_b"], child_data("占位", VILLAGE_B))
    _book(schedule, site, 2, _at(1, 16, 40), [others])
    _book(schedule, site, 2, _at(3, 16, 0), [others])
    ParentAvailability.objects.filter(member__household_id=no_times.household_id).delete()
    return {
        "sessions": on_one,
        "movable": movable,
        "only_then": only_then,
        "no_times": no_times,
        "device": on_one[0].device,
    }


# ---------------------------------------------------------------- 1: re-planning


def test_a_fault_on_a_busy_device_rebooks_everyone_it_can_through_the_solver(
    world: World, site: Site, settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from shouhu.lib import reunion_solver
    from shouhu.notify.services import ParentOutbox

    settings.SHOUHU_PARENT_BACKENDS = ["shouhu.notify.services.ParentOutbox"]
    ParentOutbox.outbox.clear()
    calls: list[dict[str, Any]] = []
    solve = reunion_solver.solve

    def spy(instance: Any, **kw: Any) -> dict[str, Any]:
        calls.append(instance)
        return solve(instance, **kw)

    monkeypatch.setattr(reunion_solver, "solve", spy)
    world_ = _busy_device(world, site)
    device = world_["device"]
    reported = tickets.ticket_report(
        actor=world.users["teacher_b"], site=site, device=device, problem="屏幕不亮", now=BEFORE
    )
    assert calls, "the re-planning goes through the solver"
    assert all(s.status == SessionStatus.CANCELLED for s in Session.objects.filter(device=device))
    done = reported.replanned
    assert len(done.rebookings) == 8  # every child of the 8 lost sessions is accounted for
    for child in world_["movable"]:
        (rebooking,) = Rebooking.objects.filter(child=child)
        new = rebooking.new_session
        assert new is not None and new.status == SessionStatus.PLANNED, child.name
        assert new.device != device and new.starts_at > BEFORE
        local = new.starts_at.astimezone(dates.SHANGHAI)
        assert local.isoweekday() <= 5 and dt.time(16) <= local.time() <= dt.time(17, 40)
    # device 2 never holds two sessions at once
    taken = [s.starts_at for s in Session.objects.filter(status="planned", device__label="2")]
    assert len(taken) == len(set(taken))
    unserved = {r.child: r.unserved_reason for r in done.unserved}
    assert unserved == {
        world_["only_then"]: UnservedReason.ALL_TAKEN,
        world_["no_times"]: UnservedReason.NO_PARENT_TIMES,
    }

    # the week page names each child who could not be rebooked, with the reason, and the
    # device shows its ticket
    page = _client(world.users["teacher_b"]).get(
        reverse("reunion:site", args=[site.pk]), {"week": WEEK.isoformat()}
    )
    text = page.content.decode()
    unserved_block = text.split('data-testid="unserved"')[1].split("</div>")[0]
    assert "刘一" in unserved_block and str(UnservedReason.ALL_TAKEN.label) in unserved_block
    assert "陈二" in unserved_block and str(UnservedReason.NO_PARENT_TIMES.label) in unserved_block
    device_text = text.split(f'data-testid="device-{device.pk}"')[1].split("</span>")[0]
    assert "已报修" in device_text and str(TicketStatus.OPEN.label) in device_text

    # the facilitator and the village's child director are told names, old → new times
    for user in (world.users["teacher_b"], world.users["director_b"]):
        told = Notification.objects.get(user=user, category="reunion_change")
        for child in [*world_["movable"], world_["only_then"], world_["no_times"]]:
            assert child.name in told.body, (user, child.name)
        assert "→ —" not in told.body
        first = world_["sessions"][0].starts_at.astimezone(dates.SHANGHAI)
        assert f"{first.month}月{first.day}日（周一）16:40" in told.body
        assert str(UnservedReason.ALL_TAKEN.label) in told.body
    # the parents: the new time and the old one; or why no new time was found
    mover = world_["movable"][0]
    rebooked = Rebooking.objects.get(child=mover)
    assert rebooked.new_session is not None
    old, new = rebooked.session.starts_at, rebooked.new_session.starts_at
    bodies = [body for _phone, _channel, body in ParentOutbox.outbox]
    assert any(
        mover.name in b and windows.when_text(old) in b and windows.when_text(new) in b
        for b in bodies
    )
    assert any("刘一" in b and str(UnservedReason.ALL_TAKEN.label) in b for b in bodies)


def test_the_api_week_lists_the_children_not_rebooked(world: World, site: Site) -> None:
    world_ = _busy_device(world, site)
    tickets.ticket_report(
        actor=world.users["teacher_b"],
        site=site,
        device=world_["device"],
        problem="没声音",
        now=BEFORE,
    )
    api, auth = _api("teacher_b")
    week = api.get(f"/api/v1/reunion/sites/{site.pk}/schedule", {"week": WEEK}, **auth).json()
    assert {u["child"] for u in week["unserved"]} == {
        world_["only_then"].pk,
        world_["no_times"].pk,
    }


def test_a_cancelled_time_is_not_offered_again_but_a_broken_device_keeps_the_time(
    world: World, site: Site
) -> None:
    """The father can call only on Monday 16:40-17:00: a broken device moves the family to
    the other device at that time; a cancellation because he cannot make it finds none."""
    b1 = world.children["b1"]
    father = FamilyMember.objects.get(household_id=b1.household_id, relation="father")
    sites.parent_availability_set(
        actor=world.users["director_b"],
        member=father,
        windows=[{"day": 1, "start": "16:40", "end": "17:00"}],
    )
    schedule = Schedule.objects.create(
        week_start=WEEK,
        organisation=site.organisation,
        created_at=BEFORE,
        created_by=world.users["teacher_b"],
    )
    first = _book(schedule, site, 1, _at(1, 16, 40), [b1])
    moved = tickets.ticket_report(
        actor=world.users["teacher_b"], site=site, device=first.device, problem="坏了", now=BEFORE
    ).replanned.sessions
    assert [(s.starts_at, s.device.label) for s in moved] == [(first.starts_at, "2")]
    done = replanning.cancel_session(
        actor=world.users["teacher_b"], session=moved[0], reason="父亲加班", now=BEFORE
    )
    assert not done.sessions
    assert [(r.child, r.unserved_reason) for r in done.unserved] == [(b1, UnservedReason.NO_TIME)]


def test_an_absent_facilitator_re_plans_through_the_solver(world: World, site: Site) -> None:
    b1 = world.children["b1"]
    schedule = Schedule.objects.create(
        week_start=WEEK,
        organisation=site.organisation,
        created_at=BEFORE,
        created_by=world.users["teacher_b"],
    )
    lost = _book(schedule, site, 1, _at(2, 16, 40), [b1])
    done = replanning.facilitator_absent(
        actor=world.users["teacher_b"],
        facilitator=site.facilitators.get(),
        on=WEEK + dt.timedelta(days=1),
        now=BEFORE,
    )
    (new,) = done.sessions
    assert new.starts_at.astimezone(dates.SHANGHAI).date() != WEEK + dt.timedelta(days=1)
    assert Rebooking.objects.get(session=lost, child=b1).new_session == new


# ---------------------------------------------------------------- 2: attendance, contacts


def test_attendance_is_refused_before_the_session_begins(world: World, site: Site) -> None:
    b1 = world.children["b1"]
    schedule = Schedule.objects.create(
        week_start=WEEK,
        organisation=site.organisation,
        created_at=BEFORE,
        created_by=world.users["teacher_b"],
    )
    session = _book(schedule, site, 1, _at(1, 16, 40), [b1])
    row = {"child": b1.pk, "present": True, "parent_joined": True, "minutes": 15}
    with pytest.raises(ValidationError) as refused:
        attendance.attendance_record(actor=world.users["teacher_b"], session=session, rows=[row])
    assert "16:40" in " ".join(refused.value.messages)
    page = _client(world.users["teacher_b"]).post(
        reverse("reunion:attendance", args=[session.pk]),
        {f"c{b1.pk}-present": "1", f"c{b1.pk}-joined": "1", f"c{b1.pk}-minutes": "15"},
    )
    assert page.status_code == 400 and "16:40" in page.content.decode()
    assert 'value="15"' in page.content.decode()  # what was typed is kept
    api, auth = _api("teacher_b")
    answer = api.post(
        f"/api/v1/reunion/sessions/{session.pk}/attendance",
        {"rows": [row]},
        content_type="application/json",
        **auth,
    )
    assert answer.status_code == 400
    assert not Contact.objects.exists()  # no contact dated in the future
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED


def test_saved_attendance_returns_to_the_sessions_week(world: World, site: Site) -> None:
    b1 = world.children["b1"]
    last_week = TODAY - dt.timedelta(days=TODAY.weekday() + 7)
    schedule = Schedule.objects.create(
        week_start=last_week,
        organisation=site.organisation,
        created_at=BEFORE,
        created_by=world.users["teacher_b"],
    )
    at = dates.start_of_day(last_week + dt.timedelta(days=2)) + dt.timedelta(hours=16, minutes=40)
    session = _book(schedule, site, 1, at, [b1])
    response = _client(world.users["teacher_b"]).post(
        reverse("reunion:attendance", args=[session.pk]),
        {f"c{b1.pk}-present": "1", f"c{b1.pk}-joined": "1", f"c{b1.pk}-minutes": "15"},
    )
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("reunion:site", args=[site.pk]) + f"?week={last_week.isoformat()}"
    )


def test_the_contact_log_never_counts_negative_days(world: World, site: Site) -> None:
    b1 = world.children["b1"]
    with pytest.raises(ValidationError):
        attendance.contact_add(
            actor=world.users["director_b"],
            child=b1,
            mode="call",
            on=TODAY + dt.timedelta(days=3),
        )
    # a row dated ahead (kept from before the rule) is not a contact yet
    Contact.objects.create(
        child=b1,
        mode="call",
        on=TODAY + dt.timedelta(days=3),
        recorded_by=world.users["director_b"],
    )
    assert selectors.contact_indicators(b1)["days_since_contact"] is None
    Contact.objects.create(
        child=b1,
        mode="call",
        on=TODAY - dt.timedelta(days=2),
        recorded_by=world.users["director_b"],
    )
    assert selectors.contact_indicators(b1)["days_since_contact"] == 2
    client = _client(world.users["director_b"])
    bad = client.post(
        reverse("reunion:contacts", args=[b1.pk]),
        {"mode": "call", "on": (TODAY + dt.timedelta(days=1)).isoformat(), "note": "打过电话"},
    )
    assert bad.status_code == 400 and "打过电话" in bad.content.decode()
    assert (
        client.post(
            reverse("reunion:contacts", args=[b1.pk]), {"mode": "call", "on": "2026-02-30"}
        ).status_code
        == 400
    )


# ---------------------------------------------------------------- 3: planning


def test_a_week_in_the_past_is_not_planned(world: World, site: Site) -> None:
    last_week = TODAY - dt.timedelta(days=TODAY.weekday() + 7)
    with pytest.raises(ValidationError) as refused:
        planning.plan_week(
            actor=world.users["teacher_b"], organisation=site.organisation, week_start=last_week
        )
    assert "week" in refused.value.message_dict
    page = _client(world.users["teacher_b"]).post(
        reverse("reunion:plan"),
        {"organisation": site.organisation.pk, "week": last_week.isoformat()},
    )
    assert page.status_code == 400 and not Schedule.objects.exists()
    api, auth = _api("teacher_b")
    answer = api.post(
        "/api/v1/reunion/plan",
        {"organisation": site.organisation.pk, "week": last_week.isoformat()},
        content_type="application/json",
        **auth,
    )
    assert answer.status_code == 400 and not Schedule.objects.exists()


def test_this_week_is_planned_from_now_on(world: World, site: Site) -> None:
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    schedule = planning.plan_week(
        actor=world.users["teacher_b"], organisation=site.organisation, week_start=monday
    )
    assert all(s.starts_at > NOW for s in schedule.sessions.all())


def test_only_the_sites_managers_plan(world: World, site: Site) -> None:
    own_volunteer = make_user("own-volunteer", site.organisation, Role.VOLUNTEER)
    own_envoy = make_user("own-envoy", site.organisation, Role.TECH_ENVOY)
    for user in (own_volunteer, own_envoy, world.users["teacher_a"]):
        with pytest.raises(PermissionDenied):
            planning.plan_week(actor=user, organisation=site.organisation, week_start=WEEK)
        page = _client(user).post(
            reverse("reunion:plan"),
            {"organisation": site.organisation.pk, "week": WEEK.isoformat()},
        )
        assert page.status_code == 403, user
    api, auth = _api("own-volunteer")
    answer = api.post(
        "/api/v1/reunion/plan",
        {"organisation": site.organisation.pk, "week": WEEK.isoformat()},
        content_type="application/json",
        **auth,
    )
    assert answer.status_code == 403
    assert not Schedule.objects.exists()
    plan_forms = _client(own_volunteer).get(reverse("reunion:sites")).content.decode()
    assert f'data-testid="plan-{site.organisation.pk}"' not in plan_forms


# ---------------------------------------------------------------- 4: unknown input


@pytest.mark.parametrize(
    "data",
    [
        {"site": "abc", "problem": "坏了"},
        {"site": "²", "problem": "坏了"},
        {"site": "", "problem": "坏了"},
        {"problem": "坏了"},
        {"site": "999999999999999999999", "problem": "坏了"},
        {"site": "{site}", "device": "abc", "problem": "坏了"},
    ],
)
def test_a_ticket_with_unknown_ids_is_a_form_error(
    world: World, site: Site, data: dict[str, str]
) -> None:
    data = {k: v.format(site=site.pk) for k, v in data.items()}
    response = _client(world.users["teacher_b"]).post(reverse("reunion:tickets"), data)
    assert response.status_code == 400
    assert 'data-testid="form-errors"' in response.content.decode()
    assert "坏了" in response.content.decode()  # what was typed is kept


def test_unknown_input_in_reunion_forms_is_never_a_500(world: World, site: Site) -> None:
    client = _client(world.users["teacher_b"])
    schedule = Schedule.objects.create(
        week_start=WEEK,
        organisation=site.organisation,
        created_at=BEFORE,
        created_by=world.users["teacher_b"],
    )
    session = _book(schedule, site, 1, NOW - dt.timedelta(minutes=30), [world.children["b1"]])
    b1 = world.children["b1"]
    father = FamilyMember.objects.get(household_id=b1.household_id, relation="father")
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("get", reverse("reunion:site", args=[site.pk]), {"week": "2026-02-30"}),
        ("get", reverse("reunion:site", args=[site.pk]), {"week": "abc"}),
        ("post", reverse("reunion:plan"), {"organisation": "abc", "week": "x"}),
        ("post", reverse("reunion:plan"), {}),
        ("post", reverse("reunion:absent", args=[site.pk]), {"on": "2026-13-01"}),
        ("post", reverse("reunion:absent", args=[site.pk]), {"facilitator": "abc", "on": ""}),
        ("post", reverse("reunion:cancel", args=[session.pk]), {}),
        (
            "post",
            reverse("reunion:attendance", args=[session.pk]),
            {f"c{b1.pk}-minutes": "abc", f"c{b1.pk}-feeling": "9"},
        ),
        ("post", reverse("reunion:ticket_resolve", args=[1]), {"resolution": ""}),
        ("get", reverse("reunion:parent_windows", args=[father.pk]), {"child": "²"}),
        ("post", reverse("reunion:site_manage", args=[site.pk]), {"site-place": "abc"}),
        ("post", reverse("reunion:device_add", args=[site.pk]), {"device-status": "²"}),
        (
            "post",
            reverse("reunion:facilitator_add", args=[site.pk]),
            {"facilitator-person": "²", "facilitator-avail-TOTAL_FORMS": "x"},
        ),
        ("post", reverse("reunion:participant", args=[b1.pk]), {"sites": ["abc"], "sessions": "²"}),
    ]
    for method, url, data in cases:
        response = getattr(client, method)(url, data)
        assert response.status_code in (200, 302, 400, 404), (url, data, response.status_code)


# ---------------------------------------------------------------- 5: the access log


def test_a_revealed_parent_phone_is_logged_with_the_children(world: World, site: Site) -> None:
    b1 = world.children["b1"]
    father = FamilyMember.objects.get(household_id=b1.household_id, relation="father")
    page = _client(world.users["director_b"]).get(
        reverse("reunion:parent_windows", args=[father.pk])
    )
    assert "13800138000" in page.content.decode()
    reveal = AccessLog.objects.filter(action=Action.REVEAL, purpose="parent_windows")
    assert set(reveal.values_list("child_id", flat=True)) == {b1.pk}
    api, auth = _api("director_b")
    got = api.get(f"/api/v1/reunion/parents/{father.pk}/availability", **auth)
    assert got.json()["phone"] == "13800138000"
    reveal = AccessLog.objects.filter(action=Action.REVEAL, purpose="api_parent_windows")
    assert set(reveal.values_list("child_id", flat=True)) == {b1.pk}


def test_the_api_week_logs_the_children_it_returns(world: World, site: Site) -> None:
    b1 = world.children["b1"]
    sibling = register(world.users["director_b"], child_data("李强", VILLAGE_B))
    schedule = Schedule.objects.create(
        week_start=WEEK,
        organisation=site.organisation,
        created_at=BEFORE,
        created_by=world.users["teacher_b"],
    )
    _book(schedule, site, 1, _at(1, 16, 40), [b1])
    _book(schedule, site, 2, _at(1, 16, 40), [sibling])
    api, auth = _api("teacher_b")
    week = api.get(f"/api/v1/reunion/sites/{site.pk}/schedule", {"week": WEEK}, **auth).json()
    assert sorted(c for item in week["items"] for c in item["children"]) == sorted(
        [b1.pk, sibling.pk]
    )
    logged = AccessLog.objects.filter(user=world.users["teacher_b"], purpose="api_reunion_schedule")
    assert set(logged.values_list("child_id", flat=True)) == {b1.pk, sibling.pk}
    envoy = make_user("envoy", world.orgs["tech"], Role.TECH_ENVOY)
    envoy_api, envoy_auth = _api(envoy.username)
    envoy_api.get(f"/api/v1/reunion/sites/{site.pk}/schedule", {"week": WEEK}, **envoy_auth)
    assert not AccessLog.objects.filter(user=envoy, action=Action.LIST_CHILDREN).exists()


def test_a_session_is_cancelled_through_the_api_as_on_the_page(world: World, site: Site) -> None:
    b1 = world.children["b1"]
    schedule = Schedule.objects.create(
        week_start=WEEK,
        organisation=site.organisation,
        created_at=BEFORE,
        created_by=world.users["teacher_b"],
    )
    session = _book(schedule, site, 1, _at(2, 16, 40), [b1])
    url = f"/api/v1/reunion/sessions/{session.pk}/cancel"
    outsider, outsider_auth = _api("director_a")
    assert (
        outsider.post(url, {"reason": "x"}, "application/json", **outsider_auth).status_code == 404
    )
    api, auth = _api("teacher_b")
    refused = api.post(url, {"reason": ""}, "application/json", **auth)
    assert refused.status_code in (400, 422), refused.content
    session.refresh_from_db()
    assert session.status == "planned"
    done = api.post(url, {"reason": "父亲加班"}, "application/json", **auth)
    assert done.status_code == 200, done.content
    body = done.json()
    session.refresh_from_db()
    assert session.status != "planned"
    moved = {s["id"] for s in body["moved"]}
    assert moved or [u["child"] for u in body["unserved"]] == [b1.pk]
    assert AccessLog.objects.filter(purpose="api_reunion_cancel", child_id=b1.pk).exists()
