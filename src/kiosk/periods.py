"""Periods of whole local days in the shop's time zone, and SQL that sorts a UTC column
into those days (or hours) on both databases.

Reports count by the owner's calendar, not UTC: an order at 00:30 in Berlin belongs to
that day. SQLite knows no time zones, so the local day is computed in SQL by adding the
zone's offset to the stored UTC time; a period that crosses a change of daylight saving
time is cut at the exact instant of the change, and each piece adds its own offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, case
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


@dataclass(frozen=True)
class Period:
    """The local days `first` to `last`, both included, of the zone named `zone`."""

    first: date
    last: date
    zone: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first instant (UTC): local midnight of the first day."""
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (UTC), exclusive."""
        return local_midnight(self.last + timedelta(days=1), self.zone)

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        length = timedelta(days=self.days)
        return Period(self.first - length, self.last - length, self.zone)

    def day_list(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def hour_labels(self) -> list[str]:
        """The labels `local_bucket(..., hourly=True)` gives this period's hours."""
        zone = ZoneInfo(self.zone)
        labels: list[str] = []
        moment = self.start
        while moment < self.end:
            label = moment.astimezone(zone).strftime("%Y-%m-%d %H")
            if label not in labels:
                labels.append(label)
            moment += timedelta(hours=1)
        return labels


def local_midnight(day: date, zone: str | ZoneInfo) -> datetime:
    """The UTC instant at which the local day begins."""
    return datetime.combine(day, time.min, ZoneInfo(str(zone))).astimezone(UTC)


def _offset(moment: datetime, zone: ZoneInfo) -> int:
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offsets(period: Period) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offsets (seconds) over the period, as (until, offset) pieces: each
    offset holds until the next piece begins; the last piece's `until` is None."""
    zone = ZoneInfo(period.zone)
    pieces: list[tuple[datetime | None, int]] = []
    current = _offset(period.start, zone)
    for day in period.day_list():
        low, high = (
            local_midnight(day, period.zone),
            local_midnight(day + timedelta(days=1), period.zone),
        )
        if _offset(high, zone) == current:
            continue
        while (high - low) > timedelta(seconds=1):  # the change lies in (low, high]
            middle = low + (high - low) / 2
            if _offset(middle, zone) == current:
                low = middle
            else:
                high = middle
        pieces.append((high.replace(microsecond=0), current))
        current = _offset(high, zone)
    pieces.append((None, current))
    return pieces


class _ShiftedLabel(FunctionElement[str]):
    """A UTC column shifted by a number of seconds, written as a day or hour label. The
    shift is written into the SQL, so such statements are not cached."""

    type = String()
    inherit_cache = False

    def __init__(self, column: Any, seconds: int, hourly: bool) -> None:
        super().__init__(column)
        self.seconds = int(seconds)
        self.hourly = hourly


@compiles(_ShiftedLabel, "sqlite")
def _sqlite_label(element: _ShiftedLabel, compiler: SQLCompiler, **kw: Any) -> str:
    fmt = "%Y-%m-%d %H" if element.hourly else "%Y-%m-%d"
    column = compiler.process(element.clauses, **kw)
    return f"strftime('{fmt}', {column}, '{element.seconds:+d} seconds')"


@compiles(_ShiftedLabel, "postgresql")
def _postgresql_label(element: _ShiftedLabel, compiler: SQLCompiler, **kw: Any) -> str:
    fmt = "YYYY-MM-DD HH24" if element.hourly else "YYYY-MM-DD"
    column = compiler.process(element.clauses, **kw)
    return f"to_char(({column} AT TIME ZONE 'UTC') + interval '{element.seconds} seconds', '{fmt}')"


def local_bucket(column: Any, period: Period, hourly: bool = False) -> ColumnElement[str]:
    """The local day ('2026-12-04') or hour ('2026-12-04 09') of a UTC column, for
    GROUP BY; right for every instant of `period`."""

    def label(seconds: int) -> ColumnElement[str]:
        return _ShiftedLabel(column, seconds, hourly)

    pieces = offsets(period)
    if len(pieces) == 1:
        return label(pieces[0][1])
    whens = [(column < until, label(offset)) for until, offset in pieces[:-1]]
    return case(*whens, else_=label(pieces[-1][1]))
