"""The domain map in docs/ARCHITECTURE.md says which package owns which tables and routes;
these tests keep it true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

import kiosk
from kiosk import create_app
from kiosk.orm import Base

DOC = Path(__file__).parents[2] / "docs" / "ARCHITECTURE.md"
PACKAGE = Path(kiosk.__file__).parent


def _domain_of(module: str) -> str:
    """`kiosk.orders.views` -> "orders"; a top-level module is plumbing."""
    name = module.split(".")[1]
    return name if (PACKAGE / name).is_dir() else "plumbing"


def _documented() -> dict[str, tuple[set[str], dict[str, list[str]]]]:
    """domain -> (its tables, {blueprint: route patterns}) as the map's rows say."""
    text = DOC.read_text()
    table = text[text.index("| domain |", text.index("## Domains")) :]
    table = table[: table.index("\n\n")]
    rows: dict[str, tuple[set[str], dict[str, list[str]]]] = {}
    for line in table.splitlines()[2:]:
        domain, _what, tables, pages = (cell.strip() for cell in line.strip("|").split("|"))
        blueprints: dict[str, list[str]] = {}
        for part in filter(None, (p.strip() for p in pages.split(";"))):
            name, _, routes = part.partition(":")
            blueprints[name.strip("` ")] = re.findall(r"`([^`]+)`", routes)
        rows[domain.strip("`")] = (set(re.findall(r"`([^`]+)`", tables)), blueprints)
    return rows


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app({"KIOSK_ENV": "testing", "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})


def test_every_table_is_in_the_row_of_the_domain_whose_models_define_it(app: Flask) -> None:
    owners: dict[str, set[str]] = {}
    for mapper in Base.registry.mappers:
        domain = _domain_of(mapper.class_.__module__)
        owners.setdefault(domain, set()).add(mapper.local_table.name)
    documented = {domain: tables for domain, (tables, _) in _documented().items() if tables}
    assert owners == documented


def _matches(pattern: str, rule: str) -> bool:
    return re.fullmatch(".*".join(map(re.escape, pattern.split("…"))), rule) is not None


def test_every_route_is_in_the_row_of_the_domain_whose_pages_serve_it(app: Flask) -> None:
    routes: dict[tuple[str, str], set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        domain = _domain_of(app.view_functions[rule.endpoint].__module__)
        routes.setdefault((domain, rule.endpoint.split(".")[0]), set()).add(rule.rule)
    documented = {
        (domain, blueprint): patterns
        for domain, (_, blueprints) in _documented().items()
        for blueprint, patterns in blueprints.items()
    }
    assert set(routes) == set(documented)
    for key, rules in routes.items():
        unmapped = [r for r in rules if not any(_matches(p, r) for p in documented[key])]
        unused = [p for p in documented[key] if not any(_matches(p, r) for r in rules)]
        assert (unmapped, unused) == ([], []), key
