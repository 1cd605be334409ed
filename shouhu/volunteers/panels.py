"""On the child's page: the volunteers matched or proposed for the child, and the way to
find one, for those who keep an organisation's volunteers (registered with
`children.panels`)."""

from __future__ import annotations

from typing import Any

from shouhu import access
from shouhu.children.panels import Page
from shouhu.volunteers.models import Match, MatchStatus


def volunteer_panel(page: Page) -> dict[str, Any]:
    if not set(access.VOLUNTEER_MANAGERS) & access.scope_of(page.user).roles:
        return {}
    matches = (
        Match.objects.filter(
            child=page.child, status__in=[MatchStatus.PROPOSED, MatchStatus.ACTIVE]
        )
        .select_related("volunteer")
        .order_by("-proposed_at")
    )
    return {
        "volunteer_matches": {
            "rows": [
                {
                    "name": m.volunteer.name,
                    "status": m.get_status_display(),
                    "purpose": m.purpose,
                }
                for m in matches
            ]
        }
    }
