"""Jinja filters and globals: money and dates per locale, assets with cache busting."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, cast

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Flask, current_app, g, url_for
from flask_babel import format_datetime, get_locale, get_translations
from markupsafe import Markup, escape

from kiosk.fragments import cached_fragment
from kiosk.i18n import LANGUAGE_NAMES, current_theme
from kiosk.markdown import plain_text, render_markdown
from kiosk.money import Money
from kiosk.pricing import vat_lines_from


def _locale() -> str:
    return str(get_locale() or "de")


def format_money(value: Money | None) -> str:
    if value is None:
        return ""
    return value.format(_locale())


def format_local_datetime(value: datetime | None, style: str = "medium") -> str:
    return format_datetime(value, style) if value else ""


def shorten(text: str, limit: int = 155) -> str:
    """`text` on one line, cut after a whole word with "…" if it is longer than `limit`.

    155 characters is about what search engines show of a meta description.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if text[limit - 1] != " " and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:–-") + "…"


def summary(markdown: str, limit: int = 155) -> str:
    """A Markdown description as plain text for the meta description."""
    return shorten(plain_text(markdown), limit)


def shop_description() -> str:
    """The meta description of pages with nothing more specific to say."""
    from flask_babel import gettext as _

    chosen: str = current_app.config["KIOSK_SHOP_DESCRIPTION"]
    return chosen or _(
        "%(shop)s: good things for every day, shipped from a small shop.",
        shop=cast(Callable[[], str], current_app.jinja_env.globals["shop_name"])(),
    )


def machine_datetime(value: datetime) -> str:
    """The moment in UTC to the second, e.g. "2026-12-03T09:45:18Z".

    HTML's `<time datetime>` allows at most three digits of a second, and
    `isoformat()` of a stored time writes six; nobody needs more than seconds.
    A naive value is taken as UTC, as everything stored is.
    """
    moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def time_element(value: datetime | None, style: str = "medium") -> Markup:
    """`<time>` with the machine-readable moment and the local text: the only way pages
    show a time in a `<time>` element."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(
        machine_datetime(value), escape(format_local_datetime(value, style))
    )


@lru_cache(maxsize=4096)
def _number(value: float, locale: str) -> str:
    return format_decimal(value, locale=locale)


def format_number(value: float) -> str:
    """A number in the page's language ("1.234,5" in German). Babel looks up the locale's
    pattern on every call, and the dashboard's tables show hundreds of small counts that
    repeat, so each is formatted once per language."""
    return _number(value, _locale())


@lru_cache(maxsize=4096)
def _day_element(day: date, locale: str) -> Markup:
    text = escape(format_date(day, "medium", locale=locale))
    return Markup(f'<time datetime="{day.isoformat()}">{text}</time>')  # noqa: S704


def day_element(value: date | str) -> Markup:
    """`<time>` for a calendar day (a date, or its ISO text), shown in the page's language:
    "04.12.2026" in German, "Dec 4, 2026" in English; once per day and language, since a
    long range's table shows hundreds of days."""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return _day_element(day, _locale())


@cache
def _asset_version(static_folder: str, filename: str) -> str:
    data = (Path(static_folder) / filename).read_bytes()
    return hashlib.sha256(data).hexdigest()[:10]


def asset_url(filename: str) -> str:
    """A static URL that changes when the file does, so it can be cached for long."""
    static = current_app.static_folder or ""
    return url_for("static", filename=filename, v=_asset_version(static, filename))


def _translations() -> Any:
    """The catalog for the locale in force, looked up once per request and locale.

    Templates translate a few dozen strings per page, and Flask-Babel resolves
    its context, domain and locale anew for each one (a quarter of the page
    frame's time). The locale object in force (Flask-Babel keeps it in
    `g._flask_babel`; `force_locale`, used for mails, swaps it) keys the cache,
    so a mail rendered in another language gets its own catalog.
    """
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    cached = g.get("kiosk_translations")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g.kiosk_translations = (getattr(g.get("_flask_babel"), "babel_locale", None), translations)
    return translations


def vat_percent(rate_bp: int) -> str:
    """1900 basis points as "19 %" in the page's language."""
    return f"{format_number(rate_bp / 100)} %"


def country_name(code: str) -> str:
    locale = get_locale()
    return str(locale.territories.get(code, code)) if locale else code


def vat_lines_of(order: Any) -> Any:
    return vat_lines_from(order.vat_breakdown, order.currency)


def register(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["datetime"] = format_local_datetime
    app.jinja_env.filters["time_element"] = time_element
    app.jinja_env.filters["day_element"] = day_element
    app.jinja_env.filters["shorten"] = shorten
    app.jinja_env.filters["summary"] = summary
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["vat_percent"] = vat_percent
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.globals.update(
        asset_url=asset_url,
        current_theme=current_theme,
        cached_fragment=cached_fragment,
        vat_lines_of=vat_lines_of,
        current_locale=_locale,
        language_names=LANGUAGE_NAMES,
        shop_name=lambda: current_app.config["KIOSK_SHOP_NAME"],
        shop_description=shop_description,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
