"""Carts by owner (an account, or a guest's token), with their lines and products."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kiosk.cart.models import Cart, CartLine


class CartRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_owner(self, user_id: int | None, token: str | None, lock: bool = False) -> Cart | None:
        """The account's cart, else the guest cart of this token; `lock` takes its row lock
        until the transaction ends."""
        query = select(Cart).options(selectinload(Cart.lines).selectinload(CartLine.product))
        if lock:
            query = query.with_for_update(of=Cart)
        if user_id is not None:
            return self.session.scalar(query.where(Cart.user_id == user_id))
        if token:
            return self.session.scalar(query.where(Cart.token == token, Cart.user_id.is_(None)))
        return None

    def add(self, cart: Cart) -> Cart:
        self.session.add(cart)
        return cart

    def delete(self, cart: Cart) -> None:
        self.session.delete(cart)
