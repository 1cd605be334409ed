"""Mandatory reports (强制报告, Minors Protection Law Art. 11 and the 2020 nine-ministry
Opinion): opened by a worker's disclosure or by a home-visit finding that matches a trigger,
never dismissed, only completed with the police report's details.

Parallel notice goes at once to the township supervisors and the county civil-affairs
officers of the child's place. The reporter's identity is shown only to the reporter and to
county civil-affairs officers (who deal with the police and the procuratorate); everyone else
sees "confidential". A family member recorded as suspected of the harm is never told.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import OrgKind, Role, User
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock, protect
from shouhu.notify.services import Message, send
from shouhu.screening.models import Administration, MandatoryReport, Trigger

# Home-visit findings that are mandatory-report situations.
FLAG_TRIGGERS = {
    "living_alone_no_carer": Trigger.LIVING_ALONE,
    "unexplained_injury": Trigger.INJURY,
    "abuse_or_violence": Trigger.ABUSE,
    "severe_malnutrition": Trigger.MALNUTRITION,
}


def _notify(report: MandatoryReport, now: dt.datetime) -> None:
    child = report.child
    people = [
        *access.members_over(child, [Role.SUPERVISOR]),
        *access.members_over(child, [Role.OFFICIAL], organisation__kind=OrgKind.CIVIL_AFFAIRS),
    ]
    link = reverse("screening:report", args=[report.pk])
    send(
        people,
        lambda: Message(
            "mandatory_report",
            _("Mandatory report %(id)s opened: tell the police now") % {"id": report.pk},
            _("A report to the police is owed for a child in your area."),
            link,
        ),
        now=now,
    )
    send(
        [report.reporter],
        lambda: Message(
            "mandatory_report",
            _("Report to the police now, then complete mandatory report %(id)s")
            % {"id": report.pk},
            "",
            link,
        ),
        now=now,
    )


@transaction.atomic
def open_report(
    *,
    actor: User,
    child: Child,
    triggers: Sequence[str],
    description: str = "",
    suspected: Sequence[int] = (),
    administration: Administration | None = None,
    now: dt.datetime | None = None,
) -> MandatoryReport:
    now = now or clock.now()
    if not access.grants_for(actor, child) or all(
        g.assignment_kind == "volunteer" for g in access.grants_for(actor, child)
    ):
        raise PermissionDenied(_("You may not report for this child."))
    errors: dict[str, list[str]] = {}
    chosen = list(dict.fromkeys(triggers))
    if not chosen:
        errors["triggers"] = [_("Choose at least one situation.")]
    elif any(t not in Trigger.values for t in chosen):
        errors["triggers"] = [_("Unknown situation.")]
    members = {m.pk: m for m in FamilyMember.objects.filter(household_id=child.household_id)}
    if any(pk not in members for pk in suspected):
        errors["suspected"] = [_("Choose members of the child's family.")]
    if errors:
        raise ValidationError(errors)
    from shouhu.screening.services import _organisation_of

    report = MandatoryReport.objects.create(
        child=child,
        triggers=chosen,
        description_enc=protect.seal(description.strip()),
        reporter=actor,
        reporter_organisation_id=_organisation_of(actor, child),
        administration=administration,
        opened_at=now,
    )
    report.suspected.set([members[pk] for pk in suspected])
    _notify(report, now)
    from shouhu.screening import risk

    risk.recompute(child, now=now)
    return report


def open_from_findings(administration: Administration, now: dt.datetime) -> MandatoryReport | None:
    """A home-visit assessment whose flags match a trigger opens a report at once."""
    triggers = [
        FLAG_TRIGGERS[f["code"]]
        for f in administration.flags
        if f.get("action") == "mandatory_report" and f.get("code") in FLAG_TRIGGERS
    ]
    unmapped = [
        f["code"]
        for f in administration.flags
        if f.get("action") == "mandatory_report" and f.get("code") not in FLAG_TRIGGERS
    ]
    if unmapped:
        triggers.append(Trigger.OTHER)
    if not triggers:
        return None
    return open_report(
        actor=administration.administered_by,
        child=administration.child,
        triggers=triggers,
        description=_("Found at a home visit: %(codes)s")
        % {"codes": ", ".join(f["code"] for f in administration.flags)},
        administration=administration,
        now=now,
    )


reports_visible_to = access.reports_visible_to
get_report_for_user = access.get_report_for_user


@transaction.atomic
def complete(
    *,
    actor: User,
    report: MandatoryReport,
    police_told_at: dt.datetime | None,
    receiving_unit: str,
    reference: str,
    now: dt.datetime | None = None,
) -> MandatoryReport:
    """The only way a report leaves the open list: with when the police were told, which
    unit received it and its reference."""
    now = now or clock.now()
    report = MandatoryReport.objects.select_for_update().get(pk=report.pk)
    if report.completed:
        raise ValidationError(_("This report is already completed."))
    if not reports_visible_to(actor).filter(pk=report.pk).exists():
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if police_told_at is None:
        errors["police_told_at"] = [_("When were the police told?")]
    elif police_told_at > now + dt.timedelta(minutes=5):
        errors["police_told_at"] = [_("The time is in the future.")]
    if not receiving_unit.strip():
        errors["receiving_unit"] = [_("Which police unit received the report?")]
    if not reference.strip():
        errors["police_reference"] = [_("Give the reference the police gave.")]
    if errors:
        raise ValidationError(errors)
    report.police_told_at = police_told_at
    report.receiving_unit = receiving_unit.strip()[:200]
    report.police_reference = reference.strip()[:100]
    report.completed_at = now
    report.completed_by = actor
    report.save()
    from shouhu.screening import risk

    risk.recompute(report.child, now=now)
    return report


def present_report(user: User, report: MandatoryReport) -> dict[str, Any]:
    reporter = (
        report.reporter.get_full_name() or report.reporter.username
        if access.may_see_reporter(user, report)
        else None
    )
    labels = dict(Trigger.choices)
    return {
        "id": report.pk,
        "child": report.child_id,
        "child_name": report.child.name,
        "triggers": [str(labels.get(t, t)) for t in report.triggers],
        "description": protect.unseal(report.description_enc),
        "reporter": reporter,
        "opened_at": report.opened_at,
        "completed": report.completed,
        "police_told_at": report.police_told_at,
        "receiving_unit": report.receiving_unit,
        "police_reference": report.police_reference,
        "suspected": [m.name for m in report.suspected.all()],
    }


def guardians_to_tell(child: Child) -> list[FamilyMember]:
    """The child's guardians to inform about a safeguarding matter: never one recorded as
    suspected of harm in any report about the child."""
    suspects = set(MandatoryReport.objects.filter(child=child).values_list("suspected", flat=True))
    return [
        m
        for m in FamilyMember.objects.filter(household_id=child.household_id, is_guardian=True)
        if m.pk not in suspects
    ]
