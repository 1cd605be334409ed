"""The everyday path of a village child director, in a real browser on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.world import BORN, ID_A1, PASSWORD, World

pytestmark = pytest.mark.browser


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_log_in_and_switch_language(page: Page, live_world: World) -> None:
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("h1")).to_have_text("登录守护")
    log_in(page, "director_a")
    expect(page.get_by_text("张伟")).to_be_visible()
    page.locator("#language-select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.locator("#language-select").select_option("zh-hans")
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def test_child_outside_scope_is_refused(page: Page, live_world: World) -> None:
    log_in(page, "teacher_a")
    response = page.goto(f"/children/{live_world.children['b1'].pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_text("李娜")).to_have_count(0)
    own = page.goto(f"/children/{live_world.children['a1'].pk}/")
    assert own is not None and own.status == 200
    expect(page.get_by_text("张伟").first).to_be_visible()


def test_register_a_child_then_find_them_by_pinyin_and_open_the_file(
    page: Page, live_world: World
) -> None:
    log_in(page, "director_a")
    page.goto("/children/new/")
    page.locator("#id_name").fill("欧阳娜娜")
    page.locator("#id_sex").select_option("F")
    page.locator("#id_birth_date").fill("2016-05-04")
    page.locator("#id_residence_code").select_option("341524101204")
    page.locator("#id_living_arrangement").select_option("grandparents")
    page.locator("#id_members-0-name").fill("欧阳强")
    page.locator("#id_members-0-away").check()
    page.locator("#id_members-0-away_place_code").fill("330106000000")
    page.locator("#id_members-0-away_since").fill("2024-03-01")
    page.locator("#id_members-0-away_reason").select_option("work")
    page.locator("#id_members-1-name").fill("李梅")
    page.locator("#id_members-1-away").check()
    page.locator("#id_members-1-away_place_code").fill("330106000000")
    page.locator("#id_members-1-away_since").fill("2024-03-01")
    page.locator("#id_members-1-away_reason").select_option("work")
    page.locator("form[data-testid=register-form] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/children/\d+/$"))
    expect(page.locator("h1")).to_have_text("欧阳娜娜")
    expect(page.locator(".badge", has_text="农村留守儿童（民政）")).to_be_visible()

    page.goto("/")
    page.locator("#id_q").fill("ouyang")
    expect(page.locator("#results").get_by_role("link", name="欧阳娜娜")).to_be_visible()
    expect(page.locator("#results").get_by_role("link", name="张伟")).to_have_count(0)
    page.locator("#id_q").fill("oynn")
    page.locator("#results").get_by_role("link", name="欧阳娜娜").click()
    expect(page).to_have_url(re.compile(r"/children/\d+/$"))
    expect(page.get_by_text("变更历史")).to_be_visible()


def test_duplicate_warning_before_saving(page: Page, live_world: World) -> None:
    log_in(page, "director_a")
    page.goto("/children/new/")
    page.locator("#id_name").fill("张伟")
    page.locator("#id_sex").select_option("M")
    page.locator("#id_birth_date").fill(BORN.isoformat())
    page.locator("#id_id_number").fill(ID_A1)
    page.locator("#id_id_number").blur()
    expect(page.locator("[data-testid=duplicates]")).to_be_visible()
    expect(
        page.locator("[data-testid=duplicates]").get_by_role("link", name="张伟")
    ).to_be_visible()


def test_phone_sized_list_has_no_horizontal_page_scroll(page: Page, live_world: World) -> None:
    log_in(page, "supervisor")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
