"""Forms of the customer's account pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import (
    AnyOf,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from kiosk.auth.forms import AcceptablePassword, PasswordPolicyForm
from kiosk.i18n import LANGUAGE_NAMES
from kiosk.services.passwords import MAX_LENGTH
from kiosk.services.shipping import EU_COUNTRIES
from kiosk.validation import Form, strip

PHONE = Regexp(r"^[0-9 +()/.-]*$", message=_l("Use digits, spaces and + ( ) / . - only."))


class ProfileForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=120)])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=40), PHONE])
    locale = StringField(_l("Language of our mails"), validators=[AnyOf(list(LANGUAGE_NAMES))])


class AddressForm(Form):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=120)])
    company = StringField(_l("Company (optional)"), validators=[Length(max=120)])
    street = StringField(_l("Street and number"), validators=[InputRequired(), Length(max=200)])
    extra = StringField(_l("Address line 2 (optional)"), validators=[Length(max=200)])
    postal_code = StringField(
        _l("Postcode"),
        validators=[
            InputRequired(),
            Length(max=16),
            Regexp(
                r"^[A-Za-z0-9 -]+$", message=_l("Use letters, digits, spaces and hyphens only.")
            ),
        ],
    )
    city = StringField(_l("Town or city"), validators=[InputRequired(), Length(max=120)])
    country = StringField(
        _l("Country"), validators=[InputRequired(), AnyOf(EU_COUNTRIES)], default="DE"
    )
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=40), PHONE])
    is_default_shipping = BooleanField(_l("Use for shipping by default"))
    is_default_billing = BooleanField(_l("Use for invoices by default"))

    def validate_postal_code(self, field: Any) -> None:
        code = (field.data or "").strip()
        if self.country.data == "DE" and not (code.isdigit() and len(code) == 5):
            raise ValidationError(_l("A German postcode has five digits."))


class ChangePasswordForm(PasswordPolicyForm):
    current_password = PasswordField(
        _l("Current password"), validators=[InputRequired(), Length(max=MAX_LENGTH)]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[InputRequired(), Length(max=MAX_LENGTH), AcceptablePassword()],
    )


class ChangeEmailForm(Form):
    new_email = EmailField(
        _l("New email address"),
        filters=[strip],
        validators=[InputRequired(), Email(), Length(max=254)],
    )
    current_password = PasswordField(
        _l("Current password"), validators=[InputRequired(), Length(max=MAX_LENGTH)]
    )


class EnableTwoFactorForm(Form):
    code = StringField(
        _l("Six-digit code from the app"), validators=[InputRequired(), Length(min=6, max=8)]
    )


class ConfirmPasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"), validators=[InputRequired(), Length(max=MAX_LENGTH)]
    )
