"""Words for the states of an erasure request, in the page's language."""

from __future__ import annotations

from flask_babel import gettext as _


def erasure_state_names() -> dict[str, str]:
    return {
        "requested": _("waiting for confirmation"),
        "confirmed": _("confirmed"),
        "postponed": _("postponed: an order is open"),
        "done": _("erased"),
    }
