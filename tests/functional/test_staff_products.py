"""Staff products: the list with its filters and CSV, the product form, bulk actions,
copies, delete or archive, and the audit log of each change."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from kiosk.audit.models import AuditEvent
from kiosk.catalog.models import Product
from kiosk.catalog.repository import ProductRepository
from kiosk.extensions import db
from kiosk.inventory.services import set_stock
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import make_category, make_product
from tests.shopping import buy, staff_member


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return staff_member(app)


def _product(app: Flask, product_id: int) -> Product:
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product is not None
        db.session.expunge(product)
        return product


def _events(app: Flask, prefix: str = "product.") -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return [e for e in rows if e.event.startswith(prefix)]


class _FormReader(HTMLParser):
    """What a browser would send from a page's form with this action, as it stands."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.values = action, False, {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif not self.inside or "name" not in a:
            if tag == "option" and self.inside and self.select and "selected" in a:
                self.values[self.select] = a.get("value", "")
            return
        elif tag == "input" and a.get("type") == "checkbox":
            if "checked" in a:
                self.values[a["name"]] = a.get("value", "y")
        elif tag == "input" and a.get("type") != "submit":
            self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a["name"]
            self.values.setdefault(a["name"], "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.values[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea] += data.removeprefix("\r\n")


def _form(html: str, action: str) -> dict[str, str]:
    reader = _FormReader(action)
    reader.feed(html)
    return reader.values


def _names_in(html: str) -> list[str]:
    """The product names the list shows, in order (the links of its table)."""
    return re.findall(r'<td><a href="/staff/products/\d+">([^<]+)</a></td>', html)


FIELDS = {
    "name": "Blauer Becher",
    "slug": "",
    "sku": "MUG-BLUE",
    "description": "Ein **blauer** Becher.",
    "price": "12,90",
    "compare_at": "15.90",
    "vat_class": "standard",
    "unit_content": "",
    "unit_measure": "",
    "delivery_time": "2–3 Werktage",
    "weight_grams": "350",
    "category": "",
    "reorder_level": "5",
    "is_active": "y",
}


def _post(client: FlaskClient, url: str, form_url: str | None = None, **fields: Any) -> Any:
    data = {"csrf_token": csrf_token(client, form_url or url), **fields}
    return client.post(url, data=data)


def _create(staff: FlaskClient, **changes: str) -> Any:
    return _post(staff, "/staff/products/new", **{**FIELDS, **changes})


# The list --------------------------------------------------------------------------------


def test_the_list_searches_filters_and_sorts(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        tea = make_category("Tee", slug="tee")
        make_product("Grüner Tee", category=tea, sku="TEA-1", price_cents=500, stock_on_hand=50)
        make_product(
            "Schwarzer Tee", category=tea, price_cents=700, stock_on_hand=3, reorder_level=5
        )
        make_product("Becher", price_cents=300, stock_on_hand=0)
        make_product("Alter Becher", is_active=False, price_cents=900)
        tea_id = tea.id
    assert _names_in(staff.get("/staff/products").text) == [
        "Alter Becher",
        "Becher",
        "Grüner Tee",
        "Schwarzer Tee",
    ]
    assert _names_in(staff.get("/staff/products?q=GRÜN").text) == ["Grüner Tee"]
    assert _names_in(staff.get("/staff/products?q=tea-1").text) == ["Grüner Tee"]
    assert _names_in(staff.get(f"/staff/products?category={tea_id}").text) == [
        "Grüner Tee",
        "Schwarzer Tee",
    ]
    assert _names_in(staff.get("/staff/products?status=inactive").text) == ["Alter Becher"]
    assert _names_in(staff.get("/staff/products?stock=low").text) == ["Schwarzer Tee"]
    assert _names_in(staff.get("/staff/products?stock=out").text) == ["Becher"]
    assert _names_in(staff.get("/staff/products?stock=in_stock").text) == [
        "Alter Becher",
        "Grüner Tee",
    ]
    assert _names_in(staff.get("/staff/products?sort=price").text) == [
        "Becher",
        "Grüner Tee",
        "Schwarzer Tee",
        "Alter Becher",
    ]
    assert _names_in(staff.get("/staff/products?sort=stock&status=active").text)[-1] == (
        "Grüner Tee"
    )
    # Unknown values count as "any"; nothing breaks.
    odd = staff.get("/staff/products?category=x&status=%00&stock=9&sort=drop&page=-3")
    assert odd.status_code == 200 and len(_names_in(odd.text)) == 4
    page = staff.get("/staff/products?q=becher&stock=out&sort=newest").text
    assert 'name="q" type="search" value="becher"' in page
    assert '<option value="out" selected>' in page and '<option value="newest" selected>' in page
    assert "<h1>" in page
    fragment = staff.get("/staff/products?q=becher", headers={"HX-Request": "true"})
    assert "<h1>" not in fragment.text and "2 products ·" in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]


def test_the_list_has_pages_that_keep_the_filter(app: Flask, staff: FlaskClient) -> None:
    with app.app_context(), unit_of_work() as session:
        products = ProductRepository(session)
        for number in range(51):
            name = f"Tasse {number:02d}"
            products.save(
                Product(name=name, slug=f"tasse-{number}", sku=f"CUP-{number}", price_cents=100)
            )
    first = staff.get("/staff/products?q=tasse").text
    assert len(_names_in(first)) == 50 and "Page 1 of 2" in first
    assert 'href="/staff/products?q=tasse&amp;page=2"' in first
    assert _names_in(staff.get("/staff/products?q=tasse&page=2").text) == ["Tasse 50"]


# Create and edit ----------------------------------------------------------------------


def test_staff_create_a_product_with_every_field(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        category_id = make_category("Geschirr", slug="geschirr").id
    response = _create(
        staff, category=str(category_id), unit_content="250", unit_measure="ml", is_featured="y"
    )
    assert response.status_code == 303
    product_id = int(response.headers["Location"].rsplit("/", 1)[1])
    product = _product(app, product_id)
    assert (product.name, product.slug, product.sku) == (
        "Blauer Becher",
        "blauer-becher",
        "MUG-BLUE",
    )
    assert (product.price_cents, product.compare_at_cents) == (1290, 1590)
    assert (product.unit_content, product.unit_measure) == (250, "ml")
    assert (product.weight_grams, product.reorder_level, product.category_id) == (
        350,
        5,
        category_id,
    )
    assert product.is_active and product.is_featured and product.delivery_time == "2–3 Werktage"
    assert product.stock_on_hand == 0 and product.currency == "EUR"
    (event,) = _events(app)
    assert event.event == "product.created" and event.details["values"]["price_cents"] == 1290


def test_the_vat_rates_are_named_in_the_page_language(app: Flask, staff: FlaskClient) -> None:
    """The default classes of KIOSK_VAT_RATES in words; a class the shop adds, as it is named."""
    app.config["KIOSK_VAT_RATES"] = {"standard": 1900, "reduced": 700, "books": 500}
    english = staff.get("/staff/products/new").text
    assert ">standard rate (19 %)</option>" in english
    assert ">reduced rate (7 %)</option>" in english and ">books (5 %)</option>" in english
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    german = staff.get("/staff/products/new").text
    assert ">Regelsatz (19 %)</option>" in german and ">ermäßigter Satz (7 %)</option>" in german


def test_a_form_with_errors_keeps_everything_typed(app: Flask, staff: FlaskClient) -> None:
    response = _create(
        staff,
        name="",
        sku="bad sku!",
        price="zwölf",
        compare_at="1,00",
        unit_content="250",
        weight_grams="-4",
        description="Bleibt *stehen*",
    )
    assert response.status_code == 422
    page = response.text
    summary = page[
        page.index('class="error-summary"') : page.index("</div>", page.index("error-summary"))
    ]
    for anchor in ("#name", "#sku", "#price", "#unit_measure", "#weight_grams"):
        assert anchor in summary, anchor
    kept = _form(page, "/staff/products/new")
    assert (kept["sku"], kept["price"], kept["weight_grams"]) == ("bad sku!", "zwölf", "-4")
    assert (kept["description"], kept["delivery_time"]) == ("Bleibt *stehen*", "2–3 Werktage")
    assert 'id="price-error"' in page
    with app.app_context():
        assert db.session.scalars(select(Product)).all() == []
    response = _create(staff, price="12.90", compare_at="12,90")
    assert response.status_code == 422
    assert "The RRP must be higher than the price" in response.text


def test_slug_and_sku_clashes_are_named_at_their_fields(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        make_product("Blauer Becher", slug="blauer-becher", sku="OLD-1")
    clash = _create(staff)  # the slug made from the name is taken
    assert clash.status_code == 422
    assert "The web address blauer-becher is already used by the product OLD-1" in clash.text
    assert _form(clash.text, "/staff/products/new")["slug"] == "blauer-becher"
    sku_clash = _create(staff, slug="becher-blau", sku="OLD-1")
    assert sku_clash.status_code == 422
    assert "The SKU OLD-1 is already used by another product." in sku_clash.text
    assert _create(staff, slug="becher-blau").status_code == 303


def test_editing_saves_and_audits_only_what_changed(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        product = make_product("Becher", sku="MUG-1", slug="becher", price_cents=1000)
        product_id = product.id
    url = f"/staff/products/{product_id}"
    fields = _form(staff.get(url).text, url)
    del fields["is_active"], fields["csrf_token"]
    fields.update(description="Neu", price="11,50")
    response = _post(staff, url, **fields)
    assert response.status_code == 303 and response.headers["Location"] == url
    product = _product(app, product_id)
    assert product.price_cents == 1150 and product.description == "Neu"
    assert not product.is_active  # its checkbox was not sent
    (event,) = _events(app)
    assert event.event == "product.updated"
    assert event.details["changes"] == {
        "price_cents": {"before": 1000, "after": 1150},
        "description": {"before": "Ein **gutes** Produkt.", "after": "Neu"},
        "is_active": {"before": True, "after": False},
    }
    again = _post(staff, url, **fields)
    assert again.status_code == 303 and len(_events(app)) == 1
    assert "Nothing was changed." in staff.get(url).text
    with app.app_context():
        product_id = make_product(price_cents=1290, compare_at_cents=1590).id
    url = f"/staff/products/{product_id}"
    assert _form(staff.get(url).text, url)["price"] == "12.90"
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    german = staff.get(url).text
    assert (_form(german, url)["price"], _form(german, url)["compare_at"]) == ("12,90", "15,90")
    assert _post(staff, url, **{**_form(german, url), "price": "13,10"}).status_code == 303
    assert _product(app, product_id).price_cents == 1310


def test_the_preview_renders_the_markdown_and_saves_nothing(app: Flask, staff: FlaskClient) -> None:
    fields = {**FIELDS, "description": "# Titel\n\n**fett** <script>x</script>", "preview": "1"}
    page = _post(staff, "/staff/products/new", **fields)
    assert page.status_code == 200
    assert "<strong>fett</strong>" in page.text and "<script>x" not in page.text
    assert 'value="MUG-BLUE"' in page.text  # the rest of the form is kept
    fragment = staff.post(
        "/staff/products/new",
        data={**fields, "csrf_token": csrf_token(staff, "/staff/products/new")},
        headers={"HX-Request": "true"},
    )
    assert fragment.text.startswith('<div id="markdown-preview"')
    assert "<strong>fett</strong>" in fragment.text and "<form" not in fragment.text
    with app.app_context():
        assert db.session.scalars(select(Product)).all() == []
    assert staff.get("/staff/products/999").status_code == 404


# Bulk actions -------------------------------------------------------------------------


def _bulk(staff: FlaskClient, ids: list[int], action: str, **fields: str) -> Any:
    data = {"product": [str(i) for i in ids], "action": action, **fields}
    return _post(staff, "/staff/products/bulk", "/staff/products", **data)


def test_bulk_activate_deactivate_and_move(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        ids = [make_product(is_active=False).id for _ in range(3)]
        category_id = make_category("Tee", slug="tee").id
    response = _bulk(staff, ids[:2], "activate", back="/staff/products?status=inactive")
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/products?status=inactive"
    assert [_product(app, i).is_active for i in ids] == [True, True, False]
    assert "2 products activated." in staff.get("/staff/products").text
    _bulk(staff, ids[:2], "activate")  # a double submit changes nothing more
    assert "Nothing to change" in staff.get("/staff/products").text
    _bulk(staff, ids, "deactivate")
    assert not any(_product(app, i).is_active for i in ids)
    _bulk(staff, ids[1:], "move", category=str(category_id))
    assert [_product(app, i).category_id for i in ids] == [None, category_id, category_id]
    assert [e.event for e in _events(app)] == [
        "product.bulk_activated",
        "product.bulk_deactivated",
        "product.bulk_moved",
    ]
    moved = _events(app)[-1].details
    assert moved["changes"][str(ids[1])] == {"category_id": {"before": None, "after": category_id}}
    with app.app_context():
        product_id = make_product().id
    assert _bulk(staff, [], "activate").status_code == 303
    assert "Please tick at least one product first." in staff.get("/staff/products").text
    _bulk(staff, [product_id], "move", category="12345")
    assert "Please choose a category from the list." in staff.get("/staff/products").text
    assert len(_events(app)) == 3


def test_a_price_change_is_previewed_then_applied_once(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        cheap = make_product("Klein", price_cents=999).id
        dear = make_product("Groß", price_cents=2000, compare_at_cents=2500).id
    response = _bulk(
        staff,
        [cheap, dear],
        "price",
        change_by="percent",
        direction="up",
        amount="10",
        back="/staff/products?q=x",
    )
    assert response.status_code == 303 and "/staff/products/prices?" in response.headers["Location"]
    preview = staff.get(response.headers["Location"])
    assert preview.status_code == 200
    assert "€9.99" in preview.text and "€10.99" in preview.text  # 9.99 + 0.999 rounded
    assert "€22.00" in preview.text
    assert _product(app, cheap).price_cents == 999  # nothing changed yet
    apply: dict[str, Any] = _form(preview.text, "/staff/products/prices")
    del apply["csrf_token"]
    apply["expected"] = re.findall(r'name="expected" value="([^"]+)"', preview.text)
    applied = _post(staff, "/staff/products/prices", response.headers["Location"], **apply)
    assert applied.status_code == 303 and applied.headers["Location"] == "/staff/products?q=x"
    assert (_product(app, cheap).price_cents, _product(app, dear).price_cents) == (1099, 2200)
    _post(staff, "/staff/products/prices", response.headers["Location"], **apply)  # again
    assert (_product(app, cheap).price_cents, _product(app, dear).price_cents) == (1099, 2200)
    assert "These prices were changed already" in staff.get("/staff/products").text
    (event,) = _events(app)
    assert event.event == "product.bulk_repriced"
    assert event.details["changes"][str(cheap)] == {"price_cents": {"before": 999, "after": 1099}}


def test_a_price_change_below_a_cent_or_to_the_rrp_is_refused(
    app: Flask, staff: FlaskClient
) -> None:
    with app.app_context():
        cheap = make_product(price_cents=150).id
        dear = make_product(price_cents=2000, compare_at_cents=2100).id
    down = staff.get(
        "/staff/products/prices",
        query_string={
            "product": [cheap],
            "change_by": "amount",
            "direction": "down",
            "amount": "1,50",
        },
    )
    assert "below €0.01" in down.text and "Apply" not in down.text
    up = staff.get(
        "/staff/products/prices",
        query_string={"product": [dear], "change_by": "amount", "direction": "up", "amount": "1"},
    )
    assert "not below the RRP of €21.00" in up.text and "Apply" not in up.text
    forced = _post(
        staff,
        "/staff/products/prices",
        "/staff/products",
        change_by="amount",
        direction="down",
        amount="1.50",
        expected=f"{cheap}:150",
    )
    assert forced.status_code == 303 and _product(app, cheap).price_cents == 150
    bad = staff.get("/staff/products/prices", query_string={"product": [cheap], "amount": "viel"})
    assert bad.status_code == 422 and 'id="amount-error"' in bad.text
    assert _events(app) == []


# Duplicate, delete, archive ---------------------------------------------------------


def test_duplicate_then_delete_a_product_no_order_names(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        original = make_product("Becher", slug="becher", sku="MUG-1", price_cents=1290).id
    url = f"/staff/products/{original}/duplicate"
    first = _post(staff, url, f"/staff/products/{original}")
    second = _post(staff, url, f"/staff/products/{original}")
    copies = [int(r.headers["Location"].rsplit("/", 1)[1]) for r in (first, second)]
    made = [_product(app, i) for i in copies]
    assert [(p.slug, p.sku, p.is_active) for p in made] == [
        ("becher-copy", "MUG-1-COPY", False),
        ("becher-copy-2", "MUG-1-COPY-2", False),
    ]
    assert made[0].price_cents == 1290 and made[0].name == "Becher"
    assert "This is an inactive copy." in staff.get(first.headers["Location"]).text
    assert [e.details["copied_from"] for e in _events(app)] == [original, original]
    url = f"/staff/products/{original}"
    assert "Delete product" in staff.get(url).text
    response = _post(staff, f"{url}/delete", url)
    assert response.headers["Location"] == "/staff/products"
    assert "The product is deleted." in staff.get("/staff/products").text
    assert staff.get(url).status_code == 404
    event = _events(app)[-1]
    assert event.event == "product.deleted" and event.details["sku"] == "MUG-1"
    repeat = staff.post(f"{url}/delete", data={"csrf_token": csrf_token(staff, "/staff/products")})
    assert repeat.status_code == 303  # a double submit is told, not a 404


def test_an_ordered_product_is_archived_instead(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        product_id = make_product("Becher", sku="MUG-1", stock_on_hand=5).id
    buy(new_client(app), product_id)
    url = f"/staff/products/{product_id}"
    assert "Archive product" in staff.get(url).text
    response = _post(staff, f"{url}/delete", url)
    assert response.headers["Location"] == url
    page = staff.get(url).text
    assert "so it was archived instead of deleted" in page
    product = _product(app, product_id)
    assert product.archived_at is not None and not product.is_active
    assert _names_in(staff.get("/staff/products").text) == []
    assert _names_in(staff.get("/staff/products?status=archived").text) == ["Becher"]
    assert [e.event for e in _events(app)] == ["product.archived"]
    _post(staff, f"{url}/restore", url)
    assert _names_in(staff.get("/staff/products?status=inactive").text) == ["Becher"]
    assert [e.event for e in _events(app)] == ["product.archived", "product.restored"]


# Export -------------------------------------------------------------------------------


def test_the_csv_export_is_the_filtered_list_and_imports_again(
    app: Flask, staff: FlaskClient, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    with app.app_context():
        tea = make_category("Tee", slug="tee")
        make_product(
            "Grüner Tee",
            category=tea,
            sku="TEA-1",
            slug="gruener-tee",
            price_cents=590,
            compare_at_cents=790,
            unit_content=100,
            unit_measure="g",
            description="Zeile 1\n\n**Zeile 2**, mit Komma",
            stock_on_hand=7,
        )
        make_product("Becher", sku="MUG-1", price_cents=1290)
        tea_id = tea.id
    response = staff.get(f"/staff/products.csv?category={tea_id}")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["sku"] for row in rows] == ["TEA-1"]
    assert rows[0]["price"] == "5.90" and rows[0]["category"] == "tee" and rows[0]["stock"] == "7"
    with app.app_context():
        cli_file = tmp_path / "cli.csv"
        assert runner.invoke(args=["kiosk", "export-products", str(cli_file)]).exit_code == 0
    header = cli_file.read_text(encoding="utf-8").splitlines()[0]
    assert response.text.splitlines()[0] == header  # the same columns as the CLI writes
    # Change the product, then import the exported file: it is as it was.
    with app.app_context(), unit_of_work() as session:
        product = session.scalars(select(Product).where(Product.sku == "TEA-1")).one()
        product.name, product.price_cents = "Anders", 100
        set_stock(session, product.id, 1, "test")
    exported = tmp_path / "staff.csv"
    exported.write_text(response.text, encoding="utf-8")
    result = runner.invoke(args=["kiosk", "import-products", str(exported)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        product = db.session.scalars(select(Product).where(Product.sku == "TEA-1")).one()
        assert (product.name, product.price_cents, product.compare_at_cents) == (
            "Grüner Tee",
            590,
            790,
        )
        assert product.description == "Zeile 1\n\n**Zeile 2**, mit Komma"
        assert (product.unit_content, product.stock_on_hand) == (100, 7)
