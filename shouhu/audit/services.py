"""Writing the access log and the change history. Nothing here ever updates a row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Field, Model

from shouhu.accounts.models import User
from shouhu.audit import context
from shouhu.audit.models import AccessLog, Action, ChangeRecord

_MASKED = "[encrypted value changed]"


def _who(user: User | None) -> dict[str, Any]:
    if user is None or not user.is_authenticated:
        return {"user": None, "username": ""}
    memberships = list(user.memberships.filter(active=True).select_related("organisation"))
    return {
        "user": user,
        "username": user.username,
        "roles": ",".join(sorted({m.role for m in memberships}))[:200],
        "organisations": ",".join(sorted({m.organisation.name for m in memberships}))[:500],
    }


def log_access(
    *,
    user: User | None,
    action: str,
    child_id: int | None = None,
    object_type: str = "",
    object_id: str = "",
    fields: Iterable[str] = (),
    purpose: str = "",
    reason: str = "",
    username: str = "",
    detail: Mapping[str, Any] | None = None,
) -> AccessLog:
    ctx = context.current()
    who = _who(user)
    if username and not who["username"]:
        who["username"] = username[:150]
    return AccessLog.objects.create(
        **who,
        action=action,
        child_id=child_id,
        object_type=object_type,
        object_id=object_id,
        fields=sorted(set(fields)),
        purpose=purpose,
        reason=reason,
        ip=ctx.ip,
        detail={"source": ctx.source, **(detail or {})},
    )


def log_children_read(
    *,
    user: User | None,
    child_ids: Iterable[int],
    purpose: str,
    action: str = Action.LIST_CHILDREN,
    object_type: str = "",
    object_id: str = "",
    fields: Iterable[str] = (),
    detail: Mapping[str, Any] | None = None,
) -> list[AccessLog]:
    """A read that showed several children (a list, a board, a search, a duplicate check):
    one access-log row per child shown, so that an auditor who looks up a child finds every
    page that showed it; the rows of one read share its purpose and detail (with how many
    children it showed). A read that showed none still writes one row, without a child.

    The one helper every list calls (pages and API alike), in one query."""
    ids = list(dict.fromkeys(int(pk) for pk in child_ids))
    ctx = context.current()
    who = _who(user)
    shared = {
        **who,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "fields": sorted(set(fields)),
        "purpose": purpose,
        "ip": ctx.ip,
        "detail": {"source": ctx.source, **(detail or {}), "children_shown": len(ids)},
    }
    rows = [AccessLog(child_id=pk, **shared) for pk in ids] or [AccessLog(**shared)]
    return AccessLog.objects.bulk_create(rows, batch_size=500)


def log_records_read(
    *,
    user: User | None,
    object_type: str,
    object_ids: Iterable[object],
    purpose: str,
    action: str = Action.LIST_CHILDREN,
    fields: Iterable[str] = (),
    detail: Mapping[str, Any] | None = None,
) -> list[AccessLog]:
    """A read that showed records of children not registered here (yet): one access-log
    row per record, named by `object_type` and its `object_id`, as `log_children_read`
    writes one per child shown; nothing when none was shown. In one query."""
    ids = list(dict.fromkeys(str(pk) for pk in object_ids))
    if not ids:
        return []
    ctx = context.current()
    shared = {
        **_who(user),
        "action": action,
        "object_type": object_type,
        "fields": sorted(set(fields)),
        "purpose": purpose,
        "ip": ctx.ip,
        "detail": {"source": ctx.source, **(detail or {}), "records_shown": len(ids)},
    }
    rows = [AccessLog(object_id=pk, **shared) for pk in ids]
    return AccessLog.objects.bulk_create(rows, batch_size=500)


def _plain(value: Any) -> Any:
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def attname(obj: Model, name: str) -> str:
    """The attribute holding a concrete field's raw value (`residence` → `residence_id`)."""
    field = obj._meta.get_field(name)
    assert isinstance(field, Field), name
    return field.attname


def snapshot(obj: Model, fields: Iterable[str]) -> dict[str, Any]:
    """Field values for the change history; encrypted and hash columns are never copied."""
    out: dict[str, Any] = {}
    for name in fields:
        if name.endswith("_hash"):
            continue
        value = getattr(obj, attname(obj, name))
        out[name] = (_MASKED if value else "") if name.endswith("_enc") else _plain(value)
    return out


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record_change(
    *,
    actor: User | None,
    obj: Model,
    operation: str,
    changes: Mapping[str, list[Any]],
    child_id: int | None,
) -> ChangeRecord | None:
    if operation == "update" and not changes:
        return None
    return ChangeRecord.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.username if actor is not None and actor.is_authenticated else "system",
        child_id=child_id,
        object_type=obj._meta.model_name or "",
        object_id=str(obj.pk),
        operation=operation,
        changes=dict(changes),
        source=context.current().source,
    )
