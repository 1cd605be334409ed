"""Assignments open a child to a worker or an organisation (DESIGN: an assignment makes the
child visible); referrals and transfers to another organisation need the sharing rule of
`consents.sharing_allowed`."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu.accounts.models import Organisation, User
from shouhu.audit.services import record_change
from shouhu.children.consents import sharing_allowed
from shouhu.children.data import created_changes
from shouhu.children.models import Child, ChildAssignment
from shouhu.lib import clock


@transaction.atomic
def assignment_create(
    *,
    actor: User | None,
    child: Child,
    organisation: Organisation,
    kind: str,
    user: User | None = None,
    started_on: dt.date | None = None,
) -> ChildAssignment:
    """Open a child to a worker or organisation. Referrals and transfers to another
    organisation need the guardian's sharing consent or a recorded legal basis."""
    if kind in {"referral", "transfer"} and not sharing_allowed(child):
        raise ValidationError(
            {"kind": [_("Sharing needs the guardian's consent or a recorded legal basis.")]}
        )
    if kind == "volunteer" and user is not None:
        from shouhu.access import volunteer_match_refusal

        refusal = volunteer_match_refusal(user)
        if refusal:
            raise ValidationError({"user": [refusal]})
    row = ChildAssignment.objects.create(
        child=child,
        organisation=organisation,
        user=user,
        kind=kind,
        started_on=started_on or clock.today(),
    )
    record_change(
        actor=actor,
        obj=row,
        operation="create",
        changes=created_changes(row, ["organisation", "user", "kind"]),
        child_id=child.pk,
    )
    return row
