"""Break glass names a purpose and a reason in words, and the county's auditors are told of
every one (issue 10, 6.10), on the page and over the API alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from shouhu import access
from shouhu.accounts.models import Membership, Role
from shouhu.audit.models import AccessLog, Action
from shouhu.children import selectors
from shouhu.lib.text import reason_problem
from shouhu.notify.models import Notification
from tests.test_api_children import URL, api
from tests.world import ID_A1, World, make_user

pytestmark = pytest.mark.django_db

GOOD_REASON = "Police request 2026-118 about a missing child"
BAD_REASONS = ["aaaaaaaaaa", "ababababab", "1234567890", "!!!!!!!!!!!!", "check", "a a a a a a a"]


@pytest.mark.parametrize("reason", BAD_REASONS)
def test_a_reason_that_is_no_words_is_refused(reason: str) -> None:
    assert reason_problem(reason) is not None


@pytest.mark.parametrize(
    "reason", [GOOD_REASON, "核查困境儿童认定材料 2026-11", "紧急保护：孩子今晚无人照看"]
)
def test_a_reason_in_words_is_accepted(reason: str) -> None:
    assert reason_problem(reason) is None


def _auditor(world: World):  # type: ignore[no-untyped-def]
    """A second official of the county's civil-affairs bureau."""
    return make_user("auditor", world.orgs["bureau"], Role.OFFICIAL)


def test_page_refuses_repeated_characters_and_a_missing_purpose(
    client: Client, world: World
) -> None:
    a1 = world.children["a1"]
    client.force_login(world.official)
    url = reverse("children:reveal", args=[a1.pk])
    for data in (
        {"reason": "aaaaaaaaaa", "purpose": "emergency"},
        {"reason": GOOD_REASON},
        {"reason": GOOD_REASON, "purpose": "curiosity"},
    ):
        refused = client.post(url, {"field_class": "identifying", **data}, follow=True)
        # Back on the file with the reason refused and the reason typed kept (issue 10).
        assert refused.redirect_chain == [(reverse("children:detail", args=[a1.pk]), 302)]
        page = refused.content.decode()
        assert ID_A1 not in page and 'data-testid="recovered-input"' in page
        assert 'class="alert alert-error"' in page
        assert str(data["reason"]) in page
    assert not AccessLog.objects.filter(action=Action.REVEAL).exists()
    assert not Notification.objects.filter(category="break_glass").exists()


def test_page_offers_the_purposes(client: Client, world: World) -> None:
    client.force_login(world.official)
    page = client.get(reverse("children:detail", args=[world.children["a1"].pk]))
    body = page.content.decode()
    assert 'name="purpose"' in body
    for value in access.BreakGlassPurpose.values:
        assert f'value="{value}"' in body


def test_break_glass_on_the_page_tells_the_countys_auditor(client: Client, world: World) -> None:
    auditor = _auditor(world)
    a1 = world.children["a1"]
    client.force_login(world.official)
    shown = client.post(
        reverse("children:reveal", args=[a1.pk]),
        {"field_class": "identifying", "reason": GOOD_REASON, "purpose": "law_enforcement"},
    )
    assert shown.status_code == 200 and ID_A1 in shown.content.decode()
    entry = AccessLog.objects.get(action=Action.REVEAL)
    assert entry.purpose == "break_glass" and entry.reason == GOOD_REASON
    assert entry.detail["break_glass_purpose"] == "law_enforcement"
    told = Notification.objects.get(category="break_glass")
    assert told.user == auditor
    assert reverse("audit:log") in told.link
    # The message names no child and carries no reason: the auditor reads them in the log.
    assert a1.name not in told.subject + told.body and GOOD_REASON not in told.body
    # The auditor can read that entry.
    assert access.access_log_visible_to(auditor).filter(pk=entry.pk).exists()


def test_break_glass_over_the_api_needs_a_purpose_and_tells_the_auditor(
    client: Client, world: World
) -> None:
    auditor = _auditor(world)
    a1 = world.children["a1"].pk
    headers = api(client, world, "official")
    for query in (
        {"reveal": "identifying", "reason": GOOD_REASON},
        {"reveal": "identifying", "reason": "aaaaaaaaaaaa", "purpose": "audit"},
    ):
        refused = client.get(f"{URL}/{a1}", query, **headers)
        assert refused.status_code == 403 and ID_A1 not in refused.content.decode()
    assert client.get(
        f"{URL}/{a1}", {"reveal": "identifying", "purpose": "x"}, **headers
    ).status_code in {400, 422}
    query = {"reveal": "identifying", "reason": GOOD_REASON, "purpose": "audit"}
    body = client.get(f"{URL}/{a1}", query, **headers).json()
    assert body["revealed"]["id_number"] == ID_A1
    assert list(
        Notification.objects.filter(category="break_glass").values_list("user", flat=True)
    ) == [auditor.pk]


def test_without_another_county_official_the_administrators_are_told(world: World) -> None:
    a1 = world.children["a1"]
    selectors.reveal(
        user=world.official,
        child=a1,
        field_class="sensitive",
        reason="核查困境儿童认定材料 2026-11",
        purpose="verification",
    )
    told = set(Notification.objects.filter(category="break_glass").values_list("user", flat=True))
    assert told == {world.admin.pk}


def test_auditors_are_the_nearest_civil_affairs_officials_over_the_child(world: World) -> None:
    a1 = world.children["a1"]
    city = make_user("city_official", None, Role.OFFICIAL)
    from tests.world import org

    city_bureau = org("六安市民政局", "civil_affairs", "341500000000")
    Membership.objects.create(user=city, organisation=city_bureau, role=Role.OFFICIAL)
    # No second county official: the city's is told, not the one who broke glass.
    assert access.break_glass_auditors(a1, world.official) == [city]
    auditor = _auditor(world)
    assert access.break_glass_auditors(a1, world.official) == [auditor]
    # Another county official breaking glass is audited by the first.
    assert access.break_glass_auditors(a1, auditor) == [world.official]


def test_within_the_ceiling_no_purpose_is_needed_and_nobody_is_told(world: World) -> None:
    _auditor(world)
    values = selectors.reveal(
        user=world.director_a, child=world.children["a1"], field_class="identifying"
    )
    assert values["id_number"] == ID_A1
    assert not Notification.objects.filter(category="break_glass").exists()


def test_a_teacher_cannot_break_glass_whatever_the_reason(world: World) -> None:
    with pytest.raises(PermissionDenied):
        selectors.reveal(
            user=world.teacher_a,
            child=world.children["a1"],
            field_class="identifying",
            reason=GOOD_REASON,
            purpose="emergency",
        )
