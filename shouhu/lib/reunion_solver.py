"""Next week's online reunion sessions, planned as an exact min-cost flow (pure Python, no Django).

A session puts children in front of one device at one site for one slot, with a facilitator
present and a parent on the other end. `solve(instance)` builds the week's plan with OR-Tools'
`SimpleMinCostFlow`; `greedy(instance)` is the first-fit baseline it is compared with;
`check_plan(instance, plan)` lists every rule a plan breaks, so an auditor can check any plan.
The command `shouhu reunion solve|check` and `bench/reunion.py` wrap these.

Instance (JSON)::

    {"slot_minutes": 20,
     "sites": [{"id": "s1", "devices": 2,
                "open": [{"day": 6, "start": "09:00", "end": "12:00"}]}],
     "facilitators": [{"id": "f1", "site": "s1", "available": [<window>, ...]}],
     "children": [{"id": "c1", "family": "f-7", "sites": ["s1"], "sessions": 1, "priority": 1,
                   "parents": [{"id": "p1", "available": [<window>, ...]}]}]}

- A window is `{"day": 1-7, "start": "HH:MM", "end": "HH:MM"}` (1 = Monday; "24:00" is allowed
  as an end; a window never crosses midnight).
- `devices` is the number of devices at the site, numbered 1..n in the plan; a list of distinct
  device ids is accepted too, and the plan then names those ids.
- Slots start at each opening's start and repeat every `slot_minutes` while they fit in it.
  Openings of one site may touch but not overlap on the same day (slots would overlap).
- `family` is optional (no family: the child is on their own), `sessions` is the number of
  sessions wanted in the week (default 1; 0 = none wanted, the child is left out of the plan),
  `priority` is 1 (highest), 2 or 3 (lowest, the default).
- Ids are non-empty strings or integers; site ids, facilitator ids and child ids are each
  unique (parent ids need only be unique within a child). Unknown keys are ignored.

Plan (JSON)::

    {"assignments": [{"children": ["c1", "c2"], "site": "s1", "day": 6, "start": "09:20",
                      "device": 1}],
     "unserved": ["c9"],
     "stats": {"sessions": 1, "children_served": 2, "upper_bound": 2, "seconds": 0.01, ...}}

`assignments` is sorted by day, start, site (input order) and device; `children` lists one
family unit (below) in input order; `unserved` lists, in input order, the children who want a
session and got none. `stats` also has `child_sessions` (sessions counted per child),
`children_wanting`, `served_by_priority`, `reachable` (children with at least one feasible
slot, a bound that ignores capacity), `units`, `components`, `status` and `method`.
Everything except `stats.seconds` is deterministic for the same input.

Rules (what `check_plan` enforces):

- A slot must lie inside an opening of the site (on the grid above), inside one availability
  window of at least one facilitator of that site, and inside one availability window of at
  least one parent of every child in the session. A person's own overlapping or touching
  windows are merged first (09:00-12:00 and 12:00-14:00 is one window), but two people's
  windows are never joined: a slot is not covered by a hand-over. One facilitator present
  covers all the site's devices in that slot: the devices are in one room.
- One session per device per slot; at most one session per child per day; a child only at a
  site listed in their `sites`.
- Family units. Children with the same `family` who share a site form one unit; the unit is
  what gets scheduled: every session of the unit serves all its members, on one device, at a
  site every member lists (the intersection of their `sites`), in a slot that suits a parent
  of each member (siblings usually share parents, so this is one parent's window). Siblings
  who share no site with each other are separate units (they are never at the same site).
  In the rare chain where siblings are linked through shared sites but no site is common to
  all of them, the siblings are grouped by identical site lists instead. A unit gets at most
  as many sessions as its most demanding member wants; a sibling who wants fewer joins the
  extra family sessions rather than be left out of them.
- Parents are not a capacity: a parent's windows say when they can call, and the siblings who
  would call the same parent meet together anyway.

Objective, lexicographic:

1. children served at least once, priority 1 first, then priority 2, then priority 3 (a
   higher-priority child is never left unserved so that lower-priority children can be
   served, however many);
2. then further sessions, counted per child up to what each child wants.

Model. Source -> unit (a first-session arc of capacity 1 and further-session arcs of
capacity 1 each) -> the unit's day (capacity 1: one session per child per day; a day with a
single target needs no node of its own) -> a node of the site-day's segment tree covering a
run of slots that suits the unit -> ... -> the slot (capacity: the site's devices; slots
without a facilitator are dropped) -> sink, plus a zero-cost source -> sink arc for the
supply that is not worth sending. The model is exact for the rules above: every integral
flow is a plan and every plan is a flow. The first-session arc of a unit costs -B * rank,
where rank orders the units' (priority 1, 2, 3 member counts) vectors lexicographically
(1 = least) and B is one more than all further sessions of the component are worth; further
session k costs -(members wanting at least k sessions).

Why this is the lexicographic optimum: the sets of units that can all get a first session
are the independent sets of a transversal matroid (units matched to free devices in slots
that suit them). For a matroid, every maximum-weight set for weights that order the elements
in a given way takes as many of the top class, then of the top two classes, ... as possible,
whatever the weights' values (the greedy algorithm sees only the order); with the ranks
above that is "most priority-1 children, then most priority-2, then priority-3". Every
first-session decision is worth B or more and all further sessions together less than B, so
stage 1 dominates stage 2. Min-cost flow with integral capacities has integral optima and
OR-Tools solves it exactly (cost scaling, status OPTIMAL), so the plan is optimal, and
`upper_bound`, the bound on `children_served` the solver proves, is the flow optimum itself:
it equals `children_served` (`reachable` is the weaker bound that ignores capacity).
`tests/test_reunion_solver.py` checks the optimum against brute force on small instances.

Scale. Each unit's feasible slots are computed with numpy for all units at once (runs of
slot indices per site-day), and a run is connected through O(log slots) tree nodes instead
of one arc per slot. The network splits into connected components (sites linked by units
that may use several of them: in practice a township), solved in batches of about
`BATCH_UNITS` units: small flows solve much faster than one big one. `solve(...,
workers=2)` solves the batches in forked processes. The cyclic garbage collector is paused
while planning (millions of small objects, no cycles).
"""

from __future__ import annotations

import gc
import itertools
import json
import multiprocessing
import re
import threading
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

Id = str | int
Window = tuple[int, int, int]  # (day, start minute, end minute)
Span = tuple[int, int]  # slot indices [lo, hi) of one site-day

MAX_SLOT_MINUTES = 240
MAX_ERRORS_SHOWN = 20
MAX_ERRORS_KEPT = 1000
BATCH_UNITS = 1500  # components are solved together until a batch has this many units

__all__ = [
    "Instance",
    "InstanceError",
    "Unit",
    "check_plan",
    "family_units",
    "greedy",
    "parse_instance",
    "solve",
]


class InstanceError(ValueError):
    """The instance breaks the documented format; `errors` names every offending entry."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        shown = "\n".join(self.errors[:MAX_ERRORS_SHOWN])
        more = len(self.errors) - MAX_ERRORS_SHOWN
        super().__init__(shown + (f"\n... and {more} more" if more > 0 else ""))


@dataclass(frozen=True, slots=True)
class Site:
    id: Id
    devices: tuple[Id, ...]
    open: tuple[Window, ...]
    cover: tuple[Window, ...]  # the facilitators' windows, each person's merged


@dataclass(frozen=True, slots=True)
class Child:
    id: Id
    family: Id | None
    sites: tuple[int, ...]  # site indices, ascending
    sessions: int
    priority: int
    windows: tuple[Window, ...]  # the parents' windows, each person's merged, sorted


@dataclass(frozen=True, slots=True)
class Instance:
    slot_minutes: int
    sites: tuple[Site, ...]
    children: tuple[Child, ...]


@dataclass(frozen=True, slots=True)
class Unit:
    """Children scheduled together (a family at a site they share, or one child)."""

    members: tuple[int, ...]  # child indices, ascending
    sites: tuple[int, ...]  # site indices every member can reach, ascending


@dataclass(frozen=True, slots=True)
class SiteDay:
    site: int
    day: int
    starts: tuple[int, ...]  # start minutes of the slots with a facilitator, ascending


# --- Times -------------------------------------------------------------------------------

_TIME = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)")
_time_cache: dict[str, int] = {}


def parse_time(text: object) -> int | None:
    """Minutes since midnight for "HH:MM" (00:00-24:00), None when it is not one."""
    if type(text) is not str:
        return None
    cached = _time_cache.get(text)
    if cached is not None:
        return cached
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    minutes = int(match[1]) * 60 + int(match[2])
    if minutes > 24 * 60:
        return None
    if len(_time_cache) < 10_000:
        _time_cache[text] = minutes
    return minutes


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def merge_windows(windows: Sequence[Window]) -> list[Window]:
    """One person's windows with overlapping or touching ones joined, sorted."""
    out: list[Window] = []
    for day, start, end in sorted(windows):
        if out and out[-1][0] == day and start <= out[-1][2]:
            if end > out[-1][2]:
                out[-1] = (day, out[-1][1], end)
        else:
            out.append((day, start, end))
    return out


def covered(windows: Sequence[Window], day: int, start: int, end: int) -> bool:
    return any(d == day and a <= start and end <= b for d, a, b in windows)


# --- Parsing and validation ----------------------------------------------------------------


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _is_id(value: object) -> TypeGuard[Id]:
    return (type(value) is str and value != "") or type(value) is int


def _label(kind: str, index: int, raw: object) -> str:
    if isinstance(raw, Mapping) and _is_id(raw.get("id")):
        return f"{kind}[{index}] (id {_show(raw['id'])})"
    return f"{kind}[{index}]"


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        if len(self.items) < MAX_ERRORS_KEPT:
            self.items.append(message)


def _windows(raw: object, field: str, where: Callable[[], str], errors: _Errors) -> list[Window]:
    """The windows of a list, each checked; errors name the entry and the window."""
    if type(raw) is list:  # the fast path, for well-formed windows with times seen before
        out: list[Window] = []
        try:
            for window in raw:
                day = window["day"]
                start, end = _time_cache[window["start"]], _time_cache[window["end"]]
                if type(day) is not int or not 1 <= day <= 7 or not start < end:
                    break
                out.append((day, start, end))
            else:
                return out
        except (KeyError, TypeError, IndexError):
            pass
    return _checked_windows(raw, field, where, errors)


def _checked_windows(
    raw: object, field: str, where: Callable[[], str], errors: _Errors
) -> list[Window]:
    if not isinstance(raw, list):
        errors.add(f"{where()}: {field} must be a list of windows")
        return []
    out: list[Window] = []
    for k, window in enumerate(raw):
        if not isinstance(window, Mapping):
            errors.add(f"{where()}: {field}[{k}] must be an object with day, start and end")
            continue
        day, start, end = window.get("day"), window.get("start"), window.get("end")
        start_min, end_min = parse_time(start), parse_time(end)
        if type(day) is not int or not 1 <= day <= 7:
            errors.add(f"{where()}: {field}[{k}]: day {_show(day)} is not in 1..7")
        elif start_min is None or start_min >= 24 * 60:
            errors.add(f"{where()}: {field}[{k}]: start {_show(start)} is not a time HH:MM")
        elif end_min is None:
            errors.add(f"{where()}: {field}[{k}]: end {_show(end)} is not a time HH:MM")
        elif end_min <= start_min:
            errors.add(
                f"{where()}: {field}[{k}]: end {hhmm(end_min)} is not after start {hhmm(start_min)}"
            )
        else:
            out.append((day, start_min, end_min))
    return out


def _check_id(
    kind: str, index: int, raw: Mapping[str, Any], seen: dict[Id, int], errors: _Errors
) -> None:
    value = raw.get("id")
    if not _is_id(value):
        errors.add(f"{kind}[{index}]: id {_show(value)} is not a non-empty string or integer")
    elif value in seen:
        errors.add(f"{kind}[{index}]: duplicate id {_show(value)} (also {kind}[{seen[value]}])")
    else:
        seen[value] = index


def _parse_devices(raw: object, where: Callable[[], str], errors: _Errors) -> tuple[Id, ...]:
    if type(raw) is int and raw >= 1:
        return tuple(range(1, raw + 1))
    if isinstance(raw, list) and raw and all(_is_id(d) for d in raw):
        if len(set(raw)) == len(raw):
            return tuple(raw)
        errors.add(f"{where()}: devices lists a device twice")
        return ()
    errors.add(f"{where()}: devices {_show(raw)} is not a positive integer or a list of ids")
    return ()


def _parse_site(
    index: int, raw: Mapping[str, Any], errors: _Errors
) -> tuple[tuple[Id, ...], tuple[Window, ...]]:
    def where() -> str:
        return _label("sites", index, raw)

    devices = _parse_devices(raw.get("devices"), where, errors)
    opens = sorted(_windows(raw.get("open"), "open", where, errors))
    for (d1, _, e1), (d2, s2, _) in itertools.pairwise(opens):
        if d1 == d2 and s2 < e1:
            errors.add(f"{where()}: openings overlap on day {d1} at {hhmm(s2)}")
    return devices, tuple(opens)


def _parse_child(
    index: int, raw: Mapping[str, Any], site_index: Mapping[Id, int], errors: _Errors
) -> Child | None:
    def where() -> str:
        return _label("children", index, raw)

    family = raw.get("family")
    if family is not None and not _is_id(family):
        errors.add(f"{where()}: family {_show(family)} is not a string or integer")
    sessions, priority = raw.get("sessions", 1), raw.get("priority", 3)
    if type(sessions) is not int or sessions < 0:
        errors.add(f"{where()}: sessions {_show(sessions)} is not a whole number >= 0")
    if type(priority) is not int or not 1 <= priority <= 3:
        errors.add(f"{where()}: priority {_show(priority)} is not 1, 2 or 3")
    sites: list[int] = []
    raw_sites = raw.get("sites")
    if not isinstance(raw_sites, list):
        errors.add(f"{where()}: sites must be a list of site ids")
        raw_sites = []
    for site_id in raw_sites:
        site = site_index.get(site_id) if _is_id(site_id) else None
        if site is None:
            errors.add(f"{where()}: site {_show(site_id)} does not exist")
        elif site in sites:
            errors.add(f"{where()}: site {_show(site_id)} is listed twice")
        else:
            sites.append(site)
    windows = _parent_windows(raw.get("parents"), where, errors)
    if type(sessions) is not int or type(priority) is not int:
        return None
    return Child(raw.get("id", ""), family, tuple(sorted(sites)), sessions, priority, windows)


def _parent_windows(raw: object, where: Callable[[], str], errors: _Errors) -> tuple[Window, ...]:
    if type(raw) is list and len(raw) == 1 and type(raw[0]) is dict and _is_id(raw[0].get("id")):

        def first() -> str:
            return f"{where()}: parents[0]"

        return tuple(merge_windows(_windows(raw[0].get("available"), "available", first, errors)))
    if not isinstance(raw, list):
        errors.add(f"{where()}: parents must be a list")
        return ()
    windows: set[Window] = set()
    seen: set[object] = set()
    for k, parent in enumerate(raw):
        if not isinstance(parent, Mapping):
            errors.add(f"{where()}: parents[{k}] must be an object with id and available")
            continue
        pid = parent.get("id")
        if not _is_id(pid):
            errors.add(f"{where()}: parents[{k}]: id {_show(pid)} is not a string or integer")
        elif pid in seen:
            errors.add(f"{where()}: parents[{k}]: parent {_show(pid)} is listed twice")
        seen.add(pid if _is_id(pid) else k)

        def at(k: int = k) -> str:
            return f"{where()}: parents[{k}]"

        windows.update(merge_windows(_windows(parent.get("available"), "available", at, errors)))
    return tuple(sorted(windows))


def _entries(data: Mapping[str, Any], key: str, errors: _Errors) -> list[tuple[int, Any]]:
    """(index, entry) of the objects in the list `key`; other entries are errors."""
    raw = data.get(key)
    if not isinstance(raw, list):
        errors.add(f"{key}: must be a list")
        return []
    out = []
    for i, entry in enumerate(raw):
        if isinstance(entry, Mapping):
            out.append((i, entry))
        else:
            errors.add(f"{key}[{i}]: must be an object")
    return out


def parse_instance(data: object) -> Instance:
    """The validated instance; `InstanceError` names every offending entry."""
    if not isinstance(data, Mapping):
        raise InstanceError(["instance: must be a JSON object"])
    errors = _Errors()
    slot = data.get("slot_minutes")
    if type(slot) is not int or not 1 <= slot <= MAX_SLOT_MINUTES:
        errors.add(f"slot_minutes: {_show(slot)} is not a whole number of minutes in 1..240")
    raw_sites = _entries(data, "sites", errors)
    raw_facilitators = _entries(data, "facilitators", errors)
    raw_children = _entries(data, "children", errors)

    # Positions in the lists of valid entries; any invalid entry raises below anyway.
    site_index: dict[Id, int] = {}
    parsed = []
    for i, raw in raw_sites:
        _check_id("sites", i, raw, site_index, errors)
        parsed.append(_parse_site(i, raw, errors))
    covers = _facilitator_cover(raw_facilitators, len(raw_sites), site_index, errors)
    seen: dict[Id, int] = {}
    children = []
    for i, raw in raw_children:
        _check_id("children", i, raw, seen, errors)
        children.append(_parse_child(i, raw, site_index, errors))
    if errors.items:
        raise InstanceError(errors.items)
    sites = tuple(
        Site(raw["id"], devices, opens, cover)
        for (_, raw), (devices, opens), cover in zip(raw_sites, parsed, covers, strict=True)
    )
    assert isinstance(slot, int)
    return Instance(slot, sites, tuple(c for c in children if c is not None))


def _facilitator_cover(
    raw: list[tuple[int, Any]], sites: int, site_index: Mapping[Id, int], errors: _Errors
) -> list[tuple[Window, ...]]:
    covers: list[set[Window]] = [set() for _ in range(sites)]
    seen: dict[Id, int] = {}
    for i, fac in raw:

        def where(i: int = i, fac: Mapping[str, Any] = fac) -> str:
            return _label("facilitators", i, fac)

        _check_id("facilitators", i, fac, seen, errors)
        windows = merge_windows(_windows(fac.get("available"), "available", where, errors))
        site_id = fac.get("site")
        site = site_index.get(site_id) if _is_id(site_id) else None
        if site is None:
            errors.add(f"{where()}: site {_show(site_id)} does not exist")
        else:
            covers[site].update(windows)
    return [tuple(sorted(c)) for c in covers]


# --- Units and slots -----------------------------------------------------------------------


def family_units(instance: Instance) -> list[Unit]:
    """The scheduling units (module docstring, "Family units"), ordered by first member."""
    families: dict[Id, list[int]] = defaultdict(list)
    units: list[Unit] = []
    for i, child in enumerate(instance.children):
        if child.sessions == 0:
            continue
        if child.family is None:
            units.append(Unit((i,), child.sites))
        else:
            families[child.family].append(i)
    for members in families.values():
        if len(members) == 1:
            units.append(Unit((members[0],), instance.children[members[0]].sites))
        else:
            units.extend(_family_split(instance, members))
    units.sort(key=lambda u: u.members[0])
    return units


def _family_split(instance: Instance, members: list[int]) -> list[Unit]:
    groups: list[list[int]] = []  # siblings linked through shared sites
    for m in members:
        sites = set(instance.children[m].sites)
        linked = [g for g in groups if any(sites & set(instance.children[o].sites) for o in g)]
        merged = [m] + [o for g in linked for o in g]
        groups = [g for g in groups if g not in linked] + [sorted(merged)]
    units = []
    for group in groups:
        common = set.intersection(*(set(instance.children[m].sites) for m in group))
        if common:
            units.append(Unit(tuple(group), tuple(sorted(common))))
            continue
        by_sites: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for m in group:
            by_sites[instance.children[m].sites].append(m)
        units.extend(Unit(tuple(ms), sites) for sites, ms in by_sites.items())
    return units


def site_days(instance: Instance) -> list[SiteDay]:
    """Every site-day with at least one slot that has a facilitator, by site then day."""
    step = instance.slot_minutes
    out: list[SiteDay] = []
    for s, site in enumerate(instance.sites):
        by_day: dict[int, list[int]] = defaultdict(list)
        for day, start, end in site.open:
            cover = [(a, b) for d, a, b in site.cover if d == day]
            for t in range(start, end - step + 1, step):
                if any(a <= t and t + step <= b for a, b in cover):
                    by_day[day].append(t)
        out.extend(SiteDay(s, day, tuple(sorted(by_day[day]))) for day in sorted(by_day))
    return out


def _merge_spans(spans: list[Span]) -> list[Span]:
    spans.sort()
    out: list[Span] = []
    for lo, hi in spans:
        if out and lo <= out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _intersect_spans(a: list[Span], b: list[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


KEY = 2048  # more than the minutes of a day and the slots of a site-day
MAX_DAYS = 7
I64 = npt.NDArray[np.int64]


def _floor_log2(values: I64) -> I64:
    exponent: I64 = np.frexp(values)[1].astype(np.int64)
    return exponent - 1


def _group_starts(*keys: I64) -> npt.NDArray[np.bool_]:
    """For rows sorted by `keys`, True where a new group of equal keys begins."""
    new = np.zeros(len(keys[0]), dtype=bool)
    new[:1] = True
    for key in keys:
        new[1:] |= key[1:] != key[:-1]
    return new


def _rank_in_group(new: npt.NDArray[np.bool_]) -> I64:
    index = np.arange(len(new), dtype=np.int64)
    first: I64 = np.maximum.accumulate(np.where(new, index, 0))
    return index - first


def _ragged(counts: I64) -> tuple[I64, I64]:
    """(owner, position) for concatenated runs of the given lengths: run k gives counts[k]
    rows (k, 0), (k, 1), ..."""
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner), dtype=np.int64) - starts[owner]


@dataclass(slots=True)
class _Context:
    """The instance prepared for planning: units, the slot grid and per-unit arrays."""

    instance: Instance
    units: list[Unit]
    grid: list[SiteDay]
    sd_site: I64  # per site-day
    sd_day: I64
    sd_slots: I64
    sd_size: I64  # leaves of its segment tree: the power of two >= its slots
    sd_devices: I64
    sd_offset: I64  # where its slots start in `keys`
    keys: I64  # site-day * KEY + start minute of every slot, ascending
    lookup: I64  # site * 8 + day -> site-day, or -1
    demand: I64  # per unit: sessions it can use, at most one a day
    values: I64  # [k, unit]: members wanting at least k sessions
    ranks: I64  # per unit: rank of its (priority 1, 2, 3 member counts), 1 = least
    best: I64  # per unit: its highest priority (1 is highest)

    @classmethod
    def build(cls, instance: Instance) -> _Context:
        grid = site_days(instance)
        units = family_units(instance)
        slots = np.array([len(sd.starts) for sd in grid], dtype=np.int64)
        site = np.array([sd.site for sd in grid], dtype=np.int64)
        day = np.array([sd.day for sd in grid], dtype=np.int64)
        lookup = np.full(len(instance.sites) * 8, -1, dtype=np.int64)
        lookup[site * 8 + day] = np.arange(len(grid))
        devices = np.array([len(s.devices) for s in instance.sites], dtype=np.int64)
        keys = np.fromiter(
            itertools.chain.from_iterable(
                (k * KEY + t for t in sd.starts) for k, sd in enumerate(grid)
            ),
            dtype=np.int64,
            count=int(slots.sum()),
        )
        owner = np.repeat(np.arange(len(units)), [len(u.members) for u in units])
        members = [m for u in units for m in u.members]
        sessions = np.array([instance.children[m].sessions for m in members], dtype=np.int64)
        priority = np.array([instance.children[m].priority for m in members], dtype=np.int64)
        values = np.stack(
            [np.bincount(owner[sessions >= k], minlength=len(units)) for k in range(MAX_DAYS + 1)]
        )
        counts = [np.bincount(owner[priority == p], minlength=len(units)) for p in (1, 2, 3)]
        width = max((len(u.members) for u in units), default=0) + 1
        code = (counts[0] * width + counts[1]) * width + counts[2]
        best = np.full(len(units), 3, dtype=np.int64)
        np.minimum.at(best, owner, priority)
        return cls(
            instance=instance,
            units=units,
            grid=grid,
            sd_site=site,
            sd_day=day,
            sd_slots=slots,
            sd_size=np.left_shift(1, np.ceil(np.log2(np.maximum(slots, 1))).astype(np.int64)),
            sd_devices=devices[site],
            sd_offset=np.cumsum(slots) - slots,
            keys=keys,
            lookup=lookup,
            demand=(values[1:] > 0).sum(axis=0),
            values=values,
            ranks=np.unique(code, return_inverse=True)[1].astype(np.int64) + 1,
            best=best,
        )

    def options(self, unit: Unit) -> list[tuple[int, int, list[Span]]]:
        """(day, site-day, slot spans) where the unit can meet, by site then day. The plain
        version of `_span_table`, used for units whose members' parents differ."""
        step = self.instance.slot_minutes
        per_member = []
        for windows in {self.instance.children[m].windows for m in unit.members}:
            by_day: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for day, a, b in windows:
                by_day[day].append((a, b - step))
            per_member.append(by_day)
        out = []
        for site in unit.sites:
            for day in range(1, 8):
                k = int(self.lookup[site * 8 + day])
                if k < 0:
                    continue
                starts = self.grid[k].starts
                spans: list[Span] | None = None
                for by_day in per_member:
                    mine = [
                        (bisect_left(starts, a), bisect_right(starts, last))
                        for a, last in by_day.get(day, ())
                    ]
                    mine = _merge_spans([s for s in mine if s[0] < s[1]])
                    spans = mine if spans is None else _intersect_spans(spans, mine)
                    if not spans:
                        break
                if spans:
                    out.append((day, k, spans))
        return out


def _components(ctx: _Context) -> tuple[I64, list[list[int]]]:
    """Per unit its component (sites linked by units that can use several; -1: no site),
    and the units of each component."""
    parent = list(range(len(ctx.instance.sites)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for unit in ctx.units:
        for s in unit.sites[1:]:
            a, b = find(unit.sites[0]), find(s)
            if a != b:
                parent[b] = a
    groups: dict[int, list[int]] = defaultdict(list)
    for u, unit in enumerate(ctx.units):
        if unit.sites:
            groups[find(unit.sites[0])].append(u)
    comp = np.full(len(ctx.units), -1, dtype=np.int64)
    ordered = [groups[root] for root in sorted(groups, key=lambda r: groups[r][0])]
    for c, members in enumerate(ordered):
        comp[members] = c
    return comp, ordered


# --- Where each unit can meet ---------------------------------------------------------------


def _span_table(ctx: _Context, unit_ids: Sequence[int]) -> tuple[I64, I64, I64, I64]:
    """(unit, site-day, lo, hi): the runs of slots [lo, hi) each unit can use, merged and
    sorted by unit, site-day, lo. Vectorised over the units whose members share parents'
    windows (nearly all); the others go through `_Context.options`."""
    inst, step = ctx.instance, ctx.instance.slot_minutes
    simple: list[int] = []
    mixed: list[int] = []
    for u in unit_ids:
        members = ctx.units[u].members
        first = inst.children[members[0]].windows
        same = all(inst.children[m].windows == first for m in members[1:])
        (simple if same else mixed).append(u)
    windows = [inst.children[ctx.units[u].members[0]].windows for u in simple]
    wcount = np.fromiter(map(len, windows), dtype=np.int64, count=len(windows))
    flat = np.fromiter(
        itertools.chain.from_iterable(itertools.chain.from_iterable(windows)),
        dtype=np.int64,
        count=3 * int(wcount.sum()),
    ).reshape(-1, 3)
    sites = [ctx.units[u].sites for u in simple]
    scount = np.fromiter(map(len, sites), dtype=np.int64, count=len(sites))
    sflat = np.fromiter(itertools.chain.from_iterable(sites), np.int64, int(scount.sum()))
    wunit = np.repeat(np.arange(len(simple), dtype=np.int64), wcount)
    row, copy = _ragged(scount[wunit])  # each window once per site of its unit
    pos = wunit[row]
    site = sflat[(np.cumsum(scount) - scount)[pos] + copy]
    day, start, end = flat[row, 0], flat[row, 1], flat[row, 2]
    sd = ctx.lookup[site * 8 + day]
    keep = sd >= 0
    sd, start, end, pos = sd[keep], start[keep], end[keep], pos[keep]
    lo = np.searchsorted(ctx.keys, sd * KEY + start, "left") - ctx.sd_offset[sd]
    hi = np.searchsorted(ctx.keys, sd * KEY + end - step, "right") - ctx.sd_offset[sd]
    keep = lo < hi
    parts = [(np.asarray(simple, dtype=np.int64)[pos[keep]], sd[keep], lo[keep], hi[keep])]
    extra = [
        (u, k, a, b) for u in mixed for _, k, spans in ctx.options(ctx.units[u]) for a, b in spans
    ]
    if extra:
        cols = np.array(extra, dtype=np.int64).T
        parts.append((cols[0], cols[1], cols[2], cols[3]))
    unit, sd, lo, hi = (np.concatenate(col) for col in zip(*parts, strict=True))
    return _merge_table(unit, sd, lo, hi)


def _merge_table(unit: I64, sd: I64, lo: I64, hi: I64) -> tuple[I64, I64, I64, I64]:
    order = np.lexsort((lo, sd, unit))
    unit, sd, lo, hi = unit[order], sd[order], lo[order], hi[order]
    new = _group_starts(unit, sd)
    group = np.cumsum(new)
    reach = np.maximum.accumulate(hi + group * KEY) - group * KEY  # running max of hi
    start = new.copy()
    start[1:] |= lo[1:] > reach[:-1]
    last = np.zeros_like(start)
    last[:-1] = start[1:]
    last[-1:] = True
    return unit[start], sd[start], lo[start], reach[last]


def _tree_cover(ctx: _Context, sd: I64, lo: I64, hi: I64) -> tuple[I64, I64]:
    """(row, node): segment-tree nodes (1-based; node i has children 2i and 2i + 1, leaf
    size + j is slot j) whose leaves are exactly the slots [lo, hi) of each row. A run up to
    the last slot also takes the padding leaves, which have no capacity, to use fewer nodes."""
    size = ctx.sd_size[sd]
    left = lo + size
    right = np.where(hi == ctx.sd_slots[sd], 2 * size, hi + size)
    rows = np.arange(len(lo), dtype=np.int64)
    out_rows: list[I64] = [rows[:0]]
    out_nodes: list[I64] = [rows[:0]]
    while len(rows):
        take = (left & 1) == 1
        out_rows.append(rows[take])
        out_nodes.append(left[take])
        left = left + take
        take = (right & 1) == 1
        right = right - take
        out_rows.append(rows[take])
        out_nodes.append(right[take])
        left, right = left >> 1, right >> 1
        live = left < right
        rows, left, right = rows[live], left[live], right[live]
    return np.concatenate(out_rows), np.concatenate(out_nodes)


# --- The flow -----------------------------------------------------------------------------


class _Arcs:
    """Arcs collected as numpy blocks and handed to OR-Tools at once."""

    def __init__(self) -> None:
        self.blocks: list[tuple[I64, I64, I64, I64]] = []
        self.count = 0

    def add(self, tails: I64 | int, heads: I64 | int, caps: I64 | int, costs: I64 | int = 0) -> I64:
        """Adds the arcs (scalars are broadcast); returns their indices."""
        columns = map(np.atleast_1d, (tails, heads, caps, costs))
        block = [np.array(a, dtype=np.int64) for a in np.broadcast_arrays(*columns)]
        self.blocks.append((block[0], block[1], block[2], block[3]))
        first = self.count
        self.count += len(block[0])
        return np.arange(first, self.count, dtype=np.int64)

    def arrays(self) -> tuple[I64, I64, I64, I64]:
        cols = [np.concatenate(col) for col in zip(*self.blocks, strict=True)]
        return cols[0], cols[1], cols[2], cols[3]


@dataclass(slots=True)
class _Batch:
    """The flow network of a batch of components, and what is needed to read its flow."""

    arcs: tuple[I64, I64, I64, I64]  # tails, heads, capacities, unit costs
    supply: int
    nodes: int
    reachable: I64  # units with at least one feasible slot
    target: tuple[I64, I64, I64, I64, I64]  # arc, unit, site-day, tree node, tree base
    left: tuple[I64, I64]  # arc i -> 2i of every tree node: arc, tail


def _first_leaf(ctx: _Context, sd: I64, node: I64) -> I64:
    depth = _floor_log2(ctx.sd_size[sd]) - _floor_log2(node)
    return (node << depth) - ctx.sd_size[sd]


def _build_batch(ctx: _Context, unit_ids: Sequence[int], comp: I64) -> _Batch:
    unit, sd, lo, hi = _span_table(ctx, unit_ids)
    row, node = _tree_cover(ctx, sd, lo, hi)
    unit, sd = unit[row], sd[row]
    live = _first_leaf(ctx, sd, node) < ctx.sd_slots[sd]  # not padding only
    unit, sd, node = unit[live], sd[live], node[live]
    order = np.lexsort((node, sd, ctx.sd_day[sd], unit))
    unit, sd, node = unit[order], sd[order], node[order]
    new_day = _group_starts(unit, ctx.sd_day[sd])  # groups: one unit on one day
    group = np.cumsum(new_day) - 1
    reachable, local = np.unique(unit, return_inverse=True)
    n_units = len(reachable)
    group_unit = local[new_day]
    demand = np.minimum(ctx.demand[reachable], np.bincount(group_unit, minlength=n_units))
    # Nodes: 0 source, 1 sink, the units, their days with several targets, the trees.
    unit_node = 2 + np.arange(n_units, dtype=np.int64)
    shared = np.bincount(group) > 1
    group_node = unit_node[group_unit]
    group_node[shared] = 2 + n_units + np.arange(int(shared.sum()))
    used, which = np.unique(sd, return_inverse=True)
    span = 2 * ctx.sd_size[used] - 1
    bases = 2 + n_units + int(shared.sum()) + np.cumsum(span) - span
    arcs = _Arcs()
    ranks = np.unique(ctx.ranks[reachable], return_inverse=True)[1] + 1  # small costs, fast
    arcs.add(0, unit_node, 1, -_stage_one_unit(ctx, reachable, demand, comp) * ranks)
    for k in range(2, MAX_DAYS + 1):
        more = np.flatnonzero(demand >= k)
        arcs.add(0, unit_node[more], 1, -ctx.values[k, reachable[more]])
    arcs.add(unit_node[group_unit[shared]], group_node[shared], 1)
    target = arcs.add(group_node[group], bases[which] + node - 1, 1)
    left = _add_tree_arcs(arcs, ctx, used, bases)
    supply = int(demand.sum())
    arcs.add(0, 1, supply)  # what is not worth sending
    return _Batch(
        arcs=arcs.arrays(),
        supply=supply,
        nodes=int(bases[-1] + span[-1]) if len(used) else 2,
        reachable=reachable,
        target=(target, unit, sd, node, bases[which]),
        left=left,
    )


def _stage_one_unit(ctx: _Context, reachable: I64, demand: I64, comp: I64) -> I64:
    """Per unit, B of its component: more than all further sessions there are worth."""
    further = np.zeros(len(reachable), dtype=np.int64)
    for k in range(2, MAX_DAYS + 1):
        further += np.where(demand >= k, ctx.values[k, reachable], 0)
    _, where = np.unique(comp[reachable], return_inverse=True)
    total = np.zeros(int(where.max(initial=-1)) + 1, dtype=np.int64)
    np.add.at(total, where, further)
    result: I64 = 1 + total[where]
    return result


def _add_tree_arcs(arcs: _Arcs, ctx: _Context, used: I64, bases: I64) -> tuple[I64, I64]:
    """Arcs of the used site-days' trees (none into padding-only subtrees) and from each
    slot to the sink; returns the arcs i -> 2i with their tails."""
    size, slots, devices = ctx.sd_size[used], ctx.sd_slots[used], ctx.sd_devices[used]
    tree, inner = _ragged(size - 1)
    inner += 1  # internal nodes 1 .. size - 1
    base = bases[tree]
    levels = _floor_log2(size)[tree]
    left: tuple[I64, I64] = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    for side in (0, 1):
        child = 2 * inner + side
        live = (child << (levels - _floor_log2(child))) - size[tree] < slots[tree]
        tails = base[live] + inner[live] - 1
        added = arcs.add(tails, base[live] + child[live] - 1, (slots * devices)[tree][live])
        if side == 0:
            left = (added, tails)
    leaf_tree, j = _ragged(slots)
    arcs.add(bases[leaf_tree] + size[leaf_tree] + j - 1, 1, devices[leaf_tree])
    return left


def _min_cost_flow(arcs: tuple[I64, I64, I64, I64], supply: int) -> I64:
    """Flow on every arc of an optimal flow of `supply` units from node 0 to node 1."""
    mcf = min_cost_flow.SimpleMinCostFlow()
    tails, heads, caps, costs = arcs
    mcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    mcf.set_node_supply(0, supply)
    mcf.set_node_supply(1, -supply)
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    flows: I64 = np.asarray(mcf.flows(np.arange(len(tails), dtype=np.int32)), dtype=np.int64)
    return flows


def _decompose(ctx: _Context, batch: _Batch, flows: I64) -> tuple[I64, I64, I64, I64]:
    """(unit, site-day, slot, device) of each session: every unit's flow followed down its
    tree, the first units (by index) of a node taking its left child's share."""
    arc, unit, sd, node, base = batch.target
    hit = flows[arc] > 0
    unit, sd, node, base = unit[hit], sd[hit], node[hit].copy(), base[hit]
    left_flow = np.zeros(batch.nodes, dtype=np.int64)
    left_flow[batch.left[1]] = flows[batch.left[0]]
    size = ctx.sd_size[sd]
    while True:
        inner = np.flatnonzero(node < size)
        if not len(inner):
            break
        depth = _floor_log2(node[inner])
        here = inner[depth == depth.min()]
        tree_node = base[here] + node[here] - 1
        order = np.lexsort((unit[here], tree_node))
        here, tree_node = here[order], tree_node[order]
        rank = _rank_in_group(_group_starts(tree_node))
        node[here] = 2 * node[here] + (rank >= left_flow[tree_node])
    slot = node - size
    order = np.lexsort((unit, slot, sd))
    unit, sd, slot = unit[order], sd[order], slot[order]
    return unit, sd, slot, _rank_in_group(_group_starts(sd, slot))


def _batches(groups: list[list[int]]) -> Iterator[list[int]]:
    batch: list[int] = []
    for group in groups:
        batch.extend(group)
        if len(batch) >= BATCH_UNITS:
            yield batch
            batch = []
    if batch:
        yield batch


Found = tuple[tuple[I64, I64, I64, I64], I64]  # sessions (unit, site-day, slot, device), reachable


def _solve_batch(ctx: _Context, comp: I64, unit_ids: list[int]) -> Found:
    batch = _build_batch(ctx, unit_ids, comp)
    flows = _min_cost_flow(batch.arcs, batch.supply)
    return _decompose(ctx, batch, flows), batch.reachable


# What forked workers inherit: the prepared instance is large and only read, so it is shared
# copy-on-write instead of being pickled to each process. The lock keeps two threads that
# plan at once from swapping it under each other's workers.
_shared: tuple[_Context, I64] | None = None
_fork_lock = threading.Lock()


def _forked_batch(unit_ids: list[int]) -> Found:
    assert _shared is not None
    return _solve_batch(*_shared, unit_ids)


def _solve_all(ctx: _Context, workers: int) -> Found:
    global _shared
    comp, groups = _components(ctx)
    if workers <= 1:
        found = [_solve_batch(ctx, comp, ids) for ids in _batches(groups)]
    else:
        fork = multiprocessing.get_context("fork")
        with _fork_lock:
            _shared = (ctx, comp)
            try:
                with ProcessPoolExecutor(workers, mp_context=fork) as pool:
                    found = list(pool.map(_forked_batch, _batches(groups), chunksize=4))
            finally:
                _shared = None
    empty = [np.zeros(0, dtype=np.int64)]
    columns = [np.concatenate([f[0][i] for f in found] or empty) for i in range(4)]
    reachable = np.concatenate([f[1] for f in found] or empty)
    return (columns[0], columns[1], columns[2], columns[3]), reachable


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Planning makes millions of small objects and no reference cycles: without this, the
    cyclic collector scans the whole instance again and again (half the Python time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- Plans ---------------------------------------------------------------------------------


def _plan(
    ctx: _Context,
    sessions: tuple[I64, I64, I64, I64],
    reachable: I64,
    started: float,
    method: str,
) -> dict[str, Any]:
    inst = ctx.instance
    unit, sd, slot, device = sessions
    start = ctx.keys[ctx.sd_offset[sd] + slot] - sd * KEY
    site = ctx.sd_site[sd]
    order = np.lexsort((device, site, start, ctx.sd_day[sd]))
    assignments = [
        {
            "children": [inst.children[m].id for m in ctx.units[u].members],
            "site": inst.sites[s].id,
            "day": day,
            "start": hhmm(t),
            "device": inst.sites[s].devices[d],
        }
        for u, s, day, t, d in zip(
            unit[order].tolist(),
            site[order].tolist(),
            ctx.sd_day[sd][order].tolist(),
            start[order].tolist(),
            device[order].tolist(),
            strict=True,
        )
    ]
    got = np.bincount(unit, minlength=len(ctx.units))
    served_units = np.flatnonzero(got > 0)
    served = np.zeros(len(inst.children), dtype=bool)
    for u in served_units.tolist():
        served[list(ctx.units[u].members)] = True
    child_sessions = sum(int((ctx.values[k] * (got >= k)).sum()) for k in range(1, MAX_DAYS + 1))
    by_priority = {str(p): 0 for p in (1, 2, 3)}
    for m in np.flatnonzero(served).tolist():
        by_priority[str(inst.children[m].priority)] += 1
    exact = method == "min-cost flow"
    stats = {
        "sessions": len(assignments),
        "child_sessions": child_sessions,
        "children": len(inst.children),
        "children_wanting": sum(1 for c in inst.children if c.sessions > 0),
        "children_served": int(served.sum()),
        "served_by_priority": by_priority,
        "upper_bound": int(served.sum()) if exact else None,
        "reachable": int(ctx.values[1, reachable].sum()),
        "units": len(ctx.units),
        "status": "optimal" if exact else "feasible",
        "method": method,
        "seconds": round(time.perf_counter() - started, 3),
    }
    unserved = [c.id for m, c in enumerate(inst.children) if c.sessions > 0 and not served[m]]
    return {"assignments": assignments, "unserved": unserved, "stats": stats}


def _instance(data: Mapping[str, Any] | Instance) -> Instance:
    return data if isinstance(data, Instance) else parse_instance(data)


def solve(data: Mapping[str, Any] | Instance, *, workers: int = 1) -> dict[str, Any]:
    """The optimal plan for the instance (module docstring); raises `InstanceError`.
    `workers` > 1 solves batches of components in that many forked processes."""
    started = time.perf_counter()
    with _quiet_gc():
        ctx = _Context.build(_instance(data))
        sessions, reachable = _solve_all(ctx, workers)
        return _plan(ctx, sessions, reachable, started, "min-cost flow")


def greedy(data: Mapping[str, Any] | Instance) -> dict[str, Any]:
    """The first-fit baseline: units by highest priority (then input order) take the first
    free device of the first feasible slot, by site, day and time; a second pass adds the
    further sessions the same way, on days the unit has no session yet. Its stats have
    status "feasible" and upper_bound null."""
    started = time.perf_counter()
    with _quiet_gc():
        ctx = _Context.build(_instance(data))
        return _plan(ctx, *_first_fit(ctx), started, "greedy first-fit")


def _first_fit(ctx: _Context) -> Found:
    options: list[list[tuple[int, int, int]]] = [[] for _ in ctx.units]  # (day, lo, hi)
    for first in range(0, len(ctx.units), 50_000):
        unit, sd, lo, hi = _span_table(ctx, range(first, min(first + 50_000, len(ctx.units))))
        offset = ctx.sd_offset[sd]  # slots are numbered across site-days from here on
        rows = zip(
            unit.tolist(),
            ctx.sd_day[sd].tolist(),
            (offset + lo).tolist(),
            (offset + hi).tolist(),
            strict=True,
        )
        for u, day, a, b in rows:
            options[u].append((day, a, b))
    free = np.repeat(ctx.sd_devices, ctx.sd_slots).tolist()
    jump = list(range(len(free) + 1))  # jump[i] == i: slot i has a free device, or is the end

    def first_free(i: int) -> int:
        root = i
        while jump[root] != root:
            root = jump[root]
        while jump[i] != root:
            jump[i], i = root, jump[i]
        return root

    order = sorted(range(len(ctx.units)), key=lambda u: (int(ctx.best[u]), u))
    taken: list[tuple[int, int]] = []  # (unit, slot)
    days: list[set[int]] = [set() for _ in ctx.units]
    for wanted in (1, MAX_DAYS):
        for u in order:
            demand = min(wanted, int(ctx.demand[u]))
            for day, a, b in options[u]:
                if len(days[u]) >= demand:
                    break
                i = first_free(a) if day not in days[u] else b
                if i < b:
                    free[i] -= 1
                    if free[i] == 0:
                        jump[i] = i + 1
                    taken.append((u, i))
                    days[u].add(day)
    unit = np.array([u for u, _ in taken], dtype=np.int64)
    index = np.array([i for _, i in taken], dtype=np.int64)
    sd = ctx.keys[index] // KEY
    slot = index - ctx.sd_offset[sd]
    order_ = np.lexsort((unit, slot, sd))  # devices in unit order within a slot
    unit, sd, slot = unit[order_], sd[order_], slot[order_]
    device = _rank_in_group(_group_starts(sd, slot))
    reachable = np.array([u for u, opts in enumerate(options) if opts], dtype=np.int64)
    return (unit, sd, slot, device), reachable


# --- Checking a plan -----------------------------------------------------------------------


@dataclass(slots=True)
class _Audit:
    instance: Instance
    units: list[Unit]
    unit_of: dict[int, int]
    child_index: dict[Id, int]
    site_index: dict[Id, int]
    problems: list[str]
    booked: dict[tuple[int, int, Id], list[tuple[int, int]]]  # -> (start, assignment)
    child_days: dict[tuple[int, int], int]  # (child, day) -> first assignment
    unit_sessions: dict[int, int]

    def slot_ok(self, where: str, site: int, day: int, start: int) -> bool:
        step = self.instance.slot_minutes
        s = self.instance.sites[site]
        on_grid = any(
            d == day and a <= start and start + step <= b and (start - a) % step == 0
            for d, a, b in s.open
        )
        if not on_grid:
            self.problems.append(
                f"{where}: site {_show(s.id)} has no slot starting {hhmm(start)} on day {day}"
            )
        elif not covered(s.cover, day, start, start + step):
            self.problems.append(
                f"{where}: no facilitator of site {_show(s.id)} is available "
                f"{hhmm(start)}-{hhmm(start + step)} on day {day}"
            )
        return on_grid

    def children(self, where: str, raw: object) -> list[int]:
        if not isinstance(raw, list) or not raw:
            self.problems.append(f"{where}: children must be a non-empty list of child ids")
            return []
        out: list[int] = []
        for cid in raw:
            m = self.child_index.get(cid) if _is_id(cid) else None
            if m is None:
                self.problems.append(f"{where}: child {_show(cid)} does not exist")
            elif m in out:
                self.problems.append(f"{where}: child {_show(cid)} is listed twice")
            else:
                out.append(m)
        return out

    def child_rules(self, where: str, a: int, m: int, site: int, day: int, start: int) -> None:
        child = self.instance.children[m]
        step = self.instance.slot_minutes
        name = f"child {_show(child.id)}"
        if child.sessions == 0:
            self.problems.append(f"{where}: {name} wants no sessions")
        if site not in child.sites:
            site_id = _show(self.instance.sites[site].id)
            self.problems.append(f"{where}: {name} cannot reach site {site_id}")
        if not covered(child.windows, day, start, start + step):
            self.problems.append(
                f"{where}: no parent of {name} is available "
                f"{hhmm(start)}-{hhmm(start + step)} on day {day}"
            )
        first = self.child_days.setdefault((m, day), a)
        if first != a:
            self.problems.append(
                f"{where}: {name} already has a session on day {day} (assignments[{first}])"
            )

    def unit_rule(self, where: str, members: list[int]) -> None:
        names = self.names
        planned = {m for m in members if m in self.unit_of}  # not those wanting no session
        units = sorted({self.unit_of[m] for m in planned})
        if len(units) > 1:
            groups = " and ".join(names(self.units[u].members) for u in units)
            self.problems.append(f"{where}: one session for separate units {groups}")
        elif units and set(self.units[units[0]].members) != planned:
            family = names(self.units[units[0]].members)
            self.problems.append(f"{where}: siblings split: the family unit is {family}")
        for u in units:
            self.unit_sessions[u] = self.unit_sessions.get(u, 0) + 1

    def names(self, members: Sequence[int]) -> str:
        return _show([self.instance.children[m].id for m in members])

    def assignment(self, a: int, raw: object) -> None:
        where = f"assignments[{a}]"
        if not isinstance(raw, Mapping):
            self.problems.append(f"{where}: must be an object")
            return
        site_id, day, start = raw.get("site"), raw.get("day"), parse_time(raw.get("start"))
        site = self.site_index.get(site_id) if _is_id(site_id) else None
        members = self.children(where, raw.get("children"))
        self.unit_rule(where, members)
        if site is None:
            self.problems.append(f"{where}: site {_show(site_id)} does not exist")
            return
        if type(day) is not int or not 1 <= day <= 7:
            self.problems.append(f"{where}: day {_show(day)} is not in 1..7")
            return
        if start is None:
            self.problems.append(f"{where}: start {_show(raw.get('start'))} is not HH:MM")
            return
        device = raw.get("device")
        if not _is_id(device) or device not in self.instance.sites[site].devices:
            self.problems.append(f"{where}: site {_show(site_id)} has no device {_show(device)}")
        elif self.slot_ok(where, site, day, start):
            self.booked.setdefault((site, day, device), []).append((start, a))
        for m in members:
            self.child_rules(where, a, m, site, day, start)

    def double_bookings(self) -> None:
        step = self.instance.slot_minutes
        for (site, day, device), uses in self.booked.items():
            uses.sort()
            for (s1, a1), (s2, a2) in itertools.pairwise(uses):
                if s2 < s1 + step:
                    self.problems.append(
                        f"assignments[{a2}]: device {_show(device)} of site "
                        f"{_show(self.instance.sites[site].id)} is already booked at "
                        f"{hhmm(s1)} on day {day} (assignments[{a1}])"
                    )

    def totals(self, plan: Mapping[str, Any], assignments: int) -> None:
        for u, count in sorted(self.unit_sessions.items()):
            wanted = max(self.instance.children[m].sessions for m in self.units[u].members)
            if count > wanted:
                self.problems.append(
                    f"{self.names(self.units[u].members)} get {count} sessions, "
                    f"more than the {wanted} wanted"
                )
        served = {m for m, _ in self.child_days}
        self.unserved(plan.get("unserved"), served)
        stats = plan.get("stats")
        if isinstance(stats, Mapping):
            self.stats(stats, assignments, len(served))

    def unserved(self, raw: object, served: set[int]) -> None:
        if not isinstance(raw, list):
            self.problems.append("unserved: must be a list of child ids")
            return
        listed = set()
        for cid in raw:
            m = self.child_index.get(cid) if _is_id(cid) else None
            if m is None:
                self.problems.append(f"unserved: child {_show(cid)} does not exist")
            elif m in served:
                self.problems.append(f"unserved: child {_show(cid)} has a session")
            else:
                listed.add(m)
        for m, child in enumerate(self.instance.children):
            if child.sessions > 0 and m not in served and m not in listed:
                self.problems.append(f"unserved: child {_show(child.id)} is missing")

    def stats(self, stats: Mapping[str, Any], assignments: int, served: int) -> None:
        if stats.get("sessions") != assignments:
            self.problems.append(
                f"stats: sessions {_show(stats.get('sessions'))} but {assignments} assignments"
            )
        if stats.get("children_served") != served:
            self.problems.append(
                f"stats: children_served {_show(stats.get('children_served'))} "
                f"but {served} children have a session"
            )
        bound = stats.get("upper_bound")
        if isinstance(bound, int) and bound < served:
            self.problems.append(f"stats: upper_bound {bound} is below the {served} served")


def check_plan(data: Mapping[str, Any] | Instance, plan: object) -> list[str]:
    """Every rule the plan breaks (module docstring), or [] for a valid plan. Raises
    `InstanceError` when the instance itself is invalid."""
    with _quiet_gc():
        return _check(_instance(data), plan)


def _check(instance: Instance, plan: object) -> list[str]:
    if not isinstance(plan, Mapping):
        return ["plan: must be a JSON object"]
    assignments = plan.get("assignments")
    if not isinstance(assignments, list):
        return ["assignments: must be a list"]
    units = family_units(instance)
    audit = _Audit(
        instance=instance,
        units=units,
        unit_of={m: u for u, unit in enumerate(units) for m in unit.members},
        child_index={c.id: i for i, c in enumerate(instance.children)},
        site_index={s.id: i for i, s in enumerate(instance.sites)},
        problems=[],
        booked={},
        child_days={},
        unit_sessions={},
    )
    for a, raw in enumerate(assignments):
        audit.assignment(a, raw)
    audit.double_bookings()
    audit.totals(plan, len(assignments))
    return audit.problems
