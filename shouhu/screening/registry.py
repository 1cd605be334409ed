"""The instruments this deployment can use: definition files merged with the licence register.

Definitions ship in `instruments/*.toml`. Those whose text may be shipped are enabled unless
the register disables them; those shipped as scoring definitions only (`text =
"licensed_addon"`) stay disabled until the deploying organisation installs licensed item text
and records its licence (`shouhu instruments install-text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu.accounts.models import User
from shouhu.lib import instruments as defs
from shouhu.lib.instruments import Instrument
from shouhu.screening.models import InstrumentLicence

DEFINITIONS = Path(__file__).resolve().parent / "instruments"
SHIPPED = "shipped"


@cache
def definitions() -> dict[str, Instrument]:
    """Every definition file, validated (a broken file stops the process with its error)."""
    return defs.load_dir(DEFINITIONS)


def _by_item(texts: Mapping[str, str], language: str) -> dict[str, dict[str, str]]:
    return {item: {language: text} for item, text in texts.items()}


def _licences() -> dict[str, InstrumentLicence]:
    return {row.code: row for row in InstrumentLicence.objects.all()}


def _merged(base: Instrument, licence: InstrumentLicence | None) -> Instrument:
    if licence is None:
        return base
    merged = base
    for language, texts in sorted(licence.texts.items()):
        merged = defs.with_text(merged, _by_item(texts, language), language)
    return merged


def _enabled(base: Instrument, licence: InstrumentLicence | None) -> bool:
    if base.text == SHIPPED:
        return licence is None or licence.enabled
    return licence is not None and licence.enabled and bool(licence.texts)


def catalogue() -> list[tuple[Instrument, bool]]:
    """All instruments with installed text merged, each with whether it is enabled."""
    licences = _licences()
    return [
        (_merged(base, licences.get(code)), _enabled(base, licences.get(code)))
        for code, base in sorted(definitions().items())
    ]


def enabled() -> list[Instrument]:
    return [inst for inst, on in catalogue() if on]


def get(code: str) -> Instrument:
    """An enabled instrument, or a validation error naming the field `instrument`."""
    base = definitions().get(code)
    if base is None:
        raise ValidationError(
            {"instrument": _("There is no instrument “%(code)s”.") % {"code": code}}
        )
    licence = InstrumentLicence.objects.filter(code=code).first()
    if not _enabled(base, licence):
        raise ValidationError(
            {"instrument": _("The instrument “%(code)s” is not enabled here.") % {"code": code}}
        )
    return _merged(base, licence)


def definition(code: str) -> Instrument:
    """Any known instrument, enabled or not (to show stored results)."""
    base = definitions()[code]
    return _merged(base, InstrumentLicence.objects.filter(code=code).first())


@transaction.atomic
def install_text(
    *,
    actor: User | None,
    code: str,
    language: str,
    texts: Mapping[str, str],
    reference: str,
) -> InstrumentLicence:
    """Install licensed item text for one language; the licence reference is required."""
    base = definitions().get(code)
    if base is None:
        raise ValidationError(
            {"instrument": _("There is no instrument “%(code)s”.") % {"code": code}}
        )
    if not reference.strip():
        raise ValidationError(
            {"reference": _("Record the licence or permission under which the text is used.")}
        )
    try:
        defs.with_text(base, _by_item(texts, language), language)
    except defs.DefinitionError as exc:
        raise ValidationError({"texts": str(exc)}) from exc
    licence, _created = InstrumentLicence.objects.select_for_update().get_or_create(code=code)
    licence.texts = {**licence.texts, language: dict(texts)}
    licence.reference = reference.strip()[:500]
    licence.recorded_by = actor
    licence.save()
    return licence


@transaction.atomic
def set_enabled(
    *, actor: User | None, code: str, on: bool, reference: str = ""
) -> InstrumentLicence:
    """Enable or disable an instrument. An instrument whose text is not licensed (no text
    installed for a scoring-only definition) cannot be enabled."""
    base = definitions().get(code)
    if base is None:
        raise ValidationError(
            {"instrument": _("There is no instrument “%(code)s”.") % {"code": code}}
        )
    licence, _created = InstrumentLicence.objects.select_for_update().get_or_create(code=code)
    if on and base.text != SHIPPED and not licence.texts:
        raise ValidationError(
            {
                "instrument": _(
                    "The text of “%(code)s” is not licensed here: install the licensed text "
                    "first (shouhu instruments install-text)."
                )
                % {"code": code}
            }
        )
    licence.enabled = on
    if reference.strip():
        licence.reference = reference.strip()[:500]
    licence.recorded_by = actor
    licence.save()
    return licence
