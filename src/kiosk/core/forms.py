"""Forms of the shop frame: the language and theme choices."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from kiosk.i18n import LANGUAGE_NAMES, THEMES


class PreferencesForm(FlaskForm):
    lang = SelectField(choices=[("", "")] + list(LANGUAGE_NAMES.items()), default="")
    theme = SelectField(choices=[("", "")] + [(t, t) for t in THEMES], default="")
    next = HiddenField()
