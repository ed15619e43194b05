"""Staff keep the category tree: create, rename, move, reorder, hide and delete, each
audited, each seen at once by the shop front (the cached tree is dropped)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.audit.models import AuditEvent
from kiosk.catalog.models import Category, Product
from kiosk.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_category, make_product
from tests.shopping import staff_member


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return staff_member(app)


@pytest.fixture
def tree(app: Flask) -> dict[str, int]:
    """Getränke (Tee (Grüntee), Saft), Kaffee: a product in Tee and one in Kaffee."""
    with app.app_context():
        drinks = make_category("Getränke", slug="getraenke")
        tea = make_category("Tee", slug="tee", parent=drinks, sort_order=0)
        green = make_category("Grüntee", slug="gruentee", parent=tea)
        juice = make_category("Saft", slug="saft", parent=drinks, sort_order=1)
        coffee = make_category("Kaffee", slug="kaffee", sort_order=1)
        make_product(name="Sencha", slug="sencha", category=tea)
        make_product(name="Espresso", slug="espresso", category=coffee)
        return {
            "drinks": drinks.id,
            "tea": tea.id,
            "green": green.id,
            "juice": juice.id,
            "coffee": coffee.id,
        }


def post(client: FlaskClient, url: str, **data: Any) -> Any:
    token = csrf_token(client, "/staff/categories")
    return client.post(url, data={"csrf_token": token, **data})


def category(app: Flask, category_id: int) -> Category | None:
    with app.app_context():
        found = db.session.get(Category, category_id)
        db.session.expunge_all()
        return found


def events(app: Flask, name: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))
        db.session.expunge_all()
        return rows


def shop_nav(client: FlaskClient, page: str = "/c/getraenke") -> str:
    """The category links of a shop page (drawn from the cached tree)."""
    return " ".join(re.findall(r'href="/c/([a-z0-9-]+)"', client.get(page).text))


def test_the_tree_shows_each_category_indented_with_counts_and_state(
    staff: FlaskClient, tree: dict[str, int]
) -> None:
    page = staff.get("/staff/categories").text
    assert page.index("Getränke") < page.index("Tee") < page.index("Grüntee") < page.index("Saft")
    assert page.index("Saft") < page.index("Kaffee")
    tea = page[page.index(f'id="category-{tree["tea"]}"') :]
    assert "1 product" in tea[: tea.index("</a>") + 80]
    assert page.count('<ul class="category-tree">') == 3  # top, below Getränke, below Tee
    assert "shown in the shop" in page
    assert staff.get("/staff/categories/999999").status_code == 404
    assert post(staff, "/staff/categories/999999/rename", name="X", slug="x").status_code == 404
    assert post(staff, "/staff/categories/999999/deactivate").status_code == 404


def test_staff_create_a_subcategory_and_the_shop_shows_it_at_once(
    app: Flask, staff: FlaskClient, client: FlaskClient, tree: dict[str, int]
) -> None:
    assert "kraeutertee" not in shop_nav(client, "/c/tee")  # the tree is cached now
    response = post(
        staff, "/staff/categories/new", name="Kräutertee", slug="", parent=str(tree["tea"])
    )
    assert response.status_code == 303
    with app.app_context():
        created = db.session.scalars(select(Category).where(Category.slug == "kraeutertee")).one()
        assert (created.parent_id, created.sort_order, created.is_active) == (tree["tea"], 1, True)
    assert response.headers["Location"] == f"/staff/categories/{created.id}"
    assert "kraeutertee" in shop_nav(client, "/c/tee")
    (event,) = events(app, "category.created")
    assert event.details["after"]["slug"] == "kraeutertee"
    assert event.actor_id is not None


def test_a_taken_or_malformed_slug_is_refused_at_its_field_with_the_input_kept(
    app: Flask, staff: FlaskClient, tree: dict[str, int]
) -> None:
    response = post(staff, "/staff/categories/new", name="Noch ein Tee", slug="tee", parent="")
    assert response.status_code == 422
    assert "Another category has this address already" in response.text
    assert 'value="Noch ein Tee"' in response.text
    assert 'aria-invalid="true"' in response.text

    url = f"/staff/categories/{tree['juice']}/rename"
    response = post(staff, url, name="Säfte", slug="Säfte!")
    assert response.status_code == 422
    assert "lower-case letters, digits and single hyphens" in response.text
    assert 'value="Säfte!"' in response.text
    assert category(app, tree["juice"]).slug == "saft"  # type: ignore[union-attr]


def test_rename_changes_name_and_address_and_is_audited(
    app: Flask, staff: FlaskClient, client: FlaskClient, tree: dict[str, int]
) -> None:
    assert "saft" in shop_nav(client).split()
    response = post(staff, f"/staff/categories/{tree['juice']}/rename", name="Säfte", slug="saefte")
    assert response.status_code == 303
    renamed = category(app, tree["juice"])
    assert renamed is not None and (renamed.name, renamed.slug) == ("Säfte", "saefte")
    assert "saefte" in shop_nav(client).split() and "saft" not in shop_nav(client).split()
    (event,) = events(app, "category.updated")
    assert event.details["before"]["slug"] == "saft" and event.details["after"]["slug"] == "saefte"
    # The same again changes nothing and records nothing.
    post(staff, f"/staff/categories/{tree['juice']}/rename", name="Säfte", slug="saefte")
    assert len(events(app, "category.updated")) == 1


def test_move_puts_a_category_with_its_subtree_under_another_parent(
    app: Flask, staff: FlaskClient, tree: dict[str, int]
) -> None:
    response = post(staff, f"/staff/categories/{tree['tea']}/move", parent=str(tree["coffee"]))
    assert response.status_code == 303
    assert category(app, tree["tea"]).parent_id == tree["coffee"]  # type: ignore[union-attr]
    assert category(app, tree["green"]).parent_id == tree["tea"]  # type: ignore[union-attr]
    (event,) = events(app, "category.moved")
    assert (event.details["before"]["parent"], event.details["after"]["parent"]) == (
        tree["drinks"],
        tree["coffee"],
    )
    response = post(staff, f"/staff/categories/{tree['tea']}/move", parent="")
    assert category(app, tree["tea"]).parent_id is None  # type: ignore[union-attr]


def test_moving_a_category_under_itself_or_below_is_refused(
    app: Flask, staff: FlaskClient, tree: dict[str, int]
) -> None:
    for target in ("drinks", "tea", "green"):
        url = f"/staff/categories/{tree['drinks']}/move"
        response = post(staff, url, parent=str(tree[target]))
        assert response.status_code == 422, target
        assert "cannot sit below itself" in response.text
    assert category(app, tree["drinks"]).parent_id is None  # type: ignore[union-attr]
    assert events(app, "category.moved") == []
    # The form offers none of them.
    page = staff.get(f"/staff/categories/{tree['drinks']}").text
    move = page[page.index('id="move-parent"') : page.index("</select>", page.index("move-parent"))]
    assert f'value="{tree["coffee"]}"' in move
    assert all(f'value="{tree[name]}"' not in move for name in ("drinks", "tea", "green"))


def test_reorder_swaps_siblings_and_a_double_submit_moves_once(
    app: Flask, staff: FlaskClient, client: FlaskClient, tree: dict[str, int]
) -> None:
    assert shop_nav(client).index("tee") < shop_nav(client).index("saft")
    url = f"/staff/categories/{tree['juice']}/reorder"
    assert post(staff, url, direction="up", position="1").status_code == 303
    assert post(staff, url, direction="up", position="1").status_code == 303  # the same click
    assert category(app, tree["juice"]).sort_order == 0  # type: ignore[union-attr]
    assert category(app, tree["tea"]).sort_order == 1  # type: ignore[union-attr]
    assert shop_nav(client).index("saft") < shop_nav(client).index("tee")
    assert len(events(app, "category.reordered")) == 1


def test_reorder_with_htmx_returns_the_fresh_tree(staff: FlaskClient, tree: dict[str, int]) -> None:
    token = csrf_token(staff, "/staff/categories")
    response = staff.post(
        f"/staff/categories/{tree['coffee']}/reorder",
        data={"csrf_token": token, "direction": "up", "position": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<h1>" not in response.text and 'class="category-tree"' in response.text
    assert response.text.index("Kaffee") < response.text.index("Getränke")


def test_a_hidden_category_and_its_subcategories_leave_the_shop_but_products_stay(
    app: Flask, staff: FlaskClient, client: FlaskClient, tree: dict[str, int]
) -> None:
    assert client.get("/c/gruentee").status_code == 200
    response = post(staff, f"/staff/categories/{tree['tea']}/deactivate")
    assert response.status_code == 303
    assert "tee" not in shop_nav(client).split() and "gruentee" not in shop_nav(client).split()
    assert client.get("/c/tee").status_code == 404
    assert client.get("/c/gruentee").status_code == 404
    assert client.get("/c/getraenke").status_code == 200
    assert client.get("/p/sencha").status_code == 200  # its product stays on sale
    assert "Sencha" in client.get("/products?q=sencha").text
    assert "hidden with its parent" in staff.get("/staff/categories").text
    (event,) = events(app, "category.deactivated")
    assert event.details == {"category": tree["tea"], "before": {"active": True},
                             "after": {"active": False}}  # fmt: skip

    post(staff, f"/staff/categories/{tree['tea']}/activate")
    assert client.get("/c/gruentee").status_code == 200
    assert len(events(app, "category.activated")) == 1


def test_an_empty_category_is_deleted(
    app: Flask, staff: FlaskClient, client: FlaskClient, tree: dict[str, int]
) -> None:
    assert "saft" in shop_nav(client).split()
    response = post(staff, f"/staff/categories/{tree['juice']}/delete", move_to="")
    assert response.status_code == 303
    assert category(app, tree["juice"]) is None
    assert "saft" not in shop_nav(client).split()
    (event,) = events(app, "category.deleted")
    assert event.details["before"]["slug"] == "saft"


def test_a_category_with_products_or_subcategories_is_not_deleted_without_moving_them(
    app: Flask, staff: FlaskClient, tree: dict[str, int]
) -> None:
    for name in ("coffee", "drinks"):  # products; subcategories
        response = post(staff, f"/staff/categories/{tree[name]}/delete", move_to="")
        assert response.status_code == 422
        assert "Choose where they go" in response.text
        assert category(app, tree[name]) is not None
    # Nor into a category of its own subtree, which would go with it.
    response = post(staff, f"/staff/categories/{tree['tea']}/delete", move_to=str(tree["green"]))
    assert response.status_code == 422
    assert category(app, tree["tea"]) is not None
    assert events(app, "category.deleted") == []


def test_move_the_products_and_subcategories_and_delete_in_one_step(
    app: Flask, staff: FlaskClient, tree: dict[str, int]
) -> None:
    page = staff.get(f"/staff/categories/{tree['tea']}").text
    assert "Move them and delete this category" in page
    url = f"/staff/categories/{tree['tea']}/delete"
    response = post(staff, url, move_to=str(tree["coffee"]))
    assert response.status_code == 303
    assert category(app, tree["tea"]) is None
    assert category(app, tree["green"]).parent_id == tree["coffee"]  # type: ignore[union-attr]
    with app.app_context():
        sencha = db.session.scalars(select(Product).where(Product.slug == "sencha")).one()
        assert sencha.category_id == tree["coffee"]
    (event,) = events(app, "category.deleted")
    assert event.details["after"] == {
        "products_moved_to": tree["coffee"],
        "products_moved": 1,
        "subcategories_moved": [tree["green"]],
    }
