"""Numbers a person reads are formatted for people (issue 11 §1)."""

from __future__ import annotations

import pytest

from shouhu.web.templatetags.numbers import percent


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.017, "1.7%"), (0.5, "50%"), (1, "100%"), (0, "0%"), (None, "—"), ("x", "—")],
)
def test_a_ratio_reads_as_a_percentage(value: object, shown: str) -> None:
    assert percent(value) == shown
