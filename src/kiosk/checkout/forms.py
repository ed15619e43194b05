"""Forms of the checkout steps. Each step's data forms skip CSRF; the step's EmptyForm checks it."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import Email, InputRequired, Length

from kiosk.account.forms import AddressForm
from kiosk.auth.forms import strip

NO_CSRF: dict[str, Any] = {"csrf": False}


class ContactForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        filters=[strip],
        validators=[InputRequired(), Email(), Length(max=254)],
        description=_l("For the order confirmation and questions about your order."),
    )


class CheckoutAddressForm(AddressForm):
    """An address for this order; the address book's default flags do not apply here."""

    is_default_shipping = None
    is_default_billing = None


class AddressChoiceForm(FlaskForm):
    separate_billing = BooleanField(_l("Send the invoice to a different address"))
    save_address = BooleanField(_l("Save this address in my address book"))


class CouponForm(FlaskForm):
    code = StringField(
        _l("Coupon code"), filters=[strip], validators=[InputRequired(), Length(max=40)]
    )


class PlaceOrderForm(FlaskForm):
    # Set by the view when the owner asks for it (KIOSK_TERMS_CHECKBOX).
    accept_terms = BooleanField(_l("I accept the terms and conditions."))
