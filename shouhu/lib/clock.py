"""The one clock (STYLE.md 13): every read of the current time goes through here.

Tests move time with `time-machine`, which patches the standard library underneath, so a
suite that passes today passes on any date. Times are timezone-aware in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current instant, timezone-aware, in China Standard Time."""
    return dt.datetime.now(tz=SHANGHAI)


def today() -> dt.date:
    """Today's date in China, whatever the server's clock zone."""
    return now().date()
