"""Money: integer cents, German rounding, VAT contained in gross prices."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.money import Money, div_round_half_up, parse_decimal_percent


def test_money_refuses_floats_and_bools() -> None:
    with pytest.raises(TypeError):
        Money(12.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True)


def test_money_refuses_unknown_currency_codes() -> None:
    with pytest.raises(ValueError):
        Money(100, "euro")


@pytest.mark.parametrize(
    ("text", "cents"),
    [("12", 1200), ("12.5", 1250), ("12,50", 1250), ("0,99", 99), (" 3.07 ", 307), ("-4,20", -420)],
)
def test_parse_reads_dot_and_comma_decimals(text: str, cents: int) -> None:
    assert Money.parse(text) == Money(cents)


@pytest.mark.parametrize("text", ["", "abc", "1.234", "12.345", "1,2,3", "1e3", "€5", "12."])
def test_parse_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(ValueError):
        Money.parse(text)


def test_arithmetic_keeps_the_currency() -> None:
    assert Money(250) + Money(199) == Money(449)
    assert Money(250) - Money(300) == Money(-50)
    assert Money(250) * 3 == Money(750)
    assert 3 * Money(250) == Money(750)


def test_different_currencies_do_not_mix() -> None:
    with pytest.raises(ValueError):
        Money(100, "EUR") + Money(100, "CHF")
    with pytest.raises(ValueError):
        _ = Money(100, "EUR") < Money(100, "CHF")


def test_multiplying_by_a_fraction_is_refused() -> None:
    with pytest.raises(TypeError):
        Money(100) * 1.5  # type: ignore[operator]


@pytest.mark.parametrize(
    ("n", "d", "q"), [(5, 2, 3), (-5, 2, -3), (4, 3, 1), (2, 3, 1), (1, 3, 0), (0, 7, 0)]
)
def test_division_rounds_half_away_from_zero(n: int, d: int, q: int) -> None:
    assert div_round_half_up(n, d) == q


def test_vat_is_extracted_from_a_gross_price() -> None:
    # 11.90 € gross at 19 % holds 10.00 € net and 1.90 € VAT.
    assert Money(1190).net_of(1900) == Money(1000)
    assert Money(1190).vat_of(1900) == Money(190)
    # 10.70 € at 7 %: 10.00 € net, 0.70 € VAT.
    assert Money(1070).vat_of(700) == Money(70)


def test_vat_rounds_to_the_nearest_cent() -> None:
    # 9.99 / 1.19 = 8.3949… -> 8.39 net, 1.60 VAT
    assert Money(999).net_of(1900) == Money(839)
    assert Money(999).vat_of(1900) == Money(160)


@given(
    cents=st.integers(min_value=0, max_value=10**9),
    rate=st.sampled_from([0, 700, 1900, 2000, 2500]),
)
def test_net_plus_vat_is_always_the_gross(cents: int, rate: int) -> None:
    gross = Money(cents)
    assert gross.net_of(rate) + gross.vat_of(rate) == gross
    assert gross.vat_of(rate).cents >= 0


@given(cents=st.integers(min_value=0, max_value=10**9))
def test_vat_is_within_half_a_cent_of_the_exact_share(cents: int) -> None:
    vat = Money(cents).vat_of(1900).cents
    assert abs(vat * 119 - cents * 19) <= 119 / 2


def test_format_follows_the_locale() -> None:
    assert Money(123450).format("de") == "1.234,50\xa0€"
    assert Money(123450).format("en") == "€1,234.50"
    assert Money(123450).plain() == "1234.50"


@pytest.mark.parametrize(("text", "bp"), [("19", 1900), ("7", 700), ("7,5", 750), ("0", 0)])
def test_vat_percentages_become_basis_points(text: str, bp: int) -> None:
    assert parse_decimal_percent(text) == bp


@pytest.mark.parametrize("text", ["", "x", "-1", "100", "7.555"])
def test_bad_vat_percentages_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal_percent(text)
