"""Every cookie and browser storage the shop sets, with its consent category.

§25(1) TDDDG: storing or reading anything on a visitor's device needs consent, unless
it is strictly necessary for a service the visitor asked for (§25(2) Nr. 2 TDDDG).
This registry is the one list: the privacy page prints it, the consent manager deletes
what a withdrawal takes back, and a test fails when a page sets a cookie that is not here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE

from kiosk.catalog.recently_viewed import COOKIE as RECENTLY_VIEWED_COOKIE
from kiosk.i18n import LANGUAGE_COOKIE, THEME_COOKIE


class Category(enum.StrEnum):
    NECESSARY = "necessary"
    PREFERENCES = "preferences"
    STATISTICS = "statistics"
    MARKETING = "marketing"


OPTIONAL = (Category.PREFERENCES, Category.STATISTICS, Category.MARKETING)

CATEGORY_LABELS: dict[Category, LazyString] = {
    Category.NECESSARY: _l("Necessary"),
    Category.PREFERENCES: _l("Preferences"),
    Category.STATISTICS: _l("Statistics"),
    Category.MARKETING: _l("Marketing"),
}

CATEGORY_PURPOSES: dict[Category, LazyString] = {
    Category.NECESSARY: _l(
        "What the shop needs to work: your cart, signing in, protection against forged "
        "forms, your language and your choice about cookies. Always on."
    ),
    Category.PREFERENCES: _l(
        "Conveniences you can do without, such as the products you viewed recently."
    ),
    Category.STATISTICS: _l("Counting visits to learn which pages are used, without naming you."),
    Category.MARKETING: _l("Measuring advertising and showing offers that may interest you."),
}


class Kind(enum.StrEnum):
    COOKIE = "cookie"
    LOCAL_STORAGE = "localStorage"
    SESSION_STORAGE = "sessionStorage"


class Lifetime(enum.StrEnum):
    """How long an entry lives; the page prints the figure from the shop's settings."""

    BROWSER_SESSION = "browser_session"  # until the browser (or tab) is closed
    SESSION_HOURS = "session_hours"  # KIOSK_SESSION_MAX_HOURS
    REMEMBER_DAYS = "remember_days"  # KIOSK_REMEMBER_DAYS
    ONE_YEAR = "one_year"
    CONSENT_DAYS = "consent_days"
    RECENT_DAYS = "recent_days"


SESSION_COOKIE = "session"  # Flask's default SESSION_COOKIE_NAME
CONSENT_COOKIE = "kiosk_consent"
HTMX_HISTORY = "htmx-history-cache"
HTMX_HISTORY_PATH = "htmx-current-path-for-history"

CONSENT_DAYS = 180  # then the banner asks again


@dataclass(frozen=True)
class Storage:
    name: str
    kind: Kind
    category: Category
    purpose: LazyString
    lifetime: Lifetime


REGISTRY: tuple[Storage, ...] = (
    # §25(2) Nr. 2 TDDDG: the cart, the CSRF token of every form (Flask-WTF keeps it in the
    # session), the sign-in, the checkout's steps and the orders seen in this session.
    Storage(
        SESSION_COOKIE,
        Kind.COOKIE,
        Category.NECESSARY,
        _l(
            "Your cart, your sign-in, the checkout's steps and the protection of every form "
            "against forgery (CSRF)."
        ),
        Lifetime.SESSION_HOURS,
    ),
    # §25(2) Nr. 2 TDDDG: set only when the shopper ticks "stay signed in".
    Storage(
        REMEMBER_COOKIE,
        Kind.COOKIE,
        Category.NECESSARY,
        _l("Keeps you signed in, only if you chose “Stay signed in”."),
        Lifetime.REMEMBER_DAYS,
    ),
    # §25(2) Nr. 2 TDDDG: set only when the shopper picks a language; the service asked for.
    Storage(
        LANGUAGE_COOKIE,
        Kind.COOKIE,
        Category.NECESSARY,
        _l("The language you chose."),
        Lifetime.ONE_YEAR,
    ),
    Storage(
        THEME_COOKIE,
        Kind.COOKIE,
        Category.NECESSARY,
        _l("The colour theme you chose (light or dark)."),
        Lifetime.ONE_YEAR,
    ),
    # Art. 7(1) GDPR: the shop must be able to show what the visitor chose; the cookie
    # keeps the choice and the random id of its record, nothing else.
    Storage(
        CONSENT_COOKIE,
        Kind.COOKIE,
        Category.NECESSARY,
        _l("Your choice about cookies, and the random number of its record."),
        Lifetime.CONSENT_DAYS,
    ),
    # §25(2) Nr. 2 TDDDG: the Back button shows the pages of this tab without loading them
    # again (htmx's history); gone when the tab is closed.
    Storage(
        HTMX_HISTORY,
        Kind.SESSION_STORAGE,
        Category.NECESSARY,
        _l("The pages of this tab, for the Back button."),
        Lifetime.BROWSER_SESSION,
    ),
    Storage(
        HTMX_HISTORY_PATH,
        Kind.SESSION_STORAGE,
        Category.NECESSARY,
        _l("The address of the page this tab shows, for the Back button."),
        Lifetime.BROWSER_SESSION,
    ),
    # §25(1) TDDDG: a convenience, so only with consent to preferences.
    Storage(
        RECENTLY_VIEWED_COOKIE,
        Kind.COOKIE,
        Category.PREFERENCES,
        _l("The products you viewed last, to show them again."),
        Lifetime.RECENT_DAYS,
    ),
)


def entry(name: str) -> Storage | None:
    return next((storage for storage in REGISTRY if storage.name == name), None)


def names_in(categories: set[Category]) -> set[str]:
    return {storage.name for storage in REGISTRY if storage.category in categories}
