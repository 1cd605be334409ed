"""A case's notes (encrypted; read only by those `access.may_read_notes` allows) and the
case conferences with the organisations and people who took part and what they decided."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.cases.models import Case, CaseNote, Conference
from shouhu.cases.rules import raise_if_any
from shouhu.lib import clock, protect


@transaction.atomic
def note_add(*, actor: User, case: Case, text: str, now: dt.datetime | None = None) -> CaseNote:
    if not access.may_read_notes(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    if not text.strip():
        raise ValidationError({"text": [_("The note is empty.")]})
    return CaseNote.objects.create(
        case=case,
        author=actor,
        written_at=now or clock.now(),
        text_enc=protect.seal(text.strip()),
    )


@transaction.atomic
def conference_add(
    *,
    actor: User,
    case: Case,
    held_on: dt.date,
    organisations: list[Organisation],
    decisions: str,
    participants: list[User] | None = None,
) -> Conference:
    if not access.may_work(actor, case):
        raise PermissionDenied(_("You do not work on this case."))
    errors: dict[str, list[str]] = {}
    if not decisions.strip():
        errors["decisions"] = [_("Record what was decided.")]
    if not organisations:
        errors["organisations"] = [_("Name the organisations that took part.")]
    if held_on > clock.today():
        errors["held_on"] = [_("The date is in the future.")]
    raise_if_any(errors)
    conference = Conference.objects.create(
        case=case, held_on=held_on, decisions=decisions.strip(), recorded_by=actor
    )
    conference.organisations.set(organisations)
    conference.participants.set(participants or [])
    return conference
