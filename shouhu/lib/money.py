"""Money as people read it: yuan with the fen, thousands separated, never through a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")


def yuan(value: object) -> str:
    """Decimal("1234.5") as "¥1,234.50"; "—" when there is no amount (or a float, which
    cannot hold fen exactly)."""
    if value is None or value == "" or isinstance(value, float | bool):
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return "—"
    if not amount.is_finite():
        return "—"
    text = f"{abs(amount).quantize(FEN, rounding=ROUND_HALF_UP):,}"
    return f"-¥{text}" if amount < 0 else f"¥{text}"
