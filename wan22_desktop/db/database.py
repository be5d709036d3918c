"""Opening the database: the one entry point every other part uses.

``open_database`` accepts a file path (SQLite) or a SQLAlchemy URL, checks the file before touching
it, backs it up and migrates it, and returns a ``Database`` whose sessions commit on success and
roll back on error. SQLite lock contention is retried a bounded number of times, then reported
as one clear ``OperationError``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from wan22_desktop.db import postgres, sqlite
from wan22_desktop.errors import OperationError
from wan22_desktop.paths import AppPaths

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_HINT = (
    "another Wan22 Desktop window, runner or tool is writing to this data folder; "
    "wait for it or close it, then try again"
)
CORRUPT_HINT = (
    "the file was left untouched; move it aside or restore a *.backup-* copy from the "
    "same folder, then start again (a new, empty database will be created)"
)


_reconnect = threading.local()  # per thread: how long transact() waits for a server to return
RECONNECT_FIRST_PAUSE_S = 0.25
RECONNECT_MAX_PAUSE_S = 5.0


class DatabaseBusyError(OperationError):
    """SQLite stayed locked by another process through the busy timeout and every retry."""


class DatabaseUnreachableError(OperationError):
    """A database server (PostgreSQL) could not be reached, or dropped the connection."""


@dataclass
class Database:
    """An open database. Thread-safe: each ``session()`` takes its own pooled connection."""

    engine: Engine
    path: Path | None = None  # the SQLite file, None for other URLs
    lock_retries: int = 3
    retry_pause_s: float = 0.05
    # One runner of a ``queue run --gpu-mode throughput`` group on SQLite: it shares the queue
    # with its siblings (own lease each), while their supervisor holds the data folder's lease.
    several_runners: bool = False
    _sessions: sessionmaker[Session] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Objects stay readable after commit so callers (GUI, CLI) can use them as snapshots.
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def label(self) -> str:
        return str(self.path) if self.path else self.engine.url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return sqlite.is_sqlite(self.engine)

    @property
    def shared(self) -> bool:
        """A queue several runners work at once, each with its own lease (PostgreSQL); SQLite
        keeps one runner per data folder (ADR 0002, ADR 0011), or one group of per-GPU runners
        under a supervisor that holds its lease (``several_runners``, ADR 0022)."""
        return self.several_runners or postgres.is_postgres(self.engine)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on error. ``write=True`` takes SQLite's
        write lock at the start, so a busy database waits (busy timeout) instead of failing."""
        s = self._sessions()
        try:
            if write and self.is_sqlite:
                s.connection(execution_options=sqlite.write_execution_options())
            yield s
            s.commit()
        except BaseException as exc:
            s.rollback()
            if isinstance(exc, OperationalError) and sqlite.is_locked_error(exc):
                raise self.busy_error() from exc
            if self.shared and _lost_server(exc):
                raise self.unreachable_error(exc) from exc
            raise
        finally:
            s.close()

    def transact(self, fn: Callable[[Session], T], *, write: bool = True) -> T:
        """Run ``fn`` in a session, retrying the whole unit when SQLite reports a lock, and, inside
        a ``reconnect_window``, while a database server is unreachable."""
        window = getattr(_reconnect, "seconds", 0.0)
        started = time.monotonic()
        pause = RECONNECT_FIRST_PAUSE_S
        attempt = 0
        while True:
            try:
                with self.session(write=write) as s:
                    return fn(s)
            except DatabaseBusyError:
                if attempt >= self.lock_retries:
                    raise
                log.warning("database busy (attempt %d of %d)", attempt + 1, self.lock_retries + 1)
                time.sleep(self.retry_pause_s * (2**attempt))
                attempt += 1
            except DatabaseUnreachableError as exc:
                waited = time.monotonic() - started
                if waited + pause > window:
                    raise
                log.warning("%s; retrying in %.1f s", exc.message, pause)
                time.sleep(pause)
                pause = min(pause * 2, RECONNECT_MAX_PAUSE_S)

    @contextmanager
    def reconnect_window(self, seconds: float) -> Iterator[None]:
        """In this thread, ride out a database server that is away (restart, network cut) for up
        to ``seconds``: each unit of work is retried with backoff. The runner uses it so a job
        keeps rendering through an outage; the GUI and the CLI fail fast instead. Units of work
        that may be retried after their commit was lost are written to be idempotent."""
        previous = getattr(_reconnect, "seconds", 0.0)
        _reconnect.seconds = seconds
        try:
            yield
        finally:
            _reconnect.seconds = previous

    def read(self, fn: Callable[[Session], T]) -> T:
        return self.transact(fn, write=False)

    def busy_error(self) -> DatabaseBusyError:
        return DatabaseBusyError(
            f"the database {self.label} is busy (locked by another process)", hint=BUSY_HINT
        )

    def unreachable_error(self, exc: BaseException) -> DatabaseUnreachableError:
        detail = [line.strip() for line in str(getattr(exc, "orig", exc)).splitlines()]
        why = next((line for line in detail if line), type(exc).__name__)
        return DatabaseUnreachableError(
            f"the database {self.label} is unreachable: {why}", hint=postgres.UNREACHABLE_HINT
        )

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_database(
    path_or_url: str | os.PathLike[str] | URL,
    *,
    create: bool = True,
    migrate_to: str = "head",
    busy_timeout_s: float = 5.0,
    lock_retries: int = 3,
) -> Database:
    """Open (and create/migrate) a database from a file path or a SQLAlchemy URL.

    ``migrate_to`` exists for tests of old schemas; the app always wants "head".
    """
    url, path = _resolve(path_or_url)
    kind = url.drivername if isinstance(url, URL) else url
    if kind.startswith("sqlite") and (problem := sqlite.library_problem()):
        raise OperationError(
            problem,
            hint="use a newer Python (3.11+ builds from python.org ship "
            "a recent SQLite) or the packaged app",
        )
    if path is not None:
        _check_file(path, create=create)
    engine = create_engine(
        url,
        connect_args=_connect_args(kind, busy_timeout_s),
        # A server may restart between two uses of a pooled connection: test it first.
        pool_pre_ping=not kind.startswith("sqlite"),
    )
    if sqlite.is_sqlite(engine):
        sqlite.configure_engine(engine, busy_timeout_s=busy_timeout_s)
    db = Database(engine=engine, path=path, lock_retries=lock_retries)
    try:
        _migrate(db, migrate_to)
    except BaseException:
        engine.dispose()
        raise
    return db


def open_app_database(paths: AppPaths, **kwargs: object) -> Database:
    """The data dir's database: the shared one set with ``wan22 db use`` (password from the OS
    keyring), else its own SQLite file (``paths.database``), creating folders as needed."""
    from wan22_desktop.db import location

    paths.check_usable()  # "is a file" / "read-only", not a low-level error or a corrupt-db hint
    paths.data.mkdir(parents=True, exist_ok=True)
    return open_database(location.configured(paths), **kwargs)  # type: ignore[arg-type]


def _resolve(path_or_url: str | os.PathLike[str] | URL) -> tuple[str | URL, Path | None]:
    if isinstance(path_or_url, URL):  # with a password from the keyring: never made a string
        return path_or_url, None
    raw = os.fspath(path_or_url)
    if postgres.is_postgres_url(raw):
        return postgres.driver_url(raw), None
    if "://" in raw:
        if raw.startswith("sqlite:///") and raw != "sqlite:///:memory:":
            return raw, Path(raw[len("sqlite:///") :])
        return raw, None
    path = Path(raw).expanduser()
    return f"sqlite:///{path}", path


def _connect_args(url: str, busy_timeout_s: float) -> dict[str, object]:
    # pysqlite's own timeout is the busy timeout at connect time (before our pragma runs).
    if url.startswith("sqlite"):
        return {"timeout": busy_timeout_s}
    if postgres.is_postgres_url(url):
        return {"connect_timeout": max(1, int(busy_timeout_s * 2))}
    return {}


def _check_file(path: Path, *, create: bool) -> None:
    why = sqlite.check_sqlite_file(path)
    if why:
        raise OperationError(f"cannot open the database {path}: {why}", hint=CORRUPT_HINT)
    if not path.exists():
        if not create:
            raise OperationError(
                f"there is no database at {path}",
                hint="check the path, or --home, or let the app create one",
            )
        path.parent.mkdir(parents=True, exist_ok=True)


# The newest schema revision; a test keeps it equal to Alembic's head. Opening a database that is
# already there skips importing Alembic (about 0.2 s of every app and CLI start).
HEAD_REVISION = "0006"


def _schema_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        if not conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
            if db.engine.dialect.name == "sqlite"
            else "SELECT 1 FROM information_schema.tables WHERE table_name='alembic_version'"
        ).first():
            return None
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return row[0] if row else None


def _migrate(db: Database, target: str) -> None:
    try:
        if target == "head" and _schema_revision(db) == HEAD_REVISION:
            return
        from wan22_desktop.db import migrate  # alembic is slow to import: only when migrating

        if not migrate.needs_upgrade(db.engine, target):
            return
        if (
            db.path is not None
            and db.path.exists()
            and db.path.stat().st_size > 0
            and migrate.has_user_tables(db.engine)
        ):
            migrate.backup_sqlite(db.path)
        migrate.upgrade(db.engine, target)
    except OperationalError as exc:
        if sqlite.is_locked_error(exc):
            raise db.busy_error() from exc
        if postgres.is_connection_error(exc):
            raise db.unreachable_error(exc) from exc
        raise _corrupt(db, exc) from exc
    except DatabaseError as exc:
        raise _corrupt(db, exc) from exc


def _lost_server(exc: BaseException) -> bool:
    """The server went away (refused, restarted, network cut), as opposed to a SQL error."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, DBAPIError) and postgres.is_connection_error(exc)


def _corrupt(db: Database, exc: BaseException) -> OperationError:
    detail = str(getattr(exc, "orig", exc)).splitlines()[0]
    return OperationError(f"cannot open the database {db.label}: {detail}", hint=CORRUPT_HINT)
