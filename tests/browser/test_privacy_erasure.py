"""A guest erases their data in a browser (Art. 17 GDPR): the address, the mailed link, the
last button. JavaScript on in English, off in German."""

from __future__ import annotations

import uuid

from flask import Flask
from playwright.sync_api import expect
from pytest_playwright.pytest_playwright import CreateContextCallback
from sqlalchemy import select

from kiosk.extensions import db
from kiosk.i18n import LANGUAGE_COOKIE
from kiosk.inventory.models import StockAlert
from kiosk.privacy.models import ErasureRequest, ErasureState
from kiosk.uow import unit_of_work
from tests.factories import make_product
from tests.mailbox import link_in, outbox

WORDS = {
    "en": {
        "ask": "Send the link",
        "sent": "Check your mail",
        "erase": "Erase my data now",
        "done": "Your data has been erased",
        "dead": "This link no longer works",
    },
    "de": {
        "ask": "Link senden",
        "sent": "Sehen Sie in Ihr Postfach",
        "erase": "Meine Daten jetzt löschen",
        "done": "Ihre Daten sind gelöscht",
        "dead": "Dieser Link funktioniert nicht mehr",
    },
}


def test_a_guest_asks_confirms_by_mail_and_is_erased(
    new_context: CreateContextCallback, live_app: Flask, live_server: str, js: bool
) -> None:
    language = "en" if js else "de"
    words = WORDS[language]
    email = f"erase-{uuid.uuid4().hex[:10]}@example.org"
    with live_app.app_context():
        product = make_product(name="Kanne", price_cents=2990, stock_on_hand=0, is_active=False)
        with unit_of_work() as session:
            session.add(StockAlert(product_id=product.id, email=email, locale=language))
        db.session.remove()
    context = new_context(java_script_enabled=js)
    context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": live_server}])
    page = context.new_page()

    page.goto("/privacy/erase")
    page.get_by_role("textbox").fill(email)
    page.get_by_role("button", name=words["ask"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["sent"])

    with live_app.app_context():
        (mail,) = [m for m in outbox(email) if m.template == "privacy_erasure_confirm"]
        link = link_in(mail, "/privacy/erase/confirm/")
        db.session.remove()
    page.goto(link)
    page.get_by_role("button", name=words["erase"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["done"])

    with live_app.app_context():
        assert not db.session.scalars(select(StockAlert).where(StockAlert.email == email)).all()
        assert [m.template for m in outbox(email)] == ["privacy_erasure_done"]
        request = db.session.scalars(
            select(ErasureRequest).where(ErasureRequest.email.like("erased-request-%"))
            .order_by(ErasureRequest.id.desc())
        ).first()  # fmt: skip
        assert request is not None and request.state is ErasureState.DONE
        db.session.remove()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(words["dead"])
