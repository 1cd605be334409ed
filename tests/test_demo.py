"""The demo county and the generator: personas with children in scope, derived categories,
idempotent loads."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from shouhu import access
from shouhu.accounts.models import User
from shouhu.children.models import (
    Child,
    ChildAssignment,
    Consent,
    FamilyMember,
    ProcessingBasis,
)
from shouhu.demo.services import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

PERSONAS = [
    "director1",
    "supervisor1",
    "official1",
    "socialworker1",
    "counselor1",
    "teacher1",
    "volunteer1",
]


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    call_command("demo", "load", children=600)


def test_every_persona_logs_in_and_has_children_in_scope(demo: None) -> None:
    for username in PERSONAS:
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        assert access.children_visible_to(user).exists(), username
    admin = User.objects.get(username="admin1")
    assert admin.is_superuser and not access.children_visible_to(admin).exists()
    # The technology envoy keeps devices working: tickets and sites, no child data.
    envoy = User.objects.get(username="techenvoy1")
    assert envoy.check_password(DEMO_PASSWORD)
    assert not access.children_visible_to(envoy).exists()


def test_demo_has_screenings_an_alert_and_a_risk_level_for_every_child(demo: None) -> None:
    from shouhu.screening.models import Administration, Alert, RiskLevel
    from shouhu.tasks.models import Task

    assert Administration.objects.filter(instrument="gad7").exists()
    assert Alert.objects.exists()
    assert RiskLevel.objects.count() == Child.objects.count()
    assert Task.objects.filter(kind="home_visit", status="open").count() == Child.objects.count()
    from shouhu.cases.models import Case

    worker = User.objects.get(username="socialworker1")
    assert access.cases_visible_to(worker).exclude(stage="closed").exists()
    from shouhu.reunion.models import Session

    assert Session.objects.exists()  # teacher1's room has next week planned
    cases = Case.objects.count()
    call_command("demo", "load", children=600)  # again: nothing doubles
    assert Case.objects.count() == cases
    assert RiskLevel.objects.count() == Child.objects.count()
    assert Task.objects.filter(kind="home_visit", status="open").count() == Child.objects.count()


def test_director_sees_one_village_and_teacher_one_school(demo: None) -> None:
    director = User.objects.get(username="director1")
    villages = set(access.children_visible_to(director).values_list("residence", flat=True))
    assert len(villages) == 1
    teacher = User.objects.get(username="teacher1")
    schools = set(access.children_visible_to(teacher).values_list("school", flat=True))
    assert len(schools) == 1


def test_categories_are_derived_and_realistic(demo: None) -> None:
    from shouhu.demo import linkage

    home_records = linkage.SURE + linkage.REVIEW + linkage.OTHER  # 金寨 records of 宝安 children
    total = Child.objects.count()
    assert 550 + home_records <= total <= 600 + home_records
    left_behind = Child.objects.filter(cat_left_behind_mca=True)
    assert 0.15 * total < left_behind.count() < 0.6 * total
    # Every left-behind child really has both parents away, or one away and one incapable.
    for child in left_behind[:50]:
        parents = FamilyMember.objects.filter(
            household_id=child.household_id, relation__in=["father", "mother"]
        )
        assert any(p.away for p in parents)
    assert Child.objects.filter(cat_migrant=True, residence__code__startswith="440306").exists()
    assert Child.objects.filter(cat_difficulty_poverty=True).exists()
    # Siblings share a household.
    assert Child.objects.values("household").distinct().count() < total


def test_assignments_open_children_to_workers(demo: None) -> None:
    worker = User.objects.get(username="socialworker1")
    assert ChildAssignment.objects.filter(user=worker, kind="case_worker").count() > 0


def test_consents_come_from_able_guardians_and_every_purpose_has_a_basis(demo: None) -> None:
    consents = Consent.objects.select_related("given_by", "child")
    assert consents.exists()
    for consent in consents:
        assert consent.given_by.is_guardian and consent.given_by.capacity == "able"
        assert consent.given_by.household_id == consent.child.household_id
        bases = set(consent.child.processing_bases.values_list("purpose", "basis"))
        assert {(scope, "consent") for scope in consent.scopes} <= bases
    case_children = ChildAssignment.objects.filter(kind="case_worker").values("child")
    duty = ProcessingBasis.objects.filter(child__in=case_children, purpose="case_work")
    assert duty.count() == case_children.count()
    assert all(b.basis == "statutory_duty" and b.note for b in duty)


def test_children_whose_parents_cannot_care_have_a_grandparent_guardian(demo: None) -> None:
    assert not FamilyMember.objects.filter(is_guardian=True, capacity="deceased").exists()
    orphans = Child.objects.filter(cat_orphan=True)
    assert orphans.exists()
    for child in orphans:
        guardians = FamilyMember.objects.filter(household_id=child.household_id, is_guardian=True)
        assert [g.relation for g in guardians] and all("grand" in g.relation for g in guardians)


def test_loading_again_creates_no_duplicates(demo: None) -> None:
    def counts() -> tuple[int, ...]:
        return tuple(
            model.objects.count()
            for model in (Child, FamilyMember, ChildAssignment, Consent, ProcessingBasis, User)
        )

    before = counts()
    call_command("demo", "load", children=600)
    assert counts() == before
    assert User.objects.get(username="director1").memberships.count() == 1


def test_demo_is_refused_when_switched_off(db, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SHOUHU_DEMO = False
    with pytest.raises(CommandError):
        call_command("demo", "load", children=100)
    assert not Child.objects.exists()


def test_gen_generates_any_number_and_is_repeatable(db) -> None:  # type: ignore[no-untyped-def]
    call_command("gen", children=300, seed=7)
    first = Child.objects.count()
    assert 280 <= first <= 300
    call_command("gen", children=300, seed=7)
    assert Child.objects.count() == first
    call_command("gen", children=300, seed=8)
    assert Child.objects.count() >= first + 280  # another seed: other children, not skipped


def test_gen_refuses_a_county_without_villages(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="341522"):
        call_command("gen", children=50, county="341522")
    with pytest.raises(CommandError):
        call_command("gen", children=50, county="34")


def test_id_numbers_are_valid_unique_and_differ_between_id_seeds() -> None:
    import datetime as dt

    from shouhu.demo.people import IdNumbers
    from shouhu.lib import idnumber

    day = dt.date(2015, 3, 1)
    first, second = IdNumbers(2), IdNumbers(4)  # `gen --seed 1` and `--seed 2`
    a = {first.make("341524", day, "M") for _ in range(60)}
    b = {second.make("341524", day, "M") for _ in range(60)}
    assert len(a) == len(b) == 60 and not a & b
    for number in a:
        assert idnumber.parse(number).birth_date == day


def test_the_demo_project_has_history_behind_every_figure(demo: None) -> None:
    """official1 opens the project of the demo county: sessions held with roll calls, a
    caregiver course, counselling, an accepted milestone, three absences followed up."""
    from django.test import Client
    from django.urls import reverse

    from shouhu.programmes import selectors
    from shouhu.programmes.models import Project
    from shouhu.tasks.models import Task

    project = Project.objects.get()
    f = selectors.figures(project)
    assert f.person_times > f.counselling == 5 and f.persons > 5
    assert f.child_activities == 12 and f.caregiver_events == 4 and f.class_hours > 0
    from shouhu.programmes import outcomes
    from shouhu.programmes.models import Programme

    measured = outcomes.outcomes(Programme.objects.get(instrument="strengths"))
    assert measured is not None and measured.paired >= 5 and measured.crossed
    assert len(selectors.breakdown(project, "month")) >= 3  # three months of history
    assert 0 < f.coverage <= 100
    assert project.milestones.filter(accepted_on__isnull=False).exists()
    assert Task.objects.filter(title="Absent from a programme three times in a row").exists()
    client = Client()
    client.force_login(User.objects.get(username="official1"))
    page = client.get(reverse("programmes:project", args=[project.pk]))
    assert page.status_code == 200 and 'data-testid="targets"' in page.content.decode()
    report = client.get(reverse("programmes:report", args=[project.pk]))
    assert report.status_code == 200 and 'data-testid="report-sessions"' in report.content.decode()


def test_the_demo_has_surrogate_parents_one_of_whom_missed_a_contact(demo: None) -> None:
    """director1's village: three surrogate parents; the retired teacher's weekly call is
    missed, so director1 has one task for it and the child's risk facts say so."""
    from shouhu.screening.models import RiskLevel
    from shouhu.surrogates import services
    from shouhu.surrogates.models import Arrangement
    from shouhu.tasks.models import Task

    director = User.objects.get(username="director1")
    assert Arrangement.objects.filter(status="active", created_by=director).count() == 3
    tasks = Task.objects.filter(kind="surrogate_contact", status="open")
    assert [t.assignee for t in tasks] == [director]
    level = RiskLevel.objects.get(child_id=tasks[0].child_id)
    assert level.facts["surrogate_contact_missed"] is True
    assert services.missed() == (0, 0)  # the job already ran: nothing more to do


def test_the_demo_links_some_migrant_children_and_queues_others_for_both_sides(
    demo: None,
) -> None:
    """宝安's migrant children against 金寨's records: sure links, pairs for supervisor1 (home)
    and official2 (destination) to review, and the namesakes among them."""
    from shouhu.linkage.models import Candidate

    linked = Candidate.objects.filter(status="linked")
    waiting = Candidate.objects.filter(status="review")
    assert linked.count() >= 10 and waiting.count() >= 3
    for username in ("supervisor1", "official2"):
        user = User.objects.get(username=username)
        assert set(access.link_candidates_visible_to(user).filter(status="review")) == set(waiting)
    namesakes = [
        c for c in waiting if c.home.name == c.destination.name and c.evidence["father_name"] == 0
    ]
    assert namesakes  # the same name and birthday, other parents: for a reviewer to tell apart
