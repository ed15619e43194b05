"""Forms of the staff order page: each validates on the server and comes back with its
errors tied to its fields and with what staff typed."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    FileField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from kiosk.i18n import LANGUAGE_NAMES
from kiosk.money import Money
from kiosk.shipping import services as shipping
from kiosk.shipping.services import TRACKING_NUMBER
from kiosk.validation import (
    Form,
    InputProblem,
    IntegerField,
    OutOfRange,
    parse_amount,
    strip,
)


class PageForm(Form):
    """One of several forms on a page: its field ids start with `id_prefix`, so no two
    fields share an id, while the field names (what the view reads) stay plain."""

    id_prefix = ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for field in self:
            field.id = f"{self.id_prefix}-{field.name}"
            field.label.field_id = field.id


class MarkPaidForm(PageForm):
    id_prefix = "paid"
    note = StringField(_l("Note (optional)"), filters=[strip], validators=[Length(max=500)])


ENTER_AMOUNT = _l("Please enter the amount to refund, such as 12.50.")
GIVE_REASON = _l("Please give a reason; it goes into the order's history.")


class RefundForm(PageForm):
    id_prefix = "refund"
    amount = StringField(_l("Amount"), filters=[strip], validators=[DataRequired(ENTER_AMOUNT)])
    reason = StringField(
        _l("Reason"), filters=[strip], validators=[DataRequired(GIVE_REASON), Length(max=500)]
    )
    goods_returned = BooleanField(_l("The goods came back: put them back in stock"))
    money: Money  # the amount, parsed once it validates

    def validate_amount(self, field: Field) -> None:
        try:
            self.money = parse_amount(field.data, current_app.config["KIOSK_CURRENCY"])
        except OutOfRange as exc:
            raise ValidationError(str(exc)) from exc
        except InputProblem as exc:
            raise ValidationError(ENTER_AMOUNT) from exc
        if self.money.cents <= 0:
            raise ValidationError(ENTER_AMOUNT)


class NoteForm(PageForm):
    id_prefix = "order"
    note = TextAreaField(
        _l("Note"),
        filters=[strip],
        validators=[DataRequired(_l("Please write the note.")), Length(max=500)],
    )


class StatusForm(PageForm):
    """One button of "Move the order on"; the shipped one also asks for carrier and number.

    Each target state has its own form on the page, so the fields take ids of
    their own (`shipped-reason`, …) while keeping the names the view reads.
    """

    carrier = SelectField(_l("Carrier"), validators=[Optional()])
    tracking = StringField(
        _l("Tracking number"),
        filters=[strip],
        validators=[
            Optional(),
            Regexp(
                TRACKING_NUMBER,
                message=_l("A tracking number has 4 to 40 letters, digits or hyphens."),
            ),
        ],
    )
    reason = StringField(
        _l("Reason or note (optional)"), filters=[strip], validators=[Length(max=500)]
    )

    def __init__(self, state: str, default_carrier: str = "", **kwargs: Any) -> None:
        self.id_prefix = state
        super().__init__(data={"carrier": default_carrier}, **kwargs)
        self.state = state
        carriers = shipping.carriers().values()
        self.carrier.choices = [("", _l("None (no tracking)"))] + [
            (carrier.code, carrier.name) for carrier in carriers
        ]

    def validate_tracking(self, field: Field) -> None:
        if field.data and not self.carrier.data:
            raise ValidationError(_l("Please choose the carrier of this tracking number."))

    def details(self) -> dict[str, str]:
        """What the history keeps of this step besides the reason (carrier, number)."""
        if self.state != "shipped" or not self.carrier.data:
            return {}
        details = {"carrier": str(self.carrier.data)}
        if self.tracking.data:
            details["tracking"] = self.tracking.data
        return details


class CustomerNoteForm(Form):
    note = TextAreaField(
        _l("Note"),
        filters=[strip],
        validators=[DataRequired(_l("Please write the note.")), Length(max=1000)],
    )


TEAM_ROLES = {"staff": _l("Staff member"), "owner": _l("Owner")}
PICK_ROLE = AnyOf(list(TEAM_ROLES), message=_l("Please choose staff member or owner."))


class InviteForm(Form):
    email = EmailField(
        _l("Email address"),
        filters=[strip],
        validators=[InputRequired(), Email(), Length(max=254)],
    )
    # Offered as <select>s (TEAM_ROLES, LANGUAGE_NAMES); anything else is refused here.
    role = StringField(_l("Role"), validators=[PICK_ROLE], default="staff")
    locale = StringField(
        _l("Language of the invitation"),
        validators=[AnyOf(list(LANGUAGE_NAMES), message=_l("Please choose a language."))],
        default="de",
    )


class RoleForm(Form):
    role = StringField(_l("Role"), validators=[PICK_ROLE])


# Categories ------------------------------------------------------------------------

NAME_CATEGORY = _l("Please name the category.")
TOP_LEVEL = ""  # the value of "no parent" in the category choices


class CategoryForm(PageForm):
    """A new category: name, address (from the name when left empty) and its parent."""

    id_prefix = "new-category"
    name = StringField(
        _l("Name"), filters=[strip], validators=[DataRequired(NAME_CATEGORY), Length(max=120)]
    )
    slug = StringField(_l("Address (slug)"), filters=[strip], validators=[Length(max=120)])
    parent = SelectField(_l("Parent category"), validate_choice=True)

    def parent_id(self) -> int | None:
        return int(self.parent.data) if self.parent.data else None


class RenameCategoryForm(PageForm):
    id_prefix = "rename"
    name = StringField(
        _l("Name"), filters=[strip], validators=[DataRequired(NAME_CATEGORY), Length(max=120)]
    )
    slug = StringField(
        _l("Address (slug)"),
        filters=[strip],
        validators=[DataRequired(_l("Please give the category an address.")), Length(max=120)],
    )


class MoveCategoryForm(PageForm):
    id_prefix = "move"
    parent = SelectField(_l("New parent category"), validate_choice=True)

    def parent_id(self) -> int | None:
        return int(self.parent.data) if self.parent.data else None


class DeleteCategoryForm(PageForm):
    id_prefix = "delete"
    move_to = SelectField(_l("Move its products and subcategories to"), validate_choice=True)

    def target_id(self) -> int | None:
        return int(self.move_to.data) if self.move_to.data else None


class ReorderCategoryForm(PageForm):
    """An up or down button of the tree; `position` is where the category was shown."""

    direction = SelectField(
        choices=[SelectChoice("up"), SelectChoice("down")], validate_choice=True
    )
    position = IntegerField(validators=[InputRequired()], minimum=0, maximum=100_000)


# Stock -----------------------------------------------------------------------------

MAX_STOCK = 1_000_000


class StockAdjustForm(PageForm):
    id_prefix = "stock"
    reason = SelectField(_l("Reason"), validate_choice=True)
    quantity = IntegerField(
        _l("Quantity"),
        validators=[InputRequired(_l("Please enter a whole number, such as 3."))],
        minimum=0,
        maximum=MAX_STOCK,
    )
    note = StringField(_l("Note (optional)"), filters=[strip], validators=[Length(max=200)])
    seen = IntegerField(validators=[Optional()], minimum=0)

    def __init__(self, reasons: list[SelectChoice], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reason.choices = reasons

    def validate_quantity(self, field: Field) -> None:
        if field.data == 0 and self.reason.data != "count":
            raise ValidationError(_l("Please enter how many, at least 1."))


class ImportForm(Form):
    """A CSV file to import. The file comes from `request.files` (the shop's forms read
    text fields only); the view checks it and puts its problems on `file`."""

    kind = SelectField(
        _l("The file holds"),
        choices=[
            SelectChoice("products", _l("Products")),
            SelectChoice("categories", _l("Categories")),
        ],
        default="products",
    )
    file = FileField(_l("CSV file"))


# Product pictures -------------------------------------------------------------------------

WRITE_ALT = _l("Please describe the picture for people who cannot see it.")
ALT_LIMIT = 300  # ProductImage.alt


class PictureUploadForm(PageForm):
    """Files and one alt text for all of them. The files themselves come from
    `request.files` (the view reads them); the field is here for its label and errors."""

    id_prefix = "upload"
    pictures = MultipleFileField(_l("Pictures (JPEG, PNG, WebP or GIF)"))
    alt = StringField(
        _l("Alt text"),
        filters=[strip],
        validators=[DataRequired(WRITE_ALT), Length(max=ALT_LIMIT)],
    )


class AltTextForm(PageForm):
    """The alt text of one picture; each picture's form has ids and a label of its own."""

    alt = StringField(
        _l("Alt text"),
        filters=[strip],
        validators=[DataRequired(WRITE_ALT), Length(max=ALT_LIMIT)],
    )

    def __init__(self, image_id: int, number: int, **kwargs: Any) -> None:
        self.id_prefix = f"alt-{image_id}"
        super().__init__(**kwargs)
        self.alt.label.text = _l("Alt text of picture %(num)d", num=number)


class MovePictureForm(Form):
    """Move up or down one place, from the place the page showed (`seen_at`)."""

    direction = StringField(validators=[AnyOf(["up", "down"])])
    seen_at = IntegerField(minimum=0, maximum=10_000, validators=[InputRequired()])

    @property
    def step(self) -> int:
        return -1 if self.direction.data == "up" else 1
