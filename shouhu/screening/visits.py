"""Home visits (入户走访), the child director's main task, as records of their own (issue 11
§3): recording one, the child's visit history, and what the worklist and the risk engine
read from them. The needs assessment made on the visit stays an administration of the
home-visit instrument (the scoring engine); the visit links to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.children.models import Child, FamilyMember
from shouhu.children.selectors import NOT_AT_HOME
from shouhu.lib import clock, protect
from shouhu.screening import risk
from shouhu.screening.models import (
    Administration,
    HomeVisit,
    VisitPlace,
)
from shouhu.tasks import services as task_services

HOME_VISIT = "home_visit"
# Nobody meets a parent who has died, is missing or is in prison or rehabilitation at home.
NOT_MET = NOT_AT_HOME
NOTES_MAX = 20000


def may_record(user: User, child: Child) -> bool:
    """Those who may make the visit's needs assessment record visits: the village's child
    director first of all, and the child's social worker."""
    return access.can_administer(user, child, kind="needs_assessment")


def members_to_meet(child: Child) -> list[FamilyMember]:
    """The household members a visitor can have met (never a deceased or missing one)."""
    return [m for m in child.household.members.all() if m.capacity not in NOT_MET]


def assessments_to_link(child: Child, *, on: dt.date | None = None) -> list[Administration]:
    """The child's home-visit assessments not yet part of a visit, latest first (the last
    30 days before `on`)."""
    on = on or clock.today()
    since = on - dt.timedelta(days=30)
    return list(
        Administration.objects.filter(
            child=child,
            instrument=HOME_VISIT,
            home_visit__isnull=True,
            administered_at__date__gte=since,
        ).order_by("-administered_at")[:20]
    )


@transaction.atomic
def visit_record(
    *,
    actor: User,
    child: Child,
    visited_on: dt.date,
    place: str,
    place_note: str = "",
    child_seen: bool = True,
    met: Sequence[FamilyMember] = (),
    others_met: str = "",
    notes: str = "",
    actions: str = "",
    next_visit_on: dt.date | None = None,
    assessment: Administration | None = None,
    now: dt.datetime | None = None,
) -> HomeVisit:
    """Record a visit: closes the child's open home-visit task, and the next one falls due
    by the risk level's interval after this visit, or on `next_visit_on` when sooner."""
    now = now or clock.now()
    if not may_record(actor, child):
        raise PermissionDenied(_("You do not work with this child."))
    today = clock.today()
    errors: dict[str, list[str]] = {}
    if visited_on > today:
        errors["visited_on"] = [_("The visit cannot be in the future.")]
    elif child.birth_date and visited_on < child.birth_date:
        errors["visited_on"] = [_("The visit cannot be before the child was born.")]
    if place not in VisitPlace.values:
        errors["place"] = [_("Choose one of the listed values.")]
    elif place == VisitPlace.ELSEWHERE and not place_note.strip():
        errors["place_note"] = [_("Say where the visit took place.")]
    if next_visit_on is not None and next_visit_on <= visited_on:
        errors["next_visit_on"] = [_("The next visit comes after this one.")]
    allowed = {m.pk for m in members_to_meet(child)}
    if any(m.pk not in allowed for m in met):
        errors["met"] = [_("Only living members of the child's household can have been met.")]
    if not child_seen and not met and not others_met.strip():
        errors["met"] = [_("Say whom the visit met.")]
    if len(notes) > NOTES_MAX:
        errors["notes"] = [_("At most %(n)s characters.") % {"n": NOTES_MAX}]
    if assessment is not None and (
        assessment.child_id != child.pk
        or assessment.instrument != HOME_VISIT
        or HomeVisit.objects.filter(assessment=assessment).exists()
    ):
        errors["assessment"] = [_("Choose an assessment of this child not yet on a visit.")]
    if errors:
        raise ValidationError(errors)
    visit = HomeVisit.objects.create(
        child=child,
        visited_on=visited_on,
        place=place,
        place_note=place_note.strip(),
        child_seen=child_seen,
        others_met=others_met.strip(),
        notes_enc=protect.seal(notes.strip()),
        actions=actions.strip(),
        next_visit_on=next_visit_on,
        assessment=assessment,
        by=actor,
        created_at=now,
    )
    visit.met.set(met)
    # The visit closes the open visit task, unless its assessment already did when it was
    # submitted: the task open now is then the next visit's, not this one's.
    if assessment is None or not task_services.closed_by(assessment.pk):
        task_services.home_visit_done(
            child.pk,
            by=actor,
            now=now,
            administration_id=assessment.pk if assessment else None,
        )
    risk.recompute(child, now=now)
    if next_visit_on is not None:
        task_services.home_visit_due_by(child.pk, next_visit_on)
    return visit


def present_visits(user: User, child: Child, *, limit: int = 50) -> list[dict[str, Any]]:
    """The child's visits, latest first. The narrative notes are decrypted only for those
    who see the child's sensitive fields (the read of the file is logged by the access
    function that opened it)."""
    sensitive = access.SENSITIVE in access.field_classes(user, child)
    rows = []
    for v in (
        HomeVisit.objects.filter(child=child)
        .select_related("by", "assessment")
        .prefetch_related("met")[:limit]
    ):
        rows.append(
            {
                "id": v.pk,
                "visited_on": v.visited_on,
                "place": v.place,
                "place_label": str(VisitPlace(v.place).label),
                "place_note": v.place_note,
                "child_seen": v.child_seen,
                "met": [
                    {"id": m.pk, "name": m.name, "relation_label": m.get_relation_display()}
                    for m in v.met.all()
                ],
                "others_met": v.others_met,
                "notes": protect.unseal(v.notes_enc) if sensitive else None,
                "notes_hidden": bool(v.notes_enc) and not sensitive,
                "actions": v.actions,
                "next_visit_on": v.next_visit_on,
                "assessment": v.assessment_id if sensitive else None,
                "assessment_band": v.assessment.band if v.assessment and sensitive else None,
                "by": str(v.by),
            }
        )
    return rows
