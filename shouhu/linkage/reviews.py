"""Clerical review of the pairs, and what a link does.

A reviewer of either side (`access.link_side_of`) decides a pair waiting for review: the same
child, not the same child, or unsure (it then waits for the other side), always with a
reason. Every decision is kept (`Decision`) and is a change record with both children. A
confirmed pair becomes a link; a link can be undone by a later "not the same child", which
ends the shares made across it. A link tells both sides (`link_made`): the home county's
record gets the child's move (where the child lives now, since when), and the child
directors and supervisors of both places are told.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Role, User
from shouhu.audit.services import record_change
from shouhu.lib import clock
from shouhu.linkage.models import Candidate, Decision, How, Move, Share, Status, Verdict
from shouhu.notify.services import Message, send

REASON_MAX = 1000


# Who a link tells on each side (`access.members_over`: the organisations over the village).
TOLD = (Role.CHILD_DIRECTOR, Role.SUPERVISOR)


@transaction.atomic
def decide(
    *,
    actor: User,
    candidate: Candidate,
    verdict: str,
    reason: str,
    now: dt.datetime | None = None,
) -> Candidate:
    now = now or clock.now()
    candidate = (
        Candidate.objects.select_for_update(of=("self",))
        .select_related("home", "destination")
        .get(pk=candidate.pk)
    )
    side = access.link_side_of(actor, candidate)
    if not side:
        raise PermissionDenied(_("Only the reviewers of either side decide."))
    errors: dict[str, list[str]] = {}
    if verdict not in Verdict.values:
        errors["verdict"] = [_("Choose one of: same child, not the same child, unsure.")]
    reason = reason.strip()
    if not reason:
        errors["reason"] = [_("Say why: the reviewers of the other side read it.")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("At most %(n)d characters.") % {"n": REASON_MAX}]
    if candidate.status == Status.REJECTED:
        errors.setdefault("__all__", []).append(_("This pair was already found not to match."))
    elif candidate.status == Status.LINKED and verdict != Verdict.NON_MATCH:
        errors.setdefault("__all__", []).append(_("These records are already linked."))
    if verdict == Verdict.MATCH and not errors:
        other = (
            Candidate.objects.filter(destination=candidate.destination, status=Status.LINKED)
            .exclude(pk=candidate.pk)
            .first()
        )
        if other is not None:
            errors.setdefault("__all__", []).append(
                _("The destination record is already linked to another home record.")
            )
    if errors:
        raise ValidationError(errors)
    decision = Decision.objects.create(
        candidate=candidate,
        verdict=verdict,
        reason=reason,
        decided_by=actor,
        side=side,
        decided_at=now,
    )
    before = candidate.status
    if verdict == Verdict.MATCH:
        candidate.status, candidate.how, candidate.linked_at = Status.LINKED, How.REVIEWED, now
    elif verdict == Verdict.NON_MATCH:
        candidate.status = Status.REJECTED
        if before == Status.LINKED:
            candidate.ended_at = now
            _end_shares(candidate, actor, now, reason)
    else:
        candidate.status = Status.UNSURE
    candidate.version += 1
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError:  # another reviewer linked the destination record meanwhile
        raise ValidationError(
            _("The destination record is already linked to another home record.")
        ) from None
    for child_id in (candidate.home_id, candidate.destination_id):
        record_change(
            actor=actor,
            obj=candidate,
            operation="update",
            changes={"status": [before, candidate.status], "how": [None, candidate.how]},
            child_id=child_id,
        )
        record_change(
            actor=actor,
            obj=decision,
            operation="create",
            changes={"verdict": [None, verdict], "reason": [None, reason], "side": [None, side]},
            child_id=child_id,
        )
    if candidate.status == Status.LINKED:
        link_made(candidate, actor=actor, now=now)
    elif candidate.status == Status.UNSURE:
        _tell_other_side(candidate, side, now)
    return candidate


def link_made(candidate: Candidate, *, actor: User | None, now: dt.datetime) -> None:
    """The home record learns where the child lives now; both sides are told."""
    destination = candidate.destination
    Move.objects.create(
        child_id=candidate.home_id,
        to_place_id=destination.residence_id,
        since=destination.residence_since,
        candidate=candidate,
        recorded_at=now,
    )
    if actor is None:
        for child_id in (candidate.home_id, candidate.destination_id):
            record_change(
                actor=None,
                obj=candidate,
                operation="create",
                changes={"status": [None, Status.LINKED], "how": [None, How.SURE]},
                child_id=child_id,
            )
    home = candidate.home
    send(
        access.members_over(home, TOLD),
        lambda: Message(
            "link_made",
            _("A child of your area is registered where the family now lives"),
            _("The file shows where the child lives now and what is done for them there."),
            f"/children/{candidate.home_id}/",
        ),
        now=now,
    )
    send(
        access.members_over(destination, TOLD),
        lambda: Message(
            "link_made",
            _("A migrant child's home county record was found"),
            _("The file shows the child's home county record and its services."),
            f"/children/{candidate.destination_id}/",
        ),
        now=now,
    )


def _tell_other_side(candidate: Candidate, side: str, now: dt.datetime) -> None:
    other = candidate.destination if side == "home" else candidate.home
    send(
        access.members_over(other, access.LINK_REVIEWERS),
        lambda: Message(
            "link_unsure",
            _("A pair of records needs your review"),
            _("The other side's reviewer was unsure whether the two records are one child."),
            f"/linkage/candidates/{candidate.pk}/",
        ),
        now=now,
    )


def _end_shares(candidate: Candidate, actor: User, now: dt.datetime, reason: str) -> None:
    for share in Share.objects.select_for_update().filter(candidate=candidate, active=True):
        share.active, share.ended_by, share.ended_at = False, actor, now
        share.end_reason = _("The link was undone: %(reason)s") % {"reason": reason}
        share.save()
        record_change(
            actor=actor,
            obj=share,
            operation="update",
            changes={"active": [True, False]},
            child_id=share.child_id,
        )
    access.forget_assignments()
