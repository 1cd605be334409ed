"""Importing children from .xlsx and CSV: the file format, all-or-nothing with every problem
reported by row and column, no duplicates on re-import, the template, the access log."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.utils import translation

from shouhu.accounts.models import User
from shouhu.audit.models import AccessLog, ChangeRecord
from shouhu.children import importing
from shouhu.children.importing import import_children
from shouhu.children.models import Child, FamilyMember, Household
from shouhu.lib.protect import unseal
from tests.world import BORN, ID_OTHER, VILLAGE_A, VILLAGE_B, WORK_CITY, World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_messages():  # type: ignore[no-untyped-def]
    """The messages asserted below are the English source texts."""
    with translation.override("en"):
        yield


ID_SON = "34152420160501069X"  # male, 2016-05-01, check digit X
ID_DAUGHTER = "341524201708120023"  # female, 2017-08-12

HEADERS = [
    "户编号 household_ref",
    "姓名 name",
    "性别 sex",
    "出生日期 birth_date",
    "身份证号 id_number",
    "现居村代码 village_code",
    "户籍地代码 hukou_code",
    "学校 school",
    "年级 grade",
    "居住方式 living_arrangement",
    "监护评级 guardianship_rating",
    "父亲姓名 father_name",
    "父亲是否外出 father_away",
    "父亲外出地代码 father_away_place",
    "父亲外出时间 father_away_since",
    "父亲外出原因 father_away_reason",
    "父亲电话 father_phone",
    "母亲姓名 mother_name",
    "母亲是否外出 mother_away",
    "母亲外出地代码 mother_away_place",
    "母亲外出时间 mother_away_since",
    "母亲外出原因 mother_away_reason",
    "照护人姓名 carer_name",
    "照护人关系 carer_relation",
]
PARENTS = [
    "陈父",
    "是",
    WORK_CITY,
    "2024-02-01",
    "外出务工",
    "13800138001",
    "陈母",
    "是",
    WORK_CITY,
    "2024-02-01",
    "work",
    "陈奶奶",
    "奶奶",
]
NO_PARENTS = [""] * len(PARENTS)


def child_row(
    ref: str,
    name: str,
    sex: str,
    born: Any,
    id_number: Any = "",
    village: str = VILLAGE_A,
    school: str = "",
    family: list[Any] | None = None,
) -> list[Any]:
    return [
        ref,
        name,
        sex,
        born,
        id_number,
        village,
        village,
        school,
        "三年级" if school else "",
        "与祖父母生活",
        "一般",
        *(PARENTS if family is None else family),
    ]


def valid_rows() -> list[list[Any]]:
    """Two siblings (the second repeats the parents) and a child of another household."""
    return [
        child_row("H1", "陈一", "男", "2016-05-01", ID_SON, school="麻埠镇中心小学"),
        child_row("H1", "陈二", "女", "2017-08-12", ID_DAUGHTER),
        child_row("H2", "周三", "M", BORN.isoformat(), family=NO_PARENTS),
    ]


def xlsx(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(rows: list[list[Any]], headers: list[str] = HEADERS) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def counts() -> tuple[int, int, int, int]:
    return (
        Child.objects.count(),
        Household.objects.count(),
        FamilyMember.objects.count(),
        ChangeRecord.objects.count(),
    )


def run(world: World, data: bytes, name: str = "children.xlsx", **kw: Any) -> Any:
    return import_children(actor=kw.pop("actor", world.director_a), data=data, file_name=name, **kw)


def problems(report: Any) -> set[tuple[int, str]]:
    return {(p.line, p.column) for p in report.problems}


# ---------------------------------------------------------------- valid files


def test_valid_xlsx_registers_children_households_and_guardians(world: World) -> None:
    report = run(world, xlsx(valid_rows()))
    assert report.problems == [] and report.file_errors == []
    assert (report.created, report.skipped) == (3, 0)
    son = Child.objects.get(name="陈一")
    daughter = Child.objects.get(name="陈二")
    assert son.household_id == daughter.household_id
    assert son.household.ref == "H1"
    members = {m.relation: m for m in son.household.members.all()}
    assert set(members) == {"father", "mother", "paternal_grandmother"}  # not duplicated
    assert members["father"].away and members["father"].away_reason == "work"
    assert members["father"].away_place_id == WORK_CITY
    assert unseal(members["father"].phone_enc) == "13800138001"
    assert unseal(son.id_number_enc) == ID_SON  # the X is kept
    assert son.school == world.orgs["school_a"]
    assert son.guardianship_rating == "fair"
    assert son.living_arrangement == "grandparents"
    assert son.cat_left_behind_mca and daughter.cat_left_behind_mca
    zhou = Child.objects.get(name="周三")
    assert zhou.household_id != son.household_id and not zhou.household.members.exists()
    # Imported children get their risk level and first home visit at once.
    from shouhu.screening.models import RiskLevel
    from shouhu.tasks.models import Task

    assert RiskLevel.objects.get(child=son).level == "yellow"  # guardianship rated fair
    assert (
        Task.objects.filter(
            kind="home_visit", child__in=[son, daughter, zhou], status="open"
        ).count()
        == 3
    )


def test_valid_csv_with_bom_and_any_column_order(world: World) -> None:
    order = list(reversed(range(len(HEADERS))))
    headers = [HEADERS[i] for i in order]
    rows = [[r[i] for i in order] for r in valid_rows()]
    data = csv_text(rows, headers).encode("utf-8-sig")
    report = run(world, data, "children.csv")
    assert (report.created, report.problems, report.file_errors) == (3, [], [])


def test_headers_match_by_chinese_part_or_code_alone(world: World) -> None:
    headers = [h.split(" ")[0] if i % 2 else h.split(" ")[1] for i, h in enumerate(HEADERS)]
    report = run(world, xlsx(valid_rows(), headers))
    assert (report.created, report.problems, report.file_errors) == (3, [], [])


def test_gbk_csv_from_chinese_excel(world: World) -> None:
    data = csv_text(valid_rows()).encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    report = run(world, data, "children.csv")
    assert (report.created, report.problems) == (3, [])
    assert Child.objects.filter(name="陈二").exists()


def with_exact_number(data: bytes, placeholder: int, number: str) -> bytes:
    """Store `number` as a number cell with all its digits, as WPS and some exporters do
    (openpyxl itself writes big integers in floating-point notation)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                old = f"<v>{placeholder}</v>".encode()
                assert old in content
                content = content.replace(old, f"<v>{number}</v>".encode())
            target.writestr(item, content)
    return out.getvalue()


def test_excel_unicode_text_utf16_with_tabs(world: World) -> None:
    """Excel's "Unicode text (*.txt)": UTF-16 with a byte-order mark, tab-separated."""
    out = io.StringIO()
    csv.writer(out, delimiter="\t").writerows([HEADERS, *valid_rows()])
    report = run(world, out.getvalue().encode("utf-16"), "children.txt")
    assert (report.created, report.problems, report.file_errors) == (3, [], [])


def test_nul_anywhere_in_a_text_file_is_a_file_error(world: World) -> None:
    filler = [child_row(f"F{i}", f"填{i}", "男", BORN.isoformat()) for i in range(30)]
    data = csv_text([*filler, child_row("H9", "空\x00字符", "男", BORN.isoformat())]).encode()
    assert data.index(b"\x00") > 4096
    report = run(world, data, "children.csv")
    assert len(report.file_errors) == 1 and report.created == 0
    assert Child.objects.count() == 4


def test_excel_number_and_date_cells(world: World) -> None:
    import datetime as dt

    rows = [
        child_row("H5", "数字", "男", dt.datetime.combine(BORN, dt.time()), 4242, family=NO_PARENTS)
    ]
    rows[0][5] = int(VILLAGE_A)  # a village code typed as a number
    report = run(world, with_exact_number(xlsx(rows), 4242, ID_OTHER))
    assert (report.created, report.problems) == (1, [])
    child = Child.objects.get(name="数字")
    assert unseal(child.id_number_enc) == ID_OTHER
    assert child.birth_date == BORN


def test_id_number_that_excel_rounded_is_a_row_error(world: World) -> None:
    rows = [child_row("H5", "舍入", "男", BORN.isoformat(), float(ID_OTHER), family=NO_PARENTS)]
    report = run(world, xlsx(rows))
    assert problems(report) == {(2, "身份证号 id_number")}
    assert "digits" in report.problems[0].message


def test_lower_case_x_in_a_text_id_is_kept_upper_case(world: World) -> None:
    rows = [child_row("H1", "陈一", "男", "2016-05-01", ID_SON.lower(), family=NO_PARENTS)]
    assert run(world, xlsx(rows)).created == 1
    assert unseal(Child.objects.get(name="陈一").id_number_enc) == ID_SON


def test_siblings_members_come_from_the_first_row_that_lists_them(world: World) -> None:
    rows = [
        child_row("H7", "林一", "男", "2016-05-01", family=NO_PARENTS),
        child_row("H7", "林二", "女", "2017-08-12"),
        child_row("H7", "林三", "男", BORN.isoformat()),
    ]
    assert run(world, xlsx(rows)).created == 3
    homes = set(Child.objects.filter(name__startswith="林").values_list("household", flat=True))
    assert len(homes) == 1
    assert FamilyMember.objects.filter(household_id__in=homes).count() == 3
    assert Child.objects.get(name="林一").cat_left_behind_mca


def test_reimport_creates_no_duplicates(world: World) -> None:
    data = xlsx(valid_rows())
    run(world, data)
    before = counts()
    again = run(world, data)
    assert (again.created, again.skipped, again.problems) == (0, 3, [])
    assert counts() == before


def test_import_is_logged_with_counts(world: World) -> None:
    run(world, xlsx(valid_rows()), "春季排查.xlsx")
    run(world, xlsx([child_row("H9", "", "男", BORN.isoformat())]), "bad.xlsx")
    logs = AccessLog.objects.filter(action="import").order_by("id")
    assert [e.detail["file"] for e in logs] == ["春季排查.xlsx", "bad.xlsx"]
    first, second = logs
    assert first.username == "director_a"
    assert (first.detail["created"], first.detail["skipped"], first.detail["errors"]) == (3, 0, 0)
    assert (second.detail["created"], second.detail["errors"]) == (0, 1)


def test_dry_run_reports_counts_and_writes_nothing(world: World) -> None:
    before = counts()
    report = run(world, xlsx(valid_rows()), dry_run=True)
    assert (report.created, report.problems) == (3, [])
    assert counts() == before


# ---------------------------------------------------------------- invalid files


def test_every_invalid_row_is_reported_and_nothing_is_written(world: World) -> None:
    rows = [
        child_row("H1", "好孩子", "男", "2016-05-01", ID_SON),
        child_row("H2", "错号", "男", BORN.isoformat(), ID_OTHER[:-1] + "5", family=NO_PARENTS),
        child_row("H3", "坏日期", "女", "2015-13-01", family=NO_PARENTS),
        child_row(
            "H4", "无此村", "女", BORN.isoformat(), village="341524101999", family=NO_PARENTS
        ),
        child_row("H5", "怪关系", "女", BORN.isoformat()),
        child_row("H6", "外村", "女", BORN.isoformat(), village=VILLAGE_B, family=NO_PARENTS),
        child_row("H7", "没学校", "女", BORN.isoformat(), school="不存在小学", family=NO_PARENTS),
    ]
    rows[4][-1] = "邻居"  # not a relation
    before = counts()
    report = run(world, xlsx(rows))
    assert problems(report) == {
        (3, "身份证号 id_number"),
        (4, "出生日期 birth_date"),
        (5, "现居村代码 village_code"),
        (5, "户籍地代码 hukou_code"),
        (6, "照护人关系 carer_relation"),
        (7, "现居村代码 village_code"),
        (8, "学校 school"),
    }
    assert (report.created, report.skipped) == (0, 0)
    assert counts() == before
    messages = {(p.line, p.column): p.message for p in report.problems}
    assert "2015-13-01" in messages[(4, "出生日期 birth_date")]
    assert "邻居" in messages[(6, "照护人关系 carer_relation")]
    assert "outside your area" in messages[(7, "现居村代码 village_code")]
    assert str(report.problems[1]).startswith("row 4, 出生日期 birth_date: ")


def test_member_errors_point_at_the_members_column_group(world: World) -> None:
    family = list(PARENTS)
    family[1:4] = ["是", WORK_CITY, "2099-01-01"]  # father away since a future date
    family[6] = ""  # mother with facts but no name
    report = run(world, xlsx([child_row("H1", "陈一", "男", "2016-05-01", family=family)]))
    assert problems(report) == {(2, "父亲外出时间 father_away_since"), (2, "母亲姓名 mother_name")}


def test_a_bad_birth_date_does_not_also_blame_the_id_number(world: World) -> None:
    report = run(world, xlsx([child_row("H1", "陈一", "男", "2016-5-x", ID_SON)]))
    assert problems(report) == {(2, "出生日期 birth_date")}


def test_ambiguous_grandparent_word_asks_for_the_precise_relation(world: World) -> None:
    rows = [child_row("H1", "陈一", "男", "2016-05-01")]
    rows[0][-1] = "祖父母"
    report = run(world, xlsx(rows))
    assert problems(report) == {(2, "照护人关系 carer_relation")}


def test_unknown_and_missing_columns_reject_the_file(world: World) -> None:
    headers = [*HEADERS, "备注 note", "爱好"]
    report = run(world, xlsx([], headers))
    assert len(report.file_errors) == 1
    assert "备注 note" in report.file_errors[0] and "爱好" in report.file_errors[0]
    without_sex = [h for h in HEADERS if h != "性别 sex"]
    report = run(world, xlsx([], without_sex))
    assert "性别 sex" in report.file_errors[0]
    assert not report.ok


def test_guard_rails_size_rows_and_format(world: World, settings: Any) -> None:
    settings.SHOUHU_IMPORT_MAX_ROWS = 2
    report = run(world, xlsx(valid_rows()))
    assert report.file_errors and "2" in report.file_errors[0]
    settings.SHOUHU_IMPORT_MAX_ROWS = 10
    settings.SHOUHU_IMPORT_MAX_BYTES = 1000
    report = run(world, xlsx(valid_rows()))
    assert report.file_errors == [
        "The file is larger than 1000\xa0bytes; split it into smaller files."
    ]
    settings.SHOUHU_IMPORT_MAX_BYTES = 10_000_000
    for junk in (
        b"\x00\x01\x02binary\xff",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest",
        b"PK\x03\x04x",
    ):
        report = run(world, junk, "junk.xlsx")
        assert len(report.file_errors) == 1, junk
    assert Child.objects.count() == 4


def test_empty_required_cells_are_reported_as_empty(world: World) -> None:
    rows = [child_row("H1", "", "", "", ID_SON, family=NO_PARENTS)]
    rows[0][5] = "   "  # village: only spaces
    rows[0][9] = ""  # living arrangement
    report = run(world, xlsx(rows))
    assert problems(report) == {
        (2, "姓名 name"),
        (2, "性别 sex"),
        (2, "出生日期 birth_date"),
        (2, "现居村代码 village_code"),
        (2, "居住方式 living_arrangement"),
    }
    # Not "under 18" for a missing date of birth, nor an ID number blamed for it.
    assert {p.message for p in report.problems} == {"This cell must not be empty."}


def test_text_longer_than_the_database_column_is_a_row_error(world: World) -> None:
    family = list(PARENTS)
    family[0] = "父" * 101
    rows = [
        child_row("H1", "长" * 101, "男", "2016-05-01", family=family),
        child_row("H" * 65, "陈二", "女", "2017-08-12", family=NO_PARENTS),
        child_row("H3", "长" * 100, "男", "2016-05-01", family=NO_PARENTS),  # just fits
    ]
    rows[1][8] = "年" * 21  # grade
    before = counts()
    report = run(world, xlsx(rows))
    assert problems(report) == {
        (2, "姓名 name"),
        (2, "父亲姓名 father_name"),
        (3, "户编号 household_ref"),
        (3, "年级 grade"),
    }
    assert "100" in {(p.line, p.column): p.message for p in report.problems}[(2, "姓名 name")]
    assert counts() == before


def test_damaged_files_are_file_errors_not_crashes(world: World, settings: Any) -> None:
    good = xlsx(valid_rows())
    # A workbook whose sheet XML is cut off: found only while reading the rows.
    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(item, content)
    header = ",".join(HEADERS)
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    cases = {
        "cut.xlsx": out.getvalue(),
        "other.xlsx": other_zip.getvalue(),
        "text.xlsx": header.encode(),
        "report.pdf": b"%PDF-1.4 " + bytes(range(1, 256)),
        "old.xls": b"anything",
        "huge-cell.csv": f'{header}\nH1,"{"x" * 200_000}"\n'.encode(),
    }
    for name, data in cases.items():
        report = run(world, data, name)
        assert len(report.file_errors) == 1, name
        assert report.created == 0, name
    assert Child.objects.count() == 4


def test_a_sheet_of_blank_rows_is_cut_short(world: World, settings: Any) -> None:
    settings.SHOUHU_IMPORT_MAX_ROWS = 10
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(valid_rows()[0])
    sheet.cell(row=5000, column=1).value = " "  # Excel keeps the rows in between
    out = io.BytesIO()
    book.save(out)
    report = run(world, out.getvalue())
    assert report.file_errors and "10" in report.file_errors[0]
    assert Child.objects.count() == 4


def test_import_queries_do_not_grow_with_rows(world: World) -> None:
    """Bulk path: the number of queries is the same for 3 rows and for 60."""
    from django.test.utils import CaptureQueriesContext

    def queries(rows: list[list[Any]]) -> int:
        actor = User.objects.get(username="supervisor")  # scope not cached yet
        data = xlsx(rows)
        with CaptureQueriesContext(connection) as captured:
            report = run(world, data, actor=actor)
        assert (report.problems, report.file_errors) == ([], [])
        assert report.created == len(rows)
        return len(captured)

    def batch(prefix: str, n: int) -> list[list[Any]]:
        return [
            child_row(
                f"{prefix}{i // 2}",
                f"{prefix}孩{i}",
                "女",
                "2016-05-01",
                village=(VILLAGE_A, VILLAGE_B)[i % 2],
                school="麻埠镇中心小学",
            )
            for i in range(n)
        ]

    few, many = queries(batch("甲", 3)), queries(batch("乙", 60))
    # Equal on PostgreSQL; SQLite splits the inserts by its limit of 999 query parameters
    # (at 60 rows, one more insert for each of the seven widest tables).
    if connection.vendor == "postgresql":
        assert many == few, (few, many)
    assert many - few <= 7, (few, many)


def test_empty_file_and_blank_rows(world: World) -> None:
    assert run(world, b"", "empty.csv").file_errors
    rows = [valid_rows()[0], [""] * len(HEADERS), valid_rows()[2]]
    report = run(world, xlsx(rows))
    assert (report.created, report.problems) == (2, [])


def test_school_given_by_id(world: World) -> None:
    school = world.orgs["school_b"]
    rows = [child_row("H1", "陈一", "男", "2016-05-01", school=str(school.pk), family=NO_PARENTS)]
    assert run(world, xlsx(rows)).created == 1
    assert Child.objects.get(name="陈一").school == school


# ---------------------------------------------------------------- the template


def test_template_has_every_header_an_example_and_instructions(world: World) -> None:
    book = openpyxl.load_workbook(io.BytesIO(importing.template_workbook()))
    data, instructions = book.worksheets
    assert instructions.title == importing.INSTRUCTIONS_SHEET
    headers = [c.value for c in data[1]]
    assert headers == [c.header for c in importing.COLUMNS]
    assert "出生日期 birth_date" in headers and "照护人关系 carer_relation" in headers
    assert data.max_row == 2
    lists = {str(v.formula1) for v in data.data_validations.dataValidation}
    assert '"男,女,M,F"' in lists and '"是,否"' in lists
    documented = {r[0].value for r in instructions.iter_rows(min_row=5)}
    assert set(headers) <= documented


def test_the_untouched_template_imports_nothing(world: World) -> None:
    report = run(world, importing.template_workbook())
    assert (report.created, report.problems, report.file_errors) == (0, [], [])


def test_the_template_example_row_is_a_valid_row(world: World) -> None:
    book = openpyxl.load_workbook(io.BytesIO(importing.template_workbook()))
    sheet = book.worksheets[0]
    sheet.cell(row=2, column=1).value = "H1"
    out = io.BytesIO()
    book.save(out)
    report = run(world, out.getvalue())
    assert (report.created, report.problems) == (1, [])


def test_first_assessment_of_imported_children_equals_a_full_recompute(world: World) -> None:
    """The import assesses new children from their rows alone (they have nothing else yet):
    the levels, reasons and visit tasks are exactly what a full recompute gives."""
    from shouhu.screening import risk
    from shouhu.screening.models import RiskLevel
    from shouhu.tasks.models import Task

    report = run(world, xlsx(valid_rows()))
    assert report.created == 3
    imported = list(Child.objects.filter(name__in=[r[1] for r in valid_rows()]))

    def state() -> list[tuple[object, ...]]:
        levels = RiskLevel.objects.filter(child__in=imported).order_by("child_id")
        tasks = Task.objects.filter(kind="home_visit", child__in=imported, status="open").order_by(
            "child_id"
        )
        return [(lv.child_id, lv.level, lv.reasons, lv.interval_days) for lv in levels] + [
            (t.child_id, t.kind, t.due_on, t.assignee_id, t.reason) for t in tasks
        ]

    first = state()
    assert len(first) == 6
    risk.recompute_all(ids=[c.pk for c in imported])
    assert state() == first
