"""The access log as an auditor reads it: people by name, purposes, roles and field classes
in words (issue 11 §1). The stored values stay codes, so that searches and exports are
stable; only the page turns them into words."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu.accounts.models import Role
from shouhu.audit.models import AccessLog

PURPOSES = {
    "administer": gettext_lazy("recording a screening"),
    "aid_application": gettext_lazy("applying for aid"),
    "aid_applications": gettext_lazy("aid applications"),
    "aid_decision": gettext_lazy("deciding an aid application"),
    "aid_disbursements": gettext_lazy("aid payments"),
    "aid_followup": gettext_lazy("following up aid"),
    "aid_home": gettext_lazy("aid overview"),
    "aid_scheme": gettext_lazy("an aid scheme's applications"),
    "alerts": gettext_lazy("safeguarding alerts"),
    "audit": gettext_lazy("audit"),
    "break_glass": gettext_lazy("break glass"),
    "case": gettext_lazy("case work"),
    "surrogate": gettext_lazy("surrogate parents"),
    "link_queue": gettext_lazy("records in other places"),
    "link_review": gettext_lazy("reviewing records in other places"),
    "link_share": gettext_lazy("sharing a file with another place"),
    "links": gettext_lazy("a child's records in other places"),
    "case_edit": gettext_lazy("editing a case"),
    "case_list": gettext_lazy("list of cases"),
    "case_open": gettext_lazy("opening a case"),
    "child_page_trend": gettext_lazy("screening trend on the child's page"),
    "consent": gettext_lazy("recording a guardian's consent"),
    "contact_log": gettext_lazy("contact log"),
    "counselling": gettext_lazy("one-to-one counselling"),
    "contacts": gettext_lazy("contact log"),
    "coordination": gettext_lazy("coordination board"),
    "decisions": gettext_lazy("decisions waiting"),
    "duplicate_check": gettext_lazy("duplicate check"),
    "edit": gettext_lazy("editing the file"),
    "enrolments": gettext_lazy("programme participants"),
    "export": gettext_lazy("export"),
    "group_screening": gettext_lazy("group screening"),
    "handoff_attach": gettext_lazy("attaching a hand-off package to a registered child"),
    "handoff_export": gettext_lazy("handing a child off to another deployment"),
    "handoff_import": gettext_lazy("receiving a child from another deployment"),
    "handoff_list": gettext_lazy("hand-offs between deployments"),
    "handoff_register": gettext_lazy("registering a child received from another deployment"),
    "handoff_review": gettext_lazy("reviewing a hand-off package"),
    "home_visit": gettext_lazy("recording a home visit"),
    "home_visits": gettext_lazy("home visits"),
    "id": gettext_lazy("ID number"),
    "import": gettext_lazy("import"),
    "intake_list": gettext_lazy("referrals to decide"),
    "intakes": gettext_lazy("referrals to decide"),
    "list": gettext_lazy("list of children"),
    "mandatory_report": gettext_lazy("mandatory report"),
    "mandatory_reports": gettext_lazy("list of mandatory reports"),
    "parent_windows": gettext_lazy("parents' video times"),
    "phone": gettext_lazy("phone number"),
    "reunion_attendance": gettext_lazy("online reunion attendance"),
    "reunion_cancel": gettext_lazy("cancelling an online reunion"),
    "reunion_enrolment": gettext_lazy("online reunion enrolment"),
    "reunion_replanned": gettext_lazy("online reunions re-planned"),
    "reunion_schedule": gettext_lazy("online reunion schedule"),
    "programme": gettext_lazy("programme"),
    "volunteer_match": gettext_lazy("matching a volunteer"),
    "programme_target_list": gettext_lazy("a programme's target list"),
    "programme_walk_in": gettext_lazy("adding a walk-in to a programme"),
    "project_report": gettext_lazy("a project's monthly report"),
    "reveal": gettext_lazy("showing a protected field"),
    "roll_call": gettext_lazy("roll call"),
    "safeguarding": gettext_lazy("safeguarding"),
    "screening": gettext_lazy("screening"),
    "screenings": gettext_lazy("list of screenings"),
    "sharing": gettext_lazy("sharing with another organisation"),
    "task_list": gettext_lazy("list of tasks"),
    "transfers": gettext_lazy("transfers"),
    "view": gettext_lazy("reading the file"),
    "worklist": gettext_lazy("worklist"),
}
FIELD_CLASSES = {
    "basic": gettext_lazy("basic fields"),
    "identifying": gettext_lazy("identifying fields"),
    "sensitive": gettext_lazy("sensitive fields"),
}
REVEALED = {
    "id_number": gettext_lazy("ID number"),
    "address": gettext_lazy("address"),
    "phone": gettext_lazy("phone number"),
}
FILTERS = {
    "stage": gettext_lazy("stage"),
    "open": gettext_lazy("open only"),
    "status": gettext_lazy("status"),
    "place": gettext_lazy("place"),
    "category": gettext_lazy("category"),
    "q": gettext_lazy("search"),
    "user": gettext_lazy("user"),
    "child": gettext_lazy("child"),
    "action": gettext_lazy("action"),
    "since": gettext_lazy("from"),
    "until": gettext_lazy("to"),
    "break_glass": gettext_lazy("break glass only"),
}


def purpose_label(code: str) -> str:
    """A purpose in words; those of the API say so."""
    if not code:
        return ""
    api = code.startswith("api_")
    base = code.removeprefix("api_")
    label = str(PURPOSES.get(base, base))
    return _("%(purpose)s (API)") % {"purpose": label} if api else label


def _words(value: object) -> str:
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return str(value)


def present_entry(entry: AccessLog) -> dict[str, Any]:
    roles = [r for r in entry.roles.split(",") if r]
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    filters = detail.get("filters") if isinstance(detail.get("filters"), dict) else {}
    return {
        "entry": entry,
        "who": str(entry.user) if entry.user is not None else entry.username,
        "username": entry.username,
        "roles": _(", ").join(str(Role(r).label) if r in Role.values else r for r in roles),
        "fields": _(", ").join(str(FIELD_CLASSES.get(f, f)) for f in entry.fields or []),
        "purpose": purpose_label(entry.purpose),
        "filters": [
            (str(FILTERS.get(k, k)), _words(v))
            for k, v in (filters or {}).items()
            if v not in ("", None, [], False)
        ],
        "count": detail.get("count"),
        "field": str(REVEALED.get(str(detail.get("field")), detail.get("field")))
        if detail.get("field")
        else "",
    }
