"""The edge rules of `kiosk.validation`: whole numbers, text, URL parts, and that every
form of the shop applies them."""

from __future__ import annotations

import importlib
import io
import pkgutil

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from wtforms import PasswordField, StringField, TextAreaField

import kiosk
from kiosk import create_app
from kiosk.validation import (
    INT_MAX,
    INT_MIN,
    URL_CONVERTERS,
    Form,
    InputProblem,
    IntegerField,
    OutOfRange,
    check_text,
    has_control,
    parse_amount,
    parse_int,
    search_text,
    without_control,
)
from tests.conftest import settings_for

ONE_LINE = "Please write this on one line, without control characters such as NUL."
NO_CONTROL = "Please remove the control characters (such as NUL) from this text."
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture(scope="module")
def plain_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """An app for request contexts only: no database is touched."""
    media = tmp_path_factory.mktemp("media")
    return create_app({**settings_for("sqlite://", media), "WTF_CSRF_ENABLED": False})


@pytest.mark.parametrize(
    ("text", "number"), [("0", 0), (" 42 ", 42), ("-7", -7), ("+3", 3), ("0007", 7)]
)
def test_whole_numbers_in_ascii_digits_are_read(text: str, number: int) -> None:
    assert parse_int(text) == number


@pytest.mark.parametrize(
    "text", ["", "1e30", "1.0", "1_000", "١٢", "１２", "0x10", "- 1", "NaN", None, "\x001"]
)
def test_anything_else_is_not_a_whole_number(text: str | None) -> None:
    with pytest.raises(InputProblem) as problem:
        parse_int(text)
    assert not isinstance(problem.value, OutOfRange)


@pytest.mark.parametrize(
    ("text", "too_low"),
    [(str(2**31), False), (str(2**63), False), ("9" * 5000, False), (str(-(2**63) - 1), True)],
)
def test_numbers_no_integer_column_holds_are_out_of_range(text: str, too_low: bool) -> None:
    with pytest.raises(OutOfRange) as problem:
        parse_int(text)
    assert problem.value.too_low is too_low


@given(st.integers())
def test_every_number_is_either_in_range_or_refused(number: int) -> None:
    if INT_MIN <= number <= INT_MAX:
        assert parse_int(str(number)) == number
    else:
        with pytest.raises(OutOfRange):
            parse_int(str(number))


def test_amounts_stay_within_an_integer_cents_column(plain_app: Flask) -> None:
    assert parse_amount("21474836.47").cents == INT_MAX
    with plain_app.test_request_context(headers=ENGLISH), pytest.raises(OutOfRange) as problem:
        parse_amount("21474836.48")
    with plain_app.test_request_context(headers=ENGLISH):
        assert str(problem.value) == "Enter an amount of at most 21474836.47."
    for text in ("-1", "abc", "1e30", ""):
        with pytest.raises(InputProblem):
            parse_amount(text)


def test_control_characters_are_found_and_removed() -> None:
    for char in ("\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\n", "\t"):
        assert has_control(f"a{char}b")
    assert not has_control("a\r\n\tb", multiline=True)
    assert has_control("a\x00\nb", multiline=True)
    assert not has_control("Käthe „Bär“ – 𝄞 \u00a0")
    assert without_control("Er\x00ika\n\tM\x1b", multiline=True) == "Erika\n\tM"
    assert search_text("  Bech\x00er \x1b  Tasse ", 100) == "Bech er Tasse"
    assert search_text("a" * 300, 100) == "a" * 100


def test_check_text_says_what_is_wrong(plain_app: Flask) -> None:
    with plain_app.test_request_context(headers=ENGLISH):
        for text, multiline, message in [
            ("a\x00", False, ONE_LINE),
            ("a\nb", False, ONE_LINE),
            ("a\x00", True, NO_CONTROL),
            ("a" * 11, False, "Please use at most 10 characters."),
        ]:
            with pytest.raises(InputProblem) as problem:
                check_text(text, 10, multiline)
            assert str(problem.value) == message
        assert check_text("a\nb", 10, multiline=True) == "a\nb"


def test_url_parts_with_control_characters_or_huge_ids_do_not_match() -> None:
    urls = Map(
        [Rule("/p/<slug>", endpoint="p"), Rule("/l/<int:id>", endpoint="l")],
        converters=URL_CONVERTERS,
    ).bind("localhost")
    assert urls.match("/p/becher") == ("p", {"slug": "becher"})
    assert urls.match(f"/l/{INT_MAX}") == ("l", {"id": INT_MAX})
    for path in ("/p/a\x00b", "/p/a\nb", "/p/\x85", f"/l/{INT_MAX + 1}", f"/l/{2**63}"):
        with pytest.raises(NotFound):
            urls.match(path)


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_form_of_the_shop_checks_text_at_the_edge() -> None:
    for module in pkgutil.walk_packages(kiosk.__path__, "kiosk."):
        importlib.import_module(module.name)
    forms = {cls for cls in _subclasses(FlaskForm) if cls.__module__.startswith("kiosk.")}
    assert len(forms) > 20
    assert {cls.__qualname__ for cls in forms if not issubclass(cls, Form)} == set()


class Probe(Form):
    line = StringField()
    secret = PasswordField()
    text = TextAreaField()
    count = IntegerField(minimum=1, maximum=99)


def test_a_form_checks_every_text_field_first_and_keeps_the_input(plain_app: Flask) -> None:
    data = {"line": "a\tb", "secret": "x\x00", "text": "a\n\tb\x7f", "count": "1e30"}
    with plain_app.test_request_context(headers=ENGLISH, method="POST", data=data):
        form = Probe()
        assert not form.validate()
        assert form.errors == {
            "line": [ONE_LINE],
            "secret": [ONE_LINE],
            "text": [NO_CONTROL],
            "count": ["Please enter a whole number, such as 3."],
        }
        assert form.line.data == "a\tb" and form.count._value() == "1e30"


def test_a_form_reads_form_fields_only_not_files_or_json(plain_app: Flask) -> None:
    with plain_app.test_request_context(
        headers=ENGLISH, method="POST", json={"line": 5, "count": [1]}
    ):
        form = Probe()
        assert form.validate() and (form.line.data, form.count.data) == (None, None)
    upload = {"line": (io.BytesIO(b"\x00"), "x.csv"), "count": str(2**31)}
    with plain_app.test_request_context(headers=ENGLISH, method="POST", data=upload):
        form = Probe()
        assert not form.validate()
        assert form.line.data is None
        assert form.errors == {"count": ["Please enter a whole number from 1 to 99."]}
