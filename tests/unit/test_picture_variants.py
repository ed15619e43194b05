"""Sized variants of a picture: upright, sRGB, no metadata, never wider than the original."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from kiosk.catalog.pictures import NotAPicture, picture_key, render_variants, variant_widths

ORIENTATION, MAKE, GPS = 0x0112, 0x010F, 0x8825


def camera_jpeg(width: int, height: int, orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: EXIF with maker and GPS, a colour profile."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "Kamera AG"
    exif[GPS] = {1: "N", 2: (50.0, 56.0, 0.0)}
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = Image.new("RGB", (width, height), (200, 40, 40))
    image.paste((40, 40, 200), (0, 0, width // 2, height // 2))  # the top-left quarter
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, icc_profile=profile, quality=90)
    return out.getvalue()


@pytest.mark.parametrize(
    ("width", "expected"),
    [(2000, [320, 640, 1280]), (800, [320, 640, 800]), (640, [320, 640]), (200, [200])],
)
def test_variants_are_never_wider_than_the_original(width: int, expected: list[int]) -> None:
    assert variant_widths(width) == expected


def test_variants_are_webp_of_the_right_sizes() -> None:
    picture, variants = render_variants(camera_jpeg(2000, 1500))
    assert (picture.width, picture.height) == (2000, 1500)
    assert sorted(variants) == [320, 640, 1280]
    for width, data in variants.items():
        with Image.open(io.BytesIO(data)) as variant:
            assert variant.format == "WEBP"
            assert variant.size == (width, round(1500 * width / 2000))


def test_variants_carry_no_metadata() -> None:
    _, variants = render_variants(camera_jpeg(700, 500))
    for data in variants.values():
        with Image.open(io.BytesIO(data)) as variant:
            assert not set(variant.info) & {"exif", "icc_profile", "xmp"}
            assert not variant.getexif()
        assert b"Kamera AG" not in data


def test_a_picture_taken_sideways_is_turned_upright() -> None:
    # Orientation 6: the camera was turned; the stored pixels must be rotated 90° clockwise.
    picture, variants = render_variants(camera_jpeg(800, 600, orientation=6))
    assert (picture.width, picture.height) == (600, 800)
    with Image.open(io.BytesIO(variants[320])) as variant:
        assert variant.size == (320, 427)
        red, _green, blue = variant.convert("RGB").getpixel((300, 20))[:3]
        assert blue > red, "the blue top-left quarter should now be at the top right"


def test_transparency_is_kept() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(out, "PNG")
    _, variants = render_variants(out.getvalue())
    with Image.open(io.BytesIO(variants[320])) as variant:
        assert variant.mode == "RGBA"


def test_a_file_that_is_no_picture_is_refused() -> None:
    with pytest.raises(NotAPicture):
        render_variants(b"RIFF but no picture")


def test_the_key_depends_on_the_content_only() -> None:
    assert picture_key(b"a") == picture_key(b"a") != picture_key(b"b")
    assert len(picture_key(b"a")) == 32 and picture_key(b"a").isalnum()
