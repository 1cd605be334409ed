"""One-to-one counselling: recorded by the counsellor, notes sealed (sensitive)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.children.models import Child
from shouhu.lib import clock, protect
from shouhu.programmes import served
from shouhu.programmes.models import Concern, Counselling, Mode, Project

NOTES_MAX = 20000


@transaction.atomic
def counselling_record(
    *,
    actor: User,
    child: Child,
    held_on: dt.date,
    minutes: int,
    mode: str,
    concern: str,
    notes: str = "",
    next_step: str = "",
    project: Project | None = None,
    now: dt.datetime | None = None,
) -> Counselling:
    if not access.may_counsel(actor, child):
        raise PermissionDenied(
            _("Only a counsellor or social worker who sees the child records counselling.")
        )
    now = now or clock.now()
    errors: dict[str, list[str]] = {}
    if held_on > now.date():
        errors["held_on"] = [_("The session cannot be in the future.")]
    if project is not None and not project.starts_on <= held_on <= project.ends_on:
        errors["held_on"] = [_("The session lies outside the project's period.")]
    if not 1 <= minutes <= 8 * 60:
        errors["minutes"] = [_("A session lasts between 1 minute and 8 hours.")]
    if mode not in Mode.values:
        errors["mode"] = [_("Choose in person, phone or video.")]
    if concern not in Concern.values:
        errors["concern"] = [_("Choose the presenting concern.")]
    if len(notes) > NOTES_MAX:
        errors["notes"] = [_("At most %(n)d characters.") % {"n": NOTES_MAX}]
    if errors:
        raise ValidationError(errors)
    session = Counselling.objects.create(
        child=child,
        counsellor=actor,
        project=project,
        held_on=held_on,
        minutes=minutes,
        mode=mode,
        concern=concern,
        notes_enc=protect.seal(notes.strip()) if notes.strip() else "",
        next_step=next_step.strip()[:300],
        residence=child.residence_id,
        created_at=now,
    )
    served.after_counselling(session.project_id, child.pk, held_on)
    return session
