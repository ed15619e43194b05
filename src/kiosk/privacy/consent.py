"""The consent manager (§25 TDDDG, Art. 7 GDPR): which optional categories the shop uses,
what each visitor chose, and the one question optional features ask: `allows(category)`.

The owner decides which optional categories (preferences, statistics, marketing) the shop
uses; with none, there is nothing to ask and no banner. A visitor's choice is kept in two
places: a record in the database for every choice (what was shown, what was granted, when,
by which pseudonymous id), and a signed cookie that carries the choice to each request.
A choice counts only for the banner it was given to: when the banner's text or the
categories change, its version changes and the banner asks again.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, has_request_context, request
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from kiosk.audit import services as audit
from kiosk.catalog.recently_viewed import KEEP_DAYS as RECENT_DAYS
from kiosk.privacy.cookies import (
    CATEGORY_LABELS,
    CATEGORY_PURPOSES,
    CONSENT_COOKIE,
    CONSENT_DAYS,
    OPTIONAL,
    REGISTRY,
    Category,
    Lifetime,
    Storage,
    names_in,
)
from kiosk.privacy.models import ConsentRecord
from kiosk.privacy.repository import ConsentRepository
from kiosk.uow import read_session, unit_of_work

ACCEPT_ALL, REJECT_ALL, CUSTOM = "accept_all", "reject_all", "custom"
CHOICES = (ACCEPT_ALL, REJECT_ALL, CUSTOM)
# The templates whose words make up the banner and its settings: their source goes into
# the banner's version, so changing a word asks every visitor again.
BANNER_TEMPLATES = ("privacy/_banner.html", "privacy/_choices.html")


@dataclass(frozen=True)
class Choice:
    """What a visitor's consent cookie says."""

    consent_id: str
    version: str
    granted: frozenset[Category]


def categories_in_use() -> frozenset[Category]:
    """The optional categories the owner uses, read once per request."""
    if has_request_context() and "kiosk_consent_in_use" in g:
        cached: frozenset[Category] = g.kiosk_consent_in_use
        return cached
    stored = ConsentRepository(read_session()).categories_in_use()
    in_use = frozenset(category for category in OPTIONAL if category.value in stored)
    if has_request_context():
        g.kiosk_consent_in_use = in_use
    return in_use


def banner_version(in_use: Iterable[Category] | None = None) -> str:
    """A digest of what the banner says in the shop's source language (English) and of the
    categories it asks about."""
    categories = sorted(categories_in_use() if in_use is None else in_use)
    key = ("kiosk.consent_version", tuple(categories))
    cache = current_app.extensions.setdefault("kiosk_consent_versions", {})
    if key not in cache:
        digest = hashlib.sha256()
        loader = current_app.jinja_env.loader
        assert loader is not None
        for name in BANNER_TEMPLATES:
            source, _filename, _uptodate = loader.get_source(current_app.jinja_env, name)
            digest.update(source.encode())
        with force_locale("en"):
            for category in categories:
                text = f"{category}:{CATEGORY_LABELS[category]}:{CATEGORY_PURPOSES[category]}"
                digest.update(text.encode())
        cache[key] = digest.hexdigest()[:16]
    version: str = cache[key]
    return version


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt="kiosk-consent")


def current_choice() -> Choice | None:
    """The choice this request's consent cookie carries (None: none, or a forged one)."""
    if "kiosk_consent_choice" in g:
        known: Choice | None = g.kiosk_consent_choice
        return known
    choice = None
    raw = request.cookies.get(CONSENT_COOKIE)
    if raw:
        try:
            data = _serializer().loads(raw)
            choice = Choice(
                consent_id=str(data["id"]),
                version=str(data["v"]),
                granted=frozenset(Category(name) for name in data["c"]),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            choice = None
    g.kiosk_consent_choice = choice
    return choice


def granted() -> frozenset[Category]:
    """The optional categories this request may use: chosen for the banner as it is now."""
    choice = current_choice()
    if choice is None or choice.version != banner_version():
        return frozenset()
    return choice.granted & categories_in_use()


def allows(category: Category | str) -> bool:
    """Whether an optional feature may store or read anything on the visitor's device
    for this request (§25(1) TDDDG: only with consent, unless strictly necessary)."""
    category = Category(category)
    if category is Category.NECESSARY:
        return True
    return category in granted()


def needs_banner() -> bool:
    """The first layer shows while the shop uses an optional category and the visitor
    has not chosen for the banner as it is now."""
    if not categories_in_use():
        return False
    choice = current_choice()
    return choice is None or choice.version != banner_version()


def record_choice(choice: str, chosen: Iterable[Category], user_id: int | None) -> Choice | None:
    """Store a visitor's choice as a new record (the same choice twice in a row: one
    record); withdrawing is a choice like any other, recorded and audited. None when the
    shop uses no optional category: there is nothing to choose."""
    if choice not in CHOICES:
        raise ValueError(f"unknown consent choice {choice!r}")
    in_use = categories_in_use()
    if not in_use:
        return None
    if choice == ACCEPT_ALL:
        chosen = in_use
    elif choice == REJECT_ALL:
        chosen = ()
    wanted = frozenset(chosen) & in_use
    version = banner_version()
    before = current_choice()
    consent_id = before.consent_id if before else secrets.token_hex(16)
    names = ",".join(sorted(wanted))
    with unit_of_work() as session:
        records = ConsentRepository(session)
        latest = records.latest(consent_id)
        unchanged = (
            latest is not None
            and latest.banner_version == version
            and latest.granted == names
            and latest.choice == choice
        )
        if not unchanged:
            previous = latest.categories if latest is not None else frozenset()
            withdrawn = sorted(previous - wanted)
            record = records.add(
                ConsentRecord(
                    consent_id=consent_id,
                    banner_version=version,
                    granted=names,
                    choice=choice,
                    user_id=user_id,
                )
            )
            audit.record(
                session,
                "consent.withdrawn" if withdrawn else "consent.recorded",
                actor=audit.Account(user_id) if user_id is not None else None,
                record=record.id,
                banner_version=version,
                choice=choice,
                granted=sorted(wanted),
                withdrawn=withdrawn,
            )
    made = Choice(consent_id, version, wanted)
    g.kiosk_consent_choice = made
    return made


def history(consent_id: str) -> list[ConsentRecord]:
    """Every record of one pseudonymous id, oldest first."""
    return ConsentRepository(read_session()).history(consent_id)


def store_in_cookie(response: Response, choice: Choice) -> None:
    """Write the choice to the visitor's consent cookie, and delete whatever the
    visitor's browser still holds of categories the choice does not grant."""
    value = _serializer().dumps(
        {"id": choice.consent_id, "v": choice.version, "c": sorted(choice.granted)}
    )
    response.set_cookie(
        CONSENT_COOKIE,
        value,
        max_age=int(timedelta(days=CONSENT_DAYS).total_seconds()),
        samesite="Lax",
        httponly=True,
        secure=current_app.config["KIOSK_SECURE_COOKIES"],
    )
    refused = {category for category in OPTIONAL if category not in choice.granted}
    for name in names_in(refused):
        if name in request.cookies:
            response.delete_cookie(
                name, samesite="Lax", secure=current_app.config["KIOSK_SECURE_COOKIES"]
            )


def change_categories_in_use(staff_id: int, in_use: Iterable[Category]) -> bool:
    """The owner's decision which optional categories the shop uses; False if nothing
    changed. A change gives the banner a new version, so every visitor is asked again."""
    before = categories_in_use()
    after = frozenset(in_use) & frozenset(OPTIONAL)
    if after == before:
        return False
    with unit_of_work() as session:
        records = ConsentRepository(session)
        for category in OPTIONAL:
            if (category in after) != (category in before):
                records.set_in_use(category.value, category in after, staff_id)
        audit.record(
            session,
            "settings.consent_changed",
            actor=audit.Account(staff_id),
            before={"categories": sorted(before)},
            after={"categories": sorted(after)},
        )
    if has_request_context():
        g.pop("kiosk_consent_in_use", None)
    return True


@dataclass(frozen=True)
class StorageRow:
    """One line of the privacy page's table of cookies and storage."""

    name: str
    kind: str
    category: str
    purpose: str
    lifetime: str


def lifetime_text(lifetime: Lifetime) -> str:
    config = current_app.config
    hours = config["KIOSK_SESSION_MAX_HOURS"]
    days = {
        Lifetime.REMEMBER_DAYS: config["REMEMBER_COOKIE_DURATION"].days,
        Lifetime.ONE_YEAR: 365,
        Lifetime.CONSENT_DAYS: CONSENT_DAYS,
        Lifetime.RECENT_DAYS: RECENT_DAYS,
    }
    if lifetime is Lifetime.BROWSER_SESSION:
        return str(_("Until you close the browser tab"))
    if lifetime is Lifetime.SESSION_HOURS:
        return str(
            ngettext(
                "Until you close the browser; signed in: %(num)d hour",
                "Until you close the browser; signed in: %(num)d hours",
                hours,
            )
        )
    return str(ngettext("%(num)d day", "%(num)d days", days[lifetime]))


def storage_rows(registry: Iterable[Storage] = REGISTRY) -> list[StorageRow]:
    """The registry for the privacy page: the categories in use, necessary first."""
    shown = {Category.NECESSARY, *categories_in_use()}
    return [
        StorageRow(
            storage.name,
            storage.kind.value,
            str(CATEGORY_LABELS[storage.category]),
            str(storage.purpose),
            lifetime_text(storage.lifetime),
        )
        for storage in registry
        if storage.category in shown
    ]


@dataclass(frozen=True)
class CategoryOption:
    """One category on the settings layer: a checkbox, or a line that says it is always on."""

    category: Category
    label: str
    purpose: str
    granted: bool


def category_options() -> list[CategoryOption]:
    """Necessary first (always on), then the optional categories the shop uses."""
    now = granted()
    return [
        CategoryOption(
            category,
            str(CATEGORY_LABELS[category]),
            str(CATEGORY_PURPOSES[category]),
            category is Category.NECESSARY or category in now,
        )
        for category in (Category.NECESSARY, *OPTIONAL)
        if category is Category.NECESSARY or category in categories_in_use()
    ]


def category_names() -> str:
    """The optional categories in use, named for the banner's sentence."""
    return ", ".join(str(CATEGORY_LABELS[c]) for c in OPTIONAL if c in categories_in_use())
