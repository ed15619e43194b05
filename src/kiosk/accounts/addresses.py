"""The customer's address book: several addresses, one default each for shipping and invoices."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.accounts.models import Address, User
from kiosk.accounts.repository import UserRepository
from kiosk.accounts.services import AccountError
from kiosk.uow import unit_of_work


@dataclass
class AddressData:
    name: str
    company: str
    street: str
    extra: str
    postal_code: str
    city: str
    country: str
    phone: str
    is_default_shipping: bool
    is_default_billing: bool


def save_address(user_id: int, data: AddressData, address_id: int | None = None) -> Address:
    """Add an address, or change one of the user's own (another user's is not found)."""
    with unit_of_work() as session:
        users = UserRepository(session)
        user = users.get(user_id)
        if user is None:
            raise AccountError("no_user")
        if address_id is None:
            address = Address(user=user, name="", street="", postal_code="", city="")
            session.add(address)
        else:
            found = users.address_of(user, address_id)
            if found is None:
                raise AccountError("not_found")
            address = found
        for field, value in vars(data).items():
            setattr(address, field, value)
        first = len(user.addresses) == 1
        _keep_one_default(
            user,
            address,
            shipping=data.is_default_shipping or first,
            billing=data.is_default_billing or first,
        )
        return address


def _keep_one_default(user: User, chosen: Address, shipping: bool, billing: bool) -> None:
    for other in user.addresses:
        if shipping:
            other.is_default_shipping = other is chosen
        if billing:
            other.is_default_billing = other is chosen


def delete_address(user_id: int, address_id: int) -> None:
    with unit_of_work() as session:
        users = UserRepository(session)
        user = users.get(user_id)
        address = users.address_of(user, address_id) if user else None
        if user is None or address is None:
            raise AccountError("not_found")
        user.addresses.remove(address)
        remaining = user.addresses
        if remaining and not any(a.is_default_shipping for a in remaining):
            remaining[0].is_default_shipping = True
        if remaining and not any(a.is_default_billing for a in remaining):
            remaining[0].is_default_billing = True
