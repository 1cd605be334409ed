"""Audited administration: what an administrator changes in /admin/ that decides who sees
children (memberships, case policies and their approvers, safeguarding responders, accounts
and their passwords) goes to the change history with who, when, before and after, and no
administrator may grant access to themselves (issue 10, 6.4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from shouhu.accounts.models import User
from shouhu.audit.services import diff, record_change, snapshot


def state(obj: Model, fields: Iterable[str], m2m: Iterable[str] = ()) -> dict[str, Any]:
    """The audited values of a row: its fields, and the primary keys of its many-to-many
    relations (sorted)."""
    out = snapshot(obj, fields)
    for name in m2m:
        out[name] = sorted(getattr(obj, name).values_list("pk", flat=True)) if obj.pk else []
    return out


def record_rows(
    *,
    actor: User,
    model: type[Model],
    before: Mapping[Any, dict[str, Any]],
    after: Mapping[Any, dict[str, Any]],
) -> None:
    """One change record per row created, changed or deleted between two states."""
    for pk in sorted(set(before) | set(after), key=str):
        old, new = before.get(pk), after.get(pk)
        operation = "create" if old is None else "delete" if new is None else "update"
        record_change(
            actor=actor,
            obj=model(pk=pk),
            operation=operation,
            changes=diff(old or {}, new or {}),
            child_id=None,
        )


def refuse_self(request: HttpRequest, user_id: object) -> None:
    if user_id is not None and user_id == request.user.pk:
        raise PermissionDenied(_("You cannot grant yourself access: ask another administrator."))


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A model admin whose saves and deletions go to the change history: `audited_fields`
    (and `audited_m2m`) before and after, by the administrator."""

    audited_fields: tuple[str, ...] = ()
    audited_m2m: tuple[str, ...] = ()

    def _state(self, obj: Model) -> dict[str, Any]:
        return state(obj, self.audited_fields, self.audited_m2m)

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        old = type(obj)._default_manager.filter(pk=obj.pk).first() if obj.pk else None
        request._audit_before = self._state(old) if old is not None else None  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    @transaction.atomic
    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before = getattr(request, "_audit_before", None)
        record_rows(
            actor=request.user,  # type: ignore[arg-type]
            model=type(obj),
            before={} if before is None else {obj.pk: before},
            after={obj.pk: self._state(obj)},
        )

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        before = {obj.pk: self._state(obj)}
        super().delete_model(request, obj)
        record_rows(actor=request.user, model=type(obj), before=before, after={})  # type: ignore[arg-type]

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        before = {obj.pk: self._state(obj) for obj in queryset}
        super().delete_queryset(request, queryset)
        record_rows(actor=request.user, model=queryset.model, before=before, after={})  # type: ignore[arg-type]
