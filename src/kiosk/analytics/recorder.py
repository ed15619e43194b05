"""The recorder: events wait in memory and are written in batches by a thread of their own.

A page must never wait for, nor fail because of, its analytics. So recording an event is
an append to a bounded in-memory queue; a daemon thread of the process (started on the
first event, and again after a fork: gunicorn's workers fork from a preloaded master)
writes what waits every `INTERVAL_SECONDS`, or at once when `BATCH_SIZE` events wait, in
its own session and transaction, never the request's. A batch that cannot be written is
logged and lost; a full queue drops new events and counts them (`Recorder.dropped`).
A visitor's event waits with its user agent, and the thread leaves out bots' events
before writing (`bots.is_bot`, about a millisecond for a user agent it has not seen yet:
too much for the request); the user agent is never written.
`flush()` writes everything synchronously (tests, the CLI, the end of the process).

Each app has its own recorder (a process normally has one app; the tests make many),
kept in `app.extensions`. The only query a request may cause is the day's salt, once a
day per process (`Recorder.salt`).

Events of a use case (a payment, a refund, a withdrawal) are recorded with
`record_on_commit`: they join the queue only if the use case's transaction commits.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import threading
import weakref
from collections import deque
from datetime import date, timedelta
from typing import Any, TypedDict, Unpack

from flask import Flask, current_app
from sqlalchemy import Engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.analytics.bots import is_bot
from kiosk.analytics.models import EventKind
from kiosk.analytics.repository import RecordingRepository
from kiosk.database import WRITE_OPTION
from kiosk.extensions import db
from kiosk.orm import utcnow

log = logging.getLogger(__name__)

BATCH_SIZE = 500  # events per INSERT
INTERVAL_SECONDS = 2.0  # the longest an event waits in memory while the shop is busy
CAPACITY = 20_000  # events waiting at most (a few MB); more are dropped and counted
EXTENSION = "kiosk.analytics.recorder"
_PENDING = "kiosk.analytics.pending"  # Session.info: events waiting for the commit

Row = dict[str, Any]


class EventFields(TypedDict, total=False):
    """What an event may say besides its kind (the columns of AnalyticsEvent)."""

    product_id: int
    category_id: int | None
    quantity: int
    step: str
    query: str
    results: int


def event_row(kind: EventKind, visitor: str | None = None, **fields: Unpack[EventFields]) -> Row:
    """An event as the row it becomes, stamped now (not when it is written). Every row has
    every column, so that a batch is one INSERT."""
    return {
        "occurred_at": utcnow(),
        "kind": kind.value,
        "visitor": visitor,
        "product_id": fields.get("product_id"),
        "category_id": fields.get("category_id"),
        "quantity": fields.get("quantity"),
        "step": fields.get("step"),
        "query": fields.get("query"),
        "results": fields.get("results"),
    }


class Recorder:
    """The waiting events of one app (one database), and the salt of the day."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dropped = 0
        self._salts: dict[date, bytes] = {}
        self._start_over()
        _every_recorder.add(self)

    def _start_over(self) -> None:
        """Fresh locks, queue and no thread: on creation, and in a forked child, whose
        copies of the parent's locks may be held and whose parent's thread does not run
        (the parent writes its own events)."""
        self._lock = threading.Lock()  # guards the queue and the thread
        self._writing = threading.Lock()  # one writer at a time; flush() waits for it
        self._salt_lock = threading.Lock()
        self._pending: deque[tuple[Row, str | None]] = deque()  # with the user agent
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, row: Row, user_agent: str | None = None) -> None:
        """Queue one event: an append, and a thread start when none runs. With the
        visitor's `user_agent`, the event is written only if that is no bot's."""
        with self._lock:
            if len(self._pending) >= CAPACITY:
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.warning("analytics queue full: %d events dropped so far", self.dropped)
                return
            self._pending.append((row, user_agent))
            if len(self._pending) >= BATCH_SIZE:
                self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="kiosk-analytics", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        """Write what waits every few seconds; end when nothing is left (the next event
        starts a new thread), so an idle process holds no thread."""
        while True:
            self._wake.wait(INTERVAL_SECONDS)
            self._wake.clear()
            self.flush()
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return

    def flush(self) -> int:
        """Write every waiting event now, in batches; returns how many were written.
        Waits for a batch the thread is writing, so afterwards all is in the database."""
        written = 0
        with self._writing:
            while True:
                with self._lock:
                    waiting = [
                        self._pending.popleft() for _ in range(min(BATCH_SIZE, self.pending))
                    ]
                if not waiting:
                    return written
                batch = [row for row, agent in waiting if agent is None or not is_bot(agent)]
                if self._write(batch):
                    written += len(batch)

    def _write(self, batch: list[Row]) -> bool:
        if not batch:
            return True
        try:
            with Session(self.engine) as session, session.begin():
                session.connection(execution_options={WRITE_OPTION: True})
                RecordingRepository(session).add_events(batch)
        except Exception:
            log.exception("%d analytics events could not be written and are lost", len(batch))
            return False
        return True

    def discard(self) -> None:
        """Forget what waits and let the thread end (tests, between two of them)."""
        with self._lock:
            self._pending.clear()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)

    def salt(self, day: date) -> bytes:
        """The salt of `day`, from memory after the first call of the day in this process.

        The first call of a day reads it, or creates it with 32 random bytes if no process
        did yet, and then deletes every older salt, so that older visitor hashes can no
        longer be recomputed from an address. Two processes creating it at once: one
        insert wins, the other reads the winner's salt.
        """
        salt = self._salts.get(day)
        if salt is not None:
            return salt
        with self._salt_lock:
            salt = self._salts.get(day) or self._load_or_create_salt(day)
            self._salts = {d: s for d, s in self._salts.items() if d >= day - timedelta(days=1)}
            self._salts[day] = salt
        return salt

    def _load_or_create_salt(self, day: date) -> bytes:
        with Session(self.engine) as session:  # a plain read: most days another made it
            found = RecordingRepository(session).salt(day)
        if found is not None:
            return found
        for _attempt in range(3):
            try:
                with Session(self.engine) as session, session.begin():
                    session.connection(execution_options={WRITE_OPTION: True})
                    salts = RecordingRepository(session)
                    salt = salts.salt(day)
                    if salt is None:
                        salt = secrets.token_bytes(32)
                        salts.add_salt(day, salt)
                        salts.delete_salts_before(day)
                    return salt
            except IntegrityError:
                continue  # another process stored the day's salt first: read theirs
        raise RuntimeError(f"no analytics salt for {day}")


_every_recorder: weakref.WeakSet[Recorder] = weakref.WeakSet()
_registry_lock = threading.Lock()
_process_hooks_installed = False


def recorder(app: Flask | None = None) -> Recorder:
    """The app's recorder (by default the current app's), made on first use."""
    if app is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    assert app is not None
    found: Recorder | None = app.extensions.get(EXTENSION)
    if found is None:
        with _registry_lock:
            found = app.extensions.get(EXTENSION)
            if found is None:
                _install_process_hooks()
                with app.app_context():
                    found = app.extensions[EXTENSION] = Recorder(db.engine)
    return found


def _install_process_hooks() -> None:
    """Once per process: write what waits at exit, start over in a forked child, and
    hand events over when their transaction commits."""
    global _process_hooks_installed
    if _process_hooks_installed:
        return
    _process_hooks_installed = True
    atexit.register(_flush_every_recorder)
    os.register_at_fork(after_in_child=_start_over_after_fork)
    event.listen(Session, "after_commit", _release_on_commit)
    event.listen(Session, "after_rollback", _forget_on_rollback)


def _flush_every_recorder() -> None:
    for each in list(_every_recorder):
        each.flush()


def discard_every_recorder() -> None:
    """Forget what waits in every app of the process (tests, before their rows are
    wiped: an app a test made aside must not write into the next test's tables)."""
    for each in list(_every_recorder):
        each.discard()


def _start_over_after_fork() -> None:
    for each in list(_every_recorder):
        each._start_over()


def record(kind: EventKind, app: Flask | None = None, **fields: Unpack[EventFields]) -> None:
    """Record an event that has no visitor (a provider confirming a payment); does
    nothing with KIOSK_ANALYTICS off. Visitors' events go through `tracking.track`."""
    target = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if target.config["KIOSK_ANALYTICS"]:
        recorder(target).add(event_row(kind, None, **fields))


def record_on_commit(session: Session, kind: EventKind, **fields: Unpack[EventFields]) -> None:
    """Record an event of the use case running in `session` once its transaction
    commits (without a visitor: also staff and webhooks do these); a rollback forgets it."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["KIOSK_ANALYTICS"]:
        return
    recorder(app)  # installs the commit hooks
    session.info.setdefault(_PENDING, []).append((app, event_row(kind, None, **fields)))


def _release_on_commit(session: Session) -> None:
    for app, row in session.info.pop(_PENDING, ()):
        recorder(app).add(row)


def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def flush(app: Flask | None = None) -> int:
    """Write the app's waiting events now; how many were written."""
    return recorder(app).flush()
