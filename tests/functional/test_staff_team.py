"""The owner's team page: members and their last sign-in, the permission table, invitations
by a signed single-use link, role changes and removals, and the rule that keeps an owner."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from kiosk.accounts.models import Role, StaffInvitation, User, UserSession
from kiosk.audit.models import AuditEvent
from kiosk.extensions import db
from kiosk.orm import utcnow
from kiosk.uow import unit_of_work
from tests.conftest import csrf_token, new_client
from tests.factories import PASSWORD, make_user
from tests.functional.test_accounts import _enable_two_factor
from tests.mailbox import link_in, outbox
from tests.shopping import sign_in, staff_member

NEW_PASSWORD = "a long and new password 42"


def _owner(app: Flask, email: str = "owner@example.org") -> FlaskClient:
    """A browser signed in as an owner (the two-factor rule off while the owner acts)."""
    app.config["KIOSK_STAFF_REQUIRE_2FA"] = False
    with app.app_context():
        make_user(email, role=Role.OWNER, name="Olga Owner")
    client = new_client(app)
    sign_in(client, email, PASSWORD)
    return client


def _post(client: FlaskClient, url: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client, "/staff/team"), **data})


def _user(app: Flask, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        db.session.expunge(user)
        return user


def _audit(app: Flask, event: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == event)))


def _invite(app: Flask, owner: FlaskClient, email: str, locale: str = "en", role: str = "staff"):  # type: ignore[no-untyped-def]
    response = _post(owner, "/staff/team/invite", email=email, role=role, locale=locale)
    assert response.status_code == 303, response.text
    with app.app_context():
        return link_in(outbox(email)[-1], "/invitation/")


def test_the_team_page_lists_members_their_last_sign_in_and_the_permission_table(
    app: Flask,
) -> None:
    owner = _owner(app)
    with app.app_context():
        make_user("clerk@example.org", role=Role.STAFF, name="Carl Clerk")
        make_user("jana@example.org")
    page = owner.get("/staff/team").text
    assert "Olga Owner" in page and "Carl Clerk" in page and "jana@example.org" not in page
    assert page.count("never") == 1  # the clerk; the owner just signed in
    assert _user(app, "owner@example.org").last_sign_in_at is not None
    table = page[page.index("Who may do what") :]
    invite_staff = table[table.index("Invite staff, change roles, remove staff") :]
    cells = re.findall(r'<span aria-hidden="true">(.)</span>', invite_staff)
    assert cells[:2] == ["✗", "✓"]
    orders = table[table.index("Handle orders") :]
    assert re.findall(r'<span aria-hidden="true">(.)</span>', orders)[:2] == ["✓", "✓"]


def test_staff_who_are_not_owners_get_403_on_the_team_pages(app: Flask) -> None:
    staff = staff_member(app)
    token = csrf_token(staff, "/staff/orders")
    assert staff.get("/staff/team").status_code == 403
    data = {"csrf_token": token, "email": "x@example.org", "role": "owner", "locale": "en"}
    assert staff.post("/staff/team/invite", data=data).status_code == 403
    assert "/staff/team" not in staff.get("/staff/orders").text  # not in their menu


def test_an_invitee_creates_an_account_and_must_set_up_two_factor_first(app: Flask) -> None:
    owner = _owner(app)
    link = _invite(app, owner, "neu@example.org", locale="de")
    with app.app_context():
        [mail] = outbox("neu@example.org")
    assert mail.subject.startswith("Sie sind eingeladen")  # the invitee's language
    app.config["KIOSK_STAFF_REQUIRE_2FA"] = True
    invitee = new_client(app)
    page = invitee.get(link)
    assert page.status_code == 200 and "neu@example.org" in page.text
    token = csrf_token(invitee, link)
    joined = invitee.post(
        link, data={"csrf_token": token, "name": "Nina", "password": NEW_PASSWORD}
    )
    assert joined.status_code == 303
    assert joined.headers["Location"].startswith("/account/security")
    user = _user(app, "neu@example.org")
    assert user.role is Role.STAFF and user.is_verified and user.locale == "de"
    assert invitee.get("/staff/orders").headers["Location"] == "/account/security"
    _enable_two_factor(app, invitee)
    assert invitee.get("/staff/orders").status_code == 200
    [invited] = _audit(app, "staff.invited")
    assert invited.details == {"invitation": invited.details["invitation"], "role": "staff"}
    [accepted] = _audit(app, "staff.invitation_accepted")
    assert accepted.actor_id == user.id and accepted.details["after"] == "staff"


def test_a_weak_password_comes_back_at_its_field_and_the_link_stays_good(app: Flask) -> None:
    owner = _owner(app)
    link = _invite(app, owner, "neu@example.org")
    invitee = new_client(app)
    weak = invitee.post(
        link, data={"csrf_token": csrf_token(invitee, link), "name": "Nina", "password": "short"}
    )
    assert weak.status_code == 422 and 'value="Nina"' in weak.text
    assert invitee.get(link).status_code == 200


def test_an_invitation_link_works_once(app: Flask) -> None:
    owner = _owner(app)
    link = _invite(app, owner, "neu@example.org")
    invitee = new_client(app)
    data = {"csrf_token": csrf_token(invitee, link), "name": "Nina", "password": NEW_PASSWORD}
    assert invitee.post(link, data=data).status_code == 303
    again = new_client(app).get(link)
    assert again.status_code == 410 and "accepted already" in again.text
    other = new_client(app)
    data["csrf_token"] = csrf_token(other, "/signin")
    assert other.post(link, data=data).status_code == 410  # a second submit changes nothing
    assert len(_audit(app, "staff.invitation_accepted")) == 1


def test_an_expired_invitation_says_so(app: Flask) -> None:
    owner = _owner(app)
    link = _invite(app, owner, "neu@example.org")
    with app.app_context(), unit_of_work() as session:
        session.execute(update(StaffInvitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    page = new_client(app).get(link)
    assert page.status_code == 410 and "This invitation has expired." in page.text
    team = owner.get("/staff/team").text
    assert "neu@example.org" not in team[team.index("<h1>") :]  # no longer open


def test_a_forged_or_broken_link_is_refused(app: Flask) -> None:
    owner = _owner(app)
    link = _invite(app, owner, "neu@example.org")
    visitor = new_client(app)
    for bad in (link[:-3] + "abc", "/invitation/eyJuIjoiZm9vIn0.forged.sig", link + "x"):
        page = visitor.get(bad)
        assert page.status_code == 400 and "not valid" in page.text, bad


def test_a_withdrawn_invitation_no_longer_works(app: Flask) -> None:
    owner = _owner(app)
    link = _invite(app, owner, "neu@example.org")
    with app.app_context():
        invitation_id = db.session.scalar(select(StaffInvitation.id))
    assert _post(owner, f"/staff/team/invitations/{invitation_id}/revoke").status_code == 303
    page = new_client(app).get(link)
    assert page.status_code == 410 and "withdrawn" in page.text
    assert len(_audit(app, "staff.invitation_revoked")) == 1


def test_a_new_invitation_replaces_the_open_one(app: Flask) -> None:
    owner = _owner(app)
    first = _invite(app, owner, "neu@example.org")
    second = _invite(app, owner, "neu@example.org")
    assert new_client(app).get(first).status_code == 410
    assert new_client(app).get(second).status_code == 200


def test_an_existing_account_signs_in_and_accepts(app: Flask) -> None:
    owner = _owner(app)
    with app.app_context():
        make_user("jana@example.org")
    link = _invite(app, owner, "jana@example.org", role="owner")
    jana = new_client(app)
    page = jana.get(link).text
    assert "Sign in to accept" in page and 'name="password"' not in page
    signed_in = sign_in_next(jana, link)
    assert signed_in.headers["Location"] == link
    accepted = jana.post(link, data={"csrf_token": csrf_token(jana, link)})
    assert accepted.status_code == 303
    assert _user(app, "jana@example.org").role is Role.OWNER
    assert jana.get("/account").status_code == 200  # still signed in
    [event] = _audit(app, "staff.invitation_accepted")
    assert (event.details["before"], event.details["after"]) == ("customer", "owner")


def sign_in_next(client: FlaskClient, next_url: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/signin")
    data = {"csrf_token": token, "email": "jana@example.org", "password": PASSWORD}
    return client.post(f"/signin?next={next_url}", data=data)


def test_someone_signed_in_to_another_account_cannot_accept(app: Flask) -> None:
    owner = _owner(app)
    with app.app_context():
        make_user("jana@example.org")
    link = _invite(app, owner, "neu@example.org")
    jana = new_client(app)
    sign_in(jana, "jana@example.org", PASSWORD)
    page = jana.get(link).text
    assert "You are signed in as jana@example.org" in page
    jana.post(link, data={"csrf_token": csrf_token(jana, link), "password": NEW_PASSWORD})
    assert _user(app, "jana@example.org").role is Role.CUSTOMER
    assert _audit(app, "staff.invitation_accepted") == []


def test_inviting_someone_on_the_team_already_is_refused_at_the_field(app: Flask) -> None:
    owner = _owner(app)
    with app.app_context():
        make_user("clerk@example.org", role=Role.STAFF)
    refused = _post(
        owner, "/staff/team/invite", email="clerk@example.org", role="staff", locale="en"
    )
    assert refused.status_code == 422 and "on the team already" in refused.text
    assert 'value="clerk@example.org"' in refused.text
    bad = _post(owner, "/staff/team/invite", email="not an address", role="boss", locale="xx")
    assert bad.status_code == 422


def test_the_owner_changes_roles_which_ends_the_members_sessions_and_is_audited(
    app: Flask,
) -> None:
    owner = _owner(app)
    with app.app_context():
        clerk_id = make_user("clerk@example.org", role=Role.STAFF).id
    clerk = new_client(app)
    sign_in(clerk, "clerk@example.org", PASSWORD)
    assert _post(owner, f"/staff/team/{clerk_id}/role", role="owner").status_code == 303
    assert _user(app, "clerk@example.org").role is Role.OWNER
    assert clerk.get("/account").status_code == 302  # signed out
    [event] = _audit(app, "staff.role_changed")
    assert (event.details["before"], event.details["after"]) == ("staff", "owner")
    assert event.subject_id == clerk_id
    assert _post(owner, f"/staff/team/{clerk_id}/role", role="staff").status_code == 303
    assert _user(app, "clerk@example.org").role is Role.STAFF


def test_removing_a_member_makes_them_a_customer_and_ends_their_sessions(app: Flask) -> None:
    owner = _owner(app)
    with app.app_context():
        clerk_id = make_user("clerk@example.org", role=Role.STAFF).id
    clerk = new_client(app)
    sign_in(clerk, "clerk@example.org", PASSWORD)
    assert _post(owner, f"/staff/team/{clerk_id}/remove").status_code == 303
    assert _user(app, "clerk@example.org").role is Role.CUSTOMER
    with app.app_context():
        rows = db.session.scalars(select(UserSession).where(UserSession.user_id == clerk_id))
        assert list(rows) == []
    [event] = _audit(app, "staff.removed")
    assert event.details == {"before": "staff", "after": "customer"}
    team = owner.get("/staff/team").text
    assert "clerk@example.org" not in team[team.index("<h1>") :]


def test_the_last_owner_can_be_neither_demoted_nor_removed(app: Flask) -> None:
    owner = _owner(app)
    me = _user(app, "owner@example.org").id
    for url, data in (
        (f"/staff/team/{me}/role", {"role": "staff"}),
        (f"/staff/team/{me}/remove", {}),
    ):
        refused = _post(owner, url, **data)
        assert refused.status_code == 303
        assert "at least one owner" in owner.get(refused.headers["Location"]).text
    assert _user(app, "owner@example.org").role is Role.OWNER
    assert _audit(app, "staff.role_changed") == [] and _audit(app, "staff.removed") == []


def test_with_a_second_owner_an_owner_may_step_down_and_stays_signed_in(app: Flask) -> None:
    owner = _owner(app)
    with app.app_context():
        make_user("second@example.org", role=Role.OWNER)
    me = _user(app, "owner@example.org").id
    stepped_down = _post(owner, f"/staff/team/{me}/role", role="staff")
    assert stepped_down.status_code == 303 and stepped_down.headers["Location"] == "/staff/orders"
    assert _user(app, "owner@example.org").role is Role.STAFF
    assert owner.get("/staff/orders").status_code == 200
    assert owner.get("/staff/team").status_code == 403
