"""Shipping methods: edited by the owner in the back office, priced for one cart.

The TOML file (`KIOSK_SHIPPING_FILE`) is the initial list: it is checked when the
app starts (`init_app`), so a typo stops the shop with a clear message instead of
surfacing at checkout (see data/shipping.toml for the format), and it is the
shop's list as long as the `shipping_method` table is empty. The owner's first
save copies the whole file into the table in the same transaction (not at
migration or start: the file belongs to the running shop's configuration, and
several workers starting at once would race to import it); from then on the
table is the list. Carriers go the same way, in their own table: the first save
of a carrier copies the file's carriers.

Everything else asks `methods()` (what checkout offers), `method(code)` (any
method, switched off ones too, so older orders find theirs), `carriers()` (what
staff ship with) and `shipment()` (any carrier, so shipped orders keep their link).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, current_app
from flask_babel import get_locale
from sqlalchemy.orm import Session

from kiosk.money import Money
from kiosk.shipping.models import CarrierRow, ShippingMethodRow
from kiosk.shipping.repository import ShippingRepository
from kiosk.uow import read_session

EU_COUNTRIES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip


class ShippingConfigError(ValueError):
    """The shipping file is malformed; the message names the method and the field."""


@dataclass(frozen=True)
class ShippingMethod:
    code: str
    names: Mapping[str, str]
    delivery: Mapping[str, str]
    countries: frozenset[str]
    kind: str  # "flat" or "weight"
    price_cents: int = 0
    tiers: tuple[tuple[int, int], ...] = ()  # (up to grams, cents), ascending
    free_above_cents: int | None = None
    carrier: str | None = None  # who usually carries it: the default when staff ship
    active: bool = True  # offered at checkout

    def name(self, locale: str) -> str:
        return self.names.get(locale) or next(iter(self.names.values()))

    def delivery_time(self, locale: str) -> str:
        return self.delivery.get(locale) or next(iter(self.delivery.values()), "")

    def cost(self, goods: Money, weight_grams: int) -> Money | None:
        """What this method costs for a cart, or None if it cannot carry it."""
        if self.kind == "weight":
            cents = next((price for limit, price in self.tiers if weight_grams <= limit), None)
            if cents is None:
                return None
        else:
            cents = self.price_cents
        if self.free_above_cents is not None and goods.cents >= self.free_above_cents:
            cents = 0
        return Money(cents, goods.currency)


@dataclass(frozen=True)
class Carrier:
    """A parcel service; its tracking page takes the number in place of `{tracking}`."""

    code: str
    name: str
    tracking_url: str
    active: bool = True  # offered when staff ship; a switched off one still links

    def tracking_link(self, number: str) -> str:
        return self.tracking_url.replace("{tracking}", quote(number, safe=""))


TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9-]{4,40}$")
CODE = re.compile(r"^[A-Za-z0-9-]{1,40}$")
MAX_TRACKING_URL = 500


def tracking_url_ok(url: str) -> bool:
    """An https address with a host and exactly one `{tracking}`: the buyer's link must
    not leave TLS, and a second placeholder would put the number where it does not go."""
    if len(url) > MAX_TRACKING_URL or url.count("{tracking}") != 1:
        return False
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # "https://[" and the like
        return False
    return parts.scheme == "https" and bool(parts.hostname) and url.startswith("https://")


def tiers_ok(tiers: Sequence[tuple[int, int]]) -> bool:
    """Weight limits above 0 and strictly rising; prices of 0 or more."""
    limits = [limit for limit, _ in tiers]
    return (
        bool(tiers)
        and all(limit > 0 and cents >= 0 for limit, cents in tiers)
        and all(a < b for a, b in pairwise(limits))
    )


@dataclass(frozen=True)
class ShippingQuote:
    method: ShippingMethod
    cost: Money


def _cents(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ShippingConfigError(f"{where} must be a whole number of cents, 0 or more")
    return raw


def _texts(raw: Any, where: str) -> dict[str, str]:
    if isinstance(raw, str):
        return {"de": raw}
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, str) for v in raw.values()):
        raise ShippingConfigError(f"{where} must be a text or a table of texts per language")
    return dict(raw)


def _countries(raw: Any, leave_out: Any, where: str) -> frozenset[str]:
    codes = list(EU_COUNTRIES) if raw == "EU" else raw
    if not isinstance(codes, list) or not codes:
        raise ShippingConfigError(f'{where}: countries must be "EU" or a list of country codes')
    unknown = [c for c in [*codes, *(leave_out or [])] if c not in EU_COUNTRIES]
    if unknown:
        raise ShippingConfigError(f"{where}: unknown or non-EU country codes {unknown}")
    return frozenset(codes) - frozenset(leave_out or [])


def parse_methods(document: Mapping[str, Any]) -> list[ShippingMethod]:
    methods = []
    for number, raw in enumerate(document.get("method", []), start=1):
        where = f"method {number} ({raw.get('code', 'no code')})"
        code = raw.get("code")
        if not isinstance(code, str) or not code.replace("-", "").isalnum() or len(code) > 40:
            raise ShippingConfigError(f"{where}: code must be letters, digits and hyphens")
        kind = raw.get("kind")
        tiers: tuple[tuple[int, int], ...] = ()
        price = 0
        if kind == "flat":
            price = _cents(raw.get("price"), f"{where}: price")
        elif kind == "weight":
            raw_tiers = raw.get("tiers")
            if not isinstance(raw_tiers, list) or not raw_tiers:
                raise ShippingConfigError(f"{where}: a weight method needs tiers")
            try:
                tiers = tuple(
                    (_cents(limit, f"{where}: tier"), _cents(cents, f"{where}: tier"))
                    for limit, cents in raw_tiers
                )
            except (TypeError, ValueError) as exc:
                raise ShippingConfigError(f"{where}: tiers are [grams, cents] pairs") from exc
            if [limit for limit, _ in tiers] != sorted({limit for limit, _ in tiers}):
                raise ShippingConfigError(f"{where}: tiers must rise in weight")
        else:
            raise ShippingConfigError(f'{where}: kind must be "flat" or "weight"')
        free_above = raw.get("free_above")
        methods.append(
            ShippingMethod(
                code=code,
                names=_texts(raw.get("name"), f"{where}: name"),
                delivery=_texts(raw.get("delivery", ""), f"{where}: delivery")
                if raw.get("delivery")
                else {},
                countries=_countries(raw.get("countries"), raw.get("except"), where),
                kind=kind,
                price_cents=price,
                tiers=tiers,
                free_above_cents=None
                if free_above is None
                else _cents(free_above, f"{where}: free_above"),
                carrier=raw.get("carrier"),
            )
        )
    if len({m.code for m in methods}) != len(methods):
        raise ShippingConfigError("two shipping methods share a code")
    if not methods:
        raise ShippingConfigError("the shipping file defines no method")
    return methods


def parse_carriers(document: Mapping[str, Any]) -> dict[str, Carrier]:
    """The carriers staff choose from when they ship; each links to its tracking page."""
    carriers: dict[str, Carrier] = {}
    for number, raw in enumerate(document.get("carrier", []), start=1):
        where = f"carrier {number} ({raw.get('code', 'no code')})"
        code, name, url = raw.get("code"), raw.get("name"), raw.get("tracking_url")
        if not isinstance(code, str) or not code.replace("-", "").isalnum() or len(code) > 40:
            raise ShippingConfigError(f"{where}: code must be letters, digits and hyphens")
        if not isinstance(name, str) or not name.strip():
            raise ShippingConfigError(f"{where}: name must be a text")
        if not isinstance(url, str) or not tracking_url_ok(url):
            raise ShippingConfigError(
                f"{where}: tracking_url must be https://… with {{tracking}} once"
            )
        if code in carriers:
            raise ShippingConfigError("two carriers share a code")
        carriers[code] = Carrier(code, name.strip(), url)
    return carriers


def load(path: Path) -> tuple[list[ShippingMethod], dict[str, Carrier]]:
    """The shipping methods and carriers of the owner's file."""
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ShippingConfigError(f"{path}: {exc}") from exc
    methods, carriers = parse_methods(document), parse_carriers(document)
    for method in methods:
        if method.carrier is not None and method.carrier not in carriers:
            raise ShippingConfigError(f"method {method.code}: unknown carrier {method.carrier!r}")
    return methods, carriers


def quotes(
    methods: Sequence[ShippingMethod], country: str, goods: Money, weight_grams: int
) -> list[ShippingQuote]:
    """The methods that deliver this cart to `country`, with their cost, cheapest first."""
    found = []
    for method in methods:
        if country not in method.countries:
            continue
        cost = method.cost(goods, weight_grams)
        if cost is not None:
            found.append(ShippingQuote(method, cost))
    return sorted(found, key=lambda q: q.cost.cents)


def destinations(methods: Sequence[ShippingMethod]) -> list[str]:
    return sorted({country for method in methods for country in method.countries})


_METHODS, _CARRIERS = "kiosk.shipping", "kiosk.carriers"


def init_app(app: Flask, path: Path) -> None:
    """Read the owner's shipping file once, at start (raises ShippingConfigError)."""
    app.extensions[_METHODS], app.extensions[_CARRIERS] = load(path)


def file_methods() -> list[ShippingMethod]:
    """The methods of the shipping file, the list until the owner first saves one."""
    found: list[ShippingMethod] = current_app.extensions[_METHODS]
    return found


def _of(row: ShippingMethodRow) -> ShippingMethod:
    return ShippingMethod(
        code=row.code,
        names=dict(row.names),
        delivery=dict(row.delivery),
        countries=frozenset(row.countries),
        kind=row.kind,
        price_cents=row.price_cents,
        tiers=tuple((limit, cents) for limit, cents in row.tiers),
        free_above_cents=row.free_above_cents,
        carrier=row.carrier,
        active=row.active,
    )


def all_methods(session: Session | None = None) -> list[ShippingMethod]:
    """Every method in the owner's order, switched off ones too."""
    rows = ShippingRepository(session or read_session()).all()
    return [_of(row) for row in rows] if rows else file_methods()


def methods() -> list[ShippingMethod]:
    """The methods checkout offers."""
    return [m for m in all_methods() if m.active]


def file_carriers() -> dict[str, Carrier]:
    """The carriers of the shipping file, the list until the owner first saves one."""
    found: dict[str, Carrier] = current_app.extensions[_CARRIERS]
    return found


def _carrier_of(row: CarrierRow) -> Carrier:
    return Carrier(row.code, row.name, row.tracking_url, row.active)


def all_carriers(session: Session | None = None) -> dict[str, Carrier]:
    """Every carrier by code in the owner's order, switched off ones too."""
    rows = ShippingRepository(session or read_session()).carriers()
    return {row.code: _carrier_of(row) for row in rows} if rows else dict(file_carriers())


def carriers() -> dict[str, Carrier]:
    """The carriers staff choose from when they ship, by code."""
    return {code: found for code, found in all_carriers().items() if found.active}


def method(code: str) -> ShippingMethod | None:
    """A method by its code, also one that is switched off (an older order's)."""
    return next((m for m in all_methods() if m.code == code), None)


@dataclass(frozen=True)
class MethodTerms:
    """What the owner sets of a method; only its code (stored with orders) stays."""

    names: Mapping[str, str]
    delivery: Mapping[str, str]
    countries: frozenset[str]
    kind: str
    price_cents: int
    tiers: tuple[tuple[int, int], ...]
    free_above_cents: int | None
    carrier: str | None
    active: bool
    position: int


def describe(method: ShippingMethod, position: int) -> dict[str, Any]:
    """A method's terms as the audit log keeps them before and after a change."""
    return {
        "names": dict(method.names),
        "delivery": dict(method.delivery),
        "countries": sorted(method.countries),
        "kind": method.kind,
        "price_cents": method.price_cents,
        "tiers": [list(tier) for tier in method.tiers],
        "free_above_cents": method.free_above_cents,
        "carrier": method.carrier,
        "active": method.active,
        "position": position,
    }


def _import_file(repository: ShippingRepository) -> None:
    """The shipping file's methods as the table's first rows (the owner's first save)."""
    for position, found in enumerate(file_methods(), start=1):
        repository.add(
            ShippingMethodRow(
                code=found.code,
                position=position * 10,
                active=True,
                names=dict(found.names),
                delivery=dict(found.delivery),
                countries=sorted(found.countries),
                kind=found.kind,
                price_cents=found.price_cents,
                tiers=[list(tier) for tier in found.tiers],
                free_above_cents=found.free_above_cents,
                carrier=found.carrier,
            )
        )


def position_of(code: str) -> int:
    """Where a method stands in the owner's order (the file's order before the first save)."""
    row = ShippingRepository(read_session()).by_code(code)
    if row is not None:
        return row.position
    codes = [m.code for m in file_methods()]
    return (codes.index(code) + 1) * 10 if code in codes else 0


def change_method(
    session: Session, code: str, terms: MethodTerms
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Set a method's terms, importing the file first if nothing is stored yet. Returns
    (before, after), or None when nothing changed (LookupError: no such method;
    ShippingConfigError: an unknown carrier or country, a wrong kind or tiers)."""
    repository = ShippingRepository(session)
    if not repository.all():
        _import_file(repository)
    row = repository.by_code(code)
    if row is None:
        raise LookupError(code)
    if terms.carrier is not None and terms.carrier not in all_carriers(session):
        raise ShippingConfigError(f"unknown carrier {terms.carrier!r}")
    if not terms.countries or not terms.countries <= frozenset(EU_COUNTRIES):
        raise ShippingConfigError("countries must be EU member states")
    if terms.kind not in ("flat", "weight") or (terms.tiers and not tiers_ok(terms.tiers)):
        raise ShippingConfigError('kind must be "flat" or "weight", tiers rising in weight')
    if terms.kind == "weight" and not terms.tiers:
        raise ShippingConfigError("a weight method needs tiers")
    before = describe(_of(row), row.position)
    row.names, row.delivery = dict(terms.names), dict(terms.delivery)
    row.countries = sorted(terms.countries)
    row.kind, row.tiers = terms.kind, [list(tier) for tier in terms.tiers]
    row.price_cents, row.free_above_cents = terms.price_cents, terms.free_above_cents
    row.carrier, row.active, row.position = terms.carrier, terms.active, terms.position
    after = describe(_of(row), row.position)
    if after == before:
        return None
    session.flush()
    return before, after


def shipment(carrier: str, number: str) -> tuple[str, str | None]:
    """A carrier's name and the link to its tracking page for this number.

    Orders keep the carrier's code; a switched off carrier still links, and a code no
    carrier has (typed by hand before there was a list) shows as stored, without a link.
    """
    known = all_carriers().get(carrier)
    if known is None:
        return carrier, None
    return known.name, known.tracking_link(number)


@dataclass(frozen=True)
class CarrierTerms:
    """What the owner sets of a carrier; its code stays, since shipped orders keep it."""

    name: str
    tracking_url: str
    active: bool


class CarrierCodeTaken(ValueError):
    """Another carrier has this code already."""


def describe_carrier(found: Carrier) -> dict[str, Any]:
    """A carrier as the audit log keeps it before and after a change."""
    return {"name": found.name, "tracking_url": found.tracking_url, "active": found.active}


def _check_carrier(terms: CarrierTerms) -> None:
    if not terms.name.strip() or len(terms.name) > 100:
        raise ShippingConfigError("a carrier needs a name of up to 100 characters")
    if not tracking_url_ok(terms.tracking_url):
        raise ShippingConfigError("tracking_url must be https://… with {tracking} once")


def _import_carriers(repository: ShippingRepository) -> None:
    """The shipping file's carriers as the table's first rows (the owner's first save)."""
    for position, found in enumerate(file_carriers().values(), start=1):
        repository.add(
            CarrierRow(
                code=found.code,
                position=position * 10,
                active=True,
                name=found.name,
                tracking_url=found.tracking_url,
            )
        )


def _stored_carriers(session: Session) -> ShippingRepository:
    repository = ShippingRepository(session)
    if not repository.carriers():
        _import_carriers(repository)
    return repository


def add_carrier(session: Session, code: str, terms: CarrierTerms) -> dict[str, Any]:
    """A new carrier after the others, importing the file first if nothing is stored yet;
    what the audit log keeps of it (CarrierCodeTaken, ShippingConfigError)."""
    if not CODE.fullmatch(code):
        raise ShippingConfigError("a carrier's code is letters, digits and hyphens")
    _check_carrier(terms)
    repository = _stored_carriers(session)
    if repository.carrier_by_code(code) is not None:
        raise CarrierCodeTaken(code)
    last = max((row.position for row in repository.carriers()), default=0)
    row = CarrierRow(
        code=code,
        position=last + 10,
        active=terms.active,
        name=terms.name,
        tracking_url=terms.tracking_url,
    )
    repository.add(row)
    return describe_carrier(_carrier_of(row))


def change_carrier(
    session: Session, code: str, terms: CarrierTerms
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Set a carrier's name, tracking page and whether staff may choose it, importing the
    file first if nothing is stored yet. Returns (before, after), or None when nothing
    changed (LookupError: no such carrier; ShippingConfigError)."""
    _check_carrier(terms)
    repository = _stored_carriers(session)
    row = repository.carrier_by_code(code)
    if row is None:
        raise LookupError(code)
    before = describe_carrier(_carrier_of(row))
    row.name, row.tracking_url, row.active = terms.name, terms.tracking_url, terms.active
    after = describe_carrier(_carrier_of(row))
    if after == before:
        return None
    session.flush()
    return before, after


def country_options() -> list[tuple[str, str]]:
    """The shipping countries with their names in the page's language, by name."""
    names = get_locale().territories if get_locale() else {}
    return sorted(((code, names.get(code, code)) for code in EU_COUNTRIES), key=lambda c: c[1])
