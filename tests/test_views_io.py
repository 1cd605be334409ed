"""Import and export in the web UI: template round trip, errors by row and column, nothing
half-written, no duplicates on re-import, scope, masking, formula escaping, audit."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from shouhu.accounts.models import Membership, Role
from shouhu.audit.models import AccessLog, Action
from shouhu.children import assignments, exporting, importing, registration
from shouhu.children.bulk import RegistrationRow, bulk_register
from shouhu.children.data import HouseholdData, MemberData
from shouhu.children.models import Aid, Child, Household
from shouhu.children.selectors import SENSITIVE_CATEGORIES
from shouhu.lib import clock, dates
from tests.world import (
    BAD_ID,
    BORN,
    ID_A1,
    ID_OTHER,
    VILLAGE_A,
    VILLAGE_B,
    VILLAGE_C,
    World,
    child_data,
    clear_volunteer,
    make_user,
    register,
)

pytestmark = pytest.mark.django_db

HEADER = "household_ref,name,sex,birth_date,id_number,village_code,living_arrangement"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Pages in English: the assertions below read the source texts."""
    with translation.override("en"):
        yield


@pytest.fixture
def client(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.cookies["django_language"] = "en"
    return client


def upload(client: Client, content: bytes | str, name: str = "children.csv", **extra: Any) -> Any:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(
        reverse("children_io:import"), {"file": SimpleUploadedFile(name, data), **extra}
    )


def csv_rows(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def xlsx_rows(*rows: list[Any]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def page(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def error_rows(response: Any) -> list[tuple[int, str]]:
    """(row, column) of each problem in the result table."""
    import re

    found = re.findall(
        r'data-testid="import-error" data-row="(\d+)">\s*<td>\d+</td>\s*<td[^>]*>([^<]*)</td>',
        page(response),
    )
    return [(int(row), column) for row, column in found]


# ---------------------------------------------------------------- the import page


def test_import_page_for_registrars_only(client: Client, world: World) -> None:
    url = reverse("children_io:import")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(world.director_a)
    text = page(client.get(url))
    assert reverse("children_io:template") in text and 'type="file"' in text
    for user in (world.teacher_a, world.official, world.volunteer, world.admin):
        client.force_login(user)
        assert client.get(url).status_code == 403, user
        assert upload(client, csv_rows()).status_code == 403, user
        assert client.get(reverse("children_io:template")).status_code == 403, user


def test_xlsx_upload_registers_and_reports_counts(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    data = xlsx_rows(
        ["H1", "钱一", "男", dt.date(2016, 2, 3), "", VILLAGE_A, "与祖父母生活"],
        ["H1", "钱二", "女", "2018-04-05", "", VILLAGE_A, "grandparents"],
    )
    text = page(upload(client, data, "春季.xlsx"))
    assert 'data-created="2"' in text and 'data-skipped="0"' in text
    first, second = Child.objects.get(name="钱一"), Child.objects.get(name="钱二")
    assert first.household_id == second.household_id
    assert first.created_by == world.director_a
    entry = AccessLog.objects.filter(action=Action.IMPORT).latest("id")
    assert (entry.user, entry.detail["file"], entry.detail["created"]) == (
        world.director_a,
        "春季.xlsx",
        2,
    )


def test_csv_reupload_skips_and_reports(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    text = csv_rows(
        f"H1,孙悟空,男,2016-02-03,,{VILLAGE_A},grandparents",
        f"H1,孙小妹,女,2018-04-05,,{VILLAGE_A},grandparents",
    )
    assert 'data-created="2"' in page(upload(client, text))
    homes = Household.objects.count()
    again = page(upload(client, text))
    assert 'data-created="0"' in again and 'data-skipped="2"' in again
    assert Child.objects.filter(name__startswith="孙").count() == 2
    assert Household.objects.count() == homes
    assert AccessLog.objects.filter(action=Action.IMPORT, user=world.director_a).count() == 2


def test_invalid_rows_are_listed_by_row_and_column_and_nothing_is_written(
    client: Client, world: World
) -> None:
    client.force_login(world.director_a)
    text = csv_rows(
        f"H1,好孩子,男,2016-02-03,,{VILLAGE_A},grandparents",
        f"H2,坏日期,男,2016-02-30,,{VILLAGE_A},grandparents",
        f"H3,坏号码,男,{BORN},{BAD_ID},{VILLAGE_A},grandparents",
        f"H4,,女,{BORN},,{VILLAGE_A},grandparents",
    )
    before = (Child.objects.count(), Household.objects.count())
    response = upload(client, text)
    assert error_rows(response) == [
        (3, "出生日期 birth_date"),
        (4, "身份证号 id_number"),
        (5, "姓名 name"),
    ]
    assert 'data-testid="import-failed" data-errors="3"' in page(response)
    assert "2016-02-30" in page(response)
    assert (Child.objects.count(), Household.objects.count()) == before


def test_a_village_outside_the_users_area_is_a_row_error(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    text = csv_rows(
        f"H1,本村娃,男,2016-02-03,,{VILLAGE_A},grandparents",
        f"H2,别村娃,男,2016-02-03,,{VILLAGE_B},grandparents",
    )
    response = upload(client, text)
    assert error_rows(response) == [(3, "现居村代码 village_code")]
    assert "outside your area" in page(response)
    assert not Child.objects.filter(name__in=["本村娃", "别村娃"]).exists()
    client.force_login(world.supervisor)  # the township: both villages
    assert 'data-created="2"' in page(upload(client, text))


def test_dry_run_checks_and_writes_nothing(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    text = csv_rows(f"H1,试一试,男,2016-02-03,,{VILLAGE_A},grandparents")
    result = page(upload(client, text, dry_run="on"))
    assert 'data-created="1"' in result and "Nothing was imported" in result
    assert not Child.objects.filter(name="试一试").exists()


def test_the_dry_run_neither_confirms_nor_denies_a_child_outside_the_area(
    client: Client, world: World
) -> None:
    """A row with an ID number registered in another village is counted as one registered
    nowhere (it was "skipped, already registered"); inside the area it is skipped. Every
    check is logged with the children it found in the area."""
    born = BORN.isoformat()
    client.force_login(world.director_b)
    counts = []
    for number in (ID_A1, ID_OTHER):
        text = csv_rows(f"H1,李某,男,{born},{number},{VILLAGE_B},grandparents")
        result = page(upload(client, text, dry_run="on"))
        assert "张伟" not in result and "supervisor" in result
        counts.append(re.findall(r'data-created="(\d+)" data-skipped="(\d+)"', result))
    assert counts == [[("1", "0")], [("1", "0")]]
    checks = AccessLog.objects.filter(purpose="duplicate_check", object_type="import")
    assert checks.filter(user=world.director_b).count() == 2
    assert not checks.filter(child_id__isnull=False).exists()
    client.force_login(world.director_a)
    inside = page(upload(client, csv_rows(f"H1,张伟,男,{born},{ID_A1},{VILLAGE_A},grandparents")))
    assert 'data-created="0" data-skipped="1"' in inside
    assert checks.get(user=world.director_a).child_id == world.children["a1"].pk


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.xlsx", b"not a zip", "not a readable .xlsx workbook"),
        ("x.xlsx", b"PK\x03\x04garbage", "not a readable .xlsx workbook"),
        ("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Old .xls files"),
        ("x.pdf", b"%PDF-1.4 \x01\x02", "Only .xlsx and .csv files"),
        ("x.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "neither an .xlsx workbook nor a CSV"),
        ("x.csv", b"", "The submitted file is empty"),  # the form's own check
        ("x.csv", b"\xff\xfe\xfd\x81\x30", "neither UTF-8 nor GBK"),
        ("x.csv", b"name,age\n", "Unknown columns: age"),
        ("x.csv", f'{HEADER}\nH1,"{"x" * 200_000}\n'.encode(), "cannot be read"),
    ],
)
def test_garbage_files_get_a_clear_error_not_a_500(
    client: Client, world: World, name: str, content: bytes, message: str
) -> None:
    client.force_login(world.director_a)
    text = page(upload(client, content, name=name))
    assert 'data-testid="file-error"' in text or 'class="field-error"' in text
    assert message in text
    assert Child.objects.count() == 4


def test_files_over_the_size_limit_are_refused(client: Client, world: World, settings: Any) -> None:
    settings.SHOUHU_IMPORT_MAX_BYTES = 100
    client.force_login(world.director_a)
    text = csv_rows(f"H1,大文件,男,2016-02-03,,{VILLAGE_A},grandparents")
    assert len(text.encode()) > 100
    result = page(upload(client, text))
    assert "larger than 100" in result and 'data-testid="file-error"' in result
    assert not Child.objects.filter(name="大文件").exists()


def test_a_post_without_a_file_is_a_form_error(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    text = page(client.post(reverse("children_io:import"), {}))
    assert 'class="field-error"' in text


# ---------------------------------------------------------------- the template


def template(client: Client) -> bytes:
    response = client.get(reverse("children_io:template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    return bytes(response.content)


def test_template_headers_are_the_ones_the_importer_reads(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    book = openpyxl.load_workbook(io.BytesIO(template(client)))
    headers = [c.value for c in book.worksheets[0][1]]
    assert [importing.header_code(h) for h in headers] == [c.code for c in importing.COLUMNS]
    assert importing.map_headers(headers) == {c.code: i for i, c in enumerate(importing.COLUMNS)}


def test_filled_in_template_imports(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    book = openpyxl.load_workbook(io.BytesIO(template(client)))
    sheet = book.worksheets[0]
    codes = [importing.header_code(c.value) for c in sheet[1]]
    filled = {
        "household_ref": "7",
        "name": "吴小满",
        "sex": "女",
        "birth_date": dt.date(2017, 6, 1),
        "village_code": VILLAGE_A,
        "living_arrangement": "与祖父母生活",
        "school": "麻埠镇中心小学",
        "grade": "二年级",
        "mother_name": "吴母",
        "mother_away": "是",
        "mother_away_place": "330106000000",
        "mother_away_since": dt.date(2024, 2, 1),
        "mother_away_reason": "外出务工",
        "mother_phone": "13900139001",
        "carer_name": "吴奶奶",
        "carer_relation": "奶奶",
    }
    for index, code in enumerate(codes, start=1):
        sheet.cell(row=3, column=index).value = filled.get(str(code))
    out = io.BytesIO()
    book.save(out)
    result = page(upload(client, out.getvalue(), "filled.xlsx"))
    assert 'data-created="1"' in result  # the example row above it is not imported
    child = Child.objects.get(name="吴小满")
    assert child.school == world.orgs["school_a"]
    assert {m.relation for m in child.household.members.all()} == {
        "mother",
        "paternal_grandmother",
    }
    assert Child.objects.count() == 5


# ---------------------------------------------------------------- export


def export(client: Client, **params: str) -> list[list[Any]]:
    response = client.get(reverse("children_io:export"), params)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="children-')
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def by_name(rows: list[list[Any]]) -> dict[str, dict[str, Any]]:
    header = [str(h).split(" ")[-1] for h in rows[0]]
    return {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:]}


def last_export() -> AccessLog:
    return AccessLog.objects.filter(action=Action.EXPORT).latest("id")


def exported_ids(entry: AccessLog) -> list[int]:
    """The children of the export `entry` belongs to: one access-log row each."""
    rows = AccessLog.objects.filter(action=Action.EXPORT, detail__export=entry.detail["export"])
    return sorted(pk for pk in rows.values_list("child_id", flat=True) if pk is not None)


def test_export_has_the_list_columns_and_is_logged(client: Client, world: World) -> None:
    client.force_login(world.supervisor)
    rows = export(client)
    assert rows[0][:3] == ["编号 id", "姓名 name", "性别 sex"]
    assert rows[0][-2:] == ["身份证号 id_number", "家庭成员电话 family_phones"]
    children = by_name(rows)
    assert set(children) == {"张伟", "李娜"}  # the township's; not 王芳 of the other one
    zhang = children["张伟"]
    assert (zhang["id"], zhang["sex"], zhang["village_code"]) == (
        world.children["a1"].pk,
        "男",
        VILLAGE_A,
    )
    assert zhang["school"] == "麻埠镇中心小学" and zhang["grade"] == "三年级"
    entry = last_export()
    assert entry.user == world.supervisor and entry.object_type == "children"
    assert entry.detail["count"] == 2
    assert exported_ids(entry) == sorted([world.children["a1"].pk, world.children["b1"].pk])
    # The supervisor sees the children's sensitive categories, which the export carries.
    assert entry.detail["filters"] == {} and entry.fields == ["basic", "sensitive"]


def test_identifying_fields_are_masked_below_the_ceiling(client: Client, world: World) -> None:
    client.force_login(world.teacher_a)
    zhang = by_name(export(client))["张伟"]
    assert zhang["id_number"] == "***"
    assert zhang["family_phones"] == "父亲 父亲 ***; 母亲 母亲 ***"
    # A teacher may see no child's identifying fields, so cannot export them at all.
    response = client.get(reverse("children_io:export"), {"include": "identifying"})
    assert response.status_code == 403
    assert last_export().detail["count"] == 1  # the refused export wrote nothing more


def test_within_the_ceiling_masked_by_default_plaintext_on_request(
    client: Client, world: World
) -> None:
    client.force_login(world.director_a)
    zhang = by_name(export(client))["张伟"]
    assert zhang["id_number"] == f"3415**********{ID_A1[-4:]}"
    assert zhang["family_phones"] == "父亲 父亲 138****8000; 母亲 母亲 139****9000"
    assert ID_A1 not in str(export(client))
    zhang = by_name(export(client, include="identifying"))["张伟"]
    assert zhang["id_number"] == ID_A1
    assert zhang["family_phones"] == "父亲 父亲 13800138000; 母亲 母亲 13900139000"
    entry = last_export()
    assert entry.fields == ["basic", "identifying", "sensitive"]
    assert entry.detail["identifying_rows"] == 1
    assert ID_A1 not in str(entry.detail)


def test_plaintext_only_for_the_children_within_the_ceiling(client: Client, world: World) -> None:
    """A director who is also a volunteer matched to a child of another village: that child is
    in the export (a volunteer sees basic fields) but its identifying fields stay masked."""
    both = make_user("director_volunteer", world.orgs["village_a"], Role.CHILD_DIRECTOR)
    clear_volunteer(both, world.orgs["volunteers"], by=world.admin)
    assignments.assignment_create(
        actor=None,
        child=world.children["c1"],
        organisation=world.orgs["volunteers"],
        kind="volunteer",
        user=both,
    )
    client.force_login(both)
    children = by_name(export(client, include="identifying"))
    assert set(children) == {"张伟", "王芳"}
    assert children["张伟"]["id_number"] == ID_A1
    assert children["王芳"]["family_phones"] == "父亲 父亲 ***; 母亲 母亲 ***"
    assert last_export().detail["identifying_rows"] == 1


def test_export_never_crosses_the_users_scope(client: Client, world: World) -> None:
    client.force_login(world.teacher_a)
    school_b = str(world.orgs["school_b"].pk)
    assert set(by_name(export(client))) == {"张伟"}
    assert by_name(export(client, school=school_b)) == {}
    assert by_name(export(client, place=VILLAGE_B)) == {}
    assert by_name(export(client, q="李娜")) == {}
    client.force_login(world.director_b)
    assert set(by_name(export(client))) == {"李娜"}
    client.force_login(world.techenvoy)
    assert export(client)[1:] == []


def test_export_respects_every_list_filter(client: Client, world: World) -> None:
    today = clock.today()
    young = register(
        world.director_a,
        child_data(
            "赵小", VILLAGE_A, birth_date=dates.add_years(today, -6) - dt.timedelta(days=30)
        ),
        members=[],
    )
    assert not young.cat_left_behind_mca and Child.objects.get(name="张伟").cat_left_behind_mca
    client.force_login(world.supervisor)
    school_a = str(world.orgs["school_a"].pk)
    cases: list[tuple[dict[str, str], set[str]]] = [
        ({}, {"张伟", "李娜", "赵小"}),
        ({"q": "张"}, {"张伟"}),
        ({"q": "zw"}, {"张伟"}),
        ({"q": ID_A1[-4:]}, {"张伟"}),
        ({"place": VILLAGE_B}, {"李娜"}),
        ({"place": VILLAGE_C}, set()),
        ({"school": school_a}, {"张伟"}),
        ({"category": "left_behind_mca"}, {"张伟", "李娜"}),
        ({"age_max": "8"}, {"赵小"}),
        ({"age_min": "9"}, {"张伟", "李娜"}),
        ({"age_min": "9", "place": VILLAGE_A}, {"张伟"}),
    ]
    for params, expected in cases:
        assert set(by_name(export(client, **params))) == expected, params
        entry = last_export()
        assert entry.detail["count"] == len(expected), params
    entry = last_export()
    assert entry.detail["filters"] == {"place": VILLAGE_A, "age_min": 9}
    logged = AccessLog.objects.filter(action=Action.EXPORT, detail__filters__q="[digits]")
    assert logged.count() == 1  # the ID digits searched for are not in the log


def test_export_escapes_spreadsheet_formulas(client: Client, world: World) -> None:
    for name in ("=HYPERLINK(1)", "+SUM(A1)", "-2+3", "@cmd"):
        register(world.director_a, child_data(name, VILLAGE_A), members=[])
    registration.child_register(
        actor=world.director_a,
        child=child_data("年级", VILLAGE_A, grade="=1+1"),
        household=HouseholdData(village_code=VILLAGE_A),
        members=[MemberData(name="=cmd|' /C calc'!A0", relation="mother", phone="13700137000")],
    )
    client.force_login(world.director_a)
    response = client.get(reverse("children_io:export"))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)  # no formula anywhere
    values = {str(c.value) for c in cells}
    assert {"'=HYPERLINK(1)", "'+SUM(A1)", "'-2+3", "'@cmd", "'=1+1"} <= values
    assert not any(v[:1] in "=+-@" for v in values)


def test_export_query_count_does_not_grow_with_rows(
    client: Client, world: World, django_assert_max_num_queries: Any
) -> None:
    client.force_login(world.supervisor)
    with django_assert_max_num_queries(13):
        export(client, include="identifying")
    for i in range(30):
        register(world.director_b, child_data(f"多{i}", VILLAGE_B))
    with django_assert_max_num_queries(13):
        rows = export(client, include="identifying")
    assert len(rows) == 1 + 32


def test_too_large_an_export_is_refused_and_logged(
    client: Client, world: World, settings: Any
) -> None:
    settings.SHOUHU_EXPORT_MAX_ROWS = 1
    client.force_login(world.supervisor)
    response = client.get(reverse("children_io:export"))
    assert response.status_code == 400
    assert "2 children match" in response.content.decode()
    entry = last_export()
    assert entry.detail["refused"] == "too_large" and exported_ids(entry) == []
    assert len(export(client, place=VILLAGE_A)) == 2  # narrowed: one row


def poor_household_rows(n: int, village: str) -> list[RegistrationRow]:
    """`n` children of `n` households (every other one on 低保), each with a father's phone."""
    return [
        RegistrationRow(
            line=i + 2,
            household_ref=f"H{i}",
            household=HouseholdData(village_code=village, aid=Aid.DIBAO if i % 2 else Aid.NONE),
            child=child_data(f"批量{i}", village),
            members=[MemberData(name="父", relation="father", phone=f"138{i:08d}")],
        )
        for i in range(n)
    ]


def test_a_county_wide_export_has_every_row(client: Client, world: World) -> None:
    """More children (and households) than SQLite's expression limit of 1000: the export
    streams them in pages and has every one (it was a 500 "Expression tree is too large")."""
    n = 1200
    result = bulk_register(
        actor=world.director_b,
        rows=poor_household_rows(n, VILLAGE_B),
        today=clock.today(),
        history=False,
        assess_risk=False,
    )
    assert result.created == n
    expected = set(
        Child.objects.filter(residence__code__startswith="341524").values_list("pk", flat=True)
    )
    client.force_login(world.official)
    rows = export(client)
    assert len(rows) == 1 + len(expected) == 1 + n + 3
    assert {r[0] for r in rows[1:]} == expected
    entry = last_export()
    assert entry.user == world.official and entry.detail["count"] == len(expected)
    assert set(exported_ids(entry)) == expected
    client.force_login(world.director_b)
    rows = export(client, include="identifying")
    children = by_name(rows)
    assert len(children) == n + 1
    assert children["批量7"]["family_phones"] == "父亲 父 13800000007"
    assert children["批量7"]["cat_difficulty_poverty"] == "是"
    assert children["批量8"]["cat_difficulty_poverty"] == "否"


def test_the_export_is_in_pinyin_order_across_pages(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of two rows: every child once, in the list's order."""
    monkeypatch.setattr(exporting, "CHUNK", 2)
    for name in ("安一", "安一", "博二", "陈三"):  # two of the same name: the id breaks the tie
        register(world.director_a, child_data(name, VILLAGE_A, birth_date=BORN), members=[])
    client.force_login(world.director_a)
    rows = export(client)
    ids = [r[0] for r in rows[1:]]
    expected = list(
        Child.objects.filter(residence_id=VILLAGE_A)
        .order_by("name_pinyin", "id")
        .values_list("pk", flat=True)
    )
    assert ids == expected and len(ids) == 5


def test_sensitive_categories_are_exported_to_those_who_may_see_them(
    client: Client, world: World
) -> None:
    """The 困境, 事实无人抚养 and orphan categories: a column each, and in the categories
    column, for a director; neither for an official or a teacher (basic ceiling); masked on
    the rows of a mixed reader's children whose sensitive fields they may not see."""
    poor = registration.child_register(
        actor=world.director_a,
        child=child_data("贫困", VILLAGE_A, school_id=world.orgs["school_a"].pk),
        household=HouseholdData(village_code=VILLAGE_A, aid=Aid.DIBAO),
        members=[],
        today=clock.today(),
    )
    assert poor.cat_difficulty_poverty
    columns = [f"cat_{c}" for c in SENSITIVE_CATEGORIES]
    client.force_login(world.director_a)
    row = by_name(export(client))["贫困"]
    assert row["cat_difficulty_poverty"] == "是" and row["cat_orphan"] == "否"
    assert "困境儿童(经济困难)" in row["categories"]
    for reader in (world.official, world.teacher_a):
        client.force_login(reader)
        rows = export(client)
        header = [str(h).split(" ")[-1] for h in rows[0]]
        assert not set(columns) & set(header), reader
        assert "困境" not in str(rows), reader
        assert "sensitive" not in last_export().fields
    # A director of village B who also teaches at school A: 贫困 is one of their pupils.
    both = make_user("director_teacher", world.orgs["village_b"], Role.CHILD_DIRECTOR)
    Membership.objects.create(user=both, organisation=world.orgs["school_a"], role=Role.TEACHER)
    client.force_login(both)
    children = by_name(export(client))
    assert children["贫困"]["cat_difficulty_poverty"] == "***"
    assert "困境" not in str(children["贫困"]["categories"])
    assert children["李娜"]["cat_difficulty_poverty"] == "否"


def test_export_needs_login(client: Client, world: World) -> None:
    assert client.get(reverse("children_io:export")).status_code == 302
    assert not AccessLog.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize(
    "params",
    [
        {"school": "9" * 30},
        {"school": "x"},
        {"age_min": "x"},
        {"age_max": "-3"},
        {"place": "abc"},
        {"category": "nonsense"},
        {"q": "x" * 500},
        {"q": "张\x00"},  # PostgreSQL refuses NUL in text
    ],
)
def test_bad_export_parameters_are_ignored(
    client: Client, world: World, params: dict[str, str]
) -> None:
    client.force_login(world.supervisor)
    assert len(export(client, **params)) >= 1


def test_unknown_field_set_is_a_clear_error(client: Client, world: World) -> None:
    client.force_login(world.supervisor)
    response = client.get(reverse("children_io:export"), {"include": "all"})
    assert response.status_code == 400
    assert "Unknown field set" in response.content.decode()
