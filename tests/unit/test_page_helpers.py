"""Helpers templates use for markup: machine-readable times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kiosk.templating import machine_datetime


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 3, 9, 45, 18, 890783, tzinfo=UTC),
        datetime(2026, 12, 3, 10, 45, 18, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 12, 3, 9, 45, 18, 890783),
    ],
)
def test_a_moment_is_written_in_utc_to_the_second(moment: datetime) -> None:
    assert machine_datetime(moment) == "2026-12-03T09:45:18Z"
