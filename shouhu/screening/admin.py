"""Configuration only: safeguarding responders and the instrument licence register. Nothing
a child answered, no alert or report, is in the admin (DESIGN: administrators see child data
only through another role)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _

from shouhu.audit.adminlog import AuditedAdmin
from shouhu.screening.models import InstrumentLicence, Responder


@admin.register(Responder)
class ResponderAdmin(AuditedAdmin):
    """Audited; an administrator cannot make themselves a responder (responders read the
    reasons of alerts)."""

    list_display = ("organisation", "user")
    autocomplete_fields = ("organisation", "user")
    search_fields = ("organisation__name", "user__username")
    audited_fields = ("organisation", "user")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kw: Any):  # type: ignore[no-untyped-def]
        base = super().get_form(request, obj, change, **kw)

        class NotSelf(base):  # type: ignore[valid-type,misc]
            def clean_user(self) -> Any:
                user = self.cleaned_data.get("user")
                if user is not None and user.pk == request.user.pk:
                    raise forms.ValidationError(
                        _("You cannot make yourself a responder: ask another administrator.")
                    )
                return user

        return NotSelf


@admin.register(InstrumentLicence)
class InstrumentLicenceAdmin(admin.ModelAdmin[InstrumentLicence]):
    """Read-only: enabling and installing text go through `shouhu instruments`, which checks
    that a scoring-only instrument has licensed text before it is enabled."""

    list_display = ("code", "enabled", "reference", "recorded_at")
    readonly_fields = ("code", "enabled", "reference", "texts", "recorded_by", "recorded_at")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
