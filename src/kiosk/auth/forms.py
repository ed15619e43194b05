"""Forms for signing in, registering and recovering access."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length, ValidationError

from kiosk.services.passwords import MAX_LENGTH


def strip(value: str | None) -> str | None:
    """A form filter: surrounding spaces (pasted addresses) are never meant."""
    return value.strip() if isinstance(value, str) else value


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[strip], validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=MAX_LENGTH)])
    remember = BooleanField(_l("Stay signed in on this device"))


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[InputRequired(), Length(min=6, max=20)],
    )


class RegisterForm(FlaskForm):
    email = EmailField(
        _l("Email"), filters=[strip], validators=[InputRequired(), Email(), Length(max=254)]
    )
    name = StringField(_l("Name (optional)"), validators=[Length(max=120)])
    password = PasswordField(_l("Password"), validators=[InputRequired()])

    def validate_password(self, field: Any) -> None:
        from kiosk.services.accounts import check_new_password

        problems = check_new_password(
            field.data or "", email=self.email.data or "", name=self.name.data or ""
        )
        if problems:
            raise ValidationError(problems[0])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email"), filters=[strip], validators=[InputRequired(), Email(), Length(max=254)]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired()])

    def __init__(self, *args: Any, personal: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._personal = personal

    def validate_password(self, field: Any) -> None:
        from kiosk.services.passwords import password_problems

        problems = password_problems(field.data or "", *self._personal)
        if problems:
            raise ValidationError(problems[0])


class EmptyForm(FlaskForm):
    """A button-only POST (sign out, resend): just the CSRF token."""
