"""The privacy centre's forms: a guest's export request and the consent choices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, StringField
from wtforms.validators import AnyOf, Email, InputRequired, Length

from kiosk.privacy.consent import CHOICES
from kiosk.privacy.cookies import OPTIONAL, Category
from kiosk.validation import Form, strip


class ExportRequestForm(Form):
    """A guest names the address their orders and requests were made under."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[InputRequired(), Email(), Length(max=254)],
        description=_l("The address you used for your orders or requests."),
    )


class ConsentForm(Form):
    """The banner's two buttons and the settings' checkboxes post the same form: `choice`
    is the button pressed; the checkboxes count only for "Save my choice"."""

    choice = StringField(_l("Your choice"), validators=[InputRequired(), AnyOf(CHOICES)])
    preferences = BooleanField(_l("Preferences"))
    statistics = BooleanField(_l("Statistics"))
    marketing = BooleanField(_l("Marketing"))
    next = HiddenField()

    def chosen(self) -> set[Category]:
        return {category for category in OPTIONAL if self[category.value].data}


class ConsentCategoriesForm(Form):
    """The owner's decision which optional categories the shop uses."""

    preferences = BooleanField(_l("Preferences: recently viewed products"))
    statistics = BooleanField(_l("Statistics"))
    marketing = BooleanField(_l("Marketing"))

    def in_use(self) -> set[Category]:
        return {category for category in OPTIONAL if self[category.value].data}

    @classmethod
    def of(cls, in_use: frozenset[Category]) -> ConsentCategoriesForm:
        data = {category.value: category in in_use for category in OPTIONAL}
        return cls(formdata=None, data=data)
