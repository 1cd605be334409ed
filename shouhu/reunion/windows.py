"""Weekly windows and times of the reunion plan: parsing the windows people type, the
solver's JSON form of a window, slots on a week's grid and the times people read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from shouhu.lib import dates
from shouhu.reunion.models import Window

DEFAULT_SLOT_MINUTES = 20


def slot_minutes() -> int:
    return int(getattr(settings, "SHOUHU_REUNION_SLOT_MINUTES", DEFAULT_SLOT_MINUTES))


def _time_of(value: str, where: str) -> dt.time:
    try:
        hour, minute = value.split(":")
        return dt.time(int(hour), int(minute))
    except (ValueError, AttributeError):
        raise ValidationError({where: [_("Write the time as HH:MM.")]}) from None


def parse_windows(raw: Iterable[dict[str, Any]], where: str) -> list[tuple[int, dt.time, dt.time]]:
    out = []
    for index, w in enumerate(raw):
        key = f"{where}.{index}"
        day = w.get("day")
        if not isinstance(day, int) or not 1 <= day <= 7:
            raise ValidationError({key: [_("The day is 1 (Monday) to 7 (Sunday).")]})
        start = _time_of(str(w.get("start", "")), key)
        end = _time_of(str(w.get("end", "")), key)
        if end <= start:
            raise ValidationError({key: [_("The window ends before it starts.")]})
        out.append((day, start, end))
    return out


def hhmm(t: dt.time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def window_json(w: Window) -> dict[str, Any]:
    return {"day": w.day, "start": hhmm(w.start), "end": hhmm(w.end)}


def fits(windows: Iterable[Window], day: int, start: dt.time, end: dt.time) -> bool:
    return any(w.day == day and w.start <= start and end <= w.end for w in windows)


def week_range(week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dates.start_of_day(week_start)
    return start, start + dt.timedelta(days=7)


def slot_start(week_start: dt.date, day: int, start: str) -> dt.datetime:
    hour, minute = (int(x) for x in start.split(":"))
    return dates.start_of_day(week_start + dt.timedelta(days=day - 1)) + dt.timedelta(
        hours=hour, minutes=minute
    )


def free_runs(
    opening: Window,
    week_start: dt.date,
    *,
    slot: int,
    now: dt.datetime,
    busy: Sequence[tuple[dt.datetime, dt.datetime]] = (),
) -> list[dict[str, Any]]:
    """The runs of the opening's slots that start after `now` and meet no busy interval,
    as windows on the opening's own grid (the solver's slots start at a window's start)."""
    midnight = dates.start_of_day(week_start + dt.timedelta(days=opening.day - 1))
    step = dt.timedelta(minutes=slot)
    at = midnight + dt.timedelta(hours=opening.start.hour, minutes=opening.start.minute)
    end = midnight + dt.timedelta(hours=opening.end.hour, minutes=opening.end.minute)
    runs: list[tuple[dt.datetime, dt.datetime]] = []
    while at + step <= end:
        if at > now and not any(b0 < at + step and at < b1 for b0, b1 in busy):
            if runs and runs[-1][1] == at:
                runs[-1] = (runs[-1][0], at + step)
            else:
                runs.append((at, at + step))
        at += step
    return [{"day": opening.day, "start": _local_hhmm(a), "end": _local_hhmm(b)} for a, b in runs]


def _local_hhmm(at: dt.datetime) -> str:
    return hhmm(at.astimezone(dates.SHANGHAI).time())


Minutes = tuple[int, int, int]  # (day, start minute, end minute)


def cut(windows: list[Minutes], day: int, lo: int, hi: int) -> list[Minutes]:
    """Windows (day, start minute, end minute) less [lo, hi) on `day`."""
    out = []
    for d, s, e in windows:
        if d != day or e <= lo or hi <= s:
            out.append((d, s, e))
            continue
        if s < lo:
            out.append((d, s, lo))
        if hi < e:
            out.append((d, hi, e))
    return out


def minute_of_day(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def end_hhmm(minute: int) -> str:
    return "24:00" if minute >= 24 * 60 else hhmm(dt.time(minute // 60, minute % 60))


WEEKDAYS_ZH = "一二三四五六日"


def when_text(at: dt.datetime) -> str:
    """A time as people in China write it: 11月23日（周一）16:40."""
    local = at.astimezone(dates.SHANGHAI)
    return f"{local.month}月{local.day}日（周{WEEKDAYS_ZH[local.weekday()]}）{local:%H:%M}"
