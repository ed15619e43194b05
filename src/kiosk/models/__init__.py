"""All models, imported here so Alembic and the app see the whole schema."""

from kiosk.accounts.models import Address, RecoveryCode, Role, User, UserSession
from kiosk.audit.models import AuditEvent
from kiosk.cart.models import Cart, CartLine
from kiosk.catalog.models import Category, PictureRef, Product, ProductImage, UnitMeasure
from kiosk.coupons.models import Coupon, CouponKind, CouponRedemption
from kiosk.inventory.models import (
    InventoryMovement,
    MovementKind,
    ReservationStatus,
    StockAlert,
    StockReservation,
)
from kiosk.mail.models import MailStatus, OutboxAttachment, OutboxMessage
from kiosk.models.invoice import DocumentCounter, DocumentKind, Invoice
from kiosk.models.order import Order, OrderLine, OrderStatus
from kiosk.models.payment import OrderEvent, Payment, PaymentEvent, PaymentStatus
from kiosk.models.rate_limit import RateLimitWindow
from kiosk.orm import Base

__all__ = [
    "Address",
    "AuditEvent",
    "Base",
    "Cart",
    "CartLine",
    "Category",
    "Coupon",
    "CouponKind",
    "CouponRedemption",
    "DocumentCounter",
    "DocumentKind",
    "InventoryMovement",
    "Invoice",
    "MailStatus",
    "MovementKind",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "OutboxAttachment",
    "OutboxMessage",
    "Payment",
    "PaymentEvent",
    "PaymentStatus",
    "PictureRef",
    "Product",
    "ProductImage",
    "RateLimitWindow",
    "RecoveryCode",
    "ReservationStatus",
    "Role",
    "StockAlert",
    "StockReservation",
    "UnitMeasure",
    "User",
    "UserSession",
]
