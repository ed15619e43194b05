"""Forms of the checkout steps. Each step's data forms skip CSRF; the step's EmptyForm checks it.

The address step's forms are filled from the POST, the session or the address book.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, EmailField, HiddenField, StringField
from wtforms.validators import Email, InputRequired, Length

from kiosk.accounts.forms import AddressForm
from kiosk.accounts.models import Address
from kiosk.validation import Form, IntegerField, strip

NO_CSRF: dict[str, Any] = {"csrf": False}


class ContactForm(Form):
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


class AddressChoiceForm(Form):
    separate_billing = BooleanField(_l("Send the invoice to a different address"))
    save_address = BooleanField(_l("Save this address in my address book"))


class CouponForm(Form):
    code = StringField(
        _l("Coupon code"), filters=[strip], validators=[InputRequired(), Length(max=40)]
    )


class PlaceOrderForm(Form):
    """The order button; `key` and `expected_total` are hidden fields the review page writes."""

    # Set by the view when the owner asks for it (KIOSK_TERMS_CHECKBOX).
    accept_terms = BooleanField(_l("I accept the terms and conditions."))
    key = HiddenField(validators=[Length(max=64)])
    expected_total = IntegerField()


ADDRESS_FIELDS = ("name", "company", "street", "extra", "postal_code", "city", "country", "phone")


def _saved_addresses() -> list[Address]:
    return list(current_user.addresses) if current_user.is_authenticated else []


def address_as_dict(source: Any) -> dict[str, str]:
    if isinstance(source, Address):
        return {name: getattr(source, name) for name in ADDRESS_FIELDS}
    return {name: (getattr(source, name).data or "").strip() for name in ADDRESS_FIELDS}


def address_forms(state: dict[str, Any]) -> dict[str, Any]:
    """The address step's forms, from the POST or prefilled from the session or address book."""
    saved = _saved_addresses()
    default = next((a for a in saved if a.is_default_shipping), saved[0] if saved else None)
    billing_default = next((a for a in saved if a.is_default_billing), default)
    # With saved addresses the radio buttons choose; the fields are for a new one only.
    shipping_data = (
        state.get("shipping_address") if not saved or state.get("address_choice") == "new" else None
    )
    billing_data = state.get("billing_address") or (
        address_as_dict(billing_default)
        if billing_default and billing_default is not default
        else None
    )
    posted = request.method == "POST"
    billing = CheckoutAddressForm(
        prefix="billing", meta=NO_CSRF, data=None if posted else billing_data
    )
    billing.summary_prefix = _("Billing address")
    return {
        "contact": ContactForm(meta=NO_CSRF, data={"email": state.get("email", "")}),
        "shipping": CheckoutAddressForm(
            prefix="shipping", meta=NO_CSRF, data=None if posted else shipping_data
        ),
        "billing": billing,
        "options": AddressChoiceForm(
            meta=NO_CSRF,
            data=None if posted else {"separate_billing": bool(state.get("billing_address"))},
        ),
        "saved": saved,
        "choice": _posted_choice(saved)
        or state.get("address_choice")
        or (str(default.id) if default else "new"),
    }


def _posted_choice(saved: list[Address]) -> str | None:
    """The address radio button: "new" or a saved address's id; anything else (a forged
    value, which would be kept in the session) reads as another customer's address."""
    posted = request.form.get("address_choice")
    if posted is None or posted in {"new", *(str(a.id) for a in saved)}:
        return posted
    return "unknown"
