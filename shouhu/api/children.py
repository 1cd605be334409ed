"""The registry over the API: the same selectors, services and access checks as the web UI."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from shouhu import access
from shouhu.accounts.models import User
from shouhu.api.auth import current_user
from shouhu.api.schemas import (
    MAX_ID,
    ChildCreate,
    ChildDetailQuery,
    ChildFile,
    ChildList,
    ChildListQuery,
    ChildPatch,
    Duplicates,
    Error,
    MemberIn,
    Strict,
)
from shouhu.audit.services import log_children_read
from shouhu.children import consents, editing, exporting, importing, registration, selectors
from shouhu.children.data import (
    ChildData,
    ConsentData,
    DelegatedCareData,
    HouseholdData,
    MemberData,
)
from shouhu.children.exporting import XLSX
from shouhu.children.models import Child, Consent

router = Router(tags=["children"])

ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: Error, 413: Error}


def _open(user: User, child_id: int, *, purpose: str) -> Child:
    """The child through the access module; out-of-range ids are simply missing."""
    if not 0 < child_id <= MAX_ID:
        raise Http404
    return access.get_child_for_user(user, child_id, purpose=purpose)


def _filters(query: ChildListQuery) -> selectors.ChildFilters:
    """`age` is a range of one year; with `age_min`/`age_max` the ranges intersect."""
    lows = [a for a in (query.age, query.age_min) if a is not None]
    highs = [a for a in (query.age, query.age_max) if a is not None]
    return selectors.ChildFilters(
        q=query.q,
        place=query.place,
        school_id=query.school,
        category=query.category,
        age_min=max(lows) if lows else None,
        age_max=min(highs) if highs else None,
    )


@router.get("", response={200: ChildList, **ERRORS}, summary="List and search children")
def children_list(request: HttpRequest, query: Query[ChildListQuery]) -> dict[str, Any]:
    """The children you may see, filtered, in pinyin order; `count` is the number of matches
    (not only those on this page). Every call is written to the access log."""
    user = current_user(request)
    filters = _filters(query)
    found = selectors.children_search(user=user, filters=filters)
    count = found.count()
    page = found[query.offset : query.offset + query.limit] if count > query.offset else []
    items = [selectors.present_child_row(child) for child in page]
    log_children_read(
        user=user,
        child_ids=[row["id"] for row in items],
        purpose="api_list",
        detail={
            "filters": selectors.logged_filters(filters),
            "count": count,
            "offset": query.offset,
            "returned": len(items),
        },
    )
    return {"items": items, "count": count}


class ExportQuery(ChildListQuery):
    include: Literal["", "basic", "identifying"] = Field(
        "",
        description=(
            "`identifying`: the ID numbers and phones in plaintext, for the children whose "
            "identifying fields you may see (logged with the number of rows)"
        ),
    )


@router.get(
    "/export",
    response={200: None, **ERRORS},
    summary="Export the children listed (xlsx)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "An xlsx workbook",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def children_export(request: HttpRequest, query: Query[ExportQuery]) -> HttpResponse:
    """The same export as the list page's: the filters of `GET /children`, masked columns
    above your ceiling, every export written to the access log."""
    user = current_user(request)
    try:
        result = exporting.export_children(
            user=user,
            filters=_filters(query),
            include_identifying=query.include == "identifying",
        )
    except exporting.ExportTooLarge as exc:
        raise ValidationError({"__all__": [str(exc)]}) from None
    response = HttpResponse(result.content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{result.file_name}"'
    return response


# Before `/{child_id}`: a path of its own, not a child's id.
class ProblemOut(Schema):
    line: int = Field(description="The row of the sheet (1 is the header)")
    column: str = Field(description="The column's header, e.g. `出生日期 birth_date`")
    message: str


class ImportOut(Schema):
    file_name: str
    ok: bool
    dry_run: bool
    rows: int
    created: int
    skipped: int = Field(description="Rows of children already registered")
    file_errors: list[str]
    problems: list[ProblemOut]


class ImportRefused(Error):
    """A file with problems: `errors` maps `rows.<line>.<column>` (or `file`) to the
    messages, and `report` is the whole report. Nothing was imported."""

    report: ImportOut


@router.post(
    "/import",
    response={200: ImportOut, 400: ImportRefused, 401: Error, 403: Error, 413: Error},
    summary="Import children from a spreadsheet",
)
def import_file(
    request: HttpRequest, file: File[UploadedFile], dry_run: Form[bool] = False
) -> Status[dict[str, Any]]:
    """The import page's file (.xlsx or .csv, the template of `/children/io/import/template.xlsx`)
    as `multipart/form-data`: every row is imported or none is, and each problem names its
    row and column (400). `dry_run=true` only checks the file."""
    user = current_user(request)
    if not importing.can_import(user):
        raise PermissionDenied(_("Only child directors and supervisors import children."))
    report = importing.import_children_file(
        actor=user, file=file, file_name=file.name or "", dry_run=dry_run
    )
    body = {
        "file_name": report.file_name,
        "ok": report.ok,
        "dry_run": report.dry_run,
        "rows": report.rows,
        "created": report.created,
        "skipped": report.skipped,
        "file_errors": [str(e) for e in report.file_errors],
        "problems": [
            {"line": p.line, "column": p.column, "message": str(p.message)} for p in report.problems
        ],
    }
    if report.ok:
        return Status(200, body)
    errors: dict[str, list[str]] = {}
    if report.file_errors:
        errors["file"] = [str(e) for e in report.file_errors]
    for p in report.problems:
        errors.setdefault(f"rows.{p.line}.{p.column.split()[-1]}", []).append(str(p.message))
    detail = ngettext(
        "The file has %(n)d problem; nothing was imported.",
        "The file has %(n)d problems; nothing was imported.",
        report.error_count,
    ) % {"n": report.error_count}
    return Status(400, {"detail": detail, "errors": errors, "report": body})


@router.get("/{child_id}", response={200: ChildFile, **ERRORS}, summary="A child's file")
def child_detail(
    request: HttpRequest, child_id: int, query: Query[ChildDetailQuery]
) -> dict[str, Any]:
    """The whole file, with fields above your ceiling masked; the read is written to the
    access log. `reveal` adds the plaintext of one field class (logged); officials reaching
    past their ceiling must give a `purpose` and a `reason` (break glass), and the county's
    auditors are told. A child you may not see is 404, as a missing one."""
    user = current_user(request)
    child = _open(user, child_id, purpose="api_view")
    view = selectors.present_child(user, child)
    if query.reveal is not None:
        view["revealed"] = selectors.reveal(
            user=user,
            child=child,
            field_class=query.reveal,
            reason=query.reason,
            purpose=query.purpose or "",
        )
    return view


@router.patch("/{child_id}", response={200: ChildFile, **WRITE_ERRORS}, summary="Change a child")
def child_patch(request: HttpRequest, child_id: int, payload: ChildPatch) -> dict[str, Any]:
    """Change some of the child's facts. Send the `version` you read (in the body or as
    `If-Match`): if the file changed since, the answer is 409 and nothing is written.
    Without it only the fields sent are written, over whatever the file holds now."""
    user = current_user(request)
    child = _open(user, child_id, purpose="api_edit")
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version", None) or _if_match(request) or child.version
    updated = editing.child_update(actor=user, child=child, version=version, changes=changes)
    return selectors.present_child(user, updated)


def _if_match(request: HttpRequest) -> int | None:
    """The version in an `If-Match` header (`3` or `"3"`), or None; anything else is a
    400 naming the header."""
    raw = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise ValidationError({"If-Match": [_("Send the version number you read.")]})
    return int(raw)


def _household_editable(user: User, household_id: int) -> bool:
    mates = access.children_visible_to(user).filter(household_id=household_id)
    return any(access.can_edit(user, c) for c in mates.select_related("residence", "school"))


def _check_create(user: User, payload: ChildCreate) -> None:
    errors: dict[str, list[str]] = {}
    if (payload.household is None) == (payload.household_id is None):
        errors["household"] = [_("Give either a new household or a household_id.")]
    elif payload.household_id is not None and not _household_editable(user, payload.household_id):
        errors["household_id"] = [_("No such household.")]
    count = len(payload.members)
    if payload.delegated_care is not None and payload.delegated_care.carer_index >= count:
        errors["delegated_care.carer_index"] = [_("No family member has this index.")]
    if payload.consent is not None and payload.consent.given_by_index >= count:
        errors["consent.given_by_index"] = [_("No family member has this index.")]
    if errors:
        raise ValidationError(errors)


def _duplicates(user: User, payload: ChildCreate) -> dict[str, Any] | None:
    """The 409 body when the child may already be registered (as the web form warns)."""
    if payload.confirm_not_duplicate:
        return None
    data = payload.child
    visible = selectors.possible_duplicates(
        user=user,
        id_number=data.id_number,
        name=data.name,
        birth_date=data.birth_date,
        village_code=data.residence_code,
    )
    if not visible:
        return None
    return {
        "detail": _(
            "This child may already be registered. Check, then send confirm_not_duplicate."
        ),
        "duplicates": [selectors.present_child_row(c) for c in visible],
    }


@router.post(
    "",
    response={201: ChildFile, **WRITE_ERRORS, 409: Duplicates},
    summary="Register a child with their family",
)
def child_create(request: HttpRequest, payload: ChildCreate) -> Status[dict[str, Any]]:
    """Register a child with a new household and its members (or into the household of a
    child you can edit). Categories are derived from the facts. If the child may already be
    registered among the children you may see (same ID number, or same name, date of birth
    and village) the answer is 409 with those children; send `confirm_not_duplicate` to
    register anyway. Children outside your area are not checked (nothing is said about
    them either way): if the child may have been registered elsewhere, ask your
    supervisor."""
    user = current_user(request)
    _check_create(user, payload)
    if not access.can_register_in(user, payload.child.residence_code):
        raise PermissionDenied(_("You cannot register children living in this place."))
    duplicates = _duplicates(user, payload)
    if duplicates is not None:
        return Status(409, duplicates)
    child = registration.child_register(
        actor=user,
        child=ChildData(**payload.child.model_dump()),
        household=(
            HouseholdData(**payload.household.model_dump())
            if payload.household is not None
            else None
        ),
        household_id=payload.household_id,
        members=[MemberData(**m.model_dump()) for m in payload.members],
        delegated_care=(
            DelegatedCareData(**payload.delegated_care.model_dump())
            if payload.delegated_care is not None
            else None
        ),
        consent=(
            ConsentData(**payload.consent.model_dump()) if payload.consent is not None else None
        ),
    )
    return Status(201, selectors.present_child(user, child))


# ---------------------------------------------------------------- the family and consent


class HouseholdPatch(Strict):
    """The household page's fields; only those sent change."""

    address: str | None = Field(None, max_length=200)
    aid: Literal["none", "dibao", "tekun", "low_income"] | None = None
    income_source: str | None = Field(None, max_length=200)
    version: int | None = Field(None, ge=1, le=MAX_ID)


class MemberPatch(Strict):
    """A family member's facts; only those sent change."""

    name: str | None = Field(None, max_length=100)
    is_guardian: bool | None = None
    capacity: str | None = Field(None, max_length=32)
    away: bool | None = None
    away_place_code: str | None = Field(None, max_length=12)
    away_since: dt.date | None = None
    away_reason: str | None = Field(None, max_length=16)
    workplace: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=30)


class ConsentRecordIn(Strict):
    given_by: int = Field(ge=1, le=MAX_ID, description="A guardian of the child's household")
    given_on: dt.date
    version: str = Field(min_length=1, max_length=20, description="Notice version")
    scopes: list[Literal["registry", "screening", "sharing", "photos"]] = Field(
        min_length=1, max_length=4
    )


class ConsentWithdrawIn(Strict):
    withdrawn_on: dt.date | None = None


class ConsentOut(Schema):
    id: int
    given_by: str
    given_on: dt.date
    version: str
    scopes: list[str]
    withdrawn_on: dt.date | None


def _consent_out(c: Consent) -> dict[str, Any]:
    return {
        "id": c.pk,
        "given_by": c.given_by.name,
        "given_on": c.given_on,
        "version": c.version,
        "scopes": list(c.scopes),
        "withdrawn_on": c.withdrawn_on,
    }


@router.patch(
    "/{child_id}/household",
    response={200: ChildFile, **WRITE_ERRORS},
    summary="Change the household",
)
def household_patch(request: HttpRequest, child_id: int, payload: HouseholdPatch) -> dict[str, Any]:
    """The address (stored encrypted), the assistance (which feeds the poverty category of
    every child of the household) and the income source."""
    user = current_user(request)
    child = _open(user, child_id, purpose="api_edit")
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version", None) or _if_match(request)
    editing.household_update(actor=user, child=child, changes=changes, version=version)
    return selectors.present_child(user, Child.objects.get(pk=child.pk))


@router.post(
    "/{child_id}/members", response={201: ChildFile, **WRITE_ERRORS}, summary="Add a family member"
)
def member_create(request: HttpRequest, child_id: int, payload: MemberIn) -> Status[dict[str, Any]]:
    user = current_user(request)
    child = _open(user, child_id, purpose="api_edit")
    editing.member_add(actor=user, child=child, member=MemberData(**payload.model_dump()))
    return Status(201, selectors.present_child(user, Child.objects.get(pk=child.pk)))


@router.patch(
    "/{child_id}/members/{member_id}",
    response={200: ChildFile, **WRITE_ERRORS},
    summary="Change a family member",
)
def member_patch(
    request: HttpRequest, child_id: int, member_id: int, payload: MemberPatch
) -> dict[str, Any]:
    user = current_user(request)
    child = _open(user, child_id, purpose="api_edit")
    member = child.household.members.filter(pk=member_id).first() if member_id <= MAX_ID else None
    if member is None:
        raise Http404
    editing.member_update(actor=user, member=member, changes=payload.model_dump(exclude_unset=True))
    return selectors.present_child(user, Child.objects.get(pk=child.pk))


@router.post(
    "/{child_id}/consents", response={201: ConsentOut, **WRITE_ERRORS}, summary="Record a consent"
)
def consent_create(
    request: HttpRequest, child_id: int, payload: ConsentRecordIn
) -> Status[dict[str, Any]]:
    """A guardian's consent (PIPL Art. 31), recorded by those who register the child or who
    refer the child (a social worker who obtained it for a referral)."""
    user = current_user(request)
    child = _open(user, child_id, purpose="api_consent")
    given_by = child.household.members.filter(pk=payload.given_by).first()
    if given_by is None:
        raise ValidationError({"given_by": [_("Consent must come from a guardian of this child.")]})
    consent = consents.consent_record(
        actor=user,
        child=child,
        given_by=given_by,
        given_on=payload.given_on,
        version=payload.version,
        scopes=payload.scopes,
    )
    return Status(201, _consent_out(consent))


@router.post(
    "/{child_id}/consents/{consent_id}/withdraw",
    response={200: ConsentOut, **WRITE_ERRORS},
    summary="Withdraw a consent",
)
def consent_withdraw(
    request: HttpRequest, child_id: int, consent_id: int, payload: ConsentWithdrawIn
) -> dict[str, Any]:
    user = current_user(request)
    child = _open(user, child_id, purpose="api_consent")
    consent = child.consents.filter(pk=consent_id).first() if consent_id <= MAX_ID else None
    if consent is None:
        raise Http404
    return _consent_out(
        consents.consent_withdraw(actor=user, consent=consent, on=payload.withdrawn_on)
    )


class CareIn(Strict):
    """The household's delegated care (委托照护, Minors Protection Law Art. 22)."""

    carer: int = Field(ge=1, le=MAX_ID, description="The family member the parents entrusted")
    no_abuse_record: bool = False
    no_drugs_alcohol_gambling: bool = False
    no_neglect_history: bool = False
    capable_adult: bool = False
    notice_to_school_on: dt.date | None = None
    notice_to_village_on: dt.date | None = None
    confirmation_signed_on: dt.date | None = None
    version: int | None = Field(None, ge=1, description="The household's version (or If-Match)")


@router.put(
    "/{child_id}/care",
    response={200: ChildFile, **WRITE_ERRORS},
    summary="Record the delegated care",
)
def care_put(request: HttpRequest, child_id: int, payload: CareIn) -> dict[str, Any]:
    """Record or replace the carer the parents entrusted the child to, with the eligibility
    checklist and the dates of the notices and the signed confirmation (as the page does)."""
    user = current_user(request)
    child = _open(user, child_id, purpose="api_edit")
    fields = payload.model_dump()
    carer, version = fields.pop("carer"), fields.pop("version") or _if_match(request)
    editing.delegated_care_set(actor=user, child=child, carer_id=carer, version=version, **fields)
    return selectors.present_child(user, Child.objects.get(pk=child.pk))


class BasisIn(Strict):
    purpose: str = Field(max_length=16, description="`registry`, `sharing`, ...")
    basis: str = Field(max_length=24, description="`consent`, `statutory_duty`, ...")
    note: str = Field(
        "",
        max_length=2000,
        description="Which duty or emergency (required unless the basis is consent)",
    )


class BasisOut(Schema):
    purpose: str
    basis: str
    note: str
    recorded_on: dt.date


@router.post(
    "/{child_id}/legal-bases",
    response={201: BasisOut, **WRITE_ERRORS},
    summary="Record a legal basis of processing",
)
def basis_create(request: HttpRequest, child_id: int, payload: BasisIn) -> Status[dict[str, Any]]:
    """Record (or replace) the legal basis of one purpose of processing the child's data."""
    user = current_user(request)
    child = _open(user, child_id, purpose="api_edit")
    row = consents.processing_basis_record(
        actor=user, child=child, purpose=payload.purpose, basis=payload.basis, note=payload.note
    )
    return Status(
        201,
        {
            "purpose": row.purpose,
            "basis": row.basis,
            "note": row.note,
            "recorded_on": row.recorded_on,
        },
    )
