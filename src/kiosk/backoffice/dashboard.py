"""The owner's dashboard: how the shop did in a period, next to the period before.

Money comes from the documents (invoices minus credit notes issued in the period), so it
matches the accounting to the cent; orders and buyers from the orders; what visitors did
(visitors, funnel, searches, views) from the analytics' rollups. Every figure is an SQL
aggregate of the domain that owns it, so a range of years costs what a day costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup

from kiosk.backoffice import charts as drawing
from kiosk.invoicing import services as invoicing
from kiosk.money import Money
from kiosk.orders import services as orders
from kiosk.orm import utcnow
from kiosk.periods import Period

RANGES = ("today", "7d", "30d", "month", "custom")
DEFAULT_RANGE = "30d"
MAX_DAYS = 3 * 366  # a custom range of at most three years
FIRST_YEAR, LAST_YEAR = 2000, 2999
TOP = 10


@dataclass(frozen=True)
class RangeChoice:
    """What the owner asked for: a named range, or custom days as typed (kept on errors)."""

    key: str = DEFAULT_RANGE
    first: str = ""
    last: str = ""


@dataclass(frozen=True)
class Compared:
    """A figure of the period and of the period before (cents, counts or rates 0..1)."""

    current: float
    previous: float

    @property
    def direction(self) -> str:
        if self.current > self.previous:
            return "up"
        return "down" if self.current < self.previous else "same"

    @property
    def percent(self) -> float | None:
        """The relative change in per cent; None when the period before had nothing."""
        if not self.previous:
            return None
        return (self.current - self.previous) / abs(self.previous) * 100


@dataclass(frozen=True)
class Revenue:
    currency: str
    gross: Compared  # cents
    net: Compared
    average_order: Compared  # cents, order totals ÷ orders placed


@dataclass(frozen=True)
class Bucket:
    """One day (or hour, for a single day) of the charts."""

    label: str
    orders: int
    gross_cents: int
    net_cents: int


@dataclass(frozen=True)
class ProductSales:
    product_id: int | None
    name: str
    currency: str
    units: int
    revenue_cents: int

    @property
    def revenue(self) -> Money:
        return Money(self.revenue_cents, self.currency)


@dataclass(frozen=True)
class Dashboard:
    choice: RangeChoice
    period: Period
    previous: Period
    currency: str  # the one the charts draw (the shop's)
    revenue: list[Revenue]
    orders: Compared
    refund_rate: Compared  # orders credited in the period ÷ orders placed
    withdrawal_rate: Compared  # withdrawals received ÷ orders placed
    new_buyers: Compared
    returning_buyers: Compared
    buckets: list[Bucket]
    hourly: bool
    by_revenue: list[ProductSales]
    by_units: list[ProductSales]

    def money(self, cents: float, currency: str) -> Money:
        """A figure in cents as money, for the page."""
        return Money(int(cents), currency)


def _parse_day(raw: str) -> date | None:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def period_of(choice: RangeChoice, today: date, zone: str) -> tuple[Period, list[str]]:
    """The local days a choice means, and what was wrong with a custom one (then the
    default range is shown instead, and the owner's input is kept)."""
    if choice.key == "today":
        return Period(today, today, zone), []
    if choice.key == "7d":
        return Period(today - timedelta(days=6), today, zone), []
    if choice.key == "month":
        return Period(today.replace(day=1), today, zone), []
    if choice.key == "custom":
        first, last = _parse_day(choice.first), _parse_day(choice.last)
        problems = []
        if first is None:
            problems.append(_("Enter the first day as a date like 2026-11-23."))
        if last is None:
            problems.append(_("Enter the last day as a date like 2026-11-23."))
        if first and last and first > last:
            problems.append(_("The first day must not come after the last."))
        elif first and last and (last - first).days + 1 > MAX_DAYS:
            problems.append(_("Choose at most three years."))
        if not problems and first and last:
            return Period(first, last, zone), []
        return Period(today - timedelta(days=29), today, zone), problems
    return Period(today - timedelta(days=29), today, zone), []


def _zone() -> str:
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def today() -> date:
    return utcnow().astimezone(ZoneInfo(_zone())).date()


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _labels(period: Period, hourly: bool) -> list[str]:
    return period.hour_labels() if hourly else [d.isoformat() for d in period.day_list()]


def _buckets(period: Period, currency: str, hourly: bool) -> list[Bucket]:
    placed = orders.orders_per_bucket(period, hourly)
    money: dict[str, tuple[int, int]] = {}
    for label, cur, gross, net in invoicing.revenue_per_bucket(period, hourly):
        if cur == currency:
            money[label] = (gross, net)
    return [
        Bucket(label, placed.get(label, 0), *money.get(label, (0, 0)))
        for label in _labels(period, hourly)
    ]


def _sales(period: Period, by_units: bool) -> list[ProductSales]:
    return [
        ProductSales(*row)
        for row in orders.best_sellers(period.start, period.end, by_units=by_units, limit=TOP)
    ]


def dashboard(choice: RangeChoice) -> tuple[Dashboard, list[str]]:
    """Every figure of the page for a range, and what was wrong with a custom range."""
    zone = _zone()
    period, problems = period_of(choice, today(), zone)
    previous = period.previous()
    sales = {p: orders.sales_totals(p.start, p.end) for p in (period, previous)}
    money = {p: invoicing.revenue(p.start, p.end) for p in (period, previous)}
    placed = {p: sum(count for _cur, count, _total in sales[p]) for p in (period, previous)}
    credited = {p: sum(row[3] for row in money[p]) for p in (period, previous)}
    withdrawn = {p: orders.withdrawals_received(p.start, p.end) for p in (period, previous)}
    buyers = {p: orders.new_and_returning_buyers(p.start, p.end) for p in (period, previous)}
    shop_currency = str(current_app.config["KIOSK_CURRENCY"])
    currencies = sorted(
        {row[0] for p in money for row in money[p]} | {row[0] for p in sales for row in sales[p]}
        or {shop_currency}
    )

    def of(p: Period, currency: str) -> tuple[int, int, int, int]:
        gross, net = next(((g, n) for c, g, n, _x in money[p] if c == currency), (0, 0))
        count, total = next(((n, t) for c, n, t in sales[p] if c == currency), (0, 0))
        return gross, net, count, total

    revenue = []
    for currency in currencies:
        now, before = of(period, currency), of(previous, currency)
        revenue.append(
            Revenue(
                currency,
                Compared(now[0], before[0]),
                Compared(now[1], before[1]),
                Compared(
                    round(now[3] / now[2]) if now[2] else 0,
                    round(before[3] / before[2]) if before[2] else 0,
                ),
            )
        )
    hourly = period.days == 1
    return (
        Dashboard(
            choice=choice,
            period=period,
            previous=previous,
            currency=shop_currency,
            revenue=revenue,
            orders=Compared(placed[period], placed[previous]),
            refund_rate=Compared(
                _rate(credited[period], placed[period]), _rate(credited[previous], placed[previous])
            ),
            withdrawal_rate=Compared(
                _rate(withdrawn[period], placed[period]),
                _rate(withdrawn[previous], placed[previous]),
            ),
            new_buyers=Compared(buyers[period][0], buyers[previous][0]),
            returning_buyers=Compared(buyers[period][1], buyers[previous][1]),
            buckets=_buckets(period, shop_currency, hourly),
            hourly=hourly,
            by_revenue=_sales(period, by_units=False),
            by_units=_sales(period, by_units=True),
        ),
        problems,
    )


# The reports as CSV: the page's figures, one file per table -----------------------

REPORTS = ("summary", "days", "products-by-revenue", "products-by-units")


def _cents(cents: float, currency: str) -> str:
    return Money(int(cents), currency).plain()


def csv_rows(report: str, board: Dashboard) -> Iterator[list[str]]:
    """The rows (header first) of one report; LookupError for an unknown report."""
    if report == "summary":
        yield ["figure", "currency", "period", "previous_period"]
        for r in board.revenue:
            for name, figure in (("revenue_gross", r.gross), ("revenue_net", r.net),
                                 ("average_order_value", r.average_order)):  # fmt: skip
                yield [name, r.currency, _cents(figure.current, r.currency),
                       _cents(figure.previous, r.currency)]  # fmt: skip
        for name, count in (("orders", board.orders), ("new_buyers", board.new_buyers),
                            ("returning_buyers", board.returning_buyers)):  # fmt: skip
            yield [name, "", str(int(count.current)), str(int(count.previous))]
        for name, rate in (("refund_rate", board.refund_rate),
                           ("withdrawal_rate", board.withdrawal_rate)):  # fmt: skip
            yield [name, "", f"{rate.current:.4f}", f"{rate.previous:.4f}"]
    elif report == "days":
        yield ["hour" if board.hourly else "day", "orders", "revenue_gross", "revenue_net",
               "currency"]  # fmt: skip
        for b in board.buckets:
            yield [b.label, str(b.orders), _cents(b.gross_cents, board.currency),
                   _cents(b.net_cents, board.currency), board.currency]  # fmt: skip
    elif report in ("products-by-revenue", "products-by-units"):
        yield ["product_id", "name", "units", "revenue", "currency"]
        rows = board.by_revenue if report == "products-by-revenue" else board.by_units
        for p in rows:
            yield [str(p.product_id or ""), orders.spreadsheet_text(p.name), str(p.units),
                   p.revenue.plain(), p.currency]  # fmt: skip
    else:
        raise LookupError(report)


@dataclass(frozen=True)
class Charts:
    revenue: Markup
    orders: Markup


def charts(board: Dashboard) -> Charts:
    """The page's charts of the period's days (or hours), drawn on the server."""
    labels = [b.label[-2:] + ":00" if board.hourly else b.label for b in board.buckets]
    gross = [b.gross_cents / 100 for b in board.buckets]
    placed = [b.orders for b in board.buckets]
    return Charts(
        revenue=drawing.line(
            _("Revenue (gross, %(currency)s)", currency=board.currency),
            "chart-revenue",
            labels,
            gross,
        ),
        orders=drawing.bars(_("Orders"), "chart-orders", labels, placed),
    )
