"""Stock alerts: low stock to staff, and "back in stock" to shoppers who asked.

`inventory` calls `stock_changed` in its own transaction after an UPDATE has
changed a product's counters. The counters are read back in that transaction
(the row is locked by then, or on SQLite the write lock is held), so "before"
is exact and two transactions can never both see the same crossing. Mails go
to the outbox with the change that caused them.

A request to be told is a `StockAlert`. A guest's counts once confirmed
through a signed link (double opt-in); an account with a verified address
counts at once. The link is single-use without a token table, like the
account links (`tokens`): it carries a fingerprint of the request's state,
which confirming changes.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.accounts import services as accounts
from kiosk.accounts.models import normalise_email
from kiosk.accounts.services import mail_staff
from kiosk.accounts.tokens import TokenError, TokenProblem
from kiosk.catalog import services as catalog
from kiosk.inventory.models import StockAlert
from kiosk.inventory.repository import StockAlertRepository, StockRepository
from kiosk.mail.services import queue_mail
from kiosk.orm import utcnow
from kiosk.uow import read_session, unit_of_work
from kiosk.urls import external_url

CONFIRM_MAX_AGE = 72 * 3600  # like the newsletter opt-in


@dataclass(frozen=True)
class _Level:
    name: str
    sku: str
    slug: str
    available: int
    reorder_level: int


def _level(session: Session, product_id: int) -> _Level | None:
    row = StockRepository(session).level(product_id)
    return None if row is None else _Level(*row)


def stock_changed(session: Session, product_id: int, change: int) -> None:
    """React to available stock having moved by `change` to its current value.

    A sale does not change available stock (the hold already did); inventory
    passes the sold quantity as the change, so the sale that makes a hold
    final is the one that crosses. Holds come and go; a sale is what staff
    must reorder for.
    """
    if change == 0:
        return
    level = _level(session, product_id)
    if level is None:
        return
    before = level.available - change
    if 0 < level.reorder_level <= before and level.available < level.reorder_level:
        _mail_staff(session, level)
    if before <= 0 < level.available:
        _mail_subscribers(session, product_id, level)


def _mail_staff(session: Session, level: _Level) -> None:
    url = external_url("catalog.product", slug=level.slug)
    mail_staff(session, "stock_low", product=level, product_url=url)


def _mail_subscribers(session: Session, product_id: int, level: _Level) -> None:
    requests = StockAlertRepository(session)
    due = requests.due(product_id)
    if not due:
        return
    url = external_url("catalog.product", slug=level.slug)
    now = utcnow()
    for alert in due:
        # Conditional, so a request is mailed once even if two restocks race.
        if requests.claim(alert.id, now):
            queue_mail(
                session,
                alert.email,
                "back_in_stock",
                alert.locale,
                product=level,
                product_url=url,
                email=alert.email,
            )


# Asking to be told ------------------------------------------------------------------


class AlertRequest(enum.StrEnum):
    SUBSCRIBED = "subscribed"  # a verified account: on the list now
    CONFIRM_SENT = "confirm-sent"  # a link to confirm went out, unless already on the list
    IN_STOCK = "in-stock"  # nothing to wait for


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kiosk.stock-alert")


def _fingerprint(alert: StockAlert) -> str:
    state = (alert.email, alert.created_at, alert.confirmed_at, alert.notified_at)
    return hashlib.sha256(repr(state).encode()).hexdigest()[:20]


def make_confirm_token(alert: StockAlert) -> str:
    return _serializer().dumps({"a": alert.id, "f": _fingerprint(alert)})


def _alert_for_token(session: Session, token: str) -> StockAlert:
    try:
        payload = _serializer().loads(token, max_age=CONFIRM_MAX_AGE)
    except SignatureExpired as exc:
        raise TokenError(TokenProblem.EXPIRED) from exc
    except BadSignature as exc:
        raise TokenError(TokenProblem.INVALID) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), int):
        raise TokenError(TokenProblem.INVALID)
    alert = StockAlertRepository(session).get(payload["a"])
    if alert is None:
        raise TokenError(TokenProblem.INVALID)
    if payload.get("f") != _fingerprint(alert):
        raise TokenError(TokenProblem.USED)
    return alert


def _find_or_add(session: Session, product_id: int, email: str, locale: str) -> StockAlert:
    """The one request for this address and product; a parallel duplicate finds the first."""
    requests = StockAlertRepository(session)
    alert = requests.of(product_id, email)
    if alert is not None:
        return alert
    try:
        with session.begin_nested():
            alert = requests.add(StockAlert(product_id=product_id, email=email, locale=locale))
    except IntegrityError:
        found = requests.of(product_id, email)
        assert found is not None
        return found
    return alert


def request_alert(
    product_id: int, email: str | None, user_id: int | None, locale: str
) -> AlertRequest:
    """Put an address on a sold-out product's list: at once for a verified account,
    else after the emailed link is opened. The answer is the same whether or not
    the address was already on it."""
    with unit_of_work() as session:
        product = catalog.find_product(session, product_id)
        if product is None or not product.is_active:
            raise LookupError(product_id)
        if product.stock_available > 0:
            return AlertRequest.IN_STOCK
        user = accounts.find_user(session, user_id) if user_id is not None else None
        if user is not None:
            email = user.email
        if not email:
            raise ValueError("an email address is needed")
        alert = _find_or_add(session, product_id, normalise_email(email), locale)
        if user is not None:
            alert.user_id = user.id
        if alert.notified_at is not None:  # told once already: a new request starts over
            alert.created_at, alert.confirmed_at, alert.notified_at = utcnow(), None, None
        if user is not None and user.is_verified:
            alert.locale = locale
            alert.confirmed_at = alert.confirmed_at or utcnow()
            return AlertRequest.SUBSCRIBED
        if alert.confirmed_at is None:
            alert.locale = locale
            session.flush()
            queue_mail(
                session,
                alert.email,
                "stock_alert_confirm",
                locale,
                product=product,
                email=alert.email,
                product_url=external_url("catalog.product", slug=product.slug),
                confirm_url=external_url(
                    "catalog.confirm_stock_alert", token=make_confirm_token(alert)
                ),
            )
        return AlertRequest.CONFIRM_SENT


@dataclass(frozen=True)
class Confirmed:
    product_name: str
    product_slug: str
    in_stock: bool  # back already: no mail will follow, the page says so


def confirm_alert(token: str) -> Confirmed:
    """The link from the opt-in mail: the request counts from now (raises TokenError)."""
    with unit_of_work() as session:
        alert = _alert_for_token(session, token)
        alert.confirmed_at = utcnow()
        product = alert.product
        in_stock = product.stock_available > 0
        if in_stock:
            alert.notified_at = alert.confirmed_at
        return Confirmed(product.name, product.slug, in_stock)


def alerts_of_user(user_id: int) -> list[StockAlert]:
    """What an account asked to be told about, for staff's customer page."""
    return StockAlertRepository(read_session()).of_user(user_id)
