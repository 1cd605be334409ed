"""Numbers as people read them: `{{ share|percent }}` turns 0.017 into "1.7%"."""

from __future__ import annotations

from django import template

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
