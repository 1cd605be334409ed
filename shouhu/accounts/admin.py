"""System administration of users, organisations and memberships.

Children's data is deliberately NOT in the admin: administrators reach it only through a role
(DESIGN.md), so every read goes through the access module and the access log.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from shouhu.accounts.models import ApiToken, Membership, Organisation, User


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    extra = 1
    autocomplete_fields = ["organisation"]


@admin.register(User)
class ShouhuUserAdmin(UserAdmin):  # type: ignore[type-arg]
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "is_active", "is_staff", "last_login"]
    fieldsets = (*UserAdmin.fieldsets, ("Shouhu", {"fields": ["display_name"]}))  # type: ignore[misc]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "kind", "jurisdiction", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]
    autocomplete_fields = ["jurisdiction"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["user", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["user", "digest", "created_at", "expires_at", "last_used_at"]
