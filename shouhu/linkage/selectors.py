"""What readers see of the pairs and links: the review queue, one pair side by side with its
evidence, and a child's links with the services of both sides.

Each record of a pair is shown masked to what the reader may see of it
(`access.link_review_ceiling`): the basic fields, the ID number and phone only partly (the
first and last digits, never in full: a review compares, it does not copy), never the
sensitive fields. Every pair and every record listed is logged as a read of the child.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.models import Action
from shouhu.audit.services import log_children_read
from shouhu.children.models import Child, FamilyMember, Relation
from shouhu.lib import idnumber, protect
from shouhu.linkage import evidence
from shouhu.linkage.models import Candidate, Decision, Move, Share, Status

MASKED = "***"
# The services each side gives a child, as the link panel and the board count them.
SERVICES = (
    ("cases", "cases", "Case", ~Q(stage="closed")),
    ("programmes", "programmes", "Enrolment", Q(status="enrolled")),
    ("aid", "aid", "Application", Q(status="approved")),
)
QUEUE_STATUSES = (Status.REVIEW, Status.UNSURE)
PAGE = 50


def side(
    user: User, child: Child, members: list[FamilyMember], *, opens_file: bool
) -> dict[str, Any]:
    """One record of a pair as the reviewer may see it (`members`: its household's)."""
    identifying = access.IDENTIFYING in access.link_review_ceiling(user, child)
    members = sorted(members, key=lambda m: (not m.is_guardian, m.pk))
    father = next((m.name for m in members if m.relation == Relation.FATHER), "")
    mother = next((m.name for m in members if m.relation == Relation.MOTHER), "")
    phone = next(
        (protect.unseal(m.phone_enc) for m in members if m.is_guardian and m.phone_enc), ""
    )
    number = protect.unseal(child.id_number_enc) if child.id_number_enc else ""
    return {
        "id": child.pk,
        "name": child.name,
        "sex": child.get_sex_display(),
        "sex_code": child.sex,
        "birth_date": child.birth_date.isoformat(),
        "id_number": (idnumber.mask(number) if identifying else MASKED) if number else "",
        "hukou": child.hukou.full_name if child.hukou is not None else "",
        "residence": child.residence.full_name,
        "residence_code": child.residence_id,
        "father_name": father,
        "mother_name": mother,
        "guardian_phone": (idnumber.mask_phone(phone) if identifying else MASKED) if phone else "",
        "opens_file": opens_file,
    }


@dataclass(frozen=True)
class QueueRow:
    candidate: Candidate
    home: dict[str, Any]
    destination: dict[str, Any]
    side: str  # the reader's side


def queue(
    user: User, *, status: str = "", purpose: str = "link_queue", whole: bool = False
) -> list[QueueRow]:
    """The pairs waiting for the reader's review (or of one status), most probable first.
    `whole`: the caller shows each record whole (`pairs`, the API), and the read is logged
    with the classes shown of each, not the basic fields of the list page."""
    qs = access.link_candidates_visible_to(user).select_related(
        "home__residence", "home__hukou", "destination__residence", "destination__hukou"
    )
    qs = qs.filter(status=status) if status else qs.filter(status__in=QUEUE_STATUSES)
    found = list(qs.order_by("-probability", "id")[:PAGE])
    ids = {c.home_id for c in found} | {c.destination_id for c in found}
    opens = set(access.children_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    rows = [
        QueueRow(
            c,
            _brief(c.home, c.home_id in opens),
            _brief(c.destination, c.destination_id in opens),
            access.link_side_of(user, c),
        )
        for c in found
    ]
    if ids:
        shown: dict[frozenset[str], list[int]] = {}
        children = {c.home_id: c.home for c in found} | {
            c.destination_id: c.destination for c in found
        }
        for pk in sorted(ids):
            classes = access.link_review_ceiling(user, children[pk]) if whole else {access.BASIC}
            shown.setdefault(frozenset(classes), []).append(pk)
        for classes, child_ids in shown.items():
            log_children_read(user=user, child_ids=child_ids, purpose=purpose, fields=classes)
    return rows


def queue_counts(user: User) -> dict[str, int]:
    counts = (
        access.link_candidates_visible_to(user).values("status").annotate(n=Count("*")).order_by()
    )
    return {row["status"]: row["n"] for row in counts}


def _brief(child: Child, opens_file: bool) -> dict[str, Any]:
    return {
        "id": child.pk,
        "name": child.name,
        "birth_date": child.birth_date.isoformat(),
        "residence": child.residence.full_name,
        "opens_file": opens_file,
    }


def pair(user: User, candidate: Candidate) -> dict[str, Any]:
    """A pair side by side, with the evidence and the decisions so far (the candidate was
    opened through `access.get_link_candidate_for_user`, which logged the read)."""
    return pairs(user, [candidate])[0]


def pairs(user: User, candidates: list[Candidate]) -> list[dict[str, Any]]:
    """Pairs side by side (`pair`), in a fixed number of queries for any number of them."""
    ids = {c.home_id for c in candidates} | {c.destination_id for c in candidates}
    children = Child.objects.select_related("residence", "hukou").in_bulk(ids)
    households: dict[int, list[FamilyMember]] = {}
    for member in FamilyMember.objects.filter(
        household_id__in={c.household_id for c in children.values()}
    ):
        households.setdefault(member.household_id, []).append(member)
    decisions: dict[int, list[Decision]] = {}
    for decision in (
        Decision.objects.filter(candidate__in=candidates)
        .select_related("decided_by")
        .order_by("decided_at", "id")
    ):
        decisions.setdefault(decision.candidate_id, []).append(decision)
    opens = set(access.children_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))

    def shown(pk: int) -> dict[str, Any]:
        child = children[pk]
        return side(user, child, households.get(child.household_id, []), opens_file=pk in opens)

    return [
        {
            "candidate": c,
            "home": shown(c.home_id),
            "destination": shown(c.destination_id),
            "evidence": evidence.explain(c.evidence),
            "decisions": decisions.get(c.pk, []),
            "side": access.link_side_of(user, c),
        }
        for c in candidates
    ]


def links_of(user: User, child: Child) -> list[dict[str, Any]]:
    """The child's confirmed links as the reader of the child's file sees them: the other
    record's place (never its file, unless the reader may open it), the moves, the shares,
    and the services on both sides."""
    out = []
    others: list[int] = []
    for link in access.links_of_child_visible_to(user, child):
        other = link.destination if link.home_id == child.pk else link.home
        shares = list(
            Share.objects.filter(candidate=link)
            .select_related("organisation", "child")
            .order_by("-started_at")
        )
        out.append(
            {
                "link": link,
                "this_side": "home" if link.home_id == child.pk else "destination",
                "other_id": other.pk,
                "other_place": other.residence.full_name,
                "other_since": other.residence_since,
                "opens_other": bool(access.grants_for(user, other)),
                "moves": list(Move.objects.filter(candidate=link).select_related("to_place")),
                "shares": shares,
                "services": {"here": services(child), "there": services(other)},
            }
        )
        others.append(other.pk)
    if others:  # the other record's place and services were shown: a read of that child
        log_children_read(
            user=user,
            child_ids=others,
            purpose="links",
            action=Action.VIEW_CHILD,
            fields=[access.BASIC],
            detail={"from_child": child.pk},
        )
    return out


def services(child: Child) -> dict[str, int]:
    """How many services a child has: open cases, programme enrolments, aid applications
    approved (counts only: the services are read in each side's own file)."""
    found = _service_counts({child.pk})[child.pk]
    return {label: found.get(label, 0) for label, *_rest in SERVICES}


def service_labels() -> dict[str, str]:
    return {
        "cases": _("open cases"),
        "programmes": _("programme enrolments"),
        "aid": _("aid granted"),
    }


def other_side_organisations(child: Child) -> list[int]:
    """The organisations covering the other record of each of the child's confirmed links
    (where a case may be handed over across counties), nearest first."""
    found: list[int] = []
    for link in Candidate.objects.filter(
        Q(home=child) | Q(destination=child), status=Status.LINKED
    ).select_related("home", "destination"):
        found += [o.pk for o in reversed(access.share_organisations_for(link, child))]
    return list(dict.fromkeys(found))


def board_links(user: User, *, limit: int = 50) -> list[dict[str, Any]]:
    """For the coordination board: the linked children of the reader's area (either record
    in it), newest link first, with the services each side gives — counted for all of them
    in three queries, so that neither side duplicates nor leaves a gap."""
    area = access.jurisdiction_q(
        user, roles=access.FOLLOW_ROLES, field="home__residence_id"
    ) | access.jurisdiction_q(user, roles=access.FOLLOW_ROLES, field="destination__residence_id")
    links = list(
        Candidate.objects.filter(area, status=Status.LINKED)
        .select_related("home__residence", "destination__residence")
        .order_by("-linked_at", "-id")[:limit]
    )
    if not links:
        return []
    ids = {c.home_id for c in links} | {c.destination_id for c in links}
    counts = _service_counts(ids)
    opens = set(access.children_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    return [
        {
            "link": c.pk,
            "home": c.home_id,
            "home_name": c.home.name,
            "home_place": c.home.residence.full_name,
            "destination": c.destination_id,
            "destination_name": c.destination.name,
            "destination_place": c.destination.residence.full_name,
            "home_services": counts.get(c.home_id, {}),
            "destination_services": counts.get(c.destination_id, {}),
            "opens_home": c.home_id in opens,
            "opens_destination": c.destination_id in opens,
        }
        for c in links
    ]


def _service_counts(ids: set[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for label, app, model, q in SERVICES:
        rows = (
            apps.get_model(app, model)
            .objects.filter(q, child_id__in=ids)
            .values("child_id")
            .annotate(n=Count("*"))
            .order_by()
        )
        for row in rows:
            counts[row["child_id"]][label] = row["n"]
    return counts
