"""Backups of everything a shop cannot lose, and putting one back.

A plain copy of the SQLite file while the shop runs is not a backup: the last
commits may still sit in the write-ahead log beside it (a copy taken that way
held 304 of 308 orders). So the database is copied by the database itself, as
one consistent snapshot taken while orders keep coming in: SQLite's online
backup API, or `pg_dump` inside a snapshot exported by our own transaction, in
which the manifest's counts and migration revision are read too.

An archive (`kiosk-backup-<UTC time>.tar.gz`, readable only by its owner: it
holds customers' data) contains

    manifest.json            what is inside: backend, revision, counts
    database.sqlite3         or database.pgdump (pg_dump's custom format)
    media/…                  product pictures (KIOSK_MEDIA_DIR)
    instance/secret_key      the generated key, where there is one (development)
    config/shipping.toml     the shipping file in use, for reference

Invoices and credit notes are in the database (the PDF and its digest), as is
the mail outbox. Settings from the environment (SECRET_KEY in production,
DATABASE_URL, Stripe keys) are not in the archive: the owner keeps them.

A restore puts back the database and the pictures. It refuses a database (or a
picture folder) that holds anything unless told to replace it, and a backup
from a newer version of the code; an older one is migrated after the restore.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import Connection, create_engine, inspect
from sqlalchemy.engine import URL

from kiosk.audit.models import APPEND_ONLY_FUNCTION
from kiosk.config import PROJECT_ROOT
from kiosk.extensions import db
from kiosk.operations import queries
from kiosk.operations.health import migration_heads
from kiosk.orm import Base

FORMAT = 1
PREFIX = "kiosk-backup-"
SUFFIX = ".tar.gz"
_ARCHIVE_NAME = re.compile(r"^kiosk-backup-\d{8}T\d{6}\.\d{6}Z\.tar\.gz$")
MANIFEST = "manifest.json"
DATABASE = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA = "media"
SECRET_KEY = "instance/secret_key"  # noqa: S105  (a file name in the archive)
SHIPPING = "config/shipping.toml"


class BackupError(RuntimeError):
    """A backup or restore cannot go on; the message says why, in one line."""


class DatabaseNotEmpty(BackupError):
    """The restore would replace data, and nobody said that is wanted."""


@dataclass(frozen=True)
class Manifest:
    format: int
    created_at: str
    backend: str
    revision: tuple[str, ...]
    orders: int
    products: int
    customers: int
    media_files: int
    secret_key: bool

    @property
    def contents(self) -> str:
        return (
            f"{self.orders} orders, {self.products} products, {self.customers} accounts, "
            f"{self.media_files} picture files"
        )

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            fields = json.loads(raw)
            fields["revision"] = tuple(fields["revision"])
            manifest = cls(**fields)
        except (ValueError, TypeError, KeyError) as exc:
            raise BackupError(f"the archive's manifest is not readable ({exc})") from exc
        if manifest.format != FORMAT:
            raise BackupError(
                f"unknown archive format {manifest.format} (this code reads {FORMAT})"
            )
        return manifest


@dataclass(frozen=True)
class BackupReport:
    path: Path
    manifest: Manifest
    removed: list[Path]


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    migrated_from: tuple[str, ...] | None  # the backup's revision, when it was upgraded
    notes: list[str]


@dataclass(frozen=True)
class _Snapshot:
    revision: tuple[str, ...]
    orders: int
    products: int
    customers: int


# --- Backup ---------------------------------------------------------------------------------


def create_backup(directory: Path, keep: int) -> BackupReport:
    """Write one archive into `directory`, then keep only the newest `keep` (0: all)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    final = directory / f"{PREFIX}{now:%Y%m%dT%H%M%S.%f}Z{SUFFIX}"
    backend = _backend()
    media_dir = Path(current_app.config["KIOSK_MEDIA_DIR"])
    secret_key_file = Path(current_app.instance_path) / "secret_key"
    with tempfile.TemporaryDirectory(dir=directory, prefix=".kiosk-backup-") as work:
        dump = Path(work) / DATABASE[backend]
        snapshot = _dump_sqlite(dump) if backend == "sqlite" else _dump_postgresql(dump)
        media = sorted(p for p in media_dir.rglob("*") if p.is_file()) if media_dir.is_dir() else []
        manifest = Manifest(
            format=FORMAT,
            created_at=now.isoformat(),
            backend=backend,
            revision=snapshot.revision,
            orders=snapshot.orders,
            products=snapshot.products,
            customers=snapshot.customers,
            media_files=len(media),
            secret_key=secret_key_file.is_file(),
        )
        partial = Path(work) / "archive.partial"
        # Customers' data and password hashes: readable by the owner only.
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_bytes(tar, MANIFEST, manifest.to_json())
                tar.add(dump, arcname=DATABASE[backend])
                for path in media:
                    tar.add(path, arcname=f"{MEDIA}/{path.relative_to(media_dir).as_posix()}")
                if manifest.secret_key:
                    tar.add(secret_key_file, arcname=SECRET_KEY)
                if (shipping := _shipping_file()).is_file():
                    tar.add(shipping, arcname=SHIPPING)
            raw.flush()
            os.fsync(raw.fileno())
        # Complete or absent: rotation and restore never see half an archive.
        os.replace(partial, final)
    return BackupReport(final, manifest, rotate(directory, keep))


def list_backups(directory: Path) -> list[Path]:
    """The archives in `directory`, oldest first (their names sort by time)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _ARCHIVE_NAME.match(p.name) and p.is_file())


def rotate(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives (0 keeps all); return what was deleted."""
    if keep <= 0:
        return []
    old = list_backups(directory)[:-keep]
    for path in old:
        path.unlink()
    return old


def _backend() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE:
        raise BackupError(f"backups of {name} databases are not supported")
    return name


def _shipping_file() -> Path:
    path = Path(current_app.config["KIOSK_SHIPPING_FILE"])
    return path if path.is_absolute() else PROJECT_ROOT / path


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"not a SQLite file: {db.engine.url}")
    return Path(database)


def _dump_sqlite(target: Path) -> _Snapshot:
    """Copy the live database, WAL included, in one step: one read snapshot, writers go on."""
    source_path = _sqlite_path()
    if not source_path.is_file():
        raise BackupError(f"the database {source_path} does not exist")
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # pages=-1: all at once, so concurrent writes cannot restart it
        # A file that stands alone: no WAL beside it.
        if (check := queries.stand_alone(copy)) != "ok":
            raise BackupError(f"the copy of the database is damaged: {check}")
    finally:
        copy.close()
        source.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return _connection_snapshot(connection)
    finally:
        engine.dispose()


def _connection_snapshot(connection: Connection) -> _Snapshot:
    if not inspect(connection).has_table(queries.ALEMBIC_TABLE):
        raise BackupError("the database has no Kiosk schema; run flask db upgrade")
    return _Snapshot(
        revision=queries.revision(connection),
        orders=queries.count(connection, "customer_order"),
        products=queries.count(connection, "product"),
        customers=queries.count(connection, "user_account"),
    )


def pg_connection(url: URL) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump, psql and pg_restore without its password, which goes into their
    environment instead: a command line is readable by every user of the machine (ps)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    env.setdefault("PGAPPNAME", "kiosk-backup")
    plain = URL.create(  # URL.set() cannot remove the password: None there means "keep"
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    )
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603  (our own arguments)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else result.returncode}")


def _dump_postgresql(target: Path) -> _Snapshot:
    """pg_dump inside the snapshot of our own REPEATABLE READ transaction, so the counts and
    the revision in the manifest describe exactly what the dump holds."""
    dsn, env = pg_connection(db.engine.url)
    command = [_pg_tool("pg_dump"), "--format=custom", f"--file={target}"]
    connect = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with connect as connection, connection.begin():
        snapshot_id = queries.export_snapshot(connection)
        snapshot = _connection_snapshot(connection)
        _run([*command, f"--snapshot={snapshot_id}", f"--dbname={dsn}"], env, "pg_dump")
    return snapshot


# --- Restore --------------------------------------------------------------------------------


def restore_backup(archive: Path, replace: bool) -> RestoreReport:
    """Put the archive's database and pictures in place of the configured ones."""
    backend = _backend()
    media_dir = Path(current_app.config["KIOSK_MEDIA_DIR"])
    with _open_archive(archive) as tar, tempfile.TemporaryDirectory() as work:
        manifest = Manifest.from_json(_read(tar, MANIFEST))
        if manifest.backend != backend:
            raise BackupError(
                f"this is a backup of a {manifest.backend} database; the shop is configured "
                f"for {backend} (DATABASE_URL)"
            )
        behind = _check_revision(manifest.revision)
        if not replace:
            _refuse_if_holding_data(media_dir)
        dump = Path(work) / DATABASE[backend]
        _extract_file(tar, DATABASE[backend], dump)
        db.session.remove()
        db.engine.dispose()  # our pooled connections must not hold the old database open
        if backend == "sqlite":
            _restore_sqlite(dump)
        else:
            _restore_postgresql(dump)
        _replace_media(tar, media_dir)
        notes = _restore_instance_files(tar)
    if behind:
        upgrade()
    with db.engine.connect() as connection:
        restored = _connection_snapshot(connection)
    if restored.orders != manifest.orders:
        raise BackupError(
            f"the database now holds {restored.orders} orders, the backup {manifest.orders}"
        )
    return RestoreReport(manifest, manifest.revision if behind else None, notes)


@contextmanager
def _open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            yield tar
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{path} is not a Kiosk backup archive ({exc})") from exc


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    with _member(tar, name) as handle:
        return handle.read()


@contextmanager
def _member(tar: tarfile.TarFile, name: str) -> Iterator[IO[bytes]]:
    try:
        member = tar.getmember(name)
    except KeyError as exc:
        raise BackupError(f"the archive has no {name}") from exc
    handle = tar.extractfile(member) if member.isfile() else None
    if handle is None:
        raise BackupError(f"{name} in the archive is not a file")
    with handle:
        yield handle


def _extract_file(tar: tarfile.TarFile, name: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with _member(tar, name) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)


def _check_revision(revision: tuple[str, ...]) -> bool:
    """True when the backup is from an older schema that this code can upgrade."""
    heads = migration_heads()
    if frozenset(revision) == heads:
        return False
    scripts = ScriptDirectory(str(PROJECT_ROOT / "migrations"))
    try:
        known = all(scripts.get_revision(r) is not None for r in revision)
    except CommandError:
        known = False
    if not revision or not known:
        raise BackupError(
            f"the backup's database is at revision {', '.join(revision) or 'none'}, which this "
            f"version of Kiosk does not know (it is at {', '.join(sorted(heads))}); restore it "
            "with the version that made it"
        )
    return True


def _refuse_if_holding_data(media_dir: Path) -> None:
    with db.engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        tables = [table for table in Base.metadata.sorted_tables if table.name in present]
        holding = queries.holding_rows(connection, tables)
    db.session.remove()
    if holding:
        raise DatabaseNotEmpty(
            f"the database already holds data (in {', '.join(sorted(holding)[:5])}"
            f"{' …' if len(holding) > 5 else ''}); add --yes to replace it with the backup"
        )
    if media_dir.is_dir() and any(media_dir.iterdir()):
        raise DatabaseNotEmpty(
            f"the picture folder {media_dir} is not empty; add --yes to replace it with the backup"
        )


def _restore_sqlite(dump: Path) -> None:
    """Copy the backup into the database file page by page, as one transaction on it."""
    target = _sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dump)
    destination = sqlite3.connect(target, timeout=30)
    try:
        source.backup(destination)
        queries.write_ahead(destination)
    finally:
        destination.close()
        source.close()


def _restore_postgresql(dump: Path) -> None:
    """Drop the shop's tables and load the dump, as one transaction (psql --single-transaction),
    so a failed restore leaves the database as it was."""
    dsn, env = pg_connection(db.engine.url)
    tables = [queries.ALEMBIC_TABLE, *(t.name for t in Base.metadata.sorted_tables)]
    drop = "".join(f'DROP TABLE IF EXISTS "{name}" CASCADE;\n' for name in tables)
    # The audit log's trigger function outlives its table; the dump creates it again.
    drop += f"DROP FUNCTION IF EXISTS {APPEND_ONLY_FUNCTION}() CASCADE;\n"
    script = subprocess.Popen(  # noqa: S603  (the dump as SQL, into psql's standard input)
        [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(dump)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert script.stdout is not None
    psql = [
        _pg_tool("psql"),
        "--no-psqlrc",
        "--quiet",
        "--single-transaction",
        "--set=ON_ERROR_STOP=1",
        f"--command={drop}",
        "--file=-",
        f"--dbname={dsn}",
    ]
    result = subprocess.run(psql, env=env, stdin=script.stdout, capture_output=True, text=True)  # noqa: S603
    script.stdout.close()
    _, errors = script.communicate()
    if script.returncode != 0:
        raise BackupError(f"pg_restore failed: {errors.decode(errors='replace').strip()}")
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise BackupError(f"loading the dump failed: {detail[-1] if detail else result.returncode}")


def _replace_media(tar: tarfile.TarFile, media_dir: Path) -> None:
    """The pictures of the backup, and no others (the folder may be a mount point: it stays)."""
    media_dir.mkdir(parents=True, exist_ok=True)
    for entry in media_dir.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    root = media_dir.resolve()
    for member in tar.getmembers():
        if not member.name.startswith(f"{MEDIA}/") or not member.isfile():
            continue
        target = (root / member.name.removeprefix(f"{MEDIA}/")).resolve()
        if not target.is_relative_to(root):
            raise BackupError(f"the archive names a file outside the picture folder: {member.name}")
        _extract_file(tar, member.name, target)


def _restore_instance_files(tar: tarfile.TarFile) -> list[str]:
    notes: list[str] = []
    names = set(tar.getnames())
    key_file = Path(current_app.instance_path) / "secret_key"
    if SECRET_KEY in names:
        key = _read(tar, SECRET_KEY)
        if not key_file.is_file() or key_file.read_bytes() != key:
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_bytes(key)
            key_file.chmod(0o600)
            notes.append(f"restored the generated secret key to {key_file}; restart the shop")
    if SHIPPING in names:
        shipping = _shipping_file()
        if not shipping.is_file() or shipping.read_bytes() != _read(tar, SHIPPING):
            notes.append(
                f"the backup's shipping file differs from {shipping}; to use it: "
                f"tar -xzf ARCHIVE {SHIPPING}"
            )
    return notes
