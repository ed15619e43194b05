"""The stored shop settings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.backoffice.models import ShopSetting


class ShopSettingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def values(self) -> dict[str, str]:
        return {row.key: row.value for row in self.session.scalars(select(ShopSetting))}

    def put(self, key: str, value: str, author_id: int) -> None:
        row = self.session.get(ShopSetting, key)
        if row is None:
            self.session.add(ShopSetting(key=key, value=value, updated_by_id=author_id))
        else:
            row.value, row.updated_by_id = value, author_id
        self.session.flush()
