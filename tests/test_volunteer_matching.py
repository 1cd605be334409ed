"""Matching volunteers to children (issue 13): suggestions ranked by languages, distance,
days and load; a coordinator's decision with a guardian's consent; nobody uncleared is
matched. And the volunteer's page: its forms, check-in and check-out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from shouhu import access
from shouhu.audit.models import AccessLog, ChangeRecord
from shouhu.children.models import ChildAssignment, FamilyMember
from shouhu.places.models import Place
from shouhu.volunteers import hours as hours_service
from shouhu.volunteers import matching
from shouhu.volunteers.models import (
    Check,
    Hours,
    HoursStatus,
    Match,
    MatchStatus,
    Shift,
    Status,
    Volunteer,
)
from tests.world import (
    TODAY,
    VILLAGE_A,
    VILLAGE_C,
    World,
    clear_volunteer,
    make_user,
)

pytestmark = pytest.mark.django_db


def _cleared(world: World, name: str, **fields: Any) -> Volunteer:
    user = make_user(name, world.orgs["swo"], "volunteer")
    volunteer = clear_volunteer(user, world.orgs["swo"], by=world.socialworker)
    if "home" in fields:
        fields["home"] = Place.objects.get(pk=fields["home"])
    Volunteer.objects.filter(pk=volunteer.pk).update(name=name, **fields)
    volunteer.refresh_from_db()
    return volunteer


def _guardian(world: World, relation: str = "father") -> FamilyMember:
    return FamilyMember.objects.get(household=world.children["a1"].household, relation=relation)


def test_the_days_and_languages_of_free_text() -> None:
    assert matching.days_of("周六、周日上午") == {"sat", "sun"}
    assert matching.days_of("工作日晚上") == {"mon", "tue", "wed", "thu", "fri"}
    assert matching.days_of("Weekends, and Monday") == {"sat", "sun", "mon"}
    assert matching.days_of("星期天") == {"sun"}
    assert matching.days_of("weekday evenings") == {"mon", "tue", "wed", "thu", "fri"}
    assert matching.days_of("") == frozenset()
    assert matching.languages_of("普通话, 四川话、苗语") == {"普通话", "四川话", "苗语"}
    assert matching.distance(VILLAGE_A, VILLAGE_A) == 0
    assert matching.distance("341524101205", VILLAGE_A) == 1  # same township
    assert matching.distance(VILLAGE_C, VILLAGE_A) == 2  # same county
    assert matching.distance("110101001001", VILLAGE_A) == len(matching.DISTANCES)
    assert matching.distance(None, VILLAGE_A) == len(matching.DISTANCES)


def test_suggestions_rank_languages_then_distance_then_days_and_skip_the_uncleared(
    world: World,
) -> None:
    child = world.children["a1"]
    near = _cleared(world, "近邻", home=VILLAGE_A, availability="周末", languages="普通话")
    far = _cleared(world, "远方", home=VILLAGE_C, availability="每天", languages="普通话")
    speaker = _cleared(
        world, "苗语者", home=VILLAGE_C, availability="周三", languages="苗语, 普通话"
    )
    unknown = _cleared(world, "无家", availability="", languages="")
    pending = _cleared(world, "待查", home=VILLAGE_A, languages="苗语")
    Check.objects.filter(volunteer=pending, kind="record_inquiry").update(result="pending")

    plain = [s.volunteer.pk for s in matching.suggest(world.socialworker, child)]
    assert pending.pk not in plain
    assert plain[:2] == [near.pk, far.pk]  # the same village first
    assert plain[-1] == unknown.pk

    by_language = matching.suggest(world.socialworker, child, languages=["苗语"])
    assert by_language[0].volunteer.pk == speaker.pk
    assert by_language[0].languages == ("苗语",)

    by_day = matching.suggest(world.socialworker, child, days=["wed"])
    # Distance still comes before the days asked for.
    assert by_day[0].volunteer.pk == near.pk
    assert {s.volunteer.pk for s in by_day[1:3]} == {far.pk, speaker.pk}
    days = {s.volunteer.pk: s.days for s in by_day}
    assert days[far.pk] == ("wed",) and days[speaker.pk] == ("wed",) and days[near.pk] == ()
    # A volunteer of an organisation the user does not keep is never suggested.
    assert matching.suggest(world.director_c, child) == []


def test_a_match_needs_a_cleared_volunteer_a_decision_and_a_guardians_consent(
    world: World,
) -> None:
    child = world.children["a1"]
    volunteer = _cleared(world, "小林")
    Check.objects.filter(volunteer=volunteer, kind="record_inquiry").update(result="pending")
    with pytest.raises(ValidationError) as refused:
        matching.match_propose(
            actor=world.socialworker, volunteer=volunteer, child=child, purpose="课业辅导"
        )
    assert set(refused.value.message_dict) == {"volunteer"}
    assert not Match.objects.exists()

    Check.objects.filter(volunteer=volunteer, kind="record_inquiry").update(result="clear")
    match = matching.match_propose(
        actor=world.socialworker, volunteer=volunteer, child=child, purpose="课业辅导"
    )
    assert match.status == MatchStatus.PROPOSED
    user = volunteer.user
    assert user is not None
    fresh = type(user).objects.get(pk=user.pk)
    assert not access.children_visible_to(fresh).filter(pk=child.pk).exists()

    with pytest.raises(ValidationError) as no_consent:
        matching.match_decide(actor=world.socialworker, match=match, approve=True)
    assert set(no_consent.value.message_dict) == {"consent_by", "consent_on"}
    grandmother = _guardian(world, "paternal_grandmother")  # not a guardian
    with pytest.raises(ValidationError) as not_guardian:
        matching.match_decide(
            actor=world.socialworker,
            match=match,
            approve=True,
            consent_by=grandmother,
            consent_on=TODAY,
        )
    assert set(not_guardian.value.message_dict) == {"consent_by"}
    with pytest.raises(ValidationError) as future:
        matching.match_decide(
            actor=world.socialworker,
            match=match,
            approve=True,
            consent_by=_guardian(world),
            consent_on=TODAY + dt.timedelta(days=1),
        )
    assert set(future.value.message_dict) == {"consent_on"}
    assert not ChildAssignment.objects.filter(user=user).exists()

    match = matching.match_decide(
        actor=world.socialworker,
        match=match,
        approve=True,
        consent_by=_guardian(world),
        consent_on=TODAY,
    )
    assert match.status == MatchStatus.ACTIVE and match.assignment is not None
    fresh = type(user).objects.get(pk=user.pk)
    assert access.children_visible_to(fresh).filter(pk=child.pk).exists()
    # Basic fields only.
    assert access.field_classes(fresh, child) == {access.BASIC}
    assert ChangeRecord.objects.filter(object_type="match", child_id=child.pk).count() >= 2

    with pytest.raises(ValidationError) as twice:
        matching.match_propose(
            actor=world.socialworker, volunteer=volunteer, child=child, purpose="再次"
        )
    assert set(twice.value.message_dict) == {"volunteer"}

    with pytest.raises(ValidationError) as no_reason:
        matching.match_end(actor=world.socialworker, match=match, reason=" ")
    assert set(no_reason.value.message_dict) == {"reason"}
    matching.match_end(actor=world.socialworker, match=match, reason="孩子随父母进城")
    fresh = type(user).objects.get(pk=user.pk)
    assert not access.children_visible_to(fresh).filter(pk=child.pk).exists()


def test_a_decline_needs_a_reason_and_the_organisation_limits_children_per_volunteer(
    world: World,
) -> None:
    volunteer = _cleared(world, "小周")
    match = matching.match_propose(
        actor=world.socialworker, volunteer=volunteer, child=world.children["a1"], purpose="陪伴"
    )
    with pytest.raises(ValidationError) as no_reason:
        matching.match_decide(actor=world.socialworker, match=match, approve=False)
    assert set(no_reason.value.message_dict) == {"reason"}
    matching.match_decide(actor=world.socialworker, match=match, approve=False, reason="时间不合")
    assert Match.objects.get(pk=match.pk).status == MatchStatus.DECLINED
    children = [world.children[k] for k in ("a1", "b1", "c1", "dest1")]
    for child in children[: matching.MAX_CHILDREN]:
        matching.match_propose(
            actor=world.socialworker, volunteer=volunteer, child=child, purpose="陪伴"
        )
    with pytest.raises(ValidationError) as full:
        matching.match_propose(
            actor=world.socialworker,
            volunteer=volunteer,
            child=children[matching.MAX_CHILDREN],
            purpose="陪伴",
        )
    assert set(full.value.message_dict) == {"volunteer"}
    assert volunteer.pk not in {
        s.volunteer.pk for s in matching.suggest(world.socialworker, children[-1])
    }


def test_the_match_page_proposes_and_decides(world: World) -> None:
    child = world.children["a1"]
    volunteer = _cleared(world, "小吴", home=VILLAGE_A)
    page = Client()
    page.force_login(world.socialworker)
    url = f"/volunteers/match/{child.pk}/"
    shown = page.get(url)
    assert shown.status_code == 200
    assert volunteer.name in shown.content.decode()
    assert AccessLog.objects.filter(child_id=child.pk, purpose="volunteer_match").exists()

    empty = page.post(url, {"form": "propose", "volunteer": volunteer.pk, "purpose": ""})
    assert empty.status_code == 400
    assert not Match.objects.exists()
    assert (
        page.post(
            url, {"form": "propose", "volunteer": volunteer.pk, "purpose": "每周陪读"}
        ).status_code
        == 302
    )
    match = Match.objects.get()
    prefix = f"m{match.pk}"
    missing = page.post(url, {"form": f"decide-{match.pk}", f"{prefix}-decision": "approve"})
    assert missing.status_code == 400
    assert Match.objects.get().status == MatchStatus.PROPOSED
    done = page.post(
        url,
        {
            "form": f"decide-{match.pk}",
            f"{prefix}-decision": "approve",
            f"{prefix}-consent_by": _guardian(world).pk,
            f"{prefix}-consent_on": TODAY.isoformat(),
        },
    )
    assert done.status_code == 302
    assert Match.objects.get().status == MatchStatus.ACTIVE
    # The child's page shows the match to the coordinator.
    assert "volunteer-matches" in page.get(f"/children/{child.pk}/").content.decode()
    # Someone who keeps no volunteers may not use the page; a form that is not there is refused.
    teacher = Client()
    teacher.force_login(world.teacher_a)
    assert teacher.get(url).status_code in (403, 404)
    assert page.post(url, {"form": "decide-999999"}).status_code == 403


def test_the_volunteer_checks_in_and_out_and_the_hours_wait_for_approval(
    world: World, clock: Any
) -> None:
    volunteer = _cleared(world, "小郑")
    user = volunteer.user
    assert user is not None
    own = Client()
    own.force_login(user)
    url = f"/volunteers/{volunteer.pk}/"
    # The volunteer may check in, not record a check.
    assert own.post(url, {"form": "check", "kind": "identity"}).status_code == 403
    assert own.post(url, {"form": "check_in", "activity": ""}).status_code == 400
    assert own.post(url, {"form": "check_in", "activity": "周末课业辅导"}).status_code == 302
    assert Shift.objects.filter(volunteer=volunteer, hours__isnull=True).count() == 1
    twice = own.post(url, {"form": "check_in", "activity": "又一次"})
    assert twice.status_code == 400
    assert Shift.objects.count() == 1
    clock.shift(dt.timedelta(minutes=20, seconds=30))  # within the idle timeout
    assert own.post(url, {"form": "check_out", "minutes": "15"}).status_code == 302
    entry = Hours.objects.get(volunteer=volunteer)
    assert entry.status == HoursStatus.PENDING and entry.minutes == 15
    assert entry.activity == "周末课业辅导"
    assert Shift.objects.get().hours == entry
    assert hours_service.open_shift(volunteer) is None
    # Not checked in: nothing to check out.
    assert own.post(url, {"form": "check_out"}).status_code == 400
    # A suspended volunteer does not check in.
    Volunteer.objects.filter(pk=volunteer.pk).update(status=Status.SUSPENDED)
    with pytest.raises(ValidationError) as suspended:
        hours_service.check_in(
            actor=world.socialworker, volunteer=Volunteer.objects.get(pk=volunteer.pk), activity="x"
        )
    assert set(suspended.value.message_dict) == {"volunteer"}


def test_the_pages_register_check_train_and_sign_with_errors_next_to_fields(
    world: World,
) -> None:
    page = Client()
    page.force_login(world.socialworker)
    assert page.get("/volunteers/new/").status_code == 200
    bad = page.post(
        "/volunteers/new/",
        {"organisation": world.orgs["swo"].pk, "name": "陈静", "id_number": "123"},
    )
    assert bad.status_code == 400
    assert not Volunteer.objects.filter(name="陈静").exists()
    created = page.post(
        "/volunteers/new/",
        {
            "organisation": world.orgs["swo"].pk,
            "name": "陈静",
            "home": VILLAGE_A,
            "availability": "周六",
        },
    )
    assert created.status_code == 302
    volunteer = Volunteer.objects.get(name="陈静")
    assert volunteer.status == Status.APPLIED and volunteer.home_id == VILLAGE_A
    url = f"/volunteers/{volunteer.pk}/"
    since = (TODAY - dt.timedelta(days=1)).isoformat()
    until = (TODAY + dt.timedelta(days=365)).isoformat()
    no_expiry = page.post(
        url,
        {"form": "check", "kind": "record_inquiry", "result": "clear", "checked_on": since},
    )
    assert no_expiry.status_code == 400
    assert "expires_on" in no_expiry.context["forms"]["check"].errors
    for data in (
        {"form": "check", "kind": "identity", "result": "clear", "checked_on": since},
        {
            "form": "check",
            "kind": "record_inquiry",
            "result": "clear",
            "checked_on": since,
            "expires_on": until,
        },
        {
            "form": "training",
            "kind": "safeguarding",
            "title": "儿童保护",
            "completed_on": since,
            "hours": "3",
        },
    ):
        assert page.post(url, data).status_code == 302, data
    unsigned = page.post(
        url,
        {"form": "agreement", "version": "2026", "signed_on": since, "scope": "陪伴"},
    )
    assert unsigned.status_code == 400
    assert "confidentiality" in unsigned.context["forms"]["agreement"].errors
    assert (
        page.post(
            url,
            {
                "form": "agreement",
                "version": "2026",
                "signed_on": since,
                "scope": "陪伴",
                "confidentiality": "on",
            },
        ).status_code
        == 302
    )
    no_reason = page.post(url, {"form": "status", "status": "suspended"})
    assert no_reason.status_code == 400
    assert page.post(url, {"form": "status", "status": "active"}).status_code == 302
    assert Volunteer.objects.get(pk=volunteer.pk).status == Status.ACTIVE
    assert access.clearance_missing(Volunteer.objects.get(pk=volunteer.pk)) == []


def test_commendations_and_evaluations_are_recorded_from_the_page(world: World) -> None:
    volunteer = _cleared(world, "小钱")
    page = Client()
    page.force_login(world.socialworker)
    url = f"/volunteers/{volunteer.pk}/"
    day = TODAY.isoformat()
    future = (TODAY + dt.timedelta(days=2)).isoformat()
    bad = page.post(url, {"form": "evaluation", "evaluated_on": future, "rating": "9"})
    assert bad.status_code == 400
    assert "rating" in bad.context["forms"]["evaluation"].errors
    late = page.post(url, {"form": "evaluation", "evaluated_on": future, "rating": "4"})
    assert late.status_code == 400
    assert "evaluated_on" in late.context["forms"]["evaluation"].errors
    assert (
        page.post(
            url, {"form": "evaluation", "evaluated_on": day, "rating": "4", "note": "守时"}
        ).status_code
        == 302
    )
    assert (
        page.post(
            url,
            {"form": "commendation", "title": "优秀志愿者", "given_on": day, "given_by": "县团委"},
        ).status_code
        == 302
    )
    assert volunteer.evaluations.get().rating == 4
    assert volunteer.commendations.get().given_by == "县团委"
