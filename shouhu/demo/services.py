"""The demo county: organisations for every role, named demo users, ~5,000 children of
金寨县's real villages with parents working in real cities, and migrant children in 深圳宝安区.

Idempotent: organisations and users are found or created by name, generated children are
skipped by the registry's own duplicate rule, assignments and consents are added once.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Count

from shouhu.accounts.models import Membership, Organisation, OrgKind, Role, User
from shouhu.children import bulk
from shouhu.children.models import (
    PARENTS,
    Basis,
    Capacity,
    Child,
    ChildAssignment,
    Consent,
    ConsentScope,
    FamilyMember,
    ProcessingBasis,
    Purpose,
)
from shouhu.demo.generator import DESTINATION, HOME_COUNTY, Area, Generator, Village
from shouhu.lib import clock, dates
from shouhu.places.models import Level, Place, code_range
from shouhu.places.services import places_load_vendored

DEMO_PASSWORD = "shouhu-demo"  # noqa: S105 - published demo credentials, refused in production
DEMO_USERNAMES = (
    "director1",
    "director2",
    "director3",
    "supervisor1",
    "official1",
    "official2",
    "teacher1",
    "socialworker1",
    "socialworker2",
    "counselor1",
    "volunteer1",
    "volunteer2",
    "techenvoy1",
    "admin1",
)
# Generated facts are anchored to a fixed day, so that re-running on another day generates
# the same people (and creates no duplicates); categories are derived as of today.
ANCHOR = dt.date(2026, 9, 1)
BATCH = 5000
CONSENT_VERSION = "2026-01"
CASE_WORK_DUTY = "《未成年人保护法》第八十一条、第九十二条：民政部门委托的个案帮扶"


@dataclass
class LoadResult:
    created: int
    skipped: int
    seconds: float


def demo_logins_present() -> list[str]:
    """Demo personas that still log in with the published password: a production server
    refuses to start while there are any (`refuse_demo_data`)."""
    return [
        user.username
        for user in User.objects.filter(username__in=DEMO_USERNAMES, is_active=True)
        if user.check_password(DEMO_PASSWORD)
    ]


def refuse_demo_data() -> None:
    from django.core.exceptions import ImproperlyConfigured

    found = demo_logins_present()
    if found:
        raise ImproperlyConfigured(
            "The database holds the demo data (logins with the published demo password: "
            f"{', '.join(found)}). Production refuses to start on it."
        )


def _org(name: str, kind: str, place: str) -> Organisation:
    org, _ = Organisation.objects.get_or_create(
        name=name, defaults={"kind": kind, "jurisdiction_id": place}
    )
    return org


def _user(username: str, display: str, org: Organisation | None, role: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username=username, password=DEMO_PASSWORD, display_name=display
        )
    # A persona keeps the place it was first given, even if a later load would choose another.
    if org is not None and not user.memberships.exists():
        Membership.objects.create(user=user, organisation=org, role=role)
    return user


def _villages(prefix: str) -> list[Place]:
    low, high = code_range(prefix)
    return list(
        Place.objects.filter(code__gte=low, code__lte=high, level=Level.VILLAGE)
        .select_related("parent")
        .order_by("code")
    )


def _townships(prefix: str) -> list[Place]:
    low, high = code_range(prefix)
    return list(
        Place.objects.filter(code__gte=low, code__lte=high, level=Level.TOWNSHIP).order_by("code")
    )


def _county_names(code: str) -> tuple[str, str]:
    """(宝安区, 深圳市宝安区): a county's name, and with its city's for a city district."""
    county = Place.objects.select_related("parent").get(code=f"{code}000000")
    if county.name.endswith("区") and county.parent is not None:
        return county.name, county.parent.name + county.name
    return county.name, county.name


def build_organisations(
    home: str = HOME_COUNTY, dest: str = DESTINATION
) -> dict[str, Organisation]:
    """Organisations for every role in the home county, and the destination's civil-affairs
    bureau and social-work centre; a government, a primary and a middle school per township.
    Found by name, so loading again creates none."""
    county, city = f"{home}000000", f"{dest}000000"
    _, name = _county_names(home)
    dest_short, dest_name = _county_names(dest)
    o = {
        "bureau": _org(f"{name}民政局", OrgKind.CIVIL_AFFAIRS, county),
        "swo": _org(f"{name}阳光社会工作服务中心", OrgKind.SOCIAL_WORK, county),
        "women": _org(f"{name}妇女联合会", OrgKind.WOMENS_FEDERATION, county),
        "hospital": _org(f"{name}人民医院心理门诊", OrgKind.HOSPITAL, county),
        "police": _org(f"{name}公安局", OrgKind.POLICE, county),
        "ngo": _org(f"{name}青年志愿者协会", OrgKind.NGO, county),
        "company": _org(f"{name}科技特派员工作站", OrgKind.COMPANY, county),
        "county_high": _org(f"{name}第一中学", OrgKind.SCHOOL, county),
        "dest_bureau": _org(f"{dest_name}民政局", OrgKind.CIVIL_AFFAIRS, city),
        "dest_swo": _org(f"{dest_short}新市民社会工作服务中心", OrgKind.SOCIAL_WORK, city),
    }
    for township in _townships(home) + _townships(dest):
        short = township.name
        gov = f"{short}办事处" if short.endswith("街道") else f"{short}人民政府"
        o[f"gov:{township.code}"] = _org(gov, OrgKind.TOWNSHIP_GOVERNMENT, township.code)
        o[f"primary:{township.code}"] = _org(f"{short}中心小学", OrgKind.SCHOOL, township.code)
        o[f"middle:{township.code}"] = _org(f"{short}初级中学", OrgKind.SCHOOL, township.code)
    return o


def area(prefix: str, orgs: dict[str, Organisation], **kw: object) -> Area:
    villages = [Village(v.code, v.parent_id or "") for v in _villages(prefix)]
    schools = {
        t.code: (orgs[f"primary:{t.code}"].pk, orgs[f"middle:{t.code}"].pk)
        for t in _townships(prefix)
    }
    return Area(villages=villages, schools=schools, **kw)  # type: ignore[arg-type]


def ensure_places() -> None:
    if not Place.objects.filter(code__startswith=HOME_COUNTY, level=Level.VILLAGE).exists():
        places_load_vendored()


def generate(
    *,
    children: int,
    seed: int,
    area: Area,
    batch: int = BATCH,
    history: bool = True,
    id_seed: int | None = None,
) -> tuple[int, int]:
    """Register `children` generated children in batches (each all-or-nothing).

    `id_seed` chooses where ID sequence numbers start (default: `seed`); generated sets with
    different starts rarely share an ID number, so they add children instead of skipping."""
    gen = Generator(seed, ANCHOR, id_seed=id_seed)
    created = skipped = 0
    rows: list[bulk.RegistrationRow] = []

    def flush() -> None:
        nonlocal created, skipped
        with transaction.atomic():
            result = bulk.bulk_register(
                actor=None, rows=rows, check_access=False, history=history, assess_risk=False
            )
        bulk.raise_for(result)
        created += result.created
        skipped += result.skipped
        rows.clear()

    last_ref = ""
    today = clock.today()
    for row in gen.rows(area, children):
        if dates.age_on(row.child.birth_date, today) >= 18:
            continue  # generated for the anchor day, grown up since
        # Keep a household's children in one batch.
        if len(rows) >= batch and row.household_ref != last_ref:
            flush()
        rows.append(row)
        last_ref = row.household_ref
    if rows:
        flush()
    return created, skipped


def _busiest_villages(prefix: str, n: int = 50) -> list[Place]:
    """The villages with the most registered children, busiest first (ties by code)."""
    low, high = code_range(prefix)
    codes = list(
        Child.objects.filter(residence__gte=low, residence__lte=high)
        .values("residence")
        .annotate(n=Count("id"))
        .order_by("-n", "residence")
        .values_list("residence", flat=True)[:n]
    )
    if not codes:
        raise RuntimeError(f"no generated children in {prefix}")
    places = Place.objects.in_bulk(codes)
    return [places[c] for c in codes]


def committee_name(village: Place) -> str:
    """村民委员会 of a village; a 社区 already named by its committee keeps its name."""
    if village.name.endswith(("委员会", "居委会", "村委会")):
        return village.name
    suffix = "居民委员会" if village.name.endswith("社区") else "村民委员会"
    return village.name + suffix


def populate(
    *,
    children: int,
    seed: int,
    home: str = HOME_COUNTY,
    dest: str = DESTINATION,
    hukou_villages: int | None = None,
    id_seeds: tuple[int, int] | None = None,
    batch: int = BATCH,
    history: bool = True,
) -> tuple[int, int]:
    """Generate `children` children: eleven in twelve in the villages of `home`, the rest
    migrant children in `dest` whose hukou is in (the first `hukou_villages`) villages of
    `home`. Returns (created, already there)."""
    with transaction.atomic():
        orgs = build_organisations(home, dest)
    migrants = children // 12
    home_area = area(home, orgs)
    if not home_area.villages:
        raise ValueError(f"No villages of {home} are loaded.")
    hukou = [v.code for v in home_area.villages][:hukou_villages]
    dest_area = area(dest, orgs, migrant=True, hukou_villages=hukou)
    if migrants and not dest_area.villages:
        raise ValueError(f"No villages of {dest} are loaded.")
    home_ids, dest_ids = id_seeds or (None, None)
    made = generate(
        children=children - migrants,
        seed=seed,
        id_seed=home_ids,
        area=home_area,
        batch=batch,
        history=history,
    )
    if not migrants:
        return made
    more = generate(
        children=migrants,
        seed=seed + 1,
        id_seed=dest_ids,
        area=dest_area,
        batch=batch,
        history=history,
    )
    return made[0] + more[0], made[1] + more[1]


def demo_load(*, children: int = 5000, seed: int = 2026) -> LoadResult:
    if not settings.SHOUHU_DEMO:
        raise ImproperlyConfigured("The demo county is refused: SHOUHU_DEMO is off.")
    started = time.perf_counter()
    ensure_places()
    created, skipped = populate(children=children, seed=seed, hukou_villages=120)
    with transaction.atomic():
        _users_and_assignments(build_organisations())
    _screenings()
    from shouhu.screening import risk

    risk.recompute_all()
    _cases()
    _reunions()
    _programmes()
    _volunteers()
    _aid()
    _surrogates()
    from shouhu.demo.linkage import link_demo

    link_demo()
    return LoadResult(created, skipped, time.perf_counter() - started)


def _screenings() -> None:
    """Two rounds of GAD-7 for the children counselled in the demo (a trend to look at), the
    second with one worrying PHQ-A answer, so that the demo has an alert; once only."""

    from shouhu.screening import registry
    from shouhu.screening import services as screening
    from shouhu.screening.models import Administration

    if Administration.objects.exists():
        return
    counselor = User.objects.get(username="counselor1")
    kids = Child.objects.filter(
        assignments__user=counselor, assignments__kind="counselor", assignments__active=True
    ).order_by("id")
    rng = random.Random(2026)
    gad7 = registry.definition("gad7")
    phqa = registry.definition("phqa")
    alerted = False
    for child in kids:
        for days, worry in ((90, 1), (30, 2)):
            when = dates.start_of_day(ANCHOR - dt.timedelta(days=days)) + dt.timedelta(hours=10)
            age = dates.age_on(child.birth_date, when.date())
            if not gad7.ages[0] <= age <= gad7.ages[1]:
                continue
            answers = {i.id: min(3, rng.randint(0, worry)) for i in gad7.items}
            screening.administer(
                actor=counselor,
                child=child,
                instrument="gad7",
                answers=answers,
                administered_at=when,
            )
        age = dates.age_on(child.birth_date, ANCHOR)
        if not alerted and phqa.ages[0] <= age <= phqa.ages[1]:
            alerted = True
            answers = {i.id: 1 for i in phqa.items if i.scored}
            screening.administer(
                actor=counselor,
                child=child,
                instrument="phqa",
                answers=answers,
                administered_at=dates.start_of_day(ANCHOR) + dt.timedelta(hours=9),
            )


def ensure_personas() -> None:
    """The demo organisations, users and assignments over whatever children exist."""
    with transaction.atomic():
        _users_and_assignments(build_organisations())


def _users_and_assignments(orgs: dict[str, Organisation]) -> None:
    busiest = _busiest_villages(HOME_COUNTY)
    village1 = busiest[0]
    township1 = village1.parent_id or ""
    # director2 works in another township, so that two directors never share a supervisor.
    village2 = next((v for v in busiest if v.parent_id != township1), busiest[-1])
    dest_village = _busiest_villages(DESTINATION, 1)[0]

    def committee(v: Place) -> Organisation:
        return _org(committee_name(v), OrgKind.VILLAGE_COMMITTEE, v.code)

    _user("director1", "陈桂兰", committee(village1), Role.CHILD_DIRECTOR)
    _user("director2", "汪德明", committee(village2), Role.CHILD_DIRECTOR)
    _user("director3", "黄丽娟", committee(dest_village), Role.CHILD_DIRECTOR)
    _user("supervisor1", "余海燕", orgs[f"gov:{township1}"], Role.SUPERVISOR)
    _user("official1", "詹国强", orgs["bureau"], Role.OFFICIAL)
    _user("official2", "林晓", orgs["dest_bureau"], Role.OFFICIAL)
    teacher_school = orgs[f"primary:{township1}"]
    _user("teacher1", "周静", teacher_school, Role.TEACHER)
    socialworker = _user("socialworker1", "李思远", orgs["swo"], Role.SOCIAL_WORKER)
    counselor = _user("counselor1", "王心怡", orgs["hospital"], Role.COUNSELOR)
    volunteer = _user("volunteer1", "张晨", orgs["ngo"], Role.VOLUNTEER)
    _user("techenvoy1", "刘建华", orgs["company"], Role.TECH_ENVOY)  # tickets only, no child data
    socialworker2 = _user("socialworker2", "何敏", orgs["dest_swo"], Role.SOCIAL_WORKER)
    admin = _user("admin1", "系统管理员", None, Role.ADMIN)
    if not admin.is_superuser:
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])

    if ChildAssignment.objects.filter(organisation=orgs["swo"]).exists():
        return  # assignments and consents were made by an earlier load
    county = Child.objects.in_place(HOME_COUNTY)
    in_difficulty = county.filter(cat_de_facto_unsupported=True) | county.filter(cat_orphan=True)
    left_behind = county.filter(cat_left_behind_mca=True).order_by("id")
    migrants = Child.objects.in_place(DESTINATION).filter(cat_migrant=True).order_by("id")
    difficult = list(in_difficulty.order_by("id")[:25])
    counselled = list(left_behind[:15])
    dest_cases = list(migrants[:12])
    plan = [
        (socialworker, orgs["swo"], "case_worker", difficult),
        (counselor, orgs["hospital"], "counselor", counselled),
        (volunteer, orgs["ngo"], "volunteer", list(left_behind.filter(residence=village1)[:8])),
        (socialworker2, orgs["dest_swo"], "case_worker", dest_cases),
    ]
    start = ANCHOR - dt.timedelta(days=60)
    ChildAssignment.objects.bulk_create(
        ChildAssignment(child=c, organisation=org, user=u, kind=kind, started_on=start)
        for u, org, kind, kids in plan
        for c in kids
    )
    _consents_and_bases(
        registry=list(Child.objects.filter(residence=village1)),
        screening=counselled,
        case_work=difficult + dest_cases,
    )


def _guardian(child: Child) -> FamilyMember | None:
    guardians = [m for m in child.household.members.all() if m.is_guardian]
    able = [m for m in guardians if m.capacity == Capacity.ABLE]
    found = able or guardians
    return found[0] if found else None


def _consents_and_bases(
    *, registry: Sequence[Child], screening: Sequence[Child], case_work: Sequence[Child]
) -> None:
    """Guardians' consents and the legal basis of each purpose, as a village would keep them:
    registration and care by consent in director1's village, screening by consent for the
    children a counsellor sees, case work on the civil-affairs duty of the Minors Protection
    Law for the children with a case worker."""
    scopes: dict[int, set[str]] = {}
    for kids, scope in ((registry, ConsentScope.REGISTRY), (screening, ConsentScope.SCREENING)):
        for c in kids:
            scopes.setdefault(c.pk, {ConsentScope.REGISTRY}).add(scope)
    consents, bases = [], []
    for child in Child.objects.filter(pk__in=scopes).prefetch_related("household__members"):
        guardian = _guardian(child)
        if guardian is None:
            continue
        consents.append(
            Consent(
                child=child,
                given_by=guardian,
                given_on=ANCHOR - dt.timedelta(days=90),
                version=CONSENT_VERSION,
                scopes=sorted(scopes[child.pk]),
            )
        )
        bases += [
            ProcessingBasis(child=child, purpose=purpose, basis=Basis.CONSENT, recorded_on=ANCHOR)
            for purpose in sorted(scopes[child.pk])
        ]
    for child in case_work:
        bases.append(
            ProcessingBasis(
                child=child,
                purpose=Purpose.CASE_WORK,
                basis=Basis.STATUTORY_DUTY,
                note=CASE_WORK_DUTY,
                recorded_on=ANCHOR,
            )
        )
    Consent.objects.bulk_create(consents)
    ProcessingBasis.objects.bulk_create(bases, ignore_conflicts=True)


def _cases() -> None:
    """Open cases for the children the social workers serve, at different stages, with a
    plan and services for some, so the case pages and the coordination board have life in
    them; once only."""
    from shouhu.cases import delivery, intakes, plan, stages
    from shouhu.cases.models import Case

    if Case.objects.exists():
        return
    reasons = [
        "父母长期在外务工，奶奶年迈多病，孩子情绪低落",
        "学校反映孩子近两周多次旷课",
        "监护人无力照护，需要落实委托照护",
        "孩子和同学冲突频繁，需要社交支持",
    ]
    for username, count in (("socialworker1", 12), ("socialworker2", 6)):
        worker = User.objects.get(username=username)
        kids = Child.objects.filter(
            assignments__user=worker, assignments__kind="case_worker", assignments__active=True
        ).order_by("id")[:count]
        for index, child in enumerate(kids):
            case = intakes.case_open(
                actor=worker,
                child=child,
                channel=["service", "school_referral", "community_referral", "hotline"][index % 4],
                reason=reasons[index % len(reasons)],
                urgency=["normal", "high", "normal", "low"][index % 4],
                consent="guardian",
            )
            assert isinstance(case, Case)
            if index % 3 == 0:
                continue  # still at intake
            case = stages.transition(actor=worker, case=case, to="assessment", version=case.version)
            case = stages.transition(actor=worker, case=case, to="plan", version=case.version)
            goal = plan.goal_add(
                actor=worker,
                case=case,
                version=case.version,
                domain="family_bonds",
                description="每周与在外父母视频通话一次",
                strengths="孩子愿意表达，母亲愿意配合",
            )
            case.refresh_from_db()
            plan.action_add(
                actor=worker,
                goal=goal,
                version=case.version,
                description="学校安排亲情视频时间",
                owner="school",
                due_on=clock.today() + dt.timedelta(days=14),
            )
            case.refresh_from_db()
            delivery.service_record(
                actor=worker,
                case=case,
                service_type="family_education",
                delivered_on=clock.today(),
                minutes=60,
                participants=2,
            )


def _reunions() -> None:
    """A reunion room at teacher1's school with two tablets, teacher1 as facilitator, the
    school's left-behind pupils taking part, their parents' evening windows (some on shift
    work at weekends), and next week planned by the solver; once only."""
    from shouhu.reunion import planning, sites
    from shouhu.reunion.models import Site

    if Site.objects.exists():
        return
    teacher = User.objects.get(username="teacher1")
    school = teacher.memberships.get(role=Role.TEACHER).organisation
    weekdays = [{"day": d, "start": "16:00", "end": "18:30"} for d in range(1, 6)]
    weekend = [{"day": d, "start": "09:00", "end": "12:00"} for d in (6, 7)]
    site = sites.site_create(
        actor=teacher,
        organisation=school,
        name=f"{school.name}亲情聊天室",
        place=Place.objects.get(pk=school.jurisdiction_id),
        devices=2,
        openings=weekdays + weekend,
    )
    sites.facilitator_set(actor=teacher, site=site, user=teacher, available=weekdays + weekend)
    pupils = Child.objects.filter(school=school, cat_left_behind_mca=True).order_by("id")[:60]
    for index, child in enumerate(pupils):
        sites.participant_set(
            actor=teacher, child=child, sites=[site], priority=1 if index % 10 == 0 else 3
        )
        for member in FamilyMember.objects.filter(
            household_id=child.household_id, relation__in=PARENTS, away=True
        ):
            if hasattr(member, "reunion_availability"):
                continue
            evening = [{"day": d, "start": "17:30", "end": "21:00"} for d in range(1, 6)]
            shift = [{"day": d, "start": "09:00", "end": "11:00"} for d in (6, 7)]
            sites.parent_availability_set(
                actor=teacher,
                member=member,
                windows=shift if member.pk % 3 == 0 else evening,
                channel="wechat",
            )
    today = clock.today()
    planning.plan_week(
        actor=teacher,
        organisation=school,
        week_start=today + dt.timedelta(days=8 - today.isoweekday()),
    )


def _pre_post(director: User, group: Any, enrolled: list[Any], today: dt.date) -> None:
    """The strengths profile of each child of the first term, rated by the director at its
    start and again at its end: most gain a little, some stay, one loses ground and falls
    into the band that needs follow-up (raised as any screening raises it)."""
    from shouhu.screening import registry
    from shouhu.screening import services as screening

    strengths = registry.definition("strengths")
    items = [i for i in strengths.items if i.scored]
    pre = [20, 26, 22, 30, 18, 25, 28, 21, 24, 27, 23, 29]
    change = [6, 4, 0, -8, 7, 5, 3, 5, 0, 6, 4, 2]  # the fourth falls into "few strengths"

    def spread(total: int) -> list[int]:
        base, extra = divmod(total, len(items))
        return [min(3, base + (1 if k < extra else 0)) for k in range(len(items))]

    measured = [
        e.child
        for e in enrolled
        if e.child is not None
        and strengths.ages[0] <= dates.age_on(e.child.birth_date, today) <= strengths.ages[1]
    ]
    for n, child in enumerate(measured[: len(pre)]):
        before, after = spread(pre[n]), spread(pre[n] + change[n])
        for day, values in (
            (group.starts_on + dt.timedelta(days=3), before),
            (today - dt.timedelta(days=2), after),
        ):
            screening.administer(
                actor=director,
                child=child,
                instrument="strengths",
                answers={i.id: v for i, v in zip(items, values, strict=True)},
                administered_at=dates.start_of_day(day) + dt.timedelta(hours=16),
            )


def _programmes() -> None:
    """A project in the spirit of seed 003 (the civil-affairs bureau funds, director1's
    village committee runs it): a children's group activity with twelve weekly sessions held
    and roll calls taken (a few absences, one child three times in a row), a caregiver course
    with four sessions, one session still to come, counselling by counselor1, a milestone
    accepted by official1; once only."""
    from shouhu.programmes import attendance, catalogue, counselling, projects, running
    from shouhu.programmes.models import Design, Kind, Milestone, Project

    if Project.objects.exists():
        return
    catalogue.ensure_shipped()
    director = User.objects.get(username="director1")
    official = User.objects.get(username="official1")
    counsellor = User.objects.get(username="counselor1")
    committee = director.memberships.get(role=Role.CHILD_DIRECTOR).organisation
    bureau = official.memberships.get(role=Role.OFFICIAL).organisation
    village = committee.jurisdiction
    today = clock.today()
    now = clock.now()
    project = projects.project_create(
        actor=director,
        name="“做有能力的小公民”困境儿童心理援助项目",
        funder=bureau,
        implementer=committee,
        starts_on=today - dt.timedelta(days=90),
        ends_on=today + dt.timedelta(days=270),
        places=[village],
        target_groups=["left_behind_mca", "de_facto_unsupported", "orphan"],
        budget=None,
        targets={
            "person_times": Decimal(300),
            "coverage": Decimal(80),
            "counselling": Decimal(12),
            "child_activities": Decimal(8),
            "caregiver_events": Decimal(4),
        },
    )
    Milestone.objects.create(
        project=project,
        title="中期验收",
        due_on=today - dt.timedelta(days=20),
        accepted_on=today - dt.timedelta(days=18),
        accepted_by=official,
        note="活动记录齐全，签到表与照片可查",
    )
    Milestone.objects.create(project=project, title="结项验收", due_on=project.ends_on)
    activity = Design.objects.filter(organisation=None, kind=Kind.GROUP_ACTIVITY)[1]
    course = Design.objects.filter(organisation=None, kind=Kind.CAREGIVER_COURSE)[2]
    kids = list(  # school-age children (6 to 14), whom the strengths profile fits
        Child.objects.filter(
            residence=village,
            cat_left_behind_mca=True,
            birth_date__range=(dates.add_years(today, -15), dates.add_years(today, -6)),
        ).order_by("id")[:12]
    )
    group = running.programme_create(
        actor=director,
        organisation=committee,
        design=activity,
        title=f"{activity.name}（第一期）",
        starts_on=project.starts_on,
        ends_on=today - dt.timedelta(days=3),
        capacity=15,
        project=project,
        instrument="strengths",  # measured before and after: the outcome report
    )
    enrolled = [running.enrol(actor=director, programme=group, child=c) for c in kids]
    for week in range(12, 0, -1):  # three months of weekly sessions
        session = running.session_add(
            actor=director,
            programme=group,
            starts_at=dates.start_of_day(today - dt.timedelta(weeks=week)) + dt.timedelta(hours=15),
            minutes=90,
            venue="村儿童之家",
        )
        rows = []
        for i, e in enumerate(enrolled):
            status = "present"
            if i == 0 and week <= 3:
                status = "absent"  # three in a row: a task for the director
            elif (i + week) % 7 == 0:
                status = "excused"
            elif (i + week) % 5 == 0:
                status = "late"
            rows.append({"participant": e.pk, "status": status})
        attendance.roll_call(actor=director, session=session, rows=rows, now=now)
    _pre_post(director, group, enrolled, today)
    second = running.programme_create(
        actor=director,
        organisation=committee,
        design=activity,
        title=f"{activity.name}（第二期）",
        starts_on=today,
        ends_on=project.ends_on,
        capacity=15,
        project=project,
    )
    running.session_add(
        actor=director,
        programme=second,
        starts_at=dates.start_of_day(today + dt.timedelta(days=6)) + dt.timedelta(hours=15),
        minutes=90,
        venue="村儿童之家",
    )
    course_run = running.programme_create(
        actor=director,
        organisation=committee,
        design=course,
        title=course.name,
        starts_on=project.starts_on,
        ends_on=project.ends_on,
        project=project,
    )
    carers = {
        m.pk: m
        for c in kids[:8]
        for m in FamilyMember.objects.filter(household_id=c.household_id, away=False).exclude(
            relation__in=["father", "mother"]
        )[:1]
    }  # one per household: siblings share their grandmother
    enrolled_carers = [
        running.enrol(actor=director, programme=course_run, member=m) for m in carers.values()
    ]
    for week in (11, 7, 3, 1):
        session = running.session_add(
            actor=director,
            programme=course_run,
            starts_at=dates.start_of_day(today - dt.timedelta(weeks=week)) + dt.timedelta(hours=19),
            minutes=120,
            venue="村委会会议室",
        )
        attendance.roll_call(
            actor=director,
            session=session,
            rows=[
                {"participant": e.pk, "status": "present" if (i + week) % 4 else "absent"}
                for i, e in enumerate(enrolled_carers)
            ],
            now=now,
        )
    counselled = Child.objects.filter(
        assignments__user=counsellor, assignments__kind="counselor", assignments__active=True
    ).order_by("id")[:5]
    concerns = ["separation", "emotions", "school", "family", "peers"]
    for i, child in enumerate(counselled):
        counselling.counselling_record(
            actor=counsellor,
            child=child,
            held_on=today - dt.timedelta(days=15 * (i + 1)),
            minutes=50,
            mode=["in_person", "phone", "video"][i % 3],
            concern=concerns[i % len(concerns)],
            notes="孩子谈到想念外出打工的妈妈，约定下周继续。",
            next_step="两周后复谈",
            project=project,
            now=now,
        )


def _volunteers() -> None:
    """The social-work centre's volunteers at every stage, kept by socialworker1: volunteer1
    (张晨) cleared, with hours approved and pending and a certificate; applicants waiting for
    their checks, their training or their agreement; volunteer2 (周敏), whose inquiry into
    offence records expired yesterday, locked out of the child she was matched to by the
    daily job (socialworker1 is told); one suspended after supervision; one who left. Once
    only."""
    from shouhu.volunteers import hours as volunteer_hours
    from shouhu.volunteers import services as vs
    from shouhu.volunteers.models import Volunteer

    if Volunteer.objects.exists():
        return
    sw = User.objects.get(username="socialworker1")
    swo = sw.memberships.get(role=Role.SOCIAL_WORKER).organisation
    today = clock.today()
    ago = today - dt.timedelta(days=90)
    year = today + dt.timedelta(days=365)
    zhang = User.objects.get(username="volunteer1")
    zhou = _user("volunteer2", "周敏", swo, Role.VOLUNTEER)
    Membership.objects.get_or_create(user=zhang, organisation=swo, role=Role.VOLUNTEER)

    def register(name: str, sex: str, user: User | None = None) -> Volunteer:
        return vs.volunteer_register(
            actor=sw,
            organisation=swo,
            name=name,
            sex=sex,
            user=user,
            languages="普通话, 皖西方言",
            availability="周末",
            applied_on=ago,
        )

    def checked(v: Volunteer, until: dt.date = year) -> None:
        vs.check_record(actor=sw, volunteer=v, kind="identity", result="clear", checked_on=ago)
        vs.check_record(
            actor=sw,
            volunteer=v,
            kind="record_inquiry",
            result="clear",
            checked_on=ago,
            expires_on=until,
            reference="金公(刑)查字〔2026〕",
        )

    def trained(v: Volunteer) -> None:
        vs.training_record(
            actor=sw,
            volunteer=v,
            kind="safeguarding",
            title="儿童保护与志愿者行为守则",
            completed_on=ago + dt.timedelta(days=7),
            hours="3",
            trainer="李思远",
        )

    def signed(v: Volunteer) -> None:
        vs.agreement_sign(
            actor=sw,
            volunteer=v,
            version="2026-01",
            signed_on=ago + dt.timedelta(days=10),
            scope="留守儿童一对一陪伴、课业辅导、团体活动协助",
            confidentiality=True,
            expires_on=year,
        )

    def active(name: str, sex: str, user: User | None = None, until: dt.date = year) -> Volunteer:
        v = register(name, sex, user)
        checked(v, until)
        trained(v)
        signed(v)
        return vs.activate(actor=sw, volunteer=v)

    # 张晨: cleared; two weekends of tutoring approved, last Saturday's pending; a certificate.
    chen = active("张晨", "M", zhang)
    for weeks, status in ((3, True), (2, True), (1, None)):
        day = today - dt.timedelta(days=7 * weeks)
        start = dt.datetime.combine(day, dt.time(9), tzinfo=clock.SHANGHAI)
        entry = volunteer_hours.hours_record(
            actor=sw,
            volunteer=chen,
            activity="周末课业辅导（村儿童之家）",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            minutes=150,
        )
        if status:
            volunteer_hours.hours_decide(actor=sw, entry=entry)
    volunteer_hours.certificate_issue(
        actor=sw, volunteer=chen, period_from=today - dt.timedelta(days=30), period_to=today
    )
    vs.commendation_add(
        actor=sw, volunteer=chen, title="优秀志愿者", given_on=today, given_by=swo.name
    )
    vs.evaluation_add(actor=sw, volunteer=chen, evaluated_on=today, rating=5, note="耐心细致")
    vs.supervision_record(
        actor=sw, volunteer=chen, held_on=today, topics="陪伴进展；如何回应孩子想念父母"
    )
    # Applicants at each step.
    register("赵磊", "M")
    qian = register("钱芳", "F")
    vs.check_record(actor=sw, volunteer=qian, kind="identity", result="clear", checked_on=ago)
    vs.check_record(
        actor=sw, volunteer=qian, kind="record_inquiry", result="pending", checked_on=today
    )
    sun = register("孙悦", "F")
    checked(sun)
    li = register("李强", "M")
    checked(li)
    trained(li)
    # 周敏: matched to a child; her inquiry expired yesterday: the job locks her out.
    zhou_record = active("周敏", "F", zhou, until=today)
    from shouhu.children.models import Child, ChildAssignment

    child = Child.objects.in_place(HOME_COUNTY).filter(cat_left_behind_mca=True).first()
    if child is not None:
        ChildAssignment.objects.create(
            child=child, organisation=swo, user=zhou, kind="volunteer", started_on=ago
        )
    from shouhu.volunteers.models import Check

    Check.objects.filter(volunteer=zhou_record, kind="record_inquiry").update(
        expires_on=today - dt.timedelta(days=1)
    )
    vs.lapse(today)
    # 吴涛: suspended after a concern in supervision; 郑洁: left.
    wu = active("吴涛", "M")
    vs.supervision_record(
        actor=sw,
        volunteer=wu,
        held_on=today,
        topics="陪伴进展",
        concerns="私下加儿童微信并约单独见面，违反行为守则",
        suspend_now=True,
    )
    zheng = active("郑洁", "F")
    vs.exit_volunteer(actor=sw, volunteer=zheng, reason="外出务工")
    _matches(sw, chen, active("陈红", "F"))


def _matches(sw: User, chen: Any, chenhong: Any) -> None:
    """Matching for children the social-work centre serves: 张晨 matched to one with a
    guardian's consent; 陈红, who lives in director1's village, proposed for another,
    waiting for socialworker1's decision."""
    from shouhu import access
    from shouhu.children.models import FamilyMember
    from shouhu.volunteers import matching
    from shouhu.volunteers.models import Volunteer

    director = User.objects.get(username="director1")
    village = director.memberships.get(role=Role.CHILD_DIRECTOR).organisation.jurisdiction
    Volunteer.objects.filter(pk=chenhong.pk).update(home=village, availability="周六, 周日")
    Volunteer.objects.filter(pk=chen.pk).update(home=village.parent, availability="周六")
    served = access.children_visible_to(sw)
    children = list(served.order_by("-cat_left_behind_mca", "-id")[:2])
    if len(children) < 2:
        return
    first = matching.match_propose(
        actor=sw, volunteer=chen, child=children[0], purpose="每周六课业辅导与陪伴"
    )
    guardian = (
        FamilyMember.objects.filter(household=children[0].household, is_guardian=True)
        .order_by("id")
        .first()
    )
    if guardian is not None:
        matching.match_decide(
            actor=sw, match=first, approve=True, consent_by=guardian, consent_on=clock.today()
        )
    matching.match_propose(
        actor=sw, volunteer=chenhong, child=children[1], purpose="周末陪伴，每月一次家访同行"
    )


def _aid() -> None:
    """A 流动书桌-style scholarship round of the social-work centre: a company sponsor and
    its pledge, applications for five children of director1's village (four approved by
    socialworker1, one rejected), a first term paid for three and school supplies handed to
    one, a follow-up with an anonymised story for the sponsor. Once only."""
    from shouhu.aid import services as aid
    from shouhu.aid.models import Scheme

    if Scheme.objects.exists():
        return
    sw = User.objects.get(username="socialworker1")
    director = User.objects.get(username="director1")
    swo = sw.memberships.get(role=Role.SOCIAL_WORKER).organisation
    village = director.memberships.get(role=Role.CHILD_DIRECTOR).organisation.jurisdiction
    today = clock.today()
    sponsor = aid.sponsor_create(
        actor=sw, organisation=swo, kind="company", name="安徽某新能源有限公司", contact="公益部"
    )
    scheme = aid.scheme_create(
        actor=sw,
        organisation=swo,
        name="流动书桌助学金（2026 秋）",
        kind="education",
        amount="1200.00",
        starts_on=today - dt.timedelta(days=60),
        ends_on=today + dt.timedelta(days=300),
        criteria="留守儿童、困境儿童中的在读小学生，家庭经济困难",
    )
    aid.pledge_add(
        actor=sw,
        sponsor=sponsor,
        form="money",
        amount="6000.00",
        recurrence="once",
        pledged_on=today - dt.timedelta(days=50),
        scheme=scheme,
    )
    children = list(
        Child.objects.filter(residence=village, cat_left_behind_mca=True).order_by("id")[:5]
    )
    for i, child in enumerate(children):
        application = aid.application_submit(
            actor=director,
            scheme=scheme,
            child=child,
            reason="父母外出务工，祖辈抚养，学习用品和学杂费困难",
        )
        approve = i != 4
        application = aid.application_decide(
            actor=sw,
            application=application,
            approve=approve,
            note="符合条件，入户核实" if approve else "已获其他同类助学金，避免重复资助",
            amount="1200.00" if approve else None,
        )
        if i < 3:
            aid.disbursement_add(
                actor=sw,
                application=application,
                paid_on=today,
                method="school_fee",
                amount="600.00",
                receipt_ref=f"XZ-2026-{i + 1:03d}",
            )
        elif i == 3:
            aid.disbursement_add(
                actor=sw,
                application=application,
                paid_on=today,
                method="in_kind",
                items="书包、文具一套、台灯",
            )
        if i == 0:
            aid.followup_add(
                actor=sw,
                application=application,
                on=today,
                note="期中考试语文、数学成绩均有进步",
                story="一名四年级的孩子用助学金买了台灯，晚上在家写作业不再借邻居的光。",
            )
    # A township's own study grant paid to the first child in the same term: the same kind
    # of aid from two schemes, which the coordination board flags.
    if children:
        township = aid.scheme_create(
            actor=sw,
            organisation=swo,
            name="镇助学金（2026 秋）",
            kind="education",
            amount="500.00",
            starts_on=today - dt.timedelta(days=30),
            ends_on=today + dt.timedelta(days=150),
            criteria="镇内在读困难学生",
        )
        second = aid.application_submit(
            actor=director, scheme=township, child=children[0], reason="家庭经济困难"
        )
        second = aid.application_decide(
            actor=sw, application=second, approve=True, note="符合条件", amount="500.00"
        )
        aid.disbursement_add(
            actor=sw,
            application=second,
            paid_on=today,
            method="school_fee",
            amount="500.00",
            receipt_ref="ZZ-2026-001",
        )


def _surrogates() -> None:
    """Surrogate parents (代理家长) for three left-behind children of director1's village,
    arranged by director1 with the guardians' agreement: the village party secretary, who
    calls every week and visits every month and is up to date; a retired teacher, whose
    weekly call has been missed for over two weeks (the daily job leaves director1 a task
    and the child's risk level says so); a party member who visits every month. Once
    only."""
    from shouhu.surrogates import services as sp
    from shouhu.surrogates.models import Arrangement

    if Arrangement.objects.exists():
        return
    director = User.objects.get(username="director1")
    committee = director.memberships.get(role=Role.CHILD_DIRECTOR).organisation
    today = clock.today()
    children = [
        c
        for c in Child.objects.filter(residence=committee.jurisdiction_id, cat_left_behind_mca=True)
        .prefetch_related("household__members")
        .order_by("-id")[:10]
        if _guardian(c) is not None
    ][:3]
    people = [
        ("赵建国", "village_cadre", [("call", 7), ("visit", 30)], [3, 10, 17], [12]),
        ("钱淑芬", "teacher", [("call", 7)], [16, 23, 30], []),
        ("孙秀英", "party_member", [("visit", 30)], [], [5, 33]),
    ]
    for child, (name, role, cadences, calls, visits) in zip(children, people, strict=False):
        since = today - dt.timedelta(days=60)
        arrangement = sp.arrangement_create(
            actor=director,
            child=child,
            organisation=committee,
            guardian=_guardian(child),
            signed_on=since - dt.timedelta(days=3),
            since=since,
            duties="每周电话关心学习和生活，每月至少上门看望一次；发现异常及时告知儿童主任",
            agreement_version="2026-01",
            cadences=[sp.CadenceData(mode, days) for mode, days in cadences],
            person=sp.SurrogateData(name=name, community_role=role, phone="13955001234"),
        )
        for mode, ago in sorted(
            [("call", d) for d in calls] + [("visit", d) for d in visits], key=lambda x: -x[1]
        ):
            sp.contact_record(
                actor=director,
                arrangement=arrangement,
                on=today - dt.timedelta(days=ago),
                mode=mode,
                minutes=20 if mode == "call" else 60,
                notes="孩子近况良好"
                if mode == "call"
                else "到家看望，检查作业，和奶奶聊了孩子的情况",
            )
    sp.missed(today)
