"""Product pictures: variants made once when a picture is added, offered with srcset."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from PIL import Image
from sqlalchemy import select

from kiosk.catalog.models import ProductImage
from kiosk.catalog.pictures import LocalPictureStore, picture_key, picture_store
from kiosk.catalog.product_csv import PRODUCT_COLUMNS, ImportRejected
from kiosk.extensions import db
from kiosk.inventory.product_import import import_products
from tests.factories import make_category, make_product


def photo(width: int = 1600, height: int = 1200, colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG", quality=85)
    return out.getvalue()


def media(app: Flask) -> Path:
    return Path(app.config["KIOSK_MEDIA_DIR"])


def put(app: Flask, name: str, data: bytes) -> None:
    path = media(app) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def products_csv(*rows: dict[str, str]) -> io.StringIO:
    lines = [",".join(PRODUCT_COLUMNS)]
    for row in rows:
        values = {"price": "9.90", "stock": "5", **row}
        lines.append(",".join(values.get(column, "") for column in PRODUCT_COLUMNS))
    return io.StringIO("\n".join(lines) + "\n")


def variant_files(app: Flask) -> list[str]:
    return sorted(p.name for p in (media(app) / "v").rglob("*.webp"))


def images(app: Flask) -> list[ProductImage]:
    with app.app_context():
        return list(db.session.scalars(select(ProductImage).order_by(ProductImage.id)))


def test_a_csv_import_makes_the_variants_once(app: Flask) -> None:
    put(app, "shop/kanne.jpg", photo())
    put(app, "shop/kanne-kopie.jpg", photo())  # the same picture under another name
    rows = products_csv(
        {"sku": "K-1", "name": "Kanne", "images": "shop/kanne.jpg|Kanne von vorn"},
        {"sku": "K-2", "name": "Kanne 2", "images": "shop/kanne-kopie.jpg|Kanne"},
    )
    with app.app_context():
        import_products(rows)
    key = picture_key(photo())
    assert variant_files(app) == [f"{key}-{w}.webp" for w in (1280, 320, 640)]
    assert [(i.picture_key, i.width, i.height) for i in images(app)] == [(key, 1600, 1200)] * 2


def test_a_changed_file_gets_new_variants_on_the_next_import(app: Flask) -> None:
    put(app, "kanne.jpg", photo(colour="teal"))
    with app.app_context():
        import_products(products_csv({"sku": "K-1", "name": "Kanne", "images": "kanne.jpg|"}))
        put(app, "kanne.jpg", photo(900, 900, colour="orange"))
        import_products(products_csv({"sku": "K-1", "name": "Kanne", "images": "kanne.jpg|"}))
    [image] = images(app)
    assert (image.picture_key, image.width) == (picture_key(photo(900, 900, "orange")), 900)


def test_an_import_refuses_a_file_that_is_no_picture(app: Flask) -> None:
    put(app, "kaputt.webp", b"RIFF....WEBP but nothing after")
    with app.app_context(), pytest.raises(ImportRejected) as rejected:
        import_products(products_csv({"sku": "K-1", "name": "Kanne", "images": "kaputt.webp|"}))
    assert [str(p) for p in rejected.value.problems] == [
        "row 2, column images: 'kaputt.webp' is not a picture that can be read"
    ]
    assert images(app) == []


def test_the_command_gives_older_pictures_their_variants(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with app.app_context():
        product = make_product(images=1)
        name = product.images[0].filename
    put(app, name, photo(500, 400))
    result = runner.invoke(args=["kiosk", "picture-variants"])
    assert result.exit_code == 0, result.output
    assert "1 product picture(s) updated" in result.output
    [image] = images(app)
    assert (image.picture_key, image.width, image.height) == (
        picture_key(photo(500, 400)),
        500,
        400,
    )
    made = {p: p.stat().st_mtime_ns for p in (media(app) / "v").rglob("*.webp")}
    assert len(made) == 2  # 320 and 500 wide: never wider than the original

    again = runner.invoke(args=["kiosk", "picture-variants"])
    assert again.exit_code == 0 and "0 product picture(s) updated" in again.output
    assert {p: p.stat().st_mtime_ns for p in (media(app) / "v").rglob("*.webp")} == made


def test_the_command_names_missing_files(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context():
        name = make_product(images=1).images[0].filename
    result = runner.invoke(args=["kiosk", "picture-variants"])
    assert result.exit_code == 1
    assert f"not in the media folder: {name}" in result.output


@pytest.fixture
def pictured(app: Flask) -> str:
    """A product with two imported pictures (variants made) in a category."""
    with app.app_context():
        make_category("Küche", slug="kueche")
    put(app, "a.jpg", photo(1600, 1200))
    put(app, "b.png", photo(600, 600, colour="orange"))
    with app.app_context():
        import_products(
            products_csv(
                {
                    "sku": "K-1",
                    "slug": "kanne",
                    "name": "Kanne",
                    "category": "kueche",
                    "images": "a.jpg|Kanne von vorn;b.png|Deckel",
                }
            )
        )
    return picture_key(photo(1600, 1200))


def img_tags(html: str) -> list[str]:
    return re.findall(r"<img\b[^>]*>", html)


def test_cards_offer_the_variants_with_sizes(client: FlaskClient, pictured: str) -> None:
    for url in ("/", "/products", "/c/kueche"):
        [card] = [tag for tag in img_tags(client.get(url).text) if pictured in tag]
        assert f'srcset="/media/v/{pictured[:2]}/{pictured}-320.webp 320w, ' in card
        assert f"{pictured}-1280.webp 1280w" in card
        assert 'sizes="(min-width: 40rem) 16rem' in card
        assert 'width="1600" height="1200"' in card and 'loading="lazy"' in card


def test_the_gallery_offers_the_variants(client: FlaskClient, pictured: str) -> None:
    tags = img_tags(client.get("/p/kanne").text)
    main, *thumbs = tags
    assert f"{pictured}-640.webp" in main and 'sizes="(min-width: 76rem) 38rem' in main
    assert 'fetchpriority="high"' in main and "loading" not in main
    assert len(thumbs) == 2 and all('sizes="4.5rem"' in t for t in thumbs)
    assert 'width="600" height="600"' in thumbs[1] and "-600.webp 600w" in thumbs[1]


def test_a_picture_without_variants_yet_shows_the_original(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        name = make_product(slug="alt", images=1).images[0].filename
    [tag] = img_tags(client.get("/p/alt").text)
    assert f'src="/media/{name}"' in tag and "srcset" not in tag


def test_a_card_shows_the_variants_once_they_exist(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    with app.app_context():
        name = make_product(images=1).images[0].filename
    put(app, name, photo())
    assert "srcset" not in client.get("/products").text
    runner.invoke(args=["kiosk", "picture-variants"])
    assert "srcset" in client.get("/products").text  # the cached card was not reused


def test_the_media_route_serves_pictures_only(
    app: Flask, client: FlaskClient, pictured: str
) -> None:
    with client.get(f"/media/v/{pictured[:2]}/{pictured}-320.webp") as variant:
        assert variant.status_code == 200 and variant.mimetype == "image/webp"
        assert "max-age=31536000" in variant.headers["Cache-Control"]
    put(app, "page.html", b"<script>alert(1)</script>")
    put(app, "bild.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>")
    for path in ("/media/page.html", "/media/bild.svg", "/media/../kiosk.sqlite3", "/media/v"):
        assert client.get(path).status_code == 404, path


def test_the_store_keeps_names_inside_its_folder(tmp_path: Path) -> None:
    store = LocalPictureStore(tmp_path)
    store.save_original("demo/kanne.webp", b"bytes")
    assert store.read_original("demo/kanne.webp") == b"bytes"
    for name in ("../kanne.webp", "/etc/kanne.webp", "kanne.html", "a\\..\\b.webp"):
        with pytest.raises(ValueError):
            store.save_original(name, b"x")
    store.save_variant("abc123", 320, b"v")
    assert store.has_variant("abc123", 320) and not store.has_variant("abc123", 640)
    with pytest.raises(ValueError):
        store.save_variant("../x", 320, b"v")
    store.delete("demo/kanne.webp", "abc123")
    assert not store.has_variant("abc123", 320)
    with pytest.raises(FileNotFoundError):
        store.read_original("demo/kanne.webp")


def test_the_shop_uses_the_store_in_its_media_folder(app: Flask) -> None:
    with app.test_request_context():
        store = picture_store()
        assert isinstance(store, LocalPictureStore) and store.root == media(app)
        assert store.variant_url("abc123", 640) == "/media/v/ab/abc123-640.webp"
