"""Products and their stock from the owner's CSV file.

The catalog reads and writes the products (`catalog.product_csv`); the stock column is
a counted level, so it goes through the ledger like every other change of stock, in the
same transaction: a file that sets a product below what open checkouts hold changes
nothing at all.

The command line imports a file in one transaction (`import_products`). The back office
checks a file first without writing (`preview_products`) and then writes it batch by
batch (`write_batch`), one transaction each; both use the same rules as the command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.orm import Session

from kiosk.catalog import pictures
from kiosk.catalog.product_csv import (
    ImportRejected,
    ImportReport,
    Problem,
    ProductRow,
    existing_products,
    prepare_pictures,
    read_products,
    shop_problems,
    would_change,
    write_products,
)
from kiosk.inventory.services import StockBelowReserved, set_opening_stock, set_stock
from kiosk.uow import unit_of_work

BELOW_RESERVED = "is below what open checkouts hold"
IMPORT_REASON = "CSV import"


def import_products(source: IO[str]) -> ImportReport:
    """Create or update products from CSV and set their stock.

    Raises ImportRejected, having changed nothing, when any row has a problem.
    """
    parsed = read_products(source)
    described = prepare_pictures(parsed)  # before the transaction: pictures take a while
    report = ImportReport()
    with unit_of_work() as session:
        write_batch(session, parsed, described, report)
    return report


def write_batch(
    session: Session,
    parsed: list[ProductRow],
    described: dict[str, pictures.Picture],
    report: ImportReport,
) -> None:
    """Write checked rows and their stock in the caller's transaction; ImportRejected
    (the caller rolls back) when the shop refuses any of them."""
    problems = []
    written = write_products(session, parsed, described, report)
    opening = {w.product.id: w.stock for w in written if w.created}
    for changed in (w for w in written if not w.created):
        try:
            set_stock(session, changed.product.id, changed.stock, IMPORT_REASON)
        except StockBelowReserved:
            problems.append(Problem(changed.row, "stock", BELOW_RESERVED))
    set_opening_stock(session, opening, IMPORT_REASON)
    if problems:
        raise ImportRejected(problems)


@dataclass
class Preview:
    """What writing some checked rows would do, and what the shop would refuse."""

    created: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)


def preview_products(session: Session, parsed: list[ProductRow], preview: Preview) -> None:
    """Add to `preview` what `write_batch` would do with these rows, reading only; a row
    the shop refuses counts only among the problems."""
    problems = shop_problems(session, parsed)
    existing = existing_products(session, parsed)
    for row in parsed:
        product = existing.get(row.sku)
        if product is not None and row.stock < product.stock_reserved:
            problems.append(Problem(row.row, "stock", BELOW_RESERVED))
    refused = {problem.row for problem in problems}
    for row in parsed:
        product = existing.get(row.sku)
        if row.row in refused:
            continue
        if product is None:
            preview.created += 1
        elif would_change(product, row):
            preview.changed += 1
        else:
            preview.unchanged += 1
    preview.problems += problems
