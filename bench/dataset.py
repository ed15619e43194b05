"""The benchmark catalog: 10,000 generated products in their own database and media folder.

Everything lives under data/bench/ (git-ignored), apart from the shop's own data,
and goes in through the shop's own commands (`flask db upgrade`, `flask kiosk
import-categories`, `flask kiosk import-products`), so the benchmark measures
data the shop itself accepted. A database that already holds the right number of
products is reused; `--fresh` rebuilds it.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageDraw

from kiosk.catalog.product_csv import PRODUCT_COLUMNS, make_slug

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATA = ROOT / "data" / "bench"
DB_PATH = BENCH_DATA / "bench.sqlite3"
MEDIA_DIR = BENCH_DATA / "media"
PRODUCTS_CSV = BENCH_DATA / "products.csv"
CATEGORIES_CSV = ROOT / "data" / "demo" / "categories.csv"

PRODUCT_COUNT = 10_000
IMAGE_COUNT = 20
SEED = 20_240_601  # the same catalog on every machine

# Every tenth product carries one of these styles in its name, so a search for
# one of them (SEARCH_WORD) finds about 1,000 products.
STYLES = ("Bär", "Fuchs", "Linde", "Hafen", "Wiese", "Alpin", "Sommer", "Klassik", "Heide", "Mond")
SEARCH_WORD = "fuchs"
NOUNS = {
    "kaffee-tee": ("Kaffeebecher", "Teekanne", "Milchkännchen", "Untersetzer"),
    "kaffee": ("Espressobohnen", "Filterkaffee", "Kaffeemühle", "Handfilter"),
    "tee": ("Grüntee", "Kräutertee", "Teesieb", "Teedose"),
    "kueche": ("Schneidebrett", "Pfanne", "Kochlöffel", "Messer", "Schüssel"),
    "schreibwaren": ("Notizbuch", "Füller", "Bleistift-Set", "Briefpapier"),
    "buecher": ("Kochbuch", "Bildband", "Kinderbuch", "Reiseführer"),
    "textilien": ("Geschirrtuch", "Wolldecke", "Schürze", "Kissenbezug"),
    "pflege": ("Handseife", "Lippenbalsam", "Haarbürste", "Gesichtscreme"),
    "feinkost": ("Olivenöl", "Blütenhonig", "Meersalz", "Schokolade", "Essig"),
}
# Food and drink is sold by weight or volume, so it shows a unit price too.
UNITS = {
    "kaffee": ("g", (250, 500, 1000)),
    "tee": ("g", (50, 100, 250)),
    "feinkost": ("ml", (100, 250, 500)),
}
DELIVERY_TIMES = ("1–3 Werktage", "2–4 Werktage", "5–7 Werktage")
DESCRIPTION = """Unser **{name}** aus der Reihe „{style}“: sorgfältig ausgewählt und lange haltbar.

- Artikel {sku}, geprüft von unserem Team
- hergestellt in einer kleinen Manufaktur
- nachhaltig verpackt und klimaneutral versendet

Passt gut zu allem anderen aus der Reihe „{style}“."""


class DatasetError(RuntimeError):
    """The benchmark catalog could not be built."""


def bench_env() -> dict[str, str]:
    """The environment for the shop's commands and for gunicorn: the bench data, production mode."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{DB_PATH}",
        "KIOSK_MEDIA_DIR": str(MEDIA_DIR),
        "SECRET_KEY": "bench-secret",
        "KIOSK_ENV": "production",
        "KIOSK_SECURE_COOKIES": "0",  # cookies over plain http on 127.0.0.1
        "KIOSK_LOG_LEVEL": "WARNING",
    }


def prepare(fresh: bool = False) -> None:
    """Make sure the bench database holds the generated catalog, building it if needed."""
    count = product_count()
    if not fresh and count == PRODUCT_COUNT:
        print(f"Reusing {DB_PATH.relative_to(ROOT)} ({count} products; --fresh rebuilds it).")
        _flask("db", "upgrade")  # cheap when current; keeps an old database at the newest schema
        return
    print(f"Building the bench catalog in {BENCH_DATA.relative_to(ROOT)} ...")
    _remove_database()
    shutil.rmtree(MEDIA_DIR, ignore_errors=True)
    MEDIA_DIR.mkdir(parents=True)
    images = draw_images(MEDIA_DIR)
    _flask("db", "upgrade")
    _flask("kiosk", "import-categories", str(CATEGORIES_CSV))
    write_products_csv(PRODUCTS_CSV, category_slugs(CATEGORIES_CSV), images)
    _flask("kiosk", "import-products", str(PRODUCTS_CSV))
    count = product_count()
    if count != PRODUCT_COUNT:
        raise DatasetError(f"expected {PRODUCT_COUNT} products after the import, found {count}")


def product_count() -> int | None:
    """Products in the bench database, or None when there is no usable one."""
    if not DB_PATH.exists():
        return None
    try:
        with _connect() as conn:
            count: int = conn.execute("SELECT count(*) FROM product").fetchone()[0]
    except sqlite3.Error:
        return None
    return count


def sample_product_slug() -> str:
    """An active product with a picture: what a shopper following a link would see."""
    query = (
        "SELECT p.slug FROM product p JOIN product_image i ON i.product_id = p.id"
        " WHERE p.is_active = 1 ORDER BY p.id LIMIT 1"
    )
    with _connect() as conn:
        row = conn.execute(query).fetchone()
    if row is None:
        raise DatasetError("the bench database has no active product with a picture")
    return str(row[0])


def _connect() -> sqlite3.Connection:
    return sqlite3.connect(f"{DB_PATH.as_uri()}?mode=ro", uri=True)


def _remove_database() -> None:
    for suffix in ("", "-wal", "-shm"):
        DB_PATH.with_name(DB_PATH.name + suffix).unlink(missing_ok=True)


def _flask(*args: str) -> None:
    """Run `flask --app kiosk ARGS` against the bench database; raise if it fails."""
    command = [sys.executable, "-m", "flask", "--app", "kiosk", *args]
    print(f"  $ flask --app kiosk {' '.join(args)}")
    result = subprocess.run(command, cwd=ROOT, env=bench_env(), capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise DatasetError(f"`flask {' '.join(args)}` failed ({result.returncode}):\n{output}")


def draw_images(media_dir: Path) -> list[str]:
    """A handful of small pictures for the products to share; returns their file names."""
    names = []
    for number in range(1, IMAGE_COUNT + 1):
        name = f"bench-{number:02d}.webp"
        background = tuple(150 + byte % 90 for byte in hashlib.sha256(name.encode()).digest()[:3])
        image = Image.new("RGB", (400, 400), background)
        ImageDraw.Draw(image).ellipse((100, 100, 300, 300), outline=(40, 40, 40), width=12)
        image.save(media_dir / name, "WEBP", quality=75)
        names.append(name)
    return names


def category_slugs(categories_csv: Path) -> list[str]:
    with categories_csv.open(encoding="utf-8-sig", newline="") as handle:
        return [row["slug"] for row in csv.DictReader(handle)]


def write_products_csv(path: Path, categories: list[str], images: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PRODUCT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(generate_products(PRODUCT_COUNT, categories, images))


def generate_products(
    count: int, categories: list[str], images: list[str]
) -> Iterator[dict[str, str]]:
    """`count` product rows in the import format; the same rows for the same arguments."""
    rng = random.Random(SEED)
    for number in range(1, count + 1):
        category = categories[number % len(categories)]
        noun = rng.choice(NOUNS.get(category, ("Geschenkset",)))
        style = STYLES[number % len(STYLES)]
        sku = f"BENCH-{number:05d}"
        name = f"{noun} „{style}“"
        price = _random_price(rng)
        unit_measure, contents = UNITS.get(category, ("", ()))
        image = f"{rng.choice(images)}|{name}" if number % 3 == 0 else ""
        yield {
            "sku": sku,
            "slug": f"{make_slug(name)}-{number:05d}",
            "name": name,
            "category": category,
            "price": _plain(price),
            "compare_at_price": _plain(price + max(100, price // 4)) if rng.random() < 0.15 else "",
            "vat_class": "reduced" if category in {"buecher", "feinkost"} else "standard",
            "unit_content": str(rng.choice(contents)) if contents else "",
            "unit_measure": unit_measure,
            "delivery_time": rng.choice(DELIVERY_TIMES),
            "weight_grams": str(rng.randint(50, 3000)),
            "stock": str(_random_stock(rng)),
            "active": "0" if number % 50 == 0 else "1",
            "featured": "1" if number % 37 == 0 else "0",
            "description": DESCRIPTION.format(name=name, style=style, sku=sku),
            "images": image,
        }


def _random_price(rng: random.Random) -> int:
    """Cents between 2 and 250 euros, spread evenly over the orders of magnitude."""
    euros = int(2 * 125 ** rng.random())
    return euros * 100 + rng.choice((0, 50, 90, 99))


def _random_stock(rng: random.Random) -> int:
    """One product in ten is sold out, one in ten is running low."""
    roll = rng.random()
    if roll < 0.1:
        return 0
    return rng.randint(1, 5) if roll < 0.2 else rng.randint(6, 250)


def _plain(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
