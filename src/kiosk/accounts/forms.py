"""Forms for signing in, registering and recovering access, and of the account pages."""

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

from kiosk.accounts.passwords import MAX_LENGTH
from kiosk.accounts.services import check_new_password
from kiosk.i18n import LANGUAGE_NAMES
from kiosk.shipping.services import EU_COUNTRIES
from kiosk.validation import Form, strip


class SignInForm(Form):
    email = EmailField(_l("Email"), filters=[strip], validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=MAX_LENGTH)])
    remember = BooleanField(_l("Stay signed in on this device"))


class SecondFactorForm(Form):
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[InputRequired(), Length(min=6, max=20)],
    )


class AcceptablePassword:
    """WTForms validator for a new password: the policy, with the form's personal data."""

    def __call__(self, form: PasswordPolicyForm, field: Any) -> None:
        problems = check_new_password(field.data or "", *form.personal_data())
        if problems:
            raise ValidationError(problems[0])


class PasswordPolicyForm(Form):
    """A form with a new password: `personal` words (email, name) may not make it up."""

    def __init__(self, *args: Any, personal: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._personal = personal

    def personal_data(self) -> tuple[str, ...]:
        return self._personal


class RegisterForm(PasswordPolicyForm):
    email = EmailField(
        _l("Email"), filters=[strip], validators=[InputRequired(), Email(), Length(max=254)]
    )
    name = StringField(_l("Name (optional)"), filters=[strip], validators=[Length(max=120)])
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(max=MAX_LENGTH), AcceptablePassword()],
    )

    def personal_data(self) -> tuple[str, ...]:
        return (self.email.data or "", self.name.data or "")


class AcceptInvitationForm(PasswordPolicyForm):
    """The invitee's new account: the address is the invitation's, so only name and password."""

    name = StringField(
        _l("Your name"), filters=[strip], validators=[InputRequired(), Length(max=120)]
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(max=MAX_LENGTH), AcceptablePassword()],
    )

    def personal_data(self) -> tuple[str, ...]:
        return (*self._personal, self.name.data or "")


class ForgotPasswordForm(Form):
    email = EmailField(
        _l("Email"), filters=[strip], validators=[InputRequired(), Email(), Length(max=254)]
    )


class NewPasswordForm(PasswordPolicyForm):
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(), Length(max=MAX_LENGTH), AcceptablePassword()],
    )


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
