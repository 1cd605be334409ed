"""A case membership opens the child to the member, but never past the member's role ceiling
(issue 10, 6.3): a supervisor on a case sees screening results only as a summary, and a
counsellor leading a case sees the ID number masked."""

from __future__ import annotations

import pytest
from django.test import Client

from shouhu import access
from shouhu.cases import intakes, members
from shouhu.cases.models import Case
from shouhu.children import selectors
from tests.world import ID_A1, World

pytestmark = pytest.mark.django_db


def test_supervisor_added_to_a_case_sees_screening_results_only_as_a_summary(
    world: World,
) -> None:
    a1 = world.children["a1"]
    case = intakes.case_open(actor=world.socialworker, child=a1, channel="service", reason="x")
    assert isinstance(case, Case)
    members.member_add(
        actor=world.socialworker, case=case, user=world.supervisor, role="supervisor"
    )
    supervisor = type(world.supervisor).objects.get(pk=world.supervisor.pk)  # fresh scope
    assert case in access.cases_visible_to(supervisor)
    assert access.screening_access(supervisor, a1) == access.RESULTS_SUMMARY
    assert not access.can_administer(supervisor, a1)
    # The case worker the organisation assigned still reads the answers.
    assert access.screening_access(world.socialworker, a1) == access.RESULTS_FULL


@pytest.mark.usefixtures("sharing_allowed")
def test_counsellor_leading_a_case_sees_the_id_number_masked(world: World) -> None:
    a1 = world.children["a1"]
    intake = intakes.intake_create(
        actor=world.teacher_a,
        child=a1,
        channel="school_referral",
        reason="sad for weeks",
        consent="guardian",
        organisation=world.orgs["clinic"],
    )
    case = intakes.intake_decide(actor=world.counselor, intake=intake, accept=True)
    assert case is not None and case.lead_id == world.counselor.pk
    counsellor = type(world.counselor).objects.get(pk=world.counselor.pk)
    assert access.field_classes(counsellor, a1) == {access.BASIC, access.SENSITIVE}
    assert access.screening_access(counsellor, a1) == access.RESULTS_FULL
    view = selectors.present_child(counsellor, a1)
    assert view["id_number"] != ID_A1 and "*" in view["id_number"]
    client = Client()
    client.force_login(counsellor)
    page = client.get(f"/children/{a1.pk}/").content.decode()
    assert ID_A1 not in page
    refused = client.post(
        f"/children/{a1.pk}/reveal/", {"field_class": "identifying", "field": "id_number"}
    )
    assert refused.status_code == 403 and ID_A1 not in refused.content.decode()
