"""Staff's work on a product's pictures: upload, describe, reorder, remove.

An upload is trusted for nothing but its bytes. Pillow reads them with only the
JPEG, PNG, WebP and GIF decoders allowed (no other parser ever sees a
stranger's file); the size in pixels is checked from the header before a single
pixel is decoded, so a small file claiming 50,000 × 50,000 pixels costs
nothing. The picture is then turned upright by its EXIF orientation, put in
sRGB, made at most 2560 pixels wide and tall, and written again as WebP
without any metadata: that normalised file is
the original the shop keeps, named by the digest of its bytes
(`u/ab/abcdef….webp`), so the same picture is stored once and no name a user
chose ever reaches the disk. Its sized variants come from the same pipeline as
every other product picture (`catalog.pictures`).

Each file of an upload stands alone: the good ones are added, each bad one is
named with its reason, and a picture is either wholly there (file, variants,
row) or not at all. Files are written before the transaction (the work takes
seconds and must not hold the write lock); if the transaction fails, the files
it wrote that no row refers to are removed again. Files of a removed picture
go once no row refers to them; originals an owner put into the media folder
for the CSV import are the owner's and stay.
"""

from __future__ import annotations

import enum
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from kiosk.audit import services as audit
from kiosk.audit.services import Person
from kiosk.catalog.models import Product, ProductImage
from kiosk.catalog.pictures import (
    VARIANT_WIDTHS,
    PictureStore,
    encode_variants,
    picture_key,
    picture_store,
    upright_srgb,
)
from kiosk.catalog.repository import ProductRepository
from kiosk.uow import read_session, unit_of_work

log = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "WEBP", "GIF")  # the only decoders a stranger's file reaches
UPLOAD_FOLDER = "u"
WEBP_MAX_SIDE = 16383  # the WebP format cannot hold a wider picture
ORIGINAL_QUALITY = 90  # the kept original: variants are made from it later too
# The kept original is at most this wide and tall: twice the largest variant, room for
# sharper variants later, and a phone's 12-50 MP photo costs a fraction of the time.
KEPT_SIDE = 2 * max(VARIANT_WIDTHS)


class Rejection(enum.StrEnum):
    """Why one file of an upload was not added."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_A_PICTURE = "not_a_picture"
    DAMAGED = "damaged"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_WIDE = "too_wide"
    DUPLICATE = "duplicate"


class PictureRejected(ValueError):
    def __init__(self, reason: Rejection) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class Upload:
    """One file as it came: the name the browser gave it (for messages only) and its bytes,
    which stay unread (`too_large`) when the file is over the limit."""

    name: str
    data: bytes
    too_large: bool = False


@dataclass(frozen=True)
class Rejected:
    name: str
    reason: Rejection


@dataclass(frozen=True)
class Normalised:
    """An upload made safe: upright sRGB WebP without metadata, and its key and size."""

    data: bytes
    key: str
    width: int
    height: int
    variants: dict[int, bytes]

    @property
    def filename(self) -> str:
        return f"{UPLOAD_FOLDER}/{self.key[:2]}/{self.key}.webp"


@dataclass
class UploadResult:
    added: list[int] = field(default_factory=list)  # ids of the new pictures
    rejected: list[Rejected] = field(default_factory=list)


def normalise(data: bytes, max_pixels: int) -> Normalised:
    """The picture in `data`, upright and stripped, with its variants. Raises PictureRejected."""
    if not data:
        raise PictureRejected(Rejection.EMPTY)
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
            width, height = opened.size  # from the header: nothing decoded yet
            if width * height > max_pixels:
                raise PictureRejected(Rejection.TOO_MANY_PIXELS)
            if max(width, height) > WEBP_MAX_SIDE:
                raise PictureRejected(Rejection.TOO_WIDE)
            opened.draft("RGB", (KEPT_SIDE, KEPT_SIDE))  # JPEG: decode at 1/2, 1/4 … scale
            opened.load()  # the first frame of an animation
            image = upright_srgb(opened)
    except PictureRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PictureRejected(Rejection.TOO_MANY_PIXELS) from exc  # Pillow's own, higher limit
    except UnidentifiedImageError as exc:
        raise PictureRejected(Rejection.NOT_A_PICTURE) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        log.info("picture upload refused as damaged: %s", exc)
        raise PictureRejected(Rejection.DAMAGED) from exc
    image.thumbnail((KEPT_SIDE, KEPT_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=ORIGINAL_QUALITY)  # no exif=, no icc_profile=
    kept = buffer.getvalue()
    variants = encode_variants(image)
    return Normalised(kept, picture_key(kept), image.width, image.height, variants)


def _write(store: PictureStore, picture: Normalised) -> bool:
    """Put the original and its variants in the store; True if the original is new."""
    new = not store.has_original(picture.filename)
    store.save_original(picture.filename, picture.data)
    for width, encoded in picture.variants.items():
        store.save_variant(picture.key, width, encoded)
    return new


def is_upload(filename: str) -> bool:
    """A file this page stored (so the shop may delete it), not one the owner placed."""
    return filename.startswith(f"{UPLOAD_FOLDER}/")


def _collect(store: PictureStore, pictures: Sequence[tuple[str, str | None]]) -> None:
    """Delete the files of these (filename, key) pairs that no picture row refers to."""
    repository = ProductRepository(read_session())
    for filename, key in pictures:
        if is_upload(filename) and not repository.pictures_with_file(filename):
            store.delete(filename)
        if key and not repository.pictures_with_key(key):
            store.delete_variants(key)


def add_pictures(
    product_id: int, uploads: Sequence[Upload], alt: str, actor: Person, max_pixels: int
) -> UploadResult:
    """Add each good file to the product's pictures, after the ones it has; name the bad ones.

    Raises LookupError if there is no such product (then nothing stays behind).
    """
    result = UploadResult()
    accepted: list[tuple[str, Normalised]] = []
    for upload in uploads:
        try:
            if upload.too_large:
                raise PictureRejected(Rejection.TOO_LARGE)
            picture = normalise(upload.data, max_pixels)
            if any(picture.key == other.key for _name, other in accepted):
                raise PictureRejected(Rejection.DUPLICATE)
            accepted.append((upload.name, picture))
        except PictureRejected as rejected:
            result.rejected.append(Rejected(upload.name, rejected.reason))
    if not accepted:
        return result
    store = picture_store()
    written = [picture for _name, picture in accepted if _write(store, picture)]
    try:
        with unit_of_work() as session:
            repository = ProductRepository(session)
            product = repository.product_with_images(product_id, lock=True)
            if product is None:
                raise LookupError(product_id)
            known = {image.picture_key for image in product.images}
            position = max((image.position for image in product.images), default=-1)
            added: list[ProductImage] = []
            for name, picture in accepted:
                if picture.key in known:
                    result.rejected.append(Rejected(name, Rejection.DUPLICATE))
                    continue
                position += 1
                image = ProductImage(
                    position=position,
                    filename=picture.filename,
                    alt=alt,
                    picture_key=picture.key,
                    width=picture.width,
                    height=picture.height,
                )
                product.images.append(image)
                added.append(image)
            session.flush()
            for image in added:
                audit.record(
                    session,
                    "picture.added",
                    actor=actor,
                    product=product.id,
                    picture=image.id,
                    file=image.filename,
                    alt=image.alt,
                    position=image.position,
                )
            result.added = [image.id for image in added]
    except BaseException:
        try:
            _collect(store, [(picture.filename, picture.key) for picture in written])
        except Exception:
            log.exception("files of a failed upload could not be removed")
        raise
    _restore_if_collected(store, [picture for _name, picture in accepted])
    return result


def _restore_if_collected(store: PictureStore, pictures: Sequence[Normalised]) -> None:
    """A removal that ran between our write and our commit may have taken the same
    picture's files (it saw no row yet): put them back, the bytes are at hand."""
    for picture in pictures:
        if not store.has_original(picture.filename) or not all(
            store.has_variant(picture.key, width) for width in picture.variants
        ):
            _write(store, picture)


def pictures_of(product_id: int) -> Product | None:
    """The product with its pictures in order, for the staff page."""
    return ProductRepository(read_session()).product_with_images(product_id)


def describe(product_id: int, image_id: int, alt: str, actor: Person) -> None:
    """Set a picture's alt text. Raises LookupError if there is no such picture."""
    with unit_of_work() as session:
        image = ProductRepository(session).image_of(product_id, image_id)
        if image is None:
            raise LookupError(image_id)
        if image.alt == alt:
            return  # sent twice: nothing changed, nothing to record
        audit.record(
            session,
            "picture.alt_changed",
            actor=actor,
            product=product_id,
            picture=image_id,
            before=image.alt,
            after=alt,
        )
        image.alt = alt


class OrderChanged(Exception):
    """The picture is no longer where the page showed it (moved meanwhile, or sent twice)."""


def move(product_id: int, image_id: int, seen_at: int, step: int, actor: Person) -> None:
    """Swap the picture with its neighbour before (`step` -1) or after (+1) it.

    `seen_at` is the place the page showed: a second click of the same button (or
    someone else's move in between) is refused rather than moving the picture twice.
    Raises LookupError or OrderChanged.
    """
    with unit_of_work() as session:
        repository = ProductRepository(session)
        product = repository.product_with_images(product_id, lock=True)
        if product is None:
            raise LookupError(product_id)
        images = list(product.images)
        index = next((i for i, image in enumerate(images) if image.id == image_id), None)
        if index is None:
            raise LookupError(image_id)
        other = index + step
        if index != seen_at or not 0 <= other < len(images):
            raise OrderChanged
        before = [image.id for image in images]
        repository.swap_positions(images[index], images[other])
        images[index], images[other] = images[other], images[index]
        audit.record(
            session,
            "picture.reordered",
            actor=actor,
            product=product_id,
            picture=image_id,
            before=before,
            after=[image.id for image in images],
        )


def remove(product_id: int, image_id: int, actor: Person) -> bool:
    """Remove a picture from the product; its files go once nothing refers to them.

    False if it was gone already (a second click).
    """
    with unit_of_work() as session:
        repository = ProductRepository(session)
        image = repository.image_of(product_id, image_id)
        if image is None:
            return False
        files = (image.filename, image.picture_key)
        audit.record(
            session,
            "picture.removed",
            actor=actor,
            product=product_id,
            picture=image_id,
            file=image.filename,
            alt=image.alt,
            position=image.position,
        )
        repository.delete_image(image)
    _collect(picture_store(), [files])
    return True
