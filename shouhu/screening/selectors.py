"""Reading a child's administrations at the level of detail the reader may see.

`full`: answers, scores, bands and flags (every such read is written to the access log);
`summary`: only whether follow-up is needed and the action owed; `none`: nothing at all.
Mental-health results carry "screening, not diagnosis" wherever they are shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access
from shouhu.children.models import Child
from shouhu.lib import clock
from shouhu.lib.instruments import Instrument
from shouhu.screening import labels, registry, safeguarding
from shouhu.screening.models import Administration, Draft, GroupSession
from shouhu.screening.services import answers_of

SCREENING = "screening"


def access_levels(user: User, child: Child) -> dict[str, str]:
    """The reader's level for each kind of instrument."""
    return access.screening_levels(user, child)


def _definition(code: str) -> Instrument | None:
    try:
        return registry.definition(code)
    except KeyError:
        return None


# What a reader below `full` is told an administration was: the kind, not the instrument
# (which instrument was given already says what was feared).
KIND_NAMES = {
    "screening": gettext_lazy("Mental-health screening"),
    "needs_assessment": gettext_lazy("Needs assessment"),
    "strengths": gettext_lazy("Strengths profile"),
}


def present(
    administration: Administration,
    level: str,
    *,
    language: str = "zh-Hans",
    names: dict[str, str] | None = None,
    hide_giver: bool = False,
) -> dict[str, Any]:
    """One administration at the reader's level. `names` caches instrument names by code
    across a list (each definition lookup reads the licence register). `hide_giver` when
    the administration opened a mandatory report whose reporter the reader may not know
    (`confidential_givers`): the one who gave it is that reporter."""
    row: dict[str, Any] = {
        "id": administration.pk,
        "kind": administration.kind,
        "administered_at": administration.administered_at,
        "follow_up": administration.follow_up,
        "action": administration.action or None,
        "action_label": labels.action_label(administration.action),
        # A critical answer calls for action whatever the total says.
        "urgent": administration.action in safeguarding.ALERT_ACTIONS,
        "not_diagnosis": administration.kind == SCREENING,
    }
    if level != access.RESULTS_FULL:
        row["instrument_name"] = str(KIND_NAMES.get(administration.kind, ""))
        return row
    names = {} if names is None else names
    inst = labels.definition(administration.instrument)
    if administration.instrument not in names:
        inst = _definition(administration.instrument)
        names[administration.instrument] = (
            inst.name.text(language) if inst else administration.instrument
        )
    row.update(
        {
            "instrument": administration.instrument,
            "instrument_name": names[administration.instrument],
            "version": administration.version,
            "respondent": administration.respondent,
            "mode": administration.mode,
            "language": administration.language,
            "administered_by": _("Confidential (the reporter of a mandatory report)")
            if hide_giver
            else administration.administered_by.get_full_name()
            or administration.administered_by.username,
            "total": administration.total,
            "band": administration.band or None,
            "band_label": labels.band_label(inst, administration.band, language),
            "subscales": administration.subscales,
            "subscale_rows": [
                {"label": label, "value": value}
                for label, value in labels.subscale_rows(inst, administration.subscales, language)
            ],
            "flags": [
                {**f, "label": label}
                for f, label in zip(
                    administration.flags,
                    labels.flag_labels(inst, administration.flags, language),
                    strict=True,
                )
            ],
            "missing": administration.missing,
            "prorated": administration.prorated,
            "answers": answers_of(administration),
        }
    )
    return row


def child_administrations(
    user: User, child: Child, *, language: str = "zh-Hans", purpose: str = "view"
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The child's administrations the reader may see, newest first, each at the reader's
    level; a read that shows answers or scores is logged with the administrations shown."""
    levels = access_levels(user, child)
    kinds = [kind for kind, level in levels.items() if level != access.RESULTS_NONE]
    rows = (
        Administration.objects.filter(child=child, kind__in=kinds)
        .select_related("administered_by")
        .order_by("-administered_at", "-id")
    )
    names: dict[str, str] = {}
    hidden = confidential_givers(user, [a for a in rows if levels[a.kind] == access.RESULTS_FULL])
    shown = [
        present(a, levels[a.kind], language=language, names=names, hide_giver=a.pk in hidden)
        for a in rows
    ]
    full = [r["id"] for r in shown if "answers" in r]
    if full:
        log_access(
            user=user,
            action=Action.VIEW_SCREENING,
            child_id=child.pk,
            object_type="administration",
            object_id=",".join(str(i) for i in full)[:64],
            fields=[access.SENSITIVE],
            purpose=purpose,
            detail={"administrations": full},
        )
    return levels, shown


def confidential_givers(user: User, administrations: Sequence[Administration]) -> set[int]:
    """The administrations among these that opened a mandatory report whose reporter the
    user may not see (the reporter's identity is confidential, DESIGN.md)."""
    from shouhu.screening.models import MandatoryReport

    ids = [a.pk for a in administrations]
    if not ids:
        return set()
    reports = MandatoryReport.objects.filter(administration_id__in=ids).select_related("child")
    return {
        r.administration_id
        for r in reports
        if r.administration_id and not access.may_see_reporter(user, r)
    }


get_administration_for_user = access.get_administration_for_user


def trends(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Totals over time per instrument (oldest first), from rows presented in full."""
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in reversed(rows):
        if row.get("total") is not None:
            series[row["instrument"]].append(row)
    return {code: points for code, points in series.items() if len(points) >= 1}


MAX_GROUP = 200


def group_sources(user: User) -> dict[str, list[tuple[Any, str]]]:
    """Where a worker can gather a group from: the schools of their grants (a class) and the
    villages of the children they may screen (an activity group at the village's children's
    home)."""
    from shouhu.accounts.models import Organisation
    from shouhu.places.models import Place

    schools = {g.school_id for g in access.scope_of(user).grants if g.school_id is not None}
    visible = access.children_visible_to(user, needs=access.SENSITIVE)
    villages = set(visible.order_by().values_list("residence_id", flat=True).distinct()[:500])
    return {
        "schools": [
            (o.pk, o.name) for o in Organisation.objects.filter(pk__in=schools).order_by("name")
        ],
        "villages": [
            (p.code, f"{p.parent.name if p.parent else ''}{p.name}")
            for p in Place.objects.filter(code__in=villages)
            .select_related("parent")
            .order_by("code")
        ],
    }


def group_candidates(
    user: User,
    *,
    kind: str,
    school_id: int | None = None,
    grade: str = "",
    village: str = "",
    age_min: int | None = None,
    age_max: int | None = None,
) -> list[Child]:
    """The children of a class (school and grade) or of an activity group (a village, with
    an optional age range) whom the worker may give an instrument of `kind`. More than
    `MAX_GROUP` is refused with a message, never cut short silently."""
    from django.core.exceptions import ValidationError

    from shouhu.lib import dates

    qs = access.children_visible_to(user, needs=access.SENSITIVE)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
        if grade:
            qs = qs.filter(grade=grade)
    elif village:
        qs = qs.filter(residence_id=village)
    else:
        raise ValidationError({"school": [_("Choose a school and grade, or a village.")]})
    today = clock.today()
    if age_min is not None:
        qs = qs.filter(birth_date__lte=dates.add_years(today, -age_min))
    if age_max is not None:
        qs = qs.filter(birth_date__gt=dates.add_years(today, -(age_max + 1)))
    found = list(qs.order_by("name_pinyin", "id")[: MAX_GROUP * 2 + 1])
    chosen = [c for c in found if access.can_administer(user, c, kind=kind)]
    if len(chosen) > MAX_GROUP or len(found) > MAX_GROUP * 2:
        raise ValidationError(
            {
                "__all__": [
                    _("More than %(n)s children: narrow the group by grade or age.")
                    % {"n": MAX_GROUP}
                ]
            }
        )
    return chosen


def groups_of(user: User) -> list[GroupSession]:
    return list(GroupSession.objects.filter(conducted_by=user).order_by("-held_on", "-id")[:100])


def group_progress(user: User, group: GroupSession) -> list[dict[str, Any]]:
    """Each child of the group: done or not, and whether follow-up is needed (the list the
    counsellor leaves the session with). Names and the follow-up summary only: each
    child's results open through the access check of `get_administration_for_user`."""
    done = {
        a.child_id: a
        for a in Administration.objects.filter(group=group).order_by("administered_at", "id")
    }
    rows = []
    for child in group.children.order_by("name_pinyin", "id"):
        a = done.get(child.pk)
        rows.append(
            {
                "child": child,
                "administration": a,
                "follow_up": bool(a and a.follow_up),
                "action": a.action if a else "",
                "action_label": labels.action_label(a.action) if a else "",
            }
        )
    return rows


CHART_W, CHART_H = 320, 120


def _chart(points: list[dict[str, Any]], inst: Instrument | None) -> dict[str, Any]:
    """An SVG polyline of totals over time (x by order, y over the instrument's range)."""
    low, high = inst.total_range() if inst else (0, max(p["total"] for p in points) or 1)
    span = (high - low) or 1
    step = CHART_W / max(len(points) - 1, 1)
    coords = [
        (round(i * step, 1), round(CHART_H - (p["total"] - low) / span * CHART_H, 1))
        for i, p in enumerate(points)
    ]
    return {
        "points": " ".join(f"{x},{y}" for x, y in coords),
        "dots": [{"x": x, "y": y, "row": p} for (x, y), p in zip(coords, points, strict=True)],
        "width": CHART_W,
        "height": CHART_H,
    }


def trend_charts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One chart per instrument given more than once, from rows presented in full."""
    return [
        {"code": code, "name": points[0]["instrument_name"], **_chart(points, _definition(code))}
        for code, points in trends(rows).items()
        if len(points) > 1
    ]


def child_trends(
    user: User, child: Child, *, levels: dict[str, str], language: str = "zh-Hans"
) -> list[dict[str, Any]]:
    """Trend charts of the totals the reader may see in full (for the child's page; `levels`
    from `access.screening_levels`): totals only, no answers; the read is logged when there
    is anything to show."""
    kinds = [kind for kind, level in levels.items() if level == access.RESULTS_FULL]
    if not kinds:
        return []
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in Administration.objects.filter(child=child, kind__in=kinds, total__isnull=False)
        .order_by("-administered_at", "-id")
        .values("id", "instrument", "total", "administered_at")[:200]
    ]
    names: dict[str, str] = {}
    for row in rows:
        if row["instrument"] not in names:
            inst = _definition(row["instrument"])
            names[row["instrument"]] = inst.name.text(language) if inst else row["instrument"]
        row["instrument_name"] = names[row["instrument"]]
    charts = trend_charts(rows)
    if charts:
        log_access(
            user=user,
            action=Action.VIEW_SCREENING,
            child_id=child.pk,
            object_type="administration",
            object_id="totals",
            fields=[access.SENSITIVE],
            purpose="child_page_trend",
            detail={"administrations": [p["row"]["id"] for c in charts for p in c["dots"]]},
        )
    return charts


def drafts_of(user: User, child: Child) -> list[Draft]:
    """The user's own unfinished questionnaires for this child (drafts are nobody else's)."""
    return list(Draft.objects.filter(started_by=user, child=child))
