"""The stored shipping methods and carriers, in the owner's order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.shipping.models import CarrierRow, ShippingMethodRow


class ShippingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[ShippingMethodRow]:
        query = select(ShippingMethodRow).order_by(ShippingMethodRow.position, ShippingMethodRow.id)
        return list(self.session.scalars(query))

    def by_code(self, code: str) -> ShippingMethodRow | None:
        return self.session.scalar(select(ShippingMethodRow).where(ShippingMethodRow.code == code))

    def add(self, row: ShippingMethodRow | CarrierRow) -> None:
        self.session.add(row)
        self.session.flush()

    def carriers(self) -> list[CarrierRow]:
        query = select(CarrierRow).order_by(CarrierRow.position, CarrierRow.id)
        return list(self.session.scalars(query))

    def carrier_by_code(self, code: str) -> CarrierRow | None:
        return self.session.scalar(select(CarrierRow).where(CarrierRow.code == code))
