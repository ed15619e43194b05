"""The audit log proves it was not edited: the database refuses changes, every entry is
chained to the one before, and the chain stays one line under concurrent writers."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from kiosk.audit import services as audit
from kiosk.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, shorten_ip
from kiosk.extensions import db
from kiosk.uow import unit_of_work
from tests.tampering import tamper

WRITERS = 20
TRANSACTIONS = 3  # per writer
EVENTS = 2  # per transaction


def _record(count: int = 1) -> None:
    with unit_of_work() as session:
        for number in range(count):
            audit.record(session, "signin.failed", audit.Account(7), reason="password", n=number)


def _record_from(app: Flask, ip: str) -> None:
    """An event recorded while serving a request from `ip`."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": ip}), unit_of_work() as session:
        audit.record(session, "signout", audit.Account(7))


def _entries() -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _verify() -> audit.Verification:
    db.session.rollback()  # a fresh snapshot, as the command has
    return audit.verify_chain(db.session)


COLUMNS = {
    "id": "id = id + 1000",
    "occurred_at": "occurred_at = occurred_at",  # replaced per backend below
    "event": "event = 'signin.ok'",
    "actor_id": "actor_id = 8",
    "subject_id": "subject_id = NULL",
    "details": "details = '{}'",
    "prev_hash": "prev_hash = hash",
    "hash": "hash = prev_hash",
}


def test_every_column_but_the_address_is_guarded() -> None:
    """A new column must join the triggers' list (SQLite's lists the columns)."""
    assert set(COLUMNS) | {"ip_address"} == set(AuditEvent.__table__.columns.keys())


def test_the_database_refuses_to_change_or_delete_an_entry(app: Flask) -> None:
    """Every column but the address, each in its own transaction; then deleting."""
    with app.app_context():
        _record(2)
        sqlite = db.engine.dialect.name == "sqlite"
        later = "'2030-01-01 00:00:00.000000'" if sqlite else "occurred_at + interval '1 second'"
        changes = {**COLUMNS, "occurred_at": f"occurred_at = {later}"}
        for change in changes.values():
            with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
                connection.exec_driver_sql(f"UPDATE audit_event SET {change}")  # noqa: S608
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM audit_event")
        assert len(_entries()) == 2
        assert _verify().intact


def test_shortening_addresses_keeps_the_chain_valid(app: Flask) -> None:
    with app.app_context():
        for ip in ("203.0.113.57", "2001:db8:1:2:3:4:5:6", "::ffff:198.51.100.7", ""):
            _record_from(app, ip)
        with unit_of_work() as session:
            assert audit.shorten_ip_addresses(session, datetime.now(UTC) - timedelta(days=1)) == 0
        with unit_of_work() as session:
            assert (
                audit.shorten_ip_addresses(session, datetime.now(UTC) + timedelta(seconds=1)) == 3
            )
        assert [e.ip_address for e in _entries()] == [
            "203.0.113.0",
            "2001:db8:1::",
            "198.51.100.0",
            "",
        ]
        with unit_of_work() as session:  # shortened twice is shortened once
            assert (
                audit.shorten_ip_addresses(session, datetime.now(UTC) + timedelta(seconds=1)) == 0
            )
        assert _verify().intact
        # Any other change of the address is let through by the triggers, but breaks the chain.
        first = _entries()[0].id
        with db.engine.begin() as connection:
            connection.execute(
                text("UPDATE audit_event SET ip_address = '192.0.2.1' WHERE id = :id"),
                {"id": first},
            )
        result = _verify()
        assert result.broken and result.broken.entry_id == first


def test_shorten_ip_forms() -> None:
    assert shorten_ip("203.0.113.57") == "203.0.113.0"
    assert shorten_ip("2001:db8:abcd:12::1") == "2001:db8:abcd::"
    assert shorten_ip("::ffff:203.0.113.57") == "203.0.113.0"
    assert shorten_ip("not an address") == "not an address"


def test_twenty_concurrent_writers_make_one_linear_chain(app: Flask) -> None:
    """Each writer its own session and transactions; the chain has every entry, once, in
    id order, each linked to the one before."""
    errors: list[str] = []
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        start.wait()
        with app.app_context():
            try:
                for transaction in range(TRANSACTIONS):
                    with unit_of_work() as session:
                        for number in range(EVENTS):
                            audit.record(
                                session,
                                "order.status_changed",
                                audit.Account(writer + 1),
                                writer=writer,
                                transaction=transaction,
                                n=number,
                            )
            except Exception as exc:  # any failure fails the test below
                errors.append(f"writer {writer}: {exc!r}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        entries = _entries()
        assert len(entries) == WRITERS * TRANSACTIONS * EVENTS
        assert entries[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
        assert len({e.hash for e in entries}) == len(entries)
        # A transaction's entries stay together, in the order they were recorded.
        for first, second in zip(entries[::2], entries[1::2], strict=True):
            assert (first.details["n"], second.details["n"]) == (0, 1)
            assert first.details["writer"] == second.details["writer"]
        head = db.session.get(AuditChainHead, 1)
        assert head and (head.last_hash, head.length) == (entries[-1].hash, len(entries))
        result = _verify()
        assert result.intact and result.entries == len(entries)


def test_a_rolled_back_transaction_leaves_no_entry(app: Flask) -> None:
    with app.app_context():
        with pytest.raises(RuntimeError), unit_of_work() as session:
            audit.record(session, "signout", audit.Account(1))
            raise RuntimeError("the change failed")
        _record()
        assert [e.event for e in _entries()] == ["signin.failed"]
        assert _verify().intact


def test_verify_names_the_first_broken_link(app: Flask) -> None:
    """Each tampering in turn, from the end of the log towards its start: verify always
    names the first link that no longer holds."""
    with app.app_context():
        _record(6)
        ids = [e.id for e in _entries()]
        tamper("DELETE FROM audit_event WHERE id = :id", id=ids[5])
        result = _verify()
        assert result.broken and result.broken.entry_id is None
        assert "6 entries" in result.broken.problem and "removed" in result.broken.problem

        tamper("DELETE FROM audit_event WHERE id = :id", id=ids[3])
        result = _verify()
        assert result.broken and result.broken.entry_id == ids[4]
        assert f"hash of entry {ids[2]}" in result.broken.problem

        tamper(
            "UPDATE audit_event SET details = :details WHERE id = :id",
            details='{"reason": "unknown", "n": 1}',
            id=ids[1],
        )
        result = _verify()
        assert result.broken and result.broken.entry_id == ids[1]
        assert "edited" in result.broken.problem
