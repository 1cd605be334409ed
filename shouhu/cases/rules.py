"""What every case write shares: field errors (a value from the listed choices, all errors
raised together), the case's version lock, and the one rule for sharing a child's file with
another organisation (`referral_basis`).

Work on a case (stages, plan, services, follow-ups, notes) is for the organisation's social
workers and counsellors and the workers added to the case (`access.may_work`). Plans and
stages carry the case's `version`: a save from a stale read is refused with `ConflictError`
(409 over the API) and nothing is written."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu.cases.models import Case, Channel, ConsentBasis, Urgency
from shouhu.children.consents import sharing_allowed, sharing_consent
from shouhu.children.data import ConflictError
from shouhu.children.models import Child


def check_choice(errors: dict[str, list[str]], name: str, value: str, choices: Any) -> None:
    if value not in choices.values:
        errors.setdefault(name, []).append(_("Choose one of the listed values."))


def raise_if_any(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def lock_case(case: Case, version: int | None) -> Case:
    """The case row, locked; a stale `version` is a conflict (nothing is written)."""
    current = Case.objects.select_for_update().get(pk=case.pk)
    if version is not None and current.version != version:
        raise ConflictError(
            _(
                "Someone else changed this case since you opened it (version %(theirs)s, "
                "yours %(yours)s). Reload it; your changes were not saved."
            )
            % {"theirs": current.version, "yours": version}
        )
    return current


def bump_version(case: Case) -> None:
    case.version += 1
    case.save(update_fields=["version"])


SHARING_REFUSED = gettext_lazy(
    "Referring the child to another organisation shares the child's file: it needs the "
    "guardian's consent to sharing (record it on the child's page), a recorded legal basis, "
    "the child's own request or an emergency."
)


def referral_basis(child: Child, *, channel: str, urgency: str) -> str:
    """The one rule for sharing a child's file with another organisation (a referral, its
    acceptance, a transfer): the guardian's sharing consent or a legal basis on record
    (`children.consents.sharing_allowed`, the rule the child's page shows), the child's own
    request, or an emergency (PIPL Art. 13(4)). The basis as a `ConsentBasis` value; "" =
    none."""
    if sharing_consent(child) is not None:
        return ConsentBasis.GUARDIAN
    if sharing_allowed(child) or urgency == Urgency.CRISIS:
        return ConsentBasis.LEGAL
    if channel == Channel.SELF:
        return ConsentBasis.CHILD
    return ""
