"""Checkout: hold the stock, price the cart for a destination, place the order.

The steps (address, shipping, payment, review) keep what the shopper chose in
the session; this module only needs the choices. Placing the order is one unit
of work that re-checks everything the review page showed: prices, the coupon,
the shipping method and the stock, which it takes from the checkout's holds
(or reserves anew if they ran out). The cart row is locked first (FOR UPDATE on
PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers), then the
review form's one-time key is looked up, so a double click, a replayed POST or
a second tab finds the order the first one placed instead of placing another.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk import pricing
from kiosk.accounts.services import mail_staff
from kiosk.cart.models import Cart
from kiosk.cart.services import CartOwner, find_cart
from kiosk.catalog import services as catalog
from kiosk.catalog.models import Product
from kiosk.coupons import services as coupons
from kiosk.coupons.models import Coupon
from kiosk.coupons.services import CouponRefused, Customer
from kiosk.inventory import services as inventory
from kiosk.legal import services as legal
from kiosk.mail.services import queue_mail
from kiosk.money import Money
from kiosk.orders import lifecycle
from kiosk.orders import services as orders
from kiosk.orders.models import Order, OrderLine
from kiosk.orm import utcnow
from kiosk.payments import providers as payments
from kiosk.pricing import Totals
from kiosk.shipping import services as shipping
from kiosk.shipping.services import ShippingQuote
from kiosk.uow import read_session, unit_of_work
from kiosk.urls import external_url


class CheckoutProblem(Exception):
    """The order cannot be placed as it stands; `step` is where the shopper can fix it."""

    def __init__(self, message: str, step: str) -> None:
        super().__init__(message)
        self.step = step


class EmptyCart(CheckoutProblem):
    def __init__(self) -> None:
        super().__init__(_("Your cart is empty."), "cart")


class SoldOut(CheckoutProblem):
    def __init__(self, names: list[str]) -> None:
        super().__init__(
            _(
                "Sorry, not enough left of: %(names)s. Please change your cart.",
                names=", ".join(names),
            ),
            "cart",
        )
        self.names = names


@dataclass(frozen=True)
class Buyer:
    email: str
    locale: str
    user_id: int | None = None

    @property
    def customer(self) -> Customer:
        return Customer(self.email, self.user_id)


@dataclass(frozen=True)
class DraftLine:
    product: Product
    quantity: int
    unit_price: Money
    total: Money
    vat_rate_bp: int

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def delivery_time(self) -> str:
        return self.product.delivery_time


@dataclass
class Draft:
    """The cart priced for one destination: what the review page shows."""

    lines: list[DraftLine]
    items: Money
    weight_grams: int
    quotes: list[ShippingQuote]
    shipping: ShippingQuote | None = None
    coupon: Coupon | None = None
    coupon_problem: str | None = None
    totals: Totals | None = None
    unavailable: list[str] = field(default_factory=list)


def vat_rate(product: Product) -> int:
    rates: Mapping[str, int] = current_app.config["KIOSK_VAT_RATES"]
    return rates.get(product.vat_class, rates["standard"])


def reservation_minutes() -> int:
    return int(current_app.config["KIOSK_RESERVATION_MINUTES"])


def _wanted(cart: Cart | None) -> dict[int, int]:
    if cart is None or not cart.lines:
        raise EmptyCart()
    return {line.product_id: line.quantity for line in cart.lines}


def _sold_out(session: Session, product_ids: list[int]) -> SoldOut:
    return SoldOut(sorted(catalog.product_names(session, product_ids)))


def hold_stock(owner: CartOwner, holder: str, now: datetime | None = None) -> None:
    """Reserve the cart's items for this checkout, unless it already holds exactly them.

    Every step page calls this, so the usual case, nothing changed, only reads:
    a write transaction (the one write lock on SQLite) is taken only when the
    holds must change, and the check is made again inside it, since another
    tab may have changed them in between. A changed cart or a lapsed hold is
    released and reserved anew; if that fails the checkout holds nothing and
    SoldOut names what is short.
    """
    now = now or utcnow()
    if _holds_match(read_session(), owner, holder, now):
        return
    sold_out: SoldOut | None = None
    with unit_of_work() as session:
        if _holds_match(session, owner, holder, now):
            return
        wanted = _wanted(find_cart(session, owner))
        inventory.release(session, holder, "checkout changed")
        try:
            with session.begin_nested():  # a failed reservation keeps the release
                inventory.reserve(session, holder, wanted, reservation_minutes(), now)
        except inventory.OutOfStock as short:
            sold_out = _sold_out(session, short.product_ids)
    if sold_out is not None:
        raise sold_out


def _holds_match(session: Session, owner: CartOwner, holder: str, now: datetime) -> bool:
    """Whether the checkout holds exactly what the cart asks for (EmptyCart if nothing)."""
    return inventory.held(session, holder, now) == _wanted(find_cart(session, owner))


def release_hold(holder: str) -> None:
    with unit_of_work() as session:
        inventory.release(session, holder, "checkout left")


def _price(
    session: Session,
    cart: Cart | None,
    country: str | None,
    shipping_code: str | None,
    coupon_code: str | None,
    buyer: Buyer | None,
    payment_code: str | None = None,
) -> Draft:
    if cart is None or not cart.lines:
        raise EmptyCart()
    currency = current_app.config["KIOSK_CURRENCY"]
    lines = [
        DraftLine(
            line.product,
            line.quantity,
            line.product.price,
            line.product.price * line.quantity,
            vat_rate(line.product),
        )
        for line in cart.lines
    ]
    items = sum((line.total for line in lines), Money.zero(currency))
    weight = sum(line.product.weight_grams * line.quantity for line in lines)
    draft = Draft(
        lines,
        items,
        weight,
        [],
        unavailable=[line.product.name for line in lines if not line.product.is_active],
    )
    discount = Money.zero(currency)
    if coupon_code:
        try:
            draft.coupon = coupons.check(
                session, coupon_code, items, buyer.customer if buyer else None
            )
            discount = coupons.discount(draft.coupon, items)
        except CouponRefused as refused:
            draft.coupon_problem = str(refused)
    if country:
        draft.quotes = shipping.quotes(shipping.methods(), country, items - discount, weight)
        draft.shipping = next((q for q in draft.quotes if q.method.code == shipping_code), None)
    method = payments.provider(payment_code) if payment_code else None
    fee = method.fee(currency) if method else None
    if draft.shipping is not None:
        draft.totals = pricing.totals(
            ((line.total, line.vat_rate_bp) for line in lines),
            draft.shipping.cost,
            discount,
            fee if fee and fee.cents else None,
        )
    return draft


def draft(
    owner: CartOwner,
    country: str | None = None,
    shipping_code: str | None = None,
    coupon_code: str | None = None,
    buyer: Buyer | None = None,
    payment_code: str | None = None,
) -> Draft:
    """Price the cart now for a destination, shipping, coupon and payment (nothing is written)."""
    session = read_session()
    cart = find_cart(session, owner)
    return _price(session, cart, country, shipping_code, coupon_code, buyer, payment_code)


@dataclass(frozen=True)
class OrderRequest:
    """Everything the shopper chose, as the review form submits it."""

    idempotency_key: str
    holder: str
    buyer: Buyer
    shipping_address: dict[str, Any]
    billing_address: dict[str, Any] | None
    shipping_code: str
    payment_method: str
    coupon_code: str | None
    expected_total_cents: int
    terms_ticked: bool = False


@dataclass(frozen=True)
class PlacedOrder:
    number: str
    access_key: str | None  # the guest link's secret, None when the order existed already
    repeated: bool = False


def place_order(owner: CartOwner, request: OrderRequest) -> PlacedOrder:
    """Turn the cart into an order, exactly once per review form."""
    offered = {p.code for p in payments.offered(request.buyer.user_id)}
    if request.payment_method not in offered:
        raise CheckoutProblem(_("Please choose a payment method."), "payment")
    try:
        return _place(owner, request)
    except IntegrityError:
        # A concurrent request with the same key won the race: show its order.
        with unit_of_work() as session:
            order = orders.by_idempotency_key(request.idempotency_key, session)
            if order is None:
                raise
            return PlacedOrder(order.number, None, repeated=True)


def _place(owner: CartOwner, request: OrderRequest) -> PlacedOrder:
    country = str(request.shipping_address.get("country", ""))
    with unit_of_work() as session:
        cart = find_cart(session, owner, lock=True)
        order = orders.by_idempotency_key(request.idempotency_key, session)
        if order is not None:
            return PlacedOrder(order.number, None, repeated=True)
        priced = _price(
            session,
            cart,
            country,
            request.shipping_code,
            request.coupon_code,
            request.buyer,
            request.payment_method,
        )
        if priced.unavailable:
            raise SoldOut(priced.unavailable)
        if priced.coupon_problem:
            raise CheckoutProblem(priced.coupon_problem, "review")
        if priced.totals is None or priced.shipping is None:
            raise CheckoutProblem(
                _("This shipping method is no longer available. Please choose another."),
                "shipping",
            )
        if priced.totals.total.cents != request.expected_total_cents:
            raise CheckoutProblem(
                _(
                    "Prices or shipping changed since you checked your order. "
                    "Please check it again."
                ),
                "review",
            )
        wanted = {line.product.id: line.quantity for line in priced.lines}
        if inventory.held(session, request.holder) != wanted:
            inventory.release(session, request.holder, "checkout changed")
            try:
                inventory.reserve(session, request.holder, wanted, reservation_minutes())
            except inventory.OutOfStock as short:
                raise _sold_out(session, short.product_ids) from None
        method = payments.provider(request.payment_method)
        assert method is not None
        access_key = secrets.token_urlsafe(24)
        order = _new_order(session, request, priced, access_key)
        if method.offline:  # the goods are the buyer's now; unpaid orders are cancelled later
            taken = inventory.sell(session, request.holder, f"order {order.number}")
        else:  # held for the order until the card payment succeeds or expires
            taken = inventory.hand_over(
                session, request.holder, lifecycle.order_holder(order.id), method.hold_until()
            )
        if taken != wanted:
            # Another request of this checkout took the holds first; its order will show.
            raise CheckoutProblem(_("Your order is being placed already."), "review")
        method.start(session, order.id, order.total)
        if priced.coupon is not None:
            try:
                coupons.redeem(session, priced.coupon, order.id, request.buyer.customer)
            except CouponRefused as refused:
                raise CheckoutProblem(str(refused), "review") from None
        assert cart is not None
        cart.lines.clear()
        queue_mail(
            session,
            order.email,
            "order_received",
            order.locale,
            order=order,
            order_url=external_url("orders.guest_view", number=order.number, key=access_key),
            withdraw_url=external_url("withdrawal.find_order"),
            attachments=legal.contract_documents(session, order.locale, order.legal_versions),
        )
        mail_staff(session, "order_new_staff", order=order,
                   order_url=external_url("staff.order", number=order.number))  # fmt: skip
        return PlacedOrder(order.number, access_key)


def _new_order(session: Session, request: OrderRequest, priced: Draft, access_key: str) -> Order:
    assert priced.totals is not None and priced.shipping is not None
    totals = priced.totals
    order = Order(
        number=orders.new_number(session),
        idempotency_key=request.idempotency_key,
        access_key_hash=orders.hash_access_key(access_key),
        user_id=request.buyer.user_id,
        email=request.buyer.email,
        locale=request.buyer.locale,
        currency=totals.total.currency,
        items_cents=totals.items.cents,
        discount_cents=totals.discount.cents,
        shipping_cents=totals.shipping.cents,
        fee_cents=totals.fee.cents if totals.fee else 0,
        total_cents=totals.total.cents,
        vat_breakdown=[line.as_dict() for line in totals.vat],
        coupon_id=priced.coupon.id if priced.coupon else None,
        coupon_code=priced.coupon.code if priced.coupon else "",
        shipping_method=priced.shipping.method.code,
        shipping_method_name=priced.shipping.method.name(request.buyer.locale),
        shipping_address=dict(request.shipping_address),
        billing_address=dict(request.billing_address) if request.billing_address else None,
        payment_method=request.payment_method,
        payment_reference="",
        legal_versions=legal.versions(session),
        terms_checkbox_ticked=request.terms_ticked,
        placed_at=utcnow(),
        previous_order_at=orders.previous_order_at(
            session, request.buyer.user_id, request.buyer.email
        ),
    )
    order.payment_reference = order.number
    order.lines = [
        OrderLine(
            product_id=line.product.id,
            sku=line.product.sku,
            name=line.product.name,
            unit_price_cents=line.unit_price.cents,
            vat_rate_bp=line.vat_rate_bp,
            quantity=line.quantity,
            total_cents=line.total.cents,
            delivery_time=line.product.delivery_time,
        )
        for line in priced.lines
    ]
    return orders.add(session, order)
