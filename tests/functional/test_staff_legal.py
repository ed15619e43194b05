"""The legal texts: the owner edits them in the browser, each save is a new version, orders
keep the version they were placed under (older orders their template digest), and the
privacy policy starts from a draft made from the seller, the data map and the processors."""

from __future__ import annotations

import html
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kiosk.accounts.models import Role
from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from kiosk.legal import initial
from kiosk.legal.models import LegalTextVersion
from kiosk.orders.models import Order
from kiosk.privacy import data_map
from tests.conftest import csrf_token, new_client
from tests.factories import make_product
from tests.mailbox import outbox
from tests.shopping import buy, staff_member

TERMS_URL = "/staff/legal/terms"


def owner(app: Flask) -> FlaskClient:
    return staff_member(app, Role.OWNER)


def save(client: FlaskClient, url: str = TERMS_URL, **fields: str) -> Any:
    data = {"markdown_de": "## Neu\n\nDeutsch.", "markdown_en": "## New\n\nEnglish."}
    return client.post(url, data={**data, **fields, "csrf_token": csrf_token(client, url)})


def stored(app: Flask, kind: str = "terms") -> list[tuple[int, str, str]]:
    with app.app_context():
        query = select(LegalTextVersion).where(LegalTextVersion.kind == kind)
        rows = db.session.scalars(query.order_by(LegalTextVersion.id))
        return [(row.number, row.language, row.markdown) for row in rows]


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_fresh_shop_shows_the_texts_it_shipped_with(app: Flask, client: FlaskClient) -> None:
    terms = text(client.get("/terms"))
    assert "1 Scope" in terms and "Order and pay" in terms
    assert 'href="/withdrawal"' in terms  # the template's links survive as Markdown links
    german = text(client.get("/terms", headers={"Accept-Language": "de"}))
    assert "§ 1 Geltungsbereich" in german and "Zahlungspflichtig bestellen" in german
    assert "Model withdrawal form" in text(client.get("/withdrawal"))
    assert "Information according to § 5 DDG" in text(client.get("/imprint"))
    statement = text(client.get("/accessibility"))
    assert "WCAG 2.1" in statement and "axe-core" in statement and "[Placeholder]" in statement
    assert 'href="/accessibility"' in client.get("/").get_data(as_text=True)  # footer
    assert stored(app) == []  # showing a text stores nothing


def test_each_save_is_a_new_version_audited_and_a_repeat_stores_nothing(app: Flask) -> None:
    assert staff_member(app).get(TERMS_URL).status_code == 403  # the owner's alone
    client = owner(app)
    form = client.get(TERMS_URL)
    assert "Order and pay" in text(form) and "Zahlungspflichtig bestellen" in text(form)

    response = save(client)
    assert response.status_code == 303 and response.headers["Location"] == TERMS_URL
    versions = stored(app)
    assert [(number, language) for number, language, _ in versions] == [
        (1, "de"), (1, "en"), (2, "de"), (2, "en")
    ]  # fmt: skip
    assert "Geltungsbereich" in versions[0][2] and versions[3][2] == "## New\n\nEnglish."
    assert "<h2>New</h2>" in client.get("/terms").get_data(as_text=True)
    assert "Version 2 of" in text(client.get(TERMS_URL, follow_redirects=True))

    assert "Nothing changed." in text(client.get(save(client).headers["Location"]))
    assert len(stored(app)) == 4
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "legal.text_saved")
        ).all()
        assert len(events) == 1
        details = events[0].details
        assert details["text"] == "terms" and details["after"]["number"] == 2
        assert details["before"]["number"] == 1 and len(details["after"]["ids"]) == 2


def test_an_empty_text_comes_back_at_its_field_with_the_other_kept(app: Flask) -> None:
    client = owner(app)
    response = save(client, markdown_de="  ")
    assert response.status_code == 422
    assert "a legal page cannot be empty" in text(response) and "English." in text(response)
    assert stored(app) == []


def test_preview_renders_the_markdown_safely_and_stores_nothing(app: Flask) -> None:
    client = owner(app)
    source = {"markdown_en": "## Heading\n\n<script>alert(1)</script> **bold**", "preview": "1"}
    page = save(client, **source)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h2>Heading</h2>" in body
    assert "<strong>bold</strong>" in body and "<script>alert" not in body
    assert "<form" in body  # the whole editor, typed text kept

    token = csrf_token(client, TERMS_URL)
    fragment = client.post(
        TERMS_URL,
        data={"markdown_de": "## Vorschau", "markdown_en": "x", "preview": "1"}
        | {"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert "<h2>Vorschau</h2>" in fragment.get_data(as_text=True)
    assert "<form" not in fragment.get_data(as_text=True)
    assert stored(app) == []


def _attachment(app: Flask, to: str, filename: str) -> str:
    with app.app_context():
        message = outbox(to)[-1]
        found = next(a for a in message.attachments if a.filename == filename)
        return found.data.decode()


def test_an_order_keeps_the_terms_it_was_placed_under_after_a_new_save(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        product = make_product(stock_on_hand=10).id
    buy(client, product)
    with app.app_context():
        first = db.session.scalars(select(Order)).one()
        assert first.legal_versions == {
            "terms": "terms:v1", "withdrawal": "withdrawal:v1", "privacy": "privacy:v1"
        }  # fmt: skip
        number, email = first.number, first.email
    assert "Order and pay" in _attachment(app, email, "terms.html")

    staff = owner(app)
    save(staff, markdown_en="## Terms of 2027\n\nNew rules.")
    order_page = client.get(f"/orders/{number}").get_data(as_text=True)
    assert 'href="/legal/terms/v/1"' in order_page and 'href="/legal/withdrawal/v/1"' in order_page
    assert 'href="/legal/terms/v/1"' in staff.get(f"/staff/orders/{number}").get_data(as_text=True)
    old = text(client.get("/legal/terms/v/1"))
    assert "Order and pay" in old and "Terms of 2027" not in old and "Version 1" in old
    assert "Terms of 2027" in text(client.get("/legal/terms/v/2"))
    assert "Terms of 2027" in text(client.get("/terms"))

    buyer = new_client(app)
    buy(buyer, product, email="second@example.org")
    with app.app_context():
        second = db.session.scalars(select(Order).order_by(Order.id.desc())).first()
        assert second is not None and second.legal_versions["terms"] == "terms:v2"
    assert "Terms of 2027" in _attachment(app, "second@example.org", "terms.html")
    assert "Order and pay" in _attachment(app, email, "terms.html")  # the first mail unchanged
    assert client.get("/legal/terms/v/3").status_code == 404
    assert client.get("/legal/terms/v/99999999999999999999").status_code == 404


def test_orders_that_recorded_a_template_digest_still_find_their_terms(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context(), app.test_request_context():
        digest = initial.template_digest("terms")
        privacy_digest = initial.template_digest("privacy")
    assert digest and privacy_digest
    before_import = text(client.get(f"/legal/terms/v/{digest}"))
    assert "Order and pay" in before_import and "before texts were stored" in before_import
    assert "Controller" in text(client.get(f"/legal/privacy/v/{privacy_digest}"))

    with app.app_context():
        product = make_product(stock_on_hand=5).id
    buy(client, product)  # stores the shipped texts as version 1, with the template's digest
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        order.legal_versions = {"terms": f"terms:{digest}", "withdrawal": "withdrawal:0a1b2c3d4e5f"}
        db.session.commit()
        number = order.number
    page = client.get(f"/orders/{number}").get_data(as_text=True)
    assert f'href="/legal/terms/v/{digest}"' in page
    resolved = text(client.get(f"/legal/terms/v/{digest}"))
    assert "Order and pay" in resolved and "Version 1" in resolved
    assert client.get("/legal/withdrawal/v/0a1b2c3d4e5f").status_code == 404


def test_the_privacy_draft_names_the_controller_every_purpose_and_basis(app: Flask) -> None:
    app.config.update(STRIPE_SECRET_KEY="sk_test_x", KIOSK_HOSTING_PROVIDER="Hetzner Online GmbH")
    client = owner(app)
    public = text(new_client(app).get("/privacy"))  # the draft until the owner saves one
    assert "Controller" in public and app.config["KIOSK_SELLER_EMAIL"] in public

    url = "/staff/legal/privacy"
    response = client.post(url, data={"draft": "1", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 200
    draft = text(response)
    english = draft[draft.index('name="markdown_en"') :]
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        purposes = {str(column.purpose) for _table, column in data_map.personal_columns()}
        bases = {column.basis.value for _table, column in data_map.personal_columns()}
    assert purposes and bases
    for expected in (*purposes, *bases, app.config["KIOSK_SELLER_EMAIL"], "Hetzner Online GmbH",
                     "Stripe Payments Europe"):  # fmt: skip
        assert expected in english, expected
    assert "## Verantwortlicher" in draft
    assert stored(app, "privacy") == []  # the owner completes it, then saves

    save(client, url, markdown_en="## Controller\n\nOur own policy.", markdown_de="Unsere.")
    assert "Our own policy." in text(new_client(app).get("/privacy"))
