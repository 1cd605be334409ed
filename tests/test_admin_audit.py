"""The admin site is audited and is no way around the access module (issue 10, 6.4 and 6.8):
memberships, case policies, responders and password resets go to the change history with
who and before/after; an administrator cannot grant themselves a role; a password reset ends
the user's API tokens."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client

from shouhu import access
from shouhu.accounts.models import ApiToken, Membership, Role, User
from shouhu.audit.models import ChangeRecord
from tests.world import PASSWORD, World

pytestmark = pytest.mark.django_db


def _admin(world: World) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.admin)
    return client


def _user_form(user: User, memberships: list[dict[str, Any]]) -> dict[str, Any]:
    """The admin's change form of `user` with its existing memberships and `memberships`
    added as new inline rows."""
    existing = list(Membership.objects.filter(user=user))
    data: dict[str, Any] = {
        "username": user.username,
        "display_name": user.display_name,
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "memberships-TOTAL_FORMS": str(len(existing) + len(memberships)),
        "memberships-INITIAL_FORMS": str(len(existing)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    if user.is_superuser:
        data["is_superuser"] = "on"
    rows = [
        {"id": m.pk, "organisation": m.organisation_id, "role": m.role, "active": m.active}
        for m in existing
    ] + memberships
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key == "active":
                if value:
                    data[f"memberships-{i}-active"] = "on"
            else:
                data[f"memberships-{i}-{key}"] = value
        data[f"memberships-{i}-user"] = user.pk
    return data


def test_administrator_cannot_give_themselves_a_membership(world: World) -> None:
    client = _admin(world)
    url = f"/admin/accounts/user/{world.admin.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert "You cannot change your own memberships" in page.content.decode()
    director = {"organisation": world.orgs["village_a"].pk, "role": Role.CHILD_DIRECTOR}
    client.post(url, _user_form(world.admin, [{**director, "active": True}]))
    assert not Membership.objects.filter(user=world.admin).exists()
    fresh = User.objects.get(pk=world.admin.pk)
    assert not access.children_visible_to(fresh).exists()


def test_administrator_cannot_change_or_delete_their_own_memberships(world: World) -> None:
    own = Membership.objects.create(
        user=world.admin, organisation=world.orgs["bureau"], role=Role.ADMIN
    )
    client = _admin(world)
    url = f"/admin/accounts/user/{world.admin.pk}/change/"
    data = _user_form(world.admin, [])
    data["memberships-0-role"] = Role.CHILD_DIRECTOR
    data["memberships-0-DELETE"] = "on"
    client.post(url, data)
    own.refresh_from_db()
    assert own.role == Role.ADMIN and own.active
    client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [world.admin.pk], "post": "yes"},
    )
    assert Membership.objects.filter(pk=own.pk).exists()


def test_membership_changes_are_in_the_change_history(world: World) -> None:
    client = _admin(world)
    target = world.director_b
    url = f"/admin/accounts/user/{target.pk}/change/"
    added = {"organisation": world.orgs["village_a"].pk, "role": Role.CHILD_DIRECTOR}
    response = client.post(url, _user_form(target, [{**added, "active": True}]))
    assert response.status_code == 302, response.content.decode()[:2000]
    new = Membership.objects.get(user=target, organisation=world.orgs["village_a"])
    created = ChangeRecord.objects.get(object_type="membership", object_id=str(new.pk))
    assert created.actor == world.admin and created.operation == "create"
    assert created.changes["role"] == [None, Role.CHILD_DIRECTOR]
    assert created.changes["user"] == [None, target.pk]
    data = _user_form(target, [])
    index = next(i for i in range(2) if data[f"memberships-{i}-id"] == new.pk)
    del data[f"memberships-{index}-active"]
    assert client.post(url, data).status_code == 302
    changed = ChangeRecord.objects.filter(object_type="membership", operation="update").get()
    assert changed.object_id == str(new.pk) and changed.changes == {"active": [True, False]}
    assert changed.actor == world.admin


def test_password_reset_is_audited_and_ends_the_api_tokens(world: World) -> None:
    api = Client()
    token = api.post(
        "/api/v1/auth/token",
        {"username": "director_a", "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert api.get("/api/v1/children", **headers).status_code == 200
    client = _admin(world)
    new_password = "another-long-secret-9"
    response = client.post(
        f"/admin/accounts/user/{world.director_a.pk}/password/",
        {"password1": new_password, "password2": new_password, "set_usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert api.get("/api/v1/children", **headers).status_code == 401
    assert ApiToken.objects.get(user=world.director_a).revoked_at is not None
    record = ChangeRecord.objects.get(object_type="user", object_id=str(world.director_a.pk))
    assert record.actor == world.admin and "password" in record.changes
    assert new_password not in str(record.changes)


def test_responders_are_audited_and_not_self_appointed(world: World) -> None:
    client = _admin(world)
    org = world.orgs["swo"].pk
    own = client.post(
        "/admin/screening/responder/add/", {"organisation": org, "user": world.admin.pk}
    )
    assert own.status_code == 200 and "cannot make yourself a responder" in own.content.decode()
    other = client.post(
        "/admin/screening/responder/add/", {"organisation": org, "user": world.socialworker.pk}
    )
    assert other.status_code == 302
    record = ChangeRecord.objects.get(object_type="responder")
    assert record.actor == world.admin and record.operation == "create"
    assert record.changes["user"] == [None, world.socialworker.pk]


def test_case_policies_are_audited_and_approvers_not_self_named(world: World) -> None:
    client = _admin(world)
    base = {
        "organisation": world.orgs["swo"].pk,
        "plan_needs_approval": "on",
        "closure_needs_approval": "on",
    }
    own = client.post("/admin/cases/casepolicy/add/", {**base, "approvers": [world.admin.pk]})
    assert own.status_code == 200 and "cannot name yourself an approver" in own.content.decode()
    named = client.post(
        "/admin/cases/casepolicy/add/", {**base, "approvers": [world.supervisor.pk]}
    )
    assert named.status_code == 302
    record = ChangeRecord.objects.get(object_type="casepolicy")
    assert record.actor == world.admin
    assert record.changes["approvers"] == [None, [world.supervisor.pk]]


def test_the_administration_history_is_readable_but_never_shows_a_child(world: World) -> None:
    client = _admin(world)
    page = client.get("/admin/audit/changerecord/")
    assert page.status_code == 200
    assert ChangeRecord.objects.filter(child_id__isnull=False).exists()
    assert "张伟" not in page.content.decode()
    assert client.get("/admin/audit/changerecord/add/").status_code == 403


ALLOWED_IN_ADMIN = {
    "accounts.user",
    "accounts.organisation",
    "accounts.apitoken",
    "audit.changerecord",
    "auth.group",
    "places.place",
    "cases.servicetype",
    "cases.resource",
    "cases.casepolicy",
    "screening.responder",
    "screening.instrumentlicence",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
}


def test_only_configuration_is_registered_in_the_admin() -> None:
    registered = {m._meta.label_lower for m in admin.site._registry}
    assert registered <= ALLOWED_IN_ADMIN, registered - ALLOWED_IN_ADMIN
