"""The support network on the child's page (registered with `children.panels`)."""

from __future__ import annotations

from typing import Any

from shouhu import access
from shouhu.cases.selectors import support_network
from shouhu.children.panels import Page


def network_panel(page: Page) -> dict[str, Any]:
    """Who serves the child (every organisation sees who else is there); open actions and
    recent services for readers of sensitive fields; links to the cases the user may open."""
    network = support_network(page.user, page.child, detailed=page.sensitive)
    ids = [c["id"] for c in network["cases"]]
    mine = (
        set(access.cases_visible_to(page.user).filter(pk__in=ids).values_list("pk", flat=True))
        if ids
        else set()
    )
    return {"network": network, "my_cases": mine}
