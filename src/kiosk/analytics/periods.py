"""The shop's months, days and hours as UTC instants.

A day of the figures is a day where the shop is (KIOSK_TIMEZONE), from one local midnight
to the next: 23 or 25 hours long on the days the clocks change. Its hours are counted
from its midnight; a month runs from the local midnight of its first day to that of the
next month's, so it is exactly its days. Rollups and reports cut time the same way, so a
period's figures read from the rollup equal those counted from the raw events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

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
    """The UTC instant at which the local day begins (as `kiosk.periods.local_midnight`,
    without looking the zone up again: a long range computes hundreds of them)."""
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def day(of: date, zone: ZoneInfo) -> Span:
    return Span(midnight(of, zone), midnight(of + timedelta(days=1), zone))


def days(first: date, last: date, zone: ZoneInfo) -> list[Span]:
    """The local days from `first` to `last`, both included."""
    count = (last - first).days + 1
    bounds = [midnight(first + timedelta(days=n), zone) for n in range(count + 1)]
    return [Span(start, end) for start, end in pairwise(bounds)] if count > 0 else []


def days_between(start: datetime, end: datetime, zone: ZoneInfo) -> list[Span]:
    """The whole local days that [start, end) touches (none when it is empty)."""
    if end <= start:
        return []
    return days(local_day(start, zone), local_day(end - timedelta(microseconds=1), zone), zone)


def month(of: date, zone: ZoneInfo) -> Span:
    """The local calendar month that holds the day."""
    first = of.replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    return Span(midnight(first, zone), midnight(following, zone))


def months_within(start: datetime, end: datetime, zone: ZoneInfo) -> list[Span]:
    """The whole local months inside [start, end)."""
    if end <= start:
        return []
    found = []
    period = month(local_day(start, zone), zone)
    if period.start < start:
        period = month(local_day(period.end, zone), zone)
    while period.end <= end:
        found.append(period)
        period = month(local_day(period.end, zone), zone)
    return found


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
    """A range cut by where its figures are read: whole months with final month rows,
    periods of `bucket` (days or hours) with final rows of their own, and the rest, clipped
    to the range, counted from the raw events (a period that can hold no event, such as a
    day before the oldest raw event without rows, may be left out of all three)."""

    bucket: str
    rolled: tuple[Span, ...]
    raw: tuple[Span, ...]
    months: tuple[Span, ...] = ()

    @property
    def summed(self) -> bool:
        """Whether any of it is read from the rollup."""
        return bool(self.rolled or self.months)


def runs(periods: tuple[Span, ...] | list[Span]) -> list[Span]:
    """Adjacent periods joined, so a query names a few ranges instead of many periods."""
    joined: list[Span] = []
    for period in sorted(periods, key=lambda p: p.start):
        if joined and joined[-1].end == period.start:
            joined[-1] = Span(joined[-1].start, period.end)
        else:
            joined.append(period)
    return joined
