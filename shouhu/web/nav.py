"""What the top bar of every page needs to know about the signed-in user."""

from __future__ import annotations

from django.db.models import Exists
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from shouhu import access
from shouhu.accounts.models import Membership, Role
from shouhu.cases.models import CasePolicy
from shouhu.notify.services import unread_count


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def nav(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    memberships = list(
        Membership.objects.filter(user=user, active=True)
        .only("role")
        .annotate(approver=Exists(CasePolicy.objects.filter(approvers=user)))
        .order_by("id")
    )
    roles = [Role(m.role) for m in memberships]
    names_approver = any(m.approver for m in memberships)  # one query with the roles
    may_register = access.can_register(user)
    # A technology envoy keeps the reunion sites' devices working: no child's file, alert,
    # report or worklist is theirs, so their menu does not offer them.
    envoy_only = set(roles) == {Role.TECH_ENVOY}
    return {
        "nav": {
            "role_label": roles[0].label if roles else "",
            "children_url": "" if envoy_only else _url("children:list"),
            "decisions_url": _url("cases:decisions")
            if Role.SUPERVISOR in roles or names_approver
            else "",
            "register_url": _url("children:register") if may_register else "",
            "import_url": _url("children_io:import") if may_register else "",
            "audit_url": _url("audit:log") if access.can_audit(user) else "",
            "alerts_url": "" if envoy_only else _url("screening:alerts"),
            "worklist_url": "" if envoy_only else _url("screening:worklist"),
            "reunion_url": _url("reunion:tickets")
            if Role.TECH_ENVOY in roles
            else _url("reunion:sites"),
            "reports_url": "" if envoy_only else _url("screening:reports"),
            "cases_url": _url("cases:list")
            if {Role.SOCIAL_WORKER, Role.COUNSELOR, Role.SUPERVISOR, Role.OFFICIAL} & set(roles)
            else "",
            "groups_url": _url("screening:groups") if Role.COUNSELOR in roles else "",
            "programmes_url": _url("programmes:list")
            if access.PROGRAMME_ROLES & set(roles) or {Role.VOLUNTEER, Role.OFFICIAL} & set(roles)
            else "",
            "volunteers_url": _url("volunteers:list")
            if (access.VOLUNTEER_MANAGERS | {Role.VOLUNTEER}) & set(roles)
            else "",
            "aid_url": _url("aid:home") if access.AID_ROLES & set(roles) else "",
            "linkage_url": _url("linkage:queue") if access.LINK_REVIEWERS & set(roles) else "",
            "handoff_url": _url("handoff:home") if access.HANDOFF_ROLES & set(roles) else "",
            "inbox_url": _url("notify:inbox"),
            "unread": unread_count(user),
        }
    }
