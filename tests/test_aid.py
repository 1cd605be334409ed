"""Sponsors and aid (issue 13): money kept exact to the fen, applications decided by a named
reviewer, payments never above the approval and each one in the change history, the
double-aid rule, and the sponsor's report that names no child."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shouhu import access
from shouhu.accounts.models import Role, User
from shouhu.aid import selectors, services
from shouhu.aid.models import (
    AidKind,
    Application,
    Disbursement,
    Method,
    PledgeForm,
    Recurrence,
    Scheme,
    Sponsor,
    SponsorKind,
    Status,
)
from shouhu.audit.models import ChangeRecord
from shouhu.children.models import Aid, Child, Household
from tests.world import (
    NOW,
    TODAY,
    VILLAGE_A,
    VILLAGE_B,
    VILLAGE_C,
    World,
    child_data,
    make_user,
    register,
)

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _english() -> Any:
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def reviewer(world: World) -> User:
    return make_user("swo_reviewer", world.orgs["swo"], Role.SOCIAL_WORKER)


def _scheme(world: World, **kw: Any) -> Scheme:
    values: dict[str, Any] = {
        "actor": world.socialworker,
        "organisation": world.orgs["swo"],
        "name": "流动书桌助学金",
        "kind": AidKind.EDUCATION,
        "amount": Decimal("1200.00"),
        "starts_on": TODAY - 60 * DAY,
        "ends_on": TODAY + 300 * DAY,
        "criteria": "困境儿童、留守儿童，在读小学生",
    }
    values.update(kw)
    return services.scheme_create(**values)


def _approved(
    world: World,
    reviewer: User,
    scheme: Scheme,
    child: Child | None = None,
    amount: Any = None,
    applicant: User | None = None,
) -> Application:
    # Applied and approved fifty days ago: the tests pay in the weeks since.
    with time_machine.travel(NOW - 50 * DAY, tick=False):
        application = services.application_submit(
            actor=applicant or world.director_a,
            scheme=scheme,
            child=child or world.children["a1"],
            reason="父母外出务工，奶奶年老",
        )
        return services.application_decide(
            actor=reviewer,
            application=application,
            approve=True,
            note="符合条件",
            amount=amount,
        )


def _pay(world: World, application: Application, amount: Any, **kw: Any) -> Disbursement:
    values: dict[str, Any] = {
        "actor": world.socialworker,
        "application": application,
        "paid_on": TODAY,
        "method": Method.BANK_TRANSFER,
        "amount": amount,
        "receipt_ref": "BT-001",
    }
    values.update(kw)
    return services.disbursement_add(**values)


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


# ---------------------------------------------------------------- money


def test_payments_sum_exactly_to_the_fen(world: World, reviewer: User) -> None:
    application = _approved(world, reviewer, _scheme(world, amount="0.30"))
    for amount in ("0.10", "0.10", Decimal("0.1")):
        _pay(world, application, amount)
    assert services.paid_so_far(application) == Decimal("0.30")
    with pytest.raises(ValidationError) as exc:
        _pay(world, application, "0.01")
    assert "amount" in _errors(exc)


def test_a_payment_above_what_is_left_of_the_approval_is_refused_naming_amount(
    world: World, reviewer: User
) -> None:
    application = _approved(world, reviewer, _scheme(world), amount="1000.00")
    _pay(world, application, "600.00")
    with pytest.raises(ValidationError) as exc:
        _pay(world, application, "400.01")
    assert list(_errors(exc)) == ["amount"]
    assert "400.00" in _errors(exc)["amount"][0]
    assert Disbursement.objects.filter(application=application).count() == 1
    _pay(world, application, "400.00")
    assert services.paid_so_far(application) == Decimal("1000.00")


@pytest.mark.parametrize(
    "amount", [12.5, "-1.00", Decimal("-0.01"), "1.005", Decimal("3.141"), "abc", "NaN", "1e12"]
)
def test_float_negative_or_sub_fen_amounts_are_refused(world: World, amount: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        _scheme(world, amount=amount)
    assert list(_errors(exc)) == ["amount"]
    assert not Scheme.objects.exists()


def test_whole_numbers_and_trailing_zeros_are_exact(world: World) -> None:
    assert _scheme(world, amount=800).amount == Decimal("800.00")
    assert _scheme(world, name="B", amount="12.500").amount == Decimal("12.50")


def test_the_approved_amount_is_at_most_the_schemes(world: World, reviewer: User) -> None:
    scheme = _scheme(world)
    application = services.application_submit(
        actor=world.director_a, scheme=scheme, child=world.children["a1"], reason="需要"
    )
    with pytest.raises(ValidationError) as exc:
        services.application_decide(
            actor=reviewer, application=application, approve=True, note="ok", amount="1200.01"
        )
    assert list(_errors(exc)) == ["amount"]
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED and application.reviewer is None


# ---------------------------------------------------------------- decisions


def test_a_named_reviewer_approves_with_a_note_and_the_change_is_recorded(
    world: World, reviewer: User
) -> None:
    application = _approved(world, reviewer, _scheme(world), amount="900.00")
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert application.reviewer == reviewer
    assert application.decision_note == "符合条件"
    assert application.approved_amount == Decimal("900.00")
    record = ChangeRecord.objects.filter(
        object_type="application", object_id=str(application.pk), operation="update"
    ).get()
    assert record.actor == reviewer and record.child_id == world.children["a1"].pk
    assert record.changes["status"] == ["submitted", "approved"]


def test_the_worker_who_applied_does_not_decide_and_a_note_is_required(
    world: World, reviewer: User
) -> None:
    application = services.application_submit(
        actor=world.socialworker, scheme=_scheme(world), child=world.children["a1"], reason="x"
    )
    with pytest.raises(PermissionDenied):
        services.application_decide(
            actor=world.socialworker, application=application, approve=True, note="ok"
        )
    with pytest.raises(ValidationError) as exc:
        services.application_decide(actor=reviewer, application=application, approve=False, note="")
    assert list(_errors(exc)) == ["note"]
    services.application_decide(
        actor=reviewer, application=application, approve=False, note="不符合"
    )
    with pytest.raises(ValidationError):
        services.application_decide(actor=reviewer, application=application, approve=True, note="x")


def test_a_rejected_application_is_not_paid(world: World, reviewer: User) -> None:
    application = services.application_submit(
        actor=world.director_a, scheme=_scheme(world), child=world.children["a1"], reason="x"
    )
    services.application_decide(actor=reviewer, application=application, approve=False, note="否")
    with pytest.raises(ValidationError) as exc:
        _pay(world, application, "10.00")
    assert list(_errors(exc)) == ["application"]


def test_someone_outside_the_organisation_does_not_decide(world: World) -> None:
    application = services.application_submit(
        actor=world.director_a, scheme=_scheme(world), child=world.children["a1"], reason="x"
    )
    with pytest.raises(PermissionDenied):
        services.application_decide(
            actor=world.supervisor, application=application, approve=True, note="ok"
        )


# ---------------------------------------------------------------- access


def test_a_worker_who_cannot_see_the_child_cannot_apply(world: World) -> None:
    scheme = _scheme(world)
    for user in (world.director_b, world.volunteer, world.techenvoy, world.official):
        with pytest.raises(PermissionDenied):
            services.application_submit(
                actor=user, scheme=scheme, child=world.children["a1"], reason="x"
            )
    assert not Application.objects.exists()


def test_only_the_organisations_workers_manage_its_schemes_and_sponsors(world: World) -> None:
    with pytest.raises(PermissionDenied):
        _scheme(world, actor=world.director_a)
    with pytest.raises(PermissionDenied):
        services.sponsor_create(
            actor=world.volunteer, organisation=world.orgs["volunteers"], kind="person", name="x"
        )
    scheme = _scheme(world)
    assert list(access.aid_schemes_visible_to(world.socialworker)) == [scheme]
    assert not access.aid_schemes_visible_to(world.director_a).exists()


def test_the_sponsor_side_never_lists_children(world: World, reviewer: User) -> None:
    _approved(world, reviewer, _scheme(world))
    # The volunteer (a sponsor's contact) and the technician see no application.
    for user in (world.volunteer, world.techenvoy):
        assert not access.aid_applications_visible_to(user).exists()
    assert access.aid_applications_visible_to(reviewer).count() == 1
    assert access.aid_applications_visible_to(world.director_a).count() == 1
    assert not access.aid_applications_visible_to(world.director_b).exists()


# ---------------------------------------------------------------- sponsors and pledges


def test_sponsors_pledge_money_or_goods(world: World) -> None:
    scheme = _scheme(world)
    sponsor = services.sponsor_create(
        actor=world.socialworker,
        organisation=world.orgs["swo"],
        kind=SponsorKind.FOUNDATION,
        name="某某公益基金会",
        contact="王女士 0564-1234567",
    )
    pledge = services.pledge_add(
        actor=world.socialworker,
        sponsor=sponsor,
        form=PledgeForm.MONEY,
        amount="50000.00",
        recurrence=Recurrence.YEARLY,
        scheme=scheme,
    )
    assert pledge.amount == Decimal("50000.00") and pledge.scheme == scheme
    goods = services.pledge_add(
        actor=world.socialworker, sponsor=sponsor, form=PledgeForm.IN_KIND, items="书包 50 个"
    )
    assert goods.amount is None
    with pytest.raises(ValidationError) as exc:
        services.pledge_add(actor=world.socialworker, sponsor=sponsor, form=PledgeForm.IN_KIND)
    assert list(_errors(exc)) == ["items"]
    with pytest.raises(ValidationError) as exc:
        services.pledge_add(
            actor=world.socialworker, sponsor=sponsor, form=PledgeForm.MONEY, amount=0.5
        )
    assert list(_errors(exc)) == ["amount"]


# ---------------------------------------------------------------- audit


def test_every_disbursement_is_an_audited_change_with_the_child(
    world: World, reviewer: User
) -> None:
    application = _approved(world, reviewer, _scheme(world))
    first = _pay(world, application, "300.00")
    second = _pay(world, application, None, method=Method.IN_KIND, items="冬衣一套", receipt_ref="")
    records = ChangeRecord.objects.filter(object_type="disbursement", operation="create")
    assert {r.object_id for r in records} == {str(first.pk), str(second.pk)}
    for record in records:
        assert record.child_id == world.children["a1"].pk
        assert record.actor == world.socialworker
    assert records.get(object_id=str(first.pk)).changes["amount"] == [None, "300.00"]


def test_a_refused_disbursement_writes_nothing(world: World, reviewer: User) -> None:
    application = _approved(world, reviewer, _scheme(world))
    with pytest.raises(ValidationError) as exc:
        _pay(world, application, "50.00", receipt_ref="", paid_on=TODAY + DAY)
    assert set(_errors(exc)) == {"receipt_ref", "paid_on"}
    assert not Disbursement.objects.exists()
    assert not ChangeRecord.objects.filter(object_type="disbursement").exists()


# ---------------------------------------------------------------- the child's aid


def test_aid_of_a_child_shows_government_and_scheme_aid(world: World, reviewer: User) -> None:
    child = world.children["a1"]
    Household.objects.filter(pk=child.household_id).update(aid=Aid.DIBAO)
    child.refresh_from_db()
    application = _approved(world, reviewer, _scheme(world))
    _pay(world, application, "600.00", paid_on=TODAY - DAY)
    lines = selectors.aid_of_child(child)
    assert [(line.source, line.kind) for line in lines] == [
        ("government", AidKind.LIVING),
        (world.orgs["swo"].name, AidKind.EDUCATION),
    ]
    assert lines[1].amount == Decimal("600.00") and lines[1].paid_on == TODAY - DAY


def test_the_childs_page_lists_the_aid_for_the_workers_who_handle_aid(
    world: World, reviewer: User
) -> None:
    from django.test import Client

    child = world.children["a1"]
    Household.objects.filter(pk=child.household_id).update(aid=Aid.DIBAO)
    application = _approved(world, reviewer, _scheme(world))
    _pay(world, application, "600.00", paid_on=TODAY - DAY)
    page = Client()
    page.force_login(world.director_a)
    text = page.get(f"/children/{child.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="aid"' in text
    assert "Government" in text and "流动书桌助学金" in text and "¥600.00" in text
    assert "Bank transfer" in text and "bank_transfer" not in text  # labels, not codes
    teacher = Client()
    teacher.force_login(world.teacher_a)
    assert 'data-testid="aid"' not in teacher.get(f"/children/{child.pk}/").content.decode()


# ---------------------------------------------------------------- the double-aid rule


def test_the_same_kind_from_two_sources_in_one_period_is_flagged(
    world: World, reviewer: User
) -> None:
    child = world.children["a1"]
    one = _approved(world, reviewer, _scheme(world))
    two = _approved(world, reviewer, _scheme(world, name="春蕾计划"))
    _pay(world, one, "500.00", paid_on=TODAY - 10 * DAY)
    _pay(world, two, "500.00", paid_on=TODAY - 5 * DAY)
    found = selectors.double_aid(Child.objects.all(), TODAY - 30 * DAY, TODAY)
    assert found.double == {(child.pk, AidKind.EDUCATION): {str(one.scheme_id), str(two.scheme_id)}}


def test_the_same_kind_in_successive_periods_is_not_flagged(world: World, reviewer: User) -> None:
    spring = _scheme(world, starts_on=TODAY - 60 * DAY, ends_on=TODAY - 31 * DAY)
    autumn = _scheme(world, name="秋季助学", starts_on=TODAY - 30 * DAY, ends_on=TODAY + 30 * DAY)
    with_clock = _approved(world, reviewer, autumn)
    _pay(world, with_clock, "500.00", paid_on=TODAY - 2 * DAY)
    # The spring scheme's period is over: its application was made and paid back then.
    old = Application.objects.create(
        scheme=spring,
        child=world.children["a1"],
        reason="x",
        status=Status.APPROVED,
        submitted_at=with_clock.submitted_at,
        submitted_by=world.director_a,
        reviewer=reviewer,
        decided_at=with_clock.decided_at,
        approved_amount=Decimal("500.00"),
    )
    Disbursement.objects.create(
        application=old,
        child=old.child,
        scheme=spring,
        kind=spring.kind,
        paid_on=TODAY - 40 * DAY,
        amount=Decimal("500.00"),
        method=Method.CASH,
        recorded_by=world.socialworker,
        recorded_at=with_clock.decided_at,
    )
    # Another kind of aid in the same period is not double either.
    medical = _approved(world, reviewer, _scheme(world, name="大病救助", kind=AidKind.MEDICAL))
    _pay(world, medical, "300.00")
    found = selectors.double_aid(Child.objects.all(), TODAY - 90 * DAY, TODAY)
    assert found.double == {}


def test_living_aid_on_top_of_dibao_is_flagged_and_eligible_children_without_aid_listed(
    world: World, reviewer: User
) -> None:
    child = world.children["a1"]
    Household.objects.filter(pk=child.household_id).update(aid=Aid.TEKUN)
    living = _approved(world, reviewer, _scheme(world, name="生活补助", kind=AidKind.LIVING))
    _pay(world, living, "200.00")
    needy = register(world.director_a, child_data("孙小明", VILLAGE_A))
    helped = register(world.director_a, child_data("周小红", VILLAGE_A, sex="F"))
    on_dibao = register(world.director_a, child_data("吴小刚", VILLAGE_A))
    Child.objects.filter(pk__in=[needy.pk, helped.pk, on_dibao.pk]).update(
        cat_difficulty_disability=True
    )
    Household.objects.filter(pk=on_dibao.household_id).update(aid=Aid.DIBAO)
    education = _approved(world, reviewer, _scheme(world), child=helped)
    _pay(world, education, "100.00")
    with CaptureQueriesContext(connection) as queries:
        found = selectors.double_aid(Child.objects.all(), TODAY - 30 * DAY, TODAY)
        unaided = set(found.unaided.values_list("pk", flat=True))
    assert len(queries) == 3
    assert found.double == {(child.pk, AidKind.LIVING): {str(living.scheme_id), "government"}}
    assert unaided == {needy.pk}


def test_a_double_aid_group_of_three_schemes_names_only_the_overlapping_ones(
    world: World, reviewer: User
) -> None:
    """Grouping first, overlap second: a third scheme of the same kind whose period meets
    neither of the other two is successive aid, not a source of the double aid."""
    child = world.children["a1"]
    one = _approved(world, reviewer, _scheme(world))
    two = _approved(world, reviewer, _scheme(world, name="春蕾计划"))
    spring = _scheme(world, name="春季助学", starts_on=TODAY - 90 * DAY, ends_on=TODAY - 61 * DAY)
    old = Application.objects.create(
        scheme=spring,
        child=child,
        reason="x",
        status=Status.APPROVED,
        submitted_at=one.submitted_at,
        submitted_by=world.director_a,
        reviewer=reviewer,
        decided_at=one.decided_at,
        approved_amount=Decimal("100.00"),
    )
    Disbursement.objects.create(
        application=old,
        child=child,
        scheme=spring,
        kind=spring.kind,
        paid_on=TODAY - 70 * DAY,
        amount=Decimal("100.00"),
        method=Method.CASH,
        recorded_by=world.socialworker,
        recorded_at=one.decided_at,
        residence=child.residence_id,
    )
    _pay(world, one, "500.00", paid_on=TODAY - 10 * DAY)
    _pay(world, two, "500.00", paid_on=TODAY - 5 * DAY)
    found = selectors.double_aid(Child.objects.all(), TODAY - 90 * DAY, TODAY)
    assert found.double == {(child.pk, AidKind.EDUCATION): {str(one.scheme_id), str(two.scheme_id)}}
    assert found.schemes == {str(one.scheme_id): "流动书桌助学金", str(two.scheme_id): "春蕾计划"}


def test_the_aid_period_is_the_last_twelve_months_up_to_today() -> None:
    assert selectors.aid_period(dt.date(2026, 11, 22)) == (
        dt.date(2025, 11, 23),
        dt.date(2026, 11, 22),
    )
    assert selectors.aid_period(dt.date(2028, 2, 29)) == (dt.date(2027, 3, 1), dt.date(2028, 2, 29))


def test_a_payment_keeps_the_childs_village_when_the_child_moves(
    world: World, reviewer: User
) -> None:
    from shouhu.children import editing

    child = world.children["a1"]
    paid = _pay(world, _approved(world, reviewer, _scheme(world)), "100.00")
    assert paid.residence == VILLAGE_A
    child.refresh_from_db()
    editing.child_update(
        actor=world.supervisor,  # the township's: may move a child between its villages
        child=child,
        version=child.version,
        changes={"residence_code": VILLAGE_B},
    )
    paid.refresh_from_db()
    assert paid.residence == VILLAGE_B


# ---------------------------------------------------------------- the coordination board


def _board_world(world: World, reviewer: User) -> dict[str, Child]:
    """In the supervisor's township: a1 paid by two education schemes at once, b1 paid
    living aid on top of 特困, an eligible child paid nothing. In another township (the
    county official's, not the supervisor's): c1 paid twice as well, an eligible child
    paid nothing."""
    a1, b1, c1 = world.children["a1"], world.children["b1"], world.children["c1"]
    education = [_scheme(world), _scheme(world, name="春蕾计划")]
    living = _scheme(world, name="生活补助", kind=AidKind.LIVING)
    for scheme in education:
        _pay(world, _approved(world, reviewer, scheme), "300.00", paid_on=TODAY - 3 * DAY)
        paid = _approved(world, reviewer, scheme, child=c1, applicant=world.users["director_c"])
        _pay(world, paid, "300.00", paid_on=TODAY - 4 * DAY)
    Household.objects.filter(pk=b1.household_id).update(aid=Aid.TEKUN)
    _pay(
        world,
        _approved(world, reviewer, living, child=b1, applicant=world.users["director_b"]),
        "200.00",
        paid_on=TODAY - 2 * DAY,
    )
    needy = register(world.director_a, child_data("孙小明", VILLAGE_A))
    needy_c = register(world.users["director_c"], child_data("赵小丽", VILLAGE_C, sex="F"))
    Child.objects.filter(pk__in=[needy.pk, needy_c.pk]).update(cat_de_facto_unsupported=True)
    return {"a1": a1, "b1": b1, "c1": c1, "needy": needy, "needy_c": needy_c}


def test_the_board_flags_double_aid_and_unaided_children_of_the_jurisdiction_only(
    world: World, reviewer: User
) -> None:
    from shouhu.cases.selectors import coordination

    kids = _board_world(world, reviewer)
    board = coordination(world.supervisor, today=TODAY)
    assert board["aid_period"] == {"first": TODAY - 364 * DAY, "last": TODAY}
    assert board["double_aid"] == [
        {
            "child": kids["a1"].pk,
            "child_name": "张伟",
            "kind": "education",
            "kind_label": "Education",
            "sources": ["春蕾计划", "流动书桌助学金"],
        },
        {
            "child": kids["b1"].pk,
            "child_name": "李娜",
            "kind": "living",
            "kind_label": "Living costs",
            "sources": ["Government", "生活补助"],
        },
    ]
    assert board["double_aid_count"] == 2
    assert board["unaided"] == [{"child": kids["needy"].pk, "child_name": "孙小明"}]
    assert board["unaided_count"] == 1
    county = coordination(world.official, today=TODAY)
    assert [d["child"] for d in county["double_aid"]] == [kids[k].pk for k in ("a1", "b1", "c1")]
    assert [u["child"] for u in county["unaided"]] == [kids["needy"].pk, kids["needy_c"].pk]
    outsider = coordination(world.users["director_dest"], today=TODAY)
    assert outsider["double_aid"] == outsider["unaided"] == []
    # A year on, those payments are out of the period: no double aid, and the eligible
    # children are still unaided (the others were never eligible).
    later = coordination(world.supervisor, today=TODAY + 400 * DAY)
    assert later["double_aid"] == [] and later["unaided_count"] == 1


def test_living_aid_becomes_double_when_the_household_goes_on_dibao_later(
    world: World, reviewer: User
) -> None:
    """The flag follows the household: 低保 granted after a payment of living aid makes it
    double aid; taken away, it is single again."""
    from shouhu.cases.selectors import coordination
    from shouhu.children import editing

    a1 = world.children["a1"]
    living = _scheme(world, name="生活补助", kind=AidKind.LIVING)
    payment = _pay(world, _approved(world, reviewer, living), "200.00", paid_on=TODAY - DAY)
    payment.refresh_from_db()
    assert payment.double is False
    assert coordination(world.supervisor, today=TODAY)["double_aid"] == []
    editing.household_update(actor=world.director_a, child=a1, changes={"aid": Aid.DIBAO})
    payment.refresh_from_db()
    assert payment.double is True
    [row] = coordination(world.supervisor, today=TODAY)["double_aid"]
    assert row["child"] == a1.pk and row["kind"] == AidKind.LIVING
    editing.household_update(actor=world.director_a, child=a1, changes={"aid": Aid.NONE})
    payment.refresh_from_db()
    assert payment.double is False


def test_the_board_lists_at_most_limit_unaided_children_in_id_order_with_their_count(
    world: World,
) -> None:
    from shouhu.cases.selectors import coordination

    needy = [register(world.director_a, child_data(f"孩子{i}", VILLAGE_A)) for i in range(3)]
    Child.objects.filter(pk__in=[c.pk for c in needy]).update(cat_orphan=True)
    board = coordination(world.supervisor, today=TODAY, limit=2)
    assert [u["child"] for u in board["unaided"]] == sorted(c.pk for c in needy)[:2]
    assert board["unaided_count"] == 3


def test_the_board_page_and_api_show_the_aid_lists_with_labels_and_log_the_read(
    world: World, reviewer: User
) -> None:
    from django.test import Client
    from django.urls import reverse

    from shouhu.audit.models import AccessLog, Action
    from tests.test_api_auth import bearer, token_for

    kids = _board_world(world, reviewer)
    page = Client()
    page.force_login(world.supervisor)
    text = page.get(reverse("cases:coordination"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = text.content.decode()
    assert 'data-testid="double-aid"' in html and 'data-testid="unaided"' in html
    assert "张伟" in html and "春蕾计划、流动书桌助学金" in html and "政府、生活补助" in html
    assert "教育" in html and ">education<" not in html and ">living<" not in html
    assert "孙小明" in html and "赵小丽" not in html and "王芳" not in html
    logged = set(
        AccessLog.objects.filter(
            user=world.supervisor, purpose="coordination", action=Action.LIST_CHILDREN
        ).values_list("child_id", flat=True)
    )
    assert {kids["a1"].pk, kids["b1"].pk, kids["needy"].pk} <= logged
    assert kids["c1"].pk not in logged and kids["needy_c"].pk not in logged
    api = Client()
    headers = bearer(token_for(api, "supervisor"))
    body = api.get("/api/v1/coordination", HTTP_ACCEPT_LANGUAGE="zh-hans", **headers).json()
    assert [(d["kind"], d["kind_label"], d["sources"]) for d in body["double_aid"]] == [
        ("education", "教育", ["春蕾计划", "流动书桌助学金"]),
        ("living", "生活", ["政府", "生活补助"]),
    ]
    assert body["unaided"] == [{"child": kids["needy"].pk, "child_name": "孙小明"}]
    assert body["unaided_count"] == 1 and body["aid_period"]["last"] == TODAY.isoformat()


def test_the_board_reads_the_aid_in_a_fixed_number_of_queries(world: World, reviewer: User) -> None:
    from shouhu.cases.selectors import coordination

    _board_world(world, reviewer)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            coordination(world.supervisor, today=TODAY)
        return len(queries)

    count()  # the user's grants and the places settle
    before = count()
    scheme = _scheme(world, name="第三助学金")
    for i in range(3):  # more double aid and more unaided children
        child = register(world.director_a, child_data(f"新生{i}", VILLAGE_A))
        for one in (scheme, Scheme.objects.get(name="春蕾计划")):
            _pay(world, _approved(world, reviewer, one, child=child), "10.00")
        register(world.director_a, child_data(f"困境{i}", VILLAGE_A))
    Child.objects.filter(name__startswith="困境").update(cat_difficulty_poverty=True)
    board = coordination(world.supervisor, today=TODAY)
    assert board["double_aid_count"] == 5 and board["unaided_count"] == 4
    assert count() == before


# ---------------------------------------------------------------- the sponsor's report


def test_the_sponsor_report_counts_and_sums_but_names_no_child(
    world: World, reviewer: User
) -> None:
    scheme = _scheme(world)
    sponsor = services.sponsor_create(
        actor=world.socialworker, organisation=world.orgs["swo"], kind="company", name="某公司"
    )
    services.pledge_add(
        actor=world.socialworker,
        sponsor=sponsor,
        form=PledgeForm.MONEY,
        amount="10000.00",
        scheme=scheme,
    )
    other = register(world.director_a, child_data("郑小丽", VILLAGE_A, sex="F"))
    one = _approved(world, reviewer, scheme)
    two = _approved(world, reviewer, scheme, child=other)
    payments = [(one, "300.10", 40), (one, "300.20", 2), (two, "0.70", 1)]
    for application, amount, days in payments:
        _pay(world, application, amount, paid_on=TODAY - days * DAY)
    followup = services.followup_add(
        actor=world.socialworker,
        application=one,
        on=TODAY,
        note="张伟期末数学 95 分",
        story="一名三年级的孩子期末数学考了 95 分。",
    )
    unapproved = services.followup_add(
        actor=world.socialworker, application=two, on=TODAY, note="x", story="未审核的故事"
    )
    services.story_approve(actor=reviewer, followup=followup)
    report = selectors.sponsor_report(sponsor, TODAY - 60 * DAY, TODAY)
    assert report.children == 2 and report.amount == Decimal("601.00")
    # Counted by hand: each month's children and amount.
    expected: dict[dt.date, tuple[set[int], Decimal]] = {}
    for application, amount, days in payments:
        month = (TODAY - days * DAY).replace(day=1)
        kids, total = expected.get(month, (set(), Decimal("0")))
        expected[month] = (kids | {application.pk}, total + Decimal(amount))
    assert [(x.scheme, x.month, x.children, x.amount) for x in report.lines] == [
        (scheme.name, month, len(kids), total) for month, (kids, total) in sorted(expected.items())
    ]
    assert [s.text for s in report.stories] == ["一名三年级的孩子期末数学考了 95 分。"]
    text = repr(report)
    for c in (world.children["a1"], other):
        assert c.name not in text and c.name[1:] not in text
    assert unapproved.story not in text
    for forbidden in ("child_id", "child", "address", "photo", "id_number"):
        assert forbidden not in {f for f in report.__dataclass_fields__}


def test_a_story_naming_the_child_is_refused(world: World, reviewer: User) -> None:
    application = _approved(world, reviewer, _scheme(world))
    with pytest.raises(ValidationError) as exc:
        services.followup_add(
            actor=world.socialworker,
            application=application,
            on=TODAY,
            note="ok",
            story="张伟考得很好",
        )
    assert list(_errors(exc)) == ["story"]


def test_a_sponsor_of_another_organisation_is_not_visible(world: World) -> None:
    sponsor = services.sponsor_create(
        actor=world.director_a, organisation=world.orgs["village_a"], kind="person", name="李先生"
    )
    assert list(access.sponsors_visible_to(world.director_a)) == [sponsor]
    assert not access.sponsors_visible_to(world.socialworker).exists()
    assert Sponsor.objects.count() == 1
