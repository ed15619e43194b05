"""Product pictures: the originals, their sized WebP variants, and the store that keeps both.

Pages showed every picture at its full size (800 px for a 200 px card). Now,
when a picture is added (CSV import, the demo catalog, or `flask kiosk
picture-variants` for pictures added before), it is read once and WebP
variants 320, 640 and 1280 px wide are made (never wider than the original),
turned upright by the EXIF orientation, converted to sRGB and written without
any metadata (no camera, place or time leaves the shop). Pages offer them with
`srcset`, and the browser loads the one that fits.

A variant is named by a digest of the original's bytes (`key`), never by a
name a user chose: a changed file gets new names, so browsers may cache every
variant for a year, and a file used twice is stored once. The product image
row keeps the key and the original's width and height (layout without jumps).

Files go through `PictureStore`, so object storage needs only another store.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from flask import current_app, url_for
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from kiosk.catalog.models import PictureRef
from kiosk.catalog.repository import ProductRepository
from kiosk.uow import read_session, unit_of_work

log = logging.getLogger(__name__)

VARIANT_WIDTHS = (320, 640, 1280)
IMAGE_SUFFIXES = {".webp", ".jpg", ".jpeg", ".png", ".avif"}
WEBP_QUALITY = 80
ORIENTATION = 0x0112  # the EXIF tag


class PictureStore(Protocol):
    """Where originals and variants live. Names of originals are relative paths
    (`demo/mug-1.webp`); variants are addressed by the original's key and their width."""

    def save_original(self, name: str, data: bytes) -> None: ...

    def read_original(self, name: str) -> bytes:
        """The original's bytes; FileNotFoundError if there is none."""
        ...

    def save_variant(self, key: str, width: int, data: bytes) -> None: ...

    def has_variant(self, key: str, width: int) -> bool: ...

    def has_original(self, name: str) -> bool: ...

    def original_url(self, name: str) -> str: ...

    def variant_url(self, key: str, width: int) -> str: ...

    def delete(self, name: str, key: str | None = None) -> None:
        """Remove the original, and with `key` its variants too."""
        ...

    def delete_variants(self, key: str) -> None: ...


def is_picture_name(name: str) -> bool:
    """A relative path inside the store with a picture's suffix: the only names stored or served."""
    path = PurePosixPath(name)
    return (
        bool(name)
        and not path.is_absolute()
        and ".." not in path.parts
        and "\\" not in name
        and path.suffix.lower() in IMAGE_SUFFIXES
    )


class LocalPictureStore:
    """The media folder (`KIOSK_MEDIA_DIR`): originals where the owner put them, variants
    below `v/`, all served at /media/ (by nginx in production)."""

    VARIANT_FOLDER = "v"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _original(self, name: str) -> Path:
        if not is_picture_name(name):
            raise ValueError(f"not a picture name: {name!r}")
        return self.root / name

    def _variant_name(self, key: str, width: int) -> str:
        if not key.isalnum():
            raise ValueError(f"not a picture key: {key!r}")
        return f"{self.VARIANT_FOLDER}/{key[:2]}/{key}-{width}.webp"

    def _write(self, path: Path, data: bytes) -> None:
        """Write next to the target and rename, so a reader never sees half a file.

        The partial file's name is the writer's own: two writers of the same picture
        (an import's threads, two uploads) would otherwise rename each other's file away.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
        partial.write_bytes(data)
        partial.replace(path)

    def save_original(self, name: str, data: bytes) -> None:
        self._write(self._original(name), data)

    def read_original(self, name: str) -> bytes:
        return self._original(name).read_bytes()

    def save_variant(self, key: str, width: int, data: bytes) -> None:
        self._write(self.root / self._variant_name(key, width), data)

    def has_variant(self, key: str, width: int) -> bool:
        return (self.root / self._variant_name(key, width)).is_file()

    def has_original(self, name: str) -> bool:
        return self._original(name).is_file()

    def original_url(self, name: str) -> str:
        return url_for("core.media", filename=name)

    def variant_url(self, key: str, width: int) -> str:
        return url_for("core.media", filename=self._variant_name(key, width))

    def delete(self, name: str, key: str | None = None) -> None:
        self._original(name).unlink(missing_ok=True)
        if key:
            self.delete_variants(key)

    def delete_variants(self, key: str) -> None:
        folder = self.root / self._variant_name(key, 1).rpartition("/")[0]
        for path in folder.glob(f"{key}-*.webp"):
            path.unlink(missing_ok=True)


def picture_store() -> PictureStore:
    """The shop's store (one per app)."""
    store: PictureStore = current_app.extensions.setdefault(
        "kiosk.pictures", LocalPictureStore(Path(current_app.config["KIOSK_MEDIA_DIR"]))
    )
    return store


def variant_widths(original_width: int) -> list[int]:
    """The variants an original gets: the standard widths, none wider than it is."""
    return sorted({min(width, original_width) for width in VARIANT_WIDTHS})


@dataclass(frozen=True)
class Picture:
    """What the shop knows about an original once its variants exist."""

    key: str
    width: int
    height: int


class NotAPicture(ValueError):
    """The file is not an image Pillow can read."""


def upright_srgb(image: Image.Image) -> Image.Image:
    """Turned by its EXIF orientation, in sRGB (browsers assume it without a profile)."""
    image = ImageOps.exif_transpose(image)
    mode = "RGBA" if image.has_transparency_data else "RGB"
    profile = image.info.get("icc_profile")
    if profile and image.mode in {"RGB", "RGBA", "CMYK"}:
        try:
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGBA" if image.mode == "RGBA" else "RGB",
            )
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError):
            log.warning("colour profile could not be applied; the picture is used as is")
    return image.convert(mode)


def render_variants(data: bytes) -> tuple[Picture, dict[int, bytes]]:
    """The picture's size and its WebP variants by width. Raises NotAPicture."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            image = upright_srgb(opened)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise NotAPicture(str(exc)) from exc
    return Picture(picture_key(data), *image.size), encode_variants(image)


def encode_variants(image: Image.Image) -> dict[int, bytes]:
    """The WebP variants of an upright sRGB image, by width."""
    width, height = image.size
    variants: dict[int, bytes] = {}
    for target in variant_widths(width):
        size = (target, max(1, round(height * target / width)))
        resized = (
            image
            if target == width
            else image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        )
        buffer = io.BytesIO()
        resized.save(buffer, "WEBP", quality=WEBP_QUALITY)
        variants[target] = buffer.getvalue()
    return variants


def picture_key(data: bytes) -> str:
    """The name of an original's variants: 128 bits of its SHA-256, as hex."""
    return hashlib.sha256(data).hexdigest()[:32]


def prepare(name: str, store: PictureStore | None = None) -> Picture:
    """Make the variants of the original `name` unless they exist; its key and size.

    Raises FileNotFoundError or NotAPicture. Runs outside any transaction: the
    work takes a while, and a write lock held meanwhile would stop the shop.
    """
    store = store or picture_store()
    data = store.read_original(name)
    key = picture_key(data)
    width, height = _upright_size(data)
    if all(store.has_variant(key, w) for w in variant_widths(width)):
        return Picture(key, width, height)
    picture, variants = render_variants(data)
    for target, encoded in variants.items():
        store.save_variant(picture.key, target, encoded)
    return picture


def _upright_size(data: bytes) -> tuple[int, int]:
    """Width and height as shown, from the header alone (a quarter turn swaps them)."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            turned = probe.getexif().get(ORIENTATION, 1) in {5, 6, 7, 8}
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise NotAPicture(str(exc)) from exc
    return (height, width) if turned else (width, height)


def picture_sources(ref: PictureRef, store: PictureStore | None = None) -> dict[str, object]:
    """`src`, `srcset`, `width` and `height` of an `<img>` showing `ref`.

    Without variants yet (the command has not run) the original is the source.
    """
    store = store or picture_store()
    if not ref.key or not ref.width or not ref.height:
        return {"src": store.original_url(ref.filename), "srcset": None}
    widths = variant_widths(ref.width)
    return {
        "src": store.variant_url(ref.key, widths[min(1, len(widths) - 1)]),
        "srcset": ", ".join(f"{store.variant_url(ref.key, w)} {w}w" for w in widths),
        "width": ref.width,
        "height": ref.height,
    }


@dataclass
class VariantReport:
    pictures: int = 0
    updated: int = 0
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def prepare_all(names: Iterable[str]) -> tuple[dict[str, Picture], VariantReport]:
    """`prepare` each distinct name; what could not be read is listed in the report.

    Pillow lets go of the GIL while it scales and encodes, so a thread per core
    makes an import of many pictures that much faster.
    """
    report = VariantReport()
    pictures: dict[str, Picture] = {}
    store = picture_store()

    def attempt(name: str) -> Picture | Exception:
        try:
            return prepare(name, store)
        except (FileNotFoundError, NotAPicture) as exc:
            return exc

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        unique = sorted(set(names))
        for name, outcome in zip(unique, pool.map(attempt, unique), strict=True):
            if isinstance(outcome, Picture):
                pictures[name] = outcome
            elif isinstance(outcome, FileNotFoundError):
                report.missing.append(name)
            else:
                report.unreadable.append(name)
    report.pictures = len(pictures)
    return pictures, report


def make_missing_variants() -> VariantReport:
    """Give every product picture its variants, key and size (`flask kiosk picture-variants`).

    Safe to run again: variants that exist are kept, rows that are current are
    left alone.
    """
    names = ProductRepository(read_session()).image_filenames()
    pictures, report = prepare_all(names)
    with unit_of_work() as session:
        report.updated = ProductRepository(session).describe_images(pictures)
    return report
