"""The aid pages (issue 13): the aid home, sponsors and their pledges, the sponsor's report,
schemes, applying for a child from the child's page, and the application page with its
decision, payments and follow-ups. The same rules as the API, because the same services
decide: a refusal lands next to the field it names and writes nothing; a page opens only
for those the access rules let in (403 for a role without aid, 404 for what is not theirs).

The pages are read in Chinese: the tests look at status codes, field names and the
database, not at English words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shouhu.accounts.models import Role, User
from shouhu.aid import services
from shouhu.aid.models import (
    AidKind,
    Application,
    Disbursement,
    FollowUp,
    Method,
    Pledge,
    Scheme,
    Sponsor,
    Status,
)
from shouhu.audit.models import AccessLog
from shouhu.children.models import Child
from tests.world import ID_A1, NOW, TODAY, World, make_user

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def reviewer(world: World) -> User:
    return make_user("swo_reviewer", world.orgs["swo"], Role.SOCIAL_WORKER)


def _page(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _scheme(world: World, **kw: Any) -> Scheme:
    values: dict[str, Any] = {
        "actor": world.socialworker,
        "organisation": world.orgs["swo"],
        "name": "流动书桌助学金",
        "kind": AidKind.EDUCATION,
        "amount": "1200.00",
        "starts_on": TODAY - 60 * DAY,
        "ends_on": TODAY + 300 * DAY,
        "criteria": "在读小学生",
    }
    values.update(kw)
    return services.scheme_create(**values)


def _applied(world: World, scheme: Scheme, child: Child | None = None, by: Any = None) -> Any:
    with time_machine.travel(NOW - 20 * DAY, tick=False):
        return services.application_submit(
            actor=by or world.director_a,
            scheme=scheme,
            child=child or world.children["a1"],
            reason="父母外出务工，奶奶年老",
        )


def _approved(world: World, reviewer: User, scheme: Scheme, amount: str = "1000.00") -> Any:
    application = _applied(world, scheme)
    with time_machine.travel(NOW - 10 * DAY, tick=False):
        return services.application_decide(
            actor=reviewer, application=application, approve=True, note="符合条件", amount=amount
        )


def _errors(response: Any, form: str = "form") -> dict[str, Any]:
    """The errors of the page's form named `form` (a name of the context, or a key of its
    `forms`)."""
    context = response.context
    found = context["forms"][form] if "forms" in context and form in context["forms"] else None
    return dict((found or context[form]).errors)


# ---------------------------------------------------------------- the aid home and the menu


def test_the_aid_home_shows_schemes_sponsors_and_what_waits_for_a_decision(
    world: World, reviewer: User
) -> None:
    scheme = _scheme(world)
    sponsor = services.sponsor_create(
        actor=world.socialworker, organisation=world.orgs["swo"], kind="company", name="某公司"
    )
    services.pledge_add(
        actor=world.socialworker, sponsor=sponsor, form="money", amount="6000", scheme=scheme
    )
    paid = _approved(world, reviewer, scheme)
    services.disbursement_add(
        actor=world.socialworker,
        application=paid,
        paid_on=TODAY,
        method=Method.CASH,
        amount="600.50",
    )
    waiting = _applied(world, scheme, child=world.children["b1"], by=world.director_b)
    response = _page(world.socialworker).get("/aid/")
    assert response.status_code == 200
    [row] = response.context["schemes"]
    assert (row.submitted, row.approved, row.rejected) == (1, 1, 0)
    assert Decimal(row.paid) == Decimal("600.50")
    assert [s.pk for s in response.context["sponsors"]] == [sponsor.pk]
    assert [a.pk for a in response.context["waiting"]] == [waiting.pk]
    text = response.content.decode()
    assert "¥600.50" in text and "¥1,200.00" in text and "¥6,000.00" in text
    assert 'data-testid="aid-link"' in text
    # The children listed are logged as read.
    assert AccessLog.objects.filter(
        user=world.socialworker, purpose="aid_home", child_id=world.children["b1"].pk
    ).exists()
    # The director who applied sees where the applications stand, and nothing else's.
    mine = _page(world.director_b).get("/aid/")
    assert mine.status_code == 200
    assert [a.pk for a in mine.context["mine"]] == [waiting.pk]
    assert AccessLog.objects.filter(
        user=world.director_b, purpose="aid_home", child_id=world.children["b1"].pk
    ).exists()


@pytest.mark.parametrize("persona", ["teacher_a", "counselor", "volunteer", "official"])
def test_the_aid_pages_are_refused_to_roles_that_do_not_run_aid(world: World, persona: str) -> None:
    page = _page(getattr(world, persona))
    assert 'data-testid="aid-link"' not in page.get("/").content.decode()
    for url in ("/aid/", "/aid/sponsors/", "/aid/schemes/new/"):
        assert page.get(url).status_code == 403, url
    assert page.post("/aid/sponsors/new/", {"name": "x"}).status_code == 403
    assert not Sponsor.objects.exists()


def test_the_aid_home_reads_a_fixed_number_of_queries(world: World, reviewer: User) -> None:
    def count() -> int:
        page = _page(world.socialworker)
        with CaptureQueriesContext(connection) as queries:
            assert page.get("/aid/").status_code == 200
        return len(queries)

    first = _scheme(world)
    _approved(world, reviewer, first)
    services.sponsor_create(
        actor=world.socialworker, organisation=world.orgs["swo"], kind="person", name="甲"
    )
    one = count()
    for name in ("乙", "丙"):
        sponsor = services.sponsor_create(
            actor=world.socialworker, organisation=world.orgs["swo"], kind="person", name=name
        )
        scheme = _scheme(world, name=f"{name}助学")
        services.pledge_add(
            actor=world.socialworker, sponsor=sponsor, form="money", amount="10", scheme=scheme
        )
        _applied(world, scheme, child=world.children["b1"], by=world.director_b)
    assert count() == one


# ---------------------------------------------------------------- sponsors and pledges


def test_a_sponsor_is_recorded_from_the_list_and_bad_input_stays_on_the_form(
    world: World,
) -> None:
    page = _page(world.socialworker)
    assert page.get("/aid/sponsors/").status_code == 200
    org = world.orgs["swo"].pk
    refused = page.post("/aid/sponsors/new/", {"organisation": org, "kind": "company", "name": ""})
    assert refused.status_code == 400
    assert set(_errors(refused)) == {"name"}
    assert refused.context["error_summary"]
    # An organisation whose aid the worker does not manage is not a choice.
    other = page.post(
        "/aid/sponsors/new/",
        {"organisation": world.orgs["village_a"].pk, "kind": "person", "name": "李先生"},
    )
    assert other.status_code == 400 and "organisation" in _errors(other)
    assert not Sponsor.objects.exists()
    done = page.post(
        "/aid/sponsors/new/",
        {"organisation": org, "kind": "foundation", "name": "某基金会", "contact": "王女士"},
    )
    sponsor = Sponsor.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/aid/sponsors/{sponsor.pk}/"
    assert (sponsor.kind, sponsor.name, sponsor.organisation_id) == ("foundation", "某基金会", org)


def test_pledges_of_money_or_goods_are_added_on_the_sponsors_page(world: World) -> None:
    scheme = _scheme(world)
    sponsor = services.sponsor_create(
        actor=world.socialworker, organisation=world.orgs["swo"], kind="company", name="某公司"
    )
    page = _page(world.socialworker)
    url = f"/aid/sponsors/{sponsor.pk}/"
    assert page.get(url).status_code == 200
    add = f"{url}pledges/"
    money = {"form": "money", "amount": "5000.00", "recurrence": "yearly", "scheme": scheme.pk}
    for bad, field in (
        ({**money, "amount": "12.345"}, "amount"),
        ({**money, "amount": ""}, "amount"),
        ({**money, "pledged_on": (TODAY + DAY).isoformat()}, "pledged_on"),
        ({"form": "in_kind", "recurrence": "once"}, "items"),
    ):
        refused = page.post(add, bad)
        assert refused.status_code == 400, bad
        assert field in _errors(refused), bad
    assert not Pledge.objects.exists()
    assert page.post(add, money).status_code == 302
    assert page.post(add, {"form": "in_kind", "items": "书包 50 个", "recurrence": "once"})
    pledges = {p.form: p for p in Pledge.objects.filter(sponsor=sponsor)}
    assert pledges["money"].amount == Decimal("5000.00") and pledges["money"].scheme == scheme
    assert pledges["in_kind"].amount is None and pledges["in_kind"].pledged_on == TODAY
    assert "¥5,000.00" in page.get(url).content.decode()
    # The sponsor of another organisation is missing for its workers.
    other = _page(world.director_a)
    assert other.get(url).status_code == 404
    assert other.post(add, money).status_code == 404
    assert other.get(f"{url}report/").status_code == 404


def test_the_sponsors_report_counts_and_tells_stories_but_never_names_a_child(
    world: World, reviewer: User
) -> None:
    scheme = _scheme(world)
    sponsor = services.sponsor_create(
        actor=world.socialworker, organisation=world.orgs["swo"], kind="company", name="某公司"
    )
    services.pledge_add(
        actor=world.socialworker, sponsor=sponsor, form="money", amount="6000", scheme=scheme
    )
    application = _approved(world, reviewer, scheme)
    services.disbursement_add(
        actor=world.socialworker,
        application=application,
        paid_on=TODAY,
        method=Method.SCHOOL_FEE,
        amount="1000.00",
        receipt_ref="XZ-1",
    )
    followup = services.followup_add(
        actor=world.socialworker,
        application=application,
        on=TODAY,
        note="张伟期末数学 95 分",
        story="一名三年级的孩子期末数学考了 95 分。",
    )
    services.story_approve(actor=reviewer, followup=followup)
    page = _page(world.socialworker)
    url = f"/aid/sponsors/{sponsor.pk}/report/"
    response = page.get(url)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.children == 1 and report.amount == Decimal("1000.00")
    text = response.content.decode()
    assert "一名三年级的孩子期末数学考了 95 分。" in text and "¥1,000.00" in text
    child = world.children["a1"]
    for secret in (child.name, child.name[1:], ID_A1, "期末数学 95 分</", "张"):
        assert secret not in text, secret
    assert f"/children/{child.pk}/" not in text
    # A period that ends before it starts is refused next to its end.
    bad = page.get(url, {"first": TODAY.isoformat(), "last": (TODAY - DAY).isoformat()})
    assert bad.status_code == 400 and "last" in bad.context["form"].errors
    empty = page.get(url, {"first": "2001-01-01", "last": "2001-12-31"})
    assert empty.status_code == 200 and empty.context["report"].children == 0


# ---------------------------------------------------------------- schemes


def test_a_scheme_is_created_on_its_form_and_refused_input_writes_nothing(world: World) -> None:
    page = _page(world.socialworker)
    assert page.get("/aid/schemes/new/").status_code == 200
    good = {
        "organisation": world.orgs["swo"].pk,
        "name": "春蕾计划",
        "kind": "education",
        "amount": "1200.50",
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + 200 * DAY).isoformat(),
        "criteria": "女童",
    }
    for bad, field in (
        ({**good, "ends_on": (TODAY - DAY).isoformat()}, "ends_on"),
        ({**good, "amount": "1.005"}, "amount"),
        ({**good, "amount": "-3"}, "amount"),
        ({**good, "kind": "lottery"}, "kind"),
    ):
        refused = page.post("/aid/schemes/new/", bad)
        assert refused.status_code == 400, bad
        assert field in _errors(refused), bad
    assert not Scheme.objects.exists()
    done = page.post("/aid/schemes/new/", good)
    scheme = Scheme.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/aid/schemes/{scheme.pk}/"
    assert scheme.amount == Decimal("1200.50")


def test_the_scheme_page_links_a_child_only_for_those_who_may_open_the_child(
    world: World,
) -> None:
    scheme = _scheme(world)
    mine = _applied(world, scheme)  # a1: the centre's social worker works with the child
    theirs = _applied(world, scheme, child=world.children["b1"], by=world.director_b)
    page = _page(world.socialworker)
    response = page.get(f"/aid/schemes/{scheme.pk}/")
    assert response.status_code == 200
    assert {a.pk for a in response.context["applications"]} == {mine.pk, theirs.pk}
    assert response.context["openable"] == {world.children["a1"].pk}
    text = response.content.decode()
    assert f'href="/children/{world.children["a1"].pk}/"' in text
    assert f'href="/children/{world.children["b1"].pk}/"' not in text
    assert world.children["b1"].name in text  # named, as the application shows the child
    logged = AccessLog.objects.filter(purpose="aid_scheme", user=world.socialworker)
    assert set(logged.values_list("child_id", flat=True)) == {
        world.children["a1"].pk,
        world.children["b1"].pk,
    }
    # Another organisation's workers do not find it.
    assert _page(world.director_b).get(f"/aid/schemes/{scheme.pk}/").status_code == 404


# ---------------------------------------------------------------- applying from the child's page


def test_the_childs_aid_panel_offers_to_apply_only_to_those_who_may(world: World) -> None:
    _scheme(world)
    url = f"/children/{world.children['a1'].pk}/"
    for persona, offered in (
        ("director_a", True),
        ("socialworker", True),
        ("teacher_a", True),
        ("volunteer", False),
        ("official", False),
    ):
        response = _page(getattr(world, persona)).get(url)
        assert response.status_code == 200, persona
        text = response.content.decode()
        assert ('data-testid="aid-apply-link"' in text) is offered, persona
    # A teacher applies but does not read the household's aid.
    text = _page(world.teacher_a).get(url).content.decode()
    assert 'data-testid="aid-applications"' in text and 'data-testid="aid"' not in text


def test_a_worker_applies_for_a_child_and_refusals_stay_on_the_form(world: World) -> None:
    scheme = _scheme(world)
    over = _scheme(world, name="旧计划", starts_on=TODAY - 90 * DAY, ends_on=TODAY - DAY)
    child = world.children["a1"]
    url = f"/children/{child.pk}/aid/apply/"
    page = _page(world.director_a)
    form = page.get(url)
    assert form.status_code == 200
    assert list(form.context["form"].fields["scheme"].queryset) == [scheme]  # not the old one
    refused = page.post(url, {"scheme": scheme.pk, "reason": " "})
    assert refused.status_code == 400 and "reason" in _errors(refused)
    assert "scheme" in _errors(page.post(url, {"scheme": over.pk, "reason": "x"}))
    assert not Application.objects.exists()
    done = page.post(url, {"scheme": scheme.pk, "reason": "奶奶年老，学杂费困难"})
    application = Application.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/aid/applications/{application.pk}/"
    assert (application.child, application.submitted_by) == (child, world.director_a)
    again = page.post(url, {"scheme": scheme.pk, "reason": "再次申请"})
    assert again.status_code == 400 and again.context["error_summary"]
    assert Application.objects.count() == 1
    # The applicant reads the application; the one who may not apply is refused.
    assert page.get(f"/aid/applications/{application.pk}/").status_code == 200
    assert _page(world.volunteer).get(url).status_code == 403
    assert _page(world.director_b).get(url).status_code == 404
    assert (
        _page(world.director_b).post(url, {"scheme": scheme.pk, "reason": "x"}).status_code == 404
    )


# ---------------------------------------------------------------- deciding


def test_the_reviewer_decides_on_the_application_page(world: World, reviewer: User) -> None:
    scheme = _scheme(world)
    application = _applied(world, scheme)
    url = f"/aid/applications/{application.pk}/"
    page = _page(reviewer)
    response = page.get(url)
    assert response.status_code == 200 and response.context["forms"]["decision"] is not None
    decide = f"{url}decision/"
    above = page.post(
        decide, {"decision-decision": "approve", "decision-amount": "1200.01", "decision-note": "x"}
    )
    assert above.status_code == 400 and "amount" in _errors(above, "decision")
    no_note = page.post(decide, {"decision-decision": "decline", "decision-note": ""})
    assert no_note.status_code == 400 and "note" in _errors(no_note, "decision")
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED and application.reviewer is None
    done = page.post(decide, {"decision-decision": "approve", "decision-note": "符合条件"})
    assert done.status_code == 302 and done["Location"] == url
    application.refresh_from_db()
    assert application.status == Status.APPROVED and application.reviewer == reviewer
    assert application.approved_amount == Decimal("1200.00")  # empty: the scheme's
    assert response.context["forms"]["payment"] is None  # not before the approval
    # Decided once: no second decision.
    assert page.get(url).context["forms"]["decision"] is None
    again = page.post(decide, {"decision-decision": "decline", "decision-note": "否"})
    assert again.status_code == 400
    application.refresh_from_db()
    assert application.status == Status.APPROVED


def test_the_worker_who_applied_does_not_decide(world: World, reviewer: User) -> None:
    application = _applied(world, _scheme(world), by=world.socialworker)
    url = f"/aid/applications/{application.pk}/"
    page = _page(world.socialworker)
    response = page.get(url)
    assert response.context["forms"]["decision"] is None
    assert 'data-testid="not-yours"' in response.content.decode()
    forged = page.post(
        f"{url}decision/", {"decision-decision": "approve", "decision-note": "自己批准"}
    )
    assert forged.status_code == 403
    assert forged.context["error_summary"]  # said at the top of the form
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED and application.reviewer is None
    # Someone outside the scheme's organisation neither reads nor decides.
    outsider = _page(world.director_b)
    assert outsider.get(url).status_code == 404
    assert outsider.post(f"{url}decision/", {"decision-decision": "approve"}).status_code == 404


def test_a_declined_application_keeps_its_reason(world: World, reviewer: User) -> None:
    application = _applied(world, _scheme(world))
    page = _page(reviewer)
    url = f"/aid/applications/{application.pk}/"
    with_amount = page.post(
        f"{url}decision/",
        {"decision-decision": "decline", "decision-amount": "10", "decision-note": "已获资助"},
    )
    assert with_amount.status_code == 400 and "amount" in _errors(with_amount, "decision")
    page.post(f"{url}decision/", {"decision-decision": "decline", "decision-note": "已获资助"})
    application.refresh_from_db()
    assert (application.status, application.decision_note) == (Status.REJECTED, "已获资助")
    assert application.approved_amount is None
    assert page.get(url).context["forms"]["payment"] is None


# ---------------------------------------------------------------- payments


def test_payments_are_recorded_and_never_above_the_approval(world: World, reviewer: User) -> None:
    application = _approved(world, reviewer, _scheme(world), amount="1000.00")
    url = f"/aid/applications/{application.pk}/"
    add = f"{url}payments/"
    page = _page(world.socialworker)
    good = {
        "payment-paid_on": TODAY.isoformat(),
        "payment-method": "bank_transfer",
        "payment-amount": "600.00",
        "payment-receipt_ref": "BT-001",
    }
    assert page.post(add, good).status_code == 302
    for bad, field in (
        ({**good, "payment-amount": "400.01"}, "amount"),
        ({**good, "payment-amount": "0.1", "payment-paid_on": "x"}, "paid_on"),
        ({**good, "payment-paid_on": (TODAY + DAY).isoformat()}, "paid_on"),
        ({**good, "payment-receipt_ref": ""}, "receipt_ref"),
        ({**good, "payment-method": "in_kind", "payment-amount": ""}, "items"),
        ({**good, "payment-amount": "1.001"}, "amount"),
    ):
        refused = page.post(add, bad)
        assert refused.status_code == 400, bad
        assert field in _errors(refused, "payment"), bad
        assert refused.context["error_summary"], bad
    assert list(Disbursement.objects.values_list("amount", flat=True)) == [Decimal("600.00")]
    goods = {**good, "payment-method": "in_kind", "payment-amount": "", "payment-items": "书包"}
    assert page.post(add, {**goods, "payment-receipt_ref": ""}).status_code == 302
    text = page.get(url).content.decode()
    assert "¥600.00" in text and "¥400.00" in text  # paid, and what is left
    assert Disbursement.objects.count() == 2
    # The applicant reads the payments but does not record them; the others do not find them.
    applicant = _page(world.director_a)
    assert applicant.get(url).context["forms"]["payment"] is None
    assert applicant.post(add, good).status_code == 403
    assert _page(world.director_b).post(add, good).status_code == 404
    assert Disbursement.objects.count() == 2


# ---------------------------------------------------------------- follow-ups and stories


def test_follow_ups_and_the_approval_of_their_story(world: World, reviewer: User) -> None:
    application = _approved(world, reviewer, _scheme(world))
    url = f"/aid/applications/{application.pk}/"
    add = f"{url}followups/"
    page = _page(world.socialworker)
    good = {
        "followup-on": TODAY.isoformat(),
        "followup-note": "张伟期末数学 95 分",
        "followup-story": "一名三年级的孩子期末数学考了 95 分。",
    }
    for bad, field in (
        ({**good, "followup-story": "张伟考得很好"}, "story"),
        ({**good, "followup-on": (TODAY + DAY).isoformat()}, "on"),
        ({**good, "followup-note": ""}, "note"),
    ):
        refused = page.post(add, bad)
        assert refused.status_code == 400, bad
        assert field in _errors(refused, "followup"), bad
    assert not FollowUp.objects.exists()
    assert page.post(add, good).status_code == 302
    followup = FollowUp.objects.get()
    approve = f"/aid/followups/{followup.pk}/story-approval/"
    # Its writer neither is offered nor may approve the story.
    assert 'data-testid="story-approve"' not in page.get(url).content.decode()
    assert page.post(approve).status_code == 403
    followup.refresh_from_db()
    assert followup.story_approved_by is None
    second = _page(reviewer)
    assert 'data-testid="story-approve"' in second.get(url).content.decode()
    assert second.post(approve).status_code == 302
    followup.refresh_from_db()
    assert followup.story_approved_by == reviewer
    assert 'data-testid="story-approve"' not in second.get(url).content.decode()
    assert _page(world.director_b).post(approve).status_code == 404


def test_the_application_page_is_logged_as_a_read_of_the_child(
    world: World, reviewer: User
) -> None:
    application = _approved(world, reviewer, _scheme(world))
    assert _page(reviewer).get(f"/aid/applications/{application.pk}/").status_code == 200
    assert AccessLog.objects.filter(
        user=reviewer,
        child_id=world.children["a1"].pk,
        object_type="aid_application",
        object_id=str(application.pk),
    ).exists()
