"""The matching job: the destination's migrant children against the children of their home
counties, nightly and when a supervisor asks.

Pairs at or above `SURE` become links at once (a link joins two files; nothing is merged);
pairs between the engine's link threshold and `SURE` wait in the review queue of both
sides. A pair already decided keeps its decision: a rejected pair never comes back, a
linked one is not touched, one waiting is updated with its new score and evidence. The
pairs reviewers confirmed go back to the engine as labels for the m probabilities.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from shouhu.accounts.models import User
from shouhu.lib import clock
from shouhu.linkage import evidence, registry
from shouhu.linkage.models import Candidate, How, Run, RunStatus, Status
from shouhu.linkage.reviews import link_made

logger = logging.getLogger(__name__)

LINK_THRESHOLD = 0.8  # below: not a candidate at all
SURE = 0.9999  # at or above: linked without review


def labels() -> tuple[tuple[str, str], ...]:
    """The pairs reviewers confirmed, as (home, destination) record ids."""
    pairs = Candidate.objects.filter(status=Status.LINKED, how=How.REVIEWED).values_list(
        "home_id", "destination_id"
    )
    return tuple((str(home), str(destination)) for home, destination in pairs)


def run_matching(*, requested_by: User | None = None, now: dt.datetime | None = None) -> Run:
    """One run over the whole deployment; its outcome (or error) is kept on the `Run`."""
    now = now or clock.now()
    run = Run.objects.create(started_at=now, requested_by=requested_by)
    try:
        _match(run, now)
    except Exception as error:  # kept on the run for the page, and raised for the job log
        Run.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=repr(error)[:2000], finished_at=clock.now()
        )
        raise
    return run


def _match(run: Run, now: dt.datetime) -> None:
    # Splink, DuckDB and pandas only in the job: a web process that never runs it does not
    # carry them (the pages import this module for `request_run`).
    from shouhu.linkage import engine

    destination = registry.records(registry.destination_children())
    counties = {c for c in destination["hukou_place"].dropna()}
    # The home side: the children of those counties who live in their hukou county (or have
    # none recorded); a migrant child is a destination record wherever they live.
    home_children = registry.home_children(counties).exclude(
        pk__in=registry.destination_children().values("pk")
    )
    home = registry.records(home_children) if counties else destination[:0]
    run.home_records, run.destination_records = len(home), len(destination)
    known = labels()
    run.labels = len(known) if len(known) >= engine.MIN_LABELS else 0
    found = []
    if len(home) and len(destination):
        options = engine.Options(threshold=LINK_THRESHOLD, labels=known, evidence=True)
        found = engine.link(home, destination, options=options).to_dict("records")
    with transaction.atomic():
        for row in found:
            made = _keep(run, int(row["left_id"]), int(row["right_id"]), row, now)
            if made == Status.LINKED:
                run.linked += 1
            elif made == Status.REVIEW:
                run.to_review += 1
        run.status, run.finished_at = RunStatus.DONE, clock.now()
        run.save()
    logger.info(
        "linkage run %s: %s home, %s destination, %s linked, %s to review",
        run.pk,
        run.home_records,
        run.destination_records,
        run.linked,
        run.to_review,
    )


def _keep(run: Run, home: int, destination: int, row: dict[str, object], now: dt.datetime) -> str:
    """Store one pair; the status of a new pair, "" when nothing new was made."""
    if home == destination:
        return ""  # never a record with itself
    probability = float(row["match_probability"])  # type: ignore[arg-type]
    levels = evidence.levels_of(row)
    existing = (
        Candidate.objects.select_for_update()
        .filter(home_id=home, destination_id=destination)
        .first()
    )
    if existing is not None:
        if existing.status in {Status.REVIEW, Status.UNSURE}:
            existing.probability, existing.evidence = probability, levels
            existing.save(update_fields=["probability", "evidence"])
        return ""
    if Candidate.objects.filter(destination_id=destination, status=Status.LINKED).exists():
        return ""  # the destination record already has its home record
    sure = probability >= SURE
    candidate = Candidate.objects.create(
        home_id=home,
        destination_id=destination,
        probability=probability,
        evidence=levels,
        status=Status.LINKED if sure else Status.REVIEW,
        how=How.SURE if sure else "",
        run=run,
        created_at=now,
        linked_at=now if sure else None,
    )
    if sure:
        link_made(candidate, actor=None, now=now)
    return candidate.status


# A run asked for on a page runs there and then up to this many destination records; a larger
# registry's run is left to the worker, made due at its next tick.
ON_DEMAND_LIMIT = 20_000


def request_run(*, actor: User, now: dt.datetime | None = None) -> Run | None:
    """A supervisor's run: now (the run) when the registry is small, else queued (None)."""
    from django.core.exceptions import PermissionDenied
    from django.utils.translation import gettext as _

    from shouhu import access
    from shouhu.jobs.models import JobRun

    if not access.may_run_matching(actor):
        raise PermissionDenied(_("Only supervisors and officials run the matching."))
    now = now or clock.now()
    if Run.objects.filter(
        status=RunStatus.RUNNING, started_at__gte=now - dt.timedelta(minutes=30)
    ).exists():
        from django.core.exceptions import ValidationError

        raise ValidationError(_("A matching run is in progress: its results come shortly."))
    if registry.destination_children().count() <= ON_DEMAND_LIMIT:
        return run_matching(requested_by=actor, now=now)
    JobRun.objects.update_or_create(name="record_linkage", defaults={"succeeded_at": None})
    return None
