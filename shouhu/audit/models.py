"""Append-only access log and change history.

Rows are never updated or deleted by the application; on PostgreSQL a trigger refuses it at
the database too (migration 0002).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    pass


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit rows cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit rows cannot be deleted.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit rows cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit rows cannot be deleted.")


class Action(models.TextChoices):
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOGOUT = "logout", _("Logout")
    TOKEN_ISSUED = "token_issued", _("API token issued")
    VIEW_CHILD = "view_child", _("Viewed a child's file")
    REVEAL = "reveal", _("Revealed a protected field")
    LIST_CHILDREN = "list_children", _("Listed or searched children")
    EXPORT = "export", _("Export")
    IMPORT = "import", _("Import")
    DENIED = "denied", _("Access refused")
    READ_LOG = "read_log", _("Read the access log")
    SCREENING = "screening", _("Recorded a screening or assessment")
    VIEW_SCREENING = "view_screening", _("Viewed screening answers or scores")


class AccessLog(AppendOnlyModel):
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    roles = models.CharField(_("roles"), max_length=200, blank=True)
    organisations = models.CharField(_("organisations"), max_length=500, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices, db_index=True)
    child_id = models.BigIntegerField(_("child"), null=True, blank=True, db_index=True)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object"), max_length=64, blank=True)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    purpose = models.CharField(_("purpose"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["username", "at"], name="accesslog_user_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action}"


# Where a change came from (`ChangeRecord.source`, `AuditContext.source`), as people say it.
SOURCE_LABELS = {
    "web": _("on a page"),
    "api": _("through the API"),
    "import": _("by import"),
    "command": _("by a command"),
    "demo": _("demo data"),
    "gen": _("generated data"),
    "system": _("the system"),
}


class ChangeRecord(AppendOnlyModel):
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    child_id = models.BigIntegerField(_("child"), null=True, blank=True, db_index=True)
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.CharField(_("object"), max_length=64)
    operation = models.CharField(_("operation"), max_length=16)  # create / update / delete
    changes = models.JSONField(_("changes"), default=dict)  # {field: [before, after]}
    source = models.CharField(_("source"), max_length=32, blank=True)  # web / api / import

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("change record")
        verbose_name_plural = _("change history")

    def __str__(self) -> str:
        return f"{self.object_type}#{self.object_id} {self.operation}"
