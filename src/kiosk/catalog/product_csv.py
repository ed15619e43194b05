"""Products (and categories) in and out of CSV files.

An import is all or nothing: every row is checked first, and any problem is
reported by row, column and reason with nothing changed. Rows are matched to
products by SKU, so exporting and importing a file gives the same catalog.

Files come from spreadsheets: UTF-8 (with or without the BOM Excel writes for
"CSV UTF-8"), or Windows-1252, which German Excel writes for plain "CSV".
`decode` tells them apart and refuses anything else (binary files, an .xlsx
saved under a .csv name) with one line. Cells follow the same edge rules as
web forms (`kiosk.validation`): no control characters, numbers that an INTEGER
column holds.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from flask import current_app
from slugify import slugify
from sqlalchemy.orm import Session

from kiosk.catalog import pictures
from kiosk.catalog.models import Category, Product, UnitMeasure
from kiosk.catalog.repository import CategoryRepository, ProductRepository, forget_category_tree
from kiosk.money import Money
from kiosk.uow import read_session, unit_of_work
from kiosk.validation import (
    INT_MAX,
    InputProblem,
    OutOfRange,
    has_control,
    parse_amount,
    parse_int,
    without_control,
)

PRODUCT_COLUMNS = (
    "sku",
    "slug",
    "name",
    "category",
    "price",
    "compare_at_price",
    "vat_class",
    "unit_content",
    "unit_measure",
    "delivery_time",
    "weight_grams",
    "stock",
    "active",
    "featured",
    "description",
    "images",
)
CATEGORY_COLUMNS = ("slug", "name", "parent", "description", "sort_order")
IMAGE_SUFFIXES = {".webp", ".jpg", ".jpeg", ".png", ".avif"}
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TRUE_WORDS = {"1", "true", "yes", "ja", "y", "x"}
FALSE_WORDS = {"0", "false", "no", "nein", "n", ""}
MAX_INT = 2_000_000_000
MULTILINE_COLUMNS = {"description"}  # Markdown: line breaks and tabs belong to it

# German transliteration for slugs: "Bär" -> "baer", not "bar".
SLUG_REPLACEMENTS = [
    ["Ä", "Ae"],
    ["Ö", "Oe"],
    ["Ü", "Ue"],
    ["ä", "ae"],
    ["ö", "oe"],
    ["ü", "ue"],
    ["ß", "ss"],
]


def make_slug(text: str) -> str:
    return slugify(text, replacements=SLUG_REPLACEMENTS, max_length=150, word_boundary=True)


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


class ImportRejected(Exception):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = problems


class UnreadableFile(Exception):
    """The file is not CSV text the shop can read; the message says why, in one line."""


@dataclass(frozen=True)
class DecodedFile:
    text: str
    encoding: str  # "UTF-8" or "Windows-1252"


NOT_TEXT = "is not a CSV text file but binary data; please save it as CSV from the spreadsheet"


def decode(data: bytes) -> DecodedFile:
    """The text of a CSV file: UTF-8 (BOM or not), else Windows-1252; binary files refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile("is UTF-16 text; please save it as CSV UTF-8 or plain CSV")
    try:
        decoded = DecodedFile(data.decode("utf-8-sig"), "UTF-8")
    except UnicodeDecodeError:
        if b"\x00" in data:
            raise UnreadableFile(NOT_TEXT) from None
        try:
            decoded = DecodedFile(data.decode("cp1252"), "Windows-1252")
        except UnicodeDecodeError:
            raise UnreadableFile(
                "is neither UTF-8 nor Windows-1252 text; please save it as CSV UTF-8"
            ) from None
    # A text file may hold a stray control character (refused at its cell); a file that is
    # one part in twenty control characters is binary that happens to decode.
    controls = len(decoded.text) - len(without_control(decoded.text, multiline=True))
    if controls * 20 > len(decoded.text):
        raise UnreadableFile(NOT_TEXT)
    return decoded


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0


@dataclass
class _RowReader:
    """Reads typed values from one CSV row and notes every problem."""

    row: int
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        for column, value in self.values.items():
            if isinstance(column, str) and isinstance(value, str):
                self._refuse_control(column, value)

    def _refuse_control(self, column: str, value: str) -> None:
        """A control character (a NUL, say) in any cell; PostgreSQL would refuse it, and
        elsewhere it breaks pages, mails and exports."""
        multiline = column in MULTILINE_COLUMNS
        if has_control(value, multiline):
            position, char = next(
                (i, c) for i, c in enumerate(value, start=1) if has_control(c, multiline)
            )
            self.fail(
                column, f"holds the control character U+{ord(char):04X} at position {position}"
            )

    def fail(self, column: str, reason: str) -> None:
        self.problems.append(Problem(self.row, column, reason))

    def text(self, column: str, max_length: int, required: bool = False) -> str:
        value = (self.values.get(column) or "").strip()
        if required and not value:
            self.fail(column, "is required")
        elif len(value) > max_length:
            self.fail(column, f"is longer than {max_length} characters")
        return value

    def money(self, column: str, required: bool = False) -> int | None:
        raw = (self.values.get(column) or "").strip()
        if not raw:
            if required:
                self.fail(column, "is required")
            return None
        if raw.startswith("-"):
            self.fail(column, "must not be negative")
            return None
        try:
            return parse_amount(raw).cents
        except OutOfRange:
            self.fail(column, f"{raw!r} is more than {Money(INT_MAX).plain()}")
        except InputProblem:
            self.fail(column, f"{raw!r} is not an amount such as 12.50")
        return None

    def whole(self, column: str, default: int | None = None, positive: bool = False) -> int | None:
        raw = (self.values.get(column) or "").strip()
        if not raw:
            return default
        try:
            number = parse_int(raw, minimum=0, maximum=MAX_INT)
        except InputProblem:
            self.fail(column, f"{raw!r} is not a whole number of 0 or more")
            return default
        if positive and number == 0:
            self.fail(column, "must be more than 0")
        return number

    def flag(self, column: str, default: bool) -> bool:
        raw = (self.values.get(column) or "").strip().lower()
        if raw == "":
            return default
        if raw in TRUE_WORDS:
            return True
        if raw not in FALSE_WORDS:
            self.fail(column, f"{raw!r} is not 1 or 0")
        return False


def read_rows(
    source: IO[str], columns: Iterable[str]
) -> tuple[list[dict[str, str]], list[Problem]]:
    """The file's rows as text, and the problems of its header and shape (nothing typed yet)."""
    reader = csv.DictReader(source)
    try:
        header = reader.fieldnames or []
        problems = [Problem(1, c, "column is missing") for c in columns if c not in header]
        problems += [Problem(1, c, "unknown column") for c in header if c not in columns]
        if problems:
            return [], problems
        rows = [dict(r) for r in reader]
    except (csv.Error, UnicodeDecodeError) as exc:
        return [], [Problem(reader.line_num, "-", f"the file is not valid CSV: {exc}")]
    for number, row in enumerate(rows, start=2):
        if None in row:
            problems.append(Problem(number, "-", "has more fields than the header"))
    return rows, problems


def _parse_images(reader: _RowReader, media_dir: Path) -> list[tuple[str, str]]:
    images: list[tuple[str, str]] = []
    for entry in filter(None, (e.strip() for e in (reader.values.get("images") or "").split(";"))):
        filename, _, alt = entry.partition("|")
        filename, alt = filename.strip(), alt.strip()
        path = PurePosixPath(filename)
        if path.is_absolute() or ".." in path.parts or path.suffix.lower() not in IMAGE_SUFFIXES:
            reader.fail(
                "images",
                f"{filename!r} is not a relative image file name (.webp, .jpg, .png, .avif)",
            )
        elif not (media_dir / path).is_file():
            reader.fail("images", f"{filename!r} is not in the media folder")
        elif len(alt) > 300:
            reader.fail("images", f"the alt text of {filename!r} is longer than 300 characters")
        else:
            images.append((str(path), alt))
    return images


@dataclass
class ProductRow:
    row: int  # its line in the file (the header is line 1), for the problems it may have
    values: dict[str, object]
    category_slug: str
    images: list[tuple[str, str]]
    stock: int

    @property
    def sku(self) -> str:
        return str(self.values["sku"])


def _check_product(reader: _RowReader, vat_classes: Iterable[str], media_dir: Path) -> ProductRow:
    sku = reader.text("sku", 64, required=True)
    if sku and not SKU_PATTERN.match(sku):
        reader.fail("sku", "may only hold letters, digits, '.', '_' and '-'")
    name = reader.text("name", 200, required=True)
    slug = reader.text("slug", 150) or make_slug(name)
    if slug and not SLUG_PATTERN.match(slug):
        reader.fail("slug", "may only hold lower-case letters, digits and single hyphens")
    price = reader.money("price", required=True)
    compare_at = reader.money("compare_at_price")
    if price is not None and compare_at is not None and compare_at <= price:
        reader.fail("compare_at_price", "must be higher than the price")
    vat_class = reader.text("vat_class", 20) or "standard"
    if vat_class not in vat_classes:
        reader.fail("vat_class", f"must be one of {', '.join(sorted(vat_classes))}")
    content = reader.whole("unit_content", positive=True)
    measure_raw = reader.text("unit_measure", 8)
    measure = None
    if measure_raw:
        try:
            measure = UnitMeasure(measure_raw)
        except ValueError:
            reader.fail("unit_measure", "must be g, ml, cm or cm2")
    if (content is None) != (measure_raw == ""):
        reader.fail("unit_content", "unit_content and unit_measure go together")
    values: dict[str, object] = {
        "sku": sku,
        "slug": slug,
        "name": name,
        "price_cents": price,
        "compare_at_cents": compare_at,
        "vat_class": vat_class,
        "unit_content": content,
        "unit_measure": measure,
        "delivery_time": reader.text("delivery_time", 120),
        "weight_grams": reader.whole("weight_grams", default=0),
        "is_active": reader.flag("active", True),
        "is_featured": reader.flag("featured", False),
        "description": reader.text("description", 20_000),
    }
    return ProductRow(
        reader.row,
        values,
        reader.text("category", 120),
        _parse_images(reader, media_dir),
        reader.whole("stock", default=0) or 0,
    )


class ProductChecker:
    """Checks product rows one by one, in file order, as `read_products` does for a whole
    file: the browser import checks a large file batch by batch with the same rules."""

    def __init__(self) -> None:
        self.media_dir = Path(current_app.config["KIOSK_MEDIA_DIR"])
        self.vat_classes = current_app.config["KIOSK_VAT_RATES"].keys()
        self.seen: dict[str, dict[str, int]] = {"sku": {}, "slug": {}}

    def check(self, number: int, values: dict[str, str]) -> tuple[ProductRow, list[Problem]]:
        """Row `number` typed, with its problems (a SKU or slug used twice in the file too)."""
        reader = _RowReader(number, values)
        row = _check_product(reader, self.vat_classes, self.media_dir)
        for key in ("sku", "slug"):
            value = str(row.values[key])
            if value and value in self.seen[key]:
                reader.fail(key, f"{value!r} is also used in row {self.seen[key][value]}")
            self.seen[key].setdefault(value, number)
        return row, reader.problems


def check_products(rows: list[dict[str, str]]) -> tuple[list[ProductRow], list[Problem]]:
    """Every row of a file typed, and the problems of all of them."""
    checker = ProductChecker()
    parsed: list[ProductRow] = []
    problems: list[Problem] = []
    for number, values in enumerate(rows, start=2):
        row, row_problems = checker.check(number, values)
        problems += row_problems
        parsed.append(row)
    return parsed, problems


def read_products(source: IO[str]) -> list[ProductRow]:
    """The file's rows, checked; ImportRejected names every problem (nothing is written)."""
    rows, problems = read_rows(source, PRODUCT_COLUMNS)
    parsed, row_problems = check_products(rows)
    if problems or row_problems:
        raise ImportRejected(problems + row_problems)
    return parsed


def shop_problems(session: Session, parsed: list[ProductRow]) -> list[Problem]:
    """What the shop itself refuses of checked rows: a category it does not have, a slug
    another product owns. Read only, so a dry run can ask too."""
    categories = {c.slug for c in CategoryRepository(session).all()}
    taken = ProductRepository(session).slug_owners()
    problems: list[Problem] = []
    for row in parsed:
        slug = str(row.values["slug"])
        if row.category_slug and row.category_slug not in categories:
            problems.append(Problem(row.row, "category", f"no category {row.category_slug!r}"))
        if taken.get(slug, row.sku) != row.sku:
            problems.append(Problem(row.row, "slug", f"{slug!r} belongs to product {taken[slug]}"))
    return problems


def existing_products(session: Session, parsed: list[ProductRow]) -> dict[str, Product]:
    """The shop's products that rows name by SKU."""
    return ProductRepository(session).by_skus(row.sku for row in parsed)


def would_change(product: Product, row: ProductRow) -> bool:
    """Whether writing `row` would change `product` (its stock included)."""
    category_slug = product.category.slug if product.category else ""
    return (
        any(getattr(product, name) != value for name, value in row.values.items())
        or category_slug != row.category_slug
        or [(i.filename, i.alt) for i in product.images] != row.images
        or product.stock_on_hand != row.stock
        or product.currency != current_app.config["KIOSK_CURRENCY"]
    )


@dataclass(frozen=True)
class Written:
    row: int
    product: Product
    stock: int
    created: bool


def write_products(
    session: Session,
    parsed: list[ProductRow],
    described: dict[str, pictures.Picture],
    report: ImportReport,
) -> list[Written]:
    """Create or update the products of checked rows in the caller's transaction (the
    stock is not the catalog's: the caller sets it). Returns each row's number, product,
    stock and whether it is new; raises ImportRejected for a category or slug the shop
    does not allow."""
    problems = shop_problems(session, parsed)
    if problems:
        raise ImportRejected(problems)
    categories = {c.slug: c for c in CategoryRepository(session).all()}
    products = ProductRepository(session)
    existing = products.by_skus(row.sku for row in parsed)
    staged = []
    for row in parsed:
        product = existing.get(row.sku)
        if product is None:
            product = Product(images=[])
            report.created += 1
        else:
            report.updated += 1
        for attribute, new_value in row.values.items():
            setattr(product, attribute, new_value)
        product.currency = current_app.config["KIOSK_CURRENCY"]
        product.category = categories.get(row.category_slug)
        staged.append((row, products.save(product), row.sku not in existing))
    session.flush()  # once for all rows: new products are inserted together
    written = []
    for row, product, created in staged:
        if [(i.filename, i.alt) for i in product.images] != row.images:
            products.replace_images(product, row.images)
        written.append(Written(row.row, product, row.stock, created))
    products.describe_images(described)
    return written


def prepare_pictures(parsed: list[ProductRow]) -> dict[str, pictures.Picture]:
    """The variants of every picture the file names, made before the transaction
    (they take a while); a file that is no picture is a problem of its row."""
    described, report = pictures.prepare_all(name for row in parsed for name, _ in row.images)
    problems = [
        Problem(row.row, "images", f"{name!r} is not a picture that can be read")
        for row in parsed
        for name, _ in row.images
        if name in report.unreadable or name in report.missing
    ]
    if problems:
        raise ImportRejected(problems)
    return described


def export_products(target: IO[str]) -> int:
    """Write every product as CSV, in the format `import_products` reads."""
    return write_products_csv(target, ProductRepository(read_session()).all_for_export())


def write_products_csv(target: IO[str], products: Sequence[Product]) -> int:
    """Write these products as CSV, in the format `import_products` reads."""
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(PRODUCT_COLUMNS)
    for p in products:
        writer.writerow(
            [
                p.sku,
                p.slug,
                p.name,
                p.category.slug if p.category else "",
                p.price.plain(),
                p.compare_at.plain() if p.compare_at else "",
                p.vat_class,
                p.unit_content or "",
                p.unit_measure.value if p.unit_measure else "",
                p.delivery_time,
                p.weight_grams,
                p.stock_on_hand,
                int(p.is_active),
                int(p.is_featured),
                p.description,
                ";".join(f"{i.filename}|{i.alt}" for i in p.images),
            ]
        )
    return len(products)


def _would_cycle(known: dict[str, Category], slug: str, parent_slug: str) -> bool:
    category: Category | None = known[parent_slug]
    while category is not None:
        if category.slug == slug:
            return True
        category = category.parent
    return False


def import_categories(source: IO[str]) -> ImportReport:
    """Create or update categories by slug; parents must come before their children."""
    rows, problems = read_rows(source, CATEGORY_COLUMNS)
    with unit_of_work() as session:
        report, row_problems = write_categories(session, rows)
        problems += row_problems
        if problems:
            raise ImportRejected(problems)
    return report


def write_categories(
    session: Session, rows: list[dict[str, str]]
) -> tuple[ImportReport, list[Problem]]:
    """Create or update the categories of `rows` in the caller's transaction, and name the
    problems of each row; the caller rolls back when there are any (a dry run always does)."""
    problems: list[Problem] = []
    report = ImportReport()
    repo = CategoryRepository(session)
    known = {c.slug: c for c in repo.all()}
    for number, values in enumerate(rows, start=2):
        reader = _RowReader(number, values)
        slug = reader.text("slug", 120, required=True)
        if slug and not SLUG_PATTERN.match(slug):
            reader.fail("slug", "may only hold lower-case letters, digits and single hyphens")
        name = reader.text("name", 120, required=True)
        parent_slug = reader.text("parent", 120)
        if parent_slug and parent_slug not in known:
            reader.fail("parent", f"no category {parent_slug!r} above this row")
        elif parent_slug and _would_cycle(known, slug, parent_slug):
            reader.fail("parent", "a category cannot sit below itself")
        sort_order = reader.whole("sort_order", default=0)
        problems += reader.problems
        if reader.problems:
            continue
        category = known.get(slug)
        if category is None:
            category = repo.add(Category(slug=slug))
            known[slug] = category
            report.created += 1
        else:
            report.updated += 1
        category.name = name
        category.description = reader.text("description", 2000)
        category.sort_order = sort_order or 0
        category.parent = known.get(parent_slug) if parent_slug else None
    forget_category_tree()
    return report, problems
