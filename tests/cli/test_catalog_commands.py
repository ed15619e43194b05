"""Owner commands: CSV import and export, the demo catalog, create-admin."""

import csv
import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from PIL import Image
from sqlalchemy import func, select

from kiosk.accounts.models import Role, User
from kiosk.accounts.passwords import verify_password
from kiosk.catalog.models import Category, Product, ProductImage
from kiosk.extensions import db
from tests.factories import make_category

HEADER = (
    "sku,slug,name,category,price,compare_at_price,vat_class,unit_content,unit_measure,"
    "delivery_time,weight_grams,stock,active,featured,description,images\n"
)


@pytest.fixture
def catalog_csv(app: Flask, tmp_path: Path) -> Path:
    with app.app_context():
        make_category("Kaffee", slug="kaffee")
    media = Path(app.config["KIOSK_MEDIA_DIR"]) / "shop"
    media.mkdir(parents=True)
    Image.new("RGB", (400, 300), "teal").save(media / "becher.webp")
    path = tmp_path / "products.csv"
    path.write_text(
        HEADER + "K-1,,Kaffeebecher „Bär“,kaffee,12.90,15.00,standard,,,1–3 Werktage,350,7,1,1,"
        '"**Steinzeug**, spülmaschinenfest\n- 300 ml",shop/becher.webp|Becher von vorn\n'
        + 'K-2,espresso,Espresso 250 g,kaffee,"8,99",,reduced,250,g,2–4 Werktage,260,0,1,0,,\n',
        encoding="utf-8",
    )
    return path


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_import_creates_products(app: Flask, runner: FlaskCliRunner, catalog_csv: Path) -> None:
    result = runner.invoke(args=["kiosk", "import-products", str(catalog_csv)])
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated" in result.output
    with app.app_context():
        mug = db.session.scalar(select(Product).where(Product.sku == "K-1"))
        assert mug is not None
        assert (mug.slug, mug.price_cents, mug.compare_at_cents) == (
            "kaffeebecher-baer",
            1290,
            1500,
        )
        assert mug.is_featured and mug.category and mug.category.slug == "kaffee"
        assert [(i.filename, i.alt) for i in mug.images] == [
            ("shop/becher.webp", "Becher von vorn")
        ]
        espresso = db.session.scalar(select(Product).where(Product.sku == "K-2"))
        assert espresso is not None and espresso.unit_price is not None
        assert espresso.unit_price[0].cents == 3596


def test_export_then_import_round_trips(
    app: Flask, runner: FlaskCliRunner, catalog_csv: Path, tmp_path: Path
) -> None:
    runner.invoke(args=["kiosk", "import-products", str(catalog_csv)])
    first = tmp_path / "first.csv"
    second = tmp_path / "second.csv"
    assert runner.invoke(args=["kiosk", "export-products", str(first)]).exit_code == 0
    result = runner.invoke(args=["kiosk", "import-products", str(first)])
    assert "0 created, 2 updated" in result.output
    runner.invoke(args=["kiosk", "export-products", str(second)])
    assert first.read_text() == second.read_text()
    rows = list(csv.DictReader(io.StringIO(first.read_text())))
    assert rows[0]["description"] == "**Steinzeug**, spülmaschinenfest\n- 300 ml"
    assert rows[1]["price"] == "8.99"


def test_a_broken_file_is_reported_and_changes_nothing(
    app: Flask, runner: FlaskCliRunner, catalog_csv: Path, tmp_path: Path
) -> None:
    runner.invoke(args=["kiosk", "import-products", str(catalog_csv)])
    broken = tmp_path / "broken.csv"
    broken.write_text(
        HEADER
        + "K-1,,Becher neu,kaffee,13.90,,standard,,,,,5,1,0,,\n"  # valid change, must not land
        + "K-3,,Tasse,tee,abc,,super,250,,,,-2,vielleicht,0,,../etc/passwd.png\n"
        + "K-4,espresso,Doppelter Slug,kaffee,1.00,0.50,,,,,,,,,,\n"
        + "K-4,,Doppelte SKU,kaffee,1.00,,,,,,,,,,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["kiosk", "import-products", str(broken)])
    assert result.exit_code == 1
    for expected in (
        "row 3, column price: 'abc' is not an amount such as 12.50",
        "row 3, column vat_class: must be one of reduced, standard",
        "row 3, column unit_content: unit_content and unit_measure go together",
        "row 3, column stock: '-2' is not a whole number of 0 or more",
        "row 3, column active: 'vielleicht' is not 1 or 0",
        "row 3, column images: '../etc/passwd.png' is not a relative image file name",
        "row 4, column compare_at_price: must be higher than the price",
        "row 5, column sku: 'K-4' is also used in row 4",
    ):
        assert expected in result.output
    assert "Nothing was imported" in result.output
    with app.app_context():
        mug = db.session.scalar(select(Product).where(Product.sku == "K-1"))
        assert mug is not None and mug.name == "Kaffeebecher „Bär“" and mug.price_cents == 1290
        assert _count(Product) == 2


def test_problems_found_against_the_database_also_change_nothing(
    app: Flask, runner: FlaskCliRunner, catalog_csv: Path, tmp_path: Path
) -> None:
    runner.invoke(args=["kiosk", "import-products", str(catalog_csv)])
    clash = tmp_path / "clash.csv"
    clash.write_text(
        HEADER
        + "K-9,,Neu,kaffee,1.00,,,,,,,,,,,\n"
        + "K-8,espresso,Slug von K-2,tee,1.00,,,,,,,,,,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["kiosk", "import-products", str(clash)])
    assert result.exit_code == 1
    assert "row 3, column category: no category 'tee'" in result.output
    assert "row 3, column slug: 'espresso' belongs to product K-2" in result.output
    with app.app_context():
        assert _count(Product) == 2


def test_a_file_with_wrong_columns_is_refused(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,preis\nA,B,1\n", encoding="utf-8")
    result = runner.invoke(args=["kiosk", "import-products", str(bad)])
    assert result.exit_code == 1
    assert "row 1, column price: column is missing" in result.output
    assert "row 1, column preis: unknown column" in result.output


ROW = "K-1,,Kaffeebecher „Bär“,kaffee,12.90,,standard,,,1–3 Werktage,350,7,1,0,Größe: 300 ml,\n"


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_a_utf8_file_imports_with_or_without_bom(
    app: Flask, runner: FlaskCliRunner, catalog_csv: Path, tmp_path: Path, bom: bytes
) -> None:
    path = tmp_path / "utf8.csv"
    path.write_bytes(bom + (HEADER + ROW).encode("utf-8"))
    result = runner.invoke(args=["kiosk", "import-products", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported: 1 created, 0 updated." in result.output
    assert "Windows-1252" not in result.output
    with app.app_context():
        mug = db.session.scalar(select(Product).where(Product.sku == "K-1"))
        assert mug is not None and mug.name == "Kaffeebecher „Bär“"


def test_a_windows_1252_file_from_german_excel_imports_and_says_so(
    app: Flask, runner: FlaskCliRunner, catalog_csv: Path, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes((HEADER + ROW).replace("\n", "\r\n").encode("cp1252"))
    result = runner.invoke(args=["kiosk", "import-products", str(path)])
    assert result.exit_code == 0, result.output
    assert "excel.csv is not UTF-8; read it as Windows-1252." in result.output
    with app.app_context():
        mug = db.session.scalar(select(Product).where(Product.sku == "K-1"))
        assert mug is not None
        assert (mug.name, mug.delivery_time, mug.description) == (
            "Kaffeebecher „Bär“",
            "1–3 Werktage",
            "Größe: 300 ml",
        )


def test_categories_from_a_windows_1252_file_import_too(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "kategorien.csv"
    path.write_bytes(
        "slug,name,parent,description,sort_order\ntee,Tees & Kräuter,,,1\n".encode("cp1252")
    )
    result = runner.invoke(args=["kiosk", "import-categories", str(path)])
    assert result.exit_code == 0, result.output
    assert "read it as Windows-1252" in result.output
    with app.app_context():
        assert db.session.scalar(select(Category.name)) == "Tees & Kräuter"


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4,
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + b"\x00\xff\xfe" * 300,
        b"\x00" * 1000,
        b"\xff\xfes\x00k\x00u\x00",
        b"sku,name\n" + bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]),
    ],
    ids=["png", "xlsx", "zeros", "utf16", "undecodable"],
)
@pytest.mark.parametrize("command", ["import-products", "import-categories"])
def test_a_binary_file_gets_one_clear_line_and_no_traceback(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, content: bytes, command: str
) -> None:
    path = tmp_path / "daten.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["kiosk", command, str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: daten.csv is ")
    assert lines[0].endswith("nothing was imported.")
    assert "Traceback" not in result.output


def test_a_control_character_in_any_cell_is_refused_by_row_and_column(
    app: Flask, runner: FlaskCliRunner, catalog_csv: Path, tmp_path: Path
) -> None:
    path = tmp_path / "nul.csv"
    path.write_text(
        HEADER
        + 'K-5,,Tasse gut,kaffee,5.00,,,,,,,,,,"Zeile 1\n\tZeile 2",\n'  # allowed in Markdown
        + 'K-6,,Tas\x00se,kaffee,5.00,,,,,1\x07Tag,,,,,"Text\x1b[31m",\n'
        + "K-7,,Tasse\x85,kaffee,5.00,,,,,,,,,,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["kiosk", "import-products", str(path)])
    assert result.exit_code == 1, result.output
    for expected in (
        "row 3, column name: holds the control character U+0000 at position 4",
        "row 3, column delivery_time: holds the control character U+0007 at position 2",
        "row 3, column description: holds the control character U+001B at position 5",
        "row 4, column name: holds the control character U+0085 at position 6",
    ):
        assert expected in result.output
    assert "row 2" not in result.output
    assert "Nothing was imported" in result.output
    with app.app_context():
        assert _count(Product) == 0


def test_numbers_beyond_what_the_database_holds_are_refused_by_row(
    app: Flask, runner: FlaskCliRunner, catalog_csv: Path, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        HEADER + "K-5,,Tasse,kaffee,99999999,,,,,,99999999999999999999,²,,,,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["kiosk", "import-products", str(path)])
    assert result.exit_code == 1, result.output
    assert "row 2, column price: '99999999' is more than 21474836.47" in result.output
    assert "row 2, column weight_grams: '99999999999999999999' is not a whole number" in (
        result.output
    )
    assert "row 2, column stock: '²' is not a whole number of 0 or more" in result.output
    with app.app_context():
        assert _count(Product) == 0


def test_seed_demo_loads_the_catalog_once(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["kiosk", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        products, categories = _count(Product), _count(Category)
        assert products >= 40 and categories >= 6
        assert _count(ProductImage) >= products
        image = db.session.scalars(select(ProductImage)).first()
        assert image is not None
        assert (Path(app.config["KIOSK_MEDIA_DIR"]) / image.filename).read_bytes()[:4] == b"RIFF"
    again = runner.invoke(args=["kiosk", "seed-demo"])
    assert "already has products" in again.output
    with app.app_context():
        assert _count(Product) == products


def test_create_admin_asks_for_the_password(app: Flask, runner: FlaskCliRunner) -> None:
    password = "correct horse battery staple"
    result = runner.invoke(
        args=["kiosk", "create-admin", "--email", "Owner@Example.org"],
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code == 0, result.output
    assert password not in result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user is not None
        assert (user.email, user.role) == ("owner@example.org", Role.OWNER)
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, password)


def test_create_admin_refuses_a_short_password(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["kiosk", "create-admin", "--email", "o@example.org"], input="short\nshort\n"
    )
    assert result.exit_code != 0
    assert "12 to 256 characters" in result.output
    with app.app_context():
        assert _count(User) == 0


def test_release_expired_gives_back_held_stock(app: Flask, runner: FlaskCliRunner) -> None:
    from datetime import timedelta

    from kiosk.inventory import services as inventory
    from kiosk.orm import utcnow
    from kiosk.uow import unit_of_work
    from tests.factories import make_product

    with app.app_context():
        product_id = make_product(stock_on_hand=2).id
        with unit_of_work() as session:
            inventory.reserve(
                session, "c-1", {product_id: 2}, minutes=15, now=utcnow() - timedelta(hours=1)
            )
    result = runner.invoke(args=["kiosk", "release-expired"])
    assert "Released 1 expired reservation(s)." in result.output
    with app.app_context():
        assert db.session.get(Product, product_id).stock_reserved == 0
