"""The application factory: it reads like the table of contents of the shop."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dotenv import load_dotenv
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from kiosk.config import PROJECT_ROOT, load_settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a Kiosk app; `config` overrides settings read from the environment."""
    if (config or {}).get("KIOSK_ENV") != "testing":
        load_dotenv(PROJECT_ROOT / ".env", override=False)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_settings(PROJECT_ROOT / "instance", config))
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_compression(app)
    register_template_helpers(app)
    register_commands(app)
    if app.config["KIOSK_PROXY_FIX"]:
        hops = app.config["KIOSK_PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def configure_logging(app: Flask) -> None:
    logging.basicConfig(
        level=app.config["KIOSK_LOG_LEVEL"],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic.runtime.plugins", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    from kiosk import schema  # noqa: F401  (the whole schema, for Alembic)
    from kiosk.accounts import login  # noqa: F401  (registers the user loader)
    from kiosk.database import configure_engine
    from kiosk.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
    from kiosk.i18n import select_locale

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["KIOSK_DB_LOCK_TIMEOUT_MS"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PROJECT_ROOT / "src" / "kiosk" / "translations"),
    )
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.signin"
    login_manager.login_message = None  # the sign-in page says what to do
    login_manager.session_protection = "basic"
    register_shipping_methods(app)
    register_payment_methods(app)


def register_shipping_methods(app: Flask) -> None:
    """Read the owner's shipping file once; a mistake in it stops the start with its reason."""
    from pathlib import Path

    from kiosk.config import ConfigError
    from kiosk.shipping import services as shipping

    path = Path(app.config["KIOSK_SHIPPING_FILE"])
    try:
        shipping.init_app(app, path if path.is_absolute() else PROJECT_ROOT / path)
    except shipping.ShippingConfigError as exc:
        raise ConfigError(f"KIOSK_SHIPPING_FILE: {exc}") from exc


def register_payment_methods(app: Flask) -> None:
    """The payment methods' registry, built here rather than at import: the offline methods,
    the invoice for customers who paid before (the orders know who), and Stripe's card
    payment, which checkout offers once its keys are set."""
    from kiosk.orders.services import has_paid_order
    from kiosk.payments.providers import BankTransfer, CashOnDelivery, Invoice, install
    from kiosk.payments.stripe import StripeCheckout

    install(
        app,
        [BankTransfer(), Invoice(paid_before=has_paid_order), CashOnDelivery(), StripeCheckout()],
    )


def register_blueprints(app: Flask) -> None:
    from kiosk.accounts.views.account import bp as account_bp
    from kiosk.accounts.views.auth import bp as auth_bp
    from kiosk.backoffice.views import bp as staff_bp
    from kiosk.cart.views import bp as cart_bp
    from kiosk.catalog.views import bp as catalog_bp
    from kiosk.checkout.views import bp as checkout_bp
    from kiosk.legal.views import bp as legal_bp
    from kiosk.orders.views import bp as orders_bp
    from kiosk.orders.views import withdrawal_bp
    from kiosk.payments.views import bp as payments_bp
    from kiosk.privacy.views import bp as privacy_bp
    from kiosk.storefront.views import bp as core_bp
    from kiosk.validation import URL_CONVERTERS

    app.url_map.converters.update(URL_CONVERTERS)  # before the routes that use them

    for blueprint in (
        core_bp,
        catalog_bp,
        cart_bp,
        checkout_bp,
        orders_bp,
        withdrawal_bp,
        payments_bp,
        legal_bp,
        privacy_bp,
        auth_bp,
        account_bp,
        staff_bp,
    ):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    from kiosk.errors import register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from kiosk.accounts.login import enforce_timeouts
    from kiosk.mail.services import flush_after_request
    from kiosk.security import add_security_headers

    app.before_request(enforce_timeouts)
    app.after_request(add_security_headers)
    app.after_request(flush_after_request)


def register_compression(app: Flask) -> None:
    from kiosk.compression import init_app

    init_app(app)


def register_template_helpers(app: Flask) -> None:
    """The generic filters, then what templates may ask of each domain."""
    from kiosk import templating
    from kiosk.accounts.passwords import MIN_LENGTH
    from kiosk.backoffice.shop_settings import mail_sender, shop_name
    from kiosk.cart.owner import cart_count
    from kiosk.catalog.cards import product_card
    from kiosk.catalog.pictures import picture_sources
    from kiosk.invoicing.seller import seller_now
    from kiosk.legal.links import order_text_url
    from kiosk.mail.services import SENDER
    from kiosk.orders.labels import label, order_event_name, order_status_name
    from kiosk.payments.labels import payment_method_name, payment_status_name
    from kiosk.privacy.consent import category_names, needs_banner, storage_rows
    from kiosk.shipping.services import country_options, shipment

    templating.register(app)
    app.jinja_env.globals.update(
        label=label,
        order_status_name=order_status_name,
        order_event_name=order_event_name,
        payment_method_name=payment_method_name,
        payment_status_name=payment_status_name,
        cart_count=cart_count,
        product_card=product_card,
        picture_sources=picture_sources,
        country_options=country_options,
        shipment=shipment,
        password_min_length=MIN_LENGTH,
        seller=seller_now,
        order_text_url=order_text_url,  # the legal texts an order was placed under
        shop_name=shop_name,  # the owner's name for the shop, else KIOSK_SHOP_NAME
        consent_banner=needs_banner,
        consent_category_names=category_names,
        storage_rows=storage_rows,
    )
    app.extensions[SENDER] = mail_sender  # the owner's sender, else KIOSK_MAIL_FROM


def register_commands(app: Flask) -> None:
    from kiosk.cli import kiosk_cli

    app.cli.add_command(kiosk_cli)
