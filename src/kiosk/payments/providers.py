"""Payment methods behind one small interface, and the registry of those a shop has.

A provider starts a payment for an order (a pending payment row, then
instructions to show or a page to send the shopper to), and refunds all or part
of it. The offline providers need no configuration: bank transfer (prepayment),
invoice and cash on delivery; staff confirm their money by hand. Which ones
checkout offers is the setting `KIOSK_PAYMENT_METHODS`; the card provider
(`payments.stripe`) joins when its keys are set.

The registry is built once per app in `create_app` (`install`), never at import;
everything else asks `registry()`. This is the lowest module of payments: the
order lifecycle asks it whether a method is paid offline or after delivery.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy.orm import Session

from kiosk.money import Money
from kiosk.payments.models import Payment
from kiosk.payments.repository import PaymentRepository


class PaymentProblem(ValueError):
    """A payment action that cannot be done; `code` says why (views word it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Provider(Protocol):
    code: str
    offline: bool
    pays_after_delivery: bool  # the goods may go out before the money comes

    def fee(self, currency: str) -> Money: ...

    def available_for(self, user_id: int | None) -> bool: ...

    def start(self, session: Session, order_id: int, amount: Money) -> Payment: ...

    def hold_until(self) -> datetime:
        """How long an order keeps its stock while the shopper pays (online methods)."""
        ...

    def send_refund(self, payment: Payment, amount: Money, idempotency_key: str) -> None:
        """Give `amount` back through the provider (online methods); the key makes a retry
        refund once."""
        ...


class ProviderBase:
    """What most providers share: no fee, offered to everyone, a pending payment row.

    Offline ones (the default here) wait for staff to confirm the money.
    """

    code = ""
    offline = True
    pays_after_delivery = False

    def fee(self, currency: str) -> Money:
        return Money.zero(currency)

    def available_for(self, user_id: int | None) -> bool:
        return True

    def hold_until(self) -> datetime:
        raise NotImplementedError("offline payments take the stock when the order is placed")

    def send_refund(self, payment: Payment, amount: Money, idempotency_key: str) -> None:
        """Offline money goes back by hand (a transfer staff make); the shop only records it."""

    def start(self, session: Session, order_id: int, amount: Money) -> Payment:
        return PaymentRepository(session).add(
            Payment(
                order_id=order_id,
                provider=self.code,
                amount_cents=amount.cents,
                currency=amount.currency,
            )
        )


class BankTransfer(ProviderBase):
    code = "bank_transfer"


class Invoice(ProviderBase):
    """Pay after delivery; the owner may keep it for customers who have paid before.

    Whether a customer has is the orders' knowledge: `create_app` hands it in.
    """

    code = "invoice"
    pays_after_delivery = True

    def __init__(self, paid_before: Callable[[int], bool]) -> None:
        self.paid_before = paid_before

    def available_for(self, user_id: int | None) -> bool:
        rule = current_app.config["KIOSK_INVOICE_FOR"]
        if rule == "all":
            return True
        if user_id is None:
            return False
        return self.paid_before(user_id)


class CashOnDelivery(ProviderBase):
    code = "cash_on_delivery"
    pays_after_delivery = True

    def fee(self, currency: str) -> Money:
        return Money(int(current_app.config["KIOSK_COD_FEE_CENTS"]), currency)


class PaymentMethods:
    """The providers of one app, by code."""

    def __init__(self, providers: Iterable[Provider]) -> None:
        self._by_code = {provider.code: provider for provider in providers}

    def __getitem__(self, code: str) -> Provider:
        return self._by_code[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Provider | None:
        return self._by_code.get(code)


_REGISTRY = "kiosk.payment_methods"


def install(app: Flask, providers: Iterable[Provider]) -> None:
    """Build the app's registry (in `create_app`)."""
    app.extensions[_REGISTRY] = PaymentMethods(providers)


def registry(app: Flask | None = None) -> PaymentMethods:
    """The payment methods of this app (of the current one unless named)."""
    methods: PaymentMethods = (app or current_app).extensions[_REGISTRY]
    return methods


def _enabled_codes() -> list[str]:
    codes = list(current_app.config["KIOSK_PAYMENT_METHODS"])
    if current_app.config["STRIPE_SECRET_KEY"] and current_app.config["STRIPE_WEBHOOK_SECRET"]:
        codes.insert(0, "stripe")  # card first: what most shoppers expect
    return codes


def enabled() -> list[Provider]:
    methods = registry()
    return [methods[code] for code in _enabled_codes()]


def offered(user_id: int | None) -> list[Provider]:
    """The methods checkout offers this shopper."""
    return [provider for provider in enabled() if provider.available_for(user_id)]


def provider(code: str) -> Provider | None:
    return registry().get(code) if code in _enabled_codes() else None


def is_offline(code: str) -> bool:
    """Whether staff confirm and give back money paid by this method; an unknown code
    (a method since switched off in code) counts as offline: staff handle it by hand."""
    found = registry().get(code)
    return found is None or found.offline


def pays_after_delivery(code: str) -> bool:
    """Whether this method lets the goods go out before the money."""
    found = registry().get(code)
    return bool(found and found.pays_after_delivery)
