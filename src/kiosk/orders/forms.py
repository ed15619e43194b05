"""Forms of the buyer's order pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length

from kiosk.validation import Form, strip


class FindOrderForm(Form):
    number = StringField(
        _l("Order number"),
        filters=[strip],
        validators=[InputRequired(), Length(max=16)],
        description=_l("From your order confirmation, e.g. K7XQ4-MPD2."),
    )
    email = EmailField(
        _l("Email address"),
        filters=[strip],
        validators=[InputRequired(), Email(), Length(max=254)],
        description=_l("The address you ordered with."),
    )


class WithdrawalForm(Form):
    reason = TextAreaField(_l("Reason (optional)"), filters=[strip], validators=[Length(max=500)])
