"""The pages added for editing the whole file, running a reunion site and a case fit a
360 px phone screen: nothing wider than the screen, every form reachable."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from shouhu.cases import intakes
from shouhu.children.models import FamilyMember
from shouhu.places.models import Place
from shouhu.reunion import sites
from tests.browser.test_flows import log_in
from tests.world import VILLAGE_B, World

pytestmark = pytest.mark.browser


def _fits(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("main")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, (url, width)


def test_new_pages_fit_a_phone(page: Page, live_world: World) -> None:
    a1 = live_world.children["a1"]
    log_in(page, "director_a")
    for url in (
        f"/children/{a1.pk}/household/edit/",
        f"/children/{a1.pk}/members/new/",
        f"/children/{a1.pk}/care/edit/",
        f"/children/{a1.pk}/consents/new/",
        f"/children/{a1.pk}/legal-bases/new/",
        f"/children/{a1.pk}/",
    ):
        _fits(page, url)

    teacher = live_world.users["teacher_b"]
    b1 = live_world.children["b1"]
    windows = [{"day": d, "start": "16:00", "end": "18:00"} for d in range(1, 6)]
    site = sites.site_create(
        actor=teacher,
        organisation=live_world.orgs["school_b"],
        name="亲情室",
        place=Place.objects.get(pk=VILLAGE_B),
        devices=2,
        openings=windows,
    )
    sites.facilitator_set(actor=teacher, site=site, user=teacher, available=windows)
    sites.participant_set(actor=teacher, child=b1, sites=[site])
    father = FamilyMember.objects.get(household_id=b1.household_id, relation="father")
    page.context.clear_cookies()
    log_in(page, "teacher_b")
    for url in (
        "/reunion/sites/new/",
        f"/reunion/sites/{site.pk}/manage/",
        f"/reunion/sites/{site.pk}/",
        f"/children/{b1.pk}/reunion/",
        f"/reunion/parents/{father.pk}/",
    ):
        _fits(page, url)

    case = intakes.case_open(
        actor=live_world.users["socialworker"],
        child=a1,
        channel="service",
        reason="grandmother ill",
        urgency="high",
        consent="guardian",
    )
    page.context.clear_cookies()
    log_in(page, "socialworker")
    _fits(page, f"/cases/{case.pk}/")
    _fits(page, "/cases/intakes/")
