"""A small named world for tests: two villages of one township, a village in another
township, two schools, a social-work organisation, a counselling centre, a volunteer group,
a county civil-affairs bureau, and a destination city district with a migrant child.

Places are real (金寨县, Anhui; 宝安区, Shenzhen), from the vendored division files.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from stdnum.cn import ric

from shouhu.accounts.models import Membership, Organisation, OrgKind, Role, User
from shouhu.children import assignments, registration
from shouhu.children.data import ChildData, HouseholdData, MemberData
from shouhu.children.models import Child
from shouhu.lib.clock import SHANGHAI
from shouhu.places.models import Place
from shouhu.volunteers.models import Agreement, Check, Training, Volunteer
from shouhu.volunteers.models import Status as VolunteerStatus

PASSWORD = "correct-horse-battery"
# The one date the suite runs on: every test's clock is moved to it (conftest `clock`).
# CI runs the suite a second time with SHOUHU_TEST_TODAY a year or more ahead, which proves
# that no test depends on the date it happens to run.
TODAY = dt.date.fromisoformat(os.environ.get("SHOUHU_TEST_TODAY", "2026-11-22"))
NOW = dt.datetime.combine(TODAY, dt.time(10), tzinfo=SHANGHAI)

COUNTY = "341524000000"  # 金寨县
TOWNSHIP_1 = "341524101000"  # 麻埠镇
VILLAGE_A = "341524101204"  # 全山村委会
VILLAGE_B = "341524101205"  # 齐山村委会
TOWNSHIP_2 = "341524100000"  # 梅山镇
VILLAGE_C = "341524100002"  # 红村社区居委会
DESTINATION = "440306000000"  # 宝安区
DEST_COMMUNITY = "440306017001"  # 宝民社区居委会
# The world's children are 11 on TODAY, whatever TODAY is: born 1 March eleven years before.
BORN = dt.date(TODAY.year - 11 - (dt.date(TODAY.year, 3, 1) > TODAY), 3, 1)


def id_number(sequence: int, born: dt.date = BORN) -> str:
    """A valid ID number of 金寨县 for `born` (odd sequence: male, even: female)."""
    body = f"341524{born:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


ID_A1 = id_number(1)  # male, born on BORN
ID_OTHER = id_number(3)  # another boy born on the same day
BAD_ID = ID_A1[:-1] + ("1" if ID_A1[-1] == "0" else "0")  # the check digit is wrong
WORK_CITY = "330106000000"  # 杭州 西湖区 (county level; parents work there)


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    orgs: dict[str, Organisation] = field(default_factory=dict)
    children: dict[str, Child] = field(default_factory=dict)

    def __getattr__(self, name: str) -> User:
        try:
            return self.__dict__["users"][name]
        except KeyError:
            raise AttributeError(name) from None


def make_user(username: str, org: Organisation | None, role: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=username)
    if org is not None:
        Membership.objects.create(user=user, organisation=org, role=role)
    return user


def org(name: str, kind: str, place: str) -> Organisation:
    return Organisation.objects.create(name=name, kind=kind, jurisdiction_id=place)


def child_data(name: str, village: str, **overrides: object) -> ChildData:
    values: dict[str, object] = {
        "name": name,
        "sex": "M",
        "birth_date": BORN,
        "residence_code": village,
        "living_arrangement": "grandparents",
        "hukou_code": village,
    }
    values.update(overrides)
    return ChildData(**values)  # type: ignore[arg-type]


def away_parents(since: dt.date = dt.date(2024, 2, 1)) -> list[MemberData]:
    return [
        MemberData(
            name="父亲",
            relation="father",
            is_guardian=True,
            away=True,
            away_place_code=WORK_CITY,
            away_since=since,
            away_reason="work",
            phone="13800138000",
        ),
        MemberData(
            name="母亲",
            relation="mother",
            is_guardian=True,
            away=True,
            away_place_code=WORK_CITY,
            away_since=since,
            away_reason="work",
            phone="13900139000",
        ),
        MemberData(name="奶奶", relation="paternal_grandmother"),
    ]


def register(actor: User, data: ChildData, members=None, **kw: object) -> Child:  # type: ignore[no-untyped-def]
    return registration.child_register(
        actor=actor,
        child=data,
        household=HouseholdData(village_code=data.residence_code),
        members=away_parents() if members is None else members,
        today=TODAY,
        **kw,  # type: ignore[arg-type]
    )


def clear_volunteer(user: User, organisation: Organisation, *, by: User) -> Volunteer:
    """A volunteer record for `user`, cleared to work with children from a month before
    TODAY for a year: identity verified, a clear inquiry into offence records, the
    safeguarding training, a signed agreement with its confidentiality clause."""
    since = TODAY - dt.timedelta(days=30)
    volunteer = Volunteer.objects.create(
        organisation=organisation,
        user=user,
        number=f"V-{user.username}",
        name=user.get_full_name() or user.username,
        status=VolunteerStatus.ACTIVE,
        status_since=since,
        applied_on=since,
        created_at=NOW - dt.timedelta(days=30),
        created_by=by,
    )
    for kind in ("identity", "record_inquiry"):
        Check.objects.create(
            volunteer=volunteer,
            kind=kind,
            result="clear",
            checked_on=since,
            expires_on=TODAY + dt.timedelta(days=365),
            checked_by=by,
            recorded_at=NOW - dt.timedelta(days=30),
        )
    Training.objects.create(
        volunteer=volunteer,
        kind="safeguarding",
        title="儿童保护与行为守则",
        completed_on=since,
        hours=3,
        recorded_by=by,
    )
    Agreement.objects.create(
        volunteer=volunteer,
        version="2026-01",
        signed_on=since,
        expires_on=TODAY + dt.timedelta(days=365),
        scope="一对一陪伴",
        confidentiality=True,
        recorded_by=by,
    )
    return volunteer


def build_world() -> World:
    assert Place.objects.filter(pk=VILLAGE_A).exists(), "vendored places must be loaded"
    w = World()
    o = w.orgs
    o["bureau"] = org("金寨县民政局", OrgKind.CIVIL_AFFAIRS, COUNTY)
    o["township1"] = org("麻埠镇人民政府", OrgKind.TOWNSHIP_GOVERNMENT, TOWNSHIP_1)
    o["village_a"] = org("全山村村民委员会", OrgKind.VILLAGE_COMMITTEE, VILLAGE_A)
    o["village_b"] = org("齐山村村民委员会", OrgKind.VILLAGE_COMMITTEE, VILLAGE_B)
    o["village_c"] = org("红村社区居委会", OrgKind.VILLAGE_COMMITTEE, VILLAGE_C)
    o["school_a"] = org("麻埠镇中心小学", OrgKind.SCHOOL, TOWNSHIP_1)
    o["school_b"] = org("齐山小学", OrgKind.SCHOOL, TOWNSHIP_1)
    o["swo"] = org("金寨县协作者社会工作服务中心", OrgKind.SOCIAL_WORK, COUNTY)
    o["swo2"] = org("宝安区社工服务中心", OrgKind.SOCIAL_WORK, DESTINATION)
    o["clinic"] = org("金寨县心理咨询中心", OrgKind.HOSPITAL, COUNTY)
    o["volunteers"] = org("金寨县志愿者协会", OrgKind.NGO, COUNTY)
    o["tech"] = org("金寨县科技特派员工作站", OrgKind.COMPANY, COUNTY)
    o["dest_street"] = org("宝民社区居委会", OrgKind.VILLAGE_COMMITTEE, DEST_COMMUNITY)

    u = w.users
    u["director_a"] = make_user("director_a", o["village_a"], Role.CHILD_DIRECTOR)
    u["director_b"] = make_user("director_b", o["village_b"], Role.CHILD_DIRECTOR)
    u["director_c"] = make_user("director_c", o["village_c"], Role.CHILD_DIRECTOR)
    u["director_dest"] = make_user("director_dest", o["dest_street"], Role.CHILD_DIRECTOR)
    u["supervisor"] = make_user("supervisor", o["township1"], Role.SUPERVISOR)
    u["official"] = make_user("official", o["bureau"], Role.OFFICIAL)
    u["teacher_a"] = make_user("teacher_a", o["school_a"], Role.TEACHER)
    u["teacher_b"] = make_user("teacher_b", o["school_b"], Role.TEACHER)
    u["socialworker"] = make_user("socialworker", o["swo"], Role.SOCIAL_WORKER)
    u["socialworker_dest"] = make_user("socialworker_dest", o["swo2"], Role.SOCIAL_WORKER)
    u["counselor"] = make_user("counselor", o["clinic"], Role.COUNSELOR)
    u["volunteer"] = make_user("volunteer", o["volunteers"], Role.VOLUNTEER)
    u["techenvoy"] = make_user("techenvoy", o["tech"], Role.TECH_ENVOY)
    u["admin"] = make_user("admin", None, Role.ADMIN)
    u["admin"].is_staff = u["admin"].is_superuser = True
    u["admin"].save()

    c = w.children
    c["a1"] = register(
        u["director_a"],
        child_data(
            "张伟",
            VILLAGE_A,
            school_id=o["school_a"].pk,
            id_number=ID_A1,
            grade="三年级",
        ),
    )
    c["b1"] = register(
        u["director_b"],
        child_data("李娜", VILLAGE_B, sex="F", school_id=o["school_b"].pk, grade="五年级"),
    )
    c["c1"] = register(u["director_c"], child_data("王芳", VILLAGE_C, sex="F"))
    c["dest1"] = register(
        u["director_dest"],
        child_data(
            "刘洋",
            DEST_COMMUNITY,
            hukou_code=VILLAGE_A,
            residence_since=dt.date(2023, 9, 1),
            living_arrangement="both_parents",
        ),
        members=[
            MemberData(name="刘父", relation="father"),
            MemberData(name="刘母", relation="mother"),
        ],
    )
    assignments.assignment_create(
        actor=None, child=c["a1"], organisation=o["swo"], kind="case_worker", user=u["socialworker"]
    )
    assignments.assignment_create(
        actor=None, child=c["b1"], organisation=o["clinic"], kind="counselor", user=u["counselor"]
    )
    clear_volunteer(u["volunteer"], o["volunteers"], by=u["admin"])
    assignments.assignment_create(
        actor=None,
        child=c["a1"],
        organisation=o["volunteers"],
        kind="volunteer",
        user=u["volunteer"],
    )
    return w
