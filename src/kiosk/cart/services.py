"""The cart: guests by a random token, customers by account; merged at sign-in.

A cart holds no stock (checkout reserves it); it only refuses quantities the
shop cannot deliver now. Every line remembers the price the shopper last saw,
so a price change is pointed out before checkout.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from kiosk.cart.models import Cart, CartLine
from kiosk.cart.repository import CartRepository
from kiosk.catalog import services as catalog
from kiosk.catalog.models import Product
from kiosk.money import Money
from kiosk.uow import read_session, unit_of_work
from kiosk.validation import InputProblem, OutOfRange, parse_int

MAX_QUANTITY = 99


class CartProblem(ValueError):
    """A cart change that cannot be made; the message is for the shopper."""


@dataclass(frozen=True)
class CartOwner:
    """Whose cart: a signed-in customer's, or the guest's with this token."""

    user_id: int | None = None
    token: str | None = None


def parse_quantity(raw: str | None) -> int:
    """A quantity from a form, or CartProblem with the reason."""
    try:
        return parse_int(raw, minimum=1, maximum=MAX_QUANTITY)
    except OutOfRange as exc:
        if exc.too_low:
            raise CartProblem(_("The quantity must be at least 1.")) from exc
        raise CartProblem(
            _("At most %(num)d of one item per order, please.", num=MAX_QUANTITY)
        ) from exc
    except InputProblem as exc:
        raise CartProblem(_("Please enter the quantity as a whole number.")) from exc


def find_cart(session: Session, owner: CartOwner, lock: bool = False) -> Cart | None:
    """The owner's cart with its lines; `lock` takes its row lock until the transaction ends."""
    return CartRepository(session).of_owner(owner.user_id, owner.token, lock)


def _find_or_create(session: Session, owner: CartOwner) -> Cart:
    cart = find_cart(session, owner)
    if cart is None:
        cart = Cart(token=owner.token or secrets.token_urlsafe(32), user_id=owner.user_id)
        CartRepository(session).add(cart)
    return cart


def _check_available(product: Product, quantity: int) -> None:
    if not product.is_active:
        raise CartProblem(_("This product is no longer available."))
    if product.stock_available <= 0:
        raise CartProblem(_("%(name)s is sold out.", name=product.name))
    if quantity > product.stock_available:
        raise CartProblem(
            _("Only %(num)d of %(name)s available.", num=product.stock_available, name=product.name)
        )


def add(owner: CartOwner, product_id: int, quantity: int) -> Cart:
    """Put `quantity` more of a product in the cart (created on the first item)."""
    with unit_of_work() as session:
        product = catalog.find_product(session, product_id)
        if product is None:
            raise CartProblem(_("This product is no longer available."))
        cart = _find_or_create(session, owner)
        line = next((line for line in cart.lines if line.product_id == product_id), None)
        total = quantity + (line.quantity if line else 0)
        if total > MAX_QUANTITY:
            raise CartProblem(_("At most %(num)d of one item per order, please.", num=MAX_QUANTITY))
        _check_available(product, total)
        if line is None:
            cart.lines.append(
                CartLine(product=product, quantity=total, price_seen_cents=product.price_cents)
            )
        else:
            line.quantity, line.price_seen_cents = total, product.price_cents
        return cart


def _own_line(session: Session, owner: CartOwner, line_id: int) -> CartLine:
    cart = find_cart(session, owner)
    line = next((line for line in cart.lines if line.id == line_id), None) if cart else None
    if line is None:  # not in this shopper's cart: as if it did not exist
        raise LookupError(line_id)
    return line


def set_quantity(owner: CartOwner, line_id: int, quantity: int) -> None:
    with unit_of_work() as session:
        line = _own_line(session, owner, line_id)
        _check_available(line.product, quantity)
        line.quantity, line.price_seen_cents = quantity, line.product.price_cents


def remove(owner: CartOwner, line_id: int) -> None:
    with unit_of_work() as session:
        line = _own_line(session, owner, line_id)
        line.cart.lines.remove(line)


def merge_into_account(token: str | None, user_id: int) -> list[str]:
    """At sign-in: move the guest cart's lines into the account's cart, as much as is available.

    Returns what the shopper should be told (one message per line that changed).
    """
    if not token:
        return []
    notes: list[str] = []
    with unit_of_work() as session:
        guest = find_cart(session, CartOwner(token=token))
        if guest is None or not guest.lines:
            return []
        account = _find_or_create(session, CartOwner(user_id=user_id))
        for guest_line in guest.lines:
            product = guest_line.product
            line = next((line for line in account.lines if line.product_id == product.id), None)
            wanted = guest_line.quantity + (line.quantity if line else 0)
            allowed = min(wanted, product.stock_available if product.is_active else 0, MAX_QUANTITY)
            if allowed < wanted:
                notes.append(
                    _(
                        "%(name)s: only %(num)d available, your cart holds that many now.",
                        name=product.name,
                        num=allowed,
                    )
                    if allowed
                    else _("%(name)s is no longer available.", name=product.name)
                )
            if allowed <= 0:
                if line is not None:
                    account.lines.remove(line)
                continue
            if line is None:
                account.lines.append(
                    CartLine(
                        product=product,
                        quantity=allowed,
                        price_seen_cents=guest_line.price_seen_cents,
                    )
                )
            else:
                line.quantity = allowed
        CartRepository(session).delete(guest)
        if not notes:
            notes.append(_("The items from before you signed in are in your cart."))
    return notes


@dataclass(frozen=True)
class LineView:
    id: int
    product: Product
    quantity: int
    unit_price: Money
    total: Money
    price_was: Money | None  # set when the price changed since it was put in the cart
    short_by: int  # how many more than available the line asks for


@dataclass(frozen=True)
class CartView:
    lines: list[LineView]
    total: Money
    count: int

    @property
    def has_changes(self) -> bool:
        return any(line.price_was is not None or line.short_by for line in self.lines)


def view(owner: CartOwner, currency: str = "EUR") -> CartView:
    """The cart at today's prices, with what changed since the shopper added things."""
    cart = find_cart(read_session(), owner)
    lines = []
    for line in cart.lines if cart else []:
        product = line.product
        unit = product.price
        was = (
            Money(line.price_seen_cents, product.currency)
            if line.price_seen_cents != product.price_cents
            else None
        )
        available = product.stock_available if product.is_active else 0
        lines.append(
            LineView(
                line.id,
                product,
                line.quantity,
                unit,
                unit * line.quantity,
                was,
                max(0, line.quantity - available),
            )
        )
    total = sum((line.total for line in lines), Money.zero(currency))
    return CartView(lines, total, sum(line.quantity for line in lines))


def item_count(owner: CartOwner) -> int:
    """For the header badge."""
    if owner.user_id is None and not owner.token:
        return 0
    cart = find_cart(read_session(), owner)
    return sum(line.quantity for line in cart.lines) if cart else 0
