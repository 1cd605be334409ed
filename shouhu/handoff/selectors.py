"""The reads of the hand-off pages: what a package received holds, and each possible
duplicate beside it, masked per reader as the child's page is (identifying values partly,
fields above the reader's ceiling wholly)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.http import Http404
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.children.models import Child, ConsentScope, Relation
from shouhu.handoff.differences import COMPARED, differences
from shouhu.handoff.models import Incoming, IncomingStatus
from shouhu.handoff.receiving import package_body
from shouhu.lib import idnumber
from shouhu.places.models import Place

FIELD_NAMES = {"hukou_code": "hukou"}
CHOICE_FIELDS = frozenset(
    {"sex", "living_arrangement", "schooling", "health", "guardianship_type", "guardianship_rating"}
)


def _label(name: str) -> str:
    if name == "members":
        return _("Family members")
    if name == "id_number":
        return _("ID number")
    field = Child._meta.get_field(FIELD_NAMES.get(name, name))
    return str(capfirst(field.verbose_name))  # type: ignore[union-attr]


def _day(text: Any) -> str:
    """A date of the package (ISO) as the reader writes dates."""
    if not text:
        return ""
    try:
        return str(formats.date_format(dt.date.fromisoformat(str(text)), "DATE_FORMAT"))
    except ValueError:
        return str(text)


def _value(name: str, value: str) -> str:
    """A compared value in words: choices by their label, places by their name."""
    if not value or value == "***":
        return value
    if name == "birth_date":
        return _day(value)
    if name == "hukou_code":
        place = Place.objects.filter(pk=value).first()
        return place.full_name if place is not None else value
    field = Child._meta.get_field(name) if name in CHOICE_FIELDS else None
    if isinstance(field, models.Field) and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return value


def _relation(code: str) -> str:
    return str(Relation(code).label) if code in Relation.values else code


def _scopes(scopes: list[str]) -> str:
    return _(", ").join(
        str(ConsentScope(s).label) if s in ConsentScope.values else s for s in scopes
    )


def package_view(body: dict[str, Any]) -> dict[str, Any]:
    """What a package holds, for a supervisor of the village it was received into: the
    child's identifying values partly masked, as on the child's page."""
    child = body["child"]
    number = str(child.get("id_number") or "")
    return {
        "name": child.get("name", ""),
        "rows": [
            (
                _label(k),
                _value(k, idnumber.mask(number) if k == "id_number" else str(child.get(k) or "")),
            )
            for k in COMPARED
            if k != "name"
        ],
        "residence": child.get("residence_name", ""),
        "school": child.get("school_name", ""),
        "members": [
            {
                "name": m.get("name", ""),
                "relation": _relation(str(m.get("relation", ""))),
                "guardian": bool(m.get("is_guardian")),
                "phone": idnumber.mask_phone(str(m["phone"])) if m.get("phone") else "",
            }
            for m in body.get("members", [])
        ],
        "consents": [
            {
                "given_by": c.get("given_by_name", ""),
                "given_on": _day(c.get("given_on")),
                "scopes": _scopes(c["scopes"] if isinstance(c.get("scopes"), list) else []),
                "withdrawn_on": _day(c.get("withdrawn_on")),
            }
            for c in body.get("consents", [])
        ],
        "sharing": body.get("sharing", {}).get("basis", ""),
        "cases": body.get("cases", []),
    }


def _compared(incoming: Incoming) -> list[int]:
    """The registered children to show beside the package: while it waits, each possible
    duplicate; once attached, the child it was attached to."""
    if incoming.status == IncomingStatus.PENDING:
        return list(incoming.candidates)
    if incoming.status == IncomingStatus.ATTACHED and incoming.child_id is not None:
        return [incoming.child_id]
    return []


def review(user: User, incoming: Incoming) -> dict[str, Any]:
    """The package and each registered child to compare it with that the reader may open
    (opened through `access`, each read logged), with the fields compared."""
    body = package_body(incoming)
    candidates = []
    for pk in _compared(incoming):
        try:
            child = access.get_child_for_user(user, pk, purpose="handoff_review")
        except Http404:
            continue  # gone, or moved out of the reviewer's area
        classes = access.field_classes(user, child)
        rows = [
            {
                "label": _label(d.field),
                "package": _value(d.field, d.package),
                "registry": _value(d.field, d.registry),
                "same": d.same,
            }
            for d in differences(body, child, registry_classes=classes)
        ]
        candidates.append({"child": child, "rows": rows})
    return {"package": package_view(body), "candidates": candidates}


def candidate_queryset(user: User, incoming: Incoming) -> Any:
    return (
        access.children_visible_to(user)
        .filter(pk__in=incoming.candidates)
        .select_related("residence")
    )
