"""Numbers a person reads are formatted for people (issue 11 §1)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shouhu.web.templatetags.numbers import percent, yuan


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.017, "1.7%"), (0.5, "50%"), (1, "100%"), (0, "0%"), (None, "—"), ("x", "—")],
)
def test_a_ratio_reads_as_a_percentage(value: object, shown: str) -> None:
    assert percent(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234.5"), "¥1,234.50"),
        (Decimal("0.1") + Decimal("0.2"), "¥0.30"),
        (0, "¥0.00"),
        (Decimal("1234567.89"), "¥1,234,567.89"),
        ("600.00", "¥600.00"),
        (Decimal("-3"), "-¥3.00"),
        (None, "—"),
        (1.5, "—"),  # a float never holds fen exactly: refused, not rounded
        (Decimal("NaN"), "—"),
        ("abc", "—"),
    ],
)
def test_money_reads_as_yuan_with_the_fen(value: object, shown: str) -> None:
    assert yuan(value) == shown
