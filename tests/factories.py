"""Test data made through the same repositories and unit of work as the shop's own.

Call inside an app context; each call commits, like a real use case would.
"""

from __future__ import annotations

import itertools
from typing import Any

from kiosk.accounts.models import Role, User
from kiosk.accounts.passwords import hash_password
from kiosk.accounts.repository import UserRepository
from kiosk.catalog.models import Category, Product, ProductImage
from kiosk.catalog.repository import CategoryRepository, ProductRepository
from kiosk.encryption import encrypt
from kiosk.inventory.services import set_stock
from kiosk.orm import utcnow
from kiosk.uow import unit_of_work

_numbers = itertools.count(1)


def make_category(
    name: str = "Kaffee", slug: str | None = None, parent: Category | None = None, **fields: Any
) -> Category:
    with unit_of_work() as session:
        category = Category(
            name=name,
            slug=slug or f"{name.lower()}-{next(_numbers)}",
            parent_id=parent.id if parent else None,
            **fields,
        )
        CategoryRepository(session).add(category)
    return category


def make_product(
    name: str | None = None, category: Category | None = None, images: int = 0, **fields: Any
) -> Product:
    number = next(_numbers)
    values: dict[str, Any] = {
        "name": name or f"Produkt {number}",
        "slug": f"produkt-{number}",
        "sku": f"SKU-{number}",
        "price_cents": 1000 + number,
        "stock_on_hand": 10,
        "description": "Ein **gutes** Produkt.",
        "category_id": category.id if category else None,
    }
    values.update(fields)
    stock = values.pop("stock_on_hand")
    with unit_of_work() as session:
        product = ProductRepository(session).save(Product(**values))
        session.flush()
        set_stock(session, product.id, stock, "test data")
        for position in range(images):
            product.images.append(
                ProductImage(
                    position=position,
                    filename=f"p{number}-{position}.webp",
                    alt=f"Bild {position + 1}",
                )
            )
    return product


PASSWORD = "correct horse battery staple"


def make_user(
    email: str = "jana@example.org",
    password: str = PASSWORD,
    verified: bool = True,
    role: Role = Role.CUSTOMER,
    locale: str = "en",
    two_factor_secret: str | None = None,
    **fields: Any,
) -> User:
    with unit_of_work() as session:
        user = UserRepository(session).add(
            User(
                email=email,
                password_hash=hash_password(password),
                role=role,
                locale=locale,
                **fields,
            )
        )
        if verified:
            user.email_verified_at = utcnow()
        if two_factor_secret:
            user.totp_secret = encrypt(two_factor_secret)
            user.totp_enabled_at = utcnow()
    return user
