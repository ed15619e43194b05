"""Which days a dashboard range means, and what it is compared with."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.backoffice.dashboard import RangeChoice, period_of, previous_of
from kiosk.periods import Period

ZONE = "Europe/Berlin"


@pytest.mark.parametrize(
    ("key", "today", "period", "previous"),
    [
        ("7d", date(2026, 12, 4), (date(2026, 11, 28), date(2026, 12, 4)),
         (date(2026, 11, 21), date(2026, 11, 27))),
        ("month", date(2026, 12, 4), (date(2026, 12, 1), date(2026, 12, 4)),
         (date(2026, 11, 1), date(2026, 11, 4))),
        ("month", date(2026, 3, 31), (date(2026, 3, 1), date(2026, 3, 31)),
         (date(2026, 2, 1), date(2026, 2, 28))),
        ("lastmonth", date(2026, 12, 4), (date(2026, 11, 1), date(2026, 11, 30)),
         (date(2026, 10, 1), date(2026, 10, 31))),
        ("lastmonth", date(2026, 1, 15), (date(2025, 12, 1), date(2025, 12, 31)),
         (date(2025, 11, 1), date(2025, 11, 30))),
    ],
)  # fmt: skip
def test_a_range_and_the_period_it_is_compared_with(
    key: str, today: date, period: tuple[date, date], previous: tuple[date, date]
) -> None:
    chosen, problems = period_of(RangeChoice(key), today, ZONE)
    assert problems == []
    assert chosen == Period(*period, ZONE)
    assert previous_of(key, chosen) == Period(*previous, ZONE)
