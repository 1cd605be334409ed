"""Reads of surrogate parents: where each active arrangement stands with its cadences, for
many children at once (the risk facts, the daily job, the child's page)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Max, Q

from shouhu.surrogates.models import (
    INTENSITY,
    Arrangement,
    ArrangementStatus,
    Cadence,
    Contact,
)


@dataclass(frozen=True)
class CadenceStanding:
    mode: str
    every_days: int
    last: dt.date | None  # the latest contact that keeps this cadence
    due_on: dt.date  # the day by which the next contact is owed

    def missed(self, today: dt.date) -> bool:
        return self.due_on < today


@dataclass
class Standing:
    """An active arrangement and where its cadences stand on `today`."""

    arrangement: Arrangement
    today: dt.date
    cadences: list[CadenceStanding] = field(default_factory=list)

    @property
    def missed(self) -> list[CadenceStanding]:
        return [c for c in self.cadences if c.missed(self.today)]

    @property
    def is_missed(self) -> bool:
        return bool(self.missed)


def standing(
    arrangement: Arrangement,
    cadences: Sequence[Cadence],
    last_by_mode: dict[str, dt.date],
    today: dt.date,
) -> Standing:
    """A cadence is kept by a contact of its mode or a closer one within `every_days`
    days; before any such contact, the days count from the arrangement's start."""
    found = Standing(arrangement, today)
    for cadence in cadences:
        need = INTENSITY.get(cadence.mode, 0)
        dates = [d for mode, d in last_by_mode.items() if INTENSITY.get(mode, 0) >= need]
        last = max(dates, default=None)
        start = max(last or arrangement.since, arrangement.since)
        found.cadences.append(
            CadenceStanding(
                mode=cadence.mode,
                every_days=cadence.every_days,
                last=last,
                due_on=start + dt.timedelta(days=cadence.every_days),
            )
        )
    return found


def standings(*, child_ids: Sequence[int] | None = None, today: dt.date) -> dict[int, Standing]:
    """The active arrangement of each child (of `child_ids`, or every child) with where its
    cadences stand: three queries whatever the number of children."""
    # Contacts are owed from the start to the agreed end (an arrangement left active past
    # its end owes none; the child's page still shows it, to be ended).
    active = Arrangement.objects.filter(
        Q(until__isnull=True) | Q(until__gte=today),
        status=ArrangementStatus.ACTIVE,
        since__lte=today,
    )
    if child_ids is not None:
        active = active.filter(child_id__in=child_ids)
    arrangements = {a.pk: a for a in active.select_related("surrogate")}
    if not arrangements:
        return {}
    cadences: dict[int, list[Cadence]] = {pk: [] for pk in arrangements}
    for cadence in Cadence.objects.filter(arrangement_id__in=arrangements):
        cadences[cadence.arrangement_id].append(cadence)
    last: dict[int, dict[str, dt.date]] = {pk: {} for pk in arrangements}
    for row in (
        Contact.objects.filter(arrangement_id__in=arrangements, on__lte=today)
        .values("arrangement_id", "mode")
        .annotate(last=Max("on"))
    ):
        last[row["arrangement_id"]][row["mode"]] = row["last"]
    return {
        a.child_id: standing(a, cadences[pk], last[pk], today) for pk, a in arrangements.items()
    }
