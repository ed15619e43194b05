"""The whole schema: every domain's tables, imported in one place so that Alembic (through
the app's metadata), the app and the tests see all of them.

This module assembles the domains, like `app.py`; no domain imports it.
"""

from kiosk.orm import Base

__all__ = ["Base"]
