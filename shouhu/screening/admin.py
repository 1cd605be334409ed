"""Configuration only: safeguarding responders and the instrument licence register. Nothing
a child answered, no alert or report, is in the admin (DESIGN: administrators see child data
only through another role)."""

from __future__ import annotations

from django.contrib import admin

from shouhu.screening.models import InstrumentLicence, Responder


@admin.register(Responder)
class ResponderAdmin(admin.ModelAdmin[Responder]):
    list_display = ("organisation", "user")
    autocomplete_fields = ("organisation", "user")
    search_fields = ("organisation__name", "user__username")


@admin.register(InstrumentLicence)
class InstrumentLicenceAdmin(admin.ModelAdmin[InstrumentLicence]):
    """Read-only: enabling and installing text go through `shouhu instruments`, which checks
    that a scoring-only instrument has licensed text before it is enabled."""

    list_display = ("code", "enabled", "reference", "recorded_at")
    readonly_fields = ("code", "enabled", "reference", "texts", "recorded_by", "recorded_at")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
