"""Accounts: users by id or normalised email, their addresses; signed-in sessions by the hash
of their secret, listed and ended per user."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from kiosk.accounts.models import (
    Address,
    CustomerNote,
    Role,
    StaffInvitation,
    User,
    UserSession,
    normalise_email,
)


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def get_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == normalise_email(email)))

    def add(self, user: User) -> User:
        user.email = normalise_email(user.email)
        self.session.add(user)
        return user

    def with_totp_secret(self) -> list[User]:
        """Every user with a stored TOTP secret, by id, locked until the transaction ends."""
        return list(
            self.session.scalars(
                select(User)
                .where(User.totp_secret.is_not(None))
                .order_by(User.id)
                .with_for_update()
            )
        )

    def active_staff(self) -> list[User]:
        """Every active staff member and owner, in the order they joined."""
        return list(
            self.session.scalars(
                select(User)
                .where(User.is_active.is_(True), User.role.in_([Role.STAFF, Role.OWNER]))
                .order_by(User.id)
            )
        )

    def search(self, text: str, offset: int, limit: int) -> tuple[list[User], int]:
        """Accounts whose email or name contains `text`, newest first, and how many match."""
        query = select(User)
        if text:
            needle = text.lower()
            query = query.where(
                or_(
                    User.email.contains(needle, autoescape=True),
                    func.lower(User.name).contains(needle, autoescape=True),
                )
            )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(User.created_at.desc(), User.id.desc()).offset(offset).limit(limit)
        )
        return list(rows), total

    def ids_with_email_containing(self, text: str, limit: int) -> list[int]:
        return list(
            self.session.scalars(
                select(User.id)
                .where(User.email.contains(text.lower(), autoescape=True))
                .order_by(User.id)
                .limit(limit)
            )
        )

    def emails_of(self, user_ids: set[int]) -> dict[int, str]:
        rows = self.session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
        return {user_id: email for user_id, email in rows}

    def team(self) -> list[User]:
        """Owners first, then staff, each by email (disabled ones too)."""
        return list(
            self.session.scalars(
                select(User)
                .where(User.role.in_([Role.STAFF, Role.OWNER]))
                .order_by(User.role, User.email)  # "owner" sorts before "staff"
            )
        )

    def count_owners(self) -> int:
        """Owners who can still sign in: the shop must always keep one. Their rows stay
        locked to the end of the transaction, so two owners demoting each other at once
        cannot both succeed."""
        query = (
            select(User.id)
            .where(User.role == Role.OWNER, User.is_active.is_(True))
            .order_by(User.id)
            .with_for_update()
        )
        return len(self.session.scalars(query).all())

    def address_of(self, user: User, address_id: int) -> Address | None:
        """One of this user's addresses; another user's address is None, as if absent."""
        return self.session.scalar(
            select(Address).where(Address.id == address_id, Address.user_id == user.id)
        )


class CustomerNoteRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, note: CustomerNote) -> CustomerNote:
        self.session.add(note)
        return note

    def of_user(self, user_id: int) -> list[CustomerNote]:
        """A customer's notes, the newest first, with their authors."""
        return list(
            self.session.scalars(
                select(CustomerNote)
                .where(CustomerNote.user_id == user_id)
                .options(selectinload(CustomerNote.author))
                .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc())
            )
        )


class InvitationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, invitation: StaffInvitation) -> StaffInvitation:
        invitation.email = normalise_email(invitation.email)
        self.session.add(invitation)
        return invitation

    def get(self, invitation_id: int) -> StaffInvitation | None:
        return self.session.get(StaffInvitation, invitation_id)

    def by_token_hash(self, token_hash: str) -> StaffInvitation | None:
        return self.session.scalar(
            select(StaffInvitation).where(StaffInvitation.token_hash == token_hash)
        )

    def pending(self, now: datetime) -> list[StaffInvitation]:
        """Invitations not yet accepted, withdrawn or expired, the newest first."""
        return list(
            self.session.scalars(
                select(StaffInvitation)
                .where(
                    StaffInvitation.used_at.is_(None),
                    StaffInvitation.revoked_at.is_(None),
                    StaffInvitation.expires_at > now,
                )
                .options(selectinload(StaffInvitation.invited_by))
                .order_by(StaffInvitation.created_at.desc(), StaffInvitation.id.desc())
            )
        )

    def withdraw_open(self, email: str, now: datetime) -> int:
        """Withdraw the open invitations of an address (a new one replaces them)."""
        result = self.session.execute(
            update(StaffInvitation)
            .where(
                StaffInvitation.email == normalise_email(email),
                StaffInvitation.used_at.is_(None),
                StaffInvitation.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return result.rowcount  # type: ignore[attr-defined, no-any-return]


class UserSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: UserSession) -> UserSession:
        self.session.add(record)
        return record

    def with_user(self, token_hash: str) -> tuple[UserSession, User] | None:
        row = self.session.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == token_hash)
        ).one_or_none()
        return None if row is None else (row[0], row[1])

    def of_user(self, user_id: int) -> list[UserSession]:
        """The user's sessions, the most recently seen first."""
        return list(
            self.session.scalars(
                select(UserSession)
                .where(UserSession.user_id == user_id)
                .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
            )
        )

    def owned(self, user_id: int, session_id: int) -> UserSession | None:
        """One of this user's sessions; another user's session is None, as if absent."""
        return self.session.scalar(
            select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user_id)
        )

    def delete_of_user(self, user_id: int, keep: int | None = None) -> int:
        """End the user's sessions, except the one `keep` names; how many ended."""
        query = delete(UserSession).where(UserSession.user_id == user_id)
        if keep is not None:
            query = query.where(UserSession.id != keep)
        return self.session.execute(query).rowcount  # type: ignore[attr-defined, no-any-return]

    def delete_by_id(self, session_id: int) -> None:
        self.session.execute(delete(UserSession).where(UserSession.id == session_id))

    def delete_expired(
        self, now: datetime, idle: timedelta, longest: timedelta, remember_for: timedelta
    ) -> None:
        """Rows past their limits (the same rule as `UserSession.is_live`), of every user."""
        self.session.execute(
            delete(UserSession).where(
                or_(
                    and_(UserSession.remember, UserSession.created_at <= now - remember_for),
                    and_(
                        ~UserSession.remember,
                        or_(
                            UserSession.created_at <= now - longest,
                            UserSession.last_seen_at <= now - idle,
                        ),
                    ),
                )
            )
        )


def mark_seen(connection: Connection, session_id: int, now: datetime, every: timedelta) -> None:
    """Move a session's "last seen" on, unless it moved within `every` (on a connection of
    its own: the write must not wait on, or hold up, the request's transaction)."""
    connection.execute(
        update(UserSession)
        .where(UserSession.id == session_id)
        .where(UserSession.last_seen_at < now - every)
        .values(last_seen_at=now)
    )
