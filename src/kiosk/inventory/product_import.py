"""Products and their stock from the owner's CSV file, all or nothing.

The catalog reads and writes the products (`catalog.product_csv`); the stock column is
a counted level, so it goes through the ledger like every other change of stock, in the
same transaction: a file that sets a product below what open checkouts hold changes
nothing at all.
"""

from __future__ import annotations

from typing import IO

from kiosk.catalog.product_csv import (
    ImportRejected,
    ImportReport,
    Problem,
    prepare_pictures,
    read_products,
    write_products,
)
from kiosk.inventory.services import StockBelowReserved, set_stock
from kiosk.uow import unit_of_work


def import_products(source: IO[str]) -> ImportReport:
    """Create or update products from CSV and set their stock.

    Raises ImportRejected, having changed nothing, when any row has a problem.
    """
    parsed = read_products(source)
    described = prepare_pictures(parsed)  # before the transaction: pictures take a while
    report = ImportReport()
    with unit_of_work() as session:
        problems = []
        for number, product, stock in write_products(session, parsed, described, report):
            try:
                set_stock(session, product.id, stock, "CSV import")
            except StockBelowReserved:
                problems.append(Problem(number, "stock", "is below what open checkouts hold"))
        if problems:
            raise ImportRejected(problems)
    return report
