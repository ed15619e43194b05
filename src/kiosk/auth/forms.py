"""Forms for signing in, registering and recovering access."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length, ValidationError

from kiosk.services.passwords import MAX_LENGTH
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
        from kiosk.services.accounts import check_new_password

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


class ForgotPasswordForm(Form):
    email = EmailField(
        _l("Email"), filters=[strip], validators=[InputRequired(), Email(), Length(max=254)]
    )


class NewPasswordForm(PasswordPolicyForm):
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(), Length(max=MAX_LENGTH), AcceptablePassword()],
    )
