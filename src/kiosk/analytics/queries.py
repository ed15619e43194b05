"""The analytics' SQL: rolling raw events up into figures, and reading the figures back.

Everything is counted in the database (INSERT … SELECT … GROUP BY, sums over the rollup),
never by looping over events in Python. A period's rollup rows are:

- one row per kind and key (a product for product views and cart additions, a category,
  a checkout step, a search query with whether it found nothing), for events that have it;
- one total row per kind, all keys empty (0 and ''), whose `visitors` counts each visitor
  once however many products they looked at;
- one ALL_KINDS row, written even for a period without events: its presence and
  `rolled_up_at` tell whether, and how finally, the period is rolled up.

Day and hour rows are counted from raw events; month rows are the sums of their day rows
(`sum_days`), key by key, with the newest `rolled_up_at` of those days.

Reads name the rollup rows they want as a flat OR of (bucket, range of starts) terms, one
per run of whole months and one per run of days, so each is an index range on both
databases. Raw events that are counted instead are grouped by period with a CASE that
searches the periods' starts, inside a subquery: PostgreSQL would not match an expression
with parameters in the SELECT list to the same expression in GROUP BY.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from kiosk.analytics.models import ALL_KINDS, AnalyticsEvent, AnalyticsRollup, Bucket, EventKind
from kiosk.analytics.periods import Span, Split, runs
from kiosk.orm import UTCDateTime
from kiosk.uow import lock_for_writers

Event = AnalyticsEvent
Rollup = AnalyticsRollup

# Which kinds are counted per which key.
PRODUCT_KINDS = (EventKind.PRODUCT_VIEW, EventKind.ADD_TO_CART)

# Every column but the id, in the table's order: the order the INSERT … SELECTs follow.
_ROLLUP_COLUMNS = [c.name for c in Rollup.__table__.columns if c.name != "id"]


@dataclass(frozen=True)
class Marker:
    """A period's ALL_KINDS row: how many events (and visitors) it counted, and when."""

    events: int
    rolled_up_at: datetime
    visitors: int = 0


def _within(column: Any, periods: Sequence[Span]) -> ColumnElement[bool]:
    return or_(*(and_(column >= p.start, column < p.end) for p in runs(list(periods))))


def _period_index(periods: Sequence[Span]) -> ColumnElement[int]:
    """The position of the period an event falls in (the caller keeps to the periods, which
    do not overlap). A search over the periods' starts, nested CASEs: an event costs a few
    comparisons, not one per period, when hundreds of days are counted raw."""
    order = sorted(range(len(periods)), key=lambda i: periods[i].start)

    def among(first: int, last: int) -> ColumnElement[int]:
        if first == last:
            return literal(order[first], Integer)
        middle = (first + last + 1) // 2
        return case(
            (Event.occurred_at < periods[order[middle]].start, among(first, middle - 1)),
            else_=among(middle, last),
        )

    return among(0, len(order) - 1)


def _no_key() -> ColumnElement[bool]:
    return and_(
        Rollup.product_id == 0,
        Rollup.category_id == 0,
        Rollup.step == "",
        Rollup.query == "",
        Rollup.zero == false(),
    )


def _summed(split: Split) -> ColumnElement[bool]:
    """The rollup rows of the split's whole months and rolled periods: a flat OR of one
    bucket's range each, which SQLite reads as one index range per term (MULTI-INDEX OR)
    and PostgreSQL as a BitmapOr; an OR nested inside a term would read the whole bucket."""
    return or_(
        *(
            and_(Rollup.bucket == Bucket.MONTH, Rollup.start >= r.start, Rollup.start < r.end)
            for r in runs(split.months)
        ),
        *(
            and_(Rollup.bucket == split.bucket, Rollup.start >= r.start, Rollup.start < r.end)
            for r in runs(split.rolled)
        ),
    )


def _found_nothing() -> ColumnElement[bool]:
    return case(
        (
            and_(
                Event.kind == EventKind.SEARCH,
                Event.query.is_not(None),
                Event.query != "",
                Event.results == 0,
            ),
            true(),
        ),
        else_=false(),
    )


class FiguresRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- rolling up ---------------------------------------------------------------------

    def lock(self) -> None:
        """Keep a second roll-up from writing the same period at the same time."""
        lock_for_writers(self.session, Rollup.__tablename__)

    def oldest_event(self) -> datetime | None:
        return self.session.scalar(select(func.min(Event.occurred_at)))

    def newest_marker(self, bucket: str) -> datetime | None:
        return self.session.scalar(
            select(func.max(Rollup.start)).where(Rollup.bucket == bucket, Rollup.kind == ALL_KINDS)
        )

    def markers(self, bucket: str, start: datetime, end: datetime) -> dict[datetime, Marker]:
        """The ALL_KINDS rows of the periods starting in [start, end), by start."""
        rows = self.session.execute(
            select(Rollup.start, Rollup.events, Rollup.rolled_up_at, Rollup.visitors).where(
                Rollup.bucket == bucket,
                Rollup.kind == ALL_KINDS,
                _no_key(),
                Rollup.start >= start,
                Rollup.start < end,
            )
        )
        return {row.start: Marker(row.events, row.rolled_up_at, row.visitors) for row in rows}

    def markers_in(self, bucket: str, stretches: Sequence[Span]) -> dict[datetime, Marker]:
        """The ALL_KINDS rows of the periods starting within any of the stretches."""
        if not stretches:
            return {}
        rows = self.session.execute(
            select(Rollup.start, Rollup.events, Rollup.rolled_up_at, Rollup.visitors).where(
                Rollup.kind == ALL_KINDS,
                _no_key(),
                or_(
                    *(
                        and_(Rollup.bucket == bucket, Rollup.start >= s.start, Rollup.start < s.end)
                        for s in runs(list(stretches))
                    )
                ),
            )
        )
        return {row.start: Marker(row.events, row.rolled_up_at, row.visitors) for row in rows}

    def oldest_marker(self, bucket: str) -> datetime | None:
        return self.session.scalar(
            select(func.min(Rollup.start)).where(Rollup.bucket == bucket, Rollup.kind == ALL_KINDS)
        )

    def event_counts(self, periods: Sequence[Span]) -> list[int]:
        """Raw events per period."""
        if not periods:
            return []
        inner = select(_period_index(periods).label("period")).where(
            _within(Event.occurred_at, periods)
        )
        sub = inner.subquery()
        query = select(sub.c.period, func.count()).group_by(sub.c.period)
        counts: dict[int, int] = {int(i): int(n) for i, n in self.session.execute(query)}
        return [int(counts.get(i, 0)) for i in range(len(periods))]

    def replace(self, bucket: str, periods: Sequence[Span], now: datetime) -> int:
        """Write the periods' figures anew from their raw events, all periods in one
        statement per kind of row (grouped by a CASE over their bounds); the rows written."""
        starts = [p.start for p in periods]
        mine = and_(Rollup.bucket == bucket, Rollup.start.in_(starts))
        self.session.execute(delete(Rollup).where(mine))
        start_of = case(
            *(
                (
                    and_(Event.occurred_at >= p.start, Event.occurred_at < p.end),
                    literal(p.start, UTCDateTime()),
                )
                for p in periods
            )
        )
        events = (
            select(
                start_of.label("start"),
                Event.kind,
                case(
                    (
                        and_(Event.kind.in_(PRODUCT_KINDS), Event.product_id.is_not(None)),
                        Event.product_id,
                    ),
                    else_=0,
                ).label("product_id"),
                case(
                    (
                        and_(Event.kind == EventKind.CATEGORY_VIEW, Event.category_id.is_not(None)),
                        Event.category_id,
                    ),
                    else_=0,
                ).label("category_id"),
                case(
                    (
                        and_(Event.kind == EventKind.CHECKOUT_STEP, Event.step.is_not(None)),
                        Event.step,
                    ),
                    else_="",
                ).label("step"),
                case(
                    (and_(Event.kind == EventKind.SEARCH, Event.query.is_not(None)), Event.query),
                    else_="",
                ).label("query"),
                _found_nothing().label("zero"),
                Event.visitor,
                Event.quantity,
            )
            .where(_within(Event.occurred_at, periods))
            .subquery()
        )
        e = events.c
        stamp = literal(now, UTCDateTime())
        no_key = (
            literal(0, Integer),
            literal(0, Integer),
            literal("", String),
            literal("", String),
            false(),
        )
        counts = (func.count(), func.count(e.visitor.distinct()))
        quantity = func.coalesce(func.sum(e.quantity), 0)
        head = (literal(bucket, String), e.start)
        # The ALL_KINDS rows first: if events arrive meanwhile, they count no more of them
        # than the rows below, so the next run sees the difference and rolls up again.
        everyone = select(
            *head, literal(ALL_KINDS, String), *no_key, *counts, literal(0, Integer), stamp
        ).group_by(e.start)
        totals = select(*head, e.kind, *no_key, *counts, quantity, stamp).group_by(e.start, e.kind)
        key = (e.kind, e.product_id, e.category_id, e.step, e.query, e.zero)
        keyed = (
            select(*head, *key, *counts, quantity, stamp)
            .where(or_(e.product_id != 0, e.category_id != 0, e.step != "", e.query != ""))
            .group_by(e.start, *key)
        )
        for query in (everyone, totals, keyed):
            self.session.execute(insert(Rollup).from_select(_ROLLUP_COLUMNS, query))
        # A period without events gets its ALL_KINDS row too: it is rolled up, as nothing.
        present = set(
            self.session.scalars(select(Rollup.start).where(mine, Rollup.kind == ALL_KINDS))
        )
        empty = [
            dict(bucket=bucket, start=start, kind=ALL_KINDS, events=0, visitors=0, rolled_up_at=now)
            for start in starts
            if start not in present
        ]
        if empty:
            self.session.execute(insert(Rollup), empty)
        # psycopg does not tell how many rows an INSERT … SELECT wrote.
        return int(self.session.scalar(select(func.count()).where(mine)) or 0)

    def sum_days(self, month: Span, stamp: datetime) -> int:
        """Write the month's rows anew as the sums of its day rows, key by key, stamped with
        `stamp` (the newest of the days' `rolled_up_at`); the rows written. A visitor is
        counted per day, so the days' visitors add up like their events."""
        mine = and_(Rollup.bucket == Bucket.MONTH, Rollup.start == month.start)
        self.session.execute(delete(Rollup).where(mine))
        keys = (
            Rollup.kind,
            Rollup.product_id,
            Rollup.category_id,
            Rollup.step,
            Rollup.query,
            Rollup.zero,
        )
        days = (
            select(
                literal(Bucket.MONTH.value, String),
                literal(month.start, UTCDateTime()),
                *keys,
                func.sum(Rollup.events),
                func.sum(Rollup.visitors),
                func.sum(Rollup.quantity),
                literal(stamp, UTCDateTime()),
            )
            .where(
                Rollup.bucket == Bucket.DAY,
                Rollup.start >= month.start,
                Rollup.start < month.end,
            )
            .group_by(*keys)
        )
        self.session.execute(insert(Rollup).from_select(_ROLLUP_COLUMNS, days))
        return int(self.session.scalar(select(func.count()).where(mine)) or 0)

    def delete_period(self, bucket: str, start: datetime) -> int:
        result = self.session.execute(
            delete(Rollup).where(Rollup.bucket == bucket, Rollup.start == start)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def confirm(self, bucket: str, periods: Sequence[Span], now: datetime) -> None:
        """The periods' figures were found complete at `now`."""
        self.session.execute(
            update(Rollup)
            .where(Rollup.bucket == bucket, Rollup.start.in_([p.start for p in periods]))
            .values(rolled_up_at=now)
            .execution_options(synchronize_session=False)
        )

    def delete_periods_before(self, bucket: str, start: datetime) -> int:
        result = self.session.execute(
            delete(Rollup).where(Rollup.bucket == bucket, Rollup.start < start)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def delete_events(self, period: Span) -> int:
        result = self.session.execute(
            delete(Event).where(Event.occurred_at >= period.start, Event.occurred_at < period.end)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # --- reading ------------------------------------------------------------------------

    def _rolled(self, split: Split, kind: str) -> ColumnElement[bool]:
        return and_(Rollup.kind == kind, _summed(split))

    def _raw(self, split: Split, kind: str) -> ColumnElement[bool]:
        within = _within(Event.occurred_at, split.raw)
        return within if kind == ALL_KINDS else and_(within, Event.kind == kind)

    def series(
        self, kind: str, split: Split
    ) -> tuple[dict[datetime, tuple[int, int]], list[tuple[int, int]]]:
        """Events and visitors per rolled-up period (by start) and per raw period (in the
        order of `split.raw`)."""
        rolled: dict[datetime, tuple[int, int]] = {}
        if split.rolled:
            query = select(Rollup.start, Rollup.events, Rollup.visitors).where(
                self._rolled(split, kind), _no_key()
            )
            rolled = {
                row.start: (int(row.events), int(row.visitors))
                for row in self.session.execute(query)
            }
        raw = [(0, 0)] * len(split.raw)
        if split.raw:
            sub = (
                select(_period_index(split.raw).label("period"), Event.visitor)
                .where(self._raw(split, kind))
                .subquery()
            )
            per_period = select(
                sub.c.period, func.count(), func.count(sub.c.visitor.distinct())
            ).group_by(sub.c.period)
            for period, events, visitors in self.session.execute(per_period):
                raw[int(period)] = (int(events), int(visitors))
        return rolled, raw

    def totals(self, kinds: Sequence[str], split: Split) -> dict[str, tuple[int, int]]:
        """Each kind's (events, visitors), visitors counted per period and summed over the
        periods: one query over the rollup's total rows, one over the raw events. ALL_KINDS
        counts every event, and every visitor once per period whatever they did."""
        totals = dict.fromkeys(kinds, (0, 0))

        def add(kind: str, events: Any, visitors: Any) -> None:
            before = totals[kind]
            totals[kind] = (before[0] + int(events or 0), before[1] + int(visitors or 0))

        if split.summed:
            query = (
                select(Rollup.kind, func.sum(Rollup.events), func.sum(Rollup.visitors))
                .where(Rollup.kind.in_(kinds), _no_key(), _summed(split))
                .group_by(Rollup.kind)
            )
            for kind, events, visitors in self.session.execute(query):
                add(kind, events, visitors)
        if split.raw:
            within = _within(Event.occurred_at, split.raw)
            if ALL_KINDS not in kinds:
                within = and_(within, Event.kind.in_(kinds))
            sub = (
                select(Event.kind, _period_index(split.raw).label("period"), Event.visitor)
                .where(within)
                .subquery()
            )
            # One pass, one row per period, two columns per kind. (A UNION of a query for
            # ALL_KINDS and one per kind made PostgreSQL start workers for its two halves,
            # 16 ms instead of 7 for a day of 4,000 events.)
            columns: list[ColumnElement[Any]] = []
            for kind in kinds:
                if kind == ALL_KINDS:
                    columns += [func.count(), func.count(sub.c.visitor.distinct())]
                else:
                    mine = sub.c.kind == kind
                    columns += [
                        func.count(case((mine, 1))),
                        func.count(case((mine, sub.c.visitor)).distinct()),
                    ]
            for row in self.session.execute(select(*columns).group_by(sub.c.period)):
                for n, kind in enumerate(kinds):
                    add(kind, row[2 * n], row[2 * n + 1])
        return totals

    def top_products(self, kind: str, split: Split, limit: int) -> list[tuple[int, int, int, int]]:
        """(product id, events, visitors, quantity), most events first."""
        parts: list[Select[*tuple[Any, ...]]] = []
        if split.summed:
            parts.append(
                select(
                    Rollup.product_id.label("product_id"),
                    Rollup.events.label("events"),
                    Rollup.visitors.label("visitors"),
                    Rollup.quantity.label("quantity"),
                ).where(self._rolled(split, kind), Rollup.product_id != 0)
            )
        if split.raw:
            sub = (
                select(
                    Event.product_id,
                    _period_index(split.raw).label("period"),
                    Event.visitor,
                    Event.quantity,
                )
                .where(self._raw(split, kind), Event.product_id.is_not(None))
                .subquery()
            )
            parts.append(
                select(
                    sub.c.product_id,
                    func.count().label("events"),
                    func.count(sub.c.visitor.distinct()).label("visitors"),
                    func.coalesce(func.sum(sub.c.quantity), 0).label("quantity"),
                ).group_by(sub.c.product_id, sub.c.period)
            )
        if not parts:
            return []
        both = union_all(*parts).subquery()
        events = func.sum(both.c.events).label("events")
        query = (
            select(both.c.product_id, events, func.sum(both.c.visitors), func.sum(both.c.quantity))
            .group_by(both.c.product_id)
            .order_by(events.desc(), both.c.product_id)
            .limit(limit)
        )
        return [
            (int(product), int(count), int(visitors), int(quantity))
            for product, count, visitors, quantity in self.session.execute(query)
        ]

    def searches(self, split: Split, limit: int, zero_only: bool) -> list[tuple[str, int, bool]]:
        """(query, searches, whether every one found nothing), most searched first."""
        parts: list[Select[*tuple[Any, ...]]] = []
        if split.summed:
            rolled = select(
                Rollup.query.label("query"),
                Rollup.zero.label("zero"),
                Rollup.events.label("searches"),
            ).where(self._rolled(split, EventKind.SEARCH), Rollup.query != "")
            if zero_only:
                rolled = rolled.where(Rollup.zero == true())
            parts.append(rolled)
        if split.raw:
            sub = (
                select(Event.query, _found_nothing().label("zero"))
                .where(
                    self._raw(split, EventKind.SEARCH),
                    Event.query.is_not(None),
                    Event.query != "",
                )
                .subquery()
            )
            raw = select(sub.c.query, sub.c.zero, func.count().label("searches")).group_by(
                sub.c.query, sub.c.zero
            )
            if zero_only:
                raw = raw.where(sub.c.zero == true())
            parts.append(raw)
        if not parts:
            return []
        both = union_all(*parts).subquery()
        searches = func.sum(both.c.searches).label("searches")
        nothing = func.min(case((both.c.zero == true(), 1), else_=0)).label("found_nothing")
        query = (
            select(both.c.query, searches, nothing)
            .group_by(both.c.query)
            .order_by(searches.desc(), both.c.query)
            .limit(limit)
        )
        return [
            (text, int(count), bool(nothing))
            for text, count, nothing in self.session.execute(query)
        ]
