"""Reading a child's administrations at the level of detail the reader may see.

`full`: answers, scores, bands and flags (every such read is written to the access log);
`summary`: only whether follow-up is needed and the action owed; `none`: nothing at all.
Mental-health results carry "screening, not diagnosis" wherever they are shown.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from shouhu.accounts import access
from shouhu.accounts.models import User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access
from shouhu.children.models import Child
from shouhu.lib.instruments import Instrument
from shouhu.screening import registry
from shouhu.screening.models import Administration, GroupSession
from shouhu.screening.services import answers_of

SCREENING = "screening"


def access_levels(user: User, child: Child) -> dict[str, str]:
    """The reader's level for each kind of instrument."""
    return {
        kind: access.screening_access(user, child, kind=kind)
        for kind in ("screening", "needs_assessment", "strengths")
    }


def _definition(code: str) -> Instrument | None:
    try:
        return registry.definition(code)
    except KeyError:
        return None


def present(
    administration: Administration, level: str, *, language: str = "zh-Hans"
) -> dict[str, Any]:
    inst = _definition(administration.instrument)
    name = inst.name.get(language) or inst.name.get("en", "") if inst else administration.instrument
    row: dict[str, Any] = {
        "id": administration.pk,
        "instrument": administration.instrument,
        "instrument_name": name,
        "kind": administration.kind,
        "administered_at": administration.administered_at,
        "follow_up": administration.follow_up,
        "action": administration.action or None,
        "not_diagnosis": administration.kind == SCREENING,
    }
    if level != access.RESULTS_FULL:
        return row
    row.update(
        {
            "version": administration.version,
            "respondent": administration.respondent,
            "mode": administration.mode,
            "language": administration.language,
            "administered_by": administration.administered_by.get_full_name()
            or administration.administered_by.username,
            "total": administration.total,
            "band": administration.band or None,
            "subscales": administration.subscales,
            "flags": administration.flags,
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
    shown = [present(a, levels[a.kind], language=language) for a in rows]
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


def get_administration_for_user(user: User, pk: int) -> tuple[Administration, str]:
    """An administration through its child's access check (404 when the child is not
    visible), with the reader's level; `none` is refused."""
    from django.http import Http404

    administration = (
        Administration.objects.select_related("child", "administered_by").filter(pk=pk).first()
    )
    if administration is None:
        raise Http404
    child = access.get_child_for_user(user, administration.child_id, purpose="screening")
    level = access.screening_access(user, child, kind=administration.kind)
    if level == access.RESULTS_NONE:
        raise PermissionDenied(_("You may not see screening results."))
    if level == access.RESULTS_FULL:
        log_access(
            user=user,
            action=Action.VIEW_SCREENING,
            child_id=child.pk,
            object_type="administration",
            object_id=str(administration.pk),
            fields=[access.SENSITIVE],
            purpose="screening",
        )
    return administration, level


def trends(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Totals over time per instrument (oldest first), from rows presented in full."""
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in reversed(rows):
        if row.get("total") is not None:
            series[row["instrument"]].append(row)
    return {code: points for code, points in series.items() if len(points) >= 1}


def groups_of(user: User) -> list[GroupSession]:
    return list(GroupSession.objects.filter(conducted_by=user).order_by("-held_on", "-id")[:100])


def get_group_for_user(user: User, pk: int) -> GroupSession:
    """A group screening: only the worker who conducts it opens it."""
    from django.http import Http404

    group = GroupSession.objects.filter(pk=pk, conducted_by=user).first()
    if group is None:
        raise Http404
    return group


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
            }
        )
    return rows
