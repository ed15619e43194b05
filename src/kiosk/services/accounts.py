"""Account use cases. Sign-up, sign-in and the rest arrive with the accounts issue."""

from __future__ import annotations

from kiosk.models import Role, User
from kiosk.repositories.accounts import UserRepository
from kiosk.services.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from kiosk.services.uow import unit_of_work


class AccountError(ValueError):
    """A request about an account that cannot be carried out, with the reason."""


def create_owner(email: str, password: str, name: str = "") -> User:
    """Make a shop owner, or promote an existing account to owner with a new password."""
    if "@" not in email or len(email) > 254:
        raise AccountError("That is not an email address.")
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise AccountError(f"The password must have {MIN_LENGTH} to {MAX_LENGTH} characters.")
    with unit_of_work() as session:
        users = UserRepository(session)
        user = users.get_by_email(email)
        if user is None:
            user = users.add(User(email=email, password_hash="", name=name))
        user.password_hash = hash_password(password)
        user.role = Role.OWNER
        if name:
            user.name = name
    return user
