"""What the dashboard reads: visitors, counts, the funnel, series and top lists.

Every function takes a range [start, end) of aware UTC instants, normally from one local
midnight to another (or to now, for a range that ends today). The answers are exact: a day
whose rolled-up figures are final is read from the rollup, every other day (today, a day
the roll-up has not reached yet) and any part of a day at the range's edges is counted
from the raw events. So a report gives the same answer before and after `roll_up`, only
faster after it.

Visitors are counted per day and summed: a visitor's hash changes with the day's salt, so
the same person on two days is two visitors, as with every privacy-first analytics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app

from kiosk.analytics.models import ALL_KINDS, Bucket, EventKind
from kiosk.analytics.periods import Span, Split, days_between, hours, is_final
from kiosk.analytics.queries import FiguresRepository
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


def _days(repo: FiguresRepository, start: datetime, end: datetime) -> Split:
    return _split(repo, Bucket.DAY, days_between(start, end, _zone()), start, end)


def visitors(start: datetime, end: datetime) -> int:
    """Unique visitors per day, summed over the days."""
    repo = FiguresRepository(read_session())
    return repo.visitors_by_kind([ALL_KINDS], _days(repo, start, end))[ALL_KINDS]


def count(kind: EventKind | str, start: datetime, end: datetime) -> int:
    """How many events of the kind happened."""
    repo = FiguresRepository(read_session())
    return repo.events(str(kind), _days(repo, start, end))


def funnel(start: datetime, end: datetime) -> Funnel:
    repo = FiguresRepository(read_session())
    steps = repo.visitors_by_kind([str(kind) for kind in FUNNEL], _days(repo, start, end))
    return Funnel(*(steps[kind] for kind in FUNNEL))


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
    return _points(repo, str(kind), _split(repo, Bucket.DAY, days, start, end))


def _points(repo: FiguresRepository, kind: str, split: Split) -> list[Point]:
    rolled, raw = repo.series(kind, split)
    figures = dict(rolled)
    for period, counted in zip(split.raw, raw, strict=True):
        figures[period.start] = counted
    periods = sorted([*split.rolled, *split.raw], key=lambda p: p.start)
    return [Point(p.start, *figures.get(p.start, (0, 0))) for p in periods]


def top_products(
    kind: EventKind | str, start: datetime, end: datetime, limit: int = 10
) -> list[ProductCount]:
    """Products by how often they had the kind of event (product_view or add_to_cart),
    most first; ties by product id."""
    repo = FiguresRepository(read_session())
    rows = repo.top_products(str(kind), _days(repo, start, end), limit)
    return [ProductCount(*row) for row in rows]


def searches(
    start: datetime, end: datetime, limit: int = 20, zero_only: bool = False
) -> list[SearchCount]:
    """Search queries by how often they were searched, most first. With `zero_only`, only
    the searches that found nothing are counted: the owner's list of what to stock or to
    name better."""
    repo = FiguresRepository(read_session())
    rows = repo.searches(_days(repo, start, end), limit, zero_only)
    return [SearchCount(*row) for row in rows]
