"""Numbers as people read them: `{{ share|percent }}` turns 0.017 into "1.7%", and
`{{ amount|yuan }}` Decimal("1234.5") into "¥1,234.50"."""

from __future__ import annotations

from django import template

from shouhu.lib import money

register = template.Library()


@register.filter
def percent(value: object) -> str:
    """A ratio (0 to 1) as a percentage with one decimal; "—" when there is none."""
    if value is None or value == "":
        return "—"
    try:
        ratio = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    return f"{ratio * 100:.1f}%".replace(".0%", "%")


@register.filter
def yuan(value: object) -> str:
    """A sum of money in yuan, exact to the fen: "¥1,234.50" (`lib.money.yuan`)."""
    return money.yuan(value)
