"""The shop's team: who is on it, and invitations to join it.

An owner invites by email. The mailed link carries a token signed with the
app's secret (so a made-up link is refused before the database is asked) that
expires after `INVITATION_VALID`; the table keeps only its SHA-256, so a copy
of the database accepts nothing. Accepting marks the invitation used, so the
link works once. The invitee creates an account, or signs in to the one that
has the address, and must then set up two-factor sign-in before the back
office opens (`guards.require_role`).
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from kiosk.accounts import services as accounts
from kiosk.accounts import user_sessions
from kiosk.accounts.models import Role, StaffInvitation, User, normalise_email
from kiosk.accounts.passwords import hash_password
from kiosk.accounts.repository import InvitationRepository, UserRepository
from kiosk.accounts.services import AccountError
from kiosk.audit import services as audit
from kiosk.mail.services import queue_mail
from kiosk.orm import utcnow
from kiosk.uow import read_session, unit_of_work
from kiosk.urls import external_url

INVITATION_VALID = timedelta(days=7)
TEAM_ROLES = (Role.STAFF, Role.OWNER)


class InvitationProblem(enum.StrEnum):
    EXPIRED = "expired"
    USED = "used"
    WITHDRAWN = "withdrawn"
    INVALID = "invalid"


class InvitationError(Exception):
    def __init__(self, problem: InvitationProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def members() -> list[User]:
    """Owners, then staff."""
    return UserRepository(read_session()).team()


def pending_invitations() -> list[StaffInvitation]:
    return InvitationRepository(read_session()).pending(utcnow())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kiosk.staff-invitation")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _owner(session: Session, owner_id: int) -> User:
    owner = UserRepository(session).get(owner_id)
    if owner is None or owner.role is not Role.OWNER:
        raise AccountError("not_allowed")
    return owner


def invite(owner_id: int, email: str, role: Role, locale: str) -> None:
    """Mail a link that lets `email` join with `role`; it replaces earlier open invitations
    of that address. AccountError("already_staff") if the address is on the team already."""
    if role not in TEAM_ROLES:
        raise AccountError("not_allowed")
    email = normalise_email(email)
    now = utcnow()
    with unit_of_work() as session:
        owner = _owner(session, owner_id)
        existing = UserRepository(session).get_by_email(email)
        if existing is not None and existing.is_staff:
            raise AccountError("already_staff")
        invitations = InvitationRepository(session)
        invitations.withdraw_open(email, now)
        token = _serializer().dumps({"n": secrets.token_urlsafe(32)})
        invitation = invitations.add(
            StaffInvitation(
                email=email,
                role=role,
                locale=locale,
                token_hash=_hash(token),
                invited_by_id=owner.id,
                created_at=now,
                expires_at=now + INVITATION_VALID,
            )
        )
        session.flush()
        audit.record(
            session,
            "staff.invited",
            actor=owner,
            invitation=invitation.id,
            role=role.value,
        )
        queue_mail(
            session,
            email,
            "staff_invitation",
            locale,
            owner=owner,
            role=role.value,
            days=INVITATION_VALID.days,
            accept_url=external_url("auth.invitation", token=token),
        )


def revoke(owner_id: int, invitation_id: int) -> bool:
    """Withdraw an invitation not yet accepted; False if it was used or withdrawn already."""
    with unit_of_work() as session:
        owner = _owner(session, owner_id)
        invitation = InvitationRepository(session).get(invitation_id)
        if invitation is None:
            raise LookupError(invitation_id)
        if invitation.used_at is not None or invitation.revoked_at is not None:
            return False
        invitation.revoked_at = utcnow()
        audit.record(
            session,
            "staff.invitation_revoked",
            actor=owner,
            invitation=invitation.id,
        )
        return True


def _open(session: Session, token: str) -> StaffInvitation:
    """The invitation a link names, if it can still be accepted."""
    try:
        _serializer().loads(token, max_age=int(INVITATION_VALID.total_seconds()))
    except SignatureExpired as exc:
        raise InvitationError(InvitationProblem.EXPIRED) from exc
    except BadSignature as exc:
        raise InvitationError(InvitationProblem.INVALID) from exc
    invitation = InvitationRepository(session).by_token_hash(_hash(token))
    if invitation is None:
        raise InvitationError(InvitationProblem.INVALID)
    if invitation.used_at is not None:
        raise InvitationError(InvitationProblem.USED)
    if invitation.revoked_at is not None:
        raise InvitationError(InvitationProblem.WITHDRAWN)
    if utcnow() >= invitation.expires_at:
        raise InvitationError(InvitationProblem.EXPIRED)
    return invitation


def invitation_for(token: str) -> tuple[StaffInvitation, bool]:
    """The invitation a link names, and whether its address has an account already."""
    session = read_session()
    invitation = _open(session, token)
    return invitation, UserRepository(session).get_by_email(invitation.email) is not None


def accept_with_new_account(token: str, name: str, password: str) -> User:
    """The invitee has no account yet: make one with the invited role. The link proved the
    address, so it counts as confirmed. AccountError("account_exists") if one appeared."""
    password_hash = hash_password(password)  # before the transaction: no lock held meanwhile
    with unit_of_work() as session:
        invitation = _open(session, token)
        users = UserRepository(session)
        if users.get_by_email(invitation.email) is not None:
            raise AccountError("account_exists")
        now = utcnow()
        user = users.add(
            User(
                email=invitation.email,
                password_hash=password_hash,
                name=name,
                locale=invitation.locale,
                role=invitation.role,
                email_verified_at=now,
            )
        )
        session.flush()
        invitation.used_at = now
        _accepted(session, invitation, user, Role.CUSTOMER)
        accounts.signed_in(session, user, method="invitation")
        return user


def accept_as(token: str, user_id: int, keep_session: int) -> User:
    """The invitee is signed in to the account with the invited address: it joins the team
    (an owner invited as staff stays owner). Its other sessions end, as with every role
    change. AccountError("other_account") if the signed-in account has another address."""
    with unit_of_work() as session:
        invitation = _open(session, token)
        user = UserRepository(session).get(user_id)
        if user is None or user.email != invitation.email:
            raise AccountError("other_account")
        before = user.role
        if user.role.rank < invitation.role.rank:
            user.role = invitation.role
        user.email_verified_at = user.email_verified_at or utcnow()
        user.session_version += 1
        user_sessions.end_all(session, user.id, keep=keep_session)
        invitation.used_at = utcnow()
        _accepted(session, invitation, user, before)
        return user


def _accepted(session: Session, invitation: StaffInvitation, user: User, before: Role) -> None:
    audit.record(
        session,
        "staff.invitation_accepted",
        actor=user,
        invitation=invitation.id,
        before=before.value,
        after=user.role.value,
    )
