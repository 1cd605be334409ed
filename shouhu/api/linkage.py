"""Record linkage over the API (issue 14): the review queue of the caller's side, a decision
on a pair, a child's links, and sharing a linked child's file with the other side or ending
the share. The same services and access rules as the pages (`linkage.views`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.api.auth import current_user
from shouhu.api.schemas import MAX_ID, Error, Strict
from shouhu.linkage import reviews, selectors, sharing
from shouhu.linkage.models import Candidate, Share

router = Router(tags=["record linkage"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}
PURPOSE = "api_link_review"


class LinkRecordOut(Schema):
    id: int
    name: str
    sex: str = Field(description="M or F")
    birth_date: str
    id_number: str = Field(description="Partly masked, or *** above the caller's ceiling")
    hukou: str
    residence: str
    father_name: str
    mother_name: str
    guardian_phone: str = Field(description="Partly masked, or *** above the caller's ceiling")
    opens_file: bool = Field(description="The caller may open this record's file")


class LinkEvidenceOut(Schema):
    field: str
    level: str
    agreement: Literal["exact", "close", "differ", "missing"]


class LinkDecisionOut(Schema):
    verdict: str
    reason: str
    decided_by: str
    side: str
    decided_at: dt.datetime


class LinkCandidateOut(Schema):
    id: int
    status: str = Field(description="review, unsure, linked or rejected")
    how: str = Field(description="sure (linked by the model) or reviewed; empty while open")
    probability: float
    side: str = Field(description="The caller's side: home or destination")
    home: LinkRecordOut
    destination: LinkRecordOut
    evidence: list[LinkEvidenceOut]
    decisions: list[LinkDecisionOut]


class LinkCandidateList(Schema):
    items: list[LinkCandidateOut]


class LinkDecisionIn(Strict):
    verdict: Literal["match", "non_match", "unsure"]
    reason: str = Field(min_length=1, max_length=reviews.REASON_MAX)


class LinkMoveOut(Schema):
    to_place: str
    since: dt.date | None
    recorded_at: dt.datetime


class LinkShareOut(Schema):
    id: int
    link: int
    child: int
    organisation: int
    organisation_name: str
    fields: str = Field(description="basic or full")
    basis: str = Field(description="consent, child or legal")
    basis_note: str | None = Field(
        None, description="Only for those who share or end it: it may quote the child"
    )
    active: bool
    started_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str | None = Field(None, description="Only for those who share or end it")


class LinkOut(Schema):
    id: int
    this_side: str = Field(description="home or destination: which record this child is")
    other_child: int | None = Field(description="The other record, when the caller may open it")
    other_place: str
    other_since: dt.date | None
    how: str
    linked_at: dt.datetime | None
    moves: list[LinkMoveOut]
    shares: list[LinkShareOut]
    services_here: dict[str, int]
    services_there: dict[str, int]


class LinkList(Schema):
    items: list[LinkOut]


class LinkShareIn(Strict):
    link: int = Field(ge=1, le=MAX_ID, description="The confirmed link")
    organisation: int = Field(ge=1, le=MAX_ID, description="An organisation of the other side")
    basis: Literal["consent", "child", "legal"]
    fields: Literal["basic", "full"] = "basic"
    note: str = Field("", max_length=sharing.NOTE_MAX)


def _record(side: dict[str, Any]) -> dict[str, Any]:
    return {**side, "sex": side["sex_code"]}


def _candidate(user: User, candidate: Candidate) -> dict[str, Any]:
    return _shown(selectors.pair(user, candidate))


def _shown(shown: dict[str, Any]) -> dict[str, Any]:
    candidate = shown["candidate"]
    return {
        "id": candidate.pk,
        "status": candidate.status,
        "how": candidate.how,
        "probability": candidate.probability,
        "side": shown["side"],
        "home": _record(shown["home"]),
        "destination": _record(shown["destination"]),
        "evidence": [
            {"field": e.field, "level": e.level, "agreement": e.agreement}
            for e in shown["evidence"]
        ],
        "decisions": [
            {
                "verdict": d.verdict,
                "reason": d.reason,
                "decided_by": d.decided_by.username,
                "side": d.side,
                "decided_at": d.decided_at,
            }
            for d in shown["decisions"]
        ],
    }


def _share(share: Share, user: User) -> dict[str, Any]:
    """A share; what it rests on (the consent, the child's words) and why it ended only for
    those who look after it on either side."""
    row = {
        "id": share.pk,
        "link": share.candidate_id,
        "child": share.child_id,
        "organisation": share.organisation_id,
        "organisation_name": share.organisation.name,
        "fields": share.fields,
        "basis": share.basis,
        "active": share.active,
        "started_at": share.started_at,
        "ended_at": share.ended_at,
    }
    if access.may_share_child(user, share.child) or access.may_end_share(user, share):
        row["basis_note"], row["end_reason"] = share.basis_note, share.end_reason
    return row


@router.get(
    "/linkage/candidates",
    response={200: LinkCandidateList, **ERRORS},
    summary="Pairs of records to review",
)
def candidate_list(request: HttpRequest, status: str = "") -> dict[str, Any]:
    """The pairs of which one record lives in the caller's jurisdiction (supervisors and
    officials), waiting for review (`review` and `unsure`) unless `status` names one; most
    probable first, at most 50. Each record masked to the caller's ceiling."""
    user = current_user(request)
    if not access.may_review_links(user):
        raise PermissionDenied(_("Only supervisors and officials review pairs of records."))
    if status and status not in {"review", "unsure", "linked", "rejected"}:
        raise ValidationError({"status": [_("Use review, unsure, linked or rejected.")]})
    rows = selectors.queue(user, status=status, purpose=PURPOSE, whole=True)
    return {"items": [_shown(p) for p in selectors.pairs(user, [r.candidate for r in rows])]}


@router.post(
    "/linkage/candidates/{candidate_id}/decision",
    response={200: LinkCandidateOut, **ERRORS},
    summary="Decide a pair",
)
def candidate_decide(
    request: HttpRequest, candidate_id: int, payload: LinkDecisionIn
) -> dict[str, Any]:
    """The same child (a link), not the same child, or unsure (the other side is asked), with
    a reason; a link can be undone with `non_match`, which ends its shares."""
    user = current_user(request)
    candidate = access.get_link_candidate_for_user(user, candidate_id, purpose=PURPOSE)
    decided = reviews.decide(
        actor=user, candidate=candidate, verdict=payload.verdict, reason=payload.reason
    )
    return _candidate(user, decided)


@router.get(
    "/children/{child_id}/links",
    response={200: LinkList, **ERRORS},
    exclude_unset=True,
    summary="A child's records in other places",
)
def child_links(request: HttpRequest, child_id: int) -> dict[str, Any]:
    user = current_user(request)
    child = access.get_child_for_user(user, child_id, purpose="api_links")
    items = []
    for link in selectors.links_of(user, child):
        items.append(
            {
                "id": link["link"].pk,
                "this_side": link["this_side"],
                "other_child": link["other_id"] if link["opens_other"] else None,
                "other_place": link["other_place"],
                "other_since": link["other_since"],
                "how": link["link"].how,
                "linked_at": link["link"].linked_at,
                "moves": [
                    {
                        "to_place": m.to_place.full_name,
                        "since": m.since,
                        "recorded_at": m.recorded_at,
                    }
                    for m in link["moves"]
                ],
                "shares": [_share(s, user) for s in link["shares"]],
                "services_here": link["services"]["here"],
                "services_there": link["services"]["there"],
            }
        )
    return {"items": items}


@router.post(
    "/children/{child_id}/shares",
    response={201: LinkShareOut, **ERRORS},
    exclude_unset=True,
    summary="Share a linked child's file with the other side",
)
def share_create(
    request: HttpRequest, child_id: int, payload: LinkShareIn
) -> Status[dict[str, Any]]:
    """Needs the guardian's consent in force (`consent`), a legal basis on record (`legal`)
    or the child's own request at 14 or older with what they asked in `note` (`child`);
    `full` only on consent or a legal basis."""
    user = current_user(request)
    child = access.get_child_for_user(user, child_id, purpose="api_link_share")
    link = access.links_of_child_visible_to(user, child).filter(pk=payload.link).first()
    if link is None:
        raise ValidationError({"link": [_("No such link of this child.")]})
    organisation = Organisation.objects.filter(pk=payload.organisation).first()
    if organisation is None:
        raise ValidationError({"organisation": [_("No such organisation.")]})
    try:
        share = sharing.share_create(
            actor=user,
            candidate=link,
            child=child,
            organisation=organisation,
            basis=payload.basis,
            fields=payload.fields,
            note=payload.note,
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "extent" in exc.error_dict:
            exc.error_dict["fields"] = exc.error_dict.pop("extent")
        if hasattr(exc, "error_dict") and "basis_note" in exc.error_dict:
            exc.error_dict["note"] = exc.error_dict.pop("basis_note")
        raise
    return Status(201, _share(share, user))


class LinkShareEndIn(Strict):
    reason: str = Field(min_length=1, max_length=1000)


@router.delete(
    "/shares/{share_id}",
    response={200: LinkShareOut, **ERRORS},
    exclude_unset=True,
    summary="End a share",
)
def share_end(request: HttpRequest, share_id: int, payload: LinkShareEndIn) -> dict[str, Any]:
    """Either side ends a share, with a `reason` (in the JSON body, kept out of URLs)."""
    user = current_user(request)
    share = access.get_share_for_user(user, share_id, purpose="api_link_share")
    return _share(sharing.share_end(actor=user, share=share, reason=payload.reason), user)
