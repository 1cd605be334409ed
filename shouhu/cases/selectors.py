"""Reading cases, tasks, a child's support network and the coordination worklist; and the
reads the case writes share (an open case, the policy, who may lead or join a case, the
follow-up interval)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, Role, User
from shouhu.aid.selectors import aid_board
from shouhu.audit.models import Action
from shouhu.audit.services import log_access, log_children_read
from shouhu.cases.models import (
    Case,
    CaseMember,
    CasePolicy,
    CaseRole,
    Domain,
    GoalStatus,
    Outcome,
    PlanAction,
    ServiceRecord,
    Stage,
    Transfer,
)
from shouhu.children.models import Child
from shouhu.children.selectors import MASK
from shouhu.lib import clock, protect
from shouhu.tasks.models import Task, TaskStatus

GAP_DAYS = 30
DUPLICATE_DAYS = 30  # the same service from two organisations this close is flagged
DEFAULT_INTERVAL_DAYS = 30  # between follow-up visits when the child has no risk level


def case_row(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "child": case.child_id,
        "child_name": case.child.name,
        "organisation": case.organisation_id,
        "organisation_name": case.organisation.name,
        "lead": case.lead_id,
        "lead_name": _person(case.lead),
        "stage": case.stage,
        "stage_label": str(Stage(case.stage).label),
        "urgency": case.urgency,
        "opened_at": case.opened_at,
        "closed_at": case.closed_at,
        "pending_approval": case.pending_approval or None,
        "version": case.version,
    }


def cases_for(
    user: User, *, stage: str = "", child_id: int | None = None, open_only: bool = False
) -> QuerySet[Case]:
    rows = access.cases_visible_to(user).select_related("child", "organisation", "lead")
    if stage:
        rows = rows.filter(stage=stage)
    if open_only:
        rows = rows.exclude(stage=Stage.CLOSED)
    if child_id is not None:
        rows = rows.filter(child_id=child_id)
    return rows.order_by("-opened_at", "-id")


def case_page(
    user: User,
    *,
    purpose: str,
    stage: str = "",
    child_id: int | None = None,
    open_only: bool = False,
    offset: int = 0,
    limit: int = 200,
) -> list[Case]:
    """One page of `cases_for`, its children logged as read (lists of the page and API)."""
    rows = cases_for(user, stage=stage, child_id=child_id, open_only=open_only)
    page = list(rows[offset : offset + limit])
    log_children_read(
        user=user,
        child_ids=[c.child_id for c in page],
        purpose=purpose,
        object_type="case",
        detail={"filters": {"stage": stage, "open": open_only}, "offset": offset},
    )
    return page


def _masked(text: str, shown: bool) -> str:
    return text if shown or not text else MASK


def present_case(user: User, case: Case) -> dict[str, Any]:
    """The whole case at the reader's level: notes only for those who work on it (each read
    logged); the intake and closure reasons and the plan's goals and actions masked for
    readers who neither work on it nor see the child's sensitive fields
    (`access.may_read_case_reasons`); volunteers and followers see the rest."""
    view = case_row(case)
    reasons = access.may_read_case_reasons(user, case)
    view["reasons_shown"] = reasons
    view["outcome"] = case.outcome or None
    view["outcome_label"] = _label(Outcome, case.outcome)
    view["closure_reason"] = _masked(case.closure_reason, reasons) or None
    view["stages"] = [
        {
            "stage": c.stage,
            "stage_label": str(Stage(c.stage).label),
            "at": c.at,
            "by": _person(c.by),
            "note": c.note,
        }
        for c in case.stage_changes.select_related("by")
    ]
    view["members"] = [
        {
            "user": m.user_id,
            "name": _person(m.user),
            "role": m.role,
            "role_label": str(CaseRole(m.role).label),
        }
        for m in case.members.filter(active=True).select_related("user")
    ]
    view["goals"] = [
        {
            "id": g.pk,
            "domain": _masked(g.domain, reasons),
            "domain_label": _masked(_label(Domain, g.domain) or "", reasons),
            "description": _masked(g.description, reasons),
            "strengths": _masked(g.strengths, reasons),
            "status": g.status,
            "status_label": _label(GoalStatus, g.status),
            "review_note": _masked(g.review_note, reasons),
            "actions": [
                {
                    "id": a.pk,
                    "description": _masked(a.description, reasons),
                    "owner": a.owner,
                    "owner_label": a.get_owner_display(),
                    "assignee": a.assignee_id,
                    "organisation": a.organisation_id,
                    "due_on": a.due_on,
                    "status": a.status,
                    "status_label": a.get_status_display(),
                }
                for a in g.actions.all()
            ],
        }
        for g in case.goals.prefetch_related("actions")
    ]
    view["services"] = [
        {
            "id": s.pk,
            "service_type": s.service_type.code,
            "service_label": s.service_type.label(),
            "provider": s.provider.name,
            "delivered_on": s.delivered_on,
            "minutes": s.minutes,
            "participants": s.participants,
        }
        for s in case.services.select_related("service_type", "provider")[:100]
    ]
    view["tasks"] = [
        {
            "id": t.pk,
            "kind": t.kind,
            "title": t.title,
            "assignee": t.assignee_id,
            "due_on": t.due_on,
            "recurring": t.recurring,
            "status": t.status,
            "done_at": t.done_at,
        }
        for t in case.tasks.all()[:100]
    ]
    view["approvals"] = [
        {
            "id": a.pk,
            "subject": a.subject,
            "requested_at": a.requested_at,
            "approved": a.approved,
            "note": a.note,
        }
        for a in case.approvals.all()
    ]
    view["conferences"] = [
        {
            "id": c.pk,
            "held_on": c.held_on,
            "decisions": c.decisions,
            "organisations": [o.name for o in c.organisations.all()],
            "participants": [_person(u) for u in c.participants.all()],
        }
        for c in case.conferences.prefetch_related("organisations", "participants")
    ]
    view["external_referrals"] = [
        {
            "id": r.pk,
            "resource": r.resource.name,
            "reason": r.reason,
            "referred_on": r.referred_on,
            "outcome": r.outcome,
            "outcome_label": r.get_outcome_display(),
        }
        for r in case.external_referrals.select_related("resource")
    ]
    view["transfers"] = [
        {
            "id": t.pk,
            "kind": t.kind,
            "kind_label": t.get_kind_display(),
            "to": t.to_organisation.name,
            "status": t.status,
            "status_label": t.get_status_display(),
        }
        for t in case.transfers.select_related("to_organisation")
    ]
    intake = case.intake
    view["intake"] = (
        {
            "id": intake.pk,
            "channel": intake.channel,
            "channel_label": intake.get_channel_display(),
            "reason": _masked(intake.reason, reasons),
            "consent": intake.consent,
            "referred_by": _person(intake.referred_by),
            "referrer_name": intake.referrer_name or None,
            "created_at": intake.created_at,
        }
        if intake is not None
        else None
    )
    # The case this one came from by an accepted referral or transfer (readable here while
    # the referral is in force: `access.referred_cases_q`).
    origin = (
        Transfer.objects.filter(new_case=case, status="accepted")
        .select_related("case__organisation")
        .first()
    )
    view["referred_from"] = (
        {
            "case": origin.case_id,
            "organisation": origin.case.organisation.name,
            "kind": origin.kind,
            "kind_label": origin.get_kind_display(),
        }
        if origin is not None
        else None
    )
    view["may_work"] = access.may_work(user, case)
    if access.may_read_notes(user, case):
        notes = list(case.notes.select_related("author")[:200])
        view["notes"] = [
            {
                "id": n.pk,
                "author": _person(n.author),
                "written_at": n.written_at,
                "text": protect.unseal(n.text_enc),
            }
            for n in notes
        ]
        if notes:
            log_access(
                user=user,
                action=Action.REVEAL,
                child_id=case.child_id,
                object_type="case_notes",
                object_id=str(case.pk),
                fields=[access.SENSITIVE],
                purpose="case",
            )
    return view


SCHOOL_TEACHERS_SHOWN = 5


def _person(user: User) -> str:
    """A person as people name them: the display name (the username only if none)."""
    return str(user)


def _label(choices: type[models.TextChoices], value: str) -> str | None:
    return str(choices(value).label) if value in choices.values else (value or None)


def counselling_case_q() -> Q:
    """Cases that speak of a child's mental health: those of a hospital or clinic, and
    those led by a counsellor."""
    from django.db.models import Exists, OuterRef

    from shouhu.accounts.models import OrgKind

    led_by_counsellor = CaseMember.objects.filter(
        case=OuterRef("pk"), user=OuterRef("lead"), role=CaseRole.COUNSELLOR
    )
    return Q(organisation__kind=OrgKind.HOSPITAL) | Q(Exists(led_by_counsellor))


def support_network(user: User, child: Child, *, detailed: bool) -> dict[str, Any]:
    """Everyone currently serving the child, with or without an open case:
    - open cases with their organisation, lead and members;
    - the child directors of the child's village (and any above it);
    - the school and its teachers (there is no class-teacher link in the registry: the first
      `SCHOOL_TEACHERS_SHOWN` teachers by name, and how many more);
    - the facilitators of the reunion sites where the child takes part;
    - the child's surrogate parent (代理家长), while the arrangement is active;
    with `detailed` (readers of sensitive fields) the open plan actions and the services of
    the last 90 days of the open cases. Without it, nothing that says the child sees a
    counsellor or a psychiatric clinic (that is the child's mental health): no case of a
    clinic or led by a counsellor, no counsellor among a case's members.

    The cases and the people are read in one query (a UNION of same-shaped rows): the
    child's page is opened all day and its query budget is fixed."""
    from django.db.models import CharField, DateTimeField, IntegerField, Value
    from django.db.models.functions import Cast

    from shouhu.accounts.models import Membership
    from shouhu.reunion.models import Facilitator
    from shouhu.surrogates.models import Arrangement, ArrangementStatus, CommunityRole

    def text(value: str) -> Any:
        return Value(value, output_field=CharField())

    no_time = Value(None, output_field=DateTimeField())
    columns = ("kind", "pk", "place", "display", "username", "stage", "at")
    child_cases = Case.objects.filter(child=child).exclude(stage=Stage.CLOSED)
    if not detailed:
        child_cases = child_cases.exclude(counselling_case_q())
    open_cases = (
        child_cases.order_by()
        .annotate(
            kind=text("case"),
            place=Cast("organisation__name", CharField()),
            display=Cast("lead__display_name", CharField()),
            username=Cast("lead__username", CharField()),
            staged=Cast("stage", CharField()),
        )
        .values_list("kind", "pk", "place", "display", "username", "staged", "opened_at")
    )
    people = Q(pk__in=[]) | access.members_over_q(child, [Role.CHILD_DIRECTOR])
    if child.school_id is not None:
        people |= Q(
            organisation_id=child.school_id,
            role=Role.TEACHER,
            active=True,
            user__is_active=True,
        )
    staff = (
        Membership.objects.filter(people)
        .order_by()
        .annotate(
            kind=Cast("role", CharField()),
            person=Cast("user_id", IntegerField()),
            place=text(""),
            display=Cast("user__display_name", CharField()),
            username=Cast("user__username", CharField()),
            staged=text(""),
            at=no_time,
        )
        .values_list("kind", "person", "place", "display", "username", "staged", "at")
    )
    facilitators = (
        Facilitator.objects.filter(
            active=True,
            user__is_active=True,
            site__active=True,
            site__participants__child=child,
            site__participants__active=True,
        )
        .order_by()
        .annotate(
            kind=text("facilitator"),
            person=Cast("user_id", IntegerField()),
            place=Cast("site__name", CharField()),
            display=Cast("user__display_name", CharField()),
            username=Cast("user__username", CharField()),
            staged=text(""),
            at=no_time,
        )
        .values_list("kind", "person", "place", "display", "username", "staged", "at")
    )
    surrogates = (
        Arrangement.objects.filter(child=child, status=ArrangementStatus.ACTIVE)
        .order_by()
        .annotate(
            kind=text("surrogate"),
            person=Cast("surrogate_id", IntegerField()),
            place=Cast("surrogate__community_role", CharField()),
            display=Cast("surrogate__name", CharField()),
            username=text(""),
            staged=text(""),
            at=no_time,
        )
        .values_list("kind", "person", "place", "display", "username", "staged", "at")
    )
    rows = [
        dict(zip(columns, row, strict=True))
        for row in open_cases.union(staff, facilitators, surrogates, all=True)
    ]
    cases = sorted((r for r in rows if r["kind"] == "case"), key=lambda r: (r["at"], r["pk"]))

    def named(kind: str) -> list[dict[str, Any]]:
        unique = {(r["pk"], r["place"]): r for r in rows if r["kind"] == kind}
        found = [{**r, "name": r["display"] or r["username"]} for r in unique.values()]
        return sorted(found, key=lambda r: (r["place"], r["name"], r["pk"]))

    members = defaultdict(list)
    if cases:
        on_cases = CaseMember.objects.filter(case__in=[c["pk"] for c in cases], active=True)
        if not detailed:
            on_cases = on_cases.exclude(role=CaseRole.COUNSELLOR)
        for m in on_cases.select_related("user"):
            members[m.case_id].append(
                {"name": _person(m.user), "role": m.role, "role_label": str(CaseRole(m.role).label)}
            )
    school: dict[str, Any] | None = None
    if child.school_id is not None and child.school is not None:
        teachers = [t["name"] for t in named(Role.TEACHER)]
        school = {
            "name": child.school.name,
            "grade": child.grade,
            "teachers": teachers[:SCHOOL_TEACHERS_SHOWN],
            "more_teachers": max(len(teachers) - SCHOOL_TEACHERS_SHOWN, 0),
        }
    network: dict[str, Any] = {
        "cases": [
            {
                "id": c["pk"],
                "organisation": c["place"],
                "lead": c["display"] or c["username"],
                "stage": c["stage"],
                "stage_label": str(Stage(c["stage"]).label),
                "members": members[c["pk"]],
            }
            for c in cases
        ],
        "directors": sorted({d["pk"]: d["name"] for d in named(Role.CHILD_DIRECTOR)}.values()),
        "school": school,
        "facilitators": [{"name": f["name"], "site": f["place"]} for f in named("facilitator")],
        "surrogates": [
            {
                "name": r["display"],
                "role": r["place"],
                "role_label": str(CommunityRole(r["place"]).label)
                if r["place"] in CommunityRole.values
                else r["place"],
            }
            for r in rows
            if r["kind"] == "surrogate"
        ],
    }
    if detailed and cases:
        network["actions"] = [
            {
                "description": a.description,
                "owner": a.owner,
                "owner_label": a.get_owner_display(),
                "due_on": a.due_on,
                "status": a.status,
                "organisation": a.goal.case.organisation.name,
            }
            for a in PlanAction.objects.filter(
                goal__case__in=[c["pk"] for c in cases], status__in=["todo", "doing"]
            ).select_related("goal__case__organisation")
        ]
        since = clock.today() - dt.timedelta(days=90)
        network["services"] = [
            {
                "service_type": s.service_type.name_zh,
                "service_type_en": s.service_type.name_en,
                "provider": s.provider.name,
                "delivered_on": s.delivered_on,
            }
            for s in ServiceRecord.objects.filter(child=child, delivered_on__gte=since)
            .select_related("service_type", "provider")
            .order_by("-delivered_on")[:20]
        ]
    return network


def coordination(user: User, *, today: dt.date | None = None, limit: int = 200) -> dict[str, Any]:
    """The supervisor's and official's coordination worklist over their jurisdiction:
    - gaps: children at red, then orange, with no open case or no service in `GAP_DAYS`
      days (scanned in id order per colour, stopping at `limit`);
    - duplication: the same service type given to the same child by two organisations
      within `DUPLICATE_DAYS` (flagged when the service is recorded);
    - overdue follow-ups per worker and open caseload per worker, counted on the cases'
      and tasks' own village columns (index-only);
    - double aid: children who received the same kind of aid from two sources (two
      schemes with overlapping periods, or a scheme's living aid on top of the household's
      低保/特困) in the aid period, the last twelve months up to today
      (`aid.selectors.aid_period`), read from the payments' own village column;
    - unaided: the eligible children (`aid.selectors.ELIGIBLE`) with no aid at all in that
      period, how many and the first in id order.
    The children it names are logged as read."""
    today = today or clock.today()
    area = access.jurisdiction_q(user, roles=access.FOLLOW_ROLES, field="residence")
    gaps = _gaps(user, today, limit)
    dup_rows = _duplicates(user, today, limit, DUPLICATE_DAYS)
    aid = aid_board(
        children=Child.objects.filter(
            access.jurisdiction_q(user, roles=access.FOLLOW_ROLES, field="residence_id")
        ),
        paid_in=area,
        today=today,
        limit=limit,
    )
    aid_named = [d["child"] for d in aid.double] + aid.unaided
    # Count("*"), not Count("id"): the rows are counted from the index `task_open_area`
    # alone (an index-only scan), the ids are not fetched from the table.
    overdue = list(
        Task.objects.filter(area, status=TaskStatus.OPEN, due_on__lt=today)
        .values("assignee_id")
        .annotate(n=Count("*"))
        .order_by("-n", "assignee_id")[:limit]
    )
    caseload = list(
        Case.objects.filter(area)
        .exclude(stage=Stage.CLOSED)
        .values("lead_id", "organisation_id")
        .annotate(n=Count("*"))
        .order_by("-n", "lead_id")[:limit]
    )
    names = dict(
        Child.objects.filter(
            pk__in=[d["child_id"] for d in dup_rows] + [g["child"] for g in gaps] + aid_named
        ).values_list("pk", "name")
    )
    users = {
        u.pk: _person(u)
        for u in User.objects.filter(
            pk__in={o["assignee_id"] for o in overdue} | {c["lead_id"] for c in caseload}
        ).only("pk", "username", "display_name")
    }
    orgs = dict(
        Organisation.objects.filter(pk__in={c["organisation_id"] for c in caseload}).values_list(
            "pk", "name"
        )
    )
    # Children with a record in another place: the services of both sides, side by side.
    from shouhu.linkage.selectors import board_links

    linked = board_links(user, limit=limit)
    for row in linked:
        row["home_services"] = _services_line(row["home_services"])
        row["destination_services"] = _services_line(row["destination_services"])
    aid_named += [pk for row in linked for pk in (row["home"], row["destination"])]
    # The board names children (gaps, duplicated services, double aid, children without
    # aid, linked children): each is logged as read.
    log_children_read(
        user=user,
        child_ids=[g["child"] for g in gaps] + [d["child_id"] for d in dup_rows] + aid_named,
        purpose="coordination",
        object_type="coordination",
        detail={
            "gaps": len(gaps),
            "duplicates": len(dup_rows),
            "double_aid": len(aid.double),
            "unaided": len(aid.unaided),
        },
    )
    return {
        "gaps": [{**g, "child_name": names.get(g["child"], "")} for g in gaps],
        "duplicates": [
            {
                "child": d["child_id"],
                "child_name": names.get(d["child_id"], ""),
                "service_type": d["service_type__code"],
                "providers": d["providers"],
            }
            for d in dup_rows
        ],
        "overdue_by_worker": [
            {"worker": o["assignee_id"], "name": users.get(o["assignee_id"], ""), "overdue": o["n"]}
            for o in overdue
        ],
        "caseload": [
            {
                "worker": c["lead_id"],
                "name": users.get(c["lead_id"], ""),
                "organisation": orgs.get(c["organisation_id"], ""),
                "open_cases": c["n"],
            }
            for c in caseload
        ],
        "aid_period": {"first": aid.first, "last": aid.last},
        "double_aid": [{**d, "child_name": names.get(d["child"], "")} for d in aid.double],
        "double_aid_count": aid.double_count,
        "unaided": [{"child": pk, "child_name": names.get(pk, "")} for pk in aid.unaided],
        "unaided_count": aid.unaided_count,
        "linked": linked,
    }


def _services_line(counts: dict[str, int]) -> str:
    from shouhu.linkage.selectors import SERVICES, service_labels

    labels = service_labels()
    return ", ".join(f"{counts.get(k, 0)} {labels[k]}" for k, *_rest in SERVICES)


def _gaps(user: User, today: dt.date, limit: int, chunk: int = 500) -> list[dict[str, Any]]:
    """Red, then orange children of the area without an open case or a recent service: the
    candidates are read in id order a chunk at a time from the (level, place, child) index,
    and their cases and services looked up for the chunk, until `limit` are found."""
    from shouhu.screening.models import RiskColour, RiskLevel

    area = access.jurisdiction_q(user, roles=access.FOLLOW_ROLES, field="residence")
    since = today - dt.timedelta(days=GAP_DAYS)
    found: list[dict[str, Any]] = []
    for level in ("red", "orange"):
        after = 0
        # The first chunk is sized for the rows wanted (a page shows 50, not 500), and each
        # next one doubles, up to `chunk`, when too few of them are gaps.
        size = min(chunk, max(2 * limit, 50))
        while len(found) < limit:
            ids = list(
                RiskLevel.objects.filter(area, level=level, child_id__gt=after)
                .order_by("child_id")
                .values_list("child_id", flat=True)[:size]
            )
            if not ids:
                break
            after, size = ids[-1], min(chunk, size * 2)
            with_case = set(
                Case.objects.filter(child_id__in=ids)
                .exclude(stage=Stage.CLOSED)
                .values_list("child_id", flat=True)
            )
            served = set(
                ServiceRecord.objects.filter(child_id__in=ids, delivered_on__gte=since).values_list(
                    "child_id", flat=True
                )
            )
            for pk in ids:
                if pk not in with_case or pk not in served:
                    found.append(
                        {
                            "child": pk,
                            "level": level,
                            "level_label": str(RiskColour(level).label),
                            "open_case": pk in with_case,
                            "served_recently": pk in served,
                        }
                    )
                    if len(found) >= limit:
                        break
    return found


def _duplicates(user: User, today: dt.date, limit: int, days: int) -> list[dict[str, Any]]:
    """Flagged services of the window in the area, grouped in Python (there are few)."""
    area = access.jurisdiction_q(user, roles=access.FOLLOW_ROLES, field="residence")
    providers: dict[tuple[int, str], set[int]] = defaultdict(set)
    for child_id, code, provider in (
        ServiceRecord.objects.filter(
            area, duplicate=True, delivered_on__gte=today - dt.timedelta(days=days)
        )
        .order_by()
        .values_list("child_id", "service_type__code", "provider_id")
    ):
        providers[(child_id, code)].add(provider)
    rows = [
        {"child_id": child, "service_type__code": code, "providers": len(orgs)}
        for (child, code), orgs in sorted(providers.items())
        if len(orgs) >= 2
    ]
    return rows[:limit]


def intakes_for(user: User) -> QuerySet[Any]:
    """Intakes the user may decide (receiving organisation or township supervisor) or made."""
    from shouhu.cases.models import Intake

    area = access.jurisdiction_q(user, roles=frozenset({"supervisor"}))
    return (
        Intake.objects.filter(
            Q(organisation_id__in=access.case_organisations(user)) | area | Q(referred_by=user)
        )
        .select_related("child", "organisation", "referred_by")
        .order_by("status", "-created_at")
    )


def intake_page(
    user: User, *, purpose: str, pending_only: bool = False, limit: int = 200
) -> list[Any]:
    """The first `limit` of `intakes_for` (those pending only), their children logged."""
    rows = intakes_for(user)
    if pending_only:
        rows = rows.filter(status="pending")
    page = list(rows[:limit])
    log_children_read(
        user=user, child_ids=[i.child_id for i in page], purpose=purpose, object_type="intake"
    )
    return page


def transfers_waiting(user: User, *, purpose: str, limit: int = 200) -> list[Transfer]:
    """Referrals and transfers of cases waiting for the user's organisations, their
    children logged as read."""
    page = list(
        Transfer.objects.filter(
            to_organisation_id__in=access.case_organisations(user), status="pending"
        ).select_related("case__child", "case__organisation", "to_organisation")[:limit]
    )
    log_children_read(
        user=user,
        child_ids=[t.case.child_id for t in page],
        purpose=purpose,
        object_type="transfer",
    )
    return page


def intake_row(intake: Any) -> dict[str, Any]:
    return {
        "id": intake.pk,
        "child": intake.child_id,
        "child_name": intake.child.name,
        "organisation": intake.organisation_id,
        "organisation_name": intake.organisation.name,
        "channel": intake.channel,
        "reason": intake.reason,
        "urgency": intake.urgency,
        "consent": intake.consent,
        "referred_by": intake.referred_by.username,
        "referrer_name": intake.referrer_name or None,
        "created_at": intake.created_at,
        "status": intake.status,
        "decision_reason": intake.decision_reason or None,
    }


def decisions_waiting(user: User, *, purpose: str, limit: int = 200) -> list[dict[str, Any]]:
    """Everything waiting for this user's decision, oldest first, with its age in days:
    plans and closures to approve (the organisation's named approvers, else the township
    supervisors: `access.approvers`) and referrals and transfers their organisation or
    township must accept. The children shown are logged."""
    from shouhu.cases.models import Approval

    today = clock.today()
    named = CasePolicy.objects.filter(approvers=user).values("organisation_id")
    area = access.jurisdiction_q(
        user, roles=frozenset({"supervisor"}), field="case__child__residence_id"
    )
    # Who approves depends on the organisation and the child's place: asked once for each.
    approves: dict[tuple[int, str], bool] = {}

    def may_approve(a: Any) -> bool:
        key = (a.case.organisation_id, a.case.child.residence_id)
        if key not in approves:
            approves[key] = user in access.approvers(a.case)
        return approves[key]

    approvals = [
        a
        for a in Approval.objects.filter(decided_at__isnull=True)
        .filter(Q(case__organisation_id__in=named) | area)
        .select_related("case__child", "case__organisation", "requested_by")
        .order_by("requested_at", "id")[:limit]
        if may_approve(a)
    ]
    rows: list[dict[str, Any]] = [
        {
            "kind": "approval",
            "kind_label": _("Approval of the plan")
            if a.subject == "plan"
            else _("Approval of the closure"),
            "child_name": a.case.child.name,
            "child": a.case.child_id,
            "organisation": a.case.organisation.name,
            "by": _person(a.requested_by),
            "since": a.requested_at,
            "age_days": (today - timezone.localtime(a.requested_at).date()).days,
            "url": reverse("cases:detail", args=[a.case_id]) + "#approval-form",
        }
        for a in approvals
    ]
    decides: dict[tuple[int, str], bool] = {}
    for intake in intake_page(user, purpose=purpose, pending_only=True, limit=limit):
        key = (intake.organisation_id, intake.child.residence_id)
        if key not in decides:
            decides[key] = access.may_decide_intake(user, intake)
        if not decides[key]:
            continue
        rows.append(
            {
                "kind": "intake",
                "kind_label": _("Referral to accept"),
                "child_name": intake.child.name,
                "child": intake.child_id,
                "organisation": intake.organisation.name,
                "by": _person(intake.referred_by),
                "since": intake.created_at,
                "age_days": (today - timezone.localtime(intake.created_at).date()).days,
                "url": reverse("cases:intakes") + f"#intake-{intake.pk}",
            }
        )
    for transfer in transfers_waiting(user, purpose=purpose):
        rows.append(
            {
                "kind": "transfer",
                "kind_label": _("Transfer to accept"),
                "child_name": transfer.case.child.name,
                "child": transfer.case.child_id,
                "organisation": transfer.case.organisation.name,
                "by": _person(transfer.requested_by),
                "since": transfer.requested_at,
                "age_days": (today - timezone.localtime(transfer.requested_at).date()).days,
                "url": reverse("cases:intakes") + f"#transfer-{transfer.pk}",
            }
        )
    log_children_read(user=user, child_ids=[a.case.child_id for a in approvals], purpose=purpose)
    return sorted(rows, key=lambda r: r["since"])


# ---------------------------------------------------------------- what the case writes read


def has_open_case(child: Child, organisation: Organisation) -> bool:
    return (
        Case.objects.filter(child=child, organisation=organisation)
        .exclude(stage=Stage.CLOSED)
        .exists()
    )


def policy_of(organisation_id: int) -> CasePolicy:
    policy = CasePolicy.objects.filter(organisation_id=organisation_id).first()
    return policy or CasePolicy(organisation_id=organisation_id)


def lead_candidates(organisation: Organisation) -> list[User]:
    """Who may lead a case of the organisation: its social workers and counsellors."""
    return sorted(
        {u.pk: u for u in access.members_with_case_roles(organisation)}.values(),
        key=lambda u: (u.get_full_name() or u.username, u.pk),
    )


def member_candidates(case: Case) -> list[User]:
    """Who may be added to a case: the organisation's social workers and counsellors, and
    the volunteers, social workers, counsellors and supervisors of organisations over the
    child's place (its village, township, county, city or province)."""
    people = {u.pk: u for u in access.members_with_case_roles(case.organisation)}
    for user in access.members_over(
        case.child, [Role.VOLUNTEER, Role.SOCIAL_WORKER, Role.COUNSELOR, Role.SUPERVISOR]
    ):
        people.setdefault(user.pk, user)
    return sorted(people.values(), key=lambda u: (u.get_full_name() or u.username, u.pk))


def interval_days(child: Child) -> int:
    """Days between follow-up visits: the child's risk level sets it."""
    from shouhu.screening.models import RiskLevel

    level = RiskLevel.objects.filter(child=child).only("interval_days").first()
    return level.interval_days if level else DEFAULT_INTERVAL_DAYS
