"""All models, imported here so Alembic and the app see the whole schema."""

from kiosk.models.base import Base
from kiosk.models.catalog import Category, Product, ProductImage, UnitMeasure
from kiosk.models.customer import Role, User

__all__ = ["Base", "Category", "Product", "ProductImage", "Role", "UnitMeasure", "User"]
