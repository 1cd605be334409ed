"""Date arithmetic for the category rules (whole months and birthdays, Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

SHANGHAI = ZoneInfo("Asia/Shanghai")


def add_months(day: dt.date, months: int) -> dt.date:
    """`2024-08-31` + 6 months = `2025-02-28` (end of month clamps)."""
    result: dt.date = day + relativedelta(months=months)
    return result


def add_years(day: dt.date, years: int) -> dt.date:
    """Birthdays on 29 February fall on 28 February in common years (清单 practice varies)."""
    if day.month == 2 and day.day == 29:
        result: dt.date = day + relativedelta(years=years)
        return result
    return day.replace(year=day.year + years)


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """Completed years on `on`: a child is 16 from the 16th birthday itself."""
    if birth_date.month == 2 and birth_date.day == 29:
        return relativedelta(on, birth_date).years
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - before_birthday


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight of `day` in China Standard Time, timezone-aware."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
