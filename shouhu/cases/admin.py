"""Configuration of case work: the service catalogue, the directory of local resources and
each organisation's approval policy. No case, note or child is in the admin."""

from __future__ import annotations

from django.contrib import admin

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
class CasePolicyAdmin(admin.ModelAdmin[CasePolicy]):
    list_display = ("organisation", "plan_needs_approval", "closure_needs_approval")
    autocomplete_fields = ("organisation", "approvers")
