"""Language choice: the shopper's remembered choice, else the browser's, else the shop's."""

from __future__ import annotations

from flask import current_app, request

LANGUAGE_COOKIE = "kiosk_lang"
THEME_COOKIE = "kiosk_theme"
THEMES = ("auto", "light", "dark")
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


def select_locale() -> str | None:
    locales = current_app.config["KIOSK_LOCALES"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in locales:
        return chosen
    return (
        request.accept_languages.best_match(locales) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def current_theme() -> str:
    theme = request.cookies.get(THEME_COOKIE, "auto")
    return theme if theme in THEMES else "auto"
