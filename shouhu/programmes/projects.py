"""Funded projects: recorded by the funder's or the implementer's people, with targets as
numbers (progress is counted from the records, `selectors.progress`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.lib import clock
from shouhu.lib.categories import CATEGORY_CODES
from shouhu.places.models import Place
from shouhu.programmes.models import Measure, Project, Target


@transaction.atomic
def project_create(
    *,
    actor: User,
    name: str,
    funder: Organisation,
    implementer: Organisation,
    starts_on: dt.date,
    ends_on: dt.date,
    places: Sequence[Place],
    target_groups: Sequence[str] = (),
    budget: Decimal | None = None,
    targets: Mapping[str, Decimal] | None = None,
    now: dt.datetime | None = None,
) -> Project:
    if not (access.may_run_programme(actor, implementer.pk) or access.works_in(actor, funder)):
        raise PermissionDenied(_("Only the funder's or the implementer's people record a project."))
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Name the project.")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("The project ends before it starts.")]
    if not places:
        errors["places"] = [_("Choose the area the project serves.")]
    unknown = [g for g in target_groups if g not in CATEGORY_CODES]
    if unknown:
        errors["target_groups"] = [_("Unknown group: %(codes)s") % {"codes": ", ".join(unknown)}]
    if budget is not None and budget < 0:
        errors["budget"] = [_("The budget cannot be negative.")]
    for measure, value in (targets or {}).items():
        if measure not in Measure.values:
            errors[f"targets.{measure}"] = [_("Unknown measure.")]
        elif value <= 0:
            errors[f"targets.{measure}"] = [_("A target is a positive number.")]
    if errors:
        raise ValidationError(errors)
    project = Project.objects.create(
        name=name.strip()[:200],
        funder=funder,
        implementer=implementer,
        starts_on=starts_on,
        ends_on=ends_on,
        target_groups=list(dict.fromkeys(target_groups)),
        budget=budget,
        created_at=now or clock.now(),
        created_by=actor,
    )
    project.places.set(places)
    Target.objects.bulk_create(
        Target(project=project, measure=m, value=v) for m, v in (targets or {}).items()
    )
    return project
