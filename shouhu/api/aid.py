"""Sponsors and aid over the API (issue 13): sponsors and their pledges, aid schemes,
applications and their decisions, disbursements, and a sponsor's report (which names no
child). The same services and access rules as everywhere; lists that name children are
logged as reads.

Money is given as a decimal string of yuan with at most two places (`"120.50"`): a JSON
number is refused, as a float cannot hold fen exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from shouhu import access
from shouhu.accounts.models import Organisation
from shouhu.aid import selectors, services
from shouhu.aid.models import Application, Disbursement, FollowUp, Scheme, Sponsor
from shouhu.api.auth import current_user
from shouhu.api.schemas import MAX_ID, MAX_LIMIT, Error, Strict
from shouhu.audit.services import log_children_read

router = Router(tags=["aid"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}
MONEY_TEXT = 'Yuan as a decimal string with at most two places, e.g. "120.50"'


def _org(pk: int, field: str) -> Organisation:
    found = Organisation.objects.filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if found is None:
        raise ValidationError({field: [_("No such organisation.")]})
    return found


# ---------------------------------------------------------------- sponsors


class SponsorIn(Strict):
    organisation: int = Field(ge=1, le=MAX_ID, description="The organisation that manages it")
    kind: Literal["person", "company", "foundation"]
    name: str = Field(min_length=1, max_length=200)
    contact: str = Field("", max_length=200)


class SponsorOut(Schema):
    id: int
    kind: str
    name: str
    contact: str
    organisation: int
    organisation_name: str


class SponsorList(Schema):
    items: list[SponsorOut]


def _sponsor_out(s: Sponsor) -> dict[str, Any]:
    return {
        "id": s.pk,
        "kind": s.kind,
        "name": s.name,
        "contact": s.contact,
        "organisation": s.organisation_id,
        "organisation_name": s.organisation.name,
    }


@router.get("/sponsors", response={200: SponsorList, **ERRORS}, summary="Your sponsors")
def sponsor_list(request: HttpRequest) -> dict[str, Any]:
    """The sponsors of the organisations whose aid you manage (no child is named)."""
    user = current_user(request)
    rows = access.sponsors_visible_to(user).select_related("organisation")
    return {"items": [_sponsor_out(s) for s in rows.order_by("name", "pk")[:MAX_LIMIT]]}


@router.post("/sponsors", response={201: SponsorOut, **ERRORS}, summary="Record a sponsor")
def sponsor_create(request: HttpRequest, payload: SponsorIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    sponsor = services.sponsor_create(
        actor=user,
        organisation=_org(payload.organisation, "organisation"),
        kind=payload.kind,
        name=payload.name,
        contact=payload.contact,
    )
    return Status(201, _sponsor_out(sponsor))


class PledgeIn(Strict):
    form: Literal["money", "in_kind"]
    amount: str | None = Field(None, max_length=20, description=MONEY_TEXT)
    items: str = Field("", max_length=4000)
    recurrence: Literal["once", "monthly", "quarterly", "term", "yearly"] = "once"
    scheme: int | None = Field(None, ge=1, le=MAX_ID)
    pledged_on: dt.date | None = None


class PledgeOut(Schema):
    id: int
    sponsor: int
    form: str
    amount: Decimal | None
    items: str
    recurrence: str
    scheme: int | None
    pledged_on: dt.date


@router.post(
    "/sponsors/{sponsor_id}/pledges",
    response={201: PledgeOut, **ERRORS},
    summary="Record a sponsor's pledge",
)
def pledge_add(request: HttpRequest, sponsor_id: int, payload: PledgeIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    sponsor = access.get_sponsor_for_user(user, sponsor_id)
    scheme = None
    if payload.scheme is not None:
        scheme = access.aid_schemes_visible_to(user).filter(pk=payload.scheme).first()
        if scheme is None:
            raise ValidationError({"scheme": [_("No such scheme.")]})
    pledge = services.pledge_add(
        actor=user,
        sponsor=sponsor,
        form=payload.form,
        amount=payload.amount,
        items=payload.items,
        recurrence=payload.recurrence,
        scheme=scheme,
        pledged_on=payload.pledged_on,
    )
    return Status(
        201,
        {
            "id": pledge.pk,
            "sponsor": sponsor.pk,
            "form": pledge.form,
            "amount": pledge.amount,
            "items": pledge.items,
            "recurrence": pledge.recurrence,
            "scheme": pledge.scheme_id,
            "pledged_on": pledge.pledged_on,
        },
    )


class SponsorReportQuery(Strict):
    first: dt.date
    last: dt.date


class SponsorReportLine(Schema):
    scheme: str
    month: dt.date = Field(description="The first day of the month")
    children: int = Field(description="Children paid in the month")
    amount: Decimal
    payments: int


class SponsorStory(Schema):
    scheme: str
    on: dt.date
    text: str = Field(description="Anonymised, approved for sponsors")


class SponsorReportOut(Schema):
    sponsor: str
    first: dt.date
    last: dt.date
    children: int = Field(description="Distinct children the sponsor's schemes paid")
    amount: Decimal
    lines: list[SponsorReportLine]
    stories: list[SponsorStory]
    note: str


@router.get(
    "/sponsors/{sponsor_id}/report",
    response={200: SponsorReportOut, **ERRORS},
    summary="What a sponsor's money reached",
)
def sponsor_report(
    request: HttpRequest, sponsor_id: int, query: Query[SponsorReportQuery]
) -> dict[str, Any]:
    """Counts, amounts by scheme and month, and approved anonymised stories: the report a
    sponsor is given. It never names a child."""
    user = current_user(request)
    sponsor = access.get_sponsor_for_user(user, sponsor_id)
    if query.last < query.first:
        raise ValidationError({"last": [_("The span ends before it starts.")]})
    report = selectors.sponsor_report(sponsor, query.first, query.last)
    return {
        **report.__dict__,
        "lines": [line.__dict__ for line in report.lines],
        "stories": [story.__dict__ for story in report.stories],
    }


# ---------------------------------------------------------------- schemes


class AidSchemeIn(Strict):
    organisation: int = Field(ge=1, le=MAX_ID)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["education", "living", "medical", "in_kind"]
    criteria: str = Field("", max_length=4000)
    amount: str = Field(max_length=20, description="Per child; " + MONEY_TEXT)
    starts_on: dt.date
    ends_on: dt.date


class AidSchemeOut(Schema):
    id: int
    organisation: int
    organisation_name: str
    name: str
    kind: str
    criteria: str
    amount: Decimal
    starts_on: dt.date
    ends_on: dt.date


class AidSchemeList(Schema):
    items: list[AidSchemeOut]


def _scheme_out(s: Scheme) -> dict[str, Any]:
    return {
        "id": s.pk,
        "organisation": s.organisation_id,
        "organisation_name": s.organisation.name,
        "name": s.name,
        "kind": s.kind,
        "criteria": s.criteria,
        "amount": s.amount,
        "starts_on": s.starts_on,
        "ends_on": s.ends_on,
    }


@router.get("/aid/schemes", response={200: AidSchemeList, **ERRORS}, summary="Aid schemes")
def scheme_list(request: HttpRequest) -> dict[str, Any]:
    """The schemes your organisations run."""
    user = current_user(request)
    rows = access.aid_schemes_visible_to(user).select_related("organisation")
    return {"items": [_scheme_out(s) for s in rows.order_by("-starts_on", "pk")[:MAX_LIMIT]]}


@router.post("/aid/schemes", response={201: AidSchemeOut, **ERRORS}, summary="Start a scheme")
def scheme_create(request: HttpRequest, payload: AidSchemeIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    scheme = services.scheme_create(
        actor=user,
        organisation=_org(payload.organisation, "organisation"),
        name=payload.name,
        kind=payload.kind,
        amount=payload.amount,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        criteria=payload.criteria,
    )
    return Status(201, _scheme_out(scheme))


# ---------------------------------------------------------------- applications


class AidApplicationIn(Strict):
    scheme: int = Field(ge=1, le=MAX_ID)
    child: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=4000)


class AidDecisionIn(Strict):
    approve: bool
    note: str = Field(min_length=1, max_length=4000)
    amount: str | None = Field(
        None, max_length=20, description="Approved amount (default: the scheme's); " + MONEY_TEXT
    )


class AidApplicationOut(Schema):
    id: int
    scheme: int
    scheme_name: str
    child: int
    child_name: str
    reason: str
    status: str
    submitted_at: dt.datetime
    submitted_by: str
    reviewer: str | None = Field(description="Who decided (null: not yet)")
    decided_at: dt.datetime | None
    decision_note: str
    approved_amount: Decimal | None
    paid: Decimal = Field(description="Money paid so far")


class AidApplicationList(Schema):
    items: list[AidApplicationOut]
    count: int


class AidApplicationQuery(Strict):
    scheme: int | None = Field(None, ge=1, le=MAX_ID)
    status: Literal["", "submitted", "approved", "rejected"] = ""
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10_000_000)


def _with_paid(rows: Any) -> Any:
    return selectors.with_paid(rows)


def _paid(a: Application) -> Decimal:
    annotated = getattr(a, "paid", None)
    return services.fen(annotated) if annotated is not None else services.paid_so_far(a)


def _application_out(a: Application) -> dict[str, Any]:
    return {
        "id": a.pk,
        "scheme": a.scheme_id,
        "scheme_name": a.scheme.name,
        "child": a.child_id,
        "child_name": a.child.name,
        "reason": a.reason,
        "status": a.status,
        "submitted_at": a.submitted_at,
        "submitted_by": a.submitted_by.display_name or a.submitted_by.username,
        "reviewer": (a.reviewer.display_name or a.reviewer.username) if a.reviewer else None,
        "decided_at": a.decided_at,
        "decision_note": a.decision_note,
        "approved_amount": a.approved_amount,
        "paid": _paid(a),
    }


@router.get(
    "/aid/applications", response={200: AidApplicationList, **ERRORS}, summary="Applications"
)
def application_list(request: HttpRequest, query: Query[AidApplicationQuery]) -> dict[str, Any]:
    """Applications to the schemes you manage, and those you made (logged as a read of
    each child listed)."""
    user = current_user(request)
    rows = access.aid_applications_visible_to(user)
    if query.scheme is not None:
        rows = rows.filter(scheme_id=query.scheme)
    if query.status:
        rows = rows.filter(status=query.status)
    count = rows.count()
    page = list(_with_paid(rows).order_by("-submitted_at", "-pk")[query.offset :][: query.limit])
    log_children_read(
        user=user,
        child_ids=[a.child_id for a in page],
        purpose="api_aid_applications",
        object_type="aid_application",
        detail={"count": count, "offset": query.offset, "returned": len(page)},
    )
    return {"items": [_application_out(a) for a in page], "count": count}


@router.post(
    "/aid/applications",
    response={201: AidApplicationOut, **ERRORS},
    summary="Apply for a child",
)
def application_submit(request: HttpRequest, payload: AidApplicationIn) -> Status[dict[str, Any]]:
    """A worker who sees the child applies to a scheme (a child you may not see is 404)."""
    user = current_user(request)
    child = access.get_child_for_user(user, payload.child, purpose="api_aid_application")
    scheme = Scheme.objects.filter(pk=payload.scheme).first()
    if scheme is None:
        raise ValidationError({"scheme": [_("No such scheme.")]})
    application = services.application_submit(
        actor=user, scheme=scheme, child=child, reason=payload.reason
    )
    return Status(201, _application_out(_with_paid(Application.objects).get(pk=application.pk)))


@router.post(
    "/aid/applications/{application_id}/decision",
    response={200: AidApplicationOut, **ERRORS},
    summary="Decide an application",
)
def application_decide(
    request: HttpRequest, application_id: int, payload: AidDecisionIn
) -> dict[str, Any]:
    """Approve (with an amount no more than the scheme's per child) or reject, with a note,
    as a named reviewer of the scheme's organisation; never the worker who applied."""
    user = current_user(request)
    application = access.get_aid_application_for_user(
        user, application_id, purpose="api_aid_decision"
    )
    services.application_decide(
        actor=user,
        application=application,
        approve=payload.approve,
        note=payload.note,
        amount=payload.amount,
    )
    return _application_out(_with_paid(Application.objects).get(pk=application.pk))


class FollowUpIn(Strict):
    on: dt.date
    note: str = Field(min_length=1, max_length=4000, description="For the workers")
    story: str = Field(
        "", max_length=4000, description="An anonymised account for the sponsors (never a name)"
    )


class FollowUpOut(Schema):
    id: int
    application: int
    on: dt.date
    note: str
    story: str
    story_approved: bool


def _followup_out(f: FollowUp) -> dict[str, Any]:
    return {
        "id": f.pk,
        "application": f.application_id,
        "on": f.on,
        "note": f.note,
        "story": f.story,
        "story_approved": f.story_approved_by_id is not None,
    }


@router.post(
    "/aid/applications/{application_id}/followups",
    response={201: FollowUpOut, **ERRORS},
    summary="Follow an application up",
)
def followup_add(
    request: HttpRequest, application_id: int, payload: FollowUpIn
) -> Status[dict[str, Any]]:
    """What came of the aid (school results, say), and optionally a story for the sponsors,
    which they read once another manager of the scheme approves it."""
    user = current_user(request)
    application = access.get_aid_application_for_user(
        user, application_id, purpose="api_aid_followup"
    )
    followup = services.followup_add(
        actor=user,
        application=application,
        on=payload.on,
        note=payload.note,
        story=payload.story,
    )
    return Status(201, _followup_out(followup))


@router.post(
    "/aid/followups/{followup_id}/story-approval",
    response={200: FollowUpOut, **ERRORS},
    summary="Let the sponsors read a follow-up's story",
)
def story_approve(request: HttpRequest, followup_id: int) -> dict[str, Any]:
    user = current_user(request)
    found = FollowUp.objects.filter(pk=followup_id).first() if 0 < followup_id <= MAX_ID else None
    if found is None:
        raise Http404
    access.get_aid_application_for_user(user, found.application_id, purpose="api_aid_followup")
    return _followup_out(services.story_approve(actor=user, followup=found))


# ---------------------------------------------------------------- disbursements


class DisbursementIn(Strict):
    application: int = Field(ge=1, le=MAX_ID)
    paid_on: dt.date
    method: Literal["bank_transfer", "cash", "in_kind", "school_fee"]
    amount: str | None = Field(None, max_length=20, description=MONEY_TEXT)
    items: str = Field("", max_length=4000)
    receipt_ref: str = Field("", max_length=100)


class DisbursementOut(Schema):
    id: int
    application: int
    child: int
    scheme: int
    kind: str
    paid_on: dt.date
    amount: Decimal | None
    items: str
    method: str
    receipt_ref: str
    recorded_by: str


class DisbursementList(Schema):
    items: list[DisbursementOut]
    count: int


class DisbursementQuery(Strict):
    application: int | None = Field(None, ge=1, le=MAX_ID)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10_000_000)


def _disbursement_out(d: Disbursement) -> dict[str, Any]:
    return {
        "id": d.pk,
        "application": d.application_id,
        "child": d.child_id,
        "scheme": d.scheme_id,
        "kind": d.kind,
        "paid_on": d.paid_on,
        "amount": d.amount,
        "items": d.items,
        "method": d.method,
        "receipt_ref": d.receipt_ref,
        "recorded_by": d.recorded_by.display_name or d.recorded_by.username,
    }


@router.get(
    "/aid/disbursements", response={200: DisbursementList, **ERRORS}, summary="Disbursements"
)
def disbursement_list(request: HttpRequest, query: Query[DisbursementQuery]) -> dict[str, Any]:
    """Payments under the applications you may read, latest first (logged as a read of
    each child listed)."""
    user = current_user(request)
    rows = Disbursement.objects.filter(
        application__in=access.aid_applications_visible_to(user).values("pk")
    )
    if query.application is not None:
        rows = rows.filter(application_id=query.application)
    count = rows.count()
    page = list(
        rows.select_related("recorded_by").order_by("-paid_on", "-pk")[query.offset :][
            : query.limit
        ]
    )
    log_children_read(
        user=user,
        child_ids=[d.child_id for d in page],
        purpose="api_aid_disbursements",
        object_type="disbursement",
        detail={"count": count, "offset": query.offset, "returned": len(page)},
    )
    return {"items": [_disbursement_out(d) for d in page], "count": count}


@router.post(
    "/aid/disbursements", response={201: DisbursementOut, **ERRORS}, summary="Record a payment"
)
def disbursement_add(request: HttpRequest, payload: DisbursementIn) -> Status[dict[str, Any]]:
    """A payment or goods handed over under an approved application; all payments together
    never exceed the approved amount (400 naming `amount`)."""
    user = current_user(request)
    application = access.aid_applications_visible_to(user).filter(pk=payload.application).first()
    if application is None:
        raise ValidationError({"application": [_("No such application.")]})
    disbursement = services.disbursement_add(
        actor=user,
        application=application,
        paid_on=payload.paid_on,
        method=payload.method,
        amount=payload.amount,
        items=payload.items,
        receipt_ref=payload.receipt_ref,
    )
    return Status(201, _disbursement_out(disbursement))
