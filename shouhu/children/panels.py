"""Parts of the child's page that other apps provide (the support network from `cases`,
the risk level and visits from `screening`). The registry is the lower layer: an app above
registers its panel when it is ready, so that `children` never imports it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shouhu.accounts.models import User
from shouhu.children.models import Child


@dataclass(frozen=True)
class Page:
    """What the child's page already knows about its reader."""

    user: User
    child: Child
    sensitive: bool
    may_refer: bool
    screening_levels: dict[str, str]


Panel = Callable[[Page], dict[str, Any]]
_PANELS: list[Panel] = []


def register(panel: Panel) -> Panel:
    if panel not in _PANELS:
        _PANELS.append(panel)
    return panel


def context(page: Page) -> dict[str, Any]:
    """The template context of every registered panel, in registration order."""
    merged: dict[str, Any] = {}
    for panel in _PANELS:
        merged.update(panel(page))
    return merged
