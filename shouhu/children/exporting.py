"""Exporting a filtered list of children to Excel, within the user's access, audited.

The rows are the visible children matching the list page's filters (`children_search`), with
the fields every user who sees a child may see (`present_child_row`), the categories the
reader may see (the 困境, 事实无人抚养 and orphan categories are sensitive: a column each for
readers who may see some child's sensitive fields, masked on the rows they may not), plus the
ID number and
the family's phone numbers, masked as on the child's page: partly (`3415**********0015`) where
the user's role reaches the identifying fields of that child, entirely (`***`) where it does
not. `include_identifying` writes them in plaintext, for the children whose identifying fields
the user may see; the others stay masked. A user who may see no child's identifying fields
(officials, teachers, volunteers) is refused that export. Every export writes an access-log
entry per child exported (one entry without a child when none was), sharing the filters,
the number of rows and the field classes exported.

Exports of a county or a province stream: the children are read in pages of `CHUNK` by keyset
(pinyin, id), each page's family members in one query over that page's households, into a
write-only workbook. No query carries a list longer than a page (SQLite refuses an expression
tree deeper than 1000, which Django's prefetch of thousands of keys builds).
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, ExpressionWrapper, Q, Value, When
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.models import Action
from shouhu.audit.services import log_children_read
from shouhu.children.models import Child, ChildQuerySet, FamilyMember, Relation
from shouhu.children.selectors import (
    MASK,
    SENSITIVE_CATEGORIES,
    ChildFilters,
    children_search,
    logged_filters,
    present_child_row,
)
from shouhu.lib import clock, idnumber, protect

MAX_EXPORT_ROWS = 100_000
# Children read per query (and households per family-member query): well under SQLite's
# limits on parameters and expression depth.
CHUNK = 500

SEX_LABELS = {"M": "男", "F": "女"}
CATEGORY_LABELS = {
    "left_behind_mca": "农村留守儿童",
    "left_behind_census": "留守儿童(普查口径)",
    "migrant": "流动儿童",
    "difficulty_poverty": "困境儿童(经济困难)",
    "difficulty_disability": "困境儿童(残疾)",
    "difficulty_guardianship": "困境儿童(监护缺失)",
    "de_facto_unsupported": "事实无人抚养儿童",
    "orphan": "孤儿",
}
RELATION_LABELS: dict[str, str] = {
    Relation.FATHER: "父亲",
    Relation.MOTHER: "母亲",
    Relation.PATERNAL_GRANDFATHER: "祖父",
    Relation.PATERNAL_GRANDMOTHER: "祖母",
    Relation.MATERNAL_GRANDFATHER: "外祖父",
    Relation.MATERNAL_GRANDMOTHER: "外祖母",
    Relation.OTHER_RELATIVE: "其他亲属",
    Relation.DELEGATED_CARER: "委托照护人",
}
BASIC_COLUMNS = [
    ("id", "编号"),
    ("name", "姓名"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("age", "年龄"),
    ("village", "现居村"),
    ("village_code", "现居村代码"),
    ("school", "学校"),
    ("grade", "年级"),
    ("categories", "类别"),
]
# One column per sensitive category (是/否), for readers who may see some child's sensitive
# fields; "***" on the rows of children whose sensitive fields they may not see.
SENSITIVE_COLUMNS = [(f"cat_{code}", CATEGORY_LABELS[code]) for code in SENSITIVE_CATEGORIES]
IDENTIFYING_COLUMNS = [("id_number", "身份证号"), ("family_phones", "家庭成员电话")]
YES_NO = {True: "是", False: "否"}

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportTooLarge(Exception):
    pass


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    count: int
    file_name: str


def max_export_rows() -> int:
    return int(getattr(settings, "SHOUHU_EXPORT_MAX_ROWS", MAX_EXPORT_ROWS))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written as text (CSV/formula
    injection: a name typed as `=HYPERLINK(...)` must stay a name)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _basic(child: Child, today: dt.date, *, sensitive: bool) -> list[Any]:
    row = present_child_row(child, today=today)
    row["sex"] = SEX_LABELS.get(row["sex"], row["sex"])
    if sensitive:
        row["categories"] += [c for c in SENSITIVE_CATEGORIES if getattr(child, f"cat_{c}")]
    row["categories"] = "、".join(CATEGORY_LABELS.get(c, c) for c in row["categories"])
    return [row[code] for code, _zh in BASIC_COLUMNS]


def _sensitive(child: Child, *, allowed: bool) -> list[Any]:
    return [
        YES_NO[bool(getattr(child, code))] if allowed else MASK for code, _zh in SENSITIVE_COLUMNS
    ]


def _identifying(
    child: Child, members: list[FamilyMember], *, allowed: bool, plaintext: bool
) -> list[Any]:
    """ID number and phones: plaintext, partly masked (within the user's ceiling for this
    child) or wholly masked (above it)."""

    def show(token: str, mask: Callable[[str], str]) -> str:
        if not token:
            return ""
        if not allowed:
            return MASK
        value = protect.unseal(token)
        return value if plaintext else mask(value)

    phones = [
        f"{RELATION_LABELS.get(m.relation, m.relation)} {m.name} "
        f"{show(m.phone_enc, idnumber.mask_phone)}"
        for m in members
        if m.phone_enc
    ]
    return [show(child.id_number_enc, idnumber.mask), "; ".join(phones)]


def _covers(q: Q | None) -> Any:
    """True on the rows `q` matches (a field class the reader has for that child)."""
    allowed: Any = Value(False) if q is None else Case(When(q, then=Value(True)), default=False)
    return ExpressionWrapper(allowed, output_field=BooleanField())


def _queryset(
    user: User, filters: ChildFilters, include_identifying: bool, today: dt.date
) -> ChildQuerySet:
    qs = children_search(user=user, filters=filters, today=today)
    identifying = access.visible_q(user, needs=access.IDENTIFYING)
    if identifying is None and include_identifying:
        raise PermissionDenied(_("You may not export identifying fields."))
    sensitive = access.visible_q(user, needs=access.SENSITIVE)
    return qs.annotate(
        export_identifying=_covers(identifying), export_sensitive=_covers(sensitive)
    ).order_by("name_pinyin", "id")


def _pages(qs: ChildQuerySet) -> Iterator[list[Child]]:
    """The children of `qs` in pinyin order, `CHUNK` at a time, by keyset: each query reads
    one page after the last row of the previous one (no offset, no long-held cursor)."""
    after = Q()
    while True:
        page = list(qs.filter(after)[:CHUNK])
        if not page:
            return
        yield page
        last = page[-1]
        after = Q(name_pinyin__gt=last.name_pinyin) | Q(
            name_pinyin=last.name_pinyin, id__gt=last.pk
        )


def _members(page: list[Child]) -> dict[int, list[FamilyMember]]:
    """The family members of one page's households, in one query."""
    family: dict[int, list[FamilyMember]] = defaultdict(list)
    homes = {c.household_id for c in page}
    for m in FamilyMember.objects.filter(household_id__in=homes).order_by("id"):
        family[m.household_id].append(m)
    return family


def export_children(
    *,
    user: User,
    filters: ChildFilters,
    include_identifying: bool = False,
    today: dt.date | None = None,
) -> ExportFile:
    """The visible children matching `filters` as an .xlsx workbook, logged."""
    from openpyxl import Workbook

    today = today or clock.today()
    qs = _queryset(user, filters, include_identifying, today)
    sees_sensitive = access.visible_q(user, needs=access.SENSITIVE) is not None
    classes = [access.BASIC] + ([access.IDENTIFYING] if include_identifying else [])
    classes += [access.SENSITIVE] if sees_sensitive else []
    columns = BASIC_COLUMNS + (SENSITIVE_COLUMNS if sees_sensitive else []) + IDENTIFYING_COLUMNS
    limit = max_export_rows()
    count = qs.count()
    if count > limit:
        _log(user, filters, classes, columns, [], refused=True, count=count)
        raise ExportTooLarge(
            _(
                "%(count)s children match: an export holds at most %(max)s. "
                "Narrow the filters (a township or a village, a school, a category)."
            )
            % {"count": count, "max": limit}
        )
    book = Workbook(write_only=True)
    sheet = book.create_sheet("儿童 Children")
    sheet.append([f"{zh} {code}" for code, zh in columns])
    ids: list[int] = []
    plaintext_rows = 0
    for page in _pages(qs):
        family = _members(page)
        for child in page:
            ids.append(child.pk)
            allowed = bool(getattr(child, "export_identifying", False))
            sensitive = bool(getattr(child, "export_sensitive", False))
            plaintext = include_identifying and allowed
            plaintext_rows += plaintext
            values = _basic(child, today, sensitive=sensitive)
            if sees_sensitive:
                values += _sensitive(child, allowed=sensitive)
            values += _identifying(
                child, family[child.household_id], allowed=allowed, plaintext=plaintext
            )
            sheet.append([cell(v) for v in values])
    out = io.BytesIO()
    book.save(out)
    _log(user, filters, classes, columns, ids, count=len(ids), plaintext_rows=plaintext_rows)
    stamp = today.strftime("%Y%m%d")
    return ExportFile(out.getvalue(), len(ids), f"children-{stamp}.xlsx")


def _log(
    user: User,
    filters: ChildFilters,
    classes: list[str],
    columns: list[tuple[str, str]],
    ids: list[int],
    *,
    count: int,
    plaintext_rows: int = 0,
    refused: bool = False,
) -> None:
    # One row per child exported (an auditor who looks up a child finds the export), the
    # rows of one export sharing its detail and its `export` key.
    log_children_read(
        user=user,
        child_ids=ids,
        action=Action.EXPORT,
        object_type="children",
        fields=classes,
        purpose="export",
        detail={
            "export": uuid.uuid4().hex,
            "filters": logged_filters(filters),
            "count": count,
            "columns": [code for code, _zh in columns],
            "format": "xlsx",
            # Rows whose ID number and phones were written in plaintext (the rest masked).
            "identifying_rows": plaintext_rows,
            **({"refused": "too_large"} if refused else {}),
        },
    )
