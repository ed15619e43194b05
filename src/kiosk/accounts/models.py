"""People with an account (shoppers and staff), their addresses, 2FA recovery codes and
signed-in sessions."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kiosk.orm import Base, UTCDateTime, utcnow


def normalise_email(email: str) -> str:
    """How an address is stored and compared: trimmed, lower-cased."""
    return email.strip().lower()


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return {"customer": 0, "staff": 1, "owner": 2}[self.value]


def _role_type() -> Enum:
    """A role is stored as its value ("staff"), not as a native enum type."""
    return Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (trimmed, lower-cased), so uniqueness holds on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    locale: Mapped[str] = mapped_column(String(8), default="de")
    role: Mapped[Role] = mapped_column(_role_type(), default=Role.CUSTOMER)
    is_active: Mapped[bool] = mapped_column(default=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of the login id kept in sessions and remember-me cookies: raising it
    # signs the user out everywhere (password change or reset).
    session_version: Mapped[int] = mapped_column(default=1)
    # Encrypted (`kiosk.encryption`, keys from KIOSK_DATA_KEYS): a Fernet token of
    # about 140 characters for pyotp's 32-character secret.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last TOTP time step used, so a code can never be used twice.
    totp_last_step: Mapped[int | None]
    marketing_opt_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marketing_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    addresses: Mapped[list[Address]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Address.id"
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_staff(self) -> bool:
        return self.role.rank >= Role.STAFF.rank

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Address(Base):
    __tablename__ = "address"
    __table_args__ = (CheckConstraint("length(country) = 2", name="country_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    company: Mapped[str] = mapped_column(String(120), default="")
    street: Mapped[str] = mapped_column(String(200))
    extra: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2), default="DE")
    phone: Mapped[str] = mapped_column(String(40), default="")
    is_default_shipping: Mapped[bool] = mapped_column(default=False)
    is_default_billing: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="addresses")

    @property
    def lines(self) -> list[str]:
        lines = [
            self.name,
            self.company,
            self.street,
            self.extra,
            f"{self.postal_code} {self.city}",
            self.country,
        ]
        return [line for line in lines if line]


class RecoveryCode(Base):
    """A single-use 2FA recovery code, stored as a SHA-256 hash (codes are random, 50 bits)."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class UserSession(Base):
    """Signed-in sessions, one row per device, so signing out ends a session on the server.

    The browser holds a random secret (in Flask's signed session cookie and in the
    remember-me cookie); the row holds only its SHA-256, so a copy of the database
    opens no session. Deleting the row ends both cookies at once.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "Stay signed in": the remember-me cookie may start new cookie sessions until
    # KIOSK_REMEMBER_DAYS after sign-in, so the idle limit does not apply to the row.
    remember: Mapped[bool] = mapped_column(default=False)
    # What the User-Agent said, for the list of sessions ("Firefox", "Linux"); no IP address.
    browser: Mapped[str] = mapped_column(String(40), default="")
    system: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def is_live(
        self, now: datetime, idle: timedelta, longest: timedelta, remember_for: timedelta
    ) -> bool:
        """Within the idle and absolute limits (remembered sessions: within remember_for)."""
        if self.remember:
            return now < self.created_at + remember_for
        return now < self.created_at + longest and now < self.last_seen_at + idle

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"


class CustomerNote(Base):
    """What staff wrote down about a customer (a call, an arrangement); never shown to them."""

    __tablename__ = "customer_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # The staff member who wrote it; the note stays when their account goes.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class StaffInvitation(Base):
    """An owner's invitation to join the team, mailed as a signed link.

    Only the SHA-256 of the link's token is kept, so a copy of the database
    accepts no invitation. It is good once (`used_at`), until `expires_at`,
    unless the owner withdrew it (`revoked_at`).
    """

    __tablename__ = "staff_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[Role] = mapped_column(_role_type())
    # The language of the mail and of the account made from it.
    locale: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invited_by: Mapped[User | None] = relationship()

    def is_pending(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at
