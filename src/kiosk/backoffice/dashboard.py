"""The owner's dashboard: how the shop did in a period, next to the period before.

Money comes from the documents (invoices minus credit notes issued in the period), so it
matches the accounting to the cent; orders and buyers from the orders; what visitors did
(visitors, funnel, searches, views) from the analytics' rollups. Closed days and months
of sales are read from the sales rollup (`kiosk.backoffice.sales`), the rest is summed
from the orders and documents, so a long range costs little more than a short one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup

from kiosk.analytics import reports as analytics
from kiosk.analytics.models import ALL_KINDS, EventKind
from kiosk.analytics.reports import SearchCount
from kiosk.backoffice import charts as drawing
from kiosk.backoffice.sales import CurrencySales, ProductSold, Sold
from kiosk.catalog import services as catalog
from kiosk.money import Money
from kiosk.orders import services as orders
from kiosk.orm import utcnow
from kiosk.periods import Period

RANGES = ("today", "7d", "30d", "month", "lastmonth", "custom")
DEFAULT_RANGE = "30d"
MAX_DAYS = 3 * 366  # a custom range of at most three years
FIRST_YEAR, LAST_YEAR = 2000, 2999
TOP = 10
CHART_POINTS = 31  # at most; more days are summed per point


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
    visitors: int
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
class FunnelStep:
    name: str
    visitors: int
    drop: float | None  # the share of the step before lost here (None: the first step)


@dataclass(frozen=True)
class Viewed:
    """A product viewed often, against the units ordered of it in the same period."""

    product_id: int
    name: str
    views: int
    units: int


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
    visitors: Compared  # unique per day, summed over the days
    conversion: Compared  # orders placed ÷ visitors
    abandonment: Compared  # 1 − orders placed ÷ checkouts started (both as events)
    buckets: list[Bucket]
    hourly: bool
    by_revenue: list[ProductSales]
    by_units: list[ProductSales]
    funnel: list[FunnelStep]
    viewed_not_bought: list[Viewed]
    searches: list[SearchCount]
    zero_searches: list[SearchCount]

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
    if choice.key == "lastmonth":
        month_end = today.replace(day=1) - timedelta(days=1)
        return Period(month_end.replace(day=1), month_end, zone), []
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


def previous_of(key: str, period: Period) -> Period:
    """What a range is compared with: last month with the whole month before, this month so
    far with the same days of the month before (1–4 December with 1–4 November), any other
    range with as many days just before it."""
    if key not in ("month", "lastmonth"):
        return period.previous()
    before = period.first - timedelta(days=1)
    first = before.replace(day=1)
    if key == "lastmonth":
        return Period(first, before, period.zone)
    return Period(first, min(first + (period.last - period.first), before), period.zone)


def _zone() -> str:
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def today() -> date:
    return utcnow().astimezone(ZoneInfo(_zone())).date()


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _labels(period: Period, hourly: bool) -> list[str]:
    return period.hour_labels() if hourly else [d.isoformat() for d in period.day_list()]


def _visitors(period: Period, hourly: bool) -> dict[str, int]:
    """Visitors per bucket, by the labels the money and order sums use."""
    zone, pattern = ZoneInfo(period.zone), "%Y-%m-%d %H" if hourly else "%Y-%m-%d"
    found: dict[str, int] = {}
    for point in analytics.series(ALL_KINDS, period.start, period.end):
        label = point.start.astimezone(zone).strftime(pattern)
        found[label] = found.get(label, 0) + point.visitors
    return found


def _buckets(sold: Sold, currency: str, hourly: bool) -> list[Bucket]:
    figures = sold.per_day(currency, hourly)
    visitors = _visitors(sold.period, hourly)
    return [
        Bucket(label, visitors.get(label, 0), *figures.get(label, (0, 0, 0)))
        for label in _labels(sold.period, hourly)
    ]


def _best(products: list[ProductSold], by_units: bool) -> list[ProductSales]:
    """The TOP products by units or revenue; ties by name."""
    ranked = sorted(products, key=lambda p: (-(p.units if by_units else p.revenue_cents), p.name))
    return [
        ProductSales(p.product_id, p.name, p.currency, p.units, p.revenue_cents)
        for p in ranked[:TOP]
    ]


def _funnel(counted: analytics.Funnel) -> list[FunnelStep]:
    steps = [
        (_("Viewed a product"), counted.viewed),
        (_("Added to the cart"), counted.carted),
        (_("Started the checkout"), counted.checkout),
        (_("Placed an order"), counted.ordered),
    ]
    funnel = [FunnelStep(steps[0][0], steps[0][1], None)]
    for (_before_name, before), (name, visitors) in pairwise(steps):
        funnel.append(
            FunnelStep(name, visitors, max(0.0, 1 - visitors / before) if before else 0.0)
        )
    return funnel


def _viewed_not_bought(figures: analytics.Range, products: list[ProductSold]) -> list[Viewed]:
    """Of the most viewed products, those with the fewest units ordered per view."""
    viewed = figures.top_products(EventKind.PRODUCT_VIEW, 3 * TOP)
    ids = [p.product_id for p in viewed]
    units: dict[int | None, int] = {}
    for product in products:
        units[product.product_id] = units.get(product.product_id, 0) + product.units
    names = catalog.names_by_id(ids)
    rows = [
        Viewed(p.product_id, names.get(p.product_id, f"#{p.product_id}"), p.events,
               units.get(p.product_id, 0))
        for p in viewed
    ]  # fmt: skip
    rows.sort(key=lambda row: (row.units / row.views if row.views else 0, -row.views))
    return rows[:TOP]


def _abandonment(counted: analytics.Totals) -> float:
    started, placed = counted.checkouts_started, counted.orders_placed
    return max(0.0, 1 - placed / started) if started else 0.0


def dashboard(choice: RangeChoice) -> tuple[Dashboard, list[str]]:
    """Every figure of the page for a range, and what was wrong with a custom range."""
    zone = _zone()
    period, problems = period_of(choice, today(), zone)
    previous = previous_of(DEFAULT_RANGE if problems else choice.key, period)
    selling = {p: Sold(p) for p in (period, previous)}
    sales = {p: selling[p].totals() for p in (period, previous)}
    placed = {p: sales[p].orders for p in (period, previous)}
    credited = {p: sales[p].credited_orders for p in (period, previous)}
    withdrawn = {p: sales[p].withdrawals for p in (period, previous)}
    buyers = {p: orders.new_and_returning_buyers(p.start, p.end) for p in (period, previous)}
    figures = {p: analytics.Range(p.start, p.end) for p in (period, previous)}
    counted = {p: figures[p].totals() for p in (period, previous)}
    visitors = {p: counted[p].visitors for p in (period, previous)}
    shop_currency = str(current_app.config["KIOSK_CURRENCY"])
    currencies = sorted({c for p in sales for c in sales[p].currencies} or {shop_currency})

    def of(p: Period, currency: str) -> tuple[int, int, int, int]:
        f = sales[p].currencies.get(currency, CurrencySales())
        return f.gross_cents, f.net_cents, f.orders, f.order_total_cents

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
    products = selling[period].products()
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
            visitors=Compared(visitors[period], visitors[previous]),
            conversion=Compared(
                _rate(placed[period], visitors[period]), _rate(placed[previous], visitors[previous])
            ),
            abandonment=Compared(_abandonment(counted[period]), _abandonment(counted[previous])),
            buckets=_buckets(selling[period], shop_currency, hourly),
            hourly=hourly,
            by_revenue=_best(products, by_units=False),
            by_units=_best(products, by_units=True),
            funnel=_funnel(counted[period].funnel),
            viewed_not_bought=_viewed_not_bought(figures[period], products),
            searches=figures[period].searches(limit=2 * TOP),
            zero_searches=figures[period].searches(2 * TOP, zero_only=True),
        ),
        problems,
    )


# The reports as CSV: the page's figures, one file per table -----------------------

REPORTS = (
    "summary",
    "days",
    "products-by-revenue",
    "products-by-units",
    "funnel",
    "viewed-not-bought",
    "searches",
    "searches-without-result",
)


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
                            ("returning_buyers", board.returning_buyers),
                            ("visitors", board.visitors)):  # fmt: skip
            yield [name, "", str(int(count.current)), str(int(count.previous))]
        for name, rate in (("conversion_rate", board.conversion),
                           ("cart_abandonment", board.abandonment),
                           ("refund_rate", board.refund_rate),
                           ("withdrawal_rate", board.withdrawal_rate)):  # fmt: skip
            yield [name, "", f"{rate.current:.4f}", f"{rate.previous:.4f}"]
    elif report == "days":
        yield ["hour" if board.hourly else "day", "visitors", "orders", "revenue_gross",
               "revenue_net", "currency"]  # fmt: skip
        for b in board.buckets:
            yield [b.label, str(b.visitors), str(b.orders), _cents(b.gross_cents, board.currency),
                   _cents(b.net_cents, board.currency), board.currency]  # fmt: skip
    elif report in ("products-by-revenue", "products-by-units"):
        yield ["product_id", "name", "units", "revenue", "currency"]
        rows = board.by_revenue if report == "products-by-revenue" else board.by_units
        for p in rows:
            yield [str(p.product_id or ""), orders.spreadsheet_text(p.name), str(p.units),
                   p.revenue.plain(), p.currency]  # fmt: skip
    elif report == "funnel":
        yield ["step", "visitors", "drop"]
        for step in board.funnel:
            drop = "" if step.drop is None else f"{step.drop:.4f}"
            yield [orders.spreadsheet_text(step.name), str(step.visitors), drop]
    elif report == "viewed-not-bought":
        yield ["product_id", "name", "views", "units"]
        for v in board.viewed_not_bought:
            yield [str(v.product_id), orders.spreadsheet_text(v.name), str(v.views), str(v.units)]
    elif report in ("searches", "searches-without-result"):
        yield ["query", "searches", "found_nothing"]
        found = board.searches if report == "searches" else board.zero_searches
        for search in found:
            yield [orders.spreadsheet_text(search.query), str(search.searches),
                   "yes" if search.zero else "no"]  # fmt: skip
    else:
        raise LookupError(report)


@dataclass(frozen=True)
class ChartPoint:
    """A point of the charts: a day (or hour), or the sum of several consecutive days."""

    first: str  # the first bucket's label
    last: str  # the last one's (the same for a single day or hour)
    visitors: int
    orders: int
    gross_cents: int
    net_cents: int


@dataclass(frozen=True)
class Charts:
    revenue: Markup
    orders: Markup
    funnel: Markup
    points: list[ChartPoint]  # what the revenue and orders charts draw, for their table
    days_per_point: int


def chart_points(board: Dashboard) -> tuple[list[ChartPoint], int]:
    """The days (or hours) of the period, at most CHART_POINTS of them: a longer range sums
    several days per point (pygal's time grows with the points, and a chart or table of
    1,000 days says no more than one of 60). The days' CSV keeps every day."""
    size = -(-len(board.buckets) // CHART_POINTS)
    points = [
        ChartPoint(
            group[0].label,
            group[-1].label,
            sum(b.visitors for b in group),
            sum(b.orders for b in group),
            sum(b.gross_cents for b in group),
            sum(b.net_cents for b in group),
        )
        for group in (board.buckets[n : n + size] for n in range(0, len(board.buckets), size))
    ]
    return points, size


def charts(board: Dashboard) -> Charts:
    """The page's charts of the period's days (or hours), drawn on the server."""
    points, size = chart_points(board)
    labels = [p.first[-2:] + ":00" if board.hourly else p.first for p in points]
    revenue = _("Revenue (gross, %(currency)s)", currency=board.currency)
    orders_name = _("Orders")
    if size > 1:
        revenue = _("%(chart)s, sums of %(days)d days", chart=revenue, days=size)
        orders_name = _("%(chart)s, sums of %(days)d days", chart=orders_name, days=size)
    return Charts(
        revenue=drawing.line(
            revenue, "chart-revenue", labels, [p.gross_cents / 100 for p in points]
        ),
        orders=drawing.bars(orders_name, "chart-orders", labels, [p.orders for p in points]),
        funnel=drawing.bars(
            _("Funnel: visitors per step"),
            "chart-funnel",
            [step.name for step in board.funnel],
            [step.visitors for step in board.funnel],
        ),
        points=points,
        days_per_point=size,
    )
