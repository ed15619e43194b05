"""Settings, read from the environment (and a `.env` file in development).

Every setting is listed, with its default, in `.env.example`. Tests pass their
overrides to `create_app(config)`, which win over the environment.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from argon2.profiles import RFC_9106_LOW_MEMORY

from kiosk import encryption
from kiosk.limits import DEFAULT_RATE_LIMITS
from kiosk.money import Money, parse_decimal_percent

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the app refuses to start."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"not a yes/no value: {value!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


OFFLINE_PAYMENT_METHODS = ("bank_transfer", "invoice", "cash_on_delivery")


def _payment_methods(text: str) -> tuple[str, ...]:
    methods = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in methods if m not in OFFLINE_PAYMENT_METHODS]
    if unknown or not methods:
        raise ConfigError(
            f"KIOSK_PAYMENT_METHODS: choose from {', '.join(OFFLINE_PAYMENT_METHODS)}"
            f" (unknown: {', '.join(unknown) or 'none given'})"
        )
    return methods


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(name, "") or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _cents(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        cents = Money.parse(raw).cents
    except ValueError as exc:
        raise ConfigError(f"{name} must be an amount such as 4.00, got {raw!r}") from exc
    if cents < 0:
        raise ConfigError(f"{name} cannot be negative")
    return cents


def parse_vat_rates(text: str) -> dict[str, int]:
    """ "standard=19,reduced=7" -> {"standard": 1900, "reduced": 700} (basis points)."""
    rates: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, percent = part.partition("=")
        try:
            rates[name.strip()] = parse_decimal_percent(percent)
        except ValueError as exc:
            raise ConfigError(f"KIOSK_VAT_RATES: {exc}") from exc
    if "standard" not in rates:
        raise ConfigError("KIOSK_VAT_RATES must define a 'standard' rate")
    return rates


def _secret_key(env: Mapping[str, str], production: bool, instance_path: Path) -> str:
    key = env.get("SECRET_KEY", "")
    if key:
        return key
    if production:
        raise ConfigError("SECRET_KEY must be set in production (KIOSK_ENV=production)")
    # Development: generate once and keep it, so sessions survive a restart.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _data_keys(env: Mapping[str, str], production: bool, secret_key: str) -> tuple[str, ...]:
    """The keys secrets at rest are encrypted with (TOTP secrets), newest first.

    Production needs keys of its own: a key derived from SECRET_KEY would lock
    everyone out of two-factor sign-in the day SECRET_KEY is changed after a leak.
    """
    try:
        keys = encryption.parse_keys(env.get("KIOSK_DATA_KEYS", ""))
    except ValueError as exc:
        raise ConfigError(f"KIOSK_DATA_KEYS: {exc}") from exc
    if keys:
        return keys
    if production:
        raise ConfigError(
            "KIOSK_DATA_KEYS must be set in production (KIOSK_ENV=production); make a key"
            f" with: {encryption.KEY_COMMAND}"
        )
    # Development and tests: derived from SECRET_KEY (itself kept in instance/secret_key).
    return (encryption.derive_key(secret_key),)


def load_settings(
    instance_path: Path, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the Flask config from the environment, then apply `overrides`."""
    env = os.environ
    overrides = dict(overrides or {})
    kiosk_env = overrides.get("KIOSK_ENV") or env.get("KIOSK_ENV", "development")
    if kiosk_env not in {"development", "production", "testing"}:
        raise ConfigError(f"KIOSK_ENV must be development, production or testing, not {kiosk_env}")
    production = kiosk_env == "production"
    secure_cookies = _flag(env.get("KIOSK_SECURE_COOKIES"), production)

    settings: dict[str, Any] = {
        "KIOSK_ENV": kiosk_env,
        "TESTING": kiosk_env == "testing",
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{DATA_DIR / 'kiosk.sqlite3'}",
        # JSON columns (order addresses) keep umlauts as they are, so staff can search them.
        "SQLALCHEMY_ENGINE_OPTIONS": {"json_serializer": _json_dumps},
        # How long a write waits for a lock held by another request (SQLite's busy
        # timeout, PostgreSQL's lock_timeout) before the shop answers 503 "try again".
        "KIOSK_DB_LOCK_TIMEOUT_MS": _int(env, "KIOSK_DB_LOCK_TIMEOUT_MS", 15_000),
        "KIOSK_MEDIA_DIR": env.get("KIOSK_MEDIA_DIR") or str(DATA_DIR / "media"),
        # flask kiosk backup: where archives go, and how many of the newest stay (0: all).
        "KIOSK_BACKUP_DIR": env.get("KIOSK_BACKUP_DIR") or str(DATA_DIR / "backups"),
        "KIOSK_BACKUP_KEEP": _int(env, "KIOSK_BACKUP_KEEP", 14),
        "KIOSK_SHOP_NAME": env.get("KIOSK_SHOP_NAME", "Kiosk"),
        # The meta description of pages without their own (product and category pages
        # have one); empty: a sentence with the shop's name in the page's language.
        "KIOSK_SHOP_DESCRIPTION": env.get("KIOSK_SHOP_DESCRIPTION", ""),
        "KIOSK_CURRENCY": env.get("KIOSK_CURRENCY", "EUR"),
        "KIOSK_VAT_RATES": parse_vat_rates(env.get("KIOSK_VAT_RATES", "standard=19,reduced=7")),
        # Seller details for the imprint, privacy policy and invoices. The defaults are
        # placeholders that say so; a real shop sets its own.
        "KIOSK_SELLER_ADDRESS": env.get(
            "KIOSK_SELLER_ADDRESS",
            "[Placeholder] Shop owner name|Street 1|12345 Town|Germany",
        ),
        "KIOSK_SELLER_EMAIL": env.get("KIOSK_SELLER_EMAIL", "shop@example.org"),
        # Who hosts the shop (name and address), for the privacy policy's processors.
        "KIOSK_HOSTING_PROVIDER": env.get("KIOSK_HOSTING_PROVIDER", ""),
        "KIOSK_SELLER_VAT_ID": env.get("KIOSK_SELLER_VAT_ID", "[Placeholder] DE000000000"),
        # Checkout: stock is held this long; shipping methods come from a TOML file.
        "KIOSK_RESERVATION_MINUTES": _int(env, "KIOSK_RESERVATION_MINUTES", 15),
        "KIOSK_SHIPPING_FILE": env.get("KIOSK_SHIPPING_FILE") or str(DATA_DIR / "shipping.toml"),
        # Ask for a ticked terms box before an order (German law does not require one).
        "KIOSK_TERMS_CHECKBOX": _flag(env.get("KIOSK_TERMS_CHECKBOX"), False),
        # Bank transfer (prepayment): where the money goes, and within how many days.
        "KIOSK_BANK_ACCOUNT_HOLDER": env.get(
            "KIOSK_BANK_ACCOUNT_HOLDER", "[Placeholder] Shop owner"
        ),
        "KIOSK_BANK_IBAN": env.get("KIOSK_BANK_IBAN", "[Placeholder] DE00 0000 0000 0000 0000 00"),
        "KIOSK_BANK_BIC": env.get("KIOSK_BANK_BIC", "[Placeholder] XXXXDEXXXXX"),
        "KIOSK_BANK_NAME": env.get("KIOSK_BANK_NAME", "[Placeholder] Bank"),
        "KIOSK_PREPAYMENT_DAYS": _int(env, "KIOSK_PREPAYMENT_DAYS", 7),
        # The invoice is issued when the order is "paid" or when it is "shipped".
        "KIOSK_INVOICE_ON": _choice(env, "KIOSK_INVOICE_ON", ("paid", "shipped"), "paid"),
        # Jobs (flask kiosk order-jobs): remind unpaid prepayment orders, cancel them later,
        # and optionally assume shipped orders delivered (0: never).
        "KIOSK_UNPAID_REMIND_DAYS": _int(env, "KIOSK_UNPAID_REMIND_DAYS", 5),
        "KIOSK_UNPAID_CANCEL_DAYS": _int(env, "KIOSK_UNPAID_CANCEL_DAYS", 14),
        "KIOSK_AUTO_DELIVER_DAYS": _int(env, "KIOSK_AUTO_DELIVER_DAYS", 0),
        # Staff's payment reminders for overdue orders: at most one in this many days.
        "KIOSK_REMINDER_INTERVAL_DAYS": _int(env, "KIOSK_REMINDER_INTERVAL_DAYS", 7),
        # Payment methods offered at checkout, in this order (offline ones need no account).
        "KIOSK_PAYMENT_METHODS": _payment_methods(
            env.get("KIOSK_PAYMENT_METHODS", "bank_transfer,invoice,cash_on_delivery")
        ),
        # Invoice (pay after delivery) for "all" buyers or only "returning" customers.
        "KIOSK_INVOICE_FOR": _choice(env, "KIOSK_INVOICE_FOR", ("returning", "all"), "returning"),
        "KIOSK_COD_FEE_CENTS": _cents(env, "KIOSK_COD_FEE", 400),
        # Card payments by Stripe Checkout: on when both keys are set (environment only).
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),  # tests point it at a fake
        "STRIPE_CHECKOUT_ORIGIN": env.get("STRIPE_CHECKOUT_ORIGIN", "https://checkout.stripe.com"),
        # Minutes a Stripe Checkout page stays payable (Stripe allows 30 to 1440);
        # the order keeps its stock as long.
        "KIOSK_CARD_PAYMENT_MINUTES": _int(env, "KIOSK_CARD_PAYMENT_MINUTES", 60),
        "KIOSK_PAGE_SIZE": _int(env, "KIOSK_PAGE_SIZE", 24),
        "KIOSK_LOW_STOCK_HINT": _int(env, "KIOSK_LOW_STOCK_HINT", 5),
        "KIOSK_PROXY_FIX": _int(env, "KIOSK_PROXY_FIX", 0),
        # Compress HTML, CSS, JS and SVG (brotli or gzip); 0 where a proxy in front does.
        "KIOSK_COMPRESS": _flag(env.get("KIOSK_COMPRESS"), True),
        "KIOSK_LOG_LEVEL": env.get("KIOSK_LOG_LEVEL", "INFO"),
        "BABEL_DEFAULT_LOCALE": env.get("KIOSK_DEFAULT_LOCALE", "de"),
        "BABEL_DEFAULT_TIMEZONE": env.get("KIOSK_TIMEZONE", "Europe/Berlin"),
        "KIOSK_LOCALES": ("de", "en"),
        "MAX_CONTENT_LENGTH": _int(env, "KIOSK_MAX_UPLOAD_MB", 16) * 1024 * 1024,
        # CSV imports in the back office: the largest file, rows per transaction, and
        # whether the web process runs import jobs in a thread (off: only
        # `flask kiosk work-imports` runs them; tests run them on purpose).
        "KIOSK_IMPORT_MAX_MB": _int(env, "KIOSK_IMPORT_MAX_MB", 10),
        "KIOSK_IMPORT_BATCH_ROWS": _int(env, "KIOSK_IMPORT_BATCH_ROWS", 500),
        "KIOSK_IMPORT_IN_BACKGROUND": _flag(
            env.get("KIOSK_IMPORT_IN_BACKGROUND"), kiosk_env != "testing"
        ),
        # Product pictures uploaded by staff: each file, a whole upload (several files,
        # instead of KIOSK_MAX_UPLOAD_MB), files per upload, pixels (decompression bombs).
        "KIOSK_PICTURE_MAX_MB": _int(env, "KIOSK_PICTURE_MAX_MB", 15),
        "KIOSK_PICTURE_UPLOAD_MAX_MB": _int(env, "KIOSK_PICTURE_UPLOAD_MAX_MB", 100),
        "KIOSK_PICTURE_MAX_FILES": _int(env, "KIOSK_PICTURE_MAX_FILES", 20),
        "KIOSK_PICTURE_MAX_MEGAPIXELS": _int(env, "KIOSK_PICTURE_MAX_MEGAPIXELS", 40),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "KIOSK_SECURE_COOKIES": secure_cookies,
        # Mail: "file" writes .eml files to KIOSK_MAIL_DIR (the default, no server
        # needed); "smtp" delivers through SMTP_HOST.
        "KIOSK_MAIL_BACKEND": env.get("KIOSK_MAIL_BACKEND", "file"),
        "KIOSK_MAIL_DIR": env.get("KIOSK_MAIL_DIR") or str(DATA_DIR / "outbox"),
        "KIOSK_MAIL_FROM": env.get("KIOSK_MAIL_FROM", "Kiosk <shop@example.org>"),
        "KIOSK_MAIL_MAX_ATTEMPTS": _int(env, "KIOSK_MAIL_MAX_ATTEMPTS", 10),
        "KIOSK_MAIL_FLUSH_AFTER_REQUEST": _flag(env.get("KIOSK_MAIL_FLUSH_AFTER_REQUEST"), True),
        "KIOSK_BASE_URL": env.get("KIOSK_BASE_URL", ""),
        "SMTP_HOST": env.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": _int(env, "SMTP_PORT", 587),
        "SMTP_SECURITY": env.get("SMTP_SECURITY", "starttls"),
        "SMTP_USER": env.get("SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT": _int(env, "SMTP_TIMEOUT", 15),
        # Sign-in sessions: idle and absolute timeouts, remember-me, 2FA for staff.
        "KIOSK_SESSION_IDLE_MINUTES": _int(env, "KIOSK_SESSION_IDLE_MINUTES", 60),
        "KIOSK_SESSION_MAX_HOURS": _int(env, "KIOSK_SESSION_MAX_HOURS", 12),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int(env, "KIOSK_SESSION_MAX_HOURS", 12)),
        "REMEMBER_COOKIE_DURATION": timedelta(days=_int(env, "KIOSK_REMEMBER_DAYS", 30)),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "ARGON2_TIME_COST": _int(env, "ARGON2_TIME_COST", RFC_9106_LOW_MEMORY.time_cost),
        "ARGON2_MEMORY_KIB": _int(env, "ARGON2_MEMORY_KIB", RFC_9106_LOW_MEMORY.memory_cost),
        "ARGON2_PARALLELISM": _int(env, "ARGON2_PARALLELISM", RFC_9106_LOW_MEMORY.parallelism),
        "KIOSK_STAFF_REQUIRE_2FA": _flag(env.get("KIOSK_STAFF_REQUIRE_2FA"), True),
        # Retention (kiosk.privacy.data_map): invoices and credit notes 8 years, business
        # letters 6 years, both from the end of the year (§147 AO, §257 HGB as amended in
        # 2025); IP addresses in the audit log are shortened to the network after N days.
        "KIOSK_RETENTION_INVOICE_YEARS": _int(env, "KIOSK_RETENTION_INVOICE_YEARS", 8),
        "KIOSK_RETENTION_LETTER_YEARS": _int(env, "KIOSK_RETENTION_LETTER_YEARS", 6),
        "KIOSK_RETENTION_IP_DAYS": _int(env, "KIOSK_RETENTION_IP_DAYS", 30),
        # Cookieless first-party analytics (kiosk.analytics): on unless switched off; raw
        # events are deleted after this many days, their daily figures are kept.
        "KIOSK_ANALYTICS": _flag(env.get("KIOSK_ANALYTICS"), True),
        "KIOSK_ANALYTICS_RAW_DAYS": _int(env, "KIOSK_ANALYTICS_RAW_DAYS", 90),
        "REDIS_URL": env.get("REDIS_URL", ""),
        "KIOSK_RATE_LIMITS": dict(DEFAULT_RATE_LIMITS),
        # Counted in Redis where there is one, else in the shop's database: never per
        # worker process, so every worker and instance sees the same counts.
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or "kiosk-db://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # A moving window: no burst of twice the limit around a minute's turn.
        "RATELIMIT_STRATEGY": "moving-window",
        "WTF_CSRF_TIME_LIMIT": None,
        "SEND_FILE_MAX_AGE_DEFAULT": 0 if kiosk_env == "development" else 3600,
        "JSON_SORT_KEYS": False,
    }
    if not 30 <= settings["KIOSK_CARD_PAYMENT_MINUTES"] <= 1440:
        raise ConfigError(
            "KIOSK_CARD_PAYMENT_MINUTES must be between 30 and 1440 (Stripe's limits)"
        )
    settings.update(overrides)
    if "SECRET_KEY" not in overrides:
        settings["SECRET_KEY"] = _secret_key(env, production, instance_path)
    if "KIOSK_DATA_KEYS" not in overrides:
        settings["KIOSK_DATA_KEYS"] = _data_keys(env, production, settings["SECRET_KEY"])
    if "DATABASE_URL" in overrides:
        settings["SQLALCHEMY_DATABASE_URI"] = overrides["DATABASE_URL"]
    return settings
