"""The dashboard's sales figures, fast at any history length.

The orders and documents of a closed local day do not change any more: orders are placed,
invoices and credit notes issued and withdrawals received at the moment they happen. So
the roll-up job (run with `flask kiosk analytics-rollup`) writes each closed day's sums
once into `sales_rollup`, and a calendar month's once its last day is written. A range is
then read as whole months, the remaining rolled-up days, and the rest (today, and any day
the job has not reached) counted live from the orders and documents, with the same
functions of the orders and invoicing domains that the job used: so the figures are the
same before and after a roll-up, only faster after it.

Re-runnable and idempotent: a period that has rows is never written again, so they keep
what the day held even after its orders are erased or their retention ran out. Days are
written in order, one per transaction; every day up to the newest one written is rolled
up (days before the first order hold nothing), which is what the reading relies on.

An order refunded on two different days counts as credited on both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from flask import current_app

from kiosk.backoffice.models import NO_CURRENCY, TOTAL, UNKNOWN_PRODUCT, SalesBucket
from kiosk.backoffice.sales_queries import SalesRollupRepository, Selection
from kiosk.invoicing import services as invoicing
from kiosk.orders import services as orders
from kiosk.orm import utcnow
from kiosk.periods import Period
from kiosk.uow import read_session, unit_of_work

# A day is rolled up this long after it ended: an order placed a moment before midnight is
# committed within seconds.
GRACE = timedelta(minutes=15)
ONE_DAY = timedelta(days=1)


@dataclass
class CurrencySales:
    orders: int = 0
    order_total_cents: int = 0
    gross_cents: int = 0  # invoices minus credit notes
    net_cents: int = 0
    credited_orders: int = 0


@dataclass
class Sales:
    """What a period sold, per currency, and the withdrawals received in it."""

    currencies: dict[str, CurrencySales] = field(default_factory=dict)
    withdrawals: int = 0

    def of(self, currency: str) -> CurrencySales:
        return self.currencies.setdefault(currency, CurrencySales())

    @property
    def orders(self) -> int:
        return sum(figures.orders for figures in self.currencies.values())

    @property
    def credited_orders(self) -> int:
        return sum(figures.credited_orders for figures in self.currencies.values())


@dataclass(frozen=True)
class ProductSold:
    product_id: int | None  # None: the product is gone; its lines keep the name
    name: str
    currency: str
    units: int
    revenue_cents: int


@dataclass(frozen=True)
class _Split:
    rolled: Selection
    live: Period | None  # counted from the orders and documents


def _zone() -> str:
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - ONE_DAY


def _split(repo: SalesRollupRepository, period: Period) -> _Split:
    """Whole months with rows, the other days up to the newest one rolled up, the rest live."""
    newest = repo.newest(SalesBucket.DAY)
    last = min(period.last, newest) if newest else None
    if last is None or last < period.first:
        return _Split(Selection((), ()), period)
    live = Period(last + ONE_DAY, period.last, period.zone) if last < period.last else None
    months = repo.present(SalesBucket.MONTH, period.first.replace(day=1), last)
    whole = sorted(m for m in months if m >= period.first and _month_end(m) <= last)
    runs: list[tuple[date, date]] = []
    day = period.first
    for month in [*whole, None]:
        until = month - ONE_DAY if month else last
        if day <= until:
            runs.append((day, until))
        if month:
            day = _month_end(month) + ONE_DAY
    return _Split(Selection(tuple(whole), tuple(runs)), live)


def _live(start: datetime, end: datetime) -> Sales:
    """A range's sales counted from the orders and documents."""
    sales = Sales(withdrawals=orders.withdrawals_received(start, end))
    for currency, count, total in orders.sales_totals(start, end):
        sales.of(currency).orders, sales.of(currency).order_total_cents = count, total
    for currency, gross, net, credited in invoicing.revenue(start, end):
        figures = sales.of(currency)
        figures.gross_cents, figures.net_cents, figures.credited_orders = gross, net, credited
    return sales


def _live_products(start: datetime, end: datetime) -> list[ProductSold]:
    return [
        ProductSold(*row) for row in orders.best_sellers(start, end, by_units=False, limit=None)
    ]


class Sold:
    """What one period sold, cut into months, days and a live part once: the dashboard
    asks for its totals, its days and its products, and each cut costs two queries."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.repo = SalesRollupRepository(read_session())
        self.split = _split(self.repo, period)

    def totals(self) -> Sales:
        live = self.split.live
        result = _live(live.start, live.end) if live else Sales()
        for currency, *figures, withdrawals in self.repo.totals(self.split.rolled):
            result.withdrawals += withdrawals
            if currency == NO_CURRENCY:
                continue
            summed = result.of(currency)
            for name, value in zip(
                ("orders", "order_total_cents", "gross_cents", "net_cents", "credited_orders"),
                figures,
                strict=True,
            ):
                setattr(summed, name, getattr(summed, name) + value)
        return result

    def per_day(self, currency: str, hourly: bool) -> dict[str, tuple[int, int, int]]:
        """(orders, gross, net) of the currency per local day (or hour: always counted
        live), by the labels of `kiosk.periods.local_bucket`, where there were any."""
        split = self.split if not hourly else _Split(Selection((), ()), self.period)
        found: dict[str, tuple[int, int, int]] = {}
        if split.rolled.days or split.rolled.months:
            last = split.live.first - ONE_DAY if split.live else self.period.last
            for day, placed, gross, net in self.repo.days(self.period.first, last, currency):
                found[day.isoformat()] = (placed, gross, net)
        if split.live:
            placed_in = orders.orders_per_bucket(split.live, hourly)
            money = {
                label: (gross, net)
                for label, cur, gross, net in invoicing.revenue_per_bucket(split.live, hourly)
                if cur == currency
            }
            for label in placed_in.keys() | money.keys():
                found[label] = (placed_in.get(label, 0), *money.get(label, (0, 0)))
        return found

    def products(self) -> list[ProductSold]:
        """Every product sold in the period, per currency, in no particular order."""
        summed: dict[tuple[int | None, str], ProductSold] = {}
        rolled = [
            ProductSold(None if pid == UNKNOWN_PRODUCT else pid, name, cur, units, revenue)
            for pid, name, cur, units, revenue in self.repo.products(self.split.rolled)
        ]
        live = self.split.live
        for row in rolled + (_live_products(live.start, live.end) if live else []):
            key = (row.product_id, row.currency)
            if before := summed.get(key):
                row = ProductSold(
                    row.product_id,
                    max(before.name, row.name),
                    row.currency,
                    before.units + row.units,
                    before.revenue_cents + row.revenue_cents,
                )
            summed[key] = row
        return list(summed.values())


# --- the roll-up job -----------------------------------------------------------------


@dataclass
class SalesRollupReport:
    days: int = 0
    months: int = 0
    rows: int = 0


Step = tuple[str, Callable[[SalesRollupRepository], int]]  # ("days" or "months", work)


def _run(steps: list[Step], report: SalesRollupReport, repo: SalesRollupRepository) -> None:
    for kind, step in steps:
        if written := step(repo):
            setattr(report, kind, getattr(report, kind) + 1)
            report.rows += written


def _in_transaction(work: Callable[[SalesRollupRepository], None], dry_run: bool) -> None:
    with unit_of_work(dry_run) as session:
        work(SalesRollupRepository(session))


def _roll_day(day: date, zone: str, now: datetime, repo: SalesRollupRepository) -> int:
    repo.lock()
    if repo.present(SalesBucket.DAY, day, day):
        return 0  # another run wrote it meanwhile
    span = Period(day, day, zone)
    sold = _live(span.start, span.end)
    base = {"bucket": str(SalesBucket.DAY), "day": day, "rolled_up_at": now}
    rows = [{**base, "currency": NO_CURRENCY, "product_id": TOTAL,
             "withdrawals": sold.withdrawals}]  # fmt: skip
    rows += [
        {**base, "currency": currency, "product_id": TOTAL, **vars(figures)}
        for currency, figures in sold.currencies.items()
    ]
    rows += [
        {**base, "currency": p.currency, "name": p.name, "units": p.units,
         "revenue_cents": p.revenue_cents,
         "product_id": UNKNOWN_PRODUCT if p.product_id is None else p.product_id}
        for p in _live_products(span.start, span.end)
    ]  # fmt: skip
    return repo.add(rows)


def _roll_month(month: date, now: datetime, repo: SalesRollupRepository) -> int:
    repo.lock()
    if repo.present(SalesBucket.MONTH, month, month):
        return 0
    return repo.add_month(month, _month_end(month), now)


def roll_up(now: datetime | None = None, dry_run: bool = False) -> SalesRollupReport:
    """Write every closed day not yet rolled up, from the first order's day (or the day
    after the newest one written) to the last day that ended GRACE ago, one transaction
    each, then every month whose last day is written. A dry run does the same work in one
    transaction and rolls it back."""
    now = now or utcnow()
    zone = _zone()
    last = (now - GRACE).astimezone(ZoneInfo(zone)).date() - ONE_DAY
    repo = SalesRollupRepository(read_session())
    newest = repo.newest(SalesBucket.DAY)
    first_order = orders.first_order_at()
    read_session().rollback()  # end the read before the writes take their locks
    if newest:
        first = newest + ONE_DAY
    elif first_order:
        first = min(first_order.astimezone(ZoneInfo(zone)).date(), last)
    else:
        first = last
    steps: list[Step] = []
    day = first
    while day <= last:
        steps.append(("days", partial(_roll_day, day, zone, now)))
        day += ONE_DAY
    # From the month of the day before `first`: a run may have stopped after its last day.
    month = (first - ONE_DAY).replace(day=1)
    while _month_end(month) <= last:
        steps.append(("months", partial(_roll_month, month, now)))
        month = _month_end(month) + ONE_DAY
    report = SalesRollupReport()
    if dry_run:
        _in_transaction(partial(_run, steps, report), dry_run=True)
    else:
        for step in steps:
            _in_transaction(partial(_run, [step], report), dry_run=False)
    return report
