"""The demo catalog: categories and products from data/demo/, with pictures drawn here.

The pictures are generated (no downloads): a colour per category, a simple
shape and the product's name, saved as WebP originals in the picture store;
the import then makes their sized variants like for any other picture.
"""

from __future__ import annotations

import csv
import hashlib
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kiosk.catalog import services as catalog
from kiosk.catalog.pictures import PictureStore, picture_store
from kiosk.catalog.product_csv import ImportReport, import_categories
from kiosk.config import DATA_DIR
from kiosk.inventory.product_import import import_products

DEMO_DIR = DATA_DIR / "demo"
IMAGE_SIZE = 800


@dataclass(frozen=True)
class SeedResult:
    seeded: bool
    categories: ImportReport | None = None
    products: ImportReport | None = None
    images: int = 0


def _palette(key: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(key.encode()).digest()
    background = (150 + digest[0] % 90, 150 + digest[1] % 90, 150 + digest[2] % 90)
    ink = (digest[3] % 80, digest[4] % 80, digest[5] % 80)
    return background, ink


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans where the system has it (umlauts, „quotes“), else Pillow's own font."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def draw_product_image(title: str, category: str, index: int) -> bytes:
    """Draw one square demo picture (WebP): category colour, a shape per index, the title."""
    background, ink = _palette(category)
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), background)
    draw = ImageDraw.Draw(image)
    box = (200, 120, 600, 520)
    shape = index % 3
    if shape == 0:
        draw.ellipse(box, outline=ink, width=18)
    elif shape == 1:
        draw.rounded_rectangle(box, radius=60, outline=ink, width=18)
    else:
        draw.polygon([(400, 120), (600, 520), (200, 520)], outline=ink, width=18)
    font = _font(44)
    lines = textwrap.wrap(title, width=26)[:3]
    y = 580
    for line in lines:
        width = draw.textlength(line, font=font)
        draw.text(((IMAGE_SIZE - width) / 2, y), line, fill=ink, font=font)
        y += 56
    encoded = io.BytesIO()
    image.save(encoded, "WEBP", quality=80, method=4)
    return encoded.getvalue()


def generate_demo_images(products_csv: Path, store: PictureStore) -> int:
    """Draw every picture the demo product file names that is not drawn yet."""
    count = 0
    with products_csv.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            entries = [e for e in row["images"].split(";") if e.strip()]
            for index, entry in enumerate(entries):
                filename = entry.partition("|")[0].strip()
                try:
                    store.read_original(filename)
                except FileNotFoundError:
                    picture = draw_product_image(row["name"], row["category"], index)
                    store.save_original(filename, picture)
                    count += 1
    return count


def seed_demo(only_if_empty: bool = True, demo_dir: Path = DEMO_DIR) -> SeedResult:
    """Load the demo catalog; with `only_if_empty`, leave a shop with products alone."""
    if only_if_empty and catalog.has_products():
        return SeedResult(seeded=False)
    images = generate_demo_images(demo_dir / "products.csv", picture_store())
    with (demo_dir / "categories.csv").open(encoding="utf-8-sig", newline="") as handle:
        categories = import_categories(handle)
    with (demo_dir / "products.csv").open(encoding="utf-8-sig", newline="") as handle:
        products = import_products(handle)
    return SeedResult(True, categories, products, images)
