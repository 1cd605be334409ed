"""On the child's page: one-to-one counselling, for the counsellors and social workers who
record it (registered with `children.panels`)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from shouhu import access
from shouhu.accounts.models import Role
from shouhu.children.panels import Page
from shouhu.programmes.models import Counselling

COUNSELLING_ROLES: frozenset[str] = frozenset({Role.COUNSELOR, Role.SOCIAL_WORKER})


def counselling_panel(page: Page) -> dict[str, Any]:
    if not COUNSELLING_ROLES & access.scope_of(page.user).roles:
        return {}
    return {
        "counselling": {
            "url": reverse("programmes:counselling", args=[page.child.pk]),
            "count": Counselling.objects.filter(child=page.child).count(),
        }
    }
