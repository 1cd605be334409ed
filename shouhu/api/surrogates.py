"""Surrogate parents over the API (issue 13): arrangements the caller may read, arranging
one, logging contacts and ending it. The same services and access rules as the pages; a
refusal names its field (`surrogate.phone`, `cadences.0.every_days`)."""

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
from shouhu.audit.services import log_children_read
from shouhu.children.models import FamilyMember
from shouhu.lib import clock
from shouhu.surrogates import services
from shouhu.surrogates.models import Arrangement, SurrogateParent
from shouhu.surrogates.presenting import present_arrangement
from shouhu.surrogates.selectors import standings
from shouhu.volunteers.models import Volunteer

router = Router(tags=["surrogate parents"])
ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}
PURPOSE = "api_surrogate"
ModeCode = Literal["call", "video", "visit"]


class SurrogateCadenceOut(Schema):
    mode: str
    every_days: int
    last: dt.date | None = Field(description="The latest contact that keeps this cadence")
    due_on: dt.date = Field(description="The day by which the next contact is owed")
    missed: bool


class SurrogateContactOut(Schema):
    id: int
    on: dt.date
    mode: str
    minutes: int | None
    notes: str
    recorded_by: str


class ArrangementOut(Schema):
    id: int
    child: int
    child_name: str
    surrogate: str
    community_role: str
    organisation: str
    guardian: str
    signed_on: dt.date
    since: dt.date
    until: dt.date | None
    duties: str
    agreement_version: str
    status: str
    ended_on: dt.date | None
    end_reason: str
    missed: bool = Field(description="An agreed contact cadence is missed")
    cadences: list[SurrogateCadenceOut]
    contacts: list[SurrogateContactOut] = Field(description="The latest contacts, newest first")


class ArrangementList(Schema):
    items: list[ArrangementOut]


class SurrogateIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    community_role: Literal[
        "village_cadre", "teacher", "party_member", "volunteer", "neighbour", "other"
    ]
    phone: str = Field("", max_length=32)
    user: int | None = Field(None, ge=1, le=MAX_ID, description="Their login, if any")
    volunteer: int | None = Field(None, ge=1, le=MAX_ID, description="Their volunteer record")


class SurrogateCadenceIn(Strict):
    mode: ModeCode
    every_days: int = Field(ge=1, le=366, description="7 for weekly, 30 for monthly")


class ArrangementIn(Strict):
    child: int = Field(ge=1, le=MAX_ID)
    organisation: int = Field(ge=1, le=MAX_ID, description="The organisation arranging it")
    guardian: int = Field(ge=1, le=MAX_ID, description="The guardian who agreed (family member)")
    surrogate: SurrogateIn | None = Field(None, description="A new surrogate parent")
    surrogate_id: int | None = Field(None, ge=1, le=MAX_ID, description="Or an existing one")
    signed_on: dt.date
    since: dt.date
    until: dt.date | None = None
    duties: str = Field(min_length=1, max_length=4000)
    agreement_version: str = Field(min_length=1, max_length=32)
    cadences: list[SurrogateCadenceIn] = Field(max_length=3)


class SurrogateContactIn(Strict):
    on: dt.date
    mode: ModeCode
    minutes: int | None = Field(None, ge=1, le=1440)
    notes: str = Field("", max_length=4000)


class SurrogateEndIn(Strict):
    reason: str = Field(min_length=1, max_length=300)
    ended_on: dt.date | None = None


def _out(arrangement: Arrangement, **kw: Any) -> dict[str, Any]:
    shown = present_arrangement(arrangement, today=clock.today(), **kw)
    return {**shown, "child": arrangement.child_id, "contacts": shown["contacts"]}


def _arrangement(request: HttpRequest, pk: int) -> tuple[User, Arrangement]:
    user = current_user(request)
    return user, access.get_surrogate_arrangement_for_user(user, pk, purpose=PURPOSE)


def _pk(model: Any, pk: int | None, field: str, message: str, **filters: Any) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk, **filters).first()
    if found is None:
        raise ValidationError({field: [message]})
    return found


@router.get(
    "/surrogates",
    response={200: ArrangementList, **ERRORS},
    summary="Surrogate-parent arrangements",
)
def arrangement_list(request: HttpRequest, active: bool = True) -> dict[str, Any]:
    """The arrangements of the children whose identifying fields the caller sees, and the
    caller's own as a surrogate parent; active ones unless `active=false`."""
    user = current_user(request)
    rows = access.surrogate_arrangements_visible_to(user)
    if active:
        rows = rows.filter(status="active")
    found = list(
        rows.select_related("child", "surrogate", "organisation", "guardian").order_by("pk")[:200]
    )
    log_children_read(user=user, child_ids=[a.child_id for a in found], purpose=PURPOSE)
    state = standings(child_ids=[a.child_id for a in found], today=clock.today())
    return {
        "items": [
            _out(a, found=state.get(a.child_id) if a.is_active else None, contacts=0) for a in found
        ]
    }


@router.post(
    "/surrogates", response={201: ArrangementOut, **ERRORS}, summary="Arrange a surrogate parent"
)
def arrangement_create(request: HttpRequest, payload: ArrangementIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    child = access.get_child_for_user(user, payload.child, purpose=PURPOSE)
    if not access.may_arrange_surrogate(user, child):
        raise PermissionDenied(_("You do not arrange surrogate parents for this child."))
    organisation = _pk(
        Organisation, payload.organisation, "organisation", _("No such organisation.")
    )
    guardian = _pk(
        FamilyMember,
        payload.guardian,
        "guardian",
        _("Choose a guardian of the child's household."),
        household_id=child.household_id,
    )
    person = None
    if payload.surrogate is not None:
        s = payload.surrogate
        person = services.SurrogateData(
            name=s.name,
            community_role=s.community_role,
            phone=s.phone,
            user=_pk(User, s.user, "surrogate.user", _("No such user.")),
            volunteer=_pk(
                Volunteer, s.volunteer, "surrogate.volunteer", _("No such volunteer record.")
            ),
        )
    surrogate = _pk(
        SurrogateParent,
        payload.surrogate_id,
        "surrogate_id",
        _("No such surrogate parent."),
        organisation_id__in=access.surrogate_organisations(user),
    )
    arrangement = services.arrangement_create(
        actor=user,
        child=child,
        organisation=organisation,
        guardian=guardian,
        signed_on=payload.signed_on,
        since=payload.since,
        until=payload.until,
        duties=payload.duties,
        agreement_version=payload.agreement_version,
        cadences=[services.CadenceData(c.mode, c.every_days) for c in payload.cadences],
        surrogate=surrogate,
        person=person,
    )
    return Status(201, _out(arrangement))


@router.get(
    "/surrogates/{arrangement_id}",
    response={200: ArrangementOut, **ERRORS},
    summary="An arrangement",
)
def arrangement_get(request: HttpRequest, arrangement_id: int) -> dict[str, Any]:
    _user, arrangement = _arrangement(request, arrangement_id)
    return _out(arrangement)


@router.get(
    "/surrogates/{arrangement_id}/contacts",
    response={200: list[SurrogateContactOut], **ERRORS},
    summary="The contact log",
)
def contact_list(request: HttpRequest, arrangement_id: int) -> list[dict[str, Any]]:
    _user, arrangement = _arrangement(request, arrangement_id)
    contacts: list[dict[str, Any]] = _out(arrangement, contacts=500)["contacts"]
    return contacts


@router.post(
    "/surrogates/{arrangement_id}/contacts",
    response={201: ArrangementOut, **ERRORS},
    summary="Log a contact",
)
def contact_add(
    request: HttpRequest, arrangement_id: int, payload: SurrogateContactIn
) -> Status[dict[str, Any]]:
    user, arrangement = _arrangement(request, arrangement_id)
    services.contact_record(actor=user, arrangement=arrangement, **payload.dict())
    return Status(201, _out(arrangement))


@router.post(
    "/surrogates/{arrangement_id}/end",
    response={200: ArrangementOut, **ERRORS},
    summary="End an arrangement",
)
def arrangement_end(
    request: HttpRequest, arrangement_id: int, payload: SurrogateEndIn
) -> dict[str, Any]:
    user, arrangement = _arrangement(request, arrangement_id)
    ended = services.arrangement_end(
        actor=user, arrangement=arrangement, reason=payload.reason, ended_on=payload.ended_on
    )
    return _out(ended)
