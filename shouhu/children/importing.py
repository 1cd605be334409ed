"""Importing children, households and guardians from an .xlsx or CSV file.

File format — one row per child, the first row holds the column headers:

- Each header is bilingual, "中文 code" (e.g. "出生日期 birth_date"); either part alone is
  accepted too, and columns may come in any order. An unknown header or a missing required
  column (姓名 name, 性别 sex, 出生日期 birth_date, 现居村代码 village_code,
  居住方式 living_arrangement) rejects the whole file.
- Child: 户编号 household_ref, 姓名 name, 性别 sex (男/女 or M/F), 出生日期 birth_date
  (YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or an Excel date cell), 身份证号 id_number (optional; a
  text cell — a number cell is accepted when Excel kept all its digits), 户籍地代码 hukou_code,
  现居村代码 village_code (12 digits), 居住起始 residence_since, 学校 school (a school's name or
  id), 年级 grade, 寄宿 boarding (是/否), 就学 schooling, 健康 health, 残疾类型 disability_type,
  残疾等级 disability_grade, 居住方式 living_arrangement, 监护类型 guardianship_type,
  监护评级 guardianship_rating (较好/一般/差 or good/fair/poor).
- Household: 家庭住址 address, 救助 aid. Rows with the same 户编号 in the same village are
  siblings of one household; its members are taken from the first of its rows that has any
  (later rows may leave them blank or repeat them: they are not added twice). A row whose
  户编号 starts with 示例 ("example") is the template's example and is skipped.
- For each of 父亲 father / 母亲 mother / 照护人 carer: 姓名 _name, 关系 _relation (carer
  only: 祖父/祖母/外祖父/外祖母/其他亲属/委托照护人...), 监护能力 _capacity, 是否外出 _away
  (是/否), 外出地代码 _away_place, 外出时间 _away_since, 外出原因 _away_reason,
  工作单位 _workplace, 电话 _phone.
- Choice cells take the English code (e.g. `work`) or the Chinese label defined below
  (e.g. 外出务工).

Every problem is reported as (row, column, reason), row 1 being the header. Nothing is written
unless the whole file is valid; children already registered are skipped, so re-importing a
file creates no duplicates. The downloadable template (`template_workbook`) documents all of
this on its second sheet, "说明 Instructions".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, F, Model
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, OrgKind, User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access, log_children_read
from shouhu.children.bulk import BulkResult, RegistrationRow, RowError, bulk_register, bulk_validate
from shouhu.children.data import ChildData, HouseholdData, MemberData
from shouhu.children.models import (
    Aid,
    AwayReason,
    Capacity,
    Child,
    FamilyMember,
    GuardianshipRating,
    GuardianshipType,
    Health,
    Household,
    Living,
    Relation,
    Schooling,
)
from shouhu.children.validation import PlaceCache
from shouhu.lib import clock
from shouhu.places.models import Place

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
ADDRESS_MAX = 200  # as on the registration form

# ---------------------------------------------------------------- Chinese labels of choices
# The models' TextChoices carry English labels (translated later); imports from Chinese
# spreadsheets use these words. Keys are compared after stripping spaces.

CAPACITY_LABELS = {
    "有监护能力": Capacity.ABLE,
    "正常": Capacity.ABLE,
    "健全": Capacity.ABLE,
    "重残": Capacity.DISABLED,
    "重度残疾": Capacity.DISABLED,
    "残疾": Capacity.DISABLED,
    "重病": Capacity.SERIOUSLY_ILL,
    "服刑": Capacity.IMPRISONED,
    "服刑在押": Capacity.IMPRISONED,
    "强制隔离戒毒": Capacity.REHAB,
    "戒毒": Capacity.REHAB,
    "失联": Capacity.MISSING,
    "下落不明": Capacity.MISSING,
    "死亡": Capacity.DECEASED,
    "已故": Capacity.DECEASED,
}
AWAY_REASON_LABELS = {
    "外出务工": AwayReason.WORK,
    "务工": AwayReason.WORK,
    "外出就学": AwayReason.STUDY,
    "就学": AwayReason.STUDY,
    "求学": AwayReason.STUDY,
    "其他": AwayReason.OTHER,
}
HEALTH_LABELS = {
    "健康": Health.WELL,
    "患病": Health.ILL,
    "疾病": Health.ILL,
    "重病": Health.SERIOUSLY_ILL,
}
SCHOOLING_LABELS = {
    "学龄前": Schooling.PRESCHOOL_AGE,
    "幼儿园": Schooling.KINDERGARTEN,
    "在园": Schooling.KINDERGARTEN,
    "在校": Schooling.ENROLLED,
    "在学": Schooling.ENROLLED,
    "辍学": Schooling.DROPPED_OUT,
    "未入学": Schooling.NOT_ENROLLED,
    "失学": Schooling.NOT_ENROLLED,
}
LIVING_LABELS = {
    "与父母共同生活": Living.BOTH_PARENTS,
    "父母": Living.BOTH_PARENTS,
    "与父亲或母亲一方生活": Living.ONE_PARENT,
    "单亲": Living.ONE_PARENT,
    "与祖父母生活": Living.GRANDPARENTS,
    "祖父母": Living.GRANDPARENTS,
    "隔代照料": Living.GRANDPARENTS,
    "与其他亲属生活": Living.RELATIVES,
    "其他亲属": Living.RELATIVES,
    "委托照护": Living.DELEGATED_CARER,
    "独居": Living.ALONE,
    "机构养育": Living.INSTITUTION,
    "机构": Living.INSTITUTION,
}
GUARDIANSHIP_TYPE_LABELS = {
    "无人监护": GuardianshipType.NONE,
    "父母无监护能力": GuardianshipType.PARENT_UNABLE,
    "委托监护不到位": GuardianshipType.DELEGATE_INSUFFICIENT,
    "一般": GuardianshipType.ORDINARY,
    "普通": GuardianshipType.ORDINARY,
    "良好": GuardianshipType.GOOD,
}
GUARDIANSHIP_RATING_LABELS = {
    "较好": GuardianshipRating.GOOD,
    "好": GuardianshipRating.GOOD,
    "一般": GuardianshipRating.FAIR,
    "差": GuardianshipRating.POOR,
    "较差": GuardianshipRating.POOR,
}
AID_LABELS = {
    "无": Aid.NONE,
    "低保": Aid.DIBAO,
    "特困": Aid.TEKUN,
    "特困供养": Aid.TEKUN,
    "低收入": Aid.LOW_INCOME,
    "低收入家庭": Aid.LOW_INCOME,
}
CARER_RELATION_LABELS = {
    "祖父": Relation.PATERNAL_GRANDFATHER,
    "爷爷": Relation.PATERNAL_GRANDFATHER,
    "祖母": Relation.PATERNAL_GRANDMOTHER,
    "奶奶": Relation.PATERNAL_GRANDMOTHER,
    "外祖父": Relation.MATERNAL_GRANDFATHER,
    "外公": Relation.MATERNAL_GRANDFATHER,
    "外祖母": Relation.MATERNAL_GRANDMOTHER,
    "外婆": Relation.MATERNAL_GRANDMOTHER,
    "其他亲属": Relation.OTHER_RELATIVE,
    "亲属": Relation.OTHER_RELATIVE,
    "委托照护人": Relation.DELEGATED_CARER,
    "受委托人": Relation.DELEGATED_CARER,
}
# Words that name more than one relation: the error asks for the precise one.
AMBIGUOUS_RELATIONS = {"祖父母", "外祖父母"}
SEX_LABELS = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
YES = {"是", "有", "y", "yes", "true", "1", "√"}
NO = {"否", "无", "n", "no", "false", "0", ""}


# ---------------------------------------------------------------- problems and results


class ImportFileError(Exception):
    """The file as a whole cannot be imported (format, size, headers)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str  # the canonical bilingual header, e.g. "出生日期 birth_date"
    message: str

    def __str__(self) -> str:
        return _("row %(line)s, %(column)s: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class ImportReport:
    file_name: str
    rows: int = 0
    created: int = 0
    skipped: int = 0
    dry_run: bool = False
    file_errors: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    # The registered children the rows matched (skipped), once the file was checked for
    # them; None if it never got that far.
    matched: list[int] | None = None

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.problems

    @property
    def error_count(self) -> int:
        return len(self.file_errors) + len(self.problems)


class CellError(ValueError):
    pass


# ---------------------------------------------------------------- cell conversion


def cell_text(value: object) -> str:
    """A cell as text: numbers without a trailing `.0`, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


_DATE_SEPARATORS = re.compile(r"[/.年月]")


def to_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    if not text:
        return None
    try:
        if len(text) == 8 and text.isdigit():
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        parts = _DATE_SEPARATORS.sub("-", text.removesuffix("日")).split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
            return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        pass
    raise CellError(_("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": text})


def to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError(_("“%(value)s” is not 是 or 否 (yes or no).") % {"value": text})


def to_id_number(value: object) -> str:
    if isinstance(value, float) and value >= 1e15:
        # Excel keeps 15 significant digits: an 18-digit number cell has lost its tail.
        raise CellError(
            _(
                "The ID number was stored as a number and Excel dropped its last digits; "
                "format the column as text and enter it again."
            )
        )
    return cell_text(value).replace(" ", "").upper()


def choice_reader(
    labels: Mapping[str, str], values: Iterable[str], *, ambiguous: Iterable[str] = ()
) -> Callable[[object], str]:
    lookup = {**{v.lower(): v for v in values}, **labels}
    unclear = set(ambiguous)

    def read(value: object) -> str:
        text = cell_text(value).replace(" ", "").replace("\u3000", "")
        if not text:
            return ""
        found = lookup.get(text) or lookup.get(text.lower())
        if found is not None:
            return str(found)
        if text in unclear:
            raise CellError(
                _("“%(value)s” names more than one relation: say which one.") % {"value": text}
            )
        raise CellError(_("“%(value)s” is not an accepted value.") % {"value": text})

    return read


def text(limit: int) -> Callable[[object], str]:
    """A text cell of at most `limit` characters (the database column's length)."""

    def read(value: object) -> str:
        found = cell_text(value)
        if len(found) > limit:
            raise CellError(
                _("At most %(limit)s characters (this cell has %(length)s).")
                % {"limit": limit, "length": len(found)}
            )
        return found

    return read


def _limit(model: type[Model], name: str) -> int:
    column = model._meta.get_field(name)
    assert isinstance(column, CharField)
    assert column.max_length is not None
    return int(column.max_length)


def to_sex(value: object) -> str:
    text = cell_text(value)
    found = SEX_LABELS.get(text.lower()) or SEX_LABELS.get(text)
    if found is None:
        raise CellError(_("“%(value)s” is not 男 or 女 (M or F).") % {"value": text})
    return found


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    code: str
    zh: str
    read: Callable[[object], Any]
    required: bool = False
    values: tuple[str, ...] = ()  # accepted values, for the instructions and validation lists

    @property
    def header(self) -> str:
        return f"{self.zh} {self.code}"


def _labels(labels: Mapping[str, str], codes: Iterable[str]) -> tuple[str, ...]:
    return (*labels, *codes)


YES_NO = ("是", "否")
CHILD_COLUMNS = [
    Column("household_ref", "户编号", text(_limit(Household, "ref"))),
    Column("name", "姓名", text(_limit(Child, "name")), required=True),
    Column("sex", "性别", to_sex, required=True, values=("男", "女", "M", "F")),
    Column("birth_date", "出生日期", to_date, required=True),
    Column("id_number", "身份证号", to_id_number),
    Column("hukou_code", "户籍地代码", cell_text),
    Column("village_code", "现居村代码", cell_text, required=True),
    Column("residence_since", "居住起始", to_date),
    Column("school", "学校", text(_limit(Organisation, "name"))),
    Column("grade", "年级", text(_limit(Child, "grade"))),
    Column("boarding", "寄宿", to_bool, values=YES_NO),
    Column(
        "schooling",
        "就学",
        choice_reader(SCHOOLING_LABELS, Schooling.values),
        values=_labels(SCHOOLING_LABELS, Schooling.values),
    ),
    Column(
        "health",
        "健康",
        choice_reader(HEALTH_LABELS, Health.values),
        values=_labels(HEALTH_LABELS, Health.values),
    ),
    Column("disability_type", "残疾类型", text(_limit(Child, "disability_type"))),
    Column("disability_grade", "残疾等级", text(_limit(Child, "disability_grade"))),
    Column(
        "living_arrangement",
        "居住方式",
        choice_reader(LIVING_LABELS, Living.values),
        required=True,
        values=_labels(LIVING_LABELS, Living.values),
    ),
    Column(
        "guardianship_type",
        "监护类型",
        choice_reader(GUARDIANSHIP_TYPE_LABELS, GuardianshipType.values),
        values=_labels(GUARDIANSHIP_TYPE_LABELS, GuardianshipType.values),
    ),
    Column(
        "guardianship_rating",
        "监护评级",
        choice_reader(GUARDIANSHIP_RATING_LABELS, GuardianshipRating.values),
        values=_labels(GUARDIANSHIP_RATING_LABELS, GuardianshipRating.values),
    ),
    Column("address", "家庭住址", text(ADDRESS_MAX)),
    Column(
        "aid", "救助", choice_reader(AID_LABELS, Aid.values), values=_labels(AID_LABELS, Aid.values)
    ),
]

GROUPS = (("father", "父亲"), ("mother", "母亲"), ("carer", "照护人"))
GROUP_RELATION = {"father": Relation.FATHER, "mother": Relation.MOTHER}
CARER_RELATIONS = [r for r in Relation.values if r not in GROUP_RELATION.values()]


def _member_columns(group: str, zh: str) -> list[Column]:
    columns = [Column(f"{group}_name", f"{zh}姓名", text(_limit(FamilyMember, "name")))]
    if group == "carer":
        columns.append(
            Column(
                "carer_relation",
                f"{zh}关系",
                choice_reader(
                    CARER_RELATION_LABELS, CARER_RELATIONS, ambiguous=AMBIGUOUS_RELATIONS
                ),
                values=_labels(CARER_RELATION_LABELS, CARER_RELATIONS),
            )
        )
    return [
        *columns,
        Column(
            f"{group}_capacity",
            f"{zh}监护能力",
            choice_reader(CAPACITY_LABELS, Capacity.values),
            values=_labels(CAPACITY_LABELS, Capacity.values),
        ),
        Column(f"{group}_away", f"{zh}是否外出", to_bool, values=YES_NO),
        Column(f"{group}_away_place", f"{zh}外出地代码", cell_text),
        Column(f"{group}_away_since", f"{zh}外出时间", to_date),
        Column(
            f"{group}_away_reason",
            f"{zh}外出原因",
            choice_reader(AWAY_REASON_LABELS, AwayReason.values),
            values=_labels(AWAY_REASON_LABELS, AwayReason.values),
        ),
        Column(f"{group}_workplace", f"{zh}工作单位", text(_limit(FamilyMember, "workplace"))),
        Column(f"{group}_phone", f"{zh}电话", cell_text),
    ]


COLUMNS: list[Column] = [*CHILD_COLUMNS]
for _group, _zh in GROUPS:
    COLUMNS += _member_columns(_group, _zh)
BY_CODE = {c.code: c for c in COLUMNS}
BY_ZH = {c.zh: c for c in COLUMNS}
MEMBER_FIELDS = (
    "name",
    "relation",
    "capacity",
    "away",
    "away_place",
    "away_since",
    "away_reason",
    "workplace",
    "phone",
)

# Service field names (bulk/services errors) → column codes.
CHILD_FIELD_COLUMN = {
    "name": "name",
    "sex": "sex",
    "birth_date": "birth_date",
    "id_number": "id_number",
    "hukou_code": "hukou_code",
    "residence_code": "village_code",
    "residence_since": "residence_since",
    "school_id": "school",
    "grade": "grade",
    "boarding": "boarding",
    "schooling": "schooling",
    "health": "health",
    "disability_type": "disability_type",
    "disability_grade": "disability_grade",
    "living_arrangement": "living_arrangement",
    "guardianship_type": "guardianship_type",
    "guardianship_rating": "guardianship_rating",
    "household.village_code": "village_code",
    "household.address": "address",
    "household.aid": "aid",
}
MEMBER_FIELD_COLUMN = {"away_place_code": "away_place"}
# A service error on the key is a consequence of a bad cell in one of the values.
DEPENDS_ON = {"id_number": {"birth_date", "sex"}}


def header_code(raw: object) -> str | None:
    """The column code a header cell names, or None when it names none."""
    text = " ".join(cell_text(raw).split())
    if not text:
        return None
    parts = text.split(" ")
    for candidate in (parts[-1].lower(), text.lower()):
        if candidate in BY_CODE:
            return candidate
    for candidate in (" ".join(p for p in parts if not p.isascii()), text, parts[0]):
        if candidate in BY_ZH:
            return BY_ZH[candidate].code
    return None


def map_headers(header: Sequence[object]) -> dict[str, int]:
    """Column code → index in the row. Raises ImportFileError for unknown or missing ones."""
    found: dict[str, int] = {}
    unknown: list[str] = []
    duplicate: list[str] = []
    for index, raw in enumerate(header):
        if not cell_text(raw):
            continue
        code = header_code(raw)
        if code is None:
            unknown.append(cell_text(raw))
        elif code in found:
            duplicate.append(cell_text(raw))
        else:
            found[code] = index
    problems = []
    if unknown:
        problems.append(_("Unknown columns: %(names)s.") % {"names": ", ".join(unknown)})
    if duplicate:
        problems.append(_("Columns given twice: %(names)s.") % {"names": ", ".join(duplicate)})
    missing = [c.header for c in COLUMNS if c.required and c.code not in found]
    if missing:
        problems.append(_("Missing required columns: %(names)s.") % {"names": ", ".join(missing)})
    if problems:
        raise ImportFileError(" ".join(problems))
    return found


# ---------------------------------------------------------------- reading files


def read_table(data: bytes, file_name: str) -> Iterator[tuple[object, ...]]:
    """The rows of an .xlsx (first sheet) or CSV file, header first."""
    if len(data) > max_file_bytes():
        raise ImportFileError(
            _("The file is larger than %(size)s; split it into smaller files.")
            % {"size": filesizeformat(max_file_bytes())}
        )
    suffix = PurePath(file_name).suffix.lower()
    if data[:4] == b"PK\x03\x04":
        return _xlsx_rows(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or suffix == ".xls":
        raise ImportFileError(_("Old .xls files are not supported: save the file as .xlsx."))
    if suffix in XLSX_SUFFIXES:
        raise ImportFileError(_("The file is not a readable .xlsx workbook."))
    if suffix not in TEXT_SUFFIXES:
        raise ImportFileError(_("Only .xlsx and .csv files can be imported."))
    return _csv_rows(data)


XLSX_SUFFIXES = {".xlsx", ".xlsm"}
TEXT_SUFFIXES = {"", ".csv", ".txt", ".tsv"}


def max_file_bytes() -> int:
    return int(getattr(settings, "SHOUHU_IMPORT_MAX_BYTES", MAX_FILE_BYTES))


def max_rows() -> int:
    return int(getattr(settings, "SHOUHU_IMPORT_MAX_ROWS", MAX_ROWS))


def _xlsx_rows(data: bytes) -> Iterator[tuple[object, ...]]:
    from openpyxl import load_workbook

    unreadable = _("The file is not a readable .xlsx workbook.")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign zip fails in many ways, all the same to us
        raise ImportFileError(unreadable) from exc

    def rows() -> Iterator[tuple[object, ...]]:
        try:
            if not book.worksheets:
                raise ImportFileError(unreadable)
            yield from book.worksheets[0].iter_rows(values_only=True)
        except ImportFileError:
            raise
        except Exception as exc:  # damaged sheet XML, found only while reading it
            raise ImportFileError(unreadable) from exc
        finally:
            book.close()

    return rows()


def _csv_rows(data: bytes) -> Iterator[tuple[object, ...]]:
    not_text = _("The file is neither an .xlsx workbook nor a CSV text file.")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encodings: tuple[str, ...] = ("utf-16",)  # Excel's "Unicode text": UTF-16, tabs
    elif b"\x00" in data[:4096]:
        raise ImportFileError(not_text)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("The CSV file is neither UTF-8 nor GBK/GB18030 text."))
    if "\x00" in text:  # binary after all (and PostgreSQL refuses NUL in text)
        raise ImportFileError(not_text)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[object, ...]]:
        try:
            for row in reader:
                yield tuple(row)
        except csv.Error as exc:  # e.g. an unclosed quote swallowing the rest of the file
            raise ImportFileError(
                _("The CSV file cannot be read near line %(line)s: %(error)s")
                % {"line": reader.line_num, "error": exc}
            ) from exc

    return rows()


# ---------------------------------------------------------------- parsing rows


@dataclass
class ParsedRow:
    row: RegistrationRow
    groups: list[str]  # column group of each member, by index
    bad: set[str]  # column codes whose cells could not be read
    school: str


@dataclass
class Parsed:
    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


PLACEHOLDER_BIRTH = dt.date(2000, 1, 1)
# Rows whose 户编号 starts with this are the template's examples, never imported.
EXAMPLE_MARK = "示例"


REQUIRED = frozenset(c.code for c in COLUMNS if c.required)


def _cells(
    row: tuple[object, ...], readers: list[tuple[str, int, Callable[[object], Any]]]
) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    width = len(row)
    for code, index, read in readers:
        raw = row[index] if index < width else None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if code in REQUIRED:
                errors[code] = _("This cell must not be empty.")
            continue
        try:
            values[code] = read(raw)
        except CellError as exc:
            errors[code] = str(exc)
    return values, errors


def _member(group: str, v: dict[str, Any]) -> MemberData | None:
    get = v.get
    if not any(f"{group}_{f}" in v for f in MEMBER_FIELDS):
        return None
    away = get(f"{group}_away")
    since = get(f"{group}_away_since")
    place = get(f"{group}_away_place", "")
    if away is None:
        away = bool(since or place)
    capacity = get(f"{group}_capacity") or Capacity.ABLE
    relation = GROUP_RELATION.get(group) or get(f"{group}_relation", "")
    return MemberData(
        name=get(f"{group}_name", ""),
        relation=relation,
        is_guardian=group in GROUP_RELATION and capacity != Capacity.DECEASED,
        capacity=capacity,
        away=away,
        away_place_code=place if away else "",
        away_since=since if away else None,
        away_reason=get(f"{group}_away_reason", "") if away else "",
        workplace=get(f"{group}_workplace", ""),
        phone=get(f"{group}_phone", ""),
    )


def _registration(line: int, v: dict[str, Any]) -> tuple[RegistrationRow, list[str]]:
    get = v.get
    village = get("village_code", "")
    child = ChildData(
        name=get("name", ""),
        sex=get("sex", ""),
        birth_date=get("birth_date") or PLACEHOLDER_BIRTH,
        residence_code=village,
        living_arrangement=get("living_arrangement", ""),
        id_number=get("id_number", ""),
        hukou_code=get("hukou_code", ""),
        residence_since=get("residence_since"),
        grade=get("grade", ""),
        boarding=get("boarding", False),
        schooling=get("schooling") or Schooling.ENROLLED,
        health=get("health") or Health.WELL,
        disability_type=get("disability_type", ""),
        disability_grade=get("disability_grade", ""),
        guardianship_type=get("guardianship_type", ""),
        guardianship_rating=get("guardianship_rating", ""),
    )
    members: list[MemberData] = []
    groups: list[str] = []
    for group, _zh in GROUPS:
        member = _member(group, v)
        if member is not None:
            members.append(member)
            groups.append(group)
    household = HouseholdData(
        village_code=village, address=get("address", ""), aid=get("aid") or Aid.NONE
    )
    reg = RegistrationRow(
        line=line,
        household_ref=get("household_ref", ""),
        household=household,
        child=child,
        members=members,
    )
    return reg, groups


def _blank(row: tuple[object, ...]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


def parse_rows(rows: Iterator[tuple[object, ...]]) -> Parsed:
    """Turn the table into registration rows and per-cell problems."""
    header = next(rows, None)
    if header is None:
        raise ImportFileError(_("The file is empty."))
    positions = map_headers(header)
    readers = [(code, index, BY_CODE[code].read) for code, index in positions.items()]
    parsed = Parsed()
    limit = max_rows()
    ref_at = positions.get("household_ref", -1)
    for line, row in enumerate(rows, start=2):
        if line > 2 * limit + 2:
            # Blank rows count too: a sheet can claim a million of them.
            raise ImportFileError(
                _("The file has more than %(max)s rows; split it into smaller files.")
                % {"max": limit}
            )
        if _blank(row):
            continue
        if 0 <= ref_at < len(row) and cell_text(row[ref_at]).startswith(EXAMPLE_MARK):
            continue
        if len(parsed.rows) >= limit:
            raise ImportFileError(
                _("The file has more than %(max)s rows; split it into smaller files.")
                % {"max": limit}
            )
        values, errors = _cells(row, readers)
        for code, message in errors.items():
            parsed.problems.append(RowProblem(line, BY_CODE[code].header, message))
        reg, groups = _registration(line, values)
        parsed.rows.append(ParsedRow(reg, groups, set(errors), values.get("school", "")))
    return parsed


# ---------------------------------------------------------------- households and schools


def share_household_members(parsed: Sequence[ParsedRow]) -> list[RegistrationRow]:
    """Order rows so that each household's first row is the first of its rows that lists
    members: bulk registration takes the household's members from that row only."""
    first_seen: dict[tuple[str, str], int] = {}
    donor: dict[tuple[str, str], int] = {}
    keyed: list[tuple[int, int, int, RegistrationRow]] = []
    for i, p in enumerate(parsed):
        r = p.row
        if not r.household_ref:
            keyed.append((i, 0, i, r))
            continue
        key = (r.household.village_code, r.household_ref)
        first_seen.setdefault(key, i)
        if r.members and key not in donor:
            donor[key] = i
        keyed.append((first_seen[key], 0 if donor.get(key) == i else 1, i, r))
    keyed.sort(key=lambda k: k[:3])
    return [r for *_k, r in keyed]


def resolve_schools(parsed: Sequence[ParsedRow]) -> list[RowProblem]:
    """Set each row's school id from the school's name or id; unknown names are problems."""
    refs = {p.school for p in parsed if p.school}
    if not refs:
        return []
    ids = {int(r) for r in refs if r.isdigit()}
    schools = Organisation.objects.filter(kind=OrgKind.SCHOOL)
    by_id = dict(schools.filter(pk__in=ids).values_list("pk", "pk")) if ids else {}
    by_name: dict[str, list[int]] = {}
    for pk, name in schools.filter(name__in=refs - {str(i) for i in ids}).values_list("pk", "name"):
        by_name.setdefault(name, []).append(pk)
    header = BY_CODE["school"].header
    problems = []
    for p in parsed:
        if not p.school:
            continue
        if p.school.isdigit() and int(p.school) in by_id:
            p.row.child.school_id = int(p.school)
            continue
        matches = by_name.get(p.school, [])
        if len(matches) == 1:
            p.row.child.school_id = matches[0]
            continue
        message = (
            _("More than one school is named “%(name)s”: give its id instead.")
            if matches
            else _("No school is named “%(name)s”.")
        )
        problems.append(RowProblem(p.row.line, header, message % {"name": p.school}))
        p.bad.add("school")
    return problems


# ---------------------------------------------------------------- service errors → columns


def column_of(error: RowError, groups: Sequence[str]) -> str:
    """The column code a service field error belongs to."""
    name = error.field
    if name.startswith("members."):
        _m, index, rest = name.split(".", 2)
        group = groups[int(index)] if int(index) < len(groups) else "carer"
        column = MEMBER_FIELD_COLUMN.get(rest, rest)
        code = f"{group}_{column}"
        return code if code in BY_CODE else f"{group}_name"
    return CHILD_FIELD_COLUMN.get(name, name)


def service_problems(errors: Sequence[RowError], parsed: Sequence[ParsedRow]) -> list[RowProblem]:
    by_line = {p.row.line: p for p in parsed}
    problems = []
    for e in errors:
        p = by_line.get(e.line)
        code = column_of(e, p.groups if p else [])
        if p is not None and (code in p.bad or DEPENDS_ON.get(code, set()) & p.bad):
            continue  # the cell itself was already reported unreadable
        header = BY_CODE[code].header if code in BY_CODE else code
        problems.append(RowProblem(e.line, header, e.message))
    return problems


# ---------------------------------------------------------------- the import


ORDER = {c.code: i for i, c in enumerate(COLUMNS)}
HEADER_ORDER = {c.header: i for i, c in enumerate(COLUMNS)}


def _sorted(problems: Iterable[RowProblem]) -> list[RowProblem]:
    return sorted(set(problems), key=lambda p: (p.line, HEADER_ORDER.get(p.column, 999), p.message))


def import_children(
    *,
    actor: User | None,
    data: bytes,
    file_name: str,
    dry_run: bool = False,
    today: dt.date | None = None,
) -> ImportReport:
    """Import a file of children: all rows or none. Always writes one access-log entry.

    `actor` None is the operator at the server (`shouhu import` without `--as`): no area
    restriction, logged as the system."""
    report = ImportReport(file_name=file_name, dry_run=dry_run)
    try:
        _run(report, actor=actor, data=data, today=today or clock.today())
    except ImportFileError as exc:
        report.file_errors.append(str(exc))
    finally:
        log_access(
            user=actor,
            username="" if actor is not None else "system",
            action=Action.IMPORT,
            object_type="children",
            purpose="import",
            detail={
                "file": file_name[:200],
                "rows": report.rows,
                "created": report.created,
                "skipped": report.skipped,
                "errors": report.error_count,
                "dry_run": dry_run,
            },
        )
        if report.matched is not None:
            # The duplicate lookup, like the one of the registration page: the children found.
            log_children_read(
                user=actor,
                child_ids=report.matched,
                purpose="duplicate_check",
                object_type="import",
                fields=[access.BASIC],
                detail={"file": file_name[:200], "dry_run": dry_run},
            )
    return report


def _run(report: ImportReport, *, actor: User | None, data: bytes, today: dt.date) -> None:
    parsed = parse_rows(read_table(data, report.file_name))
    report.rows = len(parsed.rows)
    problems = parsed.problems + resolve_schools(parsed.rows)
    rows = share_household_members(parsed.rows)
    if problems:
        # Still validate everything else, so that every invalid row is reported at once.
        errors = bulk_validate(rows, actor=actor, places=PlaceCache(), today=today)
        report.problems = _sorted(problems + service_problems(errors, parsed.rows))
        return
    result = _register(actor, rows, today, dry_run=report.dry_run)
    report.problems = _sorted(service_problems(result.errors, parsed.rows))
    if not report.problems:
        report.created, report.skipped = result.created, result.skipped
        report.matched = result.matched


def _register(
    actor: User | None, rows: Sequence[RegistrationRow], today: dt.date, *, dry_run: bool
) -> BulkResult:
    with transaction.atomic():
        _lock_villages(rows)
        result = bulk_register(actor=actor, rows=rows, today=today, check_access=actor is not None)
        if dry_run:
            transaction.set_rollback(True)
    return result


def _lock_villages(rows: Sequence[RegistrationRow]) -> None:
    """Imports into the same villages run one after the other, so that the second sees the
    children the first registered and skips them (a file sent twice by an impatient click
    registers nobody twice). Called first thing in the import's transaction.

    PostgreSQL: FOR NO KEY UPDATE on the village rows, which does not hold up single
    registrations (their foreign keys take KEY SHARE). SQLite has one writer at a time:
    writing first (an update that changes nothing) makes a second import wait for the first
    to commit before it reads anything."""
    villages = sorted({r.child.residence_code for r in rows})
    if not villages:
        return
    if connection.vendor == "sqlite":
        Place.objects.filter(code=villages[0]).update(name=F("name"))
        return
    for start in range(0, len(villages), 5000):
        list(
            Place.objects.select_for_update(no_key=True)
            .filter(code__in=villages[start : start + 5000])
            .order_by("code")
            .values_list("code", flat=True)
        )


def import_children_file(
    *, actor: User | None, file: IO[bytes], file_name: str, dry_run: bool = False
) -> ImportReport:
    """`import_children` for an open file; never reads more than the size limit (plus one
    byte, so that an oversized file is recognised and refused)."""
    data = file.read(max_file_bytes() + 1)
    return import_children(actor=actor, data=data, file_name=file_name, dry_run=dry_run)


# ---------------------------------------------------------------- the template


INSTRUCTIONS_SHEET = "说明 Instructions"
DATA_SHEET = "儿童 Children"
TEMPLATE_ROWS = 5000  # rows that get the validation lists
EXAMPLE = {
    "household_ref": "示例-001",
    "name": "张小明",
    "sex": "男",
    "birth_date": dt.date(2015, 3, 1),
    "id_number": "341524201503010058",
    "hukou_code": "341524101204",
    "village_code": "341524101204",
    "school": "麻埠镇中心小学",
    "grade": "三年级",
    "boarding": "否",
    "schooling": "在校",
    "health": "健康",
    "living_arrangement": "与祖父母生活",
    "guardianship_rating": "一般",
    "aid": "无",
    "father_name": "张大山",
    "father_away": "是",
    "father_away_place": "330106000000",
    "father_away_since": dt.date(2024, 2, 1),
    "father_away_reason": "外出务工",
    "father_workplace": "杭州某建筑公司",
    "father_phone": "13800138000",
    "mother_name": "李秀英",
    "mother_away": "是",
    "mother_away_place": "330106000000",
    "mother_away_since": dt.date(2024, 2, 1),
    "mother_away_reason": "外出务工",
    "carer_name": "王桂兰",
    "carer_relation": "奶奶",
    "carer_away": "否",
}
TEXT_COLUMNS = {"household_ref", "id_number", "hukou_code", "village_code"} | {
    f"{g}_{f}" for g, _zh in GROUPS for f in ("phone", "away_place")
}


def _descriptions() -> dict[str, str]:
    return {
        "household_ref": _("Household number in the village; siblings share it."),
        "name": _("Child's name."),
        "birth_date": _("Date of birth, YYYY-MM-DD."),
        "id_number": _("Resident ID number, 18 characters; enter it as text."),
        "hukou_code": _("12-digit code of the hukou place (county or below)."),
        "village_code": _("12-digit code of the village or community where the child lives."),
        "residence_since": _("Living in this village since (YYYY-MM-DD)."),
        "school": _("School name exactly as registered, or its id."),
        "disability_type": _("Type of disability, if any."),
        "disability_grade": _("Disability grade, if any."),
        "address": _("Home address."),
    }


def _member_description(code: str) -> str:
    group, _sep, name = code.partition("_")
    who = {"father": _("Father"), "mother": _("Mother"), "carer": _("Carer")}[group]
    what = {
        "name": _("name; leave the group empty if unknown"),
        "relation": _("relation to the child"),
        "capacity": _("capacity to care for the child"),
        "away": _("away from the child"),
        "away_place": _("12-digit code of where the person is"),
        "away_since": _("away since (YYYY-MM-DD)"),
        "away_reason": _("reason for being away"),
        "workplace": _("workplace"),
        "phone": _("phone number"),
    }[name]
    return f"{who}: {what}"


def template_workbook() -> bytes:
    """The downloadable template: headers, one example row, validation lists, instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = DATA_SHEET
    sheet.append([c.header for c in COLUMNS])
    sheet.append([EXAMPLE.get(c.code, "") for c in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, len(column.header) + 4)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        cell = sheet.cell(row=2, column=index)
        if isinstance(cell.value, dt.date):
            cell.number_format = "yyyy-mm-dd"
        if column.code in TEXT_COLUMNS:
            cell.number_format = "@"
            sheet.column_dimensions[letter].number_format = "@"
        if column.values and len(",".join(column.values[:12])) < 250:
            listed = column.values if column.values == YES_NO else column.values[:12]
            rule = DataValidation(type="list", formula1=f'"{",".join(listed)}"', allow_blank=True)
            rule.showErrorMessage = column.values in (YES_NO, ("男", "女", "M", "F"))
            rule.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
            sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"
    _instructions(book.create_sheet(INSTRUCTIONS_SHEET))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _instructions(sheet: Any) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.append([_("Rows whose 户编号 starts with 示例 are examples and are not imported.")])
    sheet.append(
        [
            _(
                "Nothing is imported unless every row is valid; children already registered "
                "are skipped, so importing the same file again creates no duplicates."
            )
        ]
    )
    sheet.append([])
    sheet.append(["列 Column", "必填 Required", "可填的值 Accepted values", "说明 Description"])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    descriptions = _descriptions()
    for column in COLUMNS:
        group = column.code.partition("_")[0]
        description = descriptions.get(column.code) or (
            _member_description(column.code) if group in dict(GROUPS) else ""
        )
        sheet.append(
            [
                column.header,
                "是 yes" if column.required else "",
                " / ".join(column.values),
                description,
            ]
        )
    for letter, width in zip("ABCD", (30, 14, 60, 60), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=5):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def can_import(user: User) -> bool:
    """Who may import: users who register children somewhere (child directors, supervisors).
    Each row is still checked against the importer's area by bulk registration."""
    return access.can_register(user)
