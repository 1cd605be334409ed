"""`shouhu import children FILE`: the contract command, with and without an acting user."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from shouhu.audit.models import AccessLog, Action
from shouhu.children.models import Child
from tests.world import VILLAGE_A, VILLAGE_B, World

pytestmark = pytest.mark.django_db

HEADER = "household_ref,name,sex,birth_date,id_number,village_code,living_arrangement"


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "children.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_import_children_file_without_a_user_imports_as_the_system(
    tmp_path: Path, world: World
) -> None:
    path = write(
        tmp_path,
        f"H1,命令行甲,男,2016-02-03,,{VILLAGE_A},grandparents",
        f"H2,命令行乙,女,2016-02-03,,{VILLAGE_B},grandparents",
    )
    call_command("import", "children", str(path))
    assert Child.objects.filter(name__startswith="命令行").count() == 2
    entry = AccessLog.objects.filter(action=Action.IMPORT).latest("id")
    assert entry.user is None and entry.username == "system"
    call_command("import", "children", str(path))  # again: nothing new
    assert Child.objects.filter(name__startswith="命令行").count() == 2


def test_import_as_a_user_applies_their_area(tmp_path: Path, world: World) -> None:
    path = write(tmp_path, f"H2,别村娃,女,2016-02-03,,{VILLAGE_B},grandparents")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import", "children", str(path), "--as", "director_a")
    assert not Child.objects.filter(name="别村娃").exists()


def test_bad_rows_exit_non_zero_with_row_and_column(tmp_path: Path, world: World, capsys) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, f"H1,坏日期,男,2016-02-30,,{VILLAGE_A},grandparents")
    with pytest.raises(CommandError):
        call_command("import", "children", str(path))
    err = capsys.readouterr().err
    assert "2" in err and "birth_date" in err
    assert not Child.objects.filter(name="坏日期").exists()


def test_console_script_is_installed() -> None:
    shouhu = Path(sys.executable).with_name("shouhu")
    result = subprocess.run(
        [str(shouhu), "import", "--help"], capture_output=True, text=True, check=True
    )
    assert "children" in result.stdout
