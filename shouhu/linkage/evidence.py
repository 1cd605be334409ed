"""What the comparison levels of a pair say, in words a reviewer reads.

The engine returns, for each pair, the level each comparison of `settings.chinese()` reached
(`gamma_<name>`: -1 missing on a side, 0 different, higher closer). `LEVELS` names the
levels of each comparison from the closest down to "different", in the order `settings`
lists them (a test keeps the two in step)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

FIELDS: dict[str, Promise] = {
    "name": _("Name"),
    "sex": _("Sex"),
    "birth_date": _("Date of birth"),
    "id_number": _("ID number"),
    "father_name": _("Father's name"),
    "mother_name": _("Mother's name"),
    "guardian_phone": _("Guardian's phone"),
    "hukou_place": _("Hukou place"),
    "residence_place": _("Residence"),
}

LEVELS: dict[str, list[Promise]] = {
    "name": [
        _("same characters"),
        _("same pinyin"),
        _("given name swapped or partly missing"),
        _("look-alike characters"),
        _("pinyin typo"),
        _("different"),
    ],
    "sex": [_("same"), _("different")],
    "birth_date": [
        _("same date"),
        _("day and month swapped"),
        _("lunar date recorded as solar"),
        _("year (and month) agree, date partial"),
        _("one digit"),
        _("different"),
    ],
    "id_number": [
        _("same number, agreeing with birth date and sex"),
        _("same number"),
        _("one digit wrong or two swapped"),
        _("different"),
    ],
    "father_name": [_("same characters"), _("same pinyin"), _("different")],
    "mother_name": [_("same characters"), _("same pinyin"), _("different")],
    "guardian_phone": [_("same"), _("different")],
    "hukou_place": [_("same county"), _("same prefecture"), _("different")],
    "residence_place": [
        _("same village"),
        _("same township"),
        _("same county"),
        _("different"),
    ],
}


@dataclass(frozen=True)
class Line:
    field: str
    label: str
    level: str
    agreement: str  # "exact", "close", "differ" or "missing": how the page colours it


def levels_of(row: dict[str, Any]) -> dict[str, int]:
    """{comparison: level} from a row of the engine's evidence columns."""
    return {
        name: int(row[f"gamma_{name}"]) for name in LEVELS if row.get(f"gamma_{name}") is not None
    }


def explain(evidence: dict[str, int]) -> list[Line]:
    """One line per comparison: the field, how it compared, and whether it agreed."""
    lines = []
    for name, labels in LEVELS.items():
        gamma = evidence.get(name, -1)
        if gamma < 0:
            lines.append(Line(name, str(FIELDS[name]), str(_("missing on one side")), "missing"))
            continue
        top = len(labels) - 1
        index = max(0, min(top, top - gamma))
        agreement = "exact" if gamma == top else ("differ" if gamma == 0 else "close")
        lines.append(Line(name, str(FIELDS[name]), str(labels[index]), agreement))
    return lines
