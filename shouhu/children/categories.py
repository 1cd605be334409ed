"""The categories derived from a child's facts (`lib.categories`): set whenever a fact they
depend on changes, recomputed by the daily job when time alone may change them (a 16th or
18th birthday, six months away reached), each change recorded in the change history. A
change of the facts behind the risk level is announced (`signals.facts_changed`) for the
apps above to follow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction

from shouhu.accounts.models import User
from shouhu.audit.services import diff, record_change, snapshot
from shouhu.children import signals
from shouhu.children.models import Child, FamilyMember, Household, Relation
from shouhu.children.validation import PlaceCache
from shouhu.lib import categories as rules
from shouhu.lib import clock


def facts_of(child: Child, members: Sequence[FamilyMember], aid: str) -> rules.ChildFacts:
    parents = tuple(
        rules.ParentFacts(
            relation=m.relation,
            capacity=m.capacity,
            away=m.away,
            away_since=m.away_since,
            away_reason=m.away_reason,
            away_place=m.away_place_id or "",
        )
        for m in members
        if m.relation in {Relation.FATHER, Relation.MOTHER}
    )
    return rules.ChildFacts(
        birth_date=child.birth_date,
        residence=child.residence_id,
        hukou=child.hukou_id or "",
        residence_since=child.residence_since,
        parents=parents,
        household_aid=aid,
        disabled=bool(child.disability_type),
        guardianship_type=child.guardianship_type,
        guardianship_rating=child.guardianship_rating,
    )


def risk_inputs_changed(children: Sequence[Child]) -> None:
    """The registry facts behind the risk level changed: screening recomputes it and cases
    keep their area columns in step (`signals.facts_changed`; bulk imports leave the risk
    level to `shouhu risk recompute`)."""
    signals.facts_changed.send(sender=Child, children=list(children))


def apply_categories(
    child: Child, members: Sequence[FamilyMember], aid: str, places: PlaceCache, on: dt.date
) -> bool:
    """Set the child's derived categories in memory; True when any of them changed."""
    result = rules.derive(
        facts_of(child, members, aid),
        on,
        places.districts(child.hukou_id or "", child.residence_id),
    )
    changed = False
    for code in rules.CATEGORY_CODES:
        name = f"cat_{code}"
        if getattr(child, name) != getattr(result, code):
            setattr(child, name, getattr(result, code))
            changed = True
    child.categories_on = on
    child.categories_valid_until = result.valid_until
    return changed


CATEGORY_FIELDS = [f"cat_{c}" for c in rules.CATEGORY_CODES]


def child_recompute_categories(
    *, child: Child, on: dt.date | None = None, actor: User | None = None
) -> Child:
    """Derive the child's categories again; the change (if any) is recorded under `actor`,
    the person whose edit caused it (None: the daily job)."""
    on = on or clock.today()
    members = list(child.household.members.all())
    before = snapshot(child, CATEGORY_FIELDS)
    apply_categories(child, members, child.household.aid, PlaceCache(), on)
    child.save(update_fields=[*CATEGORY_FIELDS, "categories_on", "categories_valid_until"])
    record_change(
        actor=actor,
        obj=child,
        operation="update",
        changes=diff(before, snapshot(child, CATEGORY_FIELDS)),
        child_id=child.pk,
    )
    return child


def household_recompute_categories(
    *, household: Household, on: dt.date | None = None, actor: User | None = None
) -> None:
    for child in household.children.select_related("household"):
        child_recompute_categories(child=child, on=on, actor=actor)


def children_recompute_due(*, on: dt.date | None = None, batch: int = 1000) -> int:
    """Daily job: recompute children whose categories may have changed with time alone
    (a 16th or 18th birthday, six months away reached). Idempotent."""
    on = on or clock.today()
    due = Child.objects.filter(categories_valid_until__lte=on).select_related("household")
    count = 0
    for child in due.iterator(chunk_size=batch):
        with transaction.atomic():
            child_recompute_categories(child=child, on=on)
        count += 1
    return count
