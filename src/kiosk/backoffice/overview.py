"""The overview staff land on: what needs doing now, counted per work queue, each queue
a filtered list of its own area (orders, stock, mail)."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.inventory import services as inventory
from kiosk.mail import services as mail
from kiosk.orders import services as orders
from kiosk.orders.models import OrderFilter
from kiosk.privacy import erasure


@dataclass(frozen=True)
class Overview:
    to_ship: int  # paid (or paid later) and not shipped yet
    overdue: int  # transfers and invoices unpaid after their due days
    returns: int  # withdrawals received whose goods are not back yet
    low_stock: int  # active products at or below their reorder level
    failed_mail: int  # messages given up on
    privacy_requests: int  # erasure requests confirmed or waiting, not done yet


def overview() -> Overview:
    """The figures of the overview page, read in one request."""
    return Overview(
        to_ship=orders.count(OrderFilter(queue="to_ship")),
        overdue=orders.count(OrderFilter(queue="overdue")),
        returns=orders.count(OrderFilter(queue="returns")),
        low_stock=inventory.low_stock_count(),
        failed_mail=mail.failed_count(),
        privacy_requests=erasure.pending_count(),
    )
