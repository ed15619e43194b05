"""What the dashboard reads: visitors, counts, the funnel, series and top lists.

Every function takes a range [start, end) of aware UTC instants, normally from one local
midnight to another (or to now, for a range that ends today). The answers are exact: a
whole local month of the range with final month figures is read from its month rows, every
other day whose figures are final from its day rows, and the rest (today, a day the roll-up
has not reached yet, a part of a day at the range's edges) is counted from the raw events.
So a report gives the same answer before and after `roll_up`, only faster after it: a year
reads about a dozen month rows and the days of two partial months. Days before the oldest
raw event that have no figures hold nothing and are not read at all (a long range that
reaches back before the shop's first visitor costs no more than the part after it).

Visitors are counted per day and summed: a visitor's hash changes with the day's salt, so
the same person on two days is two visitors, as with every privacy-first analytics; a
month's visitors are its days' summed, so months and days add up alike.

`series` gives a point per day, so it reads day rows, never month rows; a chart of a year
reads 365 of them (its ALL_KINDS points are the days' markers, read once).

`totals` answers the dashboard's summary (visitors, the funnel, checkouts and orders) in
one go, with one split of the range and two queries, where `visitors`, `funnel` and two
`count`s would cut the range four times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from kiosk.analytics.models import ALL_KINDS, Bucket, EventKind
from kiosk.analytics.periods import (
    Span,
    Split,
    day,
    days_between,
    hours,
    is_final,
    local_day,
    months_within,
)
from kiosk.analytics.queries import FiguresRepository, Marker
from kiosk.uow import read_session

FUNNEL = (
    EventKind.PRODUCT_VIEW,
    EventKind.ADD_TO_CART,
    EventKind.CHECKOUT_STARTED,
    EventKind.ORDER_PLACED,
)


@dataclass(frozen=True)
class Point:
    start: datetime  # the local day's (or hour's) first instant, UTC
    events: int
    visitors: int


@dataclass(frozen=True)
class Funnel:
    """Visitors per day who viewed a product, added to the cart, started the checkout and
    placed an order, summed over the days."""

    viewed: int
    carted: int
    checkout: int
    ordered: int


@dataclass(frozen=True)
class Totals:
    """The dashboard's summary figures of a range."""

    visitors: int  # unique per day, summed over the days
    funnel: Funnel
    checkouts_started: int  # checkout_started events
    orders_placed: int  # order_placed events


@dataclass(frozen=True)
class ProductCount:
    product_id: int
    events: int
    visitors: int  # per day, summed
    quantity: int  # pieces added to carts (add_to_cart)


@dataclass(frozen=True)
class SearchCount:
    query: str
    searches: int
    zero: bool  # every one of these searches found nothing


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _split(
    repo: FiguresRepository, bucket: str, periods: list[Span], start: datetime, end: datetime
) -> Split:
    """Periods inside the range with final figures are read from the rollup; the rest,
    clipped to the range, from the raw events."""
    if not periods:
        return Split(bucket, (), ())
    markers = repo.markers(bucket, periods[0].start, periods[-1].end)
    rolled: list[Span] = []
    raw: list[Span] = []
    for period in periods:
        marker = markers.get(period.start)
        inside = start <= period.start and period.end <= end
        if inside and marker is not None and is_final(period, marker.rolled_up_at):
            rolled.append(period)
        else:
            raw.append(Span(max(period.start, start), min(period.end, end)))
    return Split(bucket, tuple(rolled), tuple(raw))


def _range(repo: FiguresRepository, start: datetime, end: datetime) -> Split:
    return _cut(repo, start, end, by_month=True)[0]


def _cut(
    repo: FiguresRepository,
    start: datetime,
    end: datetime,
    by_month: bool,
    days: list[Span] | None = None,
) -> tuple[Split, dict[datetime, Marker]]:
    """The range cut into whole months with final month rows (if `by_month`), days with
    final day rows, and days or parts of days counted raw. Days outside those months are
    looked at only where they can have figures: those with day rows, and those from the
    oldest raw event on; any other day holds nothing. `days`: the range's days, if the
    caller has them already. Also the day markers read: their ALL_KINDS figures."""
    if end <= start:
        return Split(Bucket.DAY, (), ()), {}
    zone = _zone()
    known = {d.start: d for d in days or ()}
    # The oldest event first: a day purged after this read had final rows before it.
    oldest = repo.oldest_event()
    months: list[Span] = []
    if by_month and (whole := months_within(start, end, zone)):
        summed = repo.markers(Bucket.MONTH, whole[0].start, whole[-1].end)
        months = [m for m in whole if _final(m, summed.get(m.start))]
    rest = _gaps(Span(start, end), months)
    markers = repo.markers_in(Bucket.DAY, rest)
    candidates: dict[datetime, Span] = {}
    if oldest is not None:
        for stretch in rest:
            if known:
                found = [d for d in known.values() if d.end > oldest and d.start < stretch.end]
                candidates |= {d.start: d for d in found if d.end > stretch.start}
            else:
                found = days_between(max(stretch.start, oldest), stretch.end, zone)
                candidates |= {d.start: d for d in found}
    for first in markers.keys() - candidates.keys():
        period = known.get(first) or day(local_day(first, zone), zone)
        if period.start == first:  # else a day of another time zone, from before a change
            candidates[first] = period
    rolled: list[Span] = []
    raw: list[Span] = []
    for first in sorted(candidates):
        period = candidates[first]
        if start <= period.start and period.end <= end and _final(period, markers.get(first)):
            rolled.append(period)
        else:
            raw.append(Span(max(period.start, start), min(period.end, end)))
    return Split(Bucket.DAY, tuple(rolled), tuple(raw), tuple(months)), markers


def _final(period: Span, marker: Marker | None) -> bool:
    return marker is not None and is_final(period, marker.rolled_up_at)


def _gaps(whole: Span, taken: list[Span]) -> list[Span]:
    """The stretches of `whole` outside the sorted, disjoint spans `taken`."""
    gaps: list[Span] = []
    at = whole.start
    for span in taken:
        if at < span.start:
            gaps.append(Span(at, span.start))
        at = max(at, span.end)
    if at < whole.end:
        gaps.append(Span(at, whole.end))
    return gaps


def _totals(kinds: list[str], start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    repo = FiguresRepository(read_session())
    return repo.totals(kinds, _range(repo, start, end))


def visitors(start: datetime, end: datetime) -> int:
    """Unique visitors per day, summed over the days."""
    return _totals([ALL_KINDS], start, end)[ALL_KINDS][1]


def count(kind: EventKind | str, start: datetime, end: datetime) -> int:
    """How many events of the kind happened."""
    return _totals([str(kind)], start, end)[str(kind)][0]


def funnel(start: datetime, end: datetime) -> Funnel:
    steps = _totals([str(kind) for kind in FUNNEL], start, end)
    return Funnel(*(steps[kind][1] for kind in FUNNEL))


def totals(start: datetime, end: datetime) -> Totals:
    """`visitors`, `funnel` and the counts of checkouts started and orders placed, at once."""
    return Range(start, end).totals()


class Range:
    """The reports of one range, cut into months, days and raw parts once: the dashboard
    asks several reports of the same range, and each cut costs two or three queries."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.repo = FiguresRepository(read_session())
        self.split = _range(self.repo, start, end)

    def totals(self) -> Totals:
        found = self.repo.totals([ALL_KINDS, *(str(kind) for kind in FUNNEL)], self.split)
        return Totals(
            visitors=found[ALL_KINDS][1],
            funnel=Funnel(*(found[kind][1] for kind in FUNNEL)),
            checkouts_started=found[EventKind.CHECKOUT_STARTED][0],
            orders_placed=found[EventKind.ORDER_PLACED][0],
        )

    def top_products(self, kind: EventKind | str, limit: int = 10) -> list[ProductCount]:
        rows = self.repo.top_products(str(kind), self.split, limit)
        return [ProductCount(*row) for row in rows]

    def searches(self, limit: int = 20, zero_only: bool = False) -> list[SearchCount]:
        rows = self.repo.searches(self.split, limit, zero_only)
        return [SearchCount(*row) for row in rows]


def series(kind: EventKind | str, start: datetime, end: datetime) -> list[Point]:
    """Events and visitors per local day, days without events as zeros; per hour when the
    range is one day (23 or 25 points on the days the clocks change; today's up to now).
    A point starts with its period, or with the range where that begins inside it. A day whose raw
    events were deleted long ago has no hours any more: it comes back as one daily point.
    `kind` may be ALL_KINDS: every event, and every visitor once per period."""
    repo = FiguresRepository(read_session())
    days = days_between(start, end, _zone())
    if len(days) == 1:
        within = [hour for hour in hours(days[0]) if hour.start < end and start < hour.end]
        points = _points(repo, str(kind), _split(repo, Bucket.HOUR, within, start, end))
        if any(point.events for point in points):
            return points
        daily = _points(repo, str(kind), _split(repo, Bucket.DAY, days, start, end))
        return daily if daily[0].events else points
    # Day rows, not month rows: the chart needs its days.
    split, markers = _cut(repo, start, end, False, days)
    clipped = [Span(max(d.start, start), min(d.end, end)) for d in days]
    if kind != ALL_KINDS:
        return _points(repo, str(kind), split, clipped)
    # The ALL_KINDS figures of the rolled days came with their markers: no second read.
    read = {p.start: (markers[p.start].events, markers[p.start].visitors) for p in split.rolled}
    return _points(repo, ALL_KINDS, replace(split, rolled=()), clipped, read)


def _points(
    repo: FiguresRepository,
    kind: str,
    split: Split,
    periods: list[Span] | None = None,
    read: dict[datetime, tuple[int, int]] | None = None,
) -> list[Point]:
    """A point for each of `periods` (clipped to the range; by default the split's), zero
    where the split has nothing for it; `read`: figures of periods the caller has read."""
    rolled, raw = repo.series(kind, split)
    figures = {**(read or {}), **rolled}
    for period, counted in zip(split.raw, raw, strict=True):
        figures[period.start] = counted
    if periods is None:
        periods = sorted([*split.rolled, *split.raw], key=lambda p: p.start)
    return [Point(p.start, *figures.get(p.start, (0, 0))) for p in periods]


def top_products(
    kind: EventKind | str, start: datetime, end: datetime, limit: int = 10
) -> list[ProductCount]:
    """Products by how often they had the kind of event (product_view or add_to_cart),
    most first; ties by product id."""
    return Range(start, end).top_products(kind, limit)


def searches(
    start: datetime, end: datetime, limit: int = 20, zero_only: bool = False
) -> list[SearchCount]:
    """Search queries by how often they were searched, most first. With `zero_only`, only
    the searches that found nothing are counted: the owner's list of what to stock or to
    name better."""
    return Range(start, end).searches(limit, zero_only)
