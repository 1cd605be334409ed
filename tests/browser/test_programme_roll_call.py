"""A child director takes the roll call of a group activity on a phone-sized screen: adds a
walk-in found by name, one tap per child, one save, and the attendance is on record."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from shouhu.lib import clock, dates
from shouhu.programmes import running
from shouhu.programmes.models import Attendance, Design, Enrolment, Kind
from tests.browser.test_flows import log_in
from tests.world import VILLAGE_A, World, child_data, register

pytestmark = pytest.mark.browser


def test_a_roll_call_on_a_phone(page: Page, live_world: World) -> None:
    director = live_world.users["director_a"]
    design = Design.objects.filter(organisation=None, kind=Kind.GROUP_ACTIVITY).first()
    assert design is not None
    today = clock.today()
    programme = running.programme_create(
        actor=director,
        organisation=live_world.orgs["village_a"],
        design=design,
        title="情绪小怪兽",
        starts_on=today - dt.timedelta(days=7),
        ends_on=today + dt.timedelta(days=30),
    )
    kids = [live_world.children["a1"], register(director, child_data("赵小雨", VILLAGE_A))]
    came = register(director, child_data("钱多多", VILLAGE_A))
    enrolled = [running.enrol(actor=director, programme=programme, child=c) for c in kids]
    session = running.session_add(
        actor=director,
        programme=programme,
        starts_at=dates.start_of_day(today) + dt.timedelta(hours=8),  # begun: it is 10:00
        minutes=90,
    )

    log_in(page, "director_a")
    page.goto(f"/programmes/{programme.pk}/")
    page.get_by_test_id(f"roll-call-{session.pk}").click()
    # 钱多多 came with a friend: found by name and added before the marks are made.
    page.get_by_test_id("walk-ins").locator("summary").click()
    page.get_by_label("姓名").fill("多多")
    page.get_by_test_id("walk-in-search").get_by_role("button").click()
    page.get_by_role("button", name="添加 钱多多").click()
    expect(page.locator("body")).to_contain_text("已添加临时参加者")
    walk_in = Enrolment.objects.get(programme=programme, child=came)
    expect(page.get_by_test_id(f"participant-{walk_in.pk}")).to_contain_text("钱多多")
    absent = page.get_by_test_id(f"participant-{enrolled[1].pk}")
    expect(absent).to_contain_text("赵小雨")
    absent.get_by_label("缺席").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_test_id("roll-call-save").click()
    expect(page).to_have_url(re.compile(rf"/programmes/{programme.pk}/$"))
    expect(page.locator("body")).to_contain_text("已保存")
    marks = dict(Attendance.objects.filter(session=session).values_list("enrolment_id", "status"))
    assert marks == {enrolled[0].pk: "present", enrolled[1].pk: "absent", walk_in.pk: "present"}
