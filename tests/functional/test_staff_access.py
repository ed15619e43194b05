"""Every back-office route is guarded by the permission table, proved from the URL map.

No list of routes to keep up to date: a new `/staff` route is checked the moment it exists.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import BaseConverter, Rule
from werkzeug.routing.converters import NumberConverter

from kiosk.accounts.models import Role
from kiosk.backoffice.access import TABLE, Permission, allows
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user
from tests.shopping import sign_in, staff_member


def sample(converter: BaseConverter) -> str:
    """A value for a URL placeholder; no object needs to exist, the guard answers first."""
    return "1" if isinstance(converter, NumberConverter) else "K2345-6789"


def staff_requests(app: Flask) -> Iterator[tuple[Rule, str, str]]:
    """(rule, method, url) for every method of every back-office route."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "staff":
            continue
        values = {name: sample(converter) for name, converter in rule._converters.items()}
        url = rule.build(values, append_unknown=False)[1]  # type: ignore[index]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method, url


def test_every_staff_route_names_a_permission(app: Flask) -> None:
    unguarded = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("staff.")
        and not isinstance(
            getattr(app.view_functions[rule.endpoint], "permission", None), Permission
        )
    ]
    assert list(staff_requests(app)), "the back office has routes"
    assert unguarded == []


def test_guests_are_sent_to_sign_in_from_every_staff_route(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client)
    for _rule, method, url in staff_requests(app):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.headers["Location"].startswith("/signin"), (method, url)


def test_customers_get_403_on_every_staff_route(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make_user()
    sign_in(client, "jana@example.org", PASSWORD)
    token = csrf_token(client)
    for _rule, method, url in staff_requests(app):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (method, url, response.status_code)


def test_staff_get_403_where_the_table_says_owner(app: Flask) -> None:
    staff = staff_member(app)
    token = csrf_token(staff)
    for rule, method, url in staff_requests(app):
        permission = app.view_functions[rule.endpoint].permission
        status = staff.open(url, method=method, data={"csrf_token": token}).status_code
        if allows(Role.STAFF, permission):
            assert status != 403, (method, url)
        else:
            assert status == 403, (method, url, status)


def test_the_table_covers_every_permission() -> None:
    assert set(TABLE) == set(Permission)
    assert all(allows(Role.OWNER, permission) for permission in Permission)
    assert not any(allows(Role.CUSTOMER, permission) for permission in Permission)
