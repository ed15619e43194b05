"""Money as integer cents plus a currency, and the VAT arithmetic of gross prices.

Floats never touch money: every division rounds half up (kaufmännisches Runden)
in integer arithmetic, so sums add up to the cent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_AMOUNT = re.compile(r"^\s*(-)?(\d{1,9})(?:[.,](\d{1,2}))?\s*$")


def div_round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounding halves away from zero, as German commerce rounds."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return sign * quotient


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in the smallest unit (cents) of a currency."""

    cents: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if isinstance(self.cents, bool) or not isinstance(self.cents, int):
            raise TypeError(f"Money needs integer cents, got {type(self.cents).__name__}")
        if not _CURRENCY.match(self.currency):
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    @classmethod
    def parse(cls, text: str, currency: str = "EUR") -> Money:
        """Read "12", "12.5", "12,50" or "-3.99" as money; anything else is a ValueError."""
        match = _AMOUNT.match(text or "")
        if not match:
            raise ValueError(f"not an amount of money: {text!r}")
        sign, whole, fraction = match.groups()
        cents = int(whole) * 100 + int((fraction or "0").ljust(2, "0"))
        return cls(-cents if sign else cents, currency)

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(0, currency)

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an integer")
        return Money(self.cents * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.cents < other.cents

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.cents <= other.cents

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.cents > other.cents

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.cents >= other.cents

    def net_of(self, rate_bp: int) -> Money:
        """The net part of this gross amount at a VAT rate in basis points (1900 = 19 %)."""
        return Money(div_round_half_up(self.cents * 10_000, 10_000 + rate_bp), self.currency)

    def vat_of(self, rate_bp: int) -> Money:
        """The VAT contained in this gross amount; net + VAT is always exactly the gross."""
        return self - self.net_of(rate_bp)

    def to_decimal(self) -> Decimal:
        return Decimal(self.cents).scaleb(-2)

    def format(self, locale: str) -> str:
        return _format(self.cents, self.currency, locale)

    def plain(self) -> str:
        """Machine-readable "12.50", used in CSV files."""
        return f"{self.to_decimal():.2f}"

    def __str__(self) -> str:
        return f"{self.plain()} {self.currency}"


@lru_cache(maxsize=8192)
def _format(cents: int, currency: str, locale: str) -> str:
    """Babel parses its number pattern on every call; prices repeat, so remember them."""
    return format_currency(Decimal(cents).scaleb(-2), currency, locale=locale)


def parse_decimal_percent(text: str) -> int:
    """Read a VAT percentage such as "19" or "7,5" as basis points."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(f"not a percentage: {text!r}") from exc
    if value < 0 or value >= 100 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"not a VAT percentage: {text!r}")
    return int(value * 100)
