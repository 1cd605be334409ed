"""`shouhu link files`: the contract of its input and output files and of its exit code."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shouhu.linkage.files import COLUMNS

HEADER = ",".join(COLUMNS)
LEFT = [
    "L1,曾子涵,F,2013-05-02,,341524,341524100201,曾建国,李秀英,13812345678",
    "L2,王晓明,M,2012-08-09,,341524,341524100202,王军,刘芳,13900001111",
]
RIGHT = [
    "R1,Zeng Zihan,F,2013-05-02,,341524,440305001001,曾建国,李秀英,",
    "R2,王曉明,M,2012-09-08,,341524,,王军,刘芳,13900001111",
]


def write(path: Path, lines: list[str], *, header: str = HEADER, bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + "\n".join([header, *lines]) + "\n", "utf-8")
    return path


def run(tmp_path: Path, left: Path, right: Path) -> Path:
    output = tmp_path / "links.csv"
    call_command(
        "link", "files", "--left", str(left), "--right", str(right), "--output", str(output)
    )
    return output


def refused(tmp_path: Path, left: Path, right: Path) -> str:
    output = tmp_path / "links.csv"
    with pytest.raises(CommandError) as caught:
        run(tmp_path, left, right)
    assert caught.value.returncode == 2
    assert not output.exists()
    assert not list(tmp_path.glob(".links.csv*"))
    return str(caught.value)


def test_links_are_written_with_the_contract_columns(tmp_path):
    left = write(tmp_path / "left.csv", LEFT, bom=True)
    right = write(tmp_path / "right.csv", [line + ",x" for line in RIGHT], header=HEADER + ",note")
    output = run(tmp_path, left, right)
    with output.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["left_id", "right_id", "match_probability"]
        rows = list(reader)
    assert {(r["left_id"], r["right_id"]) for r in rows} == {("L1", "R1"), ("L2", "R2")}
    assert all(0.9 <= float(r["match_probability"]) <= 1 for r in rows)


def test_a_missing_column_is_named(tmp_path):
    left = write(
        tmp_path / "left.csv",
        [line.rsplit(",", 1)[0] for line in LEFT],
        header=HEADER.replace(",guardian_phone", ""),
    )
    message = refused(tmp_path, left, write(tmp_path / "right.csv", RIGHT))
    assert "line 1" in message and "column guardian_phone" in message


def test_an_unreadable_file_is_named(tmp_path):
    message = refused(tmp_path, tmp_path / "nowhere.csv", write(tmp_path / "right.csv", RIGHT))
    assert "nowhere.csv" in message and "cannot be read" in message
    (tmp_path / "latin.csv").write_bytes((HEADER + "\nL1,\xe9\n").encode("latin-1"))
    assert "not UTF-8" in refused(tmp_path, tmp_path / "latin.csv", tmp_path / "latin.csv")


def test_a_duplicate_record_id_names_both_lines(tmp_path):
    right = write(tmp_path / "right.csv", [*RIGHT, RIGHT[0]])
    message = refused(tmp_path, write(tmp_path / "left.csv", LEFT), right)
    assert "line 4, column record_id" in message and "line 2" in message


@pytest.mark.parametrize(
    ("bad", "column"),
    [
        ("2013-13-02", "birth_date"),
        ("2013-02-30", "birth_date"),
        ("02/05/2013", "birth_date"),
    ],
)
def test_a_malformed_date_names_line_and_column(tmp_path, bad, column):
    right = write(tmp_path / "right.csv", [RIGHT[0], RIGHT[1].replace("2012-09-08", bad)])
    message = refused(tmp_path, write(tmp_path / "left.csv", LEFT), right)
    assert f"line 3, column {column}" in message and bad in message


def test_a_malformed_sex_or_place_names_line_and_column(tmp_path):
    left = write(tmp_path / "left.csv", LEFT)
    right = write(tmp_path / "right.csv", [RIGHT[0].replace(",F,", ",X,"), RIGHT[1]])
    assert "line 2, column sex" in refused(tmp_path, left, right)
    right = write(tmp_path / "right.csv", [RIGHT[0], RIGHT[1].replace(",341524,", ",3415,")])
    assert "line 3, column hukou_place" in refused(tmp_path, left, right)


def test_the_console_command_exits_with_2_on_bad_input(tmp_path):
    left = write(tmp_path / "left.csv", LEFT)
    right = write(tmp_path / "right.csv", [*RIGHT, RIGHT[1]])
    output = tmp_path / "links.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shouhu.cli",
            "link",
            "files",
            "--left",
            str(left),
            "--right",
            str(right),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 2
    assert "line 4, column record_id" in done.stderr
    assert not output.exists()
