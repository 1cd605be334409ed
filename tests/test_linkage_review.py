"""Record linkage inside one deployment (issue 14): the matching job between a destination's
migrant children and their home counties' records, the review queue of both sides with each
record masked to the reader, decisions audited, links that tell both sides, and the consent
rule for sharing a linked child's file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client

from shouhu import access
from shouhu.accounts.models import OrgKind, Role
from shouhu.audit.models import AccessLog, ChangeRecord
from shouhu.children import registration
from shouhu.children.data import MemberData
from shouhu.children.models import Child, ProcessingBasis
from shouhu.linkage import matching, reviews, selectors, sharing
from shouhu.linkage.models import Candidate, Decision, Move, Share, Status
from shouhu.notify.models import Notification
from tests.world import (
    BORN,
    DEST_COMMUNITY,
    DESTINATION,
    TODAY,
    VILLAGE_A,
    VILLAGE_B,
    World,
    child_data,
    id_number,
    make_user,
    org,
    register,
)

pytestmark = pytest.mark.django_db

ID_CHEN = id_number(21)  # a boy of 金寨 born on BORN


def _parents(father: str, mother: str) -> list[MemberData]:
    return [
        MemberData(name=father, relation="father", is_guardian=True, phone="13700137000"),
        MemberData(name=mother, relation="mother", is_guardian=True),
    ]


@pytest.fixture
def pairs(world: World) -> dict[str, Child]:
    """陈思远, registered in 宝安 (hukou 齐山村) and at home with the same ID number: a sure
    match. 曾晓明 of 宝安 and 曾曉明 at home, written in traditional characters, born on the
    day and month swapped, without ID number or parents: one for review. 陈思源, his twin
    brother at home (same parents, same birthday, another name): never his match."""
    world.orgs["dest_bureau"] = org("宝安区民政局", OrgKind.CIVIL_AFFAIRS, DESTINATION)
    world.users["official_dest"] = make_user(
        "official_dest", world.orgs["dest_bureau"], Role.OFFICIAL
    )
    dest_born = dt.date(BORN.year, 3, 4)
    found = {
        "chen_dest": register(
            world.director_dest,
            child_data(
                "陈思远", DEST_COMMUNITY, hukou_code=VILLAGE_B, id_number=ID_CHEN,
                living_arrangement="both_parents", residence_since=dt.date(2024, 9, 1),
            ),
            members=_parents("陈建华", "王丽"),
        ),
        "chen_home": register(
            world.director_b,
            child_data(
                "陈思远", VILLAGE_B, id_number=ID_CHEN, school_id=world.orgs["school_b"].pk
            ),
            members=_parents("陈建华", "王丽"),
        ),
        "zeng_dest": register(
            world.director_dest,
            child_data(
                "曾晓明", DEST_COMMUNITY, hukou_code=VILLAGE_A, birth_date=dest_born,
                living_arrangement="both_parents",
            ),
            members=[MemberData(name="曾父", relation="father")],
        ),
        "zeng_home": register(
            world.director_a,
            child_data("曾曉明", VILLAGE_A, birth_date=dest_born.replace(month=4, day=3)),
            members=[MemberData(name="曾奶奶", relation="paternal_grandmother", is_guardian=True)],
        ),
    }  # fmt: skip
    found["twin_home"] = registration.child_register(
        actor=world.director_b,
        child=child_data("陈思源", VILLAGE_B),
        household_id=found["chen_home"].household_id,
        today=TODAY,
    )
    return found


def _pair(home: Child, destination: Child) -> Candidate | None:
    return Candidate.objects.filter(home=home, destination=destination).first()


def test_the_job_links_sure_pairs_queues_the_others_and_keeps_twins_apart(
    world: World, pairs: dict[str, Child]
) -> None:
    run = matching.run_matching()
    sure = _pair(pairs["chen_home"], pairs["chen_dest"])
    assert sure is not None and sure.status == Status.LINKED and sure.how == "sure"
    assert sure.evidence["id_number"] > 0 and sure.evidence["name"] > 0
    review = _pair(pairs["zeng_home"], pairs["zeng_dest"])
    assert review is not None and review.status == Status.REVIEW
    assert matching.LINK_THRESHOLD <= review.probability < matching.SURE
    assert not Candidate.objects.filter(home=pairs["twin_home"]).exists()
    assert (run.linked, run.to_review) == (1, 1)
    # The home county learns where the child lives now; both sides are told.
    move = Move.objects.get(child=pairs["chen_home"])
    assert move.to_place_id == DEST_COMMUNITY and move.since == dt.date(2024, 9, 1)
    told = set(
        Notification.objects.filter(category="link_made").values_list("user__username", flat=True)
    )
    assert {"director_b", "supervisor", "director_dest"} <= told
    # A second run makes nothing new and keeps what was decided.
    again = matching.run_matching()
    assert (again.linked, again.to_review) == (0, 0)
    assert Candidate.objects.count() == 2


def test_the_queue_belongs_to_the_reviewers_of_either_side(
    world: World, pairs: dict[str, Child]
) -> None:
    matching.run_matching()
    review = _pair(pairs["zeng_home"], pairs["zeng_dest"])
    assert review is not None
    for user in (world.supervisor, world.official, world.users["official_dest"]):
        assert review in access.link_candidates_visible_to(user)
    assert access.link_side_of(world.supervisor, review) == "home"
    assert access.link_side_of(world.users["official_dest"], review) == "destination"
    for user in (world.director_a, world.teacher_a, world.socialworker, world.director_dest):
        assert not access.may_review_links(user)
        with pytest.raises(Http404):
            access.get_link_candidate_for_user(user, review.pk, purpose="link_review")
    client = Client()
    client.force_login(world.teacher_a)
    assert client.get("/linkage/").status_code == 403
    assert client.get(f"/linkage/candidates/{review.pk}/").status_code == 404


def test_each_record_is_masked_to_the_reader_and_every_view_is_logged(
    world: World, pairs: dict[str, Child]
) -> None:
    matching.run_matching()
    sure = _pair(pairs["chen_home"], pairs["chen_dest"])
    assert sure is not None
    client = Client()
    client.force_login(world.supervisor)
    before = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    page = client.get(f"/linkage/candidates/{sure.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    # The supervisor's ceiling includes identifying fields: the number in part, never whole.
    assert ID_CHEN not in html and ID_CHEN[:4] in html and ID_CHEN[-4:] in html
    assert "13700137000" not in html and "137****7000" in html
    logged = (
        AccessLog.objects.all()[before:]
        if False
        else AccessLog.objects.filter(purpose="link_review")
    )
    assert {r.child_id for r in logged} == {pairs["chen_home"].pk, pairs["chen_dest"].pk}
    # An official of the destination (basic ceiling) sees neither number nor phone.
    shown = selectors.pair(world.users["official_dest"], sure)
    assert shown["home"]["id_number"] == "***" and shown["destination"]["id_number"] == "***"
    assert shown["home"]["guardian_phone"] == "***"
    assert shown["home"]["opens_file"] is False and shown["destination"]["opens_file"] is True
    lines = {line.field: line.agreement for line in shown["evidence"]}
    assert lines["id_number"] == "exact" and lines["residence_place"] == "differ"


def test_decisions_need_a_reason_are_kept_and_a_link_can_be_undone(
    world: World, pairs: dict[str, Child]
) -> None:
    matching.run_matching()
    review = _pair(pairs["zeng_home"], pairs["zeng_dest"])
    assert review is not None
    with pytest.raises(ValidationError) as refused:
        reviews.decide(actor=world.supervisor, candidate=review, verdict="match", reason=" ")
    assert "reason" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        reviews.decide(actor=world.director_a, candidate=review, verdict="match", reason="同一人")
    unsure = reviews.decide(
        actor=world.supervisor, candidate=review, verdict="unsure", reason="出生日期不一致"
    )
    assert unsure.status == Status.UNSURE
    told = Notification.objects.filter(category="link_unsure")
    assert [n.user.username for n in told] == ["official_dest"]  # the other side's reviewer
    linked = reviews.decide(
        actor=world.users["official_dest"],
        candidate=review,
        verdict="match",
        reason="家长确认：农历生日，繁体登记",
    )
    assert linked.status == Status.LINKED and linked.how == "reviewed"
    assert [d.side for d in Decision.objects.filter(candidate=review)] == ["home", "destination"]
    history = ChangeRecord.objects.filter(object_type="decision")
    assert {r.child_id for r in history} == {pairs["zeng_home"].pk, pairs["zeng_dest"].pk}
    # Reviewed pairs feed the next training run.
    assert matching.labels() == ((str(pairs["zeng_home"].pk), str(pairs["zeng_dest"].pk)),)
    undone = reviews.decide(
        actor=world.supervisor, candidate=review, verdict="non_match", reason="户籍核查：非同一人"
    )
    assert undone.status == Status.REJECTED and undone.ended_at is not None
    with pytest.raises(ValidationError):
        reviews.decide(actor=world.supervisor, candidate=review, verdict="match", reason="再看")
    matching.run_matching()
    assert Candidate.objects.get(pk=review.pk).status == Status.REJECTED  # never comes back


def _linked(pairs: dict[str, Child]) -> Candidate:
    matching.run_matching()
    link = _pair(pairs["chen_home"], pairs["chen_dest"])
    assert link is not None and link.status == Status.LINKED
    return link


def test_sharing_needs_consent_a_legal_basis_or_an_older_childs_request(
    world: World, pairs: dict[str, Child]
) -> None:
    link = _linked(pairs)
    home, dest_bureau = pairs["chen_home"], world.orgs["dest_bureau"]
    official_dest = world.users["official_dest"]
    assert not access.children_visible_to(official_dest).filter(pk=home.pk).exists()

    def share(**kw: Any) -> Share:
        values: dict[str, Any] = {
            "actor": world.director_b,
            "candidate": link,
            "child": home,
            "organisation": dest_bureau,
            "basis": "consent",
        }
        values.update(kw)
        return sharing.share_create(**values)

    with pytest.raises(ValidationError) as refused:
        share()
    assert "basis" in refused.value.message_dict  # no consent on record
    with pytest.raises(ValidationError) as refused:
        share(basis="child", note="孩子说想让深圳的社工知道")
    assert "basis" in refused.value.message_dict  # 11 years old: under 14
    with pytest.raises(ValidationError) as refused:
        share(basis="legal")
    assert "basis" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        share(organisation=world.orgs["swo"])  # the home side's own organisation
    assert "organisation" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        share(actor=world.teacher_b)
    ProcessingBasis.objects.create(
        child=home, purpose="sharing", basis="statutory_duty", recorded_on=TODAY, note="未保法"
    )
    made = share(basis="legal")
    assert made.fields == "basic" and made.basis_note
    access.forget_assignments()
    official_dest = type(official_dest).objects.get(pk=official_dest.pk)  # a fresh scope
    assert access.children_visible_to(official_dest).filter(pk=home.pk).exists()
    assert access.field_classes(official_dest, home) == frozenset({"basic"})
    opened = access.get_child_for_user(official_dest, home.pk, purpose="link_share")
    assert opened.pk == home.pk
    assert AccessLog.objects.filter(user=official_dest, child_id=home.pk).exists()
    with pytest.raises(ValidationError):
        share(basis="legal")  # already shared with this organisation
    # Either side ends it, with a reason; the file closes again.
    with pytest.raises(ValidationError):
        sharing.share_end(actor=official_dest, share=made, reason="")
    ended = sharing.share_end(actor=official_dest, share=made, reason="孩子已回老家")
    assert not ended.active
    official_dest = type(official_dest).objects.get(pk=official_dest.pk)
    assert not access.children_visible_to(official_dest).filter(pk=home.pk).exists()


def test_a_child_of_fourteen_may_ask_for_the_basic_fields_only(
    world: World, pairs: dict[str, Child]
) -> None:
    link = _linked(pairs)
    home = pairs["chen_home"]
    Child.objects.filter(pk=home.pk).update(birth_date=BORN.replace(year=BORN.year - 4))
    home.refresh_from_db()
    kw: dict[str, Any] = {
        "actor": world.director_b,
        "candidate": link,
        "child": home,
        "organisation": world.orgs["dest_bureau"],
        "basis": "child",
    }
    with pytest.raises(ValidationError) as refused:
        sharing.share_create(**kw)
    assert "basis_note" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        sharing.share_create(**kw, note="2026-11-20 本人要求", fields="full")
    assert "extent" in refused.value.message_dict
    made = sharing.share_create(**kw, note="2026-11-20 本人要求告知深圳学校")
    assert made.basis == "child" and made.fields == "basic"


def test_the_api_gives_the_queue_decisions_links_and_shares(
    world: World, pairs: dict[str, Child]
) -> None:
    from tests.test_api_cases import Api

    matching.run_matching()
    api = Api("supervisor")
    items = api.get("/api/v1/linkage/candidates").json()["items"]
    review = _pair(pairs["zeng_home"], pairs["zeng_dest"])
    assert review is not None and [i["id"] for i in items] == [review.pk]
    assert {e["field"] for e in items[0]["evidence"]} >= {"name", "birth_date", "id_number"}
    # The API shows each record whole (partly masked numbers): its read says so.
    logged = AccessLog.objects.filter(purpose="api_link_review", child_id=review.home_id)
    assert logged.exists() and all("identifying" in r.fields for r in logged)
    bad = api.post(f"/api/v1/linkage/candidates/{review.pk}/decision", {"verdict": "match"})
    assert bad.status_code == 400
    done = api.post(
        f"/api/v1/linkage/candidates/{review.pk}/decision",
        {"verdict": "match", "reason": "奶奶电话确认"},
    )
    assert done.status_code == 200 and done.json()["status"] == "linked"
    assert Api("teacher_a").get("/api/v1/linkage/candidates").status_code == 403
    home = pairs["chen_home"]
    links = Api("director_b").get(f"/api/v1/children/{home.pk}/links").json()["items"]
    assert len(links) == 1 and links[0]["this_side"] == "home"
    assert links[0]["other_child"] is None and "宝安" in links[0]["other_place"]
    assert links[0]["moves"][0]["since"] == "2024-09-01"
    director = Api("director_b")
    url = f"/api/v1/children/{home.pk}/shares"
    payload = {
        "link": links[0]["id"],
        "organisation": world.orgs["dest_bureau"].pk,
        "basis": "consent",
    }
    refused = director.post(url, payload)
    assert refused.status_code == 400 and "basis" in refused.json()["errors"]
    ProcessingBasis.objects.create(
        child=home, purpose="sharing", basis="statutory_duty", recorded_on=TODAY, note="未保法"
    )
    made = director.post(url, {**payload, "basis": "legal"})
    assert made.status_code == 201, made.content
    share_id = made.json()["id"]
    teacher = Api("teacher_b")  # reads the home child's basic fields: not the basis note
    shown = teacher.get(f"/api/v1/children/{home.pk}/links").json()["items"][0]["shares"][0]
    assert "basis_note" not in shown and "end_reason" not in shown
    assert director.get(f"/api/v1/children/{home.pk}/links").json()["items"][0]["shares"][0][
        "basis_note"
    ]

    def delete(api: Api, body: dict[str, Any]) -> Any:
        return api.client.delete(
            f"/api/v1/shares/{share_id}", body, content_type="application/json", **api.headers
        )

    assert delete(Api("teacher_a"), {"reason": "x"}).status_code == 404
    ended = delete(director, {"reason": "监护人撤回"})
    assert ended.status_code == 200 and ended.json()["active"] is False


def test_the_evidence_names_every_level_of_the_model() -> None:
    """`evidence.LEVELS` says in words each level of `settings.chinese()`, in its order: the
    words a reviewer reads are the model's own levels."""
    from django.utils import translation

    from shouhu.linkage import evidence
    from shouhu.linkage import settings as model

    with translation.override("en"):
        for comparison in model.chinese().comparisons:
            built = comparison.get_comparison("duckdb")
            levels = [lv.label_for_charts for lv in built.comparison_levels][1:-1]
            assert [str(x) for x in evidence.LEVELS[built.output_column_name][:-1]] == levels


def test_both_boards_show_the_linked_child_and_cases_go_over_to_the_other_side(
    world: World, pairs: dict[str, Child]
) -> None:
    from shouhu.cases.forms import organisations_for
    from shouhu.cases.intakes import case_open
    from shouhu.cases.selectors import coordination

    _linked(pairs)
    ProcessingBasis.objects.create(
        child=pairs["chen_home"], purpose="sharing", basis="statutory_duty", recorded_on=TODAY
    )
    from shouhu.children.assignments import assignment_create

    assignment_create(
        actor=None,
        child=pairs["chen_home"],
        organisation=world.orgs["swo"],
        kind="case_worker",
        user=world.socialworker,
    )
    case = case_open(
        actor=world.socialworker, child=pairs["chen_home"], channel="service", reason="奶奶生病"
    )
    home_board = coordination(world.supervisor)["linked"]
    assert [(r["home"], r["destination"]) for r in home_board] == [
        (pairs["chen_home"].pk, pairs["chen_dest"].pk)
    ]
    assert home_board[0]["home_services"].startswith("1 ")
    assert home_board[0]["opens_home"] and not home_board[0]["opens_destination"]
    dest_board = coordination(world.users["official_dest"])["linked"]
    assert [r["link"] for r in dest_board] == [r["link"] for r in home_board]
    # A case of the home record is handed over across counties: the organisations where the
    # child now lives come first.
    first = organisations_for(case).first()
    assert first is not None and first.jurisdiction_id.startswith("440306")


def test_a_record_is_never_linked_with_itself(world: World, pairs: dict[str, Child]) -> None:
    """A child of 金寨 whose hukou is in 宝安 makes 宝安 a home county too: its migrant
    children must still be matched with 宝安's own children, never with themselves."""
    register(
        world.director_a,
        child_data("赵小北", VILLAGE_A, hukou_code=DEST_COMMUNITY, birth_date=dt.date(2016, 5, 5)),
    )
    matching.run_matching()
    assert not [c for c in Candidate.objects.all() if c.home_id == c.destination_id]
    sure = _pair(pairs["chen_home"], pairs["chen_dest"])
    assert sure is not None and sure.status == Status.LINKED


def test_a_share_is_read_not_worked_on_and_ends_with_the_consent(
    world: World, pairs: dict[str, Child]
) -> None:
    from shouhu.cases.intakes import case_open
    from shouhu.children.consents import consent_record, consent_withdraw
    from shouhu.children.models import FamilyMember

    link = _linked(pairs)
    home = pairs["chen_home"]
    father = FamilyMember.objects.get(household=home.household, relation="father")
    consent = consent_record(
        actor=world.director_b,
        child=home,
        given_by=father,
        given_on=TODAY,
        version="2026-01",
        scopes=["registry", "sharing"],
    )
    share = sharing.share_create(
        actor=world.director_b,
        candidate=link,
        child=home,
        organisation=world.orgs["swo2"],  # 宝安's social-work centre
        basis="consent",
        fields="full",
    )
    worker = type(world.socialworker_dest).objects.get(pk=world.socialworker_dest.pk)
    assert access.field_classes(worker, home) == frozenset({"basic", "identifying", "sensitive"})
    # Reading the shared file is not working on it: a case goes over by a transfer.
    assert not access.may_refer(worker, home)
    with pytest.raises((PermissionDenied, ValidationError)):
        case_open(actor=worker, child=home, channel="service", reason="想在深圳开案")
    consent_withdraw(actor=world.director_b, consent=consent)
    share.refresh_from_db()
    assert not share.active and share.end_reason
    worker = type(worker).objects.get(pk=worker.pk)
    assert not access.children_visible_to(worker).filter(pk=home.pk).exists()


def test_a_basic_share_shows_nothing_of_the_screenings(
    world: World, pairs: dict[str, Child]
) -> None:
    link = _linked(pairs)
    home = pairs["chen_home"]
    ProcessingBasis.objects.create(
        child=home, purpose="sharing", basis="statutory_duty", recorded_on=TODAY
    )
    sharing.share_create(
        actor=world.director_b,
        candidate=link,
        child=home,
        organisation=world.orgs["dest_bureau"],
        basis="legal",
    )
    official = type(world.users["official_dest"]).objects.get(pk=world.users["official_dest"].pk)
    assert access.screening_levels(official, home)["screening"] == access.RESULTS_NONE
    assert not access.may_refer(official, home)
