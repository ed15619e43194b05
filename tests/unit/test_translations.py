"""German and English from day one: the German catalogue covers every text of the code."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from kiosk.config import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "src" / "kiosk"
GERMAN = SOURCE / "translations" / "de" / "LC_MESSAGES" / "messages.po"
# A one-line call of a gettext function with a literal: _("…"), _l("…"), gettext("…").
CALL = re.compile(r"""\b(?:_|_l|gettext|lazy_gettext)\((["'])((?:(?!\1).)+)\1[,)]""")


def _catalogue() -> dict[str, tuple[str, bool]]:
    with GERMAN.open("rb") as file:
        return {str(m.id): (str(m.string), m.fuzzy) for m in read_po(file) if isinstance(m.id, str)}


def test_every_german_text_is_translated_and_checked() -> None:
    missing = [msgid for msgid, (text, fuzzy) in _catalogue().items() if msgid and not text]
    fuzzy = [msgid for msgid, (_text, is_fuzzy) in _catalogue().items() if is_fuzzy]
    assert missing == [] and fuzzy == [], "run make i18n-update and translate these"


def test_every_text_in_the_code_is_in_the_catalogue() -> None:
    """Catches a text added without `make i18n-update`, and a `_()` inside an f-string,
    which Babel's extractor does not see on Python 3.11."""
    known = _catalogue()
    unknown = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {match.group(2)}"
        for path in sorted(SOURCE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for match in CALL.finditer(line)
        if match.group(2) not in known
    ]
    assert unknown == []
