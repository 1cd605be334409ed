"""Words for the codes a result carries: the action owed, bands, subscales and flags.

Readers see labels, never codes. The action owed is the one thing readers at the summary
level are told, so its labels say what to do, not what was answered; band, subscale and flag
labels come from the instrument's definition file in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy

from shouhu.lib.instruments import Instrument
from shouhu.screening import registry

ACTION_LABELS = {
    "follow_up": gettext_lazy("Follow-up by a trained worker"),
    "alert": gettext_lazy("Safeguarding alert: a responder sees the child today"),
    "mandatory_report": gettext_lazy("Mandatory report to the police"),
    "imminent": gettext_lazy("Imminent risk: stay with the child and act now"),
}


def action_label(code: str | None) -> str:
    return str(ACTION_LABELS.get(code or "", code or ""))


def definition(code: str | None) -> Instrument | None:
    """The shipped definition (labels only: no licence look-up)."""
    return registry.definitions().get(code) if code else None


def band_label(inst: Instrument | None, code: str | None, language: str) -> str:
    if not code:
        return ""
    band = next((b for b in inst.bands if b.code == code), None) if inst else None
    return band.label.text(language) if band else code


def subscale_rows(
    inst: Instrument | None, subscales: Mapping[str, Any], language: str
) -> list[tuple[str, Any]]:
    names = {s.code: s.name.text(language) for s in inst.subscales} if inst else {}
    return [(names.get(code) or code, value) for code, value in subscales.items()]


def flag_labels(
    inst: Instrument | None, flags: Iterable[Mapping[str, Any]], language: str
) -> list[str]:
    """A raised flag's code names a `[[flags]]` entry, a subscale or a band of the instrument."""
    labels: dict[str, str] = {}
    if inst is not None:
        labels.update({b.code: b.label.text(language) for b in inst.bands})
        labels.update({s.code: s.name.text(language) for s in inst.subscales})
        labels.update({f.code: f.label.text(language) for f in inst.flags})
    return [labels.get(str(f.get("code", ""))) or str(f.get("code", "")) for f in flags]
