"""Accounts: users by id or normalised email, their addresses and recovery codes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.models import Address, User


def normalise_email(email: str) -> str:
    return email.strip().lower()


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def get_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == normalise_email(email)))

    def add(self, user: User) -> User:
        user.email = normalise_email(user.email)
        self.session.add(user)
        return user

    def address_of(self, user: User, address_id: int) -> Address | None:
        """One of this user's addresses; another user's address is None, as if absent."""
        return self.session.scalar(
            select(Address).where(Address.id == address_id, Address.user_id == user.id)
        )
