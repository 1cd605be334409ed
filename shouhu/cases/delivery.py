"""Services delivered to the child: records of the service catalogue (`ServiceType`) with the
provider, date and time spent, and the duplicates the coordination board shows (the same
service from two organisations within `selectors.DUPLICATE_DAYS`)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.cases.models import Case, ServiceRecord, ServiceType, Stage
from shouhu.cases.rules import raise_if_any
from shouhu.cases.selectors import DUPLICATE_DAYS
from shouhu.lib import clock


@transaction.atomic
def service_record(
    *,
    actor: User,
    case: Case,
    service_type: str,
    delivered_on: dt.date,
    minutes: int,
    participants: int = 1,
    provider: Organisation | None = None,
    note: str = "",
) -> ServiceRecord:
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    errors: dict[str, list[str]] = {}
    kind = ServiceType.objects.filter(code=service_type, active=True).first()
    if kind is None:
        errors["service_type"] = [_("Choose a service from the catalogue.")]
    if delivered_on > clock.today():
        errors["delivered_on"] = [_("The date is in the future.")]
    if delivered_on < case.opened_at.date() - dt.timedelta(days=1):
        errors["delivered_on"] = [_("The date is before the case was opened.")]
    if not 1 <= minutes <= 24 * 60:
        errors["minutes"] = [_("Between 1 minute and 24 hours.")]
    if not 1 <= participants <= 1000:
        errors["participants"] = [_("Between 1 and 1,000.")]
    if case.stage == Stage.CLOSED:
        errors.setdefault("__all__", []).append(_("The case is closed."))
    raise_if_any(errors)
    assert kind is not None
    record = ServiceRecord.objects.create(
        case=case,
        child=case.child,
        residence=case.child.residence_id,
        service_type=kind,
        provider=provider or case.organisation,
        delivered_on=delivered_on,
        minutes=minutes,
        participants=participants,
        recorded_by=actor,
        note=note.strip(),
    )
    _flag_duplicates(record)
    return record


def _flag_duplicates(record: ServiceRecord) -> None:
    """Another organisation gave the child the same service within `DUPLICATE_DAYS`: both
    records are flagged for the coordination board."""
    window = dt.timedelta(days=DUPLICATE_DAYS)
    others = ServiceRecord.objects.filter(
        child_id=record.child_id,
        service_type_id=record.service_type_id,
        delivered_on__gte=record.delivered_on - window,
        delivered_on__lte=record.delivered_on + window,
    ).exclude(provider_id=record.provider_id)
    if others.exists():
        others.filter(duplicate=False).update(duplicate=True)
        record.duplicate = True
        record.save(update_fields=["duplicate"])


def flag_all_duplicates(*, since: dt.date) -> int:
    """Flag, set-based, every service since `since` that another organisation duplicated
    within the window (after a bulk load; `service_record` flags as it goes)."""
    window = dt.timedelta(days=DUPLICATE_DAYS)
    other = ServiceRecord.objects.filter(
        child_id=OuterRef("child_id"),
        service_type_id=OuterRef("service_type_id"),
        delivered_on__gte=OuterRef("delivered_on") - window,
        delivered_on__lte=OuterRef("delivered_on") + window,
    ).exclude(provider_id=OuterRef("provider_id"))
    return (
        ServiceRecord.objects.filter(delivered_on__gte=since, duplicate=False)
        .filter(Exists(other))
        .update(duplicate=True)
    )
