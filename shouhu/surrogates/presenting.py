"""An arrangement as people read it: labels, names and dates, never codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shouhu.lib import protect
from shouhu.surrogates.models import Arrangement, CommunityRole, Contact, Mode
from shouhu.surrogates.selectors import Standing, standings

CONTACTS_SHOWN = 5


def _mode(code: str) -> str:
    return str(Mode(code).label) if code in Mode.values else code


def present_arrangement(
    arrangement: Arrangement,
    *,
    today: dt.date,
    phone: bool = False,
    found: Standing | None = None,
    contacts: int = CONTACTS_SHOWN,
) -> dict[str, Any]:
    """`phone`: the surrogate parent's phone, for those who see identifying fields."""
    if found is None and arrangement.is_active:
        found = standings(child_ids=[arrangement.child_id], today=today).get(arrangement.child_id)
    surrogate = arrangement.surrogate
    latest = Contact.objects.filter(arrangement=arrangement).select_related("recorded_by")
    return {
        "id": arrangement.pk,
        "child_id": arrangement.child_id,
        "child_name": arrangement.child.name,
        "surrogate": surrogate.name,
        "community_role": surrogate.community_role,
        "community_role_label": str(CommunityRole(surrogate.community_role).label)
        if surrogate.community_role in CommunityRole.values
        else surrogate.community_role,
        "phone": protect.unseal(surrogate.phone_enc) if phone else "",
        "organisation": arrangement.organisation.name,
        "guardian": arrangement.guardian.name,
        "guardian_relation": arrangement.guardian.get_relation_display(),
        "signed_on": arrangement.signed_on,
        "since": arrangement.since,
        "until": arrangement.until,
        "duties": arrangement.duties,
        "agreement_version": arrangement.agreement_version,
        "status": arrangement.status,
        "status_label": arrangement.get_status_display(),
        "ended_on": arrangement.ended_on,
        "end_reason": arrangement.end_reason,
        "missed": bool(found and found.is_missed),
        "cadences": [
            {
                "mode": c.mode,
                "mode_label": _mode(c.mode),
                "every_days": c.every_days,
                "last": c.last,
                "due_on": c.due_on,
                "missed": c.missed(today),
            }
            for c in (found.cadences if found else [])
        ],
        "contacts": [
            {
                "id": c.pk,
                "on": c.on,
                "mode": c.mode,
                "mode_label": _mode(c.mode),
                "minutes": c.minutes,
                "notes": c.notes,
                "recorded_by": str(c.recorded_by),
            }
            for c in latest[:contacts]
        ],
    }
