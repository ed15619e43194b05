"""Browser tests: Debian's Chromium drives a live, seeded Kiosk.

One session has one browser and one server on a fresh SQLite file with the real
demo catalog. Every test that takes `page` runs twice: with JavaScript (htmx)
and without it, because each feature must work both ways.

All tests here are marked `browser`. `make test` runs `pytest -n auto --dist loadfile`:
each worker starts its own browser and server, and a module's tests stay on one worker, so
a module's session-long fixtures (the axe tours) are built once.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext
from pytest_playwright.pytest_playwright import CreateContextCallback
from werkzeug.serving import make_server

from kiosk import create_app
from kiosk.config import PROJECT_ROOT
from kiosk.demo.services import seed_demo
from kiosk.extensions import db
from kiosk.limits import DEFAULT_RATE_LIMITS
from tests.conftest import REQUIRE_ALL, migrate, settings_for
from tests.mailbox import CapturingSMTP

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HERE = Path(__file__).parent
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOT_DIR: Path = PROJECT_ROOT / "test-artifacts" / "screenshots"


MISSING = (
    "KIOSK_REQUIRE_ALL=1 but Chromium is not installed: "
    "apt-get install -y chromium (see /work/shared/TOOLING.md section 1)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser tests; without Chromium, skip them, or stop if all must run."""
    browser_items = [item for item in items if HERE in item.path.parents]
    if browser_items and CHROMIUM is None and REQUIRE_ALL and not hasattr(config, "workerinput"):
        raise pytest.UsageError(MISSING)  # an xdist worker fails each test instead, below
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
        if CHROMIUM is None and not REQUIRE_ALL:
            item.add_marker(pytest.mark.skip(reason="Chromium is not installed"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium: `playwright install` has no network here."""
    if CHROMIUM is None:
        pytest.fail(MISSING, pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def smtp() -> Iterator[CapturingSMTP]:
    """The mail server the live shop delivers to (aiosmtpd, in this process)."""
    server = CapturingSMTP()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory, smtp: CapturingSMTP) -> Iterator[Flask]:
    """The shop with the demo catalog; tests may add data inside its app context.

    Mail goes out over SMTP right after each request, as in a small shop.
    """
    root = tmp_path_factory.mktemp("live-server")
    url, media = f"sqlite:///{root / 'kiosk.sqlite3'}", root / "media"
    migrate(url, media)
    app = create_app(live_settings(url, media, smtp))
    with app.app_context():
        seed_demo(only_if_empty=False)
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """`live_app` served on a free port; yields its base URL."""
    with serve(live_app) as url:
        yield url


def live_settings(database_url: str, media_dir: Path, smtp: CapturingSMTP) -> dict[str, Any]:
    """Settings of a live shop: mail goes out over SMTP right after each request."""
    return settings_for(
        database_url,
        media_dir,
        KIOSK_MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp.port,
        SMTP_SECURITY="none",
        KIOSK_MAIL_FLUSH_AFTER_REQUEST=True,
        # Many sign-ups come from one address here; the limits have tests of their own.
        KIOSK_RATE_LIMITS={name: "1000 per minute" for name in DEFAULT_RATE_LIMITS},
    )


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve `app` on a free port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, closing_files(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def closing_files(app: WSGIApplication) -> WSGIApplication:
    """Buffer each response, so no file stays open when the browser hangs up early.

    Werkzeug's server skips closing the response when the browser drops the
    connection (a page left while its pictures load), and the unclosed media file
    would end as a ResourceWarning in some later test.
    """

    def buffered(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return buffered


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], live_server: str) -> dict[str, Any]:
    """English, a desktop window, and relative URLs against the live server."""
    return {
        **browser_context_args,
        "locale": "en-US",
        "viewport": VIEWPORT,
        "base_url": live_server,
    }


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request: pytest.FixtureRequest) -> bool:
    """Whether the page runs JavaScript: every browser test runs both ways."""
    return bool(request.param)


@pytest.fixture
def context(new_context: CreateContextCallback, js: bool) -> BrowserContext:
    """The default context, with JavaScript on or off as `js` says."""
    return new_context(java_script_enabled=js)


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The accessibility tours' totals (test_accessibility.py), for CI logs and notes."""
    lines = [
        str(value)
        for outcome in ("passed", "failed")
        for report in terminalreporter.getreports(outcome)
        for name, value in report.user_properties
        if name == "axe summary"
    ]
    if lines:
        terminalreporter.section("accessibility (axe-core)")
        for line in lines:
            terminalreporter.line(line)
