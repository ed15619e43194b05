"""The personal-data map covers the whole schema: a new column must be declared before it
can hold anything, so no feature adds personal data silently."""

from collections import Counter

import pytest
from sqlalchemy import Table as SqlTable

from kiosk import schema  # noqa: F401  (every model, so the metadata is the whole schema)
from kiosk.orm import Base
from kiosk.privacy.data_map import MAP, TABLES, ByEmail, ByParent, ByUser, Erasure, Mentions


def _table(name: str) -> SqlTable:
    return Base.metadata.tables[name]


def test_every_table_of_the_schema_is_declared_once() -> None:
    twice = [name for name, count in Counter(t.name for t in MAP).items() if count > 1]
    assert not twice, f"declared twice: {twice}"
    assert sorted(TABLES) == sorted(Base.metadata.tables)


@pytest.mark.parametrize("name", sorted(Base.metadata.tables))
def test_every_column_is_either_personal_or_not(name: str) -> None:
    declared = TABLES[name]
    personal = [p.column for p in declared.personal]
    assert len(personal) == len(set(personal)), f"{name}: a personal column is declared twice"
    assert not set(personal) & declared.not_personal, f"{name}: declared both ways"
    columns = {column.name for column in _table(name).columns}
    missing = columns - set(personal) - declared.not_personal
    assert not missing, f"{name}: declare {sorted(missing)} in kiosk/privacy/data_map.py"
    unknown = (set(personal) | declared.not_personal) - columns
    assert not unknown, f"{name}: {sorted(unknown)} are not columns of the table"


@pytest.mark.parametrize("name", sorted(t.name for t in MAP if t.owners))
def test_owners_point_at_real_columns_and_parents(name: str) -> None:
    declared = TABLES[name]
    columns = _table(name).columns
    assert declared.rows_on_erasure is not None, f"{name}: say what erasure does to its rows"
    for owner in declared.owners:
        if isinstance(owner, Mentions):
            assert set(owner.columns) <= set(columns.keys()), f"{name}: no {owner.columns}"
            continue
        assert owner.column in columns, f"{name}: no column {owner.column}"
        if isinstance(owner, ByParent):
            assert TABLES[owner.parent].owners, f"{name}: parent {owner.parent} has no owner"
            assert MAP.index(TABLES[owner.parent]) < MAP.index(declared), "parents first"
        else:
            assert isinstance(owner, ByUser | ByEmail)


@pytest.mark.parametrize("name", sorted(t.name for t in MAP if t.personal))
def test_anonymised_values_fit_their_columns(name: str) -> None:
    for personal in TABLES[name].personal:
        column = _table(name).columns[personal.column]
        if personal.erasure is Erasure.ANONYMISE and personal.anonymised is None:
            assert column.nullable, f"{name}.{personal.column} cannot be NULL"
    if TABLES[name].age_column:
        assert TABLES[name].age_column in _table(name).columns


@pytest.mark.parametrize("name", sorted(t.name for t in MAP if t.retain_if))
def test_retention_by_value_names_a_real_column_and_an_age(name: str) -> None:
    declared = TABLES[name]
    assert declared.retain_if is not None
    assert declared.retain_if.column in _table(name).columns
    assert declared.age_column, f"{name}: retention needs the column it counts from"
