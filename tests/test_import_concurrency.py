"""The same file imported twice at the same moment (an impatient double click) registers
every child once: imports into the same villages run one after the other."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from shouhu.accounts.models import User
from shouhu.children.importing import ImportReport, import_children
from shouhu.children.models import Child
from tests.conftest import ensure_places
from tests.world import VILLAGE_A, build_world

HEADER = "household_ref,name,sex,birth_date,id_number,village_code,living_arrangement"


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="an in-memory SQLite test database locks tables, it does not wait; runs on PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_file_at_once_register_each_child_once() -> None:
    ensure_places()
    build_world()
    lines = [f"H{i},并发{i},男,2016-02-03,,{VILLAGE_A},grandparents" for i in range(300)]
    data = ("\n".join([HEADER, *lines]) + "\n").encode()
    start = threading.Barrier(2)
    reports: list[ImportReport] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            actor = User.objects.get(username="director_a")
            start.wait()
            reports.append(import_children(actor=actor, data=data, file_name="twice.csv"))
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    outcome: list[Any] = sorted((r.created, r.skipped) for r in reports)
    assert outcome == [(0, 300), (300, 0)]
    assert Child.objects.filter(name__startswith="并发").count() == 300
