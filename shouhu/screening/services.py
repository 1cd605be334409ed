"""Giving a child an instrument: validate the answers, score them, store, raise alerts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import Membership, User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access
from shouhu.children.models import Child
from shouhu.lib import clock, dates, protect
from shouhu.lib import instruments as defs
from shouhu.screening import registry, safeguarding
from shouhu.screening.models import Administration, Draft, GroupSession, Mode, Respondent

LANGUAGES = ("zh-Hans", "en")


def _organisation_of(user: User, child: Child) -> int | None:
    """The organisation the worker acts for with this child: the first of their active
    memberships (registry, school or case organisation)."""
    membership = (
        Membership.objects.filter(user=user, active=True, organisation__active=True)
        .order_by("id")
        .first()
    )
    return membership.organisation_id if membership else None


def _answers(raw: object) -> dict[str, int | None]:
    if not isinstance(raw, Mapping):
        raise ValidationError({"answers": _("Answers must be an object of item id → value.")})
    out: dict[str, int | None] = {}
    for key, value in raw.items():
        out[str(key)] = value
    return out


@transaction.atomic
def administer(
    *,
    actor: User,
    child: Child,
    instrument: str,
    answers: Mapping[str, Any],
    respondent: str | None = None,
    mode: str | None = None,
    language: str = "zh-Hans",
    administered_at: dt.datetime | None = None,
    group: GroupSession | None = None,
    now: dt.datetime | None = None,
) -> Administration:
    """Store one completed instrument. The scores are computed here from the answers; an
    unknown item or a value out of range is a validation error naming the item
    (`answers.<item id>`). Critical answers raise a safeguarding alert in the same
    transaction."""
    inst = registry.get(instrument)
    if not access.can_administer(actor, child, kind=inst.kind):
        raise PermissionDenied(_("You may not give this child this instrument."))
    now = now or clock.now()
    when = administered_at or now
    if timezone.is_naive(when):
        when = timezone.make_aware(when)  # a time without offset is Asia/Shanghai
    if when > now + dt.timedelta(minutes=5):
        raise ValidationError({"administered_at": _("The date is in the future.")})
    errors: dict[str, list[str]] = {}
    respondent = respondent or inst.respondent
    if respondent not in Respondent.values:
        errors["respondent"] = [_("Unknown respondent.")]
    mode = mode or inst.modes[0]
    if mode not in Mode.values or mode not in inst.modes:
        errors["mode"] = [_("This instrument is not given this way.")]
    if language not in LANGUAGES:
        errors["language"] = [_("Unknown language.")]
    refused = age_refusal(inst, child, timezone.localtime(when).date())
    if refused:
        errors["instrument"] = [refused]
    given = _answers(answers)
    errors.update(_mode_errors(inst, given, mode))
    result: defs.Score | None = None
    try:
        result = defs.score(inst, given)
    except defs.AnswerError as exc:
        errors[f"answers.{exc.item}"] = [str(exc)]
    else:
        # Half-done is not a result: every question asked must be answered (an unfinished
        # questionnaire is kept with `draft_save`, never scored).
        for item_id in result.missing:
            errors.setdefault(f"answers.{item_id}", []).append(str(UNANSWERED))
    if errors:
        raise ValidationError(errors)
    assert result is not None
    administration = Administration.objects.create(
        child=child,
        instrument=inst.code,
        version=inst.version,
        kind=inst.kind,
        administered_by=actor,
        organisation_id=group.organisation_id if group else _organisation_of(actor, child),
        respondent=respondent,
        mode=mode,
        language=language,
        administered_at=when,
        answers_enc=protect.seal(json.dumps({k: v for k, v in given.items() if v is not None})),
        total=result.total,
        band=result.band or "",
        subscales=dict(result.subscales),
        flags=[
            {"code": f.code, "action": f.action, "item": f.item, "value": f.value}
            for f in result.flags
        ],
        missing=list(result.missing),
        prorated=result.prorated,
        follow_up=result.follow_up,
        action=result.action or "",
        group=group,
    )
    log_access(
        user=actor,
        action=Action.SCREENING,
        child_id=child.pk,
        object_type="administration",
        object_id=str(administration.pk),
        fields=[access.SENSITIVE],
        purpose="administer",
        detail={"instrument": inst.code},
    )
    Draft.objects.filter(child=child, instrument=inst.code, started_by=actor).delete()
    safeguarding.raise_for(administration, now=now)
    from shouhu.screening import reporting, risk

    reporting.open_from_findings(administration, now)

    if inst.code == risk.HOME_VISIT:
        risk.visit_done(administration, now=now)
    risk.recompute(child, now=now)
    return administration


UNANSWERED = gettext_lazy("Answer this question.")


def age_refusal(inst: defs.Instrument, child: Child, on: dt.date) -> str:
    """Why the instrument may not be given to this child on this day ("" when it may): each
    instrument is used only inside its age range."""
    age = dates.age_on(child.birth_date, on)
    low, high = inst.ages
    if low <= age <= high:
        return ""
    return _("%(name)s is for ages %(low)s to %(high)s; the child is %(age)s.") % {
        "name": inst.name.text(get_language_code()),
        "low": low,
        "high": high,
        "age": age,
    }


def get_language_code() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-Hans"


def _mode_errors(
    inst: defs.Instrument, given: Mapping[str, int | None], mode: str
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for item_id, value in given.items():
        try:
            item = inst.item(item_id)
        except KeyError:
            continue  # the scorer names unknown items
        if value is not None and item.modes and mode not in item.modes:
            errors[f"answers.{item_id}"] = [
                _("This question is asked only in an interview, not in a %(mode)s.")
                % {"mode": Mode(mode).label if mode in Mode.values else mode}
            ]
    return errors


@transaction.atomic
def draft_save(
    *,
    actor: User,
    child: Child,
    instrument: str,
    answers: Mapping[str, Any],
    mode: str,
    language: str = "zh-Hans",
    group: GroupSession | None = None,
    now: dt.datetime | None = None,
) -> Draft:
    """Keep an unfinished questionnaire to finish later. The answers so far are checked
    (known questions, allowed answers) but never scored and not a result. A critical answer
    in it raises its safeguarding alert at once (danger cannot wait for the rest of the
    questions); submitting it later raises no second alert for the same answers. One draft
    per worker, child and instrument."""
    inst = registry.get(instrument)
    if not access.can_administer(actor, child, kind=inst.kind):
        raise PermissionDenied(_("You may not give this child this instrument."))
    now = now or clock.now()
    errors: dict[str, list[str]] = {}
    refused = age_refusal(inst, child, timezone.localtime(now).date())
    if refused:
        errors["instrument"] = [refused]
    if mode not in inst.modes:
        errors["mode"] = [_("This instrument is not given this way.")]
    given = _answers(answers)
    errors.update(_mode_errors(inst, given, mode))
    result: defs.Score | None = None
    try:
        result = defs.score(inst, given)  # validates the answers; the score is thrown away
    except defs.AnswerError as exc:
        errors[f"answers.{exc.item}"] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    assert result is not None
    draft, _created = Draft.objects.update_or_create(
        child=child,
        instrument=inst.code,
        started_by=actor,
        defaults={
            "mode": mode,
            "language": language if language in LANGUAGES else "zh-Hans",
            "answers_enc": protect.seal(
                json.dumps({k: v for k, v in given.items() if v is not None})
            ),
            "group": group,
            "updated_at": now,
        },
    )
    raised = safeguarding.raise_alert(
        child=child,
        by=actor,
        instrument=inst.code,
        organisation_id=group.organisation_id if group else _organisation_of(actor, child),
        flags=[{"code": f.code, "action": f.action} for f in result.flags],
        administration=None,
        now=now,
    )
    if raised is not None:
        from shouhu.screening import risk

        risk.recompute(child, now=now)  # the open alert, not the unscored answers
    return draft


def draft_calls_for_action(draft: Draft) -> bool:
    """Whether an answer kept in the draft would raise an alert once submitted: the worker
    is told at once to finish it (the draft itself raises nothing and is never scored)."""
    inst = registry.definition(draft.instrument)
    flags = defs.score(inst, draft_answers(draft)).flags
    return any(f.action in safeguarding.ALERT_ACTIONS for f in flags)


def draft_of(*, actor: User, child: Child, instrument: str) -> Draft | None:
    """The worker's own unfinished questionnaire for this child (nobody else's)."""
    return Draft.objects.filter(child=child, instrument=instrument, started_by=actor).first()


def draft_answers(draft: Draft) -> dict[str, int]:
    data: dict[str, int] = json.loads(protect.unseal(draft.answers_enc) or "{}")
    return data


def answers_of(administration: Administration) -> dict[str, int]:
    data: dict[str, int] = json.loads(protect.unseal(administration.answers_enc) or "{}")
    return data


@transaction.atomic
def group_create(
    *,
    actor: User,
    instrument: str,
    title: str,
    held_on: dt.date,
    children: list[Child],
) -> GroupSession:
    """A group screening (a class or an activity group in one sitting). Every child must be
    one the worker may give the instrument to; the error names those who are not."""
    inst = registry.get(instrument)
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Name the group (a class or an activity).")]
    if not children:
        errors["children"] = [_("The group has no children.")]
    refused = [c.name for c in children if not access.can_administer(actor, c, kind=inst.kind)]
    if refused:
        errors["children"] = [
            _("You may not give this instrument to: %(names)s") % {"names": "、".join(refused)}
        ]
    organisation = _organisation_of(actor, children[0]) if children else None
    if organisation is None:
        errors.setdefault("__all__", []).append(_("You have no organisation to screen for."))
    if errors:
        raise ValidationError(errors)
    assert organisation is not None
    group = GroupSession.objects.create(
        organisation_id=organisation,
        instrument=inst.code,
        title=title.strip()[:200],
        held_on=held_on,
        conducted_by=actor,
    )
    group.children.set(children)
    return group
