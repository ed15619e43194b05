"""The privacy centre's forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import Email, InputRequired, Length

from kiosk.validation import Form, strip


class ExportRequestForm(Form):
    """A guest names the address their orders and requests were made under."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[InputRequired(), Email(), Length(max=254)],
        description=_l("The address you used for your orders or requests."),
    )
