"""The demo county: organisations for every role, named demo users, ~5,000 children of
金寨县's real villages with parents working in real cities, and migrant children in 深圳宝安区.

Idempotent: organisations and users are found or created by name, generated children are
skipped by the registry's own duplicate rule, assignments and consents are added once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Count

from shouhu.accounts.models import Membership, Organisation, OrgKind, Role, User
from shouhu.children import bulk
from shouhu.children.models import Child, ChildAssignment, Consent, ConsentScope
from shouhu.demo.generator import DESTINATION, HOME_COUNTY, Area, Generator, Village
from shouhu.lib import dates
from shouhu.places.models import Level, Place, code_range
from shouhu.places.services import places_load_vendored

DEMO_PASSWORD = "shouhu-demo"  # noqa: S105 - published demo credentials, refused in production
# Generated facts are anchored to a fixed day, so that re-running on another day generates
# the same people (and creates no duplicates); categories are derived as of today.
ANCHOR = dt.date(2026, 9, 1)
BATCH = 5000


@dataclass
class LoadResult:
    created: int
    skipped: int
    seconds: float


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
    if org is not None:
        Membership.objects.get_or_create(user=user, organisation=org, role=role)
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


def build_organisations() -> dict[str, Organisation]:
    county, dest = f"{HOME_COUNTY}000000", f"{DESTINATION}000000"
    o = {
        "bureau": _org("金寨县民政局", OrgKind.CIVIL_AFFAIRS, county),
        "swo": _org("金寨县阳光社会工作服务中心", OrgKind.SOCIAL_WORK, county),
        "women": _org("金寨县妇女联合会", OrgKind.WOMENS_FEDERATION, county),
        "hospital": _org("金寨县人民医院心理门诊", OrgKind.HOSPITAL, county),
        "police": _org("金寨县公安局", OrgKind.POLICE, county),
        "ngo": _org("金寨县青年志愿者协会", OrgKind.NGO, county),
        "company": _org("金寨县科技特派员工作站", OrgKind.COMPANY, county),
        "county_high": _org("金寨县第一中学", OrgKind.SCHOOL, county),
        "dest_bureau": _org("深圳市宝安区民政局", OrgKind.CIVIL_AFFAIRS, dest),
        "dest_swo": _org("宝安区新市民社会工作服务中心", OrgKind.SOCIAL_WORK, dest),
    }
    for township in _townships(HOME_COUNTY) + _townships(DESTINATION):
        short = township.name
        o[f"gov:{township.code}"] = _org(
            f"{short}人民政府" if township.code.startswith(HOME_COUNTY) else f"{short}办事处",
            OrgKind.TOWNSHIP_GOVERNMENT,
            township.code,
        )
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
    *, children: int, seed: int, area: Area, batch: int = BATCH, history: bool = True
) -> tuple[int, int]:
    """Register `children` generated children in batches (each all-or-nothing)."""
    gen = Generator(seed, ANCHOR)
    created = skipped = 0
    rows: list[bulk.RegistrationRow] = []

    def flush() -> None:
        nonlocal created, skipped
        with transaction.atomic():
            result = bulk.bulk_register(actor=None, rows=rows, check_access=False, history=history)
        bulk.raise_for(result)
        created += result.created
        skipped += result.skipped
        rows.clear()

    last_ref = ""
    today = dates.today()
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


def _first_village_with_children(villages: Iterable[Place]) -> Place:
    for v in villages:
        if Child.objects.filter(residence_id=v.code).exists():
            return v
    raise RuntimeError("no generated children")


def _busiest_village(prefix: str) -> Place:
    low, high = code_range(prefix)
    code = (
        Child.objects.filter(residence__gte=low, residence__lte=high)
        .values("residence")
        .annotate(n=Count("id"))
        .order_by("-n", "residence")
        .values_list("residence", flat=True)
        .first()
    )
    return Place.objects.get(code=code)


def demo_load(*, children: int = 5000, seed: int = 2026) -> LoadResult:
    if not settings.SHOUHU_DEMO:
        raise ImproperlyConfigured("The demo county is refused: SHOUHU_DEMO is off.")
    started = time.perf_counter()
    ensure_places()
    with transaction.atomic():
        orgs = build_organisations()
    migrants = max(children // 12, 1)
    home_area = area(HOME_COUNTY, orgs)
    dest_area = area(
        DESTINATION,
        orgs,
        migrant=True,
        hukou_villages=[v.code for v in home_area.villages][:120],
    )
    created, skipped = generate(children=children - migrants, seed=seed, area=home_area)
    c2, s2 = generate(children=migrants, seed=seed + 1, area=dest_area)
    with transaction.atomic():
        _users_and_assignments(orgs)
    return LoadResult(created + c2, skipped + s2, time.perf_counter() - started)


def ensure_personas() -> None:
    """The demo organisations, users and assignments over whatever children exist."""
    with transaction.atomic():
        _users_and_assignments(build_organisations())


def _users_and_assignments(orgs: dict[str, Organisation]) -> None:
    home_villages = _villages(HOME_COUNTY)
    village1 = _first_village_with_children(home_villages)
    village2 = _first_village_with_children([v for v in home_villages if v.code != village1.code])
    township1 = village1.parent_id or ""
    dest_village = _busiest_village(DESTINATION)

    def committee(v: Place) -> Organisation:
        return _org(f"{v.name}村（居）民委员会", OrgKind.VILLAGE_COMMITTEE, v.code)

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
    techenvoy = _user("techenvoy1", "刘建华", orgs["company"], Role.TECH_ENVOY)
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
    plan = [
        (socialworker, orgs["swo"], "case_worker", list(in_difficulty.order_by("id")[:25])),
        (counselor, orgs["hospital"], "counselor", list(left_behind[:15])),
        (volunteer, orgs["ngo"], "volunteer", list(left_behind.filter(residence=village1)[:8])),
        (techenvoy, orgs["company"], "volunteer", list(left_behind.exclude(school=None)[20:30])),
        (socialworker2, orgs["dest_swo"], "case_worker", list(migrants[:12])),
    ]
    start = ANCHOR - dt.timedelta(days=60)
    ChildAssignment.objects.bulk_create(
        ChildAssignment(child=c, organisation=org, user=u, kind=kind, started_on=start)
        for u, org, kind, kids in plan
        for c in kids
    )
    # Registration consent from a guardian for the children of director1's village.
    consents = []
    for child in Child.objects.filter(residence=village1).select_related("household"):
        guardian = child.household.members.filter(is_guardian=True).first()
        if guardian is not None:
            consents.append(
                Consent(
                    child=child,
                    given_by=guardian,
                    given_on=ANCHOR,
                    version="2026-01",
                    scopes=[ConsentScope.REGISTRY, ConsentScope.SCREENING],
                )
            )
    Consent.objects.bulk_create(consents)
