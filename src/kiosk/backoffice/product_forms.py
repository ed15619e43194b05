"""Forms of the staff product pages: the product itself, the list's bulk actions and a
price change. Each checks on the server, keeps what staff typed and ties errors to fields."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from kiosk.catalog.editing import PriceChange, ProductValues
from kiosk.catalog.models import Product, UnitMeasure
from kiosk.catalog.product_csv import SKU_PATTERN, SLUG_PATTERN, make_slug
from kiosk.validation import Form, InputProblem, IntegerField, OutOfRange, parse_amount, strip

MAX_DESCRIPTION = 20_000
ENTER_PRICE = _l("Please enter the price, such as 12.90.")
# The classes KIOSK_VAT_RATES has by default, in words; a class a shop adds shows as named.
VAT_CLASS_NAMES = {"standard": _l("standard rate"), "reduced": _l("reduced rate")}
MEASURES = [
    ("", _l("No unit price")),
    (UnitMeasure.GRAM.value, _l("grams (price per kg)")),
    (UnitMeasure.MILLILITRE.value, _l("millilitres (price per litre)")),
    (UnitMeasure.CENTIMETRE.value, _l("centimetres (price per metre)")),
    (UnitMeasure.SQUARE_CENTIMETRE.value, _l("square centimetres (price per m²)")),
]


def money_input(cents: int | None) -> str:
    """Cents as staff type them in the page's language: "12,90" in German, "12.90" in English."""
    if cents is None:
        return ""
    return str(format_decimal(Decimal(cents) / 100, format="0.00"))


def _cents(text: str | None) -> int:
    """An amount of money typed as "12,90" or "12.90"; ValidationError with the reason."""
    try:
        return parse_amount(text, current_app.config["KIOSK_CURRENCY"]).cents
    except InputProblem as problem:
        raise ValidationError(str(problem)) from problem


def _category_options(categories: list[tuple[int, str]]) -> list[tuple[str, Any]]:
    return [("", _l("No category"))] + [(str(id_), name) for id_, name in categories]


class ProductForm(Form):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Please enter the product's name.")), Length(max=200)],
    )
    slug = StringField(
        _l("Web address (slug)"),
        filters=[strip],
        validators=[
            Length(max=150),
            Optional(),
            Regexp(
                SLUG_PATTERN,
                message=_l("Use lower-case letters, digits and single hyphens, such as blue-mug."),
            ),
        ],
    )
    sku = StringField(
        _l("SKU (article number)"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please enter the SKU.")),
            Length(max=64),
            Regexp(SKU_PATTERN, message=_l("Use letters, digits, '.', '_' and '-' only.")),
        ],
    )
    description = TextAreaField(
        _l("Description (Markdown)"), validators=[Length(max=MAX_DESCRIPTION)]
    )
    price = StringField(
        _l("Price (gross)"), filters=[strip], validators=[DataRequired(ENTER_PRICE)]
    )
    compare_at = StringField(_l("Recommended retail price (RRP, optional)"), filters=[strip])
    vat_class = SelectField(_l("VAT rate"), default="standard")
    unit_content = IntegerField(
        _l("Content for the unit price"), validators=[Optional()], minimum=1
    )
    unit_measure = SelectField(_l("Measure of the content"))
    delivery_time = StringField(_l("Delivery time"), filters=[strip], validators=[Length(max=120)])
    weight_grams = IntegerField(_l("Weight in grams"), validators=[Optional()], minimum=0)
    category = SelectField(_l("Category"))
    reorder_level = IntegerField(_l("Reorder level"), validators=[Optional()], minimum=0, default=0)
    is_active = BooleanField(_l("Active: shown in the shop"))
    is_featured = BooleanField(_l("Featured on the home page"))

    def __init__(self, categories: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unit_measure.choices = MEASURES
        rates: dict[str, int] = current_app.config["KIOSK_VAT_RATES"]
        self.vat_class.choices = [
            (name, f"{VAT_CLASS_NAMES.get(name, name)} ({format_decimal(rate / 100)} %)")
            for name, rate in rates.items()
        ]
        self.category.choices = _category_options(categories)

    @classmethod
    def initial(cls, product: Product) -> dict[str, Any]:
        """The form's values for a saved product."""
        return {
            "name": product.name,
            "slug": product.slug,
            "sku": product.sku,
            "description": product.description,
            "price": money_input(product.price_cents),
            "compare_at": money_input(product.compare_at_cents),
            "vat_class": product.vat_class,
            "unit_content": product.unit_content,
            "unit_measure": product.unit_measure.value if product.unit_measure else "",
            "delivery_time": product.delivery_time,
            "weight_grams": product.weight_grams,
            "category": str(product.category_id or ""),
            "reorder_level": product.reorder_level,
            "is_active": product.is_active,
            "is_featured": product.is_featured,
        }

    def validate_price(self, field: Field) -> None:
        _cents(field.data)

    def validate_compare_at(self, field: Field) -> None:
        if not field.data:
            return
        rrp = _cents(field.data)
        try:
            price = parse_amount(self.price.data).cents
        except InputProblem:
            return  # the price's own error says it
        if rrp <= price:
            raise ValidationError(_l("The RRP must be higher than the price, or left empty."))

    def validate_unit_measure(self, field: Field) -> None:
        if bool(field.data) != (self.unit_content.data is not None):
            raise ValidationError(
                _l("Give both the content and its measure for a unit price, or neither.")
            )

    def validate_description(self, field: Field) -> None:
        field.data = (field.data or "").replace("\r\n", "\n")

    def slug_value(self) -> str:
        """The slug typed, or one made from the name."""
        return self.slug.data or make_slug(self.name.data or "")

    def values(self) -> ProductValues:
        """What a valid form says, in the catalog's terms."""
        return ProductValues(
            name=self.name.data or "",
            slug=self.slug_value(),
            sku=self.sku.data or "",
            description=self.description.data or "",
            price_cents=_cents(self.price.data),
            compare_at_cents=_cents(self.compare_at.data) if self.compare_at.data else None,
            vat_class=str(self.vat_class.data),
            unit_content=self.unit_content.data,
            unit_measure=UnitMeasure(self.unit_measure.data) if self.unit_measure.data else None,
            delivery_time=self.delivery_time.data or "",
            weight_grams=self.weight_grams.data or 0,
            category_id=int(self.category.data) if self.category.data else None,
            is_active=bool(self.is_active.data),
            is_featured=bool(self.is_featured.data),
            reorder_level=self.reorder_level.data or 0,
        )


ENTER_CHANGE = _l("Please enter by how much, such as 10 (percent) or 1.50 (amount).")


class PriceChangeForm(Form):
    """Up or down, by a percentage or an amount; shown again on the preview to apply."""

    change_by = SelectField(_l("Change prices by"))
    direction = SelectField(_l("Direction"))
    amount = StringField(
        _l("Percent or amount"), filters=[strip], validators=[InputRequired(ENTER_CHANGE)]
    )
    change: PriceChange  # set once the form validates

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.change_by.choices = [("percent", _l("percent")), ("amount", _l("amount"))]
        self.direction.choices = [("up", _l("up")), ("down", _l("down"))]

    def validate_amount(self, field: Field) -> None:
        up = self.direction.data != "down"
        if self.change_by.data == "percent":
            try:
                percent = Decimal((field.data or "").replace(",", "."))
            except InvalidOperation as exc:
                raise ValidationError(ENTER_CHANGE) from exc
            if not percent.is_finite() or percent != percent.quantize(Decimal("0.01")):
                raise ValidationError(_l("Please enter a percentage with at most two decimals."))
            if not Decimal(0) < percent <= Decimal(1000):
                raise ValidationError(_l("Please enter a percentage above 0 and up to 1000."))
            self.change = PriceChange(True, up, int(percent * 100))
            return
        try:
            cents = parse_amount(field.data, current_app.config["KIOSK_CURRENCY"]).cents
        except OutOfRange as problem:
            raise ValidationError(str(problem)) from problem
        except InputProblem as problem:
            raise ValidationError(ENTER_CHANGE) from problem
        if cents <= 0:
            raise ValidationError(ENTER_CHANGE)
        self.change = PriceChange(False, up, cents)

    def describe(self) -> str:
        """The change in words: "up by 10 %", "down by 1,50 €"."""
        if self.change.by_percent:
            amount = f"{format_decimal(Decimal(self.change.amount) / 100)} %"
        else:
            amount = money_input(self.change.amount)
        if self.change.up:
            return str(_l("up by %(amount)s", amount=amount))
        return str(_l("down by %(amount)s", amount=amount))


class BulkForm(Form):
    """The list's selection form: the action is the button pressed; moving also needs the
    category. A price change goes on to its preview (a GET) with the fields as typed."""

    category = SelectField(_l("Move to category"), validate_choice=False)

    def __init__(self, categories: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.category.choices = _category_options(categories)

    def category_id(self) -> int | None:
        """The category to move to (None: none); ValueError if it is not one of the list."""
        chosen = self.category.data or ""
        if chosen not in {str(value) for value, _label in self.category.choices or []}:
            raise ValueError(chosen)
        return int(chosen) if chosen else None
