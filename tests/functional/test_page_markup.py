"""Markup every page shares: machine-readable times and the meta description."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from kiosk.config import PROJECT_ROOT
from tests.site_tour import tour

# HTML's "valid global date and time string", as the shop writes it: UTC, whole seconds.
MACHINE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
TIME_ELEMENT = re.compile(r"<time\b[^>]*>")


@pytest.fixture
def pages(app: Flask) -> dict[str, str]:
    return tour(app)


def test_times_are_machine_readable_on_every_page(pages: dict[str, str]) -> None:
    found: dict[str, list[str]] = {}
    for name, html in pages.items():
        for tag in TIME_ELEMENT.findall(html):
            match = re.search(r'datetime="([^"]*)"', tag)
            assert match, f"{name}: {tag} has no datetime"
            found.setdefault(name, []).append(match.group(1))
    for name in ("guest order", "customer order", "staff order", "staff orders", "account orders"):
        assert found.get(name), f"{name} shows no <time>"
    bad = {
        name: [v for v in values if not MACHINE_TIME.fullmatch(v)] for name, values in found.items()
    }
    assert not any(bad.values()), bad


def test_templates_write_times_only_through_the_filter() -> None:
    """A `<time>` written by hand would bring back `isoformat()` with microseconds."""
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "templates").rglob("*.html")
        if TIME_ELEMENT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
