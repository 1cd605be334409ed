"""Configuration of case work: the service catalogue, the directory of local resources and
each organisation's approval policy. No case, note or child is in the admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _

from shouhu.audit.adminlog import AuditedAdmin
from shouhu.cases.models import CasePolicy, Resource, ServiceType


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin[ServiceType]):
    list_display = ("code", "name_zh", "name_en", "active")
    list_filter = ("active",)


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin[Resource]):
    list_display = ("name", "kind", "place", "contact")
    list_filter = ("kind",)
    search_fields = ("name",)
    autocomplete_fields = ("place",)


@admin.register(CasePolicy)
class CasePolicyAdmin(AuditedAdmin):
    """Audited; an administrator cannot name themselves an approver (an approver reads the
    cases waiting for a decision)."""

    list_display = ("organisation", "plan_needs_approval", "closure_needs_approval")
    autocomplete_fields = ("organisation", "approvers")
    audited_fields = ("organisation", "plan_needs_approval", "closure_needs_approval")
    audited_m2m = ("approvers",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kw: Any):  # type: ignore[no-untyped-def]
        base = super().get_form(request, obj, change, **kw)

        class NotSelf(base):  # type: ignore[valid-type,misc]
            def clean_approvers(self) -> Any:
                approvers = self.cleaned_data.get("approvers")
                if approvers is not None and request.user.pk in {u.pk for u in approvers}:
                    raise forms.ValidationError(
                        _("You cannot name yourself an approver: ask another administrator.")
                    )
                return approvers

        return NotSelf
