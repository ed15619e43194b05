"""The analytics bench data: 100,000 orders with their invoices, and 2,000,000 events.

Issue 15 asks that the dashboard renders in under 300 ms "with 100,000 orders and
2,000,000 events". This module builds that shop on a migrated database:

- the demo categories and PRODUCTS products (through the shop's own imports), an owner
  (OWNER_EMAIL, password tests.factories.PASSWORD) and CUSTOMERS customer accounts;
- ORDERS orders over the DAYS days that end now, more of them on weekends, before
  Christmas and as the shop grows; 1 to 4 lines each, some products selling far better
  than others; about GUEST_SHARE of them by guests (some guests come back under the same
  address), the rest by accounts, a few of which buy again and again;
- an invoice per order that was paid or is payable on account (amount, net, VAT per
  rate, a placeholder PDF) and, for CREDIT_SHARE of them, a credit note some days later;
- EVENTS analytics events on the same days, in proportion to the day's orders: product
  views far more than carts, carts more than checkouts, checkouts more than orders;
  searches, ZERO_SHARE of them for words the shop has nothing for; visitors are 32 hex
  digits that change every day, as the daily salt makes them.

Rows go in through SQLAlchemy Core inserts of BATCH rows (executemany), not the ORM, so
SQLite builds in a couple of minutes and PostgreSQL not much slower. The same seed gives
the same shop, apart from its dates: the days end on the day it is built, so "today" and
"7 days" always have data; `ensure` rebuilds a stored copy built on another day.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import random
import sys
import time
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import dataset
from flask import Flask
from sqlalchemy import Connection, Table, func, select

from kiosk import create_app
from kiosk.accounts.models import Role, User
from kiosk.analytics.models import AnalyticsEvent, EventKind
from kiosk.catalog.models import Product
from kiosk.catalog.product_csv import PRODUCT_COLUMNS, import_categories
from kiosk.extensions import db
from kiosk.inventory.product_import import import_products
from kiosk.invoicing.models import DocumentCounter, DocumentKind, Invoice
from kiosk.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from kiosk.payments.models import Payment, PaymentStatus

sys.path.insert(1, str(dataset.ROOT))  # for tests/: the shared settings and the owner factory

from tests.conftest import settings_for
from tests.factories import make_user

VERSION = 3  # raise when the generator changes, so stored copies are rebuilt
SEED = 20_261_204
ORDERS = 100_000
EVENTS = 2_000_000
DAYS = 400
PRODUCTS = 300
CUSTOMERS = 15_000
GUEST_SHARE = 0.4
GUEST_RETURN_SHARE = 0.25  # guest orders under an address that ordered before
CREDIT_SHARE = 0.03
ZERO_SHARE = 0.12
BATCH = 10_000
OWNER_EMAIL = "owner@example.org"
STANDARD_BP, REDUCED_BP = 1900, 700
FREE_SHIPPING_CENTS, SHIPPING_CENTS = 5_000, 495
PDF = b"%PDF-1.4\n% kiosk bench placeholder: the dashboard never reads it\n%%EOF\n"
PAYMENT_METHODS = ("bank_transfer", "invoice", "cash_on_delivery")
PAID_AFTER_HOURS = {"bank_transfer": (1, 30), "cash_on_delivery": (40, 120), "invoice": (48, 330)}
STEPS = ("address", "shipping", "payment", "review")
# Shares of the events that are not tied to an order, of what the orders leave.
KIND_SHARES = {
    EventKind.CATEGORY_VIEW: 0.13,
    EventKind.SEARCH: 0.08,
    EventKind.ADD_TO_CART: 0.10,
    EventKind.CHECKOUT_STARTED: 0.065,
    EventKind.CHECKOUT_STEP: 0.105,
}
# Words the shop has nothing for: what the owner's "no result" list should show.
ZERO_QUERIES = (
    "geschenkgutschein",
    "kerzen",
    "vegan",
    "glutenfrei",
    "espressomaschine",
    "porzellan",
    "adventskalender",
    "matcha",
    "bio",
    "thermoskanne",
)
# How often an order is placed at each hour of the day (UTC), evenings the busiest.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 7, 7, 6, 6, 7, 8, 9, 10, 10, 8, 5, 2)


class AnalyticsDataError(RuntimeError):
    """The analytics bench data could not be built."""


@dataclass(frozen=True)
class Stamp:
    """What a stored copy holds; kept next to it as JSON."""

    version: int
    built_on: str  # the UTC day its days end on
    orders: int
    events: int

    @classmethod
    def read(cls, path: Path) -> Stamp | None:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__), encoding="utf-8")


def wanted_stamp(now: datetime) -> Stamp:
    return Stamp(VERSION, now.date().isoformat(), ORDERS, EVENTS)


def current_counts(app: Flask) -> tuple[int, int]:
    """Orders and events in the app's database."""
    with app.app_context():
        orders = db.session.scalar(select(func.count(Order.id))) or 0
        events = db.session.scalar(select(func.count(AnalyticsEvent.id))) or 0
        db.session.remove()
    return orders, events


@dataclass(frozen=True)
class Item:
    product_id: int
    category_id: int
    sku: str
    name: str
    price_cents: int
    vat_bp: int
    delivery_time: str


@dataclass
class Plan:
    """How many orders each day gets, and what the orders leave for the events."""

    first_day: datetime
    now: datetime
    orders_per_day: list[int]
    paid_per_day: list[int] = field(default_factory=list)
    refunds_per_day: list[int] = field(default_factory=list)
    withdrawals_per_day: list[int] = field(default_factory=list)

    def day_start(self, day: int) -> datetime:
        return self.first_day + timedelta(days=day)

    def moment(self, rng: random.Random, day: int, hour: int | None = None) -> datetime:
        """A moment of `day` (at `hour` if given), never later than now."""
        start = self.day_start(day)
        seconds = (hour * 3600 if hour is not None else 0) + rng.uniform(
            0, 3600 if hour is not None else 86_400
        )
        moment = start + timedelta(seconds=seconds)
        if moment > self.now:
            moment = start + (self.now - start) * rng.random()
        return moment


def populate(app: Flask, now: datetime | None = None) -> None:
    """Fill the app's migrated, empty database with the bench shop."""
    now = now or datetime.now(UTC)
    rng = random.Random(SEED)
    started = time.perf_counter()
    with app.app_context():
        items = _catalog(app)
        make_user(OWNER_EMAIL, role=Role.OWNER)
        plan = _plan(rng, now)
        engine = db.engine
        with engine.connect() as conn:
            customers = _customers(conn, rng, now)
            print(f"    catalog and {CUSTOMERS:,} customers: {time.perf_counter() - started:.0f} s")
            buy_weights = _orders(conn, rng, plan, items, customers)
            print(f"    {ORDERS:,} orders with invoices: {time.perf_counter() - started:.0f} s")
            _events(conn, rng, plan, items, buy_weights)
            print(f"    {EVENTS:,} events: {time.perf_counter() - started:.0f} s")
            if engine.dialect.name == "postgresql":
                for table in ("user_account", "customer_order", "invoice"):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                        f" (SELECT max(id) FROM {table}))"
                    )
            conn.exec_driver_sql("ANALYZE")  # the planner should know the tables' new sizes
            conn.commit()
        db.session.remove()


def _catalog(app: Flask) -> list[Item]:
    """The demo categories and PRODUCTS products through the shop's own imports."""
    media = Path(app.config["KIOSK_MEDIA_DIR"])
    media.mkdir(parents=True, exist_ok=True)
    images = dataset.draw_images(media)
    with dataset.CATEGORIES_CSV.open(encoding="utf-8-sig", newline="") as handle:
        import_categories(handle)
    categories = dataset.category_slugs(dataset.CATEGORIES_CSV)
    buffer = io.StringIO()
    rows = list(dataset.generate_products(PRODUCTS, categories, images))
    for row in rows:
        row["active"] = "1"  # the dashboard's top lists name products still on sale
        row["stock"] = "100000"
    _write_csv(buffer, rows)
    buffer.seek(0)
    import_products(buffer)
    products = db.session.execute(
        select(
            Product.id,
            Product.category_id,
            Product.sku,
            Product.name,
            Product.price_cents,
            Product.vat_class,
            Product.delivery_time,
        ).order_by(Product.id)
    ).all()
    return [
        Item(
            p.id,
            p.category_id or 0,
            p.sku,
            p.name,
            p.price_cents,
            REDUCED_BP if p.vat_class == "reduced" else STANDARD_BP,
            p.delivery_time,
        )
        for p in products
    ]


def _write_csv(buffer: io.StringIO, rows: Sequence[dict[str, str]]) -> None:
    writer = csv.DictWriter(buffer, fieldnames=PRODUCT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _plan(rng: random.Random, now: datetime) -> Plan:
    """ORDERS orders over DAYS days ending now: growth, weekends, Christmas, noise."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = today - timedelta(days=DAYS - 1)
    weights = []
    for day in range(DAYS):
        moment = first_day + timedelta(days=day)
        weight = (1 + 0.8 * day / DAYS) * (1.3 if moment.weekday() >= 5 else 1.0)
        if (moment.month, moment.day) >= (11, 20) and (moment.month, moment.day) <= (12, 22):
            weight *= 1.6
        weight *= rng.uniform(0.8, 1.2)
        weights.append(weight)
    weights[-1] *= (now - today) / timedelta(days=1)  # today so far
    return Plan(first_day, now, allocate(ORDERS, weights))


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights`, in whole numbers that add up to it."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _customers(conn: Connection, rng: random.Random, now: datetime) -> list[int]:
    table: Table = User.__table__  # type: ignore[assignment]
    first_id = (conn.scalar(select(func.max(User.id))) or 0) + 1
    rows = [
        {
            "id": first_id + number,
            "email": f"customer{number:05d}@example.org",
            "password_hash": "bench: cannot sign in",
            "name": f"Kundin {number}",
            "role": Role.CUSTOMER,
            "created_at": now - timedelta(days=DAYS + rng.randint(0, 300)),
        }
        for number in range(CUSTOMERS)
    ]
    _insert(conn, table, rows)
    return [row["id"] for row in rows]


@dataclass
class _Documents:
    """Invoice and credit note numbers per year, as the shop counts them."""

    last: dict[tuple[DocumentKind, int], int] = field(default_factory=dict)

    def next(self, kind: DocumentKind, year: int) -> int:
        number = self.last.get((kind, year), 0) + 1
        self.last[(kind, year)] = number
        return number


@dataclass
class _Tables:
    """Rows waiting to be inserted, parents before children."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    credit_notes: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def record(self, order_id: int, kind: str, at: datetime, **data: Any) -> None:
        """An entry of the order's history, as `orders.lifecycle.record` writes it."""
        actor = "customer" if kind == "withdrawal_received" else "system"
        entry = {"order_id": order_id, "kind": kind, "actor_kind": actor, "created_at": at}
        self.history.append(entry | {"data": data})

    def flush(self, conn: Connection) -> None:
        for table, rows in (
            (Order.__table__, self.orders),
            (OrderLine.__table__, self.lines),
            (Payment.__table__, self.payments),
            (Invoice.__table__, self.invoices),
            (Invoice.__table__, self.credit_notes),
            (OrderEvent.__table__, self.history),
        ):
            _insert(conn, table, rows)  # type: ignore[arg-type]
            rows.clear()


def _orders(
    conn: Connection, rng: random.Random, plan: Plan, items: list[Item], customers: list[int]
) -> list[float]:
    """The orders day by day, with lines, payments, invoices and credit notes; returns how
    well each product sells (the events' carts follow it)."""
    # Some products sell far better than others; the order of the catalog says nothing.
    buy_weights = [1 / (rank + 1) ** 0.9 for rank in range(len(items))]
    rng.shuffle(buy_weights)
    cumulative = list(accumulate(buy_weights))
    order_id = (conn.scalar(select(func.max(Order.id))) or 0) + 1
    invoice_id = (conn.scalar(select(func.max(Invoice.id))) or 0) + 1
    documents = _Documents()
    guests = 0
    pending = _Tables()
    plan.paid_per_day = [0] * DAYS
    plan.refunds_per_day = [0] * DAYS
    plan.withdrawals_per_day = [0] * DAYS
    last_order: dict[int | str, datetime] = {}  # per account id or guest address
    for day in range(DAYS):
        first_of_day = len(pending.orders)
        for _ in range(plan.orders_per_day[day]):
            placed_at = plan.moment(rng, day, rng.choices(range(24), HOUR_WEIGHTS)[0])
            if rng.random() < GUEST_SHARE:
                user_id = None
                if guests and rng.random() < GUEST_RETURN_SHARE:
                    email = f"guest{rng.randrange(guests):06d}@example.org"
                else:
                    email = f"guest{guests:06d}@example.org"
                    guests += 1
            else:
                # A few accounts buy again and again, most once or twice.
                index = int(len(customers) * rng.random() ** 2.5)
                user_id = customers[index]
                email = f"customer{index:05d}@example.org"
            lines = _lines(rng, items, cumulative, order_id)
            _add_order(
                pending, documents, rng, plan, day, order_id, invoice_id, placed_at,
                user_id, email, lines,
            )  # fmt: skip
            invoice_id += 2  # an order's invoice and its credit note, if it gets one
            order_id += 1
        _link_previous(pending.orders[first_of_day:], last_order)
        if len(pending.orders) >= BATCH or day == DAYS - 1:
            pending.flush(conn)
    counters: Table = DocumentCounter.__table__  # type: ignore[assignment]
    conn.execute(
        counters.insert(),
        [
            {"kind": kind.value, "year": year, "last": last}
            for (kind, year), last in documents.last.items()
        ],
    )
    conn.commit()
    return buy_weights


def _link_previous(orders: list[dict[str, Any]], last_order: dict[int | str, datetime]) -> None:
    """Each order's `previous_order_at`, as placing them one after the other would set it."""
    for order in sorted(orders, key=lambda o: (o["placed_at"], o["id"])):
        buyer = order["user_id"] if order["user_id"] is not None else order["email"]
        order["previous_order_at"] = last_order.get(buyer)
        last_order[buyer] = order["placed_at"]


def _lines(
    rng: random.Random, items: list[Item], cumulative: list[float], order_id: int
) -> list[dict[str, Any]]:
    count = rng.choices((1, 2, 3, 4), (50, 28, 14, 8))[0]
    chosen = {items[i].product_id: items[i] for i in _pick(rng, cumulative, count)}
    lines = []
    for item in chosen.values():
        quantity = rng.choices((1, 2, 3), (75, 20, 5))[0]
        lines.append(
            {
                "order_id": order_id,
                "product_id": item.product_id,
                "sku": item.sku,
                "name": item.name,
                "unit_price_cents": item.price_cents,
                "vat_rate_bp": item.vat_bp,
                "quantity": quantity,
                "total_cents": item.price_cents * quantity,
                "delivery_time": item.delivery_time,
            }
        )
    return lines


def _pick(rng: random.Random, cumulative: list[float], count: int) -> list[int]:
    top = cumulative[-1]
    return [min(bisect(cumulative, rng.random() * top), len(cumulative) - 1) for _ in range(count)]


def vat_breakdown(gross_by_rate: dict[int, int]) -> list[dict[str, int]]:
    """Per rate: gross, net and VAT in cents, as the shop's documents carry them."""
    breakdown = []
    for rate_bp, gross in sorted(gross_by_rate.items(), reverse=True):
        net = round(gross * 10_000 / (10_000 + rate_bp))
        breakdown.append(
            {"rate_bp": rate_bp, "gross_cents": gross, "net_cents": net, "vat_cents": gross - net}
        )
    return breakdown


def _add_order(
    pending: _Tables,
    documents: _Documents,
    rng: random.Random,
    plan: Plan,
    day: int,
    order_id: int,
    invoice_id: int,
    placed_at: datetime,
    user_id: int | None,
    email: str,
    lines: list[dict[str, Any]],
) -> None:
    items_cents = sum(line["total_cents"] for line in lines)
    shipping = 0 if items_cents >= FREE_SHIPPING_CENTS else SHIPPING_CENTS
    gross_by_rate: dict[int, int] = {}
    for line in lines:
        rate = line["vat_rate_bp"]
        gross_by_rate[rate] = gross_by_rate.get(rate, 0) + line["total_cents"]
    if shipping:  # shipping is taxed at the standard rate
        gross_by_rate[STANDARD_BP] = gross_by_rate.get(STANDARD_BP, 0) + shipping
    total = items_cents + shipping
    breakdown = vat_breakdown(gross_by_rate)
    method = rng.choice(PAYMENT_METHODS)
    recent = plan.now - placed_at < timedelta(days=3)
    roll = rng.random()
    if roll < 0.01:
        status = OrderStatus.CANCELLED
    elif method == "bank_transfer" and recent and roll < 0.5:
        status = OrderStatus.AWAITING_PAYMENT
    elif recent:
        status = OrderStatus.PROCESSING
    else:
        status = OrderStatus.DELIVERED
    number = f"KB{order_id:07d}"
    pending.orders.append(
        {
            "id": order_id,
            "number": number,
            "idempotency_key": f"bench-{order_id}",
            "access_key_hash": hashlib.sha256(number.encode()).hexdigest(),
            "user_id": user_id,
            "email": email,
            "locale": "de",
            "status": status,
            "currency": "EUR",
            "items_cents": items_cents,
            "discount_cents": 0,
            "shipping_cents": shipping,
            "fee_cents": 0,
            "total_cents": total,
            "vat_breakdown": breakdown,
            "coupon_code": "",
            "shipping_method": "standard",
            "shipping_method_name": "Standardversand",
            "shipping_address": {
                "name": "Bench Kundin",
                "street": "Musterstraße 1",
                "postal_code": "10115",
                "city": "Berlin",
                "country": "DE",
            },
            "billing_address": None,
            "payment_method": method,
            "payment_reference": number,
            "legal_versions": {"terms": "bench"},
            "terms_checkbox_ticked": True,
            "placed_at": placed_at,
            "updated_at": placed_at,
        }
    )
    for line in lines:
        pending.lines.append(line)
    if status in {OrderStatus.CANCELLED, OrderStatus.AWAITING_PAYMENT}:
        return  # no invoice: nothing was sold (yet)
    # A transfer arrives within a day or so, cash on delivery with the parcel, an invoice
    # is paid within its terms: what is still open is recent, as in a real shop.
    paid_at = placed_at + timedelta(hours=rng.uniform(*PAID_AFTER_HOURS[method]))
    paid = paid_at <= plan.now
    if paid:
        plan.paid_per_day[min(DAYS - 1, (paid_at - plan.first_day).days)] += 1
        pending.record(order_id, "payment_received", paid_at, amount_cents=total)
    if status is OrderStatus.DELIVERED:
        shipped_at = placed_at + timedelta(hours=rng.uniform(20, 50))
        for previous, state, at in (
            ("paid", "shipped", shipped_at),
            ("shipped", "delivered", shipped_at + timedelta(hours=rng.uniform(20, 70))),
        ):
            pending.record(order_id, "status", at, previous=previous, state=state)
    pending.payments.append(
        {
            "order_id": order_id,
            "provider": method,
            "external_id": None,
            "amount_cents": total,
            "currency": "EUR",
            "status": PaymentStatus.PAID if paid else PaymentStatus.PENDING,
            "refunded_cents": 0,
            "created_at": placed_at,
            "updated_at": paid_at if paid else placed_at,
            "paid_at": paid_at if paid else None,
        }
    )
    sequence = documents.next(DocumentKind.INVOICE, placed_at.year)
    pending.invoices.append(
        _document(invoice_id, order_id, DocumentKind.INVOICE, placed_at, sequence, total, breakdown)
    )
    credited_at = placed_at + timedelta(days=rng.uniform(3, 20))
    if rng.random() >= CREDIT_SHARE or credited_at > plan.now:
        return
    if len(lines) > 1 and rng.random() < 0.5:  # one line sent back
        line = rng.choice(lines)
        amount, credit = (
            line["total_cents"],
            vat_breakdown({line["vat_rate_bp"]: line["total_cents"]}),
        )
    else:
        amount, credit = total, breakdown
        pending.orders[-1]["status"] = OrderStatus.REFUNDED
    credit_day = (credited_at - plan.first_day).days
    plan.refunds_per_day[credit_day] += 1
    if rng.random() < 0.4:
        plan.withdrawals_per_day[credit_day] += 1
        pending.record(order_id, "withdrawal_received", credited_at - timedelta(days=2))
    pending.record(order_id, "refund", credited_at, amount_cents=amount)
    sequence = documents.next(DocumentKind.CREDIT_NOTE, credited_at.year)
    note = _document(
        invoice_id + 1, order_id, DocumentKind.CREDIT_NOTE, credited_at, sequence, amount, credit
    )
    note["refers_to_id"] = invoice_id
    note["reason"] = "Widerruf"
    pending.credit_notes.append(note)


def _document(
    invoice_id: int,
    order_id: int,
    kind: DocumentKind,
    issued_at: datetime,
    sequence: int,
    amount: int,
    breakdown: list[dict[str, int]],
) -> dict[str, Any]:
    prefix = "RE" if kind is DocumentKind.INVOICE else "RK"
    return {
        "id": invoice_id,
        "order_id": order_id,
        "kind": kind,
        "year": issued_at.year,
        "sequence": sequence,
        "number": f"{prefix}-{issued_at.year}-{sequence:05d}",
        "refers_to_id": None,
        "seller_version_id": None,
        "amount_cents": amount,
        "net_cents": sum(line["net_cents"] for line in breakdown),
        "currency": "EUR",
        "issued_at": issued_at,
        "delivery_date": issued_at.date(),
        "reason": "",
        "vat_breakdown": breakdown,
        "pdf": PDF,
        "sha256": hashlib.sha256(PDF).hexdigest(),
    }


def _events(
    conn: Connection, rng: random.Random, plan: Plan, items: list[Item], buy_weights: list[float]
) -> None:
    """EVENTS events, day by day in time order, in proportion to each day's orders."""
    orders = plan.orders_per_day
    fixed = sum(orders) + sum(plan.paid_per_day) + sum(plan.refunds_per_day)
    fixed += sum(plan.withdrawals_per_day)
    free = EVENTS - fixed
    per_day = {kind: allocate(round(free * share), orders) for kind, share in KIND_SHARES.items()}
    taken = sum(sum(counts) for counts in per_day.values())
    per_day[EventKind.PRODUCT_VIEW] = allocate(free - taken, orders)
    per_day[EventKind.ORDER_PLACED] = orders
    per_day[EventKind.PAYMENT_RECEIVED] = plan.paid_per_day
    per_day[EventKind.REFUND] = plan.refunds_per_day
    per_day[EventKind.WITHDRAWAL] = plan.withdrawals_per_day
    # Viewed often, bought rarely: a tenth of the products draws views but few orders.
    view_weights = [w * (8 if i % 10 == 0 else 1) ** 0.5 for i, w in enumerate(buy_weights)]
    views = list(accumulate(view_weights))
    buys = list(accumulate(buy_weights))
    categories = sorted({item.category_id for item in items})
    words = sorted({word.lower() for noun in dataset.NOUNS.values() for word in noun})
    words += [style.lower() for style in dataset.STYLES]
    found = {word: 1 + len(word) * 7 % 60 for word in words}  # the same count for the same word
    table: Table = AnalyticsEvent.__table__  # type: ignore[assignment]
    batch: list[dict[str, Any]] = []
    for day in range(DAYS):
        counts = {kind: per_day[kind][day] for kind in per_day}
        buyers = max(1, orders[day])
        visitors = [
            f"{rng.getrandbits(128):032x}"
            for _ in range(max(buyers, counts[EventKind.PRODUCT_VIEW] // 4))
        ]
        # The funnel narrows: later steps are taken by fewer of the day's visitors.
        pools = {
            EventKind.ADD_TO_CART: min(len(visitors), buyers * 3),
            EventKind.CHECKOUT_STARTED: min(len(visitors), buyers * 2),
            EventKind.CHECKOUT_STEP: min(len(visitors), buyers * 2),
            EventKind.ORDER_PLACED: buyers,
            EventKind.PAYMENT_RECEIVED: buyers,
        }
        day_rows = []
        for kind, count in counts.items():
            pool = pools.get(kind, len(visitors))
            for number in range(count):
                row = _event(rng, plan, day, kind, items, views, buys, categories, found)
                if kind is EventKind.ORDER_PLACED:
                    row["visitor"] = visitors[number % len(visitors)]
                elif kind in {EventKind.REFUND, EventKind.WITHDRAWAL} or (
                    kind is EventKind.PAYMENT_RECEIVED and number % 2
                ):
                    row["visitor"] = None  # staff or the provider's webhook, not a visitor
                else:
                    row["visitor"] = visitors[rng.randrange(pool)]
                day_rows.append(row)
        day_rows.sort(key=lambda row: row["occurred_at"])
        batch.extend(day_rows)
        if len(batch) >= BATCH * 5 or day == DAYS - 1:
            _insert(conn, table, batch)
            batch = []


def _event(
    rng: random.Random,
    plan: Plan,
    day: int,
    kind: EventKind,
    items: list[Item],
    views: list[float],
    buys: list[float],
    categories: list[int],
    found: dict[str, int],
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "occurred_at": plan.moment(rng, day),
        "kind": kind.value,
        "visitor": None,
        "product_id": None,
        "category_id": None,
        "quantity": None,
        "step": None,
        "query": None,
        "results": None,
    }
    if kind is EventKind.PRODUCT_VIEW or kind is EventKind.ADD_TO_CART:
        weights = views if kind is EventKind.PRODUCT_VIEW else buys
        item = items[_pick(rng, weights, 1)[0]]
        row["product_id"], row["category_id"] = item.product_id, item.category_id
        if kind is EventKind.ADD_TO_CART:
            row["quantity"] = rng.choices((1, 2, 3), (75, 20, 5))[0]
    elif kind is EventKind.CATEGORY_VIEW:
        row["category_id"] = rng.choice(categories)
    elif kind is EventKind.SEARCH:
        if rng.random() < ZERO_SHARE:
            row["query"], row["results"] = rng.choice(ZERO_QUERIES), 0
        else:
            row["query"] = rng.choice(list(found))
            row["results"] = found[row["query"]]
    elif kind is EventKind.CHECKOUT_STEP:
        row["step"] = rng.choices(STEPS, (40, 28, 20, 12))[0]
    return row


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` in executemany batches of BATCH rows, and commit. (A multi-row
    VALUES statement was tried for PostgreSQL: compiling its thousands of parameters made
    it six times slower than psycopg's pipelined executemany.)"""
    for start in range(0, len(rows), BATCH):
        conn.execute(table.insert(), rows[start : start + BATCH])
    conn.commit()


def app_for(url: str, media: Path, **extra: Any) -> Flask:
    """The shop on a bench database, as the bench serves it. It keeps every raw event
    (KIOSK_ANALYTICS_RAW_DAYS beyond the data's days): a roll-up would otherwise purge
    all but 90 days of them, and the stored copy would no longer hold the 2,000,000
    events the issue names (nor be reusable)."""
    return create_app(
        settings_for(
            url,
            media,
            KIOSK_STAFF_REQUIRE_2FA=False,
            KIOSK_LOG_LEVEL="WARNING",
            KIOSK_ANALYTICS_RAW_DAYS=DAYS + 30,
            **extra,
        )
    )
