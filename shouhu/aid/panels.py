"""On the child's page (registered with `children.panels`): all aid the child receives — the
government's (the household's 低保/特困) and every payment of the aid schemes — for the
workers who handle aid; and, for every worker who may apply for the child, the link to
apply and the child's applications they may read. Its template is `aid/_panel.html`."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.aid.models import AidKind, Method
from shouhu.aid.selectors import GOVERNMENT, aid_of_child
from shouhu.children.panels import Page


def aid_panel(page: Page) -> dict[str, Any]:
    handles = access.handles_aid(page.user)
    may_apply = access.may_apply_for_aid(page.user, page.child)
    if not handles and not may_apply:
        return {}
    panel: dict[str, Any] = {
        "handles": handles,
        "apply_url": reverse("aid:apply", args=[page.child.pk]) if may_apply else "",
        "applications": list(
            access.aid_applications_visible_to(page.user)
            .filter(child=page.child)
            .select_related("scheme")
            .order_by("-submitted_at", "-pk")
        ),
    }
    if not handles:
        # What aid a child receives is the household's economic situation: only for the
        # workers who handle aid.
        return {"aid": panel}
    kinds = {k.value: str(k.label) for k in AidKind}
    methods = {m.value: str(m.label) for m in Method}
    panel["lines"] = [
        {
            "source": _("Government") if line.source == GOVERNMENT else line.source,
            "kind": kinds.get(line.kind, line.kind),
            "label": line.label,
            "paid_on": line.paid_on,
            "amount": line.amount,
            "items": line.items,
            "method": methods.get(line.method, line.method),
        }
        for line in aid_of_child(page.child)
    ]
    return {"aid": panel}
