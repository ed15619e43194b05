"""Forms of the order operations: shipping many orders, the carrier's CSV, a return of
goods, cancelling an invoice. A form with a row or a field per order line is built for
the orders or lines it shows, so each input has its own label, id and errors."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from kiosk.backoffice.forms import PageForm
from kiosk.orders.models import Order
from kiosk.shipping import services as shipping
from kiosk.shipping.services import TRACKING_NUMBER
from kiosk.validation import Form, IntegerField, strip

MAX_ROWS = 200  # orders shipped from one page
BAD_TRACKING = _l("A tracking number has 4 to 40 letters, digits or hyphens.")
NEEDS_CARRIER = _l("Please choose the carrier of this tracking number.")


def _carrier_choices() -> list[tuple[str, Any]]:
    return [("", _l("None (no tracking)"))] + [
        (carrier.code, carrier.name) for carrier in shipping.carriers().values()
    ]


class ShipForm(Form):
    """One row per order: its number (hidden), carrier and tracking number."""

    count: int

    def rows(self) -> list[tuple[Field, Field, Field]]:
        return [
            (self[f"number_{i}"], self[f"carrier_{i}"], self[f"tracking_{i}"])
            for i in range(self.count)
        ]

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = bool(super().validate(extra_validators))
        for _number, carrier, tracking in self.rows():
            if tracking.data and not carrier.data:
                tracking.errors = [*tracking.errors, NEEDS_CARRIER]
                valid = False
        return valid


def ship_form(numbers: Sequence[str], **kwargs: Any) -> ShipForm:
    """The form for these orders (by number, at most MAX_ROWS)."""

    class Rows(ShipForm):
        pass

    numbers = list(numbers)[:MAX_ROWS]
    for i, number in enumerate(numbers):
        setattr(Rows, f"number_{i}", HiddenField(validators=[Length(max=16)]))
        setattr(Rows, f"carrier_{i}", SelectField(
            _l("Carrier of %(number)s", number=number), validators=[Optional()]))  # fmt: skip
        setattr(Rows, f"tracking_{i}", StringField(
            _l("Tracking number of %(number)s", number=number), filters=[strip],
            validators=[Optional(), Regexp(TRACKING_NUMBER, message=BAD_TRACKING)]))  # fmt: skip
    form = Rows(**kwargs)
    form.count = len(numbers)
    choices = _carrier_choices()
    for _number, carrier, _tracking in form.rows():
        carrier.choices = choices
    return form


def submitted_numbers(formdata: Mapping[str, str]) -> list[str]:
    """The order numbers a submitted ship form names, in its order."""
    numbers = []
    for i in range(MAX_ROWS):
        number = formdata.get(f"number_{i}")
        if number is None:
            break
        numbers.append(number[:16])
    return numbers


def _reason(required: Any) -> StringField:
    """A required reason for the order's history (at most 500 characters)."""
    return StringField(
        _l("Reason"), filters=[strip], validators=[DataRequired(required), Length(max=500)]
    )


class ReturnForm(PageForm):
    """How many of each line came back, and why; `key` makes a second submit harmless."""

    id_prefix = "return"
    reason = _reason(_l("Please give the reason for the return."))
    key = HiddenField(validators=[Length(max=64)])
    lines: list[tuple[int, Field]]

    def quantities(self) -> dict[int, int]:
        return {line_id: field.data or 0 for line_id, field in self.lines}

    def validate_key(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Please reload the page and try again."))


def return_form(order: Order, returnable: Mapping[int, int], **kwargs: Any) -> ReturnForm:
    """A quantity field per line that can still come back, at most what is left."""

    class Lines(ReturnForm):
        pass

    for line in order.lines:
        left = returnable.get(line.id, 0)
        if left > 0:
            setattr(Lines, f"quantity_{line.id}", IntegerField(
                _l("%(item)s (SKU %(sku)s): how many came back", item=line.name, sku=line.sku),
                validators=[Optional()], minimum=0, maximum=left))  # fmt: skip
    form = Lines(**kwargs)
    if not form.key.data:
        form.key.data = secrets.token_urlsafe(16)
    form.lines = [
        (line.id, form[f"quantity_{line.id}"])
        for line in order.lines
        if returnable.get(line.id, 0) > 0
    ]
    return form


class CancelInvoiceForm(PageForm):
    id_prefix = "cancel-invoice"
    reason = _reason(_l("Please give the reason for cancelling."))
