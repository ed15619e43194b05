"""Forms of the shop frame: the language and theme choices."""

from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, Optional

from kiosk.i18n import LANGUAGE_NAMES, THEMES
from kiosk.validation import Form


class PreferencesForm(Form):
    lang = StringField(validators=[Optional(), AnyOf(list(LANGUAGE_NAMES))])
    theme = StringField(validators=[Optional(), AnyOf(THEMES)])
    next = HiddenField()
