"""Programmes benchmark: the roll call and a big project's figures (issue 12).

Issue 12's targets on PostgreSQL: a roll call of 60 participants is saved in one request
with a p95 under 100 ms, and a project's progress and person-times report over 1,000,000
attendance rows and 100,000 counselling sessions answer with a p95 under 300 ms. From
nothing to figures:

    .venv/bin/python bench/programmes.py \\
        --database postgres://postgres@127.0.0.1:5432/shouhu_bench \\
        --children 100000 --runs 200 --json var/bench-programmes.json

creates the database if it is missing, migrates it, tops it up to `--children` generated
children with `shouhu gen` (as bench/registry.py does), and makes sure the project exists:

- funded by the county's civil-affairs bureau (official1's), run by the county's social-work
  centre (socialworker1's), serving the whole county, for left-behind, de-facto unsupported
  and orphaned children, with a target for every measure, over the last 12 months;
- `--participants` children of the county (70 % of them from the target groups, chosen by a
  hash of their id), each in at least one programme of their township;
- `--programmes` programmes: 90 % weekly children's group activities of the shipped
  catalogue, 10 % caregiver courses every other week for the participants' grandparents,
  and a few monthly publicity events handing out materials; 3 % of the sessions cancelled,
  one planned for next week; their sizes chosen so that the roll calls of the sessions held
  make about `--attendances` rows;
- the roll call of every session held, written by `INSERT ... SELECT`: every enrolled
  participant, present with a per-participant rate of 70-90 % (a tenth of them late), the
  others absent or excused;
- `--counselling` one-to-one counselling sessions over the same months by 20 counsellors,
  for 5,000 children (4,000 participants, 1,000 other children of the county), a few
  children seen much more often than the rest;
- a programme of `--roll-call` participants with four weekly sessions held (the last one is
  the roll call timed).

Generation is idempotent: a second run with the same targets adds nothing. The
pre-aggregate behind the figures (`Served`) is then rebuilt for the whole project with
`served.rebuild` (timed: the bulk writes bypass the services that keep it), and the
programme tables get VACUUM ANALYZE.

Timed (`--runs` calls each, the second of two passes, wall-clock ms on this machine):

- the roll call of the 60, with random statuses each time (a re-take: every row is updated):
  the page `POST /programmes/sessions/<id>/roll-call/` through Django's test client as
  socialworker1, and `POST /api/v1/sessions/<id>/attendance` with a bearer token; the
  number of queries of each request is recorded;
- `figures(project)`, `progress(project)`, `breakdown(project, by)` for month, township,
  category, sex and age band, `figures(project, month, month)` for the last full month;
- the project page `/programmes/projects/<id>/` and `GET /api/v1/projects/<id>/progress`
  as official1 (the funder's official).

Every case whose p95 is over its budget (`--budget-roll-call`, `--budget`) has the SQL it
runs captured and explained with `EXPLAIN (ANALYZE, BUFFERS)` (SELECTs only); the slowest
plans are printed and written to the JSON.
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
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
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
from django.db.models import Count, Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from shouhu.accounts.models import Membership, Organisation, Role, User  # noqa: E402
from shouhu.api import tokens  # noqa: E402
from shouhu.children.models import Child, FamilyMember  # noqa: E402
from shouhu.demo import services as demo  # noqa: E402
from shouhu.demo.generator import HOME_COUNTY  # noqa: E402
from shouhu.lib import clock  # noqa: E402
from shouhu.lib.dates import start_of_day  # noqa: E402
from shouhu.places.models import Place, code_range  # noqa: E402
from shouhu.programmes import report, selectors, served  # noqa: E402
from shouhu.programmes.models import (  # noqa: E402
    Attendance,
    Concern,
    Counselling,
    Design,
    Enrolment,
    Kind,
    Measure,
    Mode,
    Presence,
    Programme,
    ProgrammeSession,
    Project,
    Served,
    SessionStatus,
    Target,
)

PROJECT_NAME = "金寨县困境儿童关爱服务项目（性能基准）"
ROLL_CALL_TITLE = "点名基准：情绪小怪兽"
PUBLICITY_DESIGN = "儿童保护政策进村宣传"
TARGET_GROUPS = ["left_behind_mca", "de_facto_unsupported", "orphan"]
TARGET_SHARE = 0.7  # of the participants, from the target groups
CAREGIVER_SHARE = 0.1  # of the programmes, caregiver courses
PUBLICITY_PROGRAMMES = 5
CANCELLED_SHARE = 0.03
COUNSELLORS = 20
COUNSELLED = 5_000  # children counselled (4/5 of them participants)
BATCH = 10_000
# The roll call's statuses (per cent): most come, a few late, the rest absent or excused.
MARKS = ((Presence.PRESENT, 72), (Presence.LATE, 8), (Presence.ABSENT, 13), (Presence.EXCUSED, 7))
CANCEL_REASONS = ("暴雨", "学校统一考试", "场地临时占用", "农忙")
TABLES = (
    "programmes_programme",
    "programmes_programmesession",
    "programmes_enrolment",
    "programmes_attendance",
    "programmes_counselling",
    "programmes_served",
    "children_child",
)


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


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


PLANS = 3  # plans printed per slow case (all of them go to the JSON)
EXECUTION = re.compile(r"Execution Time: ([0-9.]+) ms")


def explain(call: Callable[[], object]) -> list[dict[str, Any]]:
    """Every SELECT `call` runs with its `EXPLAIN (ANALYZE, BUFFERS)`, slowest first."""
    with CaptureQueriesContext(connection) as captured:
        call()
    found: list[dict[str, Any]] = []
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
    """`FROM table ... GROUP BY ...`: which query this is, in a line."""
    tables = [
        (sql.count("(", 0, m.start()) - sql.count(")", 0, m.start()), m.group(1))
        for m in re.finditer(r'FROM "(\w+)"', sql)
    ]
    parts = [f"FROM {min(tables)[1] if tables else '?'}"]  # the outermost
    parts += [p for p in ("DISTINCT", "COUNT(*)", "EXISTS", "GROUP BY", "SUM(") if p in sql]
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


@dataclass
class Personas:
    official: User  # the funder's (county civil-affairs bureau)
    organiser: User  # the implementer's (county social-work centre)
    funder: Organisation
    implementer: Organisation


def personas() -> Personas:
    demo.ensure_personas()
    official = User.objects.get(username="official1")
    organiser = User.objects.get(username="socialworker1")
    return Personas(
        official,
        organiser,
        official.memberships.get(role=Role.OFFICIAL).organisation,
        organiser.memberships.get(role=Role.SOCIAL_WORKER).organisation,
    )


def ensure_counsellors(org: Organisation) -> list[int]:
    """`COUNSELLORS` counsellors `benchpc01`... of the implementer."""
    names = [f"benchpc{i:02d}" for i in range(1, COUNSELLORS + 1)]
    have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)
    User.objects.bulk_create(
        User(username=u, password=unusable, display_name=f"咨询师{u[-2:]}")
        for u in names
        if u not in have
    )
    ids = list(
        User.objects.filter(username__in=names).order_by("username").values_list("id", flat=True)
    )
    members = set(
        Membership.objects.filter(user_id__in=ids, organisation=org).values_list(
            "user_id", flat=True
        )
    )
    Membership.objects.bulk_create(
        Membership(user_id=pk, organisation=org, role=Role.COUNSELOR)
        for pk in ids
        if pk not in members
    )
    return ids


def ensure_project(who: Personas, today: dt.date, args: argparse.Namespace) -> Project:
    project = Project.objects.filter(name=PROJECT_NAME).first()
    if project is not None:
        return project
    starts = today - dt.timedelta(days=364)
    project = Project.objects.create(
        name=PROJECT_NAME,
        funder=who.funder,
        implementer=who.implementer,
        starts_on=starts,
        ends_on=today + dt.timedelta(days=60),
        target_groups=TARGET_GROUPS,
        budget=2_400_000,
        created_at=start_of_day(starts) - dt.timedelta(days=20),
        created_by=who.official,
    )
    project.places.set([Place.objects.get(pk=f"{HOME_COUNTY}000000")])
    targets = {
        Measure.PERSON_TIMES: args.attendances,
        Measure.COVERAGE: 60,
        Measure.COUNSELLING: args.counselling,
        Measure.CHILD_ACTIVITIES: 9_000,
        Measure.CAREGIVER_EVENTS: 500,
        Measure.MATERIALS: 20_000,
    }
    Target.objects.bulk_create(
        Target(project=project, measure=m, value=v) for m, v in targets.items()
    )
    return project


def participants(n: int, today: dt.date) -> list[tuple[int, str, int]]:
    """(child id, village, household) of `n` children of the county under 18, 70 % from the
    target groups, chosen by a hash of their id."""
    low, high = code_range(HOME_COUNTY)
    in_group = " OR ".join(f"cat_{g}" for g in TARGET_GROUPS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, residence_id, household_id, ({in_group}) FROM children_child "
            "WHERE residence_id BETWEEN %s AND %s AND birth_date > %s "
            "ORDER BY hashint8(id * 7 + 1), id",
            [low, high, today.replace(year=today.year - 18)],
        )
        rows = cursor.fetchall()
    want = round(n * TARGET_SHARE)
    group = [r[:3] for r in rows if r[3]][:want]
    others = [r[:3] for r in rows if not r[3]][: n - len(group)]
    return group + others


def _weekly(first: dt.datetime, until: dt.datetime, step: int) -> list[dt.datetime]:
    out = []
    at = first
    while at < until:
        out.append(at)
        at += dt.timedelta(days=step)
    return out


@dataclass
class Plan:
    programme: Programme
    sessions: list[ProgrammeSession]
    kind: str  # "child", "member" (a caregiver course) or "none" (publicity)
    people: list[int]


class ProgrammeMaker:
    """Plans the programmes, their sessions and enrolments, and writes them at once."""

    def __init__(
        self,
        rng: random.Random,
        project: Project,
        who: Personas,
        today: dt.date,
        attendances: int,
    ) -> None:
        self.rng, self.project, self.who, self.today = rng, project, who, today
        self.attendances = attendances
        self.now = clock.now()
        self.yesterday_end = start_of_day(today)
        self.activities = list(Design.objects.filter(organisation=None, kind=Kind.GROUP_ACTIVITY))
        self.courses = list(Design.objects.filter(organisation=None, kind=Kind.CAREGIVER_COURSE))
        self.publicity, _ = Design.objects.get_or_create(
            organisation=who.implementer,
            kind=Kind.PUBLICITY,
            name=PUBLICITY_DESIGN,
            defaults={"content": "发放《未成年人保护法》宣传册，张贴海报"},
        )

    def _programme(self, design: Design, title: str, starts: dt.date) -> Programme:
        return Programme(
            project=self.project,
            design=design,
            organisation=self.who.implementer,
            title=title,
            starts_on=starts,
            ends_on=self.project.ends_on,
            residence=self.who.implementer.jurisdiction_id,
            created_at=start_of_day(starts) - dt.timedelta(days=7),
            created_by=self.who.organiser,
        )

    def _sessions(
        self, programme: Programme, village: str, hour: int, step: int, minutes: int
    ) -> list[ProgrammeSession]:
        rng = self.rng
        first = start_of_day(programme.starts_on) + dt.timedelta(hours=hour)
        rows = []
        for at in _weekly(first, self.yesterday_end, step):
            cancelled = rng.random() < CANCELLED_SHARE
            rows.append(
                ProgrammeSession(
                    programme=programme,
                    starts_at=at,
                    minutes=minutes,
                    place_id=village,
                    venue="村儿童之家" if step == 7 else "村委会会议室",
                    status=SessionStatus.CANCELLED if cancelled else SessionStatus.HELD,
                    cancel_reason=rng.choice(CANCEL_REASONS) if cancelled else "",
                    residence=programme.residence,
                )
            )
        nxt = rows[-1].starts_at + dt.timedelta(days=step) if rows else first
        rows.append(
            ProgrammeSession(
                programme=programme,
                starts_at=nxt,
                minutes=minutes,
                place_id=village,
                venue=rows[-1].venue if rows else "",
                residence=programme.residence,
            )
        )
        return rows

    def write(self, pool: list[tuple[int, str, int]], count: int, roll_call: int) -> dict[str, int]:
        """`count` programmes over the participants in `pool`, and the roll-call programme."""
        rng = self.rng
        by_township: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
        for row in pool:
            by_township[row[1][:9]].append(row)
        townships = sorted(by_township, key=lambda t: (-len(by_township[t]), t))
        courses = round(count * CAREGIVER_SHARE)
        activities = count - courses - PUBLICITY_PROGRAMMES
        # Programmes per township in proportion to its participants (at least one each).
        share = {t: max(1, round(activities * len(by_township[t]) / len(pool))) for t in townships}
        while sum(share.values()) > activities:
            share[max(share, key=lambda t: share[t])] -= 1
        while sum(share.values()) < activities:
            share[townships[0]] += 1
        plans: list[Plan] = []
        starts_by = self.project.starts_on
        for township in townships:
            kids = by_township[township]
            rng.shuffle(kids)
            villages: dict[str, int] = defaultdict(int)
            for r in kids:
                villages[r[1]] += 1
            village = max(villages, key=lambda v: (villages[v], v))
            n = share[township]
            for i in range(n):
                design = self.activities[(len(plans) + i) % len(self.activities)]
                programme = self._programme(
                    design,
                    f"{design.name}（{township[6:9]}-{i + 1}期）",
                    starts_by + dt.timedelta(days=rng.randint(0, 42)),
                )
                sessions = self._sessions(programme, village, rng.choice([15, 16]), 7, 90)
                # Each participant of the township in one of its programmes first.
                plans.append(Plan(programme, sessions, "child", [r[0] for r in kids[i::n]]))
        # Sizes: the roll calls of the activities' held sessions make ~98 % of the rows.
        held = sum(s.status == SessionStatus.HELD for p in plans for s in p.sessions)
        mean = self.attendances * 0.98 / max(held, 1)
        for plan in plans:
            size = max(20, round(mean * rng.uniform(0.6, 1.4)))
            township_ids = [r[0] for r in by_township[str(plan.sessions[0].place_id)[:9]]]
            have = set(plan.people)
            extra = [
                c for c in rng.sample(township_ids, min(len(township_ids), size)) if c not in have
            ]
            plan.people.extend(extra[: max(0, size - len(plan.people))])
        # Caregiver courses: a grandparent at home from each participant's household.
        carers = dict(
            FamilyMember.objects.filter(household_id__in=[r[2] for r in pool], away=False)
            .exclude(relation__in=["father", "mother"])
            .exclude(capacity__in=["deceased", "missing", "imprisoned", "rehab"])
            .order_by("household_id", "-id")
            .values_list("household_id", "id")
        )
        carer_ids = sorted(set(carers.values()))
        rng.shuffle(carer_ids)
        for i in range(courses):
            design = self.courses[i % len(self.courses)]
            programme = self._programme(
                design,
                f"{design.name}（家长课堂{i + 1}期）",
                starts_by + dt.timedelta(days=rng.randint(0, 60)),
            )
            village = by_township[townships[i % len(townships)]][0][1]
            sessions = self._sessions(programme, village, 19, 14, 120)
            people = carer_ids[i * 60 : i * 60 + rng.randint(30, 60)]
            plans.append(Plan(programme, sessions, "member", people))
        for i in range(PUBLICITY_PROGRAMMES):
            programme = self._programme(
                self.publicity, f"{PUBLICITY_DESIGN}（第{i + 1}轮）", starts_by
            )
            village = by_township[townships[i % len(townships)]][0][1]
            sessions = self._sessions(programme, village, 9, 28, 120)
            for s in sessions:
                s.quantity = rng.randint(100, 500)
            plans.append(Plan(programme, sessions, "none", []))
        # The roll-call programme: `roll_call` children of the largest township, four weekly
        # sessions held, the last one the day before.
        programme = self._programme(
            self.activities[0], ROLL_CALL_TITLE, self.today - dt.timedelta(days=35)
        )
        village = by_township[townships[0]][0][1]
        last = start_of_day(self.today - dt.timedelta(days=1)) + dt.timedelta(hours=15)
        sessions = [
            ProgrammeSession(
                programme=programme,
                starts_at=last - dt.timedelta(weeks=w),
                minutes=90,
                place_id=village,
                venue="村儿童之家",
                status=SessionStatus.HELD,
                residence=programme.residence,
            )
            for w in (3, 2, 1, 0)
        ]
        chosen = [r[0] for r in by_township[townships[0]][:roll_call]]
        plans.append(Plan(programme, sessions, "child", chosen))
        return self._save(plans)

    def _save(self, plans: list[Plan]) -> dict[str, int]:
        with transaction.atomic():
            Programme.objects.bulk_create([p.programme for p in plans], batch_size=BATCH)
            sessions = []
            enrolments = []
            for plan in plans:
                for s in plan.sessions:
                    s.programme = plan.programme
                sessions += plan.sessions
                at = start_of_day(plan.programme.starts_on) - dt.timedelta(days=3)
                enrolments += [
                    Enrolment(
                        programme=plan.programme,
                        child_id=pk if plan.kind == "child" else None,
                        member_id=pk if plan.kind == "member" else None,
                        enrolled_at=at,
                        enrolled_by=self.who.organiser,
                    )
                    for pk in plan.people
                ]
            ProgrammeSession.objects.bulk_create(sessions, batch_size=BATCH)
            Enrolment.objects.bulk_create(enrolments, batch_size=BATCH)
        return {"programmes": len(plans), "sessions": len(sessions), "enrolments": len(enrolments)}


def ensure_programmes(
    project: Project, who: Personas, args: argparse.Namespace, today: dt.date
) -> dict[str, int]:
    if Programme.objects.filter(project=project).exists():
        return {}
    pool = participants(args.participants, today)
    print(f"planning {args.programmes} programmes over {len(pool):,} participants...", flush=True)
    maker = ProgrammeMaker(random.Random(args.seed), project, who, today, args.attendances)
    return maker.write(pool, args.programmes, args.roll_call)


def ensure_attendance(project: Project, recorder: int) -> int:
    """The roll call of every session held that has none: every enrolled participant,
    attending at a rate of 70-90 % (by a hash of the enrolment), a tenth of those late, the
    others absent (65 %) or excused."""
    h = "(hashint8({})::bigint + 2147483648)"
    rate = f"(700 + {h.format('e.id * 7 + 3')} %% 200)"
    roll = f"{h.format('s.id * 1000003 + e.id')} %% 1000"
    other = f"{h.format('s.id * 31 + e.id * 17 + 5')} %% 100"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO programmes_attendance "
            "(session_id, enrolment_id, status, recorded_at, recorded_by_id) "
            f"SELECT s.id, e.id, CASE WHEN {roll} < {rate} "
            f"  THEN CASE WHEN {other} < 10 THEN 'late' ELSE 'present' END "
            f"  ELSE CASE WHEN {other} < 65 THEN 'absent' ELSE 'excused' END END, "
            "  s.starts_at + make_interval(mins => s.minutes), %s "
            "FROM programmes_programmesession s "
            "JOIN programmes_programme p ON p.id = s.programme_id "
            "JOIN programmes_enrolment e ON e.programme_id = s.programme_id "
            "WHERE p.project_id = %s AND s.status = 'held' AND e.status = 'enrolled' "
            "AND NOT EXISTS (SELECT 1 FROM programmes_attendance a WHERE a.session_id = s.id)",
            [recorder, project.pk],
        )
        return int(cursor.rowcount)


def ensure_counselling(
    project: Project, target: int, counsellors: list[int], seed: int, today: dt.date
) -> int:
    """Top the project's counselling up to `target` sessions: 5,000 children (4,000 of them
    participants, the target group first), a few seen much more often."""
    have = Counselling.objects.filter(project=project).count()
    missing = target - have
    if missing <= 0:
        return 0
    rng = random.Random(seed * 7919 + have)
    enrolled = list(
        Enrolment.objects.filter(programme__project=project, child__isnull=False)
        .values_list("child_id", "child__residence_id")
        .distinct()
        .order_by("child_id")
    )
    rng.shuffle(enrolled)
    low, high = code_range(HOME_COUNTY)
    taken = {c for c, _ in enrolled}
    others = [
        r
        for r in Child.objects.filter(residence_id__gte=low, residence_id__lte=high)
        .order_by("-id")
        .values_list("id", "residence_id")[: COUNSELLED * 2]
        if r[0] not in taken
    ][: COUNSELLED // 5]
    children = enrolled[: COUNSELLED - len(others)] + others
    weights = [1 / (rank + 50) for rank in range(len(children))]
    first = project.starts_on
    span = (min(today - dt.timedelta(days=1), project.ends_on) - first).days
    modes = [Mode.IN_PERSON] * 6 + [Mode.PHONE] * 3 + [Mode.VIDEO]
    concerns = list(Concern.values)
    created = clock.now()
    print(f"writing {missing:,} counselling sessions...", flush=True)
    for done in range(0, missing, BATCH):
        n = min(BATCH, missing - done)
        rows = []
        for (child_id, residence), counsellor in zip(
            rng.choices(children, weights=weights, k=n), rng.choices(counsellors, k=n), strict=True
        ):
            rows.append(
                Counselling(
                    child_id=child_id,
                    counsellor_id=counsellor,
                    project=project,
                    held_on=first + dt.timedelta(days=rng.randint(0, span)),
                    minutes=rng.choice([30, 45, 50, 60]),
                    mode=rng.choice(modes),
                    concern=rng.choice(concerns),
                    next_step="两周后复谈",
                    residence=residence,
                    created_at=created,
                )
            )
        Counselling.objects.bulk_create(rows, batch_size=BATCH)
    return missing


def ensure_data(who: Personas, args: argparse.Namespace) -> tuple[Project, dict[str, Any]]:
    today = clock.today()
    report: dict[str, Any] = {}
    counsellors = ensure_counsellors(who.implementer)
    project = ensure_project(who, today, args)
    started = time.perf_counter()
    report["programmes_added"] = ensure_programmes(project, who, args, today)
    report["attendances_added"] = ensure_attendance(project, who.organiser.pk)
    report["attendance_seconds"] = round(time.perf_counter() - started, 1)
    print(
        f"programmes: {report['programmes_added'] or 'none added'}, attendances added: "
        f"{report['attendances_added']:,} in {report['attendance_seconds']} s",
        flush=True,
    )
    started = time.perf_counter()
    report["counselling_added"] = ensure_counselling(
        project, args.counselling, counsellors, args.seed, today
    )
    report["counselling_seconds"] = round(time.perf_counter() - started, 1)
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    # The bulk writes bypass the services that keep the pre-aggregate: rebuild it (timed).
    started = time.perf_counter()
    report["served_rows"] = served.rebuild(project.pk)
    report["rebuild_seconds"] = round(time.perf_counter() - started, 2)
    print(
        f"served.rebuild: {report['served_rows']:,} rows in {report['rebuild_seconds']} s",
        flush=True,
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    report["vacuum_seconds"] = round(time.perf_counter() - started, 1)
    return project, report


def counts(project: Project) -> dict[str, Any]:
    attendances = Attendance.objects.filter(session__programme__project=project)
    sessions = ProgrammeSession.objects.filter(programme__project=project)
    served_rows = Served.objects.filter(project=project)
    return {
        "children": Child.objects.count(),
        "programmes": Programme.objects.filter(project=project).count(),
        "sessions": sessions.count(),
        "sessions_held": sessions.filter(status=SessionStatus.HELD).count(),
        "enrolments": Enrolment.objects.filter(programme__project=project).count(),
        "children_enrolled": Enrolment.objects.filter(
            programme__project=project, child__isnull=False
        )
        .values("child")
        .distinct()
        .count(),
        "attendances": attendances.count(),
        "attendances_by_status": dict(
            attendances.values_list("status").annotate(n=Count("pk")).order_by("status")
        ),
        "attendances_all_projects": Attendance.objects.count(),
        "counselling": Counselling.objects.filter(project=project).count(),
        "counselling_all": Counselling.objects.count(),
        "served_rows": served_rows.count(),
        "served_rows_all_projects": Served.objects.count(),
        "served_months": served_rows.values("month").distinct().count(),
        "person_times": served_rows.aggregate(n=Sum("attended") + Sum("counselled"))["n"],
    }


# ---------------------------------------------------------------- the cases


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get_ok(client: Client, url: str, **headers: str) -> None:
    response = client.get(url, **headers)  # type: ignore[arg-type]
    assert response.status_code == 200, (url, response.status_code)


def pick_marks(rng: random.Random, n: int) -> list[str]:
    return [str(v) for v in rng.choices([m for m, _ in MARKS], weights=[w for _, w in MARKS], k=n)]


@dataclass
class RollCallCase:
    session: ProgrammeSession
    enrolments: list[int]
    page: Client
    api: Client
    token: str
    rng: random.Random

    def post_page(self) -> None:
        data = {
            f"p-{pk}": s
            for pk, s in zip(
                self.enrolments, pick_marks(self.rng, len(self.enrolments)), strict=True
            )
        }
        url = f"/programmes/sessions/{self.session.pk}/roll-call/"
        response = self.page.post(url, data)
        assert response.status_code == 302, (url, response.status_code, response.content[:2000])

    def post_api(self) -> None:
        rows = [
            {"participant": pk, "status": s}
            for pk, s in zip(
                self.enrolments, pick_marks(self.rng, len(self.enrolments)), strict=True
            )
        ]
        url = f"/api/v1/sessions/{self.session.pk}/attendance"
        response = self.api.post(
            url,
            {"rows": rows},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )
        assert response.status_code == 200, (url, response.status_code, response.content[:2000])


def roll_call_case(project: Project, who: Personas, seed: int) -> RollCallCase:
    programme = Programme.objects.get(project=project, title=ROLL_CALL_TITLE)
    session = (
        ProgrammeSession.objects.filter(programme=programme, status=SessionStatus.HELD)
        .order_by("-starts_at")
        .first()
    )
    assert session is not None
    enrolments = list(
        Enrolment.objects.filter(programme=programme).order_by("pk").values_list("pk", flat=True)
    )
    token, _row = tokens.token_issue(user=who.organiser)
    return RollCallCase(
        session, enrolments, login(who.organiser), Client(), token, random.Random(seed)
    )


def last_full_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def build_cases(
    project: Project, who: Personas, roll: RollCallCase, today: dt.date
) -> dict[str, tuple[Callable[[], object], str]]:
    """The timed calls by name, each with its target group ("roll call" or "figures")."""
    calls: dict[str, tuple[Callable[[], object], str]] = {
        f"page: POST roll call of {len(roll.enrolments)} (socialworker1)": (
            roll.post_page,
            "roll call",
        ),
        f"api: POST /sessions/{{id}}/attendance, {len(roll.enrolments)} rows": (
            roll.post_api,
            "roll call",
        ),
        "selector: figures (whole project)": (partial(selectors.figures, project), "figures"),
        "selector: progress (whole project)": (partial(selectors.progress, project), "figures"),
    }
    for by in selectors.BREAKDOWNS:
        calls[f"selector: breakdown by {by}"] = (
            partial(selectors.breakdown, project, by),  # type: ignore[arg-type]
            "figures",
        )
    month = last_full_month(today)
    calls[f"selector: figures ({month:%Y-%m} only)"] = (
        partial(selectors.figures, project, month, month),
        "figures",
    )
    calls[f"selector: monthly report ({month:%Y-%m})"] = (
        partial(report.monthly, project, month),
        "figures",
    )
    page = login(who.official)
    calls[f"page: GET monthly report {month:%Y-%m} (official1)"] = (
        partial(get_ok, page, f"/programmes/projects/{project.pk}/report/?month={month:%Y-%m}"),
        "figures",
    )
    calls[f"page: GET monthly report {month:%Y-%m} as xlsx (official1)"] = (
        partial(get_ok, page, f"/programmes/projects/{project.pk}/report.xlsx?month={month:%Y-%m}"),
        "figures",
    )
    calls["page: GET project page (official1)"] = (
        partial(get_ok, page, f"/programmes/projects/{project.pk}/"),
        "figures",
    )
    token, _row = tokens.token_issue(user=who.official)
    calls["api: GET /projects/{id}/progress (official1)"] = (
        partial(
            get_ok,
            Client(),
            f"/api/v1/projects/{project.pk}/progress",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ),
        "figures",
    )
    return calls


def queries_of(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database", default=DEFAULT_DATABASE, help="PostgreSQL URL; created and migrated"
    )
    parser.add_argument("--children", type=int, default=100_000, help="top up to this many")
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--programmes", type=int, default=200)
    parser.add_argument("--attendances", type=int, default=1_000_000, help="about this many")
    parser.add_argument("--counselling", type=int, default=100_000)
    parser.add_argument("--roll-call", type=int, default=60, help="participants of the roll call")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--budget", type=float, default=300.0, help="figures' p95 target, ms")
    parser.add_argument(
        "--budget-roll-call", type=float, default=100.0, help="roll call's p95 target, ms"
    )
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-explain", action="store_true", help="skip EXPLAIN of slow cases")
    parser.add_argument("--only", help="time only the cases whose name contains this")
    args = parser.parse_args()
    results: dict[str, Any] = {"load_before": load(), "started": clock.now().isoformat()}
    print(f"load average before: {results['load_before']}", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    seconds = top_up(args.children)
    who = personas()
    project, generation = ensure_data(who, args)
    if seconds:
        generation["children_seconds"] = round(seconds, 1)
    results["vendor"] = connection.vendor
    results["project"] = project.pk
    results["generation"] = generation
    results["counts"] = counts(project)
    for name, value in results["counts"].items():
        print(f"{name:30s} {value:,}" if isinstance(value, int) else f"{name:30s} {value}")
    results["load_after_generation"] = load()

    # No `setup_test_environment` (the test client's host is allowed above): its template
    # instrumentation keeps every response's context alive, so the collector's full passes
    # grow slower as a run goes on and the cases timed last look slow; a production process
    # has none of it.
    # As the WSGI entry point does after start-up (`shouhu/wsgi.py`): what is loaded so far is
    # kept out of the garbage collector's generations (as bench/cases.py does).
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - every view imported, as shouhu/wsgi.py does
    gc.collect()
    gc.freeze()
    # The personas' sessions must outlive the whole run (the idle timeout is 30 minutes).
    settings.SESSION_COOKIE_AGE = 7 * 24 * 3600
    today = clock.today()
    roll = roll_call_case(project, who, args.seed)
    results["roll_call"] = {
        "session": roll.session.pk,
        "participants": len(roll.enrolments),
        "queries_page": queries_of(roll.post_page),
        "queries_api": queries_of(roll.post_api),
    }
    print(
        f"roll call of {len(roll.enrolments)}: {results['roll_call']['queries_page']} queries "
        f"(page), {results['roll_call']['queries_api']} (API)",
        flush=True,
    )
    calls = build_cases(project, who, roll, today)
    if args.only:
        calls = {k: v for k, v in calls.items() if args.only in k}
    budgets = {"roll call": args.budget_roll_call, "figures": args.budget}
    timings: dict[str, dict[str, Any]] = {}
    for name, (call, group) in calls.items():
        timed_calls(call, args.runs)  # warm caches
        stats: dict[str, Any] = dict(timed_calls(call, args.runs))
        stats["budget"] = budgets[group]
        stats["load"] = load()
        timings[name] = stats
        flag = "  OVER" if stats["p95"] > budgets[group] else ""
        print(
            f"{name:58s} p50 {stats['p50']:8.2f}  p95 {stats['p95']:8.2f}  "
            f"max {stats['max']:8.2f} ms  (load {stats['load']}){flag}",
            flush=True,
        )
    results["timings"] = timings
    results["load_after"] = load()
    print(f"load average after: {results['load_after']}", flush=True)

    if not args.no_explain and connection.vendor == "postgresql":
        slow: dict[str, list[dict[str, Any]]] = {}
        for name, stats in timings.items():
            if stats["p95"] <= stats["budget"]:
                continue
            slow[name] = explain(calls[name][0])
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
