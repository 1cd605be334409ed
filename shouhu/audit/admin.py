"""System administration of users, organisations and memberships, audited.

Children's data is deliberately NOT in the admin: administrators reach it only through a role
(DESIGN.md), so every read goes through the access module and the access log. Who holds which
role is what opens children, so every membership change, account change and password reset
is kept in the change history (who, when, before, after), and no administrator may change
their own memberships. These admin classes live in the audit app because they write the
change history (accounts sits below audit).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from shouhu.accounts.models import ApiToken, Membership, Organisation, User
from shouhu.accounts.services import api_tokens_revoke
from shouhu.audit.adminlog import AuditedAdmin, record_rows, refuse_self, state
from shouhu.audit.models import ChangeRecord
from shouhu.audit.services import record_change

MEMBERSHIP_FIELDS = ("user", "organisation", "role", "active")
USER_FIELDS = ("username", "display_name", "is_active", "is_staff", "is_superuser")
# The records of administration shown in the admin (never a child's).
ADMIN_OBJECT_TYPES = ("user", "membership", "casepolicy", "responder")


def _own(request: HttpRequest, obj: Model | None) -> bool:
    return obj is not None and obj.pk == request.user.pk


class MembershipInline(admin.TabularInline[Membership, User]):
    """Read-only on the administrator's own account: nobody grants themselves a role."""

    model = Membership
    extra = 1
    autocomplete_fields = ["organisation"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _own(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _own(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _own(request, obj) and super().has_delete_permission(request, obj)


def _memberships(user: User) -> dict[Any, dict[str, Any]]:
    return {m.pk: state(m, MEMBERSHIP_FIELDS) for m in Membership.objects.filter(user=user)}


@admin.register(User)
class ShouhuUserAdmin(AuditedAdmin, UserAdmin):  # type: ignore[type-arg]
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "is_active", "is_staff", "last_login"]
    fieldsets = (*UserAdmin.fieldsets, ("Shouhu", {"fields": ["display_name"]}))  # type: ignore[misc]
    audited_fields = USER_FIELDS

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET" and str(request.user.pk) == object_id:
            messages.warning(
                request,
                _("You cannot change your own memberships: ask another administrator."),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        user = form.instance
        if formset.has_changed():
            refuse_self(request, user.pk)
        before = _memberships(user)
        super().save_formset(request, form, formset, change)
        record_rows(
            actor=request.user,  # type: ignore[arg-type]
            model=Membership,
            before=before,
            after=_memberships(user),
        )

    def _delete_memberships(self, request: HttpRequest, users: QuerySet[User]) -> None:
        for user in users:
            refuse_self(request, user.pk)
            record_rows(
                actor=request.user,  # type: ignore[arg-type]
                model=Membership,
                before=_memberships(user),
                after={},
            )

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        self._delete_memberships(request, User.objects.filter(pk=obj.pk))
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._delete_memberships(request, queryset)
        super().delete_queryset(request, queryset)

    @transaction.atomic
    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        """A password reset is an audited change, and ends the user's API tokens."""
        before = User.objects.filter(pk=id).values_list("password", flat=True).first()
        response = super().user_change_password(request, id, form_url)
        user = User.objects.filter(pk=id).first()
        if user is not None and before is not None and user.password != before:
            revoked = api_tokens_revoke(user=user)
            record_change(
                actor=request.user,  # type: ignore[arg-type]
                obj=user,
                operation="update",
                changes={"password": ["[hidden]", "[reset]"], "api_tokens_revoked": [0, revoked]},
                child_id=None,
            )
        return response


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
    exclude = ["password_stamp"]


@admin.register(ChangeRecord)
class AdministrationHistoryAdmin(admin.ModelAdmin[ChangeRecord]):
    """The change history of administration (accounts, memberships, case policies and
    responders), read-only. A child's history is read on the child's page, never here."""

    list_display = ["at", "actor_name", "object_type", "object_id", "operation", "changes"]
    list_filter = ["object_type", "operation"]
    search_fields = ["actor_name", "object_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChangeRecord]:
        return super().get_queryset(request).filter(object_type__in=ADMIN_OBJECT_TYPES)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
