"""Shipping many orders at once: staff give carrier and tracking number per order, typed
on one page or read from the carrier's CSV export, and every order goes through the
lifecycle's step to "shipped" (which issues a pay-later invoice and mails the buyer).

Each order is its own unit of work: one that cannot be shipped is named with the reason
and the others go through. An order already shipped is reported as such and changes no
more, so submitting the same page twice ships each order once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _

from kiosk.accounts import services as accounts
from kiosk.audit import services as audit
from kiosk.orders import documents, lifecycle
from kiosk.orders.labels import order_status_name
from kiosk.orders.lifecycle import Actor, TransitionRefused, refusal_message
from kiosk.orders.models import Order, OrderStatus
from kiosk.orders.repository import OrderRepository
from kiosk.shipping import services as shipping
from kiosk.shipping.services import TRACKING_NUMBER
from kiosk.uow import read_session, unit_of_work
from kiosk.validation import has_control

MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 2_000


@dataclass(frozen=True)
class Shipment:
    number: str
    carrier: str = ""  # a carrier's code; "" ships without tracking
    tracking: str = ""


@dataclass
class ShipReport:
    shipped: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # number, why


def can_ship(order: Order) -> bool:
    """Whether staff may take this order to "shipped" now."""
    return lifecycle.allowed(
        order.status, OrderStatus.SHIPPED, Actor.STAFF, lifecycle.pays_after_delivery(order)
    )


def selected(numbers: Iterable[str]) -> list[Order]:
    """The chosen orders that exist, in the order chosen, each once."""
    orders, seen = OrderRepository(read_session()), set()
    found = []
    for number in numbers:
        if number in seen:
            continue
        seen.add(number)
        order = orders.by_number(number, with_lines=True)
        if order is not None:
            found.append(order)
    return found


def default_carrier(order: Order) -> str:
    """The carrier of the order's shipping method, if it names one staff may choose."""
    method = shipping.method(order.shipping_method)
    carrier = (method.carrier or "") if method else ""
    return carrier if carrier in shipping.carriers() else ""


def ship_all(shipments: Sequence[Shipment], actor_id: int) -> ShipReport:
    """Take each order to "shipped" with its carrier and number, each in its own unit of
    work; a refused order is reported with its reason and the others go on."""
    report = ShipReport()
    for shipment in shipments:
        details = {"carrier": shipment.carrier} if shipment.carrier else {}
        if shipment.carrier and shipment.tracking:
            details["tracking"] = shipment.tracking
        try:
            with unit_of_work() as session:
                order = OrderRepository(session).locked(shipment.number)
                if order.status is OrderStatus.SHIPPED:
                    report.already.append(shipment.number)
                    continue
                actor = accounts.find_user(session, actor_id)
                before = order.status
                lifecycle.change(session, order, OrderStatus.SHIPPED, Actor.STAFF, actor,
                                 **details)  # fmt: skip
                audit.record(session, "order.bulk_shipped", actor=actor, order=shipment.number,
                             before={"status": before.value},
                             after={"status": order.status.value, **details})  # fmt: skip
                order_id = order.id
        except LookupError:
            report.refused.append((shipment.number, _("There is no such order.")))
            continue
        except TransitionRefused as refused:
            report.refused.append((shipment.number, refusal_message(refused)))
            continue
        documents.complete_pending(order_id)
        report.shipped.append(shipment.number)
    return report


# The carrier's CSV --------------------------------------------------------------------

# Header names carriers and spreadsheets use, compared without case, spaces or punctuation.
COLUMNS = {
    "number": {"order", "ordernumber", "orderno", "ordernr", "number", "reference",
               "bestellung", "bestellnummer", "bestellnr", "auftrag", "auftragsnummer",
               "referenz", "kundenreferenz"},
    "carrier": {"carrier", "courier", "service", "versender", "versanddienstleister",
                "paketdienst", "dienstleister", "spediteur", "frachtfuhrer"},
    "tracking": {"tracking", "trackingnumber", "trackingno", "trackingnr", "trackingcode",
                 "trackingid", "sendungsnummer", "sendungsnr", "paketnummer",
                 "trackingnummer", "identcode", "shipmentnumber", "parcelnumber"},
}  # fmt: skip


@dataclass(frozen=True)
class CsvReading:
    shipments: list[Shipment]  # rows that can be applied
    problems: list[tuple[int, str]]  # line in the file, what is wrong


def _name(cell: str) -> str:
    return "".join(ch for ch in cell.lower() if ch.isalnum())


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, which German Excel writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _carrier_code(text: str, carriers: dict[str, shipping.Carrier]) -> str | None:
    """A carrier's code from its code or its name ("DHL", "dhl"); None if unknown."""
    wanted = _name(text)
    for carrier in carriers.values():
        if wanted in (_name(carrier.code), _name(carrier.name)):
            return carrier.code
    return None


def read_carrier_csv(data: bytes) -> CsvReading:
    """Order number, carrier and tracking number per row, checked against the shop: what
    can be shipped, and per line what cannot (a dry run; nothing is changed)."""
    if len(data) > MAX_CSV_BYTES:
        return CsvReading([], [(0, _("The file is larger than 1 MB."))])
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows:
        return CsvReading([], [(0, _("The file is empty."))])
    header = [_name(cell) for cell in rows[0]]
    where = {key: next((i for i, n in enumerate(header) if n in names), None)
             for key, names in COLUMNS.items()}  # fmt: skip
    if where["number"] is None or where["tracking"] is None:
        return CsvReading([], [(1, _("The first line must name the columns: order number, "
                                     "carrier and tracking number."))])  # fmt: skip
    if len(rows) > MAX_CSV_ROWS + 1:
        return CsvReading([], [(0, _("At most %(count)d rows at once.", count=MAX_CSV_ROWS))])
    shipments, problems, seen = [], [], set()
    orders = OrderRepository(read_session())
    carriers = shipping.carriers()  # read once, not per row
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(key: str, row: list[str] = row) -> str:
            index = where[key]
            return row[index].strip() if index is not None and index < len(row) else ""

        number, tracking = cell("number").upper(), cell("tracking")
        carrier_text = cell("carrier")
        carrier = _carrier_code(carrier_text, carriers) if carrier_text else None
        order = orders.by_number(number) if number and len(number) <= 16 else None
        if has_control(number + tracking + carrier_text):
            problems.append((line, _("The line holds control characters.")))
        elif order is None:
            problems.append((line, _("There is no order %(number)s.", number=number[:40])))
        elif number in seen:
            problems.append((line, _("Order %(number)s is in the file twice.", number=number)))
        elif carrier_text and carrier is None:
            problems.append((line, _("Unknown carrier “%(carrier)s”.", carrier=carrier_text[:40])))
        elif not TRACKING_NUMBER.fullmatch(tracking):
            problems.append((line, _("A tracking number has 4 to 40 letters, digits or hyphens.")))
        elif order.status is not OrderStatus.SHIPPED and not can_ship(order):
            state = order_status_name(order.status)
            problems.append((line, _("Order %(number)s is %(state)s and cannot be shipped.",
                                     number=number, state=state)))  # fmt: skip
        elif not (carrier := carrier or default_carrier(order)):
            problems.append((line, _("Please name the carrier of order %(number)s.",
                                     number=number)))  # fmt: skip
        else:
            seen.add(number)
            shipments.append(Shipment(number, carrier, tracking))
    read_session().rollback()
    return CsvReading(shipments, problems)
