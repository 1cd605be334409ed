"""On the child's page: the child's surrogate parent (代理家长) — the agreement, the agreed
contacts and whether one is missed, the latest contacts — with the form to log a contact
and, for those who arrange, to arrange or end one (registered with `children.panels`)."""

from __future__ import annotations

from typing import Any

from shouhu import access
from shouhu.children.panels import Page
from shouhu.lib import clock
from shouhu.surrogates.forms import ContactForm
from shouhu.surrogates.models import Arrangement, ArrangementStatus
from shouhu.surrogates.presenting import present_arrangement
from shouhu.surrogates.services import is_left_behind


def surrogate_panel(page: Page) -> dict[str, Any]:
    manages = access.may_arrange_surrogate(page.user, page.child)
    if not manages and not access.can_see(page.user, page.child, access.IDENTIFYING):
        return {}
    arrangement = (
        Arrangement.objects.filter(child=page.child, status=ArrangementStatus.ACTIVE)
        .select_related("surrogate", "guardian", "organisation", "child")
        .first()
    )
    shown = None
    if arrangement is not None:
        shown = present_arrangement(arrangement, today=clock.today(), phone=True)
    return {
        "surrogate": {
            "current": shown,
            "manages": manages,
            "eligible": is_left_behind(page.child),
            "may_record": arrangement is not None and manages,
            "contact_form": ContactForm(user=page.user, arrangement=arrangement)
            if arrangement is not None and manages
            else None,
        }
    }
