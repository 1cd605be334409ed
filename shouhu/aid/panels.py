"""On the child's page: all aid the child receives — the government's (the household's
低保/特困) and every payment of the aid schemes — for the workers who handle aid
(registered with `children.panels`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from shouhu import access
from shouhu.aid.models import AidKind, Method
from shouhu.aid.selectors import GOVERNMENT, aid_of_child
from shouhu.children.panels import Page


def aid_panel(page: Page) -> dict[str, Any]:
    if not set(access.AID_ROLES) & access.scope_of(page.user).roles:
        return {}
    kinds = {k.value: str(k.label) for k in AidKind}
    methods = {m.value: str(m.label) for m in Method}
    return {
        "aid": {
            "lines": [
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
        }
    }
