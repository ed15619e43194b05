"""Who may see an order: its customer, the guest session that placed it (or opened its
secret link), nobody else. The order pages and checkout ask here."""

from __future__ import annotations

from flask import session
from flask_login import current_user

from kiosk.orders.models import Order

SESSION_KEY = "orders"
REMEMBERED = 20  # orders a guest session keeps access to


def remember_order(number: str) -> None:
    numbers = [n for n in session.get(SESSION_KEY, []) if n != number]
    session[SESSION_KEY] = [*numbers, number][-REMEMBERED:]


def visible_order(order: Order) -> bool:
    if current_user.is_authenticated and order.user_id == current_user.id:
        return True
    return order.number in session.get(SESSION_KEY, [])
