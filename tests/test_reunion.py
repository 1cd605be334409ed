"""Online reunions: sites and people, parents' windows, sessions and their rooms, re-planning
what a change affects, attendance, the contact log feeding the risk level, tickets, and the
technology envoy who never reaches a child."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from shouhu.accounts.models import Role
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock, dates
from shouhu.notify.models import ParentMessage
from shouhu.reunion import attendance, notices, planning, replanning, selectors, sites, tickets
from shouhu.reunion.models import Contact, Schedule, Session, SessionStatus, Site, TicketStatus
from shouhu.screening.models import RiskLevel
from tests.world import NOW, TODAY, VILLAGE_B, World, make_user

pytestmark = pytest.mark.django_db

WEEK = TODAY + dt.timedelta(days=14 + (7 - TODAY.weekday()) % 7)  # a Monday, two weeks on
BEFORE = dates.start_of_day(WEEK) - dt.timedelta(days=2)
WEEKDAYS = [{"day": d, "start": "16:00", "end": "18:00"} for d in range(1, 6)]


@pytest.fixture
def site(world: World) -> Site:
    return make_site(world)


def make_site(world: World) -> Site:
    """Two devices, a teacher running it on weekdays, b1 taking part, and b1's father free
    every evening from 16:30."""
    from shouhu.places.models import Place

    site = sites.site_create(
        actor=world.users["teacher_b"],
        organisation=world.orgs["school_b"],
        name="齐山小学亲情室",
        place=Place.objects.get(pk=VILLAGE_B),
        devices=2,
        openings=WEEKDAYS,
    )
    sites.facilitator_set(
        actor=world.users["teacher_b"], site=site, user=world.users["teacher_b"], available=WEEKDAYS
    )
    sites.participant_set(actor=world.users["director_b"], child=world.children["b1"], sites=[site])
    father = FamilyMember.objects.get(
        household_id=world.children["b1"].household_id, relation="father"
    )
    sites.parent_availability_set(
        actor=world.users["director_b"],
        member=father,
        windows=[{"day": d, "start": "16:30", "end": "18:00"} for d in range(1, 8)],
    )
    return site


@pytest.fixture
def envoy(world: World):  # type: ignore[no-untyped-def]
    return make_user("envoy", world.orgs["tech"], Role.TECH_ENVOY)


def _session(world: World, site: Site, day: int = 1, hour: int = 16, minute: int = 40) -> Session:
    schedule = Schedule.objects.create(
        week_start=WEEK,
        organisation=site.organisation,
        created_at=BEFORE,
        created_by=world.users["teacher_b"],
    )
    session = Session.objects.create(
        schedule=schedule,
        site=site,
        device=site.devices.order_by("label").first(),
        starts_at=dates.start_of_day(WEEK + dt.timedelta(days=day - 1))
        + dt.timedelta(hours=hour, minutes=minute),
        minutes=20,
        room=planning.room_name(),
    )
    session.children.set([world.children["b1"]])
    return session


def test_bad_windows_are_refused_with_their_place(world: World, site: Site) -> None:
    with pytest.raises(ValidationError) as bad:
        sites.facilitator_set(
            actor=world.users["teacher_b"],
            site=site,
            user=world.users["teacher_b"],
            available=[{"day": 1, "start": "18:00", "end": "16:00"}],
        )
    assert "available.0" in bad.value.message_dict
    with pytest.raises(ValidationError):
        sites.facilitator_set(
            actor=world.users["teacher_b"],
            site=site,
            user=world.users["teacher_b"],
            available=[{"day": 8, "start": "16:00", "end": "18:00"}],
        )


def test_only_the_director_or_a_facilitator_edits_a_parents_windows(
    world: World, site: Site
) -> None:
    father = FamilyMember.objects.get(
        household_id=world.children["b1"].household_id, relation="father"
    )
    sites.parent_availability_set(actor=world.users["teacher_b"], member=father, windows=WEEKDAYS)
    for persona in ("teacher_a", "director_a", "volunteer"):
        with pytest.raises(PermissionDenied):
            sites.parent_availability_set(actor=world.users[persona], member=father, windows=[])


def test_instance_is_the_documented_json(world: World, site: Site) -> None:
    built = planning.build_instance([site])
    inst = built.instance
    assert inst["slot_minutes"] == 20
    assert inst["sites"] == [{"id": str(site.pk), "devices": 2, "open": WEEKDAYS}]
    assert inst["facilitators"][0]["site"] == str(site.pk)
    (child,) = inst["children"]
    assert child["id"] == str(world.children["b1"].pk) and child["sites"] == [str(site.pk)]
    assert child["sessions"] == 1 and child["priority"] == 3
    assert child["parents"][0]["available"][0] == {"day": 1, "start": "16:30", "end": "18:00"}


def test_red_children_need_two_sessions(world: World, site: Site) -> None:
    RiskLevel.objects.filter(child=world.children["b1"]).update(level="red")
    assert planning.build_instance([site]).instance["children"][0]["sessions"] == 2


def test_room_is_unguessable_and_signed_when_configured(world: World, site: Site, settings) -> None:  # type: ignore[no-untyped-def]
    import jwt

    session = _session(world, site)
    assert len(session.room) > 20 and session.room != _session(world, site).room
    settings.SHOUHU_JITSI_URL = "https://meet.county.example"
    assert notices.room_url(session) == f"https://meet.county.example/{session.room}"
    settings.SHOUHU_JITSI_APP_ID, settings.SHOUHU_JITSI_SECRET = "shouhu", "s" * 32
    token = notices.room_url(session).split("?jwt=")[1]
    claims = jwt.decode(
        token, "s" * 32, algorithms=["HS256"], audience="jitsi", options={"verify_nbf": False}
    )
    assert claims["nbf"] < session.starts_at.timestamp() < claims["exp"]
    assert claims["room"] == session.room and claims["iss"] == "shouhu"


def test_cancel_moves_the_family_and_tells_the_parents(world: World, site: Site, settings) -> None:  # type: ignore[no-untyped-def]
    from shouhu.notify.services import ParentOutbox

    settings.SHOUHU_PARENT_BACKENDS = ["shouhu.notify.services.ParentOutbox"]
    ParentOutbox.outbox.clear()
    session = _session(world, site, day=1)
    moved = replanning.cancel_session(
        actor=world.users["teacher_b"], session=session, reason="父亲加班", now=BEFORE
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    (new,) = moved.sessions
    local = dates.start_of_day(WEEK)
    assert new.starts_at >= local and new.starts_at.astimezone(dates.SHANGHAI).time() >= dt.time(
        16, 30
    )
    assert new.room != session.room and set(new.children.all()) == {world.children["b1"]}
    phones = {phone for phone, _channel, _body in ParentOutbox.outbox}
    assert phones == {"13800138000", "13900139000"}  # both parents away, both told
    body = ParentOutbox.outbox[-1][2]
    assert new.room in body and "齐山小学亲情室" in body
    assert ParentMessage.objects.filter(category="reunion").exists()
    from shouhu.notify.models import Notification

    told = Notification.objects.get(user=world.users["teacher_b"], category="reunion_change")
    assert "→" in told.body and "父亲加班" in told.subject


def test_broken_device_moves_its_sessions(world: World, site: Site, envoy) -> None:  # type: ignore[no-untyped-def]
    session = _session(world, site)
    device = session.device
    tickets.ticket_report(
        actor=world.users["teacher_b"], site=site, device=device, problem="屏幕不亮", now=BEFORE
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED
    moved = Session.objects.get(status=SessionStatus.PLANNED)
    assert moved.device != device
    assert device not in selectors.available_devices(site)
    ticket = device.tickets.get()
    tickets.ticket_take(actor=envoy, ticket=ticket, now=BEFORE + dt.timedelta(hours=1))
    tickets.ticket_resolve(
        actor=envoy, ticket=ticket, resolution="换了电源适配器", now=BEFORE + dt.timedelta(hours=5)
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert (ticket.resolved_at - ticket.reported_at) == dt.timedelta(hours=5)
    assert device in selectors.available_devices(site)
    with pytest.raises(PermissionDenied):
        tickets.ticket_take(actor=world.users["teacher_b"], ticket=ticket)


def started(session: Session) -> time_machine.travel:
    """The clock moved to ten minutes into the session."""
    return time_machine.travel(session.starts_at + dt.timedelta(minutes=10))


def test_attendance_records_contact_and_validates(world: World, site: Site) -> None:
    session = _session(world, site)
    b1 = world.children["b1"]
    traveller = started(session)
    traveller.start()
    with pytest.raises(ValidationError) as bad:
        attendance.attendance_record(
            actor=world.users["teacher_b"],
            session=session,
            rows=[{"child": b1.pk, "present": False, "parent_joined": False}],
        )
    assert "rows.0.no_show_reason" in bad.value.message_dict
    with pytest.raises(PermissionDenied):
        attendance.attendance_record(actor=world.users["teacher_a"], session=session, rows=[])
    attendance.attendance_record(
        actor=world.users["teacher_b"],
        session=session,
        rows=[
            {"child": b1.pk, "present": True, "parent_joined": True, "minutes": 18, "feeling": 5}
        ],
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.HELD
    contact = Contact.objects.get(child=b1)
    assert contact.mode == "reunion" and contact.minutes == 18
    report = selectors.site_week_report(site, WEEK)
    assert report["sessions_held"] == 1 and report["children_reached"] == 1
    traveller.stop()


def test_contact_log_feeds_the_risk_level(world: World) -> None:
    b1 = world.children["b1"]
    today = clock.today()
    attendance.contact_add(
        actor=world.users["director_b"],
        child=b1,
        mode="parent_visit",
        on=today - dt.timedelta(days=400),
    )
    assert RiskLevel.objects.get(child=b1).level == "red"
    indicators = selectors.contact_indicators(b1, today)
    assert indicators["parent_last_seen"] == 2 and indicators["days_since_contact"] == 400
    attendance.contact_add(
        actor=world.users["director_b"],
        child=b1,
        mode="child_visit",
        on=today - dt.timedelta(days=250),
    )
    assert RiskLevel.objects.get(child=b1).level == "yellow"
    attendance.contact_add(actor=world.users["director_b"], child=b1, mode="parent_visit", on=today)
    assert RiskLevel.objects.get(child=b1).level == "green"
    with pytest.raises(ValidationError):
        attendance.contact_add(
            actor=world.users["director_b"], child=b1, mode="telepathy", on=today
        )
    with pytest.raises(PermissionDenied):
        attendance.contact_add(
            actor=world.volunteer, child=world.children["a1"], mode="call", on=today
        )


def test_no_contact_alert_to_the_village_director(world: World, site: Site) -> None:
    from shouhu.notify.models import Notification

    assert attendance.no_contact_alerts(days=7) == 1
    assert Notification.objects.filter(
        user=world.users["director_b"], category="no_contact"
    ).exists()
    attendance.contact_add(
        actor=world.users["director_b"], child=world.children["b1"], mode="call", on=clock.today()
    )
    assert attendance.no_contact_alerts(days=7) == 0


def test_technology_envoy_sees_tickets_and_sites_never_children(
    world: World, site: Site, envoy
) -> None:  # type: ignore[no-untyped-def]
    session = _session(world, site)
    tickets.ticket_report(actor=world.users["teacher_b"], site=site, problem="网络断了")
    client = Client()
    client.force_login(envoy)
    assert "网络断了" in client.get(reverse("reunion:tickets")).content.decode()
    week = client.get(reverse("reunion:site", args=[site.pk]), {"week": WEEK.isoformat()})
    assert week.status_code == 200 and "李娜" not in week.content.decode()
    b1 = world.children["b1"]
    for url in (
        reverse("children:detail", args=[b1.pk]),
        reverse("reunion:attendance", args=[session.pk]),
        reverse("reunion:contacts", args=[b1.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert not client.get(reverse("children:list")).content.decode().count("李娜")
    from shouhu import access

    assert not access.children_visible_to(envoy).exists()
    facilitator = Client()
    facilitator.force_login(world.users["teacher_b"])
    page = facilitator.get(reverse("reunion:site", args=[site.pk]), {"week": WEEK.isoformat()})
    assert "李娜" in page.content.decode()


def test_envoy_or_volunteer_of_the_sites_own_organisation_sees_no_children(
    world: World, site: Site
) -> None:
    """Belonging to the site's organisation is not enough: an envoy keeps devices working and
    a volunteer sees children only as the site's facilitator."""
    session = _session(world, site)
    for role in (Role.TECH_ENVOY, Role.VOLUNTEER):
        user = make_user(f"own-{role}", site.organisation, role)
        client = Client()
        client.force_login(user)
        week = client.get(reverse("reunion:site", args=[site.pk]), {"week": WEEK.isoformat()})
        assert "李娜" not in week.content.decode(), role
        assert client.get(reverse("reunion:attendance", args=[session.pk])).status_code == 404


def test_attendance_page(world: World, site: Site) -> None:
    session = _session(world, site)
    b1 = world.children["b1"]
    client = Client()
    client.force_login(world.users["teacher_b"])
    page = client.get(reverse("reunion:attendance", args=[session.pk])).content.decode()
    assert 'data-testid="room-link"' in page and session.room in page
    session.starts_at = NOW - dt.timedelta(minutes=30)  # it has begun
    session.save(update_fields=["starts_at"])
    response = client.post(
        reverse("reunion:attendance", args=[session.pk]),
        {
            f"c{b1.pk}-present": "1",
            f"c{b1.pk}-joined": "1",
            f"c{b1.pk}-minutes": "15",
            f"c{b1.pk}-feeling": "4",
        },
    )
    assert response.status_code == 302
    assert Child.objects.get(pk=b1.pk).contacts.get().minutes == 15  # type: ignore[attr-defined]
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    assert response["Location"].endswith(f"/reunion/sites/{site.pk}/?week={monday.isoformat()}")


def _api(username: str) -> tuple[Client, dict[str, str]]:
    from tests.test_api_auth import bearer, token_for

    client = Client()
    return client, bearer(token_for(client, username))


def test_api_sites_schedule_attendance_and_contacts(world: World, site: Site, envoy) -> None:  # type: ignore[no-untyped-def]
    session = _session(world, site)
    b1 = world.children["b1"]
    client, auth = _api("teacher_b")
    sites = client.get("/api/v1/reunion/sites", **auth).json()["items"]
    assert [s["id"] for s in sites] == [site.pk] and len(sites[0]["devices"]) == 2
    week = client.get(f"/api/v1/reunion/sites/{site.pk}/schedule", {"week": WEEK}, **auth).json()
    assert week["items"][0]["children"] == [b1.pk] and session.room in week["items"][0]["room_url"]
    with started(session):
        client, auth = _api("teacher_b")  # a token of that day
        marked = client.post(
            f"/api/v1/reunion/sessions/{session.pk}/attendance",
            {"rows": [{"child": b1.pk, "present": True, "parent_joined": True, "minutes": 12}]},
            content_type="application/json",
            **auth,
        )
        log = client.get(f"/api/v1/children/{b1.pk}/contacts", **auth).json()
    assert marked.status_code == 200 and marked.json()["status"] == "held"
    assert log["items"][0]["mode"] == "reunion" and log["indicators"]["days_since_contact"] == 0
    client, auth = _api("teacher_b")
    bad = client.post(
        f"/api/v1/children/{b1.pk}/contacts",
        {"mode": "pigeon", "on": "2026-11-01"},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 400
    father = FamilyMember.objects.get(household_id=b1.household_id, relation="father")
    put = client.put(
        f"/api/v1/reunion/parents/{father.pk}/availability",
        {"channel": "sms", "windows": [{"day": 6, "start": "09:00", "end": "11:00"}]},
        content_type="application/json",
        **auth,
    )
    assert put.status_code == 200 and put.json()["windows"] == [
        {"day": 6, "start": "09:00", "end": "11:00"}
    ]
    envoy_client, envoy_auth = _api("envoy")
    seen = envoy_client.get(
        f"/api/v1/reunion/sites/{site.pk}/schedule", {"week": WEEK}, **envoy_auth
    )
    assert seen.status_code == 200 and "children" not in seen.json()["items"][0]
    assert envoy_client.get(f"/api/v1/children/{b1.pk}/contacts", **envoy_auth).status_code == 404
    assert (
        envoy_client.post(
            f"/api/v1/reunion/sessions/{session.pk}/attendance",
            {"rows": []},
            content_type="application/json",
            **envoy_auth,
        ).status_code
        == 404
    )


def test_plan_week_serves_families_together_and_tells_everyone(
    world: World,
    site: Site,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    from shouhu.children import registration
    from shouhu.children.data import HouseholdData
    from shouhu.lib import reunion_solver
    from shouhu.notify.models import Notification
    from shouhu.notify.services import ParentOutbox
    from tests.world import child_data

    settings.SHOUHU_PARENT_BACKENDS = ["shouhu.notify.services.ParentOutbox"]
    ParentOutbox.outbox.clear()
    b1 = world.children["b1"]
    sibling = registration.child_register(
        actor=world.users["director_b"],
        child=child_data("李强", VILLAGE_B, school_id=world.orgs["school_b"].pk),
        household_id=b1.household_id,
    )
    sites.participant_set(actor=world.users["director_b"], child=sibling, sites=[site])
    lonely = registration.child_register(  # no parent windows: cannot be served
        actor=world.users["director_b"],
        child=child_data("王五", VILLAGE_B),
        household=HouseholdData(village_code=VILLAGE_B),
    )
    sites.participant_set(actor=world.users["director_b"], child=lonely, sites=[site])
    schedule = planning.plan_week(
        actor=world.users["teacher_b"],
        organisation=world.orgs["school_b"],
        week_start=WEEK,
        now=BEFORE,
    )
    (session,) = Session.objects.filter(schedule=schedule)
    assert set(session.children.all()) == {b1, sibling}  # one family session
    local = session.starts_at.astimezone(dates.SHANGHAI)
    assert local.date() >= WEEK and dt.time(16, 30) <= local.time() <= dt.time(17, 40)
    assert schedule.unserved == [str(lonely.pk)]
    assert schedule.stats["children_served"] == 2
    assert schedule.stats["upper_bound"] >= schedule.stats["children_served"]
    assert {phone for phone, _c, _b in ParentOutbox.outbox} == {"13800138000", "13900139000"}
    assert Notification.objects.filter(user=world.users["teacher_b"], category="reunion").exists()
    built = planning.build_instance([site])
    assert reunion_solver.check_plan(built.instance, reunion_solver.solve(built.instance)) == []
    with pytest.raises(ValidationError):
        planning.plan_week(
            actor=world.users["teacher_b"],
            organisation=world.orgs["school_b"],
            week_start=WEEK + dt.timedelta(days=1),
        )
    with pytest.raises(PermissionDenied):
        planning.plan_week(
            actor=world.users["teacher_a"], organisation=world.orgs["school_b"], week_start=WEEK
        )


def test_parents_are_reminded_once_before_the_session(world: World, site: Site, settings) -> None:  # type: ignore[no-untyped-def]
    from shouhu.notify.services import ParentOutbox

    settings.SHOUHU_PARENT_BACKENDS = ["shouhu.notify.services.ParentOutbox"]
    ParentOutbox.outbox.clear()
    session = _session(world, site)
    assert notices.remind_sessions(now=session.starts_at - dt.timedelta(hours=3)) == 0
    assert notices.remind_sessions(now=session.starts_at - dt.timedelta(hours=1)) == 1
    assert notices.remind_sessions(now=session.starts_at - dt.timedelta(minutes=30)) == 0
    assert len(ParentOutbox.outbox) == 2 and session.room in ParentOutbox.outbox[0][2]
