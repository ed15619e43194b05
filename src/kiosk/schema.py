"""The whole schema: every domain's tables, imported in one place so that Alembic (through
the app's metadata), the app and the tests see all of them.

This module assembles the domains, like `app.py`; no domain imports it.
"""

import kiosk.accounts.models
import kiosk.analytics.models
import kiosk.audit.models
import kiosk.backoffice.models
import kiosk.cart.models
import kiosk.catalog.models
import kiosk.coupons.models
import kiosk.inventory.models
import kiosk.invoicing.models
import kiosk.legal.models
import kiosk.mail.models
import kiosk.orders.models
import kiosk.payments.models
import kiosk.privacy.models
import kiosk.rate_limit_repository
import kiosk.shipping.models  # noqa: F401
from kiosk.orm import Base

__all__ = ["Base"]
