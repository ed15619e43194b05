"""What the erasure pages accept."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import Email, InputRequired, Length

from kiosk.validation import Form, strip


class GuestErasureForm(Form):
    """A guest names the address their orders and mails went to; the link goes there."""

    email = EmailField(
        _l("Email"),
        description=_l("The address you ordered with. We send the confirmation link there."),
        filters=[strip],
        validators=[InputRequired(), Email(), Length(max=254)],
    )
