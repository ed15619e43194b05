"""Staff's view of a customer: the account with what other domains know of it (orders,
stock alerts), gathered here because the accounts domain knows nothing of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.accounts import customers as accounts
from kiosk.accounts import user_sessions
from kiosk.accounts.models import CustomerNote, User
from kiosk.inventory import alerts
from kiosk.inventory.models import StockAlert
from kiosk.orders import services as orders
from kiosk.orders.models import Order


@dataclass(frozen=True)
class CustomerRow:
    user: User
    orders: int


@dataclass(frozen=True)
class CustomerFile:
    """Everything the staff customer page shows."""

    user: User
    orders: list[Order]
    stock_alerts: list[StockAlert]
    notes: list[CustomerNote]
    sessions: int
    last_seen: datetime | None


def customer_list(text: str, page: int, per_page: int) -> tuple[list[CustomerRow], int]:
    """One page of matching accounts with their order counts, and how many match."""
    users, total = accounts.search(text, page, per_page)
    counts = orders.count_by_customer([user.id for user in users])
    return [CustomerRow(user, counts.get(user.id, 0)) for user in users], total


def customer_file(user_id: int) -> CustomerFile | None:
    user = accounts.get(user_id)
    if user is None:
        return None
    sessions = user_sessions.active_sessions(user.id)
    return CustomerFile(
        user=user,
        orders=orders.of_customer(user.id),
        stock_alerts=alerts.alerts_of_user(user.id),
        notes=accounts.notes(user.id),
        sessions=len(sessions),
        last_seen=max((s.last_seen_at for s in sessions), default=None),
    )
