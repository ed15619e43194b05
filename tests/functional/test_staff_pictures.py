"""Staff upload, describe, reorder and remove a product's pictures.

Real files made with Pillow here (a camera JPEG with EXIF orientation, a PNG with
transparency, a WebP) and a table of broken ones: never a 500, and a picture is
either wholly there (file, variants, row) or not at all.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from kiosk.audit.models import AuditEvent
from kiosk.catalog import gallery
from kiosk.catalog.gallery import PictureRejected, Rejection, Upload
from kiosk.catalog.models import ProductImage
from kiosk.catalog.pictures import VARIANT_WIDTHS
from kiosk.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_product
from tests.shopping import staff_member

ORIENTATION, MAKE, GPS = 0x0112, 0x010F, 0x8825


def camera_jpeg(width: int = 400, height: int = 240) -> bytes:
    """Left half red, right half blue, stored sideways: EXIF orientation 6 says
    "turn 90° clockwise to show", plus a camera make and a GPS block to strip."""
    image = Image.new("RGB", (width, height), "red")
    image.paste("blue", (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "KioskCam"
    exif.get_ifd(GPS)[2] = (52.0, 31.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def encoded(kind: str, colour: Any = "teal", size: tuple[int, int] = (300, 200)) -> bytes:
    mode = "RGBA" if kind == "PNG" else "RGB"
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, kind)
    return out.getvalue()


def png_bomb(side: int = 50_000) -> bytes:
    """A PNG of a few hundred bytes whose header claims side × side pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    rows = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def a_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.jpg", camera_jpeg())
    return out.getvalue()


def a_tiff() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(out, "TIFF")
    return out.getvalue()


BROKEN = [  # (file name, bytes, the reason the page gives)
    ("truncated.jpg", camera_jpeg()[:1500], "damaged or incomplete"),
    ("notes.jpg", b"Dies ist kein Bild, nur Text.\n", "not a JPEG, PNG, WebP or GIF"),
    ("page.png", b"<!doctype html><script>alert(1)</script>", "not a JPEG, PNG, WebP or GIF"),
    ("photos.zip", a_zip(), "not a JPEG, PNG, WebP or GIF"),
    ("empty.jpg", b"", "the file is empty"),
    ("bomb.png", png_bomb(), "more than 40 million pixels"),
    ("scan.tiff", a_tiff(), "not a JPEG, PNG, WebP or GIF"),
]


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return staff_member(app)


@pytest.fixture
def product_id(app: Flask) -> int:
    with app.app_context():
        return make_product(name="Kanne").id


def url(product_id: int, rest: str = "") -> str:
    return f"/staff/products/{product_id}/pictures{rest}"


def multipart(client: FlaskClient, target: str, fields: dict[str, Any]) -> TestResponse:
    """POST a multipart body built in memory (the test client would spool a large one to
    a temporary file that nobody closes)."""
    boundary, body = encode_multipart(MultiDict(fields))
    return client.post(target, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def files_field(files: list[tuple[str, bytes]]) -> list[FileStorage]:
    return [FileStorage(io.BytesIO(body), filename=name) for name, body in files]


def upload(
    client: FlaskClient,
    product_id: int,
    files: list[tuple[str, bytes]],
    alt: str = "Kanne von vorn",
) -> TestResponse:
    token = csrf_token(client, url(product_id))
    fields = {"csrf_token": token, "alt": alt, "pictures": files_field(files)}
    return multipart(client, url(product_id), fields)


def post(client: FlaskClient, product_id: int, rest: str, htmx: bool = False, **data: Any) -> Any:
    headers = {"HX-Request": "true"} if htmx else {}
    token = csrf_token(client, url(product_id))
    return client.post(url(product_id, rest), data={"csrf_token": token, **data}, headers=headers)


def rows(app: Flask) -> list[ProductImage]:
    with app.app_context():
        found = db.session.scalars(select(ProductImage).order_by(ProductImage.position))
        rows = list(found)
        db.session.expunge_all()
        return rows


def events(app: Flask, kind: str) -> list[dict[str, Any]]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.event == kind).order_by(AuditEvent.id)
        return [{"actor": e.actor_id, **e.details} for e in db.session.scalars(query)]


def media_files(app: Flask) -> list[str]:
    root = Path(app.config["KIOSK_MEDIA_DIR"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def test_several_pictures_are_stored_upright_without_metadata_with_their_variants(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    files = [
        ("IMG_0001.JPG", camera_jpeg()),
        ("logo.png", encoded("PNG", (0, 128, 0, 128))),
        ("foto.webp", encoded("WEBP")),
    ]
    response = upload(staff, product_id, files)

    assert response.status_code == 303
    assert text(staff.get(response.headers["Location"])).count("3 pictures added.") == 1
    images = rows(app)
    assert [(i.position, i.alt) for i in images] == [(n, "Kanne von vorn") for n in range(3)]
    assert [(i.width, i.height) for i in images] == [(240, 400), (300, 200), (300, 200)]
    root = Path(app.config["KIOSK_MEDIA_DIR"])
    for image in images:
        assert image.filename == f"u/{image.picture_key[:2]}/{image.picture_key}.webp"
        for width in {min(w, image.width) for w in VARIANT_WIDTHS}:
            assert (
                root / "v" / image.picture_key[:2] / f"{image.picture_key}-{width}.webp"
            ).is_file()
    with Image.open(root / images[0].filename) as kept:
        assert kept.format == "WEBP"
        assert not kept.getexif() and "exif" not in kept.info and "xmp" not in kept.info
        assert kept.getpixel((120, 10))[0] > 200  # red on top: turned as the camera said
        assert kept.getpixel((120, 390))[2] > 200  # blue at the bottom
    with Image.open(root / images[1].filename) as kept:
        assert kept.mode == "RGBA"  # transparency kept
    assert len(events(app, "picture.added")) == 3
    assert all(e["product"] == product_id for e in events(app, "picture.added"))


def test_the_page_shows_the_pictures_with_srcset_and_htmx_gets_the_list(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    upload(staff, product_id, [("a.jpg", camera_jpeg())], alt="Kanne im Regal")
    page = text(staff.get(url(product_id)))
    assert "<h1>Pictures of Kanne</h1>" in page
    assert 'alt="Kanne im Regal"' in page and "srcset=" in page
    assert 'enctype="multipart/form-data"' in page and "multiple" in page
    fragment = staff.get(url(product_id), headers={"HX-Request": "true"})
    assert "<h1>" not in text(fragment) and 'id="product-pictures"' in text(fragment)
    assert "HX-Request" in fragment.headers["Vary"]


def test_each_broken_file_is_named_with_its_reason_and_the_good_one_is_added(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    files = [("good.png", encoded("PNG")), *[(name, body) for name, body, _ in BROKEN]]
    response = upload(staff, product_id, files)

    assert response.status_code == 422
    page = text(response)
    for name, _body, reason in BROKEN:
        assert f"{name}: " in page and reason in page, name
    assert "1 picture added." in page
    assert [i.alt for i in rows(app)] == ["Kanne von vorn"]
    assert len([f for f in media_files(app) if f.startswith("u/")]) == 1


def test_a_broken_file_alone_changes_nothing(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    for name, body, reason in BROKEN:
        response = upload(staff, product_id, [(name, body)])
        assert response.status_code == 422, name
        assert reason in text(response), name
    assert rows(app) == [] and media_files(app) == []
    assert events(app, "picture.added") == []


def test_a_file_over_the_limit_is_named_and_not_read(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    app.config["KIOSK_PICTURE_MAX_MB"] = 1
    big = encoded("PNG") + b"\0" * (1024 * 1024)  # a picture with a long tail
    response = upload(staff, product_id, [("huge.png", big), ("ok.webp", encoded("WEBP"))])
    assert response.status_code == 422
    assert "huge.png: the file is larger than 1 MB." in text(response)
    assert len(rows(app)) == 1


def test_an_upload_over_the_whole_limit_gets_the_page_with_the_reason(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    app.config["KIOSK_PICTURE_UPLOAD_MAX_MB"] = 1
    response = upload(staff, product_id, [("big.jpg", b"\xff\xd8" + b"\0" * (1024 * 1024 + 10))])
    assert response.status_code == 413
    assert "The upload is larger than 1 MB altogether." in text(response)
    assert 'id="upload-pictures"' in text(response)
    assert rows(app) == [] and media_files(app) == []


def test_the_larger_limit_is_only_for_staff(app: Flask, product_id: int) -> None:
    """A guest's large body meets the shop's usual limit (and then the sign-in)."""
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = multipart(
        app.test_client(), url(product_id), {"pictures": files_field([("x.jpg", b"\0" * 4096)])}
    )
    assert response.status_code == 413
    assert "Kanne" not in text(response)


FORMS_THAT_DO_NOT_FIT = [  # (alt text, what is sent as "pictures", the message)
    ("Kanne", None, "Please choose at least one picture."),
    ("Kanne", "not-a-file.jpg", "Please choose at least one picture."),  # text, not a file
    ("", 1, "Please describe the picture"),
    ("Kanne\x00", 1, "control characters"),
    ("x" * 301, 1, "at most 300 characters"),
    ("Kanne", 3, "Please send at most 2 pictures at once."),
]


def test_a_form_that_does_not_fit_keeps_its_input_and_saves_nothing(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    app.config["KIOSK_PICTURE_MAX_FILES"] = 2
    for alt, pictures, message in FORMS_THAT_DO_NOT_FIT:
        form: dict[str, Any] = {"csrf_token": csrf_token(staff, url(product_id)), "alt": alt}
        if isinstance(pictures, int):
            colours = ["red", "green", "blue"][:pictures]
            form["pictures"] = files_field([(f"{c}.png", encoded("PNG", c)) for c in colours])
        elif pictures is not None:
            form["pictures"] = pictures
        response = multipart(staff, url(product_id), form)
        assert response.status_code == 422, message
        assert message in text(response)
        if alt == "Kanne":
            assert 'value="Kanne"' in text(response)
    assert rows(app) == [] and media_files(app) == []


def test_a_picture_is_stored_once_and_not_added_twice(app: Flask, staff: FlaskClient) -> None:
    with app.app_context():
        first, second = make_product(name="Kanne").id, make_product(name="Tasse").id
    photo = camera_jpeg()
    assert upload(staff, first, [("a.jpg", photo)]).status_code == 303
    again = upload(staff, first, [("a-copy.jpg", photo)])  # or a double submit
    assert again.status_code == 422
    assert "a-copy.jpg: this picture is already among the product" in text(again)
    assert upload(staff, second, [("a.jpg", photo)]).status_code == 303

    one, other = rows(app)[0], rows(app)[1]
    assert (one.filename, one.picture_key) == (other.filename, other.picture_key)
    assert len([f for f in media_files(app) if f.startswith("u/")]) == 1


def test_staff_move_pictures_and_a_second_click_moves_nothing(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    colours = ["red", "green", "blue"]
    files = [(f"{c}.png", encoded("PNG", c)) for c in colours]
    upload(staff, product_id, files)
    red, green, blue = (i.id for i in rows(app))

    moved = post(staff, product_id, f"/{blue}/move", direction="up", seen_at="2")
    assert moved.status_code == 303
    assert [i.id for i in rows(app)] == [red, blue, green]
    twice = post(staff, product_id, f"/{blue}/move", direction="up", seen_at="2")
    assert twice.status_code == 303
    assert "The order had changed" in text(staff.get(url(product_id)))
    assert [i.id for i in rows(app)] == [red, blue, green]

    fragment = post(staff, product_id, f"/{red}/move", htmx=True, direction="down", seen_at="0")
    assert fragment.status_code == 200 and "<h1>" not in text(fragment)
    assert text(fragment).index(f"picture-{blue}") < text(fragment).index(f"picture-{red}")
    assert [i.id for i in rows(app)] == [blue, red, green]
    assert events(app, "picture.reordered")[0]["before"] == [red, green, blue]
    assert events(app, "picture.reordered")[0]["after"] == [red, blue, green]
    for bad in ({"direction": "sideways", "seen_at": "0"}, {"direction": "up", "seen_at": "-1"}):
        assert post(staff, product_id, f"/{red}/move", **bad).status_code == 400
    assert post(staff, product_id, f"/{blue}/move", direction="up", seen_at="0").status_code == 303


def test_staff_change_an_alt_text_with_before_and_after_in_the_audit(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    upload(staff, product_id, [("a.png", encoded("PNG"))], alt="Kanne")
    (image,) = rows(app)
    refused = post(staff, product_id, f"/{image.id}/alt", alt="")
    assert refused.status_code == 422 and "Please describe the picture" in text(refused)
    changed = post(staff, product_id, f"/{image.id}/alt", htmx=True, alt="Kanne, Deckel offen")
    assert changed.status_code == 200 and 'value="Kanne, Deckel offen"' in text(changed)
    post(staff, product_id, f"/{image.id}/alt", alt="Kanne, Deckel offen")  # sent twice
    assert rows(app)[0].alt == "Kanne, Deckel offen"
    [event] = events(app, "picture.alt_changed")
    assert (event["before"], event["after"], event["picture"]) == (
        "Kanne",
        "Kanne, Deckel offen",
        image.id,
    )
    assert post(staff, product_id, "/999999/alt", alt="x").status_code == 404


def test_removing_a_picture_deletes_its_files_once_no_product_uses_them(
    app: Flask, staff: FlaskClient
) -> None:
    with app.app_context():
        first, second = make_product(name="Kanne").id, make_product(name="Tasse").id
    photo = encoded("WEBP")
    upload(staff, first, [("a.webp", photo)])
    upload(staff, second, [("a.webp", photo)])
    on_first, on_second = rows(app)
    stored = media_files(app)
    assert stored

    assert post(staff, first, f"/{on_first.id}/delete").status_code == 303
    assert media_files(app) == stored  # the other product still shows it
    again = post(staff, first, f"/{on_first.id}/delete")
    assert "already been removed" in text(staff.get(again.headers["Location"]))
    assert post(staff, second, f"/{on_second.id}/delete", htmx=True).status_code == 200
    assert rows(app) == [] and media_files(app) == []
    assert [e["picture"] for e in events(app, "picture.removed")] == [on_first.id, on_second.id]


def test_files_of_an_upload_whose_transaction_fails_are_removed(app: Flask) -> None:
    """The product disappears while the pictures are made (outside the transaction)."""
    with app.test_request_context(), pytest.raises(LookupError):
        gallery.add_pictures(123456, [Upload("a.png", encoded("PNG"))], "Kanne", _Actor(), 10**6)
    assert media_files(app) == []


class _Actor:
    id = 1


@given(
    prefix=st.sampled_from([b"", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP"]),
    tail=st.binary(max_size=400),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_bytes_make_the_check_fail_other_than_by_refusing(prefix: bytes, tail: bytes) -> None:
    try:
        gallery.normalise(prefix + tail, 10**6)
    except PictureRejected as rejected:
        assert rejected.reason in Rejection


def test_the_shop_front_offers_the_uploaded_variants(
    app: Flask, staff: FlaskClient, product_id: int
) -> None:
    upload(staff, product_id, [("a.jpg", camera_jpeg(1000, 700))], alt="Kanne von oben")
    with app.app_context():
        slug = db.session.get(ProductImage, rows(app)[0].id).product.slug  # type: ignore[union-attr]
    page = text(staff.get(f"/p/{slug}"))
    key = rows(app)[0].picture_key
    assert f"{key}-640.webp 640w" in page and 'alt="Kanne von oben"' in page


def test_the_kept_original_is_at_most_twice_the_largest_variant() -> None:
    kept = gallery.normalise(encoded("PNG", size=(3000, 120)), 10**6)
    assert (kept.width, kept.height) == (2560, 102)
    assert max(kept.variants) == 1280
