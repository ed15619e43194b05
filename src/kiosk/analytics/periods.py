"""The shop's days and hours as UTC instants.

A day of the figures is a day where the shop is (KIOSK_TIMEZONE), from one local midnight
to the next: 23 or 25 hours long on the days the clocks change. Its hours are counted
from its midnight. Rollups and reports cut time the same way, so a day's figures read from
the rollup equal those counted from the raw events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from kiosk.periods import local_midnight

# A period's rolled-up figures are final when they were rolled up this long after it
# ended: the recorder writes its buffered events within seconds, so none come later.
GRACE = timedelta(minutes=15)

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Span:
    """[start, end), both aware UTC: any stretch of time, where `kiosk.periods.Period`
    is a run of whole local days."""

    start: datetime
    end: datetime


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the local day begins."""
    return local_midnight(day, zone)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def day(of: date, zone: ZoneInfo) -> Span:
    return Span(midnight(of, zone), midnight(of + timedelta(days=1), zone))


def days(first: date, last: date, zone: ZoneInfo) -> list[Span]:
    """The local days from `first` to `last`, both included."""
    count = (last - first).days + 1
    return [day(first + timedelta(days=n), zone) for n in range(max(count, 0))]


def days_between(start: datetime, end: datetime, zone: ZoneInfo) -> list[Span]:
    """The whole local days that [start, end) touches (none when it is empty)."""
    if end <= start:
        return []
    return days(local_day(start, zone), local_day(end - timedelta(microseconds=1), zone), zone)


def hours(period: Span) -> list[Span]:
    """A day's hours from its midnight; 23, 24 or 25 of them."""
    result = []
    start = period.start
    while start < period.end:
        result.append(Span(start, min(start + HOUR, period.end)))
        start += HOUR
    return result


def is_final(period: Span, rolled_up_at: datetime | None) -> bool:
    """Whether figures rolled up at `rolled_up_at` hold every event of the period."""
    return rolled_up_at is not None and rolled_up_at >= period.end + GRACE


@dataclass(frozen=True)
class Split:
    """A range cut into periods of one bucket: those whose rolled-up figures are final, and
    the rest (clipped to the range), which are counted from the raw events."""

    bucket: str
    rolled: tuple[Span, ...]
    raw: tuple[Span, ...]


def runs(periods: tuple[Span, ...] | list[Span]) -> list[Span]:
    """Adjacent periods joined, so a query names a few ranges instead of many periods."""
    joined: list[Span] = []
    for period in sorted(periods, key=lambda p: p.start):
        if joined and joined[-1].end == period.start:
            joined[-1] = Span(joined[-1].start, period.end)
        else:
            joined.append(period)
    return joined
