"""The sums of an order: items, discount, shipping, and the VAT in them per rate.

Prices are gross (German retail), so VAT is extracted, never added. Two
amounts have no rate of their own and are split over the rates of the items
in proportion to their value, to the cent (largest remainder):

- a coupon discount lowers the price of the items it applies to;
- shipping is a secondary supply (Nebenleistung) and shares the VAT treatment
  of the goods it delivers (UStAE Abschnitt 3.10 Abs. 5; CJEU C-349/96 "CPP").
  When the goods carry different rates, the shipping cost is divided in the
  ratio of the goods' gross values after discount, the method the German tax
  administration accepts for mixed-rate shipments. An owner with a different
  agreement with their tax office changes `split_by_weight` here.

Whatever the split, every rate's net + VAT is its gross, and the gross amounts
add up to the order total exactly (tests/unit/test_pricing.py checks this with
hypothesis).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kiosk.money import Money


@dataclass(frozen=True)
class VatLine:
    rate_bp: int
    gross: Money
    net: Money
    vat: Money

    def as_dict(self) -> dict[str, int]:
        return {
            "rate_bp": self.rate_bp,
            "gross_cents": self.gross.cents,
            "net_cents": self.net.cents,
            "vat_cents": self.vat.cents,
        }


@dataclass(frozen=True)
class Totals:
    items: Money
    discount: Money
    shipping: Money
    total: Money
    vat: list[VatLine]
    fee: Money | None = None  # a payment method's charge (cash on delivery)

    @property
    def net(self) -> Money:
        return sum((line.net for line in self.vat), Money.zero(self.total.currency))

    @property
    def vat_total(self) -> Money:
        return sum((line.vat for line in self.vat), Money.zero(self.total.currency))


def split_by_weight(amount: int, weights: Mapping[int, int]) -> dict[int, int]:
    """Divide `amount` cents over keys in proportion to `weights`, exactly (largest remainder).

    Ties go to the higher key (the higher VAT rate), so the result never depends
    on dictionary order. With no weight at all, everything goes to the highest key.
    """
    if not weights:
        raise ValueError("nothing to split over")
    total_weight = sum(weights.values())
    if total_weight <= 0:
        top = max(weights)
        return {key: (amount if key == top else 0) for key in weights}
    shares = {key: amount * weight // total_weight for key, weight in weights.items()}
    remainders = sorted(
        weights, key=lambda key: (amount * weights[key] % total_weight, key), reverse=True
    )
    for key in remainders[: amount - sum(shares.values())]:
        shares[key] += 1
    return shares


def totals(
    lines: Iterable[tuple[Money, int]],
    shipping: Money,
    discount: Money | None = None,
    fee: Money | None = None,
) -> Totals:
    """Sum gross line totals given as (amount, VAT rate in basis points).

    A payment fee is, like shipping, secondary to the goods and split the same way.
    """
    lines = list(lines)
    currency = shipping.currency
    by_rate: dict[int, int] = {}
    for amount, rate_bp in lines:
        if amount.currency != currency:
            raise ValueError("all amounts of an order share one currency")
        by_rate[rate_bp] = by_rate.get(rate_bp, 0) + amount.cents
    items = sum(by_rate.values())
    discount_cents = discount.cents if discount else 0
    if not 0 <= discount_cents <= items:
        raise ValueError("a discount lies between nothing and the price of the items")
    if not by_rate:
        raise ValueError("an order has at least one line")
    discount_share = split_by_weight(discount_cents, by_rate)
    goods = {rate: by_rate[rate] - discount_share[rate] for rate in by_rate}
    fee_cents = fee.cents if fee else 0
    shipping_share = split_by_weight(shipping.cents + fee_cents, goods)
    vat_lines = []
    for rate in sorted(by_rate, reverse=True):
        gross = Money(goods[rate] + shipping_share[rate], currency)
        vat = gross.vat_of(rate)
        vat_lines.append(VatLine(rate, gross, gross - vat, vat))
    return Totals(
        items=Money(items, currency),
        discount=Money(discount_cents, currency),
        shipping=shipping,
        total=Money(items - discount_cents + shipping.cents + fee_cents, currency),
        vat=vat_lines,
        fee=fee,
    )


def vat_lines_from(breakdown: Sequence[Mapping[str, int]], currency: str) -> list[VatLine]:
    """The stored breakdown of an order, back as VatLines for its pages and mails."""
    return [
        VatLine(
            row["rate_bp"],
            Money(row["gross_cents"], currency),
            Money(row["net_cents"], currency),
            Money(row["vat_cents"], currency),
        )
        for row in breakdown
    ]
