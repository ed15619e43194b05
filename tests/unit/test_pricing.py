"""Order sums: VAT per rate, discount and shipping split over the rates, to the cent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.money import Money
from kiosk.pricing import split_by_weight, totals

RATES = st.sampled_from([0, 700, 1900, 2000, 2500])
LINES = st.lists(
    st.tuples(st.integers(min_value=0, max_value=5_000_000), RATES), min_size=1, max_size=12
)


def eur(cents: int) -> Money:
    return Money(cents)


def test_one_rate_extracts_the_vat_of_the_whole_gross() -> None:
    result = totals([(eur(11900), 1900)], shipping=eur(0))
    assert [(v.rate_bp, v.net.cents, v.vat.cents) for v in result.vat] == [(1900, 10000, 1900)]
    assert result.total == eur(11900)


def test_shipping_follows_the_goods_in_proportion_to_their_value() -> None:
    result = totals([(eur(3000), 1900), (eur(1000), 700)], shipping=eur(400))
    by_rate = {v.rate_bp: v.gross.cents for v in result.vat}
    assert by_rate == {1900: 3300, 700: 1100}
    assert result.total == eur(4400)


def test_a_discount_lowers_each_rate_in_proportion() -> None:
    result = totals([(eur(3000), 1900), (eur(1000), 700)], shipping=eur(0), discount=eur(400))
    assert {v.rate_bp: v.gross.cents for v in result.vat} == {1900: 2700, 700: 900}


def test_shipping_on_a_fully_discounted_order_goes_to_the_highest_rate() -> None:
    result = totals([(eur(500), 700), (eur(500), 1900)], shipping=eur(490), discount=eur(1000))
    assert {v.rate_bp: v.gross.cents for v in result.vat} == {1900: 490, 700: 0}


def test_a_discount_above_the_items_is_refused() -> None:
    with pytest.raises(ValueError):
        totals([(eur(100), 1900)], shipping=eur(0), discount=eur(101))


@given(
    amount=st.integers(min_value=0, max_value=10_000_000),
    weights=st.dictionaries(RATES, st.integers(min_value=0, max_value=10_000_000), min_size=1),
)
def test_a_split_hands_out_every_cent_and_no_more(amount: int, weights: dict[int, int]) -> None:
    shares = split_by_weight(amount, weights)
    assert sum(shares.values()) == amount
    assert all(share >= 0 for share in shares.values())
    total_weight = sum(weights.values())
    if total_weight:  # nobody gets more than a cent above their exact share
        for key, weight in weights.items():
            assert abs(shares[key] * total_weight - amount * weight) < total_weight


@given(
    lines=LINES,
    shipping=st.integers(min_value=0, max_value=100_000),
    discount_share=st.floats(min_value=0, max_value=1),
)
def test_the_sums_add_up_to_the_cent(
    lines: list[tuple[int, int]], shipping: int, discount_share: float
) -> None:
    items = sum(cents for cents, _ in lines)
    discount = int(items * discount_share)
    result = totals([(eur(c), r) for c, r in lines], shipping=eur(shipping), discount=eur(discount))
    assert result.total.cents == items - discount + shipping
    assert sum(v.gross.cents for v in result.vat) == result.total.cents
    assert result.net + result.vat_total == result.total
    for line in result.vat:
        assert line.net + line.vat == line.gross
        assert line.vat == line.gross.vat_of(line.rate_bp)
        assert line.gross.cents >= 0
    assert len({v.rate_bp for v in result.vat}) == len(result.vat)


def test_a_payment_fee_is_split_like_shipping_and_joins_the_total() -> None:
    result = totals([(eur(3000), 1900), (eur(1000), 700)], shipping=eur(400), fee=eur(400))
    assert {v.rate_bp: v.gross.cents for v in result.vat} == {1900: 3600, 700: 1200}
    assert result.total == eur(4800) and result.fee == eur(400)
