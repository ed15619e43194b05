"""The audit log: an append-only, hash-chained record of security-relevant events.

Append-only is enforced by the database (triggers of migration 0016_audit_chain refuse
UPDATE and DELETE; the one update let through changes nothing but `ip_address`, which the
retention job shortens). Each entry also carries the SHA-256 of its canonical content
and of the entry before it, so an edit made behind the triggers' back (a superuser who
drops them) breaks the chain at that entry: `flask kiosk audit-verify` names it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.orm import Base, UTCDateTime, utcnow

# The `prev_hash` of the first entry: there is no entry before it.
GENESIS_HASH = "0" * 64
# The PostgreSQL function behind the append-only triggers (a restore drops it with the tables).
APPEND_ONLY_FUNCTION = "audit_event_append_only"


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(60), index=True)
    # Who acted, and whom it concerns (a staff member changing a customer's role). Plain
    # ids, not foreign keys: the log is append-only and outlives an erased account, whose
    # id then points at nothing (a foreign key would have to set it to NULL, an update).
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The chain: the previous entry's `hash`, and SHA-256 over this entry's canonical content.
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def content_hash(self) -> str:
        """What `hash` must be for the entry's fields as they are now."""
        return chain_hash(
            self.prev_hash,
            occurred_at=self.occurred_at,
            event=self.event,
            actor_id=self.actor_id,
            subject_id=self.subject_id,
            ip_address=self.ip_address,
            details=self.details,
        )


class AuditChainHead(Base):
    """The chain's one row: the last entry's hash and the number of entries.

    Appending locks this row (SELECT … FOR UPDATE), so concurrent writers chain one after
    the other; and `audit-verify` compares it with the last entry, which notices entries
    cut off at the end of the log, where no later link would break.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(Integer)


def shorten_ip(address: str) -> str:
    """The address as the retention job leaves it: the network's first address, IPv4 to
    its /24 ("203.0.113.57" -> "203.0.113.0"), IPv6 to its /48 ("2001:db8:1::"), and an
    IPv4-mapped IPv6 address as IPv4. Shortening a shortened address changes nothing;
    what is no address (empty, unparsable) stays as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def canonical_time(moment: datetime) -> str:
    """ISO-8601 in UTC with microseconds, as both databases give the time back."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: one byte string for one content."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def chain_hash(
    prev_hash: str,
    *,
    occurred_at: datetime,
    event: str,
    actor_id: int | None,
    subject_id: int | None,
    ip_address: str,
    details: dict[str, Any],
) -> str:
    """SHA-256 (hex) over the canonical JSON of an entry and its predecessor's hash.

    The address is hashed shortened, so the retention job's shortening keeps the chain
    valid, while any other change of the address (or of anything else) breaks it.
    """
    content = {
        "prev_hash": prev_hash,
        "occurred_at": canonical_time(occurred_at),
        "event": event,
        "actor_id": actor_id,
        "subject_id": subject_id,
        "ip_address": shorten_ip(ip_address),
        "details": details,
    }
    return hashlib.sha256(canonical_json(content)).hexdigest()
