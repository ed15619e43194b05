"""Forms of the owner's settings and of coupons: each checks what the shop would refuse later
(a VAT ID's format, an IBAN's check digits, a coupon's value), at its field, keeping the input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parseaddr
from itertools import pairwise
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, Field, StringField, TextAreaField
from wtforms.validators import AnyOf, Email, InputRequired, Length, Optional, ValidationError

from kiosk.backoffice.shop_settings import ShopValues
from kiosk.coupons import services as coupons
from kiosk.coupons.models import Coupon, CouponKind
from kiosk.invoicing import seller as sellers
from kiosk.money import Money, parse_decimal_percent
from kiosk.shipping import services as shipping
from kiosk.validation import Form, InputProblem, IntegerField, OutOfRange, parse_amount, strip

NAME_NEEDED = _l("Please enter the seller's name, as invoices print it.")
ADDRESS_NEEDED = _l("Please enter the seller's postal address.")
HOLDER_NEEDED = _l("Please enter the account holder.")
IBAN_NEEDED = _l("Please enter the IBAN that buyers transfer to.")
EMAIL_NEEDED = _l("Please enter the email address buyers can write to.")


class SellerForm(Form):
    """The seller's details for invoices; a save becomes a new version."""

    name = StringField(
        _l("Seller name"), filters=[strip], validators=[InputRequired(NAME_NEEDED), Length(max=200)]
    )
    address = TextAreaField(
        _l("Address"),
        filters=[strip],
        validators=[InputRequired(ADDRESS_NEEDED), Length(max=500)],
    )
    vat_id = StringField(_l("VAT ID"), filters=[strip], validators=[Length(max=30)])
    tax_number = StringField(_l("Tax number"), filters=[strip], validators=[Length(max=40)])
    account_holder = StringField(
        _l("Account holder"),
        filters=[strip],
        validators=[InputRequired(HOLDER_NEEDED), Length(max=200)],
    )
    iban = StringField(
        "IBAN", filters=[strip], validators=[InputRequired(IBAN_NEEDED), Length(max=42)]
    )
    bic = StringField("BIC", filters=[strip], validators=[Length(max=14)])
    bank_name = StringField(_l("Bank"), filters=[strip], validators=[Length(max=200)])
    email = EmailField(
        _l("Contact email"),
        filters=[strip],
        validators=[InputRequired(EMAIL_NEEDED), Email(EMAIL_NEEDED), Length(max=254)],
    )
    invoice_footer = TextAreaField(
        _l("Invoice footer"), filters=[strip], validators=[Length(max=1000)]
    )

    def validate_vat_id(self, field: Field) -> None:
        vat_id = sellers.compact(field.data or "")
        if not vat_id and not sellers.compact(self.tax_number.data or ""):
            # §14 Abs. 4 Nr. 2 UStG: an invoice names the VAT ID or the tax number.
            raise ValidationError(_l("Please enter the VAT ID or the tax number."))
        if vat_id and not sellers.vat_id_ok(vat_id):
            raise ValidationError(
                _l(
                    "This is not a VAT ID of an EU country: a country code and its digits, "
                    "such as DE123456789."
                )
            )

    def validate_iban(self, field: Field) -> None:
        if not sellers.iban_ok(sellers.compact(field.data or "")):
            raise ValidationError(
                _l("This IBAN is not valid; please check it, such as DE89 3704 0044 0532 0130 00.")
            )

    def validate_bic(self, field: Field) -> None:
        bic = sellers.compact(field.data or "")
        if bic and not sellers.bic_ok(bic):
            raise ValidationError(_l("A BIC has 8 or 11 letters and digits, such as COBADEFFXXX."))

    def seller(self) -> sellers.Seller:
        """The details as stored: codes compact and upper case, lines without padding."""
        address = "\n".join(
            line.strip() for line in (self.address.data or "").splitlines() if line.strip()
        )
        return sellers.Seller(
            name=self.name.data or "",
            address=address,
            vat_id=sellers.compact(self.vat_id.data or ""),
            tax_number=self.tax_number.data or "",
            account_holder=self.account_holder.data or "",
            iban=sellers.compact(self.iban.data or ""),
            bic=sellers.compact(self.bic.data or ""),
            bank_name=self.bank_name.data or "",
            email=self.email.data or "",
            invoice_footer=(self.invoice_footer.data or "").replace("\r\n", "\n"),
        )


def _amount_at_field(text: str | None, message: Any = None) -> Money:
    """An amount typed into a field, in the shop's currency; the problem at the field."""
    try:
        return parse_amount(text, current_app.config["KIOSK_CURRENCY"])
    except OutOfRange as exc:
        raise ValidationError(str(exc)) from exc
    except InputProblem as exc:
        raise ValidationError(message or AMOUNT_FORMAT_OR_ZERO) from exc


AMOUNT_FORMAT_OR_ZERO = _l("Please enter an amount such as 4.90 (0 for free).")
CODE_FORMAT = _l("A code has 1 to 40 letters, digits and hyphens, such as WINTER-10.")
PERCENT_FORMAT = _l("Please enter a percentage between 0.01 and 99.99, such as 10 or 12.5.")
AMOUNT_FORMAT = _l("Please enter an amount of more than 0, such as 5 or 7.50.")
MOMENT_FORMAT = _l("Please enter a date and time such as 2026-12-24 18:00.")


def _local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _moment(text: str | None) -> datetime | None:
    """A date or date and time in the shop's time zone (as the CLI reads it), as UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(MOMENT_FORMAT) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_local_zone())
    return moment.astimezone(UTC)


def _local_input(moment: datetime | None) -> str:
    """A stored moment as the value of a `datetime-local` field in the shop's time zone."""
    return moment.astimezone(_local_zone()).strftime("%Y-%m-%dT%H:%M") if moment else ""


class CouponForm(Form):
    """A coupon's terms, checked as `flask kiosk create-coupon` checks them."""

    code = StringField(
        _l("Code"), filters=[strip], validators=[InputRequired(CODE_FORMAT), Length(max=60)]
    )
    # A select in the page; a plain field here (WTForms deprecates tuples as choices).
    kind_choices: ClassVar[list[tuple[str, Any]]] = [
        (CouponKind.PERCENT.value, _l("Percentage off the items")),
        (CouponKind.FIXED.value, _l("Fixed amount off the items")),
    ]
    kind = StringField(
        _l("Kind of discount"),
        default=CouponKind.PERCENT.value,
        validators=[AnyOf([value for value, _label in kind_choices], _l("Please choose one."))],
    )
    value = StringField(
        _l("Discount"),
        filters=[strip],
        validators=[InputRequired(_l("Please enter the discount.")), Length(max=20)],
    )
    min_order = StringField(
        _l("Minimum value of the items"), filters=[strip], default="0", validators=[Length(max=20)]
    )
    valid_from = StringField(_l("Valid from"), filters=[strip], validators=[Length(max=30)])
    valid_until = StringField(
        _l("Valid until (not included)"), filters=[strip], validators=[Length(max=30)]
    )
    max_uses = IntegerField(_l("Uses in total"), [Optional()], minimum=1)
    max_uses_per_customer = IntegerField(_l("Uses per customer"), [Optional()], minimum=1)

    def validate_code(self, field: Field) -> None:
        code = coupons.normalise(field.data or "")
        if not code or len(code) > 40 or not code.replace("-", "").isalnum():
            raise ValidationError(CODE_FORMAT)

    def validate_value(self, field: Field) -> None:
        if self.kind.data != CouponKind.PERCENT.value:
            if self._amount(field.data).cents <= 0:
                raise ValidationError(AMOUNT_FORMAT)
            return
        try:
            basis_points = parse_decimal_percent(field.data or "")
        except (ValueError, ArithmeticError) as exc:  # ArithmeticError: "NaN", "1E+999999"
            raise ValidationError(PERCENT_FORMAT) from exc
        if basis_points <= 0:
            raise ValidationError(PERCENT_FORMAT)

    def validate_min_order(self, field: Field) -> None:
        self._amount(field.data or "0")

    def validate_valid_from(self, field: Field) -> None:
        _moment(field.data)

    def validate_valid_until(self, field: Field) -> None:
        until = _moment(field.data)
        try:
            start = _moment(self.valid_from.data)
        except ValidationError:
            return  # said at its own field
        if start and until and until <= start:
            raise ValidationError(_l("The end of validity must come after its start."))

    def _amount(self, text: str | None) -> Money:
        return _amount_at_field(text, AMOUNT_FORMAT)

    def coupon(self) -> coupons.NewCoupon:
        """The terms as the coupons domain takes them (call after `validate`)."""
        kind = CouponKind(self.kind.data)
        value = (
            parse_decimal_percent(self.value.data or "")
            if kind is CouponKind.PERCENT
            else self._amount(self.value.data).cents
        )
        return coupons.NewCoupon(
            code=self.code.data or "",
            kind=kind,
            value=value,
            currency=current_app.config["KIOSK_CURRENCY"],
            min_order_cents=self._amount(self.min_order.data or "0").cents,
            valid_from=_moment(self.valid_from.data),
            valid_until=_moment(self.valid_until.data),
            max_uses=self.max_uses.data,
            max_uses_per_customer=self.max_uses_per_customer.data,
        )

    @classmethod
    def of(cls, coupon: Coupon) -> CouponForm:
        """The form filled with a stored coupon's terms, for editing."""
        value = (
            f"{Decimal(coupon.value) / 100:.2f}"
            if coupon.kind is CouponKind.PERCENT
            else Money(coupon.value, coupon.currency).plain()
        )
        return cls(
            formdata=None,
            data={
                "code": coupon.code,
                "kind": coupon.kind.value,
                "value": value,
                "min_order": Money(coupon.min_order_cents, coupon.currency).plain(),
                "valid_from": _local_input(coupon.valid_from),
                "valid_until": _local_input(coupon.valid_until),
                "max_uses": coupon.max_uses,
                "max_uses_per_customer": coupon.max_uses_per_customer,
            },
        )


COUNTRIES_FORMAT = _l(
    'Please list EU country codes separated by commas, such as "DE, AT", or write "EU".'
)


MAX_TIERS = 30
EMPTY_TIER_ROWS = 2  # rows to add tiers without JavaScript
GRAMS_FORMAT = _l("Please enter the weight in grams, a whole number from 1, such as 2000.")
TIER_PRICE_FORMAT = _l("Please enter the price of this tier, such as 12.90 (0 for free).")
_TIER_FIELD = re.compile(r"tiers-(\d{1,2})-(?:grams|price)")


class TierForm(Form):
    """One weight tier: parcels up to this many grams cost this much."""

    grams = IntegerField(_l("Up to grams"), [Optional()], minimum=1)
    price = StringField(_l("Price"), filters=[strip], validators=[Length(max=20)])

    def __init__(self, number: int, **kwargs: Any) -> None:
        super().__init__(prefix=f"tiers-{number}", meta={"csrf": False}, **kwargs)
        self.number = number + 1
        self.summary_prefix = _l("Tier %(number)d", number=self.number)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        if self._grams_typed() or not self.price.data:
            return valid
        self.grams.errors = [*self.grams.errors, GRAMS_FORMAT]  # a price needs its weight
        return False

    def validate_price(self, field: Field) -> None:
        if field.data:
            _amount_at_field(field.data, TIER_PRICE_FORMAT)
        elif self.grams.data is not None:
            raise ValidationError(TIER_PRICE_FORMAT)

    def _grams_typed(self) -> bool:
        raw = self.grams.raw_data
        if raw is None:  # filled from stored tiers
            return self.grams.data is not None
        return bool(raw) and isinstance(raw[0], str) and bool(raw[0].strip())

    def is_empty(self) -> bool:
        return not self._grams_typed() and not self.price.data

    def tier(self) -> tuple[int, int]:
        return self.grams.data or 0, _amount_at_field(self.price.data).cents


class ShippingMethodForm(Form):
    """A shipping method's terms; only its code stays as the shipping file made it. A flat
    method takes its price, a weight method its tiers (up to grams, price), ascending."""

    name_de = StringField(
        _l("Name (German)"),
        filters=[strip],
        validators=[InputRequired(_l("Please enter the name shoppers see.")), Length(max=100)],
    )
    name_en = StringField(_l("Name (English)"), filters=[strip], validators=[Length(max=100)])
    delivery_de = StringField(
        _l("Delivery time (German)"), filters=[strip], validators=[Length(max=100)]
    )
    delivery_en = StringField(
        _l("Delivery time (English)"), filters=[strip], validators=[Length(max=100)]
    )
    countries = StringField(
        _l("Countries"),
        filters=[strip],
        validators=[InputRequired(COUNTRIES_FORMAT), Length(max=200)],
    )
    # A select in the page; a plain field here (WTForms deprecates tuples as choices).
    kind_choices: ClassVar[list[tuple[str, Any]]] = [
        ("flat", _l("One price")),
        ("weight", _l("By weight (tiers below)")),
    ]
    kind = StringField(
        _l("Priced"),
        default="flat",
        validators=[AnyOf([value for value, _label in kind_choices], _l("Please choose one."))],
    )
    price = StringField(_l("Price"), filters=[strip], validators=[Length(max=20)])
    free_above = StringField(
        _l("Free from an order value of"), filters=[strip], validators=[Length(max=20)]
    )
    carrier = StringField(_l("Carrier"), filters=[strip], validators=[Length(max=40)])
    active = BooleanField(_l("Offered at checkout"))
    position = IntegerField(_l("Position in the list"), [Optional()], minimum=0, maximum=100_000)

    def __init__(
        self,
        current_carrier: str | None = None,
        tiers: list[tuple[int, int]] | None = None,
        add_tier: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        choices = {code: found.name for code, found in shipping.carriers().items()}
        off = shipping.all_carriers().get(current_carrier or "")
        if off is not None and off.code not in choices:  # kept until the owner picks another
            choices[off.code] = _l("%(name)s (switched off)", name=off.name)
        self.carrier_choices = [("", _l("None")), *choices.items()]
        self.tier_rows = self._tier_rows(tiers or [], add_tier)
        self.added_tier = add_tier

    def _tier_rows(self, tiers: list[tuple[int, int]], add_tier: bool) -> list[TierForm]:
        """The posted rows (kept as typed), or the stored tiers and some empty rows."""
        if self.is_submitted():
            numbers = {int(m.group(1)) for m in map(_TIER_FIELD.fullmatch, request.form) if m}
            count = min(max(numbers, default=0) + 1, MAX_TIERS)
            rows = [TierForm(number) for number in range(count)]
        else:
            currency = current_app.config["KIOSK_CURRENCY"]
            rows = [
                TierForm(n, formdata=None, data={"grams": g, "price": Money(c, currency).plain()})
                for n, (g, c) in enumerate(tiers[:MAX_TIERS])
            ]
            for _ in range(EMPTY_TIER_ROWS):
                if len(rows) < MAX_TIERS:
                    rows.append(TierForm(len(rows), formdata=None))
        if add_tier and len(rows) < MAX_TIERS:
            rows.append(TierForm(len(rows), formdata=None))
        return rows

    def can_add_tier(self) -> bool:
        return len(self.tier_rows) < MAX_TIERS

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        rows_valid = all([row.validate() for row in self.tier_rows])
        return self._tiers_rise() and valid and rows_valid

    def _tiers_rise(self) -> bool:
        """Each filled row weighs more than the one before; a weight method has one."""
        filled = [row for row in self.tier_rows if row.grams.data is not None]
        for before, row in pairwise(filled):
            if (row.grams.data or 0) <= (before.grams.data or 0):
                message = _l("Each tier must weigh more than the tier above it.")
                row.grams.errors = [*row.grams.errors, message]
                return False
        if self.kind.data == "weight" and all(row.is_empty() for row in self.tier_rows):
            first = self.tier_rows[0].grams  # there is always one row
            first.errors = [*first.errors, _l("A method priced by weight needs at least one tier.")]
            return False
        return True

    def validate_countries(self, field: Field) -> None:
        self.country_set()

    def validate_price(self, field: Field) -> None:
        if self.kind.data == "flat" and not field.data:
            raise ValidationError(_l("Please enter the price, such as 4.90."))
        if field.data:
            _amount_at_field(field.data)

    def validate_free_above(self, field: Field) -> None:
        if field.data:
            _amount_at_field(field.data)

    def validate_carrier(self, field: Field) -> None:
        if field.data and field.data not in dict(self.carrier_choices):
            raise ValidationError(_l("Please choose one."))

    def country_set(self) -> frozenset[str]:
        text = (self.countries.data or "").upper()
        if text.strip() == "EU":
            return frozenset(shipping.EU_COUNTRIES)
        codes = frozenset(code for code in re.split(r"[\s,;]+", text) if code)
        if not codes or not codes <= frozenset(shipping.EU_COUNTRIES):
            raise ValidationError(COUNTRIES_FORMAT)
        return codes

    def terms(self, position: int) -> shipping.MethodTerms:
        """The terms as the shipping domain takes them (call after `validate`)."""
        names = {"de": self.name_de.data or ""}
        if self.name_en.data:
            names["en"] = self.name_en.data
        delivery = {
            language: text
            for language, text in (("de", self.delivery_de.data), ("en", self.delivery_en.data))
            if text
        }
        return shipping.MethodTerms(
            names=names,
            delivery=delivery,
            countries=self.country_set(),
            kind=self.kind.data or "flat",
            price_cents=_amount_at_field(self.price.data).cents if self.price.data else 0,
            tiers=tuple(row.tier() for row in self.tier_rows if not row.is_empty()),
            free_above_cents=_amount_at_field(self.free_above.data).cents
            if self.free_above.data
            else None,
            carrier=self.carrier.data or None,
            active=bool(self.active.data),
            position=position if self.position.data is None else self.position.data,
        )

    @classmethod
    def of(cls, method: shipping.ShippingMethod, position: int) -> ShippingMethodForm:
        """The form filled with a method's terms."""
        currency = current_app.config["KIOSK_CURRENCY"]
        countries = sorted(method.countries)
        price = method.price_cents
        return cls(
            method.carrier,
            list(method.tiers),
            formdata=None,
            data={
                "name_de": method.names.get("de", ""),
                "name_en": method.names.get("en", ""),
                "delivery_de": method.delivery.get("de", ""),
                "delivery_en": method.delivery.get("en", ""),
                "countries": ", ".join(countries),
                "kind": method.kind,
                "price": ""
                if method.kind == "weight" and not price
                else Money(price, currency).plain(),
                "free_above": Money(method.free_above_cents, currency).plain()
                if method.free_above_cents is not None
                else "",
                "carrier": method.carrier or "",
                "active": method.active,
                "position": position,
            },
        )


CARRIER_CODE_FORMAT = _l("A code has 1 to 40 letters, digits and hyphens, such as hermes.")
TRACKING_URL_FORMAT = _l(
    "Please enter the carrier's tracking address starting with https:// and holding "
    "{tracking} exactly once, where the tracking number goes."
)


class CarrierForm(Form):
    """A carrier staff ship with: its tracking page takes the number in place of {tracking}.
    The code is set once, when the carrier is created: shipped orders keep it."""

    code = StringField(
        _l("Code"),
        filters=[strip],
        validators=[InputRequired(CARRIER_CODE_FORMAT), Length(max=40)],
    )
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[InputRequired(_l("Please enter the carrier's name.")), Length(max=100)],
    )
    tracking_url = StringField(
        _l("Tracking address"),
        filters=[strip],
        validators=[InputRequired(TRACKING_URL_FORMAT), Length(max=shipping.MAX_TRACKING_URL)],
    )
    active = BooleanField(_l("Offered when shipping orders"), default=True)

    def __init__(self, creating: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.creating = creating
        if not creating:
            del self["code"]  # the edit page shows it as text

    def validate_code(self, field: Field) -> None:
        code = (field.data or "").lower()
        # "new" would be the address of the page that creates carriers
        if not shipping.CODE.fullmatch(code) or code == "new":
            raise ValidationError(CARRIER_CODE_FORMAT)

    def validate_tracking_url(self, field: Field) -> None:
        if not shipping.tracking_url_ok(field.data or ""):
            raise ValidationError(TRACKING_URL_FORMAT)

    def new_code(self) -> str:
        return (self.code.data or "").lower()

    def terms(self) -> shipping.CarrierTerms:
        return shipping.CarrierTerms(
            name=self.name.data or "",
            tracking_url=self.tracking_url.data or "",
            active=bool(self.active.data),
        )

    @classmethod
    def of(cls, carrier: shipping.Carrier) -> CarrierForm:
        data = {
            "name": carrier.name,
            "tracking_url": carrier.tracking_url,
            "active": carrier.active,
        }
        return cls(False, formdata=None, data=data)


# No angle brackets in the text: translated texts are marked safe HTML.
SENDER_FORMAT = _l(
    "Please enter the sender's email address, such as shop@example.org; a name may come "
    "first, with the address in angle brackets."
)
EMAIL_SHAPE = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


class ShopForm(Form):
    """The shop's name, the sender of its mail, and the most staff may refund at once."""

    shop_name = StringField(
        _l("Shop name"),
        filters=[strip],
        validators=[InputRequired(_l("Please enter the shop's name.")), Length(max=100)],
    )
    mail_from = StringField(
        _l("Mail sender"),
        filters=[strip],
        validators=[InputRequired(SENDER_FORMAT), Length(max=254)],
    )
    refund_limit = StringField(
        _l("Refund limit for staff"), filters=[strip], validators=[Length(max=20)]
    )

    def validate_mail_from(self, field: Field) -> None:
        name, address = parseaddr(field.data or "")
        if not address or not EMAIL_SHAPE.fullmatch(address) or '"' in name:
            raise ValidationError(SENDER_FORMAT)

    def validate_refund_limit(self, field: Field) -> None:
        if field.data:
            _amount_at_field(field.data)

    def values(self) -> ShopValues:
        limit = self.refund_limit.data
        return ShopValues(
            shop_name=self.shop_name.data or "",
            mail_from=self.mail_from.data or "",
            refund_limit_cents=_amount_at_field(limit).cents if limit else None,
        )

    @classmethod
    def of(cls, values: ShopValues) -> ShopForm:
        limit = values.refund_limit_cents
        currency = current_app.config["KIOSK_CURRENCY"]
        return cls(
            formdata=None,
            data={
                "shop_name": values.shop_name,
                "mail_from": values.mail_from,
                "refund_limit": Money(limit, currency).plain() if limit is not None else "",
            },
        )
