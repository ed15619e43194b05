"""The form of a legal text: its Markdown in every language the shop speaks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from kiosk.legal.services import MAX_LENGTH
from kiosk.validation import Form

TEXT_NEEDED = _l("Please enter the text; a legal page cannot be empty.")


def _text(label: str) -> TextAreaField:
    return TextAreaField(label, validators=[DataRequired(TEXT_NEEDED), Length(max=MAX_LENGTH)])


class LegalTextForm(Form):
    """A legal text in German and English; a save becomes a new version of both."""

    markdown_de = _text(_l("German text"))
    markdown_en = _text(_l("English text"))

    def texts(self) -> dict[str, str]:
        """The Markdown by language, with the browser's line ends made plain."""
        return {
            "de": (self.markdown_de.data or "").replace("\r\n", "\n"),
            "en": (self.markdown_en.data or "").replace("\r\n", "\n"),
        }
