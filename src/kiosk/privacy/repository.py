"""The privacy centre's queries: a person's rows in every table of the personal-data map.

Export and erasure act on every table alike, so they do not go through each domain's own
repository (which knows only its tables): they read the map and build SQLAlchemy Core
selects on `kiosk.orm.Base.metadata`. This module is the only place that does so.
Consent records are the privacy centre's own table. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, false, func, or_, select, update
from sqlalchemy.orm import Session

from kiosk.orm import Base
from kiosk.privacy.data_map import ByEmail, ByParent, ByUser, Mentions, about_persons
from kiosk.privacy.models import ConsentCategory, ConsentRecord, ExportLink

Row = dict[str, Any]


@dataclass(frozen=True)
class Person:
    """Whose rows to find: an account id, an email address, or both.

    For a signed-in customer both are given, the account's own (verified) address as
    `email`: the rows owned `ByEmail` under it — guest orders placed before signing up,
    stock alerts asked for while signed out, coupons redeemed as a guest — are theirs too,
    since they proved they hold that address. For a guest only `email` is given, proved by
    the emailed link; rows owned only by an account id are then not found.
    """

    account_id: int | None = None
    email: str | None = None


def _owned_by(person: Person, column: Column[Any], owner: ByUser | ByEmail) -> ColumnElement[bool]:
    if isinstance(owner, ByUser):
        return column == person.account_id if person.account_id is not None else false()
    if not person.email:
        return false()
    # Guests typed their address at checkout; compare as the accounts domain stores them.
    return func.lower(column) == person.email.strip().lower()


def _parent_key(column: Column[Any]) -> str:
    """The column of the parent table that `column`'s foreign key points at."""
    (foreign_key,) = column.foreign_keys
    return foreign_key.column.name


def rows_of(session: Session, person: Person, ids_only: bool = False) -> dict[str, list[Row]]:
    """Every row of `person` in every table of the map that holds someone's rows.

    The answer has one key per table of `about_persons()`, in the map's order (parents
    before children), each a list of rows (column name -> value, every column, in primary
    key order). A row belongs to the person when any of its table's owners matches: an
    account id (`ByUser`), an address, compared case-insensitively (`ByEmail`), or a parent
    row already found (`ByParent`, through the foreign key), or a text naming the address
    (`Mentions`: a notice to staff about the person's order). What to leave out (security
    columns for export) or do with the rows (erasure) is the caller's decision; erasure
    asks for the ids only (`ids_only`), which parents are found by too.
    """
    found: dict[str, list[Row]] = {}
    for declared in about_persons():
        table = Base.metadata.tables[declared.name]
        conditions: list[ColumnElement[bool]] = []
        for owner in declared.owners:
            if isinstance(owner, Mentions):  # a text that names the person's address
                conditions += [
                    func.lower(table.c[name]).contains(person.email.lower(), autoescape=True)
                    for name in owner.columns
                    if person.email
                ]
                continue
            column = table.c[owner.column]
            if isinstance(owner, ByParent):
                key = _parent_key(column)  # "id" throughout the map
                parents = {row[key] for row in found[owner.parent]}
                conditions.append(column.in_(sorted(parents)) if parents else false())
            else:
                conditions.append(_owned_by(person, column, owner))
        chosen = [table.c.id] if ids_only else [table]
        statement = select(*chosen).where(or_(*conditions)).order_by(*table.primary_key.columns)
        found[declared.name] = [dict(row) for row in session.execute(statement).mappings()]
    return found


class ExportLinkRepository:
    """The single-use guest export links."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, link: ExportLink) -> ExportLink:
        self.session.add(link)
        self.session.flush()
        return link

    def by_hash(self, token_hash: str) -> ExportLink | None:
        return self.session.scalar(select(ExportLink).where(ExportLink.token_hash == token_hash))

    def use(self, token_hash: str, now: datetime) -> bool:
        """Mark the link used; False when it was used already (two clicks: one wins)."""
        result = self.session.execute(
            update(ExportLink)
            .where(ExportLink.token_hash == token_hash, ExportLink.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


class ConsentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: ConsentRecord) -> ConsentRecord:
        self.session.add(record)
        self.session.flush()
        return record

    def latest(self, consent_id: str) -> ConsentRecord | None:
        stmt = (
            select(ConsentRecord)
            .where(ConsentRecord.consent_id == consent_id)
            .order_by(ConsentRecord.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def history(self, consent_id: str) -> list[ConsentRecord]:
        stmt = (
            select(ConsentRecord)
            .where(ConsentRecord.consent_id == consent_id)
            .order_by(ConsentRecord.id)
        )
        return list(self.session.scalars(stmt))

    def categories_in_use(self) -> set[str]:
        stmt = select(ConsentCategory.name).where(ConsentCategory.in_use.is_(True))
        return set(self.session.scalars(stmt))

    def set_in_use(self, name: str, in_use: bool, staff_id: int | None) -> None:
        row = self.session.get(ConsentCategory, name)
        if row is None:
            self.session.add(ConsentCategory(name=name, in_use=in_use, updated_by_id=staff_id))
        else:
            row.in_use, row.updated_by_id = in_use, staff_id
        self.session.flush()
