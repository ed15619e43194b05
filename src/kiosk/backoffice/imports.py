"""CSV imports in the browser: the file the CLI takes, checked first, then written in batches.

Why a job, and why it runs where it does
----------------------------------------
A file of 10,000 products takes tens of seconds to check and to write; a web worker
that did it inside the request would be blocked (gunicorn's sync worker is killed after
30 s). The default shop runs on SQLite under gunicorn with no Redis and no queue, so the
job needs nothing more than the database:

- The upload request stores the file as an `ImportJob` row and starts a daemon thread in
  the same web process (`start`), which checks the file (the dry run) and later, after
  "Apply", writes it. The worker answers other requests meanwhile; the thread holds the
  write lock only for one batch at a time.
- Each batch of `KIOSK_IMPORT_BATCH_ROWS` rows is one transaction, and the job's
  `rows_done` moves in that same transaction. A killed process therefore leaves whole
  batches only, and the job knows where to go on.
- A runner holds the job by a lease (`lease_until`), renewed with every batch, so two
  processes never run the same job. When a process dies, the lease runs out; the next
  look at the job's page starts a new thread (`resume_if_stalled`), which goes on from
  the first uncommitted batch. `flask kiosk work-imports` does the same from a terminal,
  cron or a systemd timer, and is the only runner with `KIOSK_IMPORT_IN_BACKGROUND=0`
  (for set-ups that would rather keep web workers free of long work).

A check starts over when resumed (it writes nothing, and a SKU used twice is found only
by reading every row before it); writing goes on from the last committed batch.

The rules are the CLI's (`catalog.product_csv`, `inventory.product_import`): the same
file is accepted or refused with the same problems. Like the CLI, a file with problems
writes nothing: "Apply" is offered only when the check found none.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.accounts import services as accounts
from kiosk.audit import services as audit
from kiosk.backoffice.models import ImportJob, ImportKind, ImportStatus
from kiosk.backoffice.repository import ImportJobRepository
from kiosk.catalog.product_csv import (
    CATEGORY_COLUMNS,
    PRODUCT_COLUMNS,
    ImportRejected,
    ImportReport,
    Problem,
    ProductChecker,
    ProductRow,
    UnreadableFile,
    check_products,
    decode,
    prepare_pictures,
    read_rows,
    write_categories,
)
from kiosk.inventory.product_import import Preview, preview_products, write_batch
from kiosk.uow import read_session, unit_of_work
from kiosk.validation import without_control

MAX_STORED_PROBLEMS = 200  # shown on the page; all of them are counted
LEASE = timedelta(minutes=2)  # far longer than one batch takes
RECENT_JOBS = 20
COLUMNS = {ImportKind.PRODUCTS: PRODUCT_COLUMNS, ImportKind.CATEGORIES: CATEGORY_COLUMNS}

log = logging.getLogger(__name__)

__all__ = ["UnreadableFile", "apply", "job", "recent", "start", "upload", "work"]


def _now() -> datetime:
    return datetime.now(UTC)


def upload(staff_id: int, kind: ImportKind, filename: str, data: bytes) -> int:
    """Store an uploaded file as a new job and return its id; the check runs later.

    Raises UnreadableFile (one line, for the form) for a binary or undecodable file.
    """
    decoded = decode(data)
    rows, _ = read_rows(io.StringIO(decoded.text, newline=""), COLUMNS[kind])
    with unit_of_work() as session:
        new = ImportJobRepository(session).add(
            ImportJob(
                kind=kind,
                filename=without_control(filename)[:255],
                encoding=decoded.encoding,
                content=data,
                rows_total=len(rows),
                created_by_id=staff_id,
            )
        )
        return new.id


def apply(staff_id: int, job_id: int) -> bool:
    """Mark a checked job without problems for writing; False if it is not one (a second
    submit of the same button finds it applying or done, and changes nothing)."""
    with unit_of_work() as session:
        return ImportJobRepository(session).start_applying(job_id, staff_id)


def job(job_id: int) -> ImportJob | None:
    return ImportJobRepository(read_session()).get(job_id)


def recent() -> list[ImportJob]:
    return list(ImportJobRepository(read_session()).recent(RECENT_JOBS))


# Runners ----------------------------------------------------------------------------

_threads: dict[int, threading.Thread] = {}
_threads_lock = threading.Lock()


def start(job_id: int) -> bool:
    """Run the job in a thread of this process, unless one already does or background
    work is switched off; True if a thread runs it."""
    if not current_app.config["KIOSK_IMPORT_IN_BACKGROUND"]:
        return False
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with _threads_lock:
        for finished in [i for i, t in _threads.items() if not t.is_alive()]:
            del _threads[finished]
        if job_id in _threads:
            return True
        thread = threading.Thread(
            target=_run_in_thread, args=(app, job_id), name=f"kiosk-import-{job_id}", daemon=True
        )
        _threads[job_id] = thread
        thread.start()
    return True


def wait(job_id: int, timeout: float) -> None:
    """Wait for this process's thread of the job, if any, to end (for tests and the bench)."""
    with _threads_lock:
        thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)


def _run_in_thread(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            work(job_id)
        except Exception:
            # The lease stays, so nothing retries at once; after it runs out, the page or
            # `flask kiosk work-imports` resumes the job from its last committed batch.
            log.exception("import job %s stopped; it can resume in %s", job_id, LEASE)


def resume_if_stalled(job_id: int) -> None:
    """Start a runner for a running job that has none (its process died)."""
    current = job(job_id)
    if current is None or not current.status.running:
        return
    lease = current.lease_until
    read_session().rollback()
    if lease is None or lease < _now():
        start(job_id)


def work_stalled(batch_rows: int | None = None) -> list[tuple[int, ImportStatus | None]]:
    """Run every job that waits or lost its runner, one after the other (the command)."""
    with unit_of_work() as session:
        stalled = ImportJobRepository(session).stalled(_now())
    return [(job_id, work(job_id, batch_rows=batch_rows)) for job_id in stalled]


def work(
    job_id: int, *, batch_rows: int | None = None, stop_after: int | None = None
) -> ImportStatus | None:
    """Run the job's next step: check an uploaded file, or write an applied one.

    Returns the status it ended in, or None when another runner holds the job (or it has
    nothing to do). `stop_after` stops after that many batches, where a killed process
    may stop, and lets go of the job, so a test can resume it at once.
    """
    now = _now()
    with unit_of_work() as session:
        if not ImportJobRepository(session).claim(job_id, now, now + LEASE):
            return None
    loaded = job(job_id)
    assert loaded is not None  # a claimed job exists
    runner = _Runner(
        job_id=job_id,
        kind=loaded.kind,
        status=loaded.status,
        data=loaded.content,
        rows_done=loaded.rows_done,
        created_by_id=loaded.created_by_id,
        applied_by_id=loaded.applied_by_id,
        batch=batch_rows or current_app.config["KIOSK_IMPORT_BATCH_ROWS"],
        stop_after=stop_after,
    )
    read_session().rollback()  # let go of the snapshot: the runner writes
    return runner.run()


@dataclass
class _Runner:
    job_id: int
    kind: ImportKind
    status: ImportStatus
    data: bytes
    rows_done: int
    created_by_id: int | None
    applied_by_id: int | None
    batch: int
    stop_after: int | None
    batches: int = 0

    def run(self) -> ImportStatus:
        try:
            text = decode(self.data).text
        except UnreadableFile as unreadable:  # refused at upload; only a changed row gets here
            return self._fail([Problem(1, "-", f"the file {unreadable}")])
        if self.status == ImportStatus.APPLYING:
            return self._apply(text)
        return self._check(text)

    def _rows(self, text: str) -> tuple[list[dict[str, str]], list[Problem]]:
        return read_rows(io.StringIO(text, newline=""), COLUMNS[self.kind])

    def _stop_now(self) -> bool:
        self.batches += 1
        return self.stop_after is not None and self.batches >= self.stop_after

    # Check ----------------------------------------------------------------------------

    def _check(self, text: str) -> ImportStatus:
        rows, problems = self._rows(text)
        self._progress(ImportStatus.CHECKING, 0)
        preview = Preview(problems=problems)
        if self.kind == ImportKind.CATEGORIES:
            self._dry_run_categories(rows, preview)
            return self._checked(preview, len(rows))
        checker = ProductChecker()
        for first in range(0, len(rows), self.batch):
            chunk = rows[first : first + self.batch]
            fine: list[ProductRow] = []
            for number, values in enumerate(chunk, start=first + 2):
                row, row_problems = checker.check(number, values)
                preview.problems += row_problems
                if not row_problems:
                    fine.append(row)
            fine = self._readable(fine, preview)
            preview_products(read_session(), fine, preview)
            read_session().rollback()
            self._progress(ImportStatus.CHECKING, first + len(chunk))
            if first + len(chunk) < len(rows) and self._stop_now():
                return self._release(ImportStatus.CHECKING)
        return self._checked(preview, len(rows))

    def _readable(self, rows: list[ProductRow], preview: Preview) -> list[ProductRow]:
        """The rows whose pictures can be read (their variants are made now, as the
        write will need them); the others are refused."""
        try:
            prepare_pictures(rows)
        except ImportRejected as rejected:
            preview.problems += rejected.problems
            refused = {problem.row for problem in rejected.problems}
            return [row for row in rows if row.row not in refused]
        return rows

    def _dry_run_categories(self, rows: list[dict[str, str]], preview: Preview) -> None:
        """Write the categories and roll back: categories build on the rows above them."""
        try:
            with unit_of_work() as session:
                report, problems = write_categories(session, rows)
                raise _DryRun(report, problems)
        except _DryRun as dry_run:
            preview.problems += dry_run.problems
            preview.created = dry_run.report.created
            preview.changed = dry_run.report.updated

    def _checked(self, preview: Preview, total: int) -> ImportStatus:
        problems = sorted(preview.problems, key=lambda p: (p.row, p.column))
        refused = len({p.row for p in problems if p.row > 1})
        with unit_of_work() as session:
            current = self._job(session)
            current.status = ImportStatus.CHECKED
            current.rows_total = current.rows_done = total
            current.created_count = preview.created
            current.changed_count = preview.changed
            current.unchanged_count = preview.unchanged
            current.refused_count = refused
            current.problem_count = len(problems)
            current.problems = [[p.row, p.column, p.reason] for p in problems][:MAX_STORED_PROBLEMS]
            current.lease_until = None
            self._audit(session, "import.checked", self.created_by_id, current)
        return ImportStatus.CHECKED

    # Apply ----------------------------------------------------------------------------

    def _apply(self, text: str) -> ImportStatus:
        rows, problems = self._rows(text)
        if self.kind == ImportKind.CATEGORIES:
            return self._apply_categories(rows, problems)
        parsed, row_problems = check_products(rows)
        if problems or row_problems:  # the media folder changed since the check
            return self._fail(problems + row_problems)
        report = ImportReport()
        for first in range(self.rows_done, len(parsed), self.batch):
            chunk = parsed[first : first + self.batch]
            done = first + len(chunk)
            try:
                described = prepare_pictures(chunk)  # before the transaction: takes a while
                with unit_of_work() as session:
                    write_batch(session, chunk, described, report)
                    self._advance(session, done, finished=done == len(parsed))
            except ImportRejected as rejected:  # the shop changed since the check
                return self._fail(rejected.problems)
            except IntegrityError:
                reason = f"the database refused rows {first + 2} to {done + 1}; check again"
                return self._fail([Problem(first + 2, "-", reason)])
            if done < len(parsed) and self._stop_now():
                return self._release(ImportStatus.APPLYING)
        if not parsed:
            with unit_of_work() as session:
                self._advance(session, 0, finished=True)
        return ImportStatus.DONE

    def _apply_categories(
        self, rows: list[dict[str, str]], problems: list[Problem]
    ) -> ImportStatus:
        """One transaction: a category file is short, and its rows build on each other."""
        try:
            with unit_of_work() as session:
                _, row_problems = write_categories(session, rows)
                if problems or row_problems:
                    raise ImportRejected(problems + row_problems)
                self._advance(session, len(rows), finished=True)
        except ImportRejected as rejected:
            return self._fail(rejected.problems)
        return ImportStatus.DONE

    def _advance(self, session: Session, done: int, finished: bool) -> None:
        current = self._job(session)
        current.rows_done = done
        current.lease_until = None if finished else _now() + LEASE
        if finished:
            current.status = ImportStatus.DONE
            current.finished_at = _now()
            self._audit(session, "import.applied", self.applied_by_id, current)

    # Bookkeeping ----------------------------------------------------------------------

    def _job(self, session: Session) -> ImportJob:
        found = ImportJobRepository(session).get(self.job_id)
        assert found is not None
        return found

    def _progress(self, status: ImportStatus, done: int) -> None:
        with unit_of_work() as session:
            current = self._job(session)
            current.status = status
            current.rows_done = done
            current.lease_until = _now() + LEASE

    def _release(self, status: ImportStatus) -> ImportStatus:
        """Stop between two batches and let the next runner take the job at once."""
        with unit_of_work() as session:
            self._job(session).lease_until = None
        return status

    def _fail(self, problems: list[Problem]) -> ImportStatus:
        problems = sorted(problems, key=lambda p: (p.row, p.column))
        with unit_of_work() as session:
            current = self._job(session)
            current.status = ImportStatus.FAILED
            current.problem_count = len(problems)
            current.problems = [[p.row, p.column, p.reason] for p in problems][:MAX_STORED_PROBLEMS]
            current.finished_at = _now()
            current.lease_until = None
        return ImportStatus.FAILED

    def _audit(
        self, session: Session, event: str, staff_id: int | None, current: ImportJob
    ) -> None:
        audit.record(
            session,
            event,
            actor=accounts.find_user(session, staff_id) if staff_id else None,
            job=current.id,
            kind=current.kind.value,  # the file's name, free text, stays with the job
            rows=current.rows_total,
            created=current.created_count,
            changed=current.changed_count,
            unchanged=current.unchanged_count,
            refused=current.refused_count,
            problems=current.problem_count,
        )


class _DryRun(Exception):
    """Rolls back a dry run's unit of work, carrying what it would have done."""

    def __init__(self, report: ImportReport, problems: list[Problem]) -> None:
        super().__init__("dry run")
        self.report = report
        self.problems = problems
