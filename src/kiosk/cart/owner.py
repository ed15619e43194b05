"""Whose cart a request is about: the signed-in customer's, or the guest's whose random token
the signed session keeps. Every page that shows or changes the cart asks here."""

from __future__ import annotations

import secrets

from flask import session
from flask_login import current_user

from kiosk.cart.services import CartOwner, item_count

CART_KEY = "cart"


def cart_owner(create: bool = False) -> CartOwner:
    """The shopper's cart: the account's when signed in, else the guest token in the session."""
    if current_user.is_authenticated:
        return CartOwner(user_id=current_user.id)
    token = session.get(CART_KEY)
    if token is None and create:
        token = session[CART_KEY] = secrets.token_urlsafe(32)
    return CartOwner(token=token)


def cart_count() -> int:
    """Items in the shopper's cart, for the header badge (no query for a visitor without one)."""
    return item_count(cart_owner())
