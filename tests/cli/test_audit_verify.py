"""`flask kiosk audit-verify`: the chain holds on a shop in use, and a row edited behind
the triggers' back is named."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from kiosk.accounts.models import Role
from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_product
from tests.shopping import buy, sign_in, staff_member
from tests.tampering import tamper


def _a_shop_in_use(app: Flask, client: FlaskClient) -> list[int]:
    """Sign-ups, sign-ins (one failed), an order, staff at work: the events' ids."""
    register = {"email": "jana@example.org", "name": "Jana", "password": PASSWORD}
    client.post("/register", data={"csrf_token": csrf_token(client, "/register"), **register})
    sign_in(client, "jana@example.org", "wrong password")
    with app.app_context():
        product = make_product().id
    assert buy(client, product).status_code == 303
    staff_member(app, Role.OWNER)
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_passes_on_a_shop_in_use_and_names_a_row_edited_behind_the_triggers(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    events = _a_shop_in_use(app, client)
    assert len(events) >= 3
    result = runner.invoke(args=["kiosk", "audit-verify"])
    assert result.exit_code == 0, result.output
    assert f"The audit log is intact: {len(events)} entries checked" in result.output

    edited = events[1]
    with app.app_context():
        tamper("UPDATE audit_event SET details = :details WHERE id = :id", details="{}", id=edited)
    result = runner.invoke(args=["kiosk", "audit-verify"])
    assert result.exit_code == 1
    assert f"The audit log is broken at entry {edited}: its content does not match" in result.output
