"""On the child's page (registered with `children.panels`): for a supervisor of the child's
area, the link to hand the child's file off to another deployment, and the packages sent
and received for this child. Its template is `handoff/_panel.html`."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from shouhu import access
from shouhu.children.panels import Page


def handoff_panel(page: Page) -> dict[str, Any]:
    if not access.may_export_handoff(page.user, page.child):
        return {}
    return {
        "handoff": {
            "export_url": reverse("handoff:export", args=[page.child.pk]),
            "sent": list(
                access.outgoing_visible_to(page.user)
                .filter(child=page.child)
                .select_related("peer")
                .order_by("-created_at", "-pk")
            ),
            "received": list(
                access.incoming_visible_to(page.user)
                .filter(child=page.child)
                .select_related("peer")
                .order_by("-pk")
            ),
        }
    }
