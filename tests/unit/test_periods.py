"""Local days of the shop's zone as UTC instants, across changes of daylight saving time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from kiosk.periods import Period, offsets

BERLIN = "Europe/Berlin"


def test_a_period_starts_at_local_midnight_and_the_previous_one_is_as_long() -> None:
    week = Period(date(2026, 3, 23), date(2026, 3, 29), BERLIN)
    assert week.days == 7
    assert week.start == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)  # CET
    assert week.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # CEST from the 29th
    assert week.previous() == Period(date(2026, 3, 16), date(2026, 3, 22), BERLIN)


def test_the_offsets_change_at_the_instant_of_the_switch() -> None:
    march = Period(date(2026, 3, 1), date(2026, 3, 31), BERLIN)
    assert offsets(march) == [(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 3600), (None, 7200)]
    year = Period(date(2026, 1, 1), date(2026, 12, 31), BERLIN)
    assert [offset for _until, offset in offsets(year)] == [3600, 7200, 3600]
    assert offsets(Period(date(2026, 6, 1), date(2026, 6, 30), "UTC")) == [(None, 0)]


def test_a_day_of_the_switch_has_23_or_25_hours() -> None:
    assert len(Period(date(2026, 3, 29), date(2026, 3, 29), BERLIN).hour_labels()) == 23
    autumn = Period(date(2026, 10, 25), date(2026, 10, 25), BERLIN).hour_labels()
    assert len(autumn) == 24 and autumn[0] == "2026-10-25 00"  # 02:00 twice, one label
