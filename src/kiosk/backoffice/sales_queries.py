"""The SQL of the dashboard's sales rollup (`kiosk.backoffice.sales`); never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from kiosk.backoffice.models import NO_CURRENCY, TOTAL, SalesBucket, SalesRollup
from kiosk.uow import lock_for_writers

Row = SalesRollup


@dataclass(frozen=True)
class Selection:
    """Which rollup rows make up a range: whole months, and runs of days (first, last)."""

    months: tuple[date, ...]
    days: tuple[tuple[date, date], ...]

    def where(self) -> ColumnElement[bool]:
        months = and_(Row.bucket == SalesBucket.MONTH, Row.day.in_(self.months))
        days = [and_(Row.bucket == SalesBucket.DAY, Row.day.between(a, b)) for a, b in self.days]
        return or_(months, *days) if self.months else or_(*days)

    @property
    def empty(self) -> bool:
        return not self.months and not self.days


class SalesRollupRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- rolling up ---------------------------------------------------------------------

    def lock(self) -> None:
        """Keep a second roll-up from writing the same period at the same time."""
        lock_for_writers(self.session, Row.__tablename__)

    def newest(self, bucket: SalesBucket) -> date | None:
        """The last period of the bucket rolled up (by its marker row)."""
        return self.session.scalar(
            select(func.max(Row.day)).where(Row.bucket == bucket, Row.product_id == TOTAL)
        )

    def present(self, bucket: SalesBucket, first: date, last: date) -> set[date]:
        """The periods of the bucket between `first` and `last` that are rolled up."""
        query = select(Row.day).where(
            Row.bucket == bucket,
            Row.product_id == TOTAL,
            Row.currency == NO_CURRENCY,
            Row.day.between(first, last),
        )
        return set(self.session.scalars(query))

    def add(self, rows: Sequence[dict[str, Any]]) -> int:
        self.session.execute(insert(Row), list(rows))
        return len(rows)

    def add_month(self, month: date, last: date, now: datetime) -> int:
        """The month's rows: its day rows added up, per currency and product."""
        summed = (
            Row.orders,
            Row.order_total_cents,
            Row.gross_cents,
            Row.net_cents,
            Row.credited_orders,
            Row.withdrawals,
            Row.units,
            Row.revenue_cents,
        )
        query = (
            select(
                literal(str(SalesBucket.MONTH)),
                literal(month),
                Row.currency,
                Row.product_id,
                func.max(Row.name),
                *(func.sum(column) for column in summed),
                literal(now, Row.rolled_up_at.type),
            )
            .where(Row.bucket == SalesBucket.DAY, Row.day.between(month, last))
            .group_by(Row.currency, Row.product_id)
        )
        columns = ["bucket", "day", "currency", "product_id", "name"]
        columns += [c.key for c in summed] + ["rolled_up_at"]
        result = self.session.execute(insert(Row).from_select(columns, query))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # --- reading ------------------------------------------------------------------------

    def totals(self, selection: Selection) -> list[tuple[str, int, int, int, int, int, int]]:
        """(currency, orders, order totals, gross, net, credited orders, withdrawals) per
        currency ('' holds the withdrawals)."""
        if selection.empty:
            return []
        rows = self.session.execute(
            select(
                Row.currency,
                func.sum(Row.orders),
                func.sum(Row.order_total_cents),
                func.sum(Row.gross_cents),
                func.sum(Row.net_cents),
                func.sum(Row.credited_orders),
                func.sum(Row.withdrawals),
            )
            .where(Row.product_id == TOTAL, selection.where())
            .group_by(Row.currency)
        )
        return [
            (str(cur), int(o), int(t), int(g), int(n), int(c), int(w))
            for cur, o, t, g, n, c, w in rows
        ]

    def days(self, first: date, last: date, currency: str) -> list[tuple[date, int, int, int]]:
        """(day, orders, gross, net) of the currency per day rolled up, where there were any."""
        rows = self.session.execute(
            select(Row.day, Row.orders, Row.gross_cents, Row.net_cents).where(
                Row.bucket == SalesBucket.DAY,
                Row.product_id == TOTAL,
                Row.day.between(first, last),
                Row.currency == currency,
            )
        )
        return [(day, int(o), int(g), int(n)) for day, o, g, n in rows]

    def products(self, selection: Selection) -> list[tuple[int, str, str, int, int]]:
        """(product id, name, currency, units, line totals) per product sold."""
        if selection.empty:
            return []
        rows = self.session.execute(
            select(
                Row.product_id,
                func.max(Row.name),
                Row.currency,
                func.sum(Row.units),
                func.sum(Row.revenue_cents),
            )
            .where(Row.product_id != TOTAL, selection.where())
            .group_by(Row.product_id, Row.currency)
        )
        return [(int(p), str(n), str(c), int(u), int(r)) for p, n, c, u, r in rows]
