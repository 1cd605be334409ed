"""Volunteers (issue 13): nobody unvetted reaches a child; hours are recorded, approved and
then never changed; certificates verify without a child in sight."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from shouhu import access
from shouhu.children import assignments
from shouhu.children.models import ChildAssignment
from shouhu.jobs import run_due
from shouhu.lib.clock import SHANGHAI
from shouhu.notify.models import Notification
from shouhu.programmes import running
from shouhu.programmes.models import Design, Programme
from shouhu.volunteers import hours as hours_service
from shouhu.volunteers import services
from shouhu.volunteers.models import (
    Agreement,
    Check,
    Hours,
    HoursStatus,
    Status,
    Training,
    Volunteer,
)
from tests.world import NOW, TODAY, World, clear_volunteer, make_user

pytestmark = pytest.mark.django_db


def _volunteer(world: World, name: str = "vol2") -> tuple[Any, Volunteer]:
    user = make_user(name, world.orgs["swo"], "volunteer")
    return user, clear_volunteer(user, world.orgs["swo"], by=world.socialworker)


def _matched(world: World, user: Any) -> None:
    """Matched to a1 directly (as a match made before the rules: the gate still applies)."""
    ChildAssignment.objects.create(
        child=world.children["a1"],
        organisation=world.orgs["swo"],
        user=user,
        kind="volunteer",
        started_on=TODAY,
    )
    access.forget_assignments()


def _sees(world: World, user: Any) -> bool:
    fresh = type(user).objects.get(pk=user.pk)  # a new request: a new scope
    return access.children_visible_to(fresh).filter(pk=world.children["a1"].pk).exists()


def _no_identity(v: Volunteer) -> None:
    Check.objects.filter(volunteer=v, kind="identity").delete()


def _identity_pending(v: Volunteer) -> None:
    Check.objects.filter(volunteer=v, kind="identity").update(result="pending")


def _no_inquiry(v: Volunteer) -> None:
    Check.objects.filter(volunteer=v, kind="record_inquiry").delete()


def _inquiry_found_later(v: Volunteer) -> None:
    first = Check.objects.get(volunteer=v, kind="record_inquiry")
    Check.objects.create(
        volunteer=v,
        kind="record_inquiry",
        result="found",
        checked_on=TODAY - dt.timedelta(days=1),
        expires_on=TODAY + dt.timedelta(days=300),
        checked_by=first.checked_by,
        recorded_at=NOW,
    )


def _inquiry_expired(v: Volunteer) -> None:
    Check.objects.filter(volunteer=v, kind="record_inquiry").update(
        expires_on=TODAY - dt.timedelta(days=1)
    )


def _inquiry_without_expiry(v: Volunteer) -> None:
    Check.objects.filter(volunteer=v, kind="record_inquiry").update(expires_on=None)


def _no_safeguarding(v: Volunteer) -> None:
    Training.objects.filter(volunteer=v).update(kind="skills")


def _no_agreement(v: Volunteer) -> None:
    Agreement.objects.filter(volunteer=v).delete()


def _agreement_expired(v: Volunteer) -> None:
    Agreement.objects.filter(volunteer=v).update(expires_on=TODAY - dt.timedelta(days=1))


def _agreement_without_confidentiality(v: Volunteer) -> None:
    Agreement.objects.filter(volunteer=v).update(confidentiality=False)


def _suspended(v: Volunteer) -> None:
    Volunteer.objects.filter(pk=v.pk).update(status=Status.SUSPENDED)


def _only_applied(v: Volunteer) -> None:
    Volunteer.objects.filter(pk=v.pk).update(status=Status.APPLIED)


@pytest.mark.parametrize(
    "take_away",
    [
        _no_identity,
        _identity_pending,
        _no_inquiry,
        _inquiry_found_later,
        _inquiry_expired,
        _inquiry_without_expiry,
        _no_safeguarding,
        _no_agreement,
        _agreement_expired,
        _agreement_without_confidentiality,
        _suspended,
        _only_applied,
    ],
)
def test_each_missing_condition_alone_closes_the_gate(
    world: World, take_away: Callable[[Volunteer], None]
) -> None:
    user, volunteer = _volunteer(world)
    _matched(world, user)
    assert _sees(world, user)  # all conditions met
    take_away(volunteer)
    assert not _sees(world, user)
    assert access.clearance_missing(volunteer)
    fresh = type(user).objects.get(pk=user.pk)
    assert access.volunteer_refusal(fresh)


def test_an_uncleared_volunteer_is_matched_to_no_child_and_facilitates_nothing(
    world: World,
) -> None:
    user = make_user("newcomer", world.orgs["swo"], "volunteer")
    with pytest.raises(ValidationError) as refused:
        assignments.assignment_create(
            actor=world.socialworker,
            child=world.children["a1"],
            organisation=world.orgs["swo"],
            kind="volunteer",
            user=user,
        )
    assert "user" in refused.value.message_dict
    design = Design.objects.filter(organisation__isnull=True).first()
    assert design is not None
    programme = Programme.objects.create(
        organisation=world.orgs["swo"],
        design=design,
        title="周末小组",
        starts_on=TODAY - dt.timedelta(days=10),
        ends_on=TODAY + dt.timedelta(days=30),
        created_at=NOW,
        created_by=world.socialworker,
    )
    with pytest.raises(ValidationError) as no_facilitator:
        running.session_add(
            actor=world.socialworker,
            programme=programme,
            starts_at=NOW + dt.timedelta(days=1),
            minutes=60,
            facilitators=[user],
        )
    assert set(no_facilitator.value.message_dict) == {"facilitators"}
    # Once vetted, the same volunteer facilitates.
    clear_volunteer(user, world.orgs["swo"], by=world.socialworker)
    fresh = type(user).objects.get(pk=user.pk)
    session = running.session_add(
        actor=world.socialworker,
        programme=programme,
        starts_at=NOW + dt.timedelta(days=1),
        minutes=60,
        facilitators=[fresh],
    )
    assert access.programmes_visible_to(fresh).filter(pk=programme.pk).exists()
    # Suspended, they no longer see the programme they facilitate.
    Volunteer.objects.filter(user=user).update(status=Status.SUSPENDED)
    fresh = type(user).objects.get(pk=user.pk)
    assert not access.programmes_visible_to(fresh).filter(pk=programme.pk).exists()
    assert not access.may_take_roll_call(fresh, session)


def test_an_expired_check_ends_access_and_the_job_tells_the_coordinator(
    world: World, clock: Any
) -> None:
    user, volunteer = _volunteer(world)
    Check.objects.filter(volunteer=volunteer, kind="record_inquiry").update(expires_on=TODAY)
    _matched(world, user)
    assert _sees(world, user)  # valid through its last day
    assert services.lapse() == 0
    clock.move_to(NOW + dt.timedelta(days=1))
    assert not _sees(world, user)  # the day after: closed by date alone
    done = dict(run_due())
    assert done["volunteer_clearance"] == "1 volunteers lapsed"
    volunteer.refresh_from_db()
    assert volunteer.status == Status.SUSPENDED
    assert "入职查询" in volunteer.status_reason  # written in Chinese, like the records
    told = Notification.objects.filter(user=world.socialworker, category="volunteer")
    assert told.count() == 1 and volunteer.name in told.get().subject
    assert services.lapse() == 0  # idempotent


def test_a_volunteer_is_registered_checked_trained_bound_and_activated(world: World) -> None:
    with pytest.raises(ValidationError) as bad:
        services.volunteer_register(
            actor=world.socialworker, organisation=world.orgs["swo"], name=" ", id_number="123"
        )
    assert set(bad.value.message_dict) == {"name", "id_number"}
    with pytest.raises(PermissionDenied):
        services.volunteer_register(
            actor=world.teacher_a, organisation=world.orgs["swo"], name="王志愿"
        )
    v = services.volunteer_register(
        actor=world.socialworker, organisation=world.orgs["swo"], name="王志愿", sex="F"
    )
    assert v.status == Status.APPLIED and v.number.startswith("V")
    with pytest.raises(ValidationError) as early:
        services.activate(actor=world.socialworker, volunteer=v)
    assert set(early.value.message_dict) == {"status"}
    assert access.clearance_missing(v)[0] == "identity"
    services.check_record(
        actor=world.socialworker,
        volunteer=v,
        kind="identity",
        result="clear",
        checked_on=TODAY,
    )
    with pytest.raises(ValidationError) as no_expiry:
        services.check_record(
            actor=world.socialworker,
            volunteer=v,
            kind="record_inquiry",
            result="clear",
            checked_on=TODAY,
        )
    assert "expires_on" in no_expiry.value.message_dict
    services.check_record(
        actor=world.socialworker,
        volunteer=v,
        kind="record_inquiry",
        result="clear",
        checked_on=TODAY,
        expires_on=TODAY + dt.timedelta(days=365),
    )
    services.training_record(
        actor=world.socialworker,
        volunteer=v,
        kind="safeguarding",
        title="儿童保护",
        completed_on=TODAY,
        hours="2.5",
    )
    with pytest.raises(ValidationError) as no_clause:
        services.agreement_sign(
            actor=world.socialworker,
            volunteer=v,
            version="2026-01",
            signed_on=TODAY,
            scope="陪伴",
            confidentiality=False,
        )
    assert "confidentiality" in no_clause.value.message_dict
    services.agreement_sign(
        actor=world.socialworker,
        volunteer=v,
        version="2026-01",
        signed_on=TODAY,
        scope="陪伴",
        confidentiality=True,
    )
    services.activate(actor=world.socialworker, volunteer=v)
    v.refresh_from_db()
    assert v.status == Status.ACTIVE and not access.clearance_missing(v)


def test_a_concern_in_supervision_suspends_at_once(world: World) -> None:
    user, volunteer = _volunteer(world)
    _matched(world, user)
    with pytest.raises(PermissionDenied):  # supervision is a social worker's
        services.supervision_record(
            actor=world.director_a, volunteer=volunteer, held_on=TODAY, topics="x"
        )
    with pytest.raises(ValidationError) as unsaid:
        services.supervision_record(
            actor=world.socialworker,
            volunteer=volunteer,
            held_on=TODAY,
            topics="陪伴进展",
            suspend_now=True,
        )
    assert "concerns" in unsaid.value.message_dict
    services.supervision_record(
        actor=world.socialworker,
        volunteer=volunteer,
        held_on=TODAY,
        topics="陪伴进展",
        concerns="私下加孩子微信并单独约见",
        suspend_now=True,
    )
    volunteer.refresh_from_db()
    assert volunteer.status == Status.SUSPENDED
    assert not _sees(world, user)


def _at(hour: int, day: int = -1) -> dt.datetime:
    return dt.datetime.combine(TODAY + dt.timedelta(days=day), dt.time(hour), tzinfo=SHANGHAI)


def test_hours_are_checked_approved_then_never_changed_but_adjusted(world: World) -> None:
    _user, volunteer = _volunteer(world)
    entry = hours_service.hours_record(
        actor=world.socialworker,
        volunteer=volunteer,
        activity="课业辅导",
        starts_at=_at(9),
        ends_at=_at(12),
        minutes=150,  # the travel is not service
    )
    assert entry.status == HoursStatus.PENDING
    with pytest.raises(ValidationError) as overlap:
        hours_service.hours_record(
            actor=world.socialworker,
            volunteer=volunteer,
            activity="家访",
            starts_at=_at(11),
            ends_at=_at(13),
        )
    assert set(overlap.value.message_dict) == {"starts_at"}
    with pytest.raises(ValidationError) as too_long:
        hours_service.hours_record(
            actor=world.socialworker,
            volunteer=volunteer,
            activity="家访",
            starts_at=_at(14),
            ends_at=_at(15),
            minutes=90,
        )
    assert set(too_long.value.message_dict) == {"minutes"}
    with pytest.raises(ValidationError) as future:
        hours_service.hours_record(
            actor=world.socialworker,
            volunteer=volunteer,
            activity="家访",
            starts_at=_at(14, day=1),
            ends_at=_at(15, day=1),
        )
    assert "ends_at" in future.value.message_dict
    assert Hours.objects.filter(volunteer=volunteer).count() == 1  # nothing half-written
    hours_service.hours_decide(actor=world.socialworker, entry=entry)
    with pytest.raises(ValidationError):
        hours_service.hours_decide(actor=world.socialworker, entry=entry, approve=False)
    entry.refresh_from_db()
    assert (entry.status, entry.minutes) == (HoursStatus.APPROVED, 150)
    with pytest.raises(ValidationError) as no_reason:
        hours_service.hours_adjust(actor=world.socialworker, entry=entry, minutes=-30, reason="")
    assert "reason" in no_reason.value.message_dict
    with pytest.raises(ValidationError) as too_much:
        hours_service.hours_adjust(
            actor=world.socialworker, entry=entry, minutes=-200, reason="记错"
        )
    assert "minutes" in too_much.value.message_dict
    fix = hours_service.hours_adjust(
        actor=world.socialworker, entry=entry, minutes=-30, reason="提前半小时离开"
    )
    assert hours_service.totals(volunteer).minutes == 150  # the adjustment is pending
    hours_service.hours_decide(actor=world.socialworker, entry=fix)
    totals = hours_service.totals(volunteer)
    assert totals.minutes == 120 and totals.hours == 2.0
    assert [(o.pk, m) for o, m in totals.by_organisation] == [(world.orgs["swo"].pk, 120)]
    # A declined entry frees its time.
    other = hours_service.hours_record(
        actor=world.socialworker,
        volunteer=volunteer,
        activity="陪伴",
        starts_at=_at(14),
        ends_at=_at(16),
    )
    hours_service.hours_decide(actor=world.socialworker, entry=other, approve=False)
    hours_service.hours_record(
        actor=world.socialworker,
        volunteer=volunteer,
        activity="陪伴",
        starts_at=_at(14),
        ends_at=_at(15),
    )
    with pytest.raises(PermissionDenied):
        hours_service.hours_decide(actor=world.teacher_a, entry=other)


def test_a_certificate_is_numbered_and_its_public_page_shows_no_child(world: World) -> None:
    user, volunteer = _volunteer(world)
    _matched(world, user)
    with pytest.raises(ValidationError) as nothing:
        hours_service.certificate_issue(
            actor=world.socialworker,
            volunteer=volunteer,
            period_from=TODAY - dt.timedelta(days=30),
            period_to=TODAY,
        )
    assert "period_from" in nothing.value.message_dict
    entry = hours_service.hours_record(
        actor=world.socialworker,
        volunteer=volunteer,
        activity=f"陪伴{world.children['a1'].name}",
        starts_at=_at(9),
        ends_at=_at(11),
    )
    hours_service.hours_decide(actor=world.socialworker, entry=entry)
    certificate = hours_service.certificate_issue(
        actor=world.socialworker,
        volunteer=volunteer,
        period_from=TODAY - dt.timedelta(days=30),
        period_to=TODAY,
    )
    assert certificate.minutes == 120 and certificate.number.startswith("ZY-")
    page = Client().get(f"/verify/{certificate.code}")
    assert page.status_code == 200
    text = page.content.decode()
    assert volunteer.name in text and certificate.number in text and "2.0" in text
    assert world.orgs["swo"].name in text
    assert world.children["a1"].name not in text  # the activity names a child: not shown
    assert Client().get(f"/verify/{certificate.code}/").status_code == 200
    assert Client().get("/verify/not-a-code").status_code == 404
    assert Client().get("/verify/0123456789abcdef0123").status_code == 404


def test_the_coordinator_records_hours_on_the_page_and_approves_them(world: World) -> None:
    _user, volunteer = _volunteer(world)
    page = Client()
    page.force_login(world.socialworker)
    url = f"/volunteers/{volunteer.pk}/"
    day = (TODAY - dt.timedelta(days=1)).isoformat()
    form = {"activity": "课业辅导", "day": day, "starts_at": "09:00", "ends_at": "11:00"}
    assert page.post(url, {**form, "minutes": "100"}).status_code == 302
    entry = Hours.objects.get(volunteer=volunteer)
    assert (entry.minutes, entry.status) == (100, HoursStatus.PENDING)
    clash = page.post(url, {**form, "activity": "家访"})
    assert clash.status_code == 400
    assert clash.context["form"].errors["starts_at"]  # next to the field, not a code
    too_long = page.post(url, {**form, "starts_at": "13:00", "ends_at": "14:00", "minutes": "90"})
    assert too_long.context["form"].errors["minutes"]
    page.post(f"/volunteers/hours/{entry.pk}/decide/", {"decision": "maybe"})
    entry.refresh_from_db()
    assert entry.status == HoursStatus.PENDING  # neither approve nor decline: nothing done
    page.post(f"/volunteers/hours/{entry.pk}/decide/", {"decision": "approve"})
    entry.refresh_from_db()
    assert entry.status == HoursStatus.APPROVED
    # Someone who does not keep the record neither sees nor records.
    other = Client()
    other.force_login(world.teacher_a)
    assert other.get(url).status_code == 404
    assert other.post(url, form).status_code == 404


def test_a_volunteer_locked_out_is_told_why_the_list_of_children_is_empty(world: World) -> None:
    user, volunteer = _volunteer(world)
    _matched(world, user)
    page = Client()
    page.force_login(user)
    assert 'data-testid="not-cleared"' not in page.get("/").content.decode()
    _agreement_expired(volunteer)
    text = page.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="not-cleared"' in text and "agreement" in text
