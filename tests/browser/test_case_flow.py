"""A teacher refers a child; a social worker takes the referral through to a plan, on a
phone-sized screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from shouhu.cases.models import Case, Goal, PlanAction
from tests.browser.test_flows import log_in
from tests.world import World

pytestmark = pytest.mark.browser


def _log_out(page: Page) -> None:
    page.context.clear_cookies()


def test_referral_to_plan(page: Page, live_world: World) -> None:
    child = live_world.children["b1"]
    log_in(page, "teacher_b")
    page.goto(f"/children/{child.pk}/")
    page.get_by_test_id("case-link").click()
    # No consent to sharing on record: the teacher records the one the guardian gave.
    page.get_by_test_id("record-consent").click()
    consent = page.get_by_test_id("consent-form")
    consent.get_by_label("同意人").select_option(index=1)
    consent.get_by_label("告知书版本").fill("2026-1")
    consent.get_by_label("与其他机构共享").check()
    consent.get_by_role("button").last.click()
    expect(page.get_by_test_id("sharing-status")).to_contain_text("可以共享给其他机构")
    page.get_by_test_id("case-link").click()
    form = page.get_by_test_id("case-form")
    form.locator("select[name=organisation]").select_option(str(live_world.orgs["swo"].pk))
    form.locator("select[name=channel]").select_option("school_referral")
    form.locator("textarea[name=reason]").fill("两周没有上学，奶奶生病")
    page.get_by_test_id("case-submit").click()
    expect(page).to_have_url(re.compile(rf"/children/{child.pk}/$"))

    _log_out(page)
    log_in(page, "socialworker")
    page.goto("/cases/intakes/")
    expect(page.get_by_text("两周没有上学，奶奶生病")).to_be_visible()
    page.locator("[data-testid^=accept-]").first.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    page.get_by_test_id("move-assessment").click()
    expect(page.get_by_test_id("stage")).to_contain_text("预估")
    page.get_by_test_id("move-plan").click()
    expect(page.get_by_test_id("stage")).to_contain_text("计划")
    goal_form = page.get_by_test_id("goal-form")
    goal_form.get_by_label("领域").select_option("school_community")
    goal_form.get_by_label("目标").fill("回到学校，每天按时上学")
    goal_form.get_by_label("可借助的优势").fill("喜欢画画，和同桌要好")
    page.get_by_test_id("add-goal").click()
    expect(page.get_by_test_id("goal")).to_contain_text("回到学校")
    action_form = page.get_by_test_id("goal").locator("form")
    action_form.get_by_label("要采取的行动").fill("班主任每天早上确认到校")
    action_form.get_by_label("负责方").select_option("school")
    page.get_by_test_id("add-action").click()
    expect(page.get_by_test_id("goal")).to_contain_text("班主任每天早上确认到校")
    page.get_by_test_id("move-services").click()
    expect(page.get_by_test_id("stage")).to_contain_text("计划")  # waiting for approval
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360

    case = Case.objects.get(child=child)
    assert case.lead.username == "socialworker" and case.pending_approval == "plan"
    assert Goal.objects.get(case=case).domain == "school_community"
    assert PlanAction.objects.get(goal__case=case).owner == "school"
