"""The embedded SQLite default keeps every write when several people save at once.

Six processes save home visits, contact logs and attendance at the same moment while the
jobs worker runs, on a fresh demo county in an SQLite file (bench/sqlite_writers.py): no
write fails ("database is locked") and every saved record is in the database.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_several_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "sqlite_writers.py"),
            "--writers",
            "6",
            "--writes",
            "15",
            "--json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path), "SHOUHU_VAR_DIR": str(tmp_path)},
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["errors"] == []
    assert result["done"]["home_visit"] == 30 and result["done"]["contact"] == 30
    assert result["done"]["attendance"] > 0
    assert result["added"] == result["done"]
