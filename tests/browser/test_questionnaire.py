"""A child answering a questionnaire on a phone-sized screen, one question per screen."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from shouhu.children.models import Child
from shouhu.screening.models import Administration, Alert
from tests.browser.test_flows import log_in
from tests.world import PASSWORD, TODAY, World

pytestmark = pytest.mark.browser


def test_phq9_one_question_per_screen_then_the_result(page: Page, live_world: World) -> None:
    child = live_world.children["b1"]
    Child.objects.filter(pk=child.pk).update(birth_date=dt.date(TODAY.year - 14, 1, 1))
    log_in(page, "counselor")
    page.goto(f"/children/{child.pk}/screenings/")
    page.get_by_test_id("start-phq9").click()
    questions = page.locator("fieldset.question")
    expect(questions).to_have_count(9)
    answers = [0, 0, 0, 1, 2, 1, 3, 2, 1]  # the HL7 example: total 10, item 9 flagged
    for number, value in enumerate(answers, start=1):
        current = page.locator("fieldset.question:visible")
        expect(current).to_have_count(1)  # one question at a time
        expect(current.locator(".qnum")).to_have_text(f"{number}.")
        current.locator(f"input[value='{value}']").check()
        # An answer does not move on by itself (a tap then "Next" would skip a question).
        expect(page.locator("fieldset.question:visible .qnum")).to_have_text(f"{number}.")
        if number < len(answers):
            page.get_by_role("button", name="下一题").click()
    expect(page.get_by_test_id("submit")).to_be_visible()
    page.get_by_role("button", name="上一题").click()
    expect(page.locator("fieldset.question:visible .qnum")).to_have_text("8.")
    page.get_by_role("button", name="下一题").click()
    page.get_by_test_id("submit").click()
    # The child gives the phone back: nothing of the result until the counsellor unlocks.
    expect(page.get_by_test_id("hand-back")).to_be_visible()
    expect(page.get_by_test_id("total")).to_have_count(0)
    page.locator("#handback-password").fill(PASSWORD)
    page.get_by_test_id("unlock").click()
    expect(page.get_by_test_id("total")).to_contain_text("10")
    expect(page.get_by_test_id("not-diagnosis")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    stored = Administration.objects.get(child=child)
    assert stored.total == 10 and stored.band == "moderate"
    assert Alert.objects.filter(administration=stored).exists()


def test_the_unanswered_list_leads_to_each_question(page: Page, live_world: World) -> None:
    """Sent back with questions unanswered, a tap on one in the list at the top shows it,
    although one question is shown at a time."""
    child = live_world.children["b1"]
    Child.objects.filter(pk=child.pk).update(birth_date=dt.date(TODAY.year - 14, 1, 1))
    log_in(page, "counselor")
    page.goto(f"/children/{child.pk}/screenings/")
    page.get_by_test_id("start-phq9").click()
    expect(page.locator("fieldset.question:visible")).to_have_count(1)
    page.locator("fieldset.question:visible input[value='1']").check()
    for _ in range(8):
        page.get_by_role("button", name="下一题").click()
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("missing-phq9_sleep")).to_be_visible()
    page.get_by_test_id("missing-phq9_sleep").click()
    current = page.locator("fieldset.question:visible")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-item", "phq9_sleep")
    assert not Administration.objects.filter(child=child).exists()
