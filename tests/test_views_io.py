"""Import and export in the web UI: template round trip, errors by row and column, nothing
half-written, no duplicates on re-import, scope, masking, formula escaping, audit."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from shouhu.audit.models import AccessLog, Action
from shouhu.children.models import Child
from tests.world import ID_A1, VILLAGE_A, VILLAGE_B, World, child_data, register

pytestmark = pytest.mark.django_db

HEADER = "household_ref,name,sex,birth_date,id_number,village_code,living_arrangement"


def upload(client: Client, text: str, name: str = "children.csv", **extra: str):  # type: ignore[no-untyped-def]
    data = {"file": SimpleUploadedFile(name, text.encode("utf-8")), **extra}
    return client.post(reverse("children_io:import"), data)


def test_template_downloads_and_imports_back(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    response = client.get(reverse("children_io:template"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.worksheets[0].max_column > 10
    # The template's example rows are not imported; the file as downloaded is valid.
    result = client.post(
        reverse("children_io:import"),
        {"file": SimpleUploadedFile("template.xlsx", response.content)},
    )
    assert result.status_code == 200
    assert Child.objects.count() == 4


def test_csv_import_creates_and_reimport_skips(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    text = f"{HEADER}\nH1,孙悟空,男,2016-02-03,,{VILLAGE_A},grandparents\nH1,孙小妹,女,2018-04-05,,{VILLAGE_A},grandparents\n"
    first = upload(client, text)
    assert first.status_code == 200
    assert Child.objects.filter(name__startswith="孙").count() == 2
    assert (
        Child.objects.get(name="孙悟空").household_id
        == Child.objects.get(name="孙小妹").household_id
    )
    upload(client, text)
    assert Child.objects.filter(name__startswith="孙").count() == 2
    assert AccessLog.objects.filter(action=Action.IMPORT, user=world.director_a).count() == 2


def test_invalid_rows_are_reported_and_nothing_is_written(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    text = (
        f"{HEADER}\n"
        f"H1,好孩子,男,2016-02-03,,{VILLAGE_A},grandparents\n"
        f"H2,坏日期,男,2016-02-30,,{VILLAGE_A},grandparents\n"
        f"H3,坏号码,男,2015-03-01,341524201503010016,{VILLAGE_A},grandparents\n"
    )
    page = upload(client, text).content.decode()
    assert Child.objects.filter(name="好孩子").count() == 0
    assert "birth_date" in page and "id_number" in page
    assert ">3<" in page and ">4<" in page  # row numbers of the bad lines


def test_rows_outside_scope_are_errors(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    text = f"{HEADER}\nH1,别村娃,男,2016-02-03,,{VILLAGE_B},grandparents\n"
    upload(client, text)
    assert not Child.objects.filter(name="别村娃").exists()


def test_garbage_files_get_a_clear_error(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    for name, content in [("x.xlsx", "not a zip"), ("x.csv", ""), ("x.xls", "\xd0\xcf")]:
        response = upload(client, content, name=name)
        assert response.status_code == 200
        assert "alert" in response.content.decode(), name


def test_only_registry_roles_import(client: Client, world: World) -> None:
    client.force_login(world.teacher_a)
    assert client.get(reverse("children_io:import")).status_code == 403
    assert client.get(reverse("children_io:template")).status_code == 403


def _export(client: Client, **params: str) -> openpyxl.Workbook:
    response = client.get(reverse("children_io:export"), params)
    assert response.status_code == 200, response.content[:300]
    return openpyxl.load_workbook(io.BytesIO(response.content))


def _cells(book: openpyxl.Workbook) -> list[list[object]]:
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def test_export_is_scoped_filtered_masked_and_logged(client: Client, world: World) -> None:
    client.force_login(world.teacher_a)
    rows = _cells(_export(client))
    text = str(rows)
    assert "张伟" in text and "李娜" not in text
    assert ID_A1 not in text
    entry = AccessLog.objects.filter(action=Action.EXPORT, user=world.teacher_a).latest("id")
    assert entry.detail["count"] == 1
    # A teacher may see no child's identifying fields, so cannot export them at all.
    assert client.get(reverse("children_io:export"), {"include": "identifying"}).status_code == 403
    client.force_login(world.supervisor)
    assert "李娜" not in str(_cells(_export(client, place=VILLAGE_A)))
    assert "李娜" in str(_cells(_export(client)))


def test_export_with_identifying_fields_for_directors(client: Client, world: World) -> None:
    client.force_login(world.director_a)
    assert ID_A1 in str(_cells(_export(client, include="identifying")))
    entry = AccessLog.objects.filter(action=Action.EXPORT, user=world.director_a).latest("id")
    assert "identifying" in entry.fields


def test_export_escapes_formulas_and_does_not_log_id_digits(client: Client, world: World) -> None:
    register(world.director_a, child_data("=HYPERLINK(1)", VILLAGE_A))
    client.force_login(world.director_a)
    rows = _cells(_export(client, q=ID_A1[-4:]))
    assert all(not str(v).startswith("=") for row in rows for v in row if v is not None)
    rows = _cells(_export(client))
    assert "'=HYPERLINK(1)" in str(rows)
    entry = AccessLog.objects.filter(action=Action.EXPORT).order_by("id").first()
    assert entry is not None and ID_A1[-4:] not in str(entry.detail["filters"])


@pytest.mark.parametrize("params", [{"school": "9" * 30}, {"age_min": "x"}, {"include": "all"}])
def test_bad_export_parameters_never_fail(
    client: Client, world: World, params: dict[str, str]
) -> None:
    client.force_login(world.supervisor)
    assert client.get(reverse("children_io:export"), params).status_code in {200, 400}
