"""`shouhu import children FILE [--as USERNAME] [--dry-run]`: the contract command.

With `--as` the acting user's area applies through the access module, exactly as in the web
import; without it the operator at the server imports for any place and the access log
records a system import (README, "Commands"). Any problem: every one printed with row,
column and reason, exit status 1, nothing written."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.utils import translation

from shouhu.audit.models import AccessLog, Action, ChangeRecord
from shouhu.children.models import Child, Household
from tests.world import VILLAGE_A, VILLAGE_B, VILLAGE_C, World

pytestmark = pytest.mark.django_db

HEADER = "household_ref,name,sex,birth_date,id_number,village_code,living_arrangement"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def write(tmp_path: Path, *lines: str, name: str = "children.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    """The command as the console script runs it: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        ManagementUtility(["shouhu", "import", *args]).execute()
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _keep_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # `run_from_argv` closes the connections when it ends; the test's transaction needs it.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)


def names(prefix: str) -> set[str]:
    return set(Child.objects.filter(name__startswith=prefix).values_list("name", flat=True))


def test_import_children_file_without_a_user_imports_as_the_system(
    tmp_path: Path, world: World
) -> None:
    path = write(
        tmp_path,
        f"H1,命令行甲,男,2016-02-03,,{VILLAGE_A},grandparents",
        f"H2,命令行乙,女,2016-02-03,,{VILLAGE_C},grandparents",
    )
    status, out, err = run("children", str(path))
    assert (status, err) == (0, "")
    assert "2 created, 0 skipped" in out
    assert names("命令行") == {"命令行甲", "命令行乙"}
    entry = AccessLog.objects.filter(action=Action.IMPORT).latest("id")
    assert entry.user is None and entry.username == "system"
    assert entry.detail["created"] == 2
    history = ChangeRecord.objects.filter(child_id=Child.objects.get(name="命令行甲").pk)
    assert {r.object_type for r in history} == {"child", "household"}
    assert {(r.actor_name, r.source) for r in history} == {("system", "command")}


def test_reimport_creates_no_duplicates_and_says_so(tmp_path: Path, world: World) -> None:
    path = write(
        tmp_path,
        f"H1,重导甲,男,2016-02-03,,{VILLAGE_A},grandparents",
        f"H1,重导乙,女,2017-02-03,,{VILLAGE_A},grandparents",
    )
    assert run("children", str(path))[0] == 0
    homes = Household.objects.count()
    status, out, _err = run("children", str(path))
    assert status == 0 and "0 created, 2 skipped" in out
    assert Child.objects.filter(name__startswith="重导").count() == 2
    assert Household.objects.count() == homes


def test_xlsx_files_import_too(tmp_path: Path, world: World) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["H1", "表格娃", "女", "2016-02-03", "", VILLAGE_A, "与祖父母生活"])
    path = tmp_path / "children.xlsx"
    book.save(path)
    status, out, _err = run("children", str(path), "--as", "director_a")
    assert status == 0 and "1 created" in out
    assert Child.objects.get(name="表格娃").created_by == world.director_a


def test_every_bad_row_is_printed_with_row_column_and_reason(tmp_path: Path, world: World) -> None:
    path = write(
        tmp_path,
        f"H1,好孩子,男,2016-02-03,,{VILLAGE_A},grandparents",
        f"H2,坏日期,男,2016-02-30,,{VILLAGE_A},grandparents",
        f"H3,坏居住,女,2016-02-03,,{VILLAGE_A},on the moon",
        "H4,无此村,女,2016-02-03,,341524101999,grandparents",
    )
    status, out, err = run("children", str(path))
    assert status == 1 and out == ""
    lines = err.splitlines()
    assert any(ln.startswith("row 3, 出生日期 birth_date: ") and "2016-02-30" in ln for ln in lines)
    assert any(ln.startswith("row 4, 居住方式 living_arrangement: ") for ln in lines)
    assert any(ln.startswith("row 5, 现居村代码 village_code: ") for ln in lines)
    assert "3 problem(s); nothing was imported." in err
    assert not names("好孩子")  # the valid row is not written either


def test_dry_run_checks_and_writes_nothing(tmp_path: Path, world: World) -> None:
    path = write(tmp_path, f"H1,试运行,男,2016-02-03,,{VILLAGE_A},grandparents")
    status, out, _err = run("children", str(path), "--dry-run")
    assert status == 0 and "1 would be created, 0 skipped" in out
    assert not names("试运行")
    assert AccessLog.objects.filter(action=Action.IMPORT).latest("id").detail["dry_run"] is True
    bad = write(tmp_path, f"H1,试运行,男,2016-02-30,,{VILLAGE_A},grandparents", name="bad.csv")
    assert run("children", str(bad), "--dry-run")[0] == 1


def test_as_a_user_applies_their_area(tmp_path: Path, world: World) -> None:
    path = write(
        tmp_path,
        f"H1,本村娃,男,2016-02-03,,{VILLAGE_A},grandparents",
        f"H2,别村娃,女,2016-02-03,,{VILLAGE_B},grandparents",
    )
    status, _out, err = run("children", str(path), "--as", "director_a")
    assert status == 1
    assert "row 3, 现居村代码 village_code: This village is outside your area." in err
    assert not names("本村娃") and not names("别村娃")
    entry = AccessLog.objects.filter(action=Action.IMPORT).latest("id")
    assert entry.user == world.director_a and entry.detail["errors"] == 1
    # The township supervisor's area holds both villages, not the other township's.
    assert run("children", str(path), "--as", "supervisor")[0] == 0
    assert names("本村娃") | names("别村娃") == {"本村娃", "别村娃"}
    other = write(tmp_path, f"H3,外镇娃,女,2016-02-03,,{VILLAGE_C},grandparents", name="c.csv")
    assert run("children", str(other), "--as", "supervisor")[0] == 1
    assert not names("外镇娃")


@pytest.mark.parametrize("username", ["teacher_a", "official", "volunteer", "nobody"])
def test_as_a_user_who_registers_nowhere_is_refused(
    tmp_path: Path, world: World, username: str
) -> None:
    path = write(tmp_path, f"H1,无权娃,男,2016-02-03,,{VILLAGE_A},grandparents")
    with pytest.raises(CommandError, match=username):
        call_command("import", "children", str(path), "--as", username)
    assert not names("无权娃")
    assert not AccessLog.objects.filter(action=Action.IMPORT).exists()


def test_an_inactive_user_is_refused(tmp_path: Path, world: World) -> None:
    world.director_a.is_active = False
    world.director_a.save()
    path = write(tmp_path, f"H1,停用娃,男,2016-02-03,,{VILLAGE_A},grandparents")
    with pytest.raises(CommandError, match="director_a"):
        call_command("import", "children", str(path), "--as", "director_a")


def test_missing_or_unreadable_files(tmp_path: Path, world: World) -> None:
    status, _out, err = run("children", str(tmp_path / "none.csv"))
    assert status == 1 and "No such file" in err
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook")
    status, _out, err = run("children", str(junk))
    assert status == 1 and "junk.xlsx: The file is not a readable .xlsx workbook." in err
    status, _out, err = run("households", str(junk))
    assert status != 0 and "children" in err  # the only thing the command imports


def test_console_script_is_installed() -> None:
    shouhu = Path(sys.executable).with_name("shouhu")
    result = subprocess.run(
        [str(shouhu), "import", "--help"], capture_output=True, text=True, check=True
    )
    assert "children" in result.stdout and "--as" in result.stdout and "--dry-run" in result.stdout
