"""Cases benchmark: the supervisor's worklist and coordination view at county scale.

Issue 4's target: with 1,000,000 children and 200,000 cases on PostgreSQL, the worklist and
the coordination view answer with a p95 under 200 ms; issue 13's: the same board with the
double-aid rule over 200,000 aid payments too. From nothing to figures:

    .venv/bin/python bench/cases.py \\
        --database postgres://postgres@127.0.0.1:5432/shouhu_bench \\
        --children 1000000 --cases 200000 --disbursements 200000 --runs 200 \\
        --json var/bench-cases.json

creates the database if it is missing, migrates it, tops it up to `--children` generated
children with `shouhu gen` (as bench/registry.py does), and makes sure the case data exists:

- a risk level for every child (75% green, 17% yellow, 6% orange, 2% red, chosen by a hash
  of the child's id; interval 90/30/14/7 days) and its open home-visit task, as the daily
  risk job would leave them, written by `INSERT ... SELECT` instead of the per-child rules;
- social-work organisations (the demo centre, four more in the county and a station in
  supervisor1's township) with ~300 social workers;
- `--cases` cases over the county's children, a quarter of them in supervisor1's township
  and weighted to the children at orange and red, ~30% closed, each with its accepted intake,
  its lead as a case member, 1-3 follow-ups (some overdue, some done) and 0-5 services of
  the last 90 days (children served by two organisations get the same service from both);
- aid: nine schemes of the county's organisations (education, living, medical and in-kind
  aid; this school year's, the last, this calendar year's, two years') with sponsors
  pledging to them, and `--disbursements` payments (1-3 per approved application, dated
  in the last 540 days, within the scheme's period) over the county's children: a quarter
  in supervisor1's township, 30% to children the double-aid rule calls eligible (but 40% of
  those, chosen by a hash of the id, never get any: they are the unaided), 35% of
  the living aid to households on 低保/特困 (double aid with the government's), and one in
  ten children of 流动书桌助学金 and 困境儿童生活补助 paid by a second scheme of the same
  kind and period too (double aid).

Generation is idempotent: a second run with the same targets adds nothing. It is followed
by VACUUM ANALYZE of the tables it wrote.

Timed (`--runs` calls each, the second of two passes, wall-clock ms on this machine), as
supervisor1 (township supervisor) and official1 (county official):

- `coordination(user)`: gaps, duplicated services, overdue follow-ups per worker, open
  caseload per worker, double aid and unaided eligible children, all lists evaluated;
- `aid_board(...)`: the double-aid part of the board alone;
- `tasks_for(user, status="overdue")[:200]` and `status="open"`;
- the pages `/cases/coordination/` and `/worklist/` through Django's test client (skipped
  when the URL does not answer 200 yet);

and, for the social worker who leads the most open cases, `cases_for(worker,
open_only=True)[:50]` with its count. Every case whose p95 is over `--budget` ms has the
SQL it runs captured and explained with `EXPLAIN (ANALYZE, BUFFERS)`; the slowest plans are
printed and written to the JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouhu.settings")
os.environ.setdefault("SHOUHU_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/shouhu_bench"


def _use_database_from_argv() -> None:
    """`--database URL`: create that PostgreSQL database if needed and use it (before Django
    reads its settings)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--database", default=DEFAULT_DATABASE)
    url = pre.parse_known_args()[0].database
    if not url:
        return
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url


_use_database_from_argv()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from shouhu import access  # noqa: E402
from shouhu.accounts.models import Membership, Organisation, OrgKind, Role, User  # noqa: E402
from shouhu.aid import selectors as aid_selectors  # noqa: E402
from shouhu.aid import services as aid_services  # noqa: E402
from shouhu.aid.models import (  # noqa: E402
    AidKind,
    Application,
    Disbursement,
    Method,
    Pledge,
    PledgeForm,
    Recurrence,
    Scheme,
    Sponsor,
    SponsorKind,
    Status,
)
from shouhu.aid.services import FEN  # noqa: E402
from shouhu.cases import delivery, selectors  # noqa: E402
from shouhu.cases.models import (  # noqa: E402
    Case,
    CaseMember,
    CaseRole,
    Channel,
    ConsentBasis,
    Intake,
    IntakeStatus,
    ServiceRecord,
    ServiceType,
    Stage,
    Urgency,
)
from shouhu.children.models import Child  # noqa: E402
from shouhu.demo import services as demo  # noqa: E402
from shouhu.demo.generator import HOME_COUNTY  # noqa: E402
from shouhu.lib import clock  # noqa: E402
from shouhu.places.models import Place, code_range  # noqa: E402
from shouhu.screening.models import RiskLevel  # noqa: E402
from shouhu.tasks import selectors as task_selectors  # noqa: E402
from shouhu.tasks.models import Task, TaskKind  # noqa: E402

BATCH = 10_000
WORKERS = 300
HOME_SHARE = 0.25  # of the cases, in supervisor1's township
STATION_SHARE = 0.4  # of the township's cases, taken by the township's own station
CLOSED_SHARE = 0.30
SERVICE_DAYS = 90
# Risk colours by a hash of the child's id (per cent, cumulative) and the rules' intervals.
RISK_CUTS = (("red", 2, 7), ("orange", 8, 14), ("yellow", 25, 30), ("green", 100, 90))
# Of the children who have cases: those at risk are the ones services look for.
CASE_LEVEL_WEIGHTS = {"red": 0.10, "orange": 0.20, "yellow": 0.30, "green": 0.40}
OPEN_STAGES = (
    (Stage.INTAKE, 10),
    (Stage.ASSESSMENT, 15),
    (Stage.PLAN, 15),
    (Stage.SERVICES, 20),
    (Stage.REVIEW, 10),
)
COUNTY_ORGS = (  # (name, share of the county's cases); the first is the demo's centre
    ("金寨县阳光社会工作服务中心", 0.30),
    ("金寨县启明社会工作服务中心", 0.25),
    ("金寨县同心社会工作服务中心", 0.20),
    ("金寨县红烛青少年社会工作服务社", 0.15),
    ("金寨县映山红儿童社会工作服务中心", 0.10),
)
CHANNELS = (
    (Channel.SERVICE, 20),
    (Channel.FAMILY, 10),
    (Channel.SCHOOL, 20),
    (Channel.COMMUNITY, 20),
    (Channel.SELF, 3),
    (Channel.HOTLINE, 5),
    (Channel.SCREENING, 17),
    (Channel.MANDATORY, 5),
)
URGENCY_BY_LEVEL = {
    "red": ((Urgency.CRISIS, 25), (Urgency.HIGH, 45), (Urgency.NORMAL, 30)),
    "orange": ((Urgency.HIGH, 35), (Urgency.NORMAL, 55), (Urgency.LOW, 10)),
    "yellow": ((Urgency.HIGH, 10), (Urgency.NORMAL, 65), (Urgency.LOW, 25)),
    "green": ((Urgency.HIGH, 5), (Urgency.NORMAL, 65), (Urgency.LOW, 30)),
}
SERVICE_WEIGHTS = (  # a few services are given by everyone: duplication is likely there
    ("home_visit", 25),
    ("education_support", 15),
    ("counselling", 12),
    ("after_school", 10),
    ("family_education", 8),
    ("parent_contact", 8),
    ("material_aid", 6),
    ("guardianship_support", 5),
    ("group_activity", 5),
    ("scholarship", 3),
    ("medical_referral", 2),
    ("legal_aid", 1),
)
REASONS = (
    "父母均外出务工，祖辈监护，近期学习成绩明显下降",
    "村委会反映：孩子长期独自在家，饮食起居无人照料",
    "学校反映：情绪低落，与同学交往少，多次缺课",
    "家庭经济困难，祖父患病，需要链接救助资源",
    "筛查提示需要跟进：抑郁筛查得分偏高",
    "监护人监护能力不足，家中居住环境存在安全隐患",
)
TASK_TITLES = {
    TaskKind.VISIT: ("入户探访",),
    TaskKind.CALL: ("电话回访", "与外出父母视频沟通"),
    TaskKind.TASK: ("联系学校了解学业情况", "协助申请助学金", "链接心理咨询资源", "召开个案会议"),
}
OUTCOMES = ("goals_met", "partly_met", "moved_away", "transferred", "family_declined", "other")
TABLES = (
    "children_child",
    "children_household",
    "screening_risklevel",
    "tasks_task",
    "cases_intake",
    "cases_case",
    "cases_casemember",
    "cases_servicerecord",
    "aid_scheme",
    "aid_application",
    "aid_disbursement",
)


def pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


# ---------------------------------------------------------------- timing


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "max": round(ordered[-1], 2),
    }


def timed_calls(call: Callable[[], object], runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def get_ok(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


PLANS = 3  # plans printed per slow case (all of them go to the JSON)
EXECUTION = re.compile(r"Execution Time: ([0-9.]+) ms")


def explain(call: Callable[[], object]) -> list[dict[str, Any]]:
    """Every SELECT `call` runs with its `EXPLAIN (ANALYZE, BUFFERS)`, slowest first."""
    with CaptureQueriesContext(connection) as captured:
        call()
    found = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        match = EXECUTION.search(plan)
        found.append(
            {
                "execution_ms": float(match.group(1)) if match else 0.0,
                "sql": sql,
                "plan": plan,
            }
        )
    found.sort(key=lambda q: -q["execution_ms"])
    return found


def describe(sql: str) -> str:
    """`FROM table ... GROUP BY ... ORDER BY ... LIMIT n`: which query this is, in a line."""
    tables = [
        (sql.count("(", 0, m.start()) - sql.count(")", 0, m.start()), m.group(1))
        for m in re.finditer(r'FROM "(\w+)"', sql)
    ]
    parts = [f"FROM {min(tables)[1] if tables else '?'}"]  # the outermost
    parts += [p for p in ("DISTINCT", "COUNT(*)", "EXISTS", "GROUP BY") if p in sql]
    order = re.search(r"ORDER BY (.*?)(?: LIMIT (\d+))?$", sql)
    if order:
        parts.append(
            f"ORDER BY {order.group(1)[:60]}"
            + (f" LIMIT {order.group(2)}" if order.group(2) else "")
        )
    return " ".join(parts)


# ---------------------------------------------------------------- data


def top_up(children: int) -> float:
    """Generate children until there are `children` (a new seed for every top-up)."""
    have = Child.objects.count()
    if have >= children:
        return 0.0
    print(f"generating {children - have:,} children (shouhu gen)...", flush=True)
    started = time.perf_counter()
    call_command(
        "gen", children=children - have, seed=100 + have % 997, batch=10000, no_history=True
    )
    return time.perf_counter() - started


def ensure_risk_levels(now: dt.datetime) -> int:
    """A risk level for every child without one, its colour from a hash of the child's id."""
    level = " ".join(f"WHEN h < {cut} THEN '{name}'" for name, cut, _ in RISK_CUTS)
    days = " ".join(f"WHEN h < {cut} THEN {interval}" for _, cut, interval in RISK_CUTS)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO screening_risklevel "
            "(child_id, level, reasons, facts, computed_at, interval_days, residence) "
            f"SELECT id, CASE {level} END, '[]'::jsonb, '{{}}'::jsonb, %s, CASE {days} END, "
            "residence_id "
            "FROM (SELECT c.id, c.residence_id, "
            "      (hashint8(c.id)::bigint + 2147483648) %% 100 AS h "
            "      FROM children_child c WHERE NOT EXISTS "
            "      (SELECT 1 FROM screening_risklevel r WHERE r.child_id = c.id)) s",
            [now],
        )
        return cursor.rowcount


def ensure_visit_tasks(now: dt.datetime, today: dt.date) -> int:
    """The open home-visit task of every child without one, as `risk.recompute_all` leaves
    them: due within the level's interval, a fifth of them overdue, assigned to the
    village's child director where there is one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tasks_task "
            "(child_id, kind, title, reason, level, due_on, recurring, status, created_at, "
            " done_note, residence, assignee_id) "
            "SELECT r.child_id, 'home_visit', 'Home visit', 'routine', r.level, "
            "  %s::date + ((hashint8(r.child_id * 31 + 7)::bigint + 2147483648) "
            "              %% (r.interval_days * 5 / 4) - r.interval_days / 4)::int, "
            "  true, 'open', %s, '', c.residence_id, d.user_id "
            "FROM screening_risklevel r JOIN children_child c ON c.id = r.child_id "
            "LEFT JOIN (SELECT DISTINCT ON (o.jurisdiction_id) o.jurisdiction_id AS village, "
            "           m.user_id FROM accounts_membership m "
            "           JOIN accounts_organisation o ON o.id = m.organisation_id "
            "           WHERE m.role = 'child_director' AND m.active "
            "           ORDER BY o.jurisdiction_id, m.id) d ON d.village = c.residence_id "
            "WHERE NOT EXISTS (SELECT 1 FROM tasks_task t "
            "  WHERE t.child_id = r.child_id AND t.kind = 'home_visit' AND t.status = 'open')",
            [today, now],
        )
        return cursor.rowcount


@dataclass
class Desk:
    """A social-work organisation, its share of the cases, its workers and their weights
    (a few workers carry many more cases than the rest)."""

    org: Organisation
    share: float
    workers: list[int]
    cum_weights: list[float]


def ensure_organisations(township: Place) -> tuple[list[Desk], Desk]:
    county = f"{HOME_COUNTY}000000"
    county_desks = []
    for name, share in COUNTY_ORGS:
        org, _ = Organisation.objects.get_or_create(
            name=name, defaults={"kind": OrgKind.SOCIAL_WORK, "jurisdiction_id": county}
        )
        county_desks.append(Desk(org, (1 - HOME_SHARE * STATION_SHARE) * share, [], []))
    station, _ = Organisation.objects.get_or_create(
        name=f"{township.name}社会工作站",
        defaults={"kind": OrgKind.SOCIAL_WORK, "jurisdiction_id": township.code},
    )
    station_desk = Desk(station, HOME_SHARE * STATION_SHARE, [], [])
    desks = [*county_desks, station_desk]
    ensure_workers(desks)
    return county_desks, station_desk


def ensure_workers(desks: list[Desk]) -> None:
    """`WORKERS` social workers `benchsw001`... shared out by the organisations' shares."""
    plan: list[tuple[str, Desk]] = []
    for desk in desks:
        n = max(5, round(WORKERS * desk.share))
        plan += [(f"benchsw{len(plan) + i + 1:03d}", desk) for i in range(n)]
    have = set(
        User.objects.filter(username__in=[u for u, _ in plan]).values_list("username", flat=True)
    )
    unusable = make_password(None)
    User.objects.bulk_create(
        User(username=u, password=unusable, display_name=f"社工{u[-3:]}")
        for u, _ in plan
        if u not in have
    )
    ids = dict(User.objects.filter(username__in=[u for u, _ in plan]).values_list("username", "id"))
    members = set(
        Membership.objects.filter(user_id__in=ids.values(), role=Role.SOCIAL_WORKER).values_list(
            "user_id", "organisation_id"
        )
    )
    Membership.objects.bulk_create(
        Membership(user_id=ids[u], organisation=d.org, role=Role.SOCIAL_WORKER)
        for u, d in plan
        if (ids[u], d.org.pk) not in members
    )
    for u, desk in plan:
        desk.workers.append(ids[u])
    for desk in desks:
        total = 0.0
        for rank in range(len(desk.workers)):
            total += 1 / (rank + 3)
            desk.cum_weights.append(total)


@dataclass
class Pools:
    """The county's child ids by (in the township, risk colour)."""

    ids: dict[tuple[bool, str], list[int]]
    level: dict[int, str]


def child_pools(township_prefix: str) -> Pools:
    low, high = code_range(HOME_COUNTY)
    ids: dict[tuple[bool, str], list[int]] = {}
    level: dict[int, str] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, left(c.residence_id, %s) = %s, r.level FROM children_child c "
            "JOIN screening_risklevel r ON r.child_id = c.id "
            "WHERE c.residence_id BETWEEN %s AND %s ORDER BY c.id",
            [len(township_prefix), township_prefix, low, high],
        )
        for pk, home, colour in cursor.fetchall():
            ids.setdefault((home, colour), []).append(pk)
            if colour in {"red", "orange"}:
                level[pk] = colour
    return Pools(ids, level)


class CaseMaker:
    """Plans cases one at a time and writes them a batch at a time."""

    def __init__(
        self,
        rng: random.Random,
        pools: Pools,
        county: list[Desk],
        station: Desk,
        service_types: dict[str, int],
        now: dt.datetime,
        today: dt.date,
    ) -> None:
        self.rng, self.pools, self.county, self.station = rng, pools, county, station
        self.service_types, self.now, self.today = service_types, now, today
        self.open_pairs = set(
            Case.objects.exclude(stage=Stage.CLOSED).values_list("child_id", "organisation_id")
        )
        self.counts = {"intakes": 0, "cases": 0, "members": 0, "tasks": 0, "services": 0}

    def _child(self) -> tuple[int, bool]:
        home = self.rng.random() < HOME_SHARE
        colour = pick(self.rng, list(CASE_LEVEL_WEIGHTS.items()))
        pool = self.pools.ids.get((home, colour)) or self.pools.ids[(home, "green")]
        return self.rng.choice(pool), home

    def _desks(self, home: bool) -> list[Desk]:
        """The organisations that might take the case, likeliest first."""
        shares = [(d, d.share) for d in self.county]
        first = (
            self.station if home and self.rng.random() < STATION_SHARE else pick(self.rng, shares)
        )
        rest = [d for d in [*self.county, self.station] if d is not first]
        self.rng.shuffle(rest)
        return [first, *rest] if home else [first, *[d for d in rest if d is not self.station]]

    def plan(self) -> tuple[int, Desk, bool]:
        """(child, organisation, closed): never a second open case of a child in one
        organisation."""
        closed = self.rng.random() < CLOSED_SHARE
        while True:
            child, home = self._child()
            for desk in self._desks(home):
                if closed or (child, desk.org.pk) not in self.open_pairs:
                    if not closed:
                        self.open_pairs.add((child, desk.org.pk))
                    return child, desk, closed

    def _moment(self, days_ago: float) -> dt.datetime:
        return self.now - dt.timedelta(days=days_ago, minutes=self.rng.randint(0, 600))

    def write(self, n: int) -> None:
        rng = self.rng
        planned = [self.plan() for _ in range(n)]
        intakes, cases = [], []
        for child, desk, closed in planned:
            colour = self.pools.level.get(child, "green")
            lead = rng.choices(desk.workers, cum_weights=desk.cum_weights)[0]
            if closed:
                opened = self._moment(rng.uniform(90, 1000))
                length = min(rng.uniform(30, 400), (self.now - opened).days - 1)
                closed_at: dt.datetime | None = opened + dt.timedelta(days=length)
                stage = Stage.CLOSED
            else:
                opened = self._moment(min(900.0, rng.expovariate(1 / 150)))
                closed_at = None
                stage = pick(rng, OPEN_STAGES)
            urgency = pick(rng, URGENCY_BY_LEVEL[colour])
            intakes.append(
                Intake(
                    child_id=child,
                    organisation=desk.org,
                    channel=pick(rng, CHANNELS),
                    reason=rng.choice(REASONS),
                    urgency=urgency,
                    consent=ConsentBasis.GUARDIAN if rng.random() < 0.85 else ConsentBasis.LEGAL,
                    referred_by_id=lead,
                    created_at=opened - dt.timedelta(days=rng.uniform(0, 7)),
                    status=IntakeStatus.ACCEPTED,
                    decided_by_id=lead,
                    decided_at=opened,
                )
            )
            pending = ""
            if stage == Stage.PLAN and rng.random() < 0.2:
                pending = "plan"
            elif stage == Stage.REVIEW and rng.random() < 0.15:
                pending = "closure"
            cases.append(
                Case(
                    child_id=child,
                    organisation=desk.org,
                    lead_id=lead,
                    stage=stage,
                    urgency=urgency,
                    opened_at=opened,
                    closed_at=closed_at,
                    outcome=rng.choice(OUTCOMES) if closed else "",
                    closure_reason="服务目标基本达成，转入常规关爱" if closed else "",
                    version=rng.randint(1, 6),
                    pending_approval=pending,
                )
            )
        with transaction.atomic():
            Intake.objects.bulk_create(intakes, batch_size=BATCH)
            for intake, case in zip(intakes, cases, strict=True):
                case.intake = intake
            Case.objects.bulk_create(cases, batch_size=BATCH)
            members = [
                CaseMember(case=c, user_id=c.lead_id, role=CaseRole.WORKER, added_at=c.opened_at)
                for c in cases
            ]
            CaseMember.objects.bulk_create(members, batch_size=BATCH)
            tasks = [t for c in cases for t in self._tasks(c)]
            Task.objects.bulk_create(tasks, batch_size=BATCH)
            services = [s for c in cases for s in self._services(c)]
            ServiceRecord.objects.bulk_create(services, batch_size=BATCH)
        for name, rows in (
            ("intakes", intakes),
            ("cases", cases),
            ("members", members),
            ("tasks", tasks),
            ("services", services),
        ):
            self.counts[name] += len(rows)

    def _tasks(self, case: Case) -> list[Task]:
        rng, today = self.rng, self.today
        tasks = []
        for i in range(rng.randint(1, 3)):
            kind = TaskKind.VISIT if i == 0 else rng.choice([TaskKind.CALL, TaskKind.TASK])
            done_at = None
            if case.closed_at is not None:
                done_at = case.closed_at - dt.timedelta(days=rng.uniform(1, 30))
                due_on = done_at.date() + dt.timedelta(days=rng.randint(-5, 10))
            else:
                state = rng.random()
                if state < 0.22:  # overdue
                    due_on = today - dt.timedelta(days=rng.randint(1, 60))
                elif state < 0.65:  # coming up
                    due_on = today + dt.timedelta(days=rng.randint(0, 45))
                else:  # done
                    done_at = self.now - dt.timedelta(days=rng.uniform(0, 120))
                    due_on = done_at.date() + dt.timedelta(days=rng.randint(-5, 10))
            tasks.append(
                Task(
                    child_id=case.child_id,
                    case=case,
                    kind=kind,
                    title=rng.choice(TASK_TITLES[kind]),
                    assignee_id=case.lead_id,
                    due_on=due_on,
                    recurring=kind == TaskKind.VISIT,
                    status="done" if done_at else "open",
                    created_at=case.opened_at,
                    done_at=done_at,
                    done_note="已完成" if done_at else "",
                )
            )
        return tasks

    def _services(self, case: Case) -> list[ServiceRecord]:
        rng = self.rng
        low = max(self.today - dt.timedelta(days=SERVICE_DAYS - 1), case.opened_at.date())
        high = self.today if case.closed_at is None else min(self.today, case.closed_at.date())
        if low > high:
            return []
        span = (high - low).days
        records = []
        for _ in range(rng.randint(0, 5)):
            code = pick(rng, SERVICE_WEIGHTS)
            records.append(
                ServiceRecord(
                    case=case,
                    child_id=case.child_id,
                    residence=case.residence,
                    service_type_id=self.service_types[code],
                    provider_id=case.organisation_id,
                    delivered_on=low + dt.timedelta(days=rng.randint(0, span)),
                    minutes=rng.choice([30, 45, 60, 90, 120]),
                    participants=rng.randint(5, 15) if code == "group_activity" else 1,
                    recorded_by_id=case.lead_id,
                )
            )
        return records


@dataclass
class Personas:
    supervisor: User
    official: User
    township: Place


def personas() -> Personas:
    demo.ensure_personas()
    supervisor = User.objects.get(username="supervisor1")
    membership = supervisor.memberships.select_related("organisation__jurisdiction").get(
        role=Role.SUPERVISOR
    )
    return Personas(
        supervisor, User.objects.get(username="official1"), membership.organisation.jurisdiction
    )


# ---------------------------------------------------------------- aid (issue 13)

AID_SHARE_ELIGIBLE = 0.3  # of the applications, for children the double-aid rule expects
AID_UNAIDED = 40  # per cent of the eligible children (by a hash of the id) nobody helps
AID_SHARE_GOVERNMENT = 0.35  # of the living-aid applications, for 低保/特困 households
AID_DOUBLE_SHARE = 0.1  # of the applications to a scheme of DOUBLE_OF, a second one
AID_DAYS = 540  # payments are dated in the last year and a half
# (name, organisation index (5 = the township's station), kind, amount, period): the period
# from the start of the current school year ("year"), the previous one ("last_year"), this
# calendar year ("calendar"), or the last two calendar years ("two_years"); the weight of
# the scheme among the applications.
SCHEMES = (
    ("流动书桌助学金（上学年）", 0, AidKind.EDUCATION, "1200.00", "last_year", 15),
    ("流动书桌助学金", 0, AidKind.EDUCATION, "1200.00", "year", 25),
    ("春蕾计划助学金", 1, AidKind.EDUCATION, "1000.00", "year", 12),
    ("金秋助学金", 2, AidKind.EDUCATION, "800.00", "calendar", 8),
    ("困境儿童生活补助", 3, AidKind.LIVING, "1800.00", "two_years", 15),
    ("爱心午餐", 5, AidKind.LIVING, "600.00", "year", 8),
    ("大病医疗救助", 4, AidKind.MEDICAL, "5000.00", "two_years", 7),
    ("冬衣送温暖", 1, AidKind.IN_KIND, "0.00", "calendar", 5),
    ("开学书包文具", 2, AidKind.IN_KIND, "0.00", "year", 5),
)
# The scheme a double-aid child also gets (same kind, overlapping period).
DOUBLE_OF = {"流动书桌助学金": "春蕾计划助学金", "困境儿童生活补助": "爱心午餐"}
SPONSORS = (
    ("映山红公益基金会", SponsorKind.FOUNDATION, 0),
    ("金寨县电力公司工会", SponsorKind.COMPANY, 1),
    ("王女士", SponsorKind.PERSON, 2),
    ("上海某科技公司", SponsorKind.COMPANY, 3),
    ("县慈善协会", SponsorKind.FOUNDATION, 4),
    ("梅山镇商会", SponsorKind.COMPANY, 5),
)
AID_TABLES = ("aid_scheme", "aid_application", "aid_disbursement")


def scheme_period(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    year = today.year if today >= dt.date(today.year, 9, 1) else today.year - 1
    school = dt.date(year, 9, 1)
    return {
        "year": (school, dt.date(year + 1, 8, 31)),
        "last_year": (dt.date(year - 1, 9, 1), school - dt.timedelta(days=1)),
        "calendar": (dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)),
        "two_years": (dt.date(today.year - 1, 1, 1), dt.date(today.year, 12, 31)),
    }[period]


def ensure_schemes(desks: list[Desk], now: dt.datetime, today: dt.date) -> dict[str, Scheme]:
    """The schemes, and sponsors pledging to them (by name: a second run adds nothing)."""
    schemes = {}
    for name, org, kind, amount, period, _weight in SCHEMES:
        desk = desks[org]
        starts, ends = scheme_period(period, today)
        schemes[name], _ = Scheme.objects.get_or_create(
            name=name,
            organisation=desk.org,
            defaults={
                "kind": kind,
                "amount": Decimal(amount),
                "starts_on": starts,
                "ends_on": ends,
                "criteria": "困境儿童、留守儿童",
                "created_at": now,
                "created_by_id": desk.workers[0],
            },
        )
    for name, kind, org in SPONSORS:
        desk = desks[org]
        sponsor, made = Sponsor.objects.get_or_create(
            name=name,
            organisation=desk.org,
            defaults={"kind": kind, "created_at": now, "created_by_id": desk.workers[0]},
        )
        if made:
            Pledge.objects.bulk_create(
                Pledge(
                    sponsor=sponsor,
                    form=PledgeForm.MONEY,
                    amount=Decimal("50000.00"),
                    recurrence=Recurrence.YEARLY,
                    scheme=s,
                    pledged_on=s.starts_on,
                    created_by_id=desk.workers[0],
                )
                for s in schemes.values()
                if s.organisation_id == desk.org.pk
            )
    return schemes


@dataclass
class AidPools:
    """The county's children by (in the township, eligible, household on 低保/特困), and
    each child's village and household. `AID_UNAIDED` per cent of the eligible children are
    in no pool."""

    ids: dict[tuple[bool, bool, bool], list[int]]
    residence: dict[int, tuple[str, int]]


def aid_pools(township_prefix: str) -> AidPools:
    low, high = code_range(HOME_COUNTY)
    ids: dict[tuple[bool, bool, bool], list[int]] = {}
    residence: dict[int, tuple[str, int]] = {}
    eligible = " OR ".join(
        f"c.{f}"
        for f in (
            "cat_difficulty_poverty",
            "cat_difficulty_disability",
            "cat_difficulty_guardianship",
            "cat_de_facto_unsupported",
            "cat_orphan",
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.residence_id, c.household_id, ({eligible}), "
            "  h.aid IN ('dibao', 'tekun'), "
            "  (hashint8(c.id * 17 + 3)::bigint + 2147483648) %% 100 < %s "
            "FROM children_child c JOIN children_household h ON h.id = c.household_id "
            "WHERE c.residence_id BETWEEN %s AND %s ORDER BY c.id",
            [AID_UNAIDED, low, high],
        )
        for pk, village, household, needy, government, left_out in cursor.fetchall():
            residence[pk] = (village, household)
            if needy and left_out:
                continue
            home = village.startswith(township_prefix)
            ids.setdefault((home, needy, government), []).append(pk)
    return AidPools(ids, residence)


class AidMaker:
    """Plans approved applications with their payments and writes them a batch at a time."""

    def __init__(
        self,
        rng: random.Random,
        pools: AidPools,
        schemes: dict[str, Scheme],
        desks: dict[int, Desk],
        now: dt.datetime,
        today: dt.date,
    ) -> None:
        self.rng, self.pools, self.schemes, self.desks = rng, pools, schemes, desks
        self.now, self.today = now, today
        self.taken = set(Application.objects.values_list("scheme_id", "child_id"))
        self.weights = [(name, w) for name, *_, w in SCHEMES]
        self.counts = {"applications": 0, "disbursements": 0}

    def _child(self, scheme: Scheme) -> int:
        rng = self.rng
        home = rng.random() < HOME_SHARE
        needy = rng.random() < AID_SHARE_ELIGIBLE
        government = scheme.kind == AidKind.LIVING and rng.random() < AID_SHARE_GOVERNMENT
        pool = self.pools.ids.get((home, needy, government)) or self.pools.ids[(home, False, False)]
        return rng.choice(pool)

    def plan(self) -> list[tuple[Scheme, int]]:
        """One application, and sometimes a second of the same child to an overlapping
        scheme of the same kind."""
        while True:
            scheme = self.schemes[pick(self.rng, self.weights)]
            child = self._child(scheme)
            if (scheme.pk, child) in self.taken:
                continue
            planned = [(scheme, child)]
            twin = DOUBLE_OF.get(scheme.name)
            if twin and self.rng.random() < AID_DOUBLE_SHARE:
                other = self.schemes[twin]
                if (other.pk, child) not in self.taken:
                    planned.append((other, child))
            self.taken.update((s.pk, c) for s, c in planned)
            return planned

    def write(self, n: int) -> int:
        """About `n` payments; how many were written."""
        planned: list[tuple[Scheme, int]] = []
        expected = 0
        while expected < n:
            for scheme, child in self.plan():
                planned.append((scheme, child))
                expected += 2
        applications, payments = [], []
        for scheme, child in planned:
            application, paid = self._application(scheme, child)
            if application is not None:
                applications.append(application)
                payments.append(paid)
        with transaction.atomic():
            Application.objects.bulk_create(applications, batch_size=BATCH)
            rows = [
                Disbursement(application=a, **p)
                for a, paid in zip(applications, payments, strict=True)
                for p in paid
            ][:n]
            Disbursement.objects.bulk_create(rows, batch_size=BATCH)
        self.counts["applications"] += len(applications)
        self.counts["disbursements"] += len(rows)
        return len(rows)

    def _application(
        self, scheme: Scheme, child: int
    ) -> tuple[Application | None, list[dict[str, Any]]]:
        rng = self.rng
        low = max(scheme.starts_on, self.today - dt.timedelta(days=AID_DAYS))
        high = min(scheme.ends_on, self.today)
        if low > high:
            return None, []
        desk = self.desks[scheme.organisation_id]
        applicant, reviewer = rng.sample(desk.workers, 2)
        decided = low + dt.timedelta(days=rng.randint(0, min(30, (high - low).days)))
        decided_at = timezone.make_aware(dt.datetime.combine(decided, dt.time(10)))
        approved = scheme.amount
        application = Application(
            scheme=scheme,
            child_id=child,
            reason="家庭经济困难，父母外出务工",
            status=Status.APPROVED,
            submitted_at=decided_at - dt.timedelta(days=rng.randint(3, 20)),
            submitted_by_id=applicant,
            reviewer_id=reviewer,
            decided_at=decided_at,
            decision_note="符合条件",
            approved_amount=approved,
        )
        n = rng.choice([1, 2, 2, 3])
        in_kind = scheme.kind == AidKind.IN_KIND
        paid = []
        for i in range(n):
            on = decided + dt.timedelta(days=rng.randint(0, (high - decided).days))
            paid.append(
                {
                    "child_id": child,
                    "scheme_id": scheme.pk,
                    "kind": scheme.kind,
                    "paid_on": on,
                    "amount": None if in_kind else (approved / n).quantize(FEN, ROUND_DOWN),
                    "items": "冬衣一套" if in_kind else "",
                    "method": Method.IN_KIND if in_kind else Method.BANK_TRANSFER,
                    "receipt_ref": "" if in_kind else f"BT-{child}-{scheme.pk}-{i}",
                    "recorded_by_id": applicant,
                    "recorded_at": decided_at,
                    "residence": self.pools.residence[child][0],
                    "household_id": self.pools.residence[child][1],
                }
            )
        return application, paid


def ensure_aid(args: argparse.Namespace, who: Personas, desks: list[Desk]) -> dict[str, Any]:
    """Top the payments up to `--disbursements`."""
    now, today = timezone.now(), clock.today()
    report: dict[str, Any] = {}
    schemes = ensure_schemes(desks, now, today)
    have = Disbursement.objects.count()
    missing = max(0, args.disbursements - have)
    report["disbursements_added"] = missing
    if not missing:
        if have and not Disbursement.objects.filter(double=True).exists():
            report["double_flagged"] = aid_services.reflag_all()
        return report
    print(f"creating {missing:,} disbursements...", flush=True)
    started = time.perf_counter()
    maker = AidMaker(
        random.Random(args.seed * 7_000_003 + have),
        aid_pools(who.township.prefix),
        schemes,
        {d.org.pk: d for d in desks},
        now,
        today,
    )
    written = 0
    while written < missing:
        written += maker.write(min(BATCH, missing - written))
        print(f"  {written:,} disbursements", end="\r", flush=True)
    report["rows_added"] = maker.counts
    # Written by SQL, the payments are flagged for the double-aid rule as the service does.
    report["double_flagged"] = aid_services.reflag_all()
    report["aid_seconds"] = round(time.perf_counter() - started, 1)
    print(f"\naid written in {report['aid_seconds']} s: {maker.counts}", flush=True)
    return report


def ensure_data(args: argparse.Namespace, who: Personas) -> dict[str, Any]:
    now, today = timezone.now(), clock.today()
    report: dict[str, Any] = {}
    started = time.perf_counter()
    report["risk_levels_added"] = ensure_risk_levels(now)
    report["visit_tasks_added"] = ensure_visit_tasks(now, today)
    report["risk_seconds"] = round(time.perf_counter() - started, 1)
    print(
        f"risk levels added: {report['risk_levels_added']:,}, open home-visit tasks added: "
        f"{report['visit_tasks_added']:,} in {report['risk_seconds']} s",
        flush=True,
    )
    county, station = ensure_organisations(who.township)
    have = Case.objects.count()
    missing = max(0, args.cases - have)
    report["cases_added"] = missing
    if missing:
        print(f"creating {missing:,} cases...", flush=True)
        started = time.perf_counter()
        pools = child_pools(who.township.prefix)
        types = dict(ServiceType.objects.values_list("code", "id"))
        maker = CaseMaker(
            random.Random(args.seed * 1_000_003 + have), pools, county, station, types, now, today
        )
        for done in range(0, missing, BATCH):
            maker.write(min(BATCH, missing - done))
            print(f"  {done + min(BATCH, missing - done):,} cases", end="\r", flush=True)
        report["rows_added"] = maker.counts
        report["case_seconds"] = round(time.perf_counter() - started, 1)
        print(f"\ncases written in {report['case_seconds']} s: {maker.counts}", flush=True)
    report["aid"] = ensure_aid(args, who, [*county, station])
    started = time.perf_counter()
    report["area_columns_filled"] = fill_area_columns()
    report["duplicates_flagged"] = delivery.flag_all_duplicates(
        since=today - dt.timedelta(days=SERVICE_DAYS)
    )
    report["derived_seconds"] = round(time.perf_counter() - started, 1)
    print(
        f"area columns filled: {report['area_columns_filled']:,}, duplicate services flagged: "
        f"{report['duplicates_flagged']:,} in {report['derived_seconds']} s",
        flush=True,
    )
    # Always: a migration may have rewritten these tables (new columns filled set-based),
    # and index-only scans need the visibility map that VACUUM keeps.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    report["vacuum_seconds"] = round(time.perf_counter() - started, 1)
    print(f"VACUUM ANALYZE in {report['vacuum_seconds']} s", flush=True)
    return report


def fill_area_columns() -> int:
    """The village columns of bulk-written cases, follow-ups and payments (what the services
    set when they write one row at a time), set-based."""
    from django.db.models import OuterRef, Subquery

    cases = Case.objects.filter(residence="").update(
        residence=Subquery(Child.objects.filter(pk=OuterRef("child_id")).values("residence_id")[:1])
    )
    tasks = Task.objects.filter(residence="").update(
        residence=Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("residence")[:1])
    )
    services = ServiceRecord.objects.filter(residence="").update(
        residence=Subquery(Child.objects.filter(pk=OuterRef("child_id")).values("residence_id")[:1])
    )
    child = Child.objects.filter(pk=OuterRef("child_id"))
    payments = Disbursement.objects.filter(household__isnull=True).update(
        residence=Subquery(child.values("residence_id")[:1]),
        household=Subquery(child.values("household_id")[:1]),
    )
    return int(cases) + int(tasks) + int(services) + int(payments)


def counts(who: Personas) -> dict[str, Any]:
    low, high = code_range(who.township.prefix)
    in_township = {"child__residence_id__gte": low, "child__residence_id__lte": high}
    return {
        "children": Child.objects.count(),
        "risk_levels": dict(
            RiskLevel.objects.values_list("level").annotate(n=Count("pk")).order_by("level")
        ),
        "open_visit_tasks": Task.objects.filter(kind="home_visit", status="open").count(),
        "cases": Case.objects.count(),
        "open_cases": Case.objects.exclude(stage=Stage.CLOSED).count(),
        "cases_in_supervisor_township": Case.objects.filter(**in_township).count(),
        "intakes": Intake.objects.count(),
        "case_members": CaseMember.objects.count(),
        "case_tasks": Task.objects.filter(case__isnull=False).count(),
        "open_case_tasks": Task.objects.filter(case__isnull=False, status="open").count(),
        "overdue_case_tasks": Task.objects.filter(
            case__isnull=False, status="open", due_on__lt=clock.today()
        ).count(),
        "services": ServiceRecord.objects.count(),
        "social_work_organisations": Organisation.objects.filter(
            kind=OrgKind.SOCIAL_WORK, cases__isnull=False
        )
        .distinct()
        .count(),
        "case_leads": Case.objects.values("lead").distinct().count(),
        "aid_schemes": Scheme.objects.count(),
        "aid_applications": Application.objects.count(),
        "disbursements": Disbursement.objects.count(),
        "disbursements_in_supervisor_township": Disbursement.objects.filter(
            residence__gte=low, residence__lte=high
        ).count(),
    }


# ---------------------------------------------------------------- the cases


def busiest_worker() -> User:
    """The social worker who leads the most open cases."""
    top = (
        Case.objects.exclude(stage=Stage.CLOSED)
        .values("lead")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert top is not None, "no open cases"
    return User.objects.get(pk=top["lead"])


def first_tasks(user: User, status: str, today: dt.date) -> None:
    list(task_selectors.tasks_for(user, status=status, today=today)[:200])


def worker_page(worker: User) -> None:
    rows = selectors.cases_for(worker, open_only=True)
    [selectors.case_row(c) for c in rows[:50]]
    rows.count()


def aid_lists(user: User, today: dt.date, limit: int = 200) -> aid_selectors.AidBoard:
    """The board's double-aid part alone, as `coordination` asks for it."""
    return aid_selectors.aid_board(
        children=Child.objects.filter(
            access.jurisdiction_q(user, roles=access.FOLLOW_ROLES, field="residence_id")
        ),
        paid_in=access.jurisdiction_q(user, roles=access.FOLLOW_ROLES, field="residence"),
        today=today,
        limit=limit,
    )


def build_cases(
    who: Personas, worker: User, today: dt.date
) -> tuple[dict[str, Callable[[], object]], dict[str, str]]:
    """The timed calls by name, and the pages that were skipped with why."""
    calls: dict[str, Callable[[], object]] = {}
    skipped: dict[str, str] = {}
    for label, user in (("supervisor", who.supervisor), ("official", who.official)):
        calls[f"selector: coordination ({label})"] = partial(
            selectors.coordination, user, today=today
        )
        calls[f"selector: aid_board [:200] ({label})"] = partial(aid_lists, user, today)
        for status in ("overdue", "open"):
            calls[f"selector: tasks_for {status} [:200] ({label})"] = partial(
                first_tasks, user, status, today
            )
        client = login(user)
        for url in ("/cases/coordination/", "/worklist/"):
            name = f"page: GET {url} ({label})"
            status_code = client.get(url).status_code
            if status_code != 200:
                skipped[name] = f"HTTP {status_code}"
                continue
            calls[name] = partial(get_ok, client, url)
    calls[f"selector: cases_for open [:50] + count ({worker.username})"] = partial(
        worker_page, worker
    )
    return calls, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database", default=DEFAULT_DATABASE, help="PostgreSQL URL; created and migrated"
    )
    parser.add_argument("--children", type=int, default=1_000_000, help="top up to this many")
    parser.add_argument("--cases", type=int, default=200_000, help="top up to this many cases")
    parser.add_argument(
        "--disbursements", type=int, default=200_000, help="top up to this many aid payments"
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--budget", type=float, default=200.0, help="p95 target in ms")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-explain", action="store_true", help="skip EXPLAIN of slow cases")
    args = parser.parse_args()
    results: dict[str, Any] = {"load_before": load(), "started": timezone.now().isoformat()}
    print(f"load average before: {results['load_before']}", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    seconds = top_up(args.children)
    who = personas()
    generation = ensure_data(args, who)
    if seconds:
        generation["children_seconds"] = round(seconds, 1)
    results["vendor"] = connection.vendor
    results["generation"] = generation
    results["counts"] = counts(who)
    for name, value in results["counts"].items():
        print(f"{name:30s} {value:,}" if isinstance(value, int) else f"{name:30s} {value}")

    # No `setup_test_environment` (the test client's host is allowed above): its template
    # instrumentation keeps every response's context alive, so the collector's full passes
    # grow slower as a run goes on and the cases timed last look slow; a production process
    # has none of it.
    # As the WSGI entry point does after start-up (`shouhu/wsgi.py`): what is loaded so far is
    # kept out of the garbage collector's generations.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - every view imported, as shouhu/wsgi.py does
    gc.collect()
    gc.freeze()
    # The personas' sessions must outlive the whole run (the idle timeout is 30 minutes).
    settings.SESSION_COOKIE_AGE = 7 * 24 * 3600
    today = clock.today()
    worker = busiest_worker()
    results["worker"] = {
        "username": worker.username,
        "open_cases_led": Case.objects.filter(lead=worker).exclude(stage=Stage.CLOSED).count(),
        "visible_open_cases": selectors.cases_for(worker, open_only=True).count(),
    }
    results["aid_board"] = {}
    for label, user in (("supervisor", who.supervisor), ("official", who.official)):
        board = aid_lists(user, today)
        results["aid_board"][label] = {
            "period": [board.first.isoformat(), board.last.isoformat()],
            "double_aid": board.double_count,
            "unaided": board.unaided_count,
        }
        print(f"aid board ({label}): {results['aid_board'][label]}", flush=True)
    calls, skipped = build_cases(who, worker, today)
    results["skipped"] = skipped
    for name, why in skipped.items():
        print(f"{name:62s} skipped: {why}", flush=True)
    timings: dict[str, dict[str, float]] = {}
    for name, call in calls.items():
        timed_calls(call, args.runs)  # warm caches
        stats = timed_calls(call, args.runs)
        timings[name] = stats
        flag = "  OVER" if stats["p95"] > args.budget else ""
        print(
            f"{name:62s} p50 {stats['p50']:8.2f}  p95 {stats['p95']:8.2f}  "
            f"max {stats['max']:8.2f} ms{flag}",
            flush=True,
        )
    results["timings"] = timings
    results["load_after"] = load()
    print(f"load average after: {results['load_after']}", flush=True)

    if not args.no_explain and connection.vendor == "postgresql":
        slow: dict[str, list[dict[str, Any]]] = {}
        for name, stats in timings.items():
            if stats["p95"] <= args.budget:
                continue
            slow[name] = explain(calls[name])
            print(f"\n=== {name}: {len(slow[name])} queries, slowest first", flush=True)
            for query in slow[name]:
                print(f"{query['execution_ms']:8.1f} ms  {describe(query['sql'])}")
            for query in slow[name][:PLANS]:
                print(f"--- {query['execution_ms']:.1f} ms\n{query['sql']}\n{query['plan']}\n")
        results["explain"] = slow
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
