"""Forms on catalog pages."""

from __future__ import annotations

from kiosk.accounts.forms import ForgotPasswordForm


class StockAlertForm(ForgotPasswordForm):
    """A guest's address for a back-in-stock mail: the same one checked email field
    as the reset request. Signed-in shoppers only press the button (`EmptyForm`)."""
