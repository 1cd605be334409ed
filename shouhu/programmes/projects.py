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
from shouhu.programmes.models import Design, Kind, Measure, Milestone, Project, Target


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


@transaction.atomic
def milestone_add(*, actor: User, project: Project, title: str, due_on: dt.date) -> Milestone:
    """A stage of the project, to be accepted by the funder (阶段验收)."""
    if not access.may_record_project(actor, project.funder_id, project.implementer_id):
        raise PermissionDenied(_("Only the funder's or the implementer's people plan stages."))
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Name the stage.")]
    if not project.starts_on <= due_on <= project.ends_on:
        errors["due_on"] = [
            _("The stage must fall within the project's period (%(start)s to %(end)s).")
            % {"start": project.starts_on, "end": project.ends_on}
        ]
    if errors:
        raise ValidationError(errors)
    return Milestone.objects.create(project=project, title=title.strip()[:200], due_on=due_on)


@transaction.atomic
def milestone_accept(
    *, actor: User, milestone: Milestone, accepted_on: dt.date, note: str = ""
) -> Milestone:
    """The funder accepts a stage: who, when, with what note. Accepted once; the record
    stays as it was signed."""
    milestone = Milestone.objects.select_for_update().select_related("project").get(pk=milestone.pk)
    if not access.may_accept_milestone(actor, milestone.project):
        raise PermissionDenied(_("Only the funder's people accept a stage."))
    errors: dict[str, list[str]] = {}
    if milestone.accepted_on is not None:
        errors["accepted_on"] = [_("This stage was already accepted.")]
    elif accepted_on > clock.today():
        errors["accepted_on"] = [_("The acceptance cannot be dated in the future.")]
    elif accepted_on < milestone.project.starts_on:
        errors["accepted_on"] = [_("The acceptance cannot be dated before the project started.")]
    if not note.strip():
        errors["note"] = [_("Write what was checked and found.")]
    if errors:
        raise ValidationError(errors)
    milestone.accepted_on, milestone.accepted_by = accepted_on, actor
    milestone.note = note.strip()[:4000]
    milestone.save(update_fields=["accepted_on", "accepted_by", "note"])
    return milestone


@transaction.atomic
def design_add(
    *,
    actor: User,
    organisation: Organisation,
    kind: str,
    name: str,
    hours_min: int = 1,
    hours_max: int = 1,
    content: str = "",
) -> Design:
    """An organisation's own activity or course design, beside the shipped catalogue."""
    if not access.may_run_programme(actor, organisation.pk):
        raise PermissionDenied(_("You do not organise programmes for this organisation."))
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [_("Choose the kind of activity.")]
    if not name.strip():
        errors["name"] = [_("Name the activity or course.")]
    elif Design.objects.filter(
        organisation=organisation, name=name.strip()[:200], kind=kind
    ).exists():
        errors["name"] = [_("Your organisation already has a design of this name.")]
    if not 1 <= hours_min <= 200:
        errors["hours_min"] = [_("Between 1 and 200 class hours.")]
    if not hours_min <= hours_max <= 200:
        errors["hours_max"] = [_("At least the first number and at most 200.")]
    if errors:
        raise ValidationError(errors)
    return Design.objects.create(
        organisation=organisation,
        kind=kind,
        name=name.strip()[:200],
        hours_min=hours_min,
        hours_max=hours_max,
        content=content.strip()[:4000],
        source=organisation.name[:200],
    )
