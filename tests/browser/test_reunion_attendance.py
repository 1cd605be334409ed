"""A facilitator marks attendance after an online reunion, on a phone-sized screen, and
comes back to the week of that session."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from shouhu.lib import clock, dates
from shouhu.places.models import Place
from shouhu.reunion import planning, sites
from shouhu.reunion.models import Attendance, Contact, Schedule, Session
from tests.browser.test_flows import log_in
from tests.world import VILLAGE_B, World

pytestmark = pytest.mark.browser


def test_facilitator_marks_attendance(page: Page, live_world: World) -> None:
    teacher = live_world.users["teacher_b"]
    b1 = live_world.children["b1"]
    windows = [{"day": d, "start": "08:00", "end": "20:00"} for d in range(1, 8)]
    site = sites.site_create(
        actor=teacher,
        organisation=live_world.orgs["school_b"],
        name="亲情室",
        place=Place.objects.get(pk=VILLAGE_B),
        devices=1,
        openings=windows,
    )
    sites.facilitator_set(actor=teacher, site=site, user=teacher, available=windows)
    sites.participant_set(actor=teacher, child=b1, sites=[site])
    today = clock.today()
    week = today - dt.timedelta(days=today.isoweekday() - 1)
    schedule = Schedule.objects.create(
        week_start=week,
        organisation=site.organisation,
        created_at=dates.start_of_day(week),
        created_by=teacher,
    )
    session = Session.objects.create(
        schedule=schedule,
        site=site,
        device=site.devices.get(),
        starts_at=dates.start_of_day(today) + dt.timedelta(hours=9),  # begun: it is 10:00
        minutes=20,
        room=planning.room_name(),
    )
    session.children.set([b1])

    log_in(page, "teacher_b")
    page.goto(f"/reunion/sites/{site.pk}/?week={week.isoformat()}")
    page.get_by_test_id(f"attendance-{session.pk}").click()
    card = page.get_by_test_id(f"child-{b1.pk}")
    expect(card).to_contain_text(b1.name)
    card.get_by_label("家长接通").check()
    card.locator("input[type=number]").fill("18")
    card.get_by_label("很开心").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_test_id("attendance-save").click()
    expect(page).to_have_url(re.compile(rf"/reunion/sites/{site.pk}/\?week={week.isoformat()}$"))
    row = Attendance.objects.get(session=session, child=b1)
    assert row.present and row.parent_joined and row.minutes == 18 and row.feeling == 5
    assert Contact.objects.get(child=b1).mode == "reunion"
