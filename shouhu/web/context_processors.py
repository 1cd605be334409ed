from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from shouhu.lib import typed_input as kept


def typed_input(request: HttpRequest) -> dict[str, Callable[[], dict[str, Any] | None]]:
    """What a failed save kept for this page, taken only where a full page shows it (a
    callable: the template calls it in base.html, fragments never do)."""
    return {"recovered_input": lambda: kept.take(request)}
