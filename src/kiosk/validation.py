"""Input at the edge: the one place that decides which text and numbers the shop accepts.

Every value a visitor sends passes through here before a use case sees it: form
fields through `Form` (the base of every form in the shop), query values and
the few values views read from `request.form` through `parse_int`,
`parse_amount`, `search_text` and `check_text`, and URL parts through the
converters in `URL_CONVERTERS`. So no database is ever handed a value it
cannot store, and the visitor gets a message instead of a 500:

- Text holds no C0/C1 control characters (a textarea keeps tab and line
  breaks). PostgreSQL refuses NUL outright; the others only break mails,
  headers and CSV files later, far from the form that let them in.
- Text has a length limit, so a long paste is told so rather than refused by
  the database.
- Whole numbers are ASCII digits within what an INTEGER column holds:
  PostgreSQL's is 32-bit, and every id, amount and count column is one.
"""

from __future__ import annotations

import re
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import SUBMIT_METHODS, _Auto
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter
from wtforms import Field, StringField, TextAreaField
from wtforms import IntegerField as WTFormsIntegerField
from wtforms.meta import DefaultMeta
from wtforms.validators import Length, StopValidation

from kiosk.money import Money

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1  # PostgreSQL INTEGER: the type of every id, amount and count column
MAX_TEXT = 2000  # for text fields that set no length of their own

# C0 controls, DEL and C1 controls (as regex escapes, also used by the URL converters);
# the multi-line set keeps tab, line feed and carriage return.
_CONTROL_CLASS = r"\x00-\x1f\x7f-\x9f"
_CONTROL = re.compile(f"[{_CONTROL_CLASS}]")
_CONTROL_IN_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WHOLE_NUMBER = re.compile(r"([+-]?)0*([0-9]+)")

ONE_LINE = _l("Please write this on one line, without control characters such as NUL.")
NO_CONTROL = _l("Please remove the control characters (such as NUL) from this text.")
NOT_WHOLE = _l("Please enter a whole number, such as 3.")
NOT_AMOUNT = _l("Enter an amount such as 10 or 12.50.")


class InputProblem(ValueError):
    """A value the shop does not accept. The message is for the visitor and translated
    only when shown (`str(problem)`), so the CSV import can use the same parsers."""


class OutOfRange(InputProblem):
    """A number outside the bounds; `too_low` says which side."""

    def __init__(self, message: Any, too_low: bool) -> None:
        super().__init__(message)
        self.too_low = too_low


def has_control(text: str, multiline: bool = False) -> bool:
    """Whether `text` holds a control character (tab and line breaks allowed if `multiline`)."""
    return (_CONTROL_IN_LINES if multiline else _CONTROL).search(text) is not None


def without_control(text: str, multiline: bool = False) -> str:
    """`text` with its control characters removed, for output made of stored text (mails)."""
    return (_CONTROL_IN_LINES if multiline else _CONTROL).sub("", text)


def check_text(text: str, max_length: int = MAX_TEXT, multiline: bool = False) -> str:
    """`text` if the shop accepts it, else InputProblem with the reason."""
    if has_control(text, multiline):
        raise InputProblem(NO_CONTROL if multiline else ONE_LINE)
    if len(text) > max_length:
        raise InputProblem(_l("Please use at most %(num)d characters.", num=max_length))
    return text


def search_text(text: str, max_length: int) -> str:
    """A search from the query string, cleaned rather than refused: a search box cannot type
    control characters, so they count as spaces; runs of space become one; then cut."""
    return " ".join(_CONTROL.sub(" ", text).split())[:max_length]


def parse_int(text: str | None, minimum: int = INT_MIN, maximum: int = INT_MAX) -> int:
    """A whole number written in ASCII digits, within [minimum, maximum].

    Stricter than `int()`, which also takes "1_000", "١٢" and numbers no column holds.
    """
    match = _WHOLE_NUMBER.fullmatch((text or "").strip())
    if match is None:
        raise InputProblem(NOT_WHOLE)
    sign, digits = match.groups()
    # Beyond 18 digits it is out of any range here; int() of a long one would cost time.
    number = int(sign + digits) if len(digits) <= 18 else (-1 if sign == "-" else 1) * 10**18
    if not minimum <= number <= maximum:
        message = _l(
            "Please enter a whole number from %(minimum)d to %(maximum)d.",
            minimum=minimum,
            maximum=maximum,
        )
        raise OutOfRange(message, too_low=number < minimum)
    return number


def parse_amount(text: str | None, currency: str = "EUR") -> Money:
    """An amount of money of 0 or more that an INTEGER cents column holds."""
    try:
        money = Money.parse(text or "", currency)
    except ValueError as exc:
        raise InputProblem(NOT_AMOUNT) from exc
    if money.cents < 0:
        raise InputProblem(NOT_AMOUNT)
    if money.cents > INT_MAX:
        highest = Money(INT_MAX, currency).plain()
        raise OutOfRange(_l("Enter an amount of at most %(amount)s.", amount=highest), False)
    return money


# Forms ---------------------------------------------------------------------------------


def _length_limit(field: Field) -> int:
    limits = [v.max for v in field.validators if isinstance(v, Length) and v.max >= 0]
    return min(limits, default=MAX_TEXT)


class PlainText:
    """The edge check of a text field, run before its own validators (which may be costly)."""

    def __init__(self, multiline: bool) -> None:
        self.multiline = multiline

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str):
            try:
                check_text(field.data, _length_limit(field), self.multiline)
            except InputProblem as problem:
                raise StopValidation(str(problem)) from problem


class Form(FlaskForm):
    """The base of every form in the shop: each text field checks control characters and
    length first, so a bad value comes back at its field (422) with the rest kept.

    Fields read the submitted form fields only. Flask-WTF would also hand them uploaded
    files and the values of a JSON body (numbers, lists, objects), which no text field
    of the shop expects; a field sent that way counts as missing.
    """

    class Meta(DefaultMeta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto:
                return request.form if request.method in SUBMIT_METHODS else None
            return formdata

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, StringField):
                check = PlainText(multiline=isinstance(field, TextAreaField))
                field.validators = [check, *field.validators]
            return field


class EmptyForm(Form):
    """A button-only POST (sign out, resend): just the CSRF token."""


def strip(value: str | None) -> str | None:
    """A form filter: surrounding spaces (pasted addresses) are never meant."""
    return value.strip() if isinstance(value, str) else value


class IntegerField(WTFormsIntegerField):
    """A whole number field parsed by `parse_int`, within bounds the database column holds."""

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        minimum: int = INT_MIN,
        maximum: int = INT_MAX,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or valuelist[0] == "":
            self.data = None
            return
        try:
            self.data = parse_int(valuelist[0], self.minimum, self.maximum)
        except InputProblem as problem:
            self.data = None
            raise ValueError(str(problem)) from problem


# URL parts -----------------------------------------------------------------------------


class TextConverter(UnicodeConverter):
    """`<name>`: a URL part without control characters; any other is simply not found."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", f"[^/{_CONTROL_CLASS}]", 1)


class TextPathConverter(PathConverter):
    """`<path:name>`: like the default path converter, without control characters."""

    regex = f"[^/{_CONTROL_CLASS}][^{_CONTROL_CLASS}]*?"


class BoundedIntConverter(IntegerConverter):
    """`<int:id>`: an id an INTEGER column can hold; a larger number is simply not found."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


URL_CONVERTERS: dict[str, Any] = {
    "default": TextConverter,
    "string": TextConverter,
    "path": TextPathConverter,
    "int": BoundedIntConverter,
}
