"""Guardian consent and the legal basis of processing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from shouhu import access
from shouhu.children import assignments, consents
from shouhu.children.models import ChildAssignment
from tests.world import World

pytestmark = pytest.mark.django_db


def test_consent_from_a_guardian_opens_sharing_and_withdrawal_closes_it(world: World) -> None:
    child = world.children["c1"]
    father = child.household.members.get(relation="father")
    consent = consents.consent_record(
        actor=world.director_c,
        child=child,
        given_by=father,
        given_on=dt.date(2026, 11, 1),
        version="2026-1",
        scopes=["registry", "sharing"],
    )
    assert consents.sharing_allowed(child)
    assignments.assignment_create(
        actor=world.director_c, child=child, organisation=world.orgs["swo"], kind="referral"
    )
    assert child in access.children_visible_to(world.socialworker)
    consents.consent_withdraw(actor=world.director_c, consent=consent)
    assert not consents.sharing_allowed(child)
    assert ChildAssignment.objects.filter(child=child, kind="referral").exists()


def test_consent_must_come_from_a_guardian_of_the_child(world: World) -> None:
    child = world.children["c1"]
    grandma = child.household.members.get(relation="paternal_grandmother")
    other = world.children["a1"].household.members.get(relation="father")
    for member in (grandma, other):
        with pytest.raises(ValidationError) as err:
            consents.consent_record(
                actor=world.director_c,
                child=child,
                given_by=member,
                given_on=dt.date(2026, 11, 1),
                version="v1",
                scopes=["registry"],
            )
        assert "given_by" in err.value.message_dict


def test_unknown_scope_and_missing_version_are_errors(world: World) -> None:
    child = world.children["c1"]
    father = child.household.members.get(relation="father")
    with pytest.raises(ValidationError) as err:
        consents.consent_record(
            actor=world.director_c,
            child=child,
            given_by=father,
            given_on=dt.date(2026, 11, 1),
            version=" ",
            scopes=["marketing"],
        )
    assert {"scopes", "version"} <= set(err.value.message_dict)


def test_statutory_basis_needs_a_note_and_is_replaced_not_duplicated(world: World) -> None:
    child = world.children["c1"]
    with pytest.raises(ValidationError):
        consents.processing_basis_record(
            actor=world.director_c, child=child, purpose="sharing", basis="statutory_duty"
        )
    consents.processing_basis_record(
        actor=world.director_c,
        child=child,
        purpose="sharing",
        basis="statutory_duty",
        note="民发〔2024〕17号 监测摸排",
    )
    consents.processing_basis_record(
        actor=world.director_c,
        child=child,
        purpose="sharing",
        basis="vital_interest",
        note="强制报告 2026-11-20",
    )
    assert child.processing_bases.get(purpose="sharing").basis == "vital_interest"
    assert consents.sharing_allowed(child)


def test_those_who_register_or_refer_the_child_record_consent(world: World) -> None:
    """A social worker who obtained the guardian's consent for a referral records it; a
    volunteer (who may not refer) does not."""
    child = world.children["a1"]
    father = child.household.members.get(relation="father")
    consent = consents.consent_record(
        actor=world.socialworker,
        child=child,
        given_by=father,
        given_on=dt.date(2026, 11, 1),
        version="v1",
        scopes=["sharing"],
    )
    assert consents.sharing_consent(child) == consent
    with pytest.raises(PermissionDenied):
        consents.consent_record(
            actor=world.volunteer,
            child=child,
            given_by=father,
            given_on=dt.date(2026, 11, 1),
            version="v1",
            scopes=["registry"],
        )
