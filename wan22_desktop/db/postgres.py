"""Everything that is PostgreSQL-only lives here (the sibling of ``db/sqlite.py``): URL handling,
the server clock, connection errors, the migration lock and the trigram prompt index.

A PostgreSQL database is a queue shared by several runners on several machines (ADR 0011), so
times that decide whether a runner is alive come from the server's clock, never a client's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

DRIVER = "postgresql+psycopg"
SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
# pg_advisory_xact_lock key taken while migrating, so runners starting together migrate once.
MIGRATION_LOCK = 22_0011
# Taken by every transaction that hands out queue positions, so concurrent ``queue add`` from
# several machines never give two jobs the same place (max(position) + 1 is read, then written).
QUEUE_ORDER_LOCK = 22_0012
TRGM_INDEXES = (
    ("ix_generations_prompt_trgm", "prompt"),
    ("ix_generations_final_prompt_trgm", "final_prompt"),
)
UNREACHABLE_HINT = (
    "check that the PostgreSQL server is running and reachable from this machine, the host, port "
    "and database name (`wan22 db status`), and the password in the keyring (`wan22 db use`)"
)


def is_postgres_url(url: str) -> bool:
    return url.startswith(SCHEMES)


def driver_url(url: str) -> str:
    """``postgresql://`` or ``postgres://`` as the SQLAlchemy URL of our driver (psycopg 3)."""
    for scheme in SCHEMES:
        if url.startswith(scheme):
            return DRIVER + "://" + url[len(scheme) :]
    return url


def is_postgres(engine_or_conn: Engine | Connection) -> bool:
    return engine_or_conn.dialect.name == "postgresql"


def server_now(s: Session) -> datetime:
    """The server's wall clock as naive UTC (the form every timestamp column stores)."""
    value = s.scalar(text("SELECT timezone('UTC', clock_timestamp())"))
    assert isinstance(value, datetime)
    return value


# admin_shutdown, crash_shutdown, cannot_connect_now (the server is starting or stopping)
SHUTDOWN_STATES = ("57P01", "57P02", "57P03")


def server_started(s: Session) -> datetime:
    """When the server last started (naive UTC): leases that ran out while it was down are not
    a sign that their runners died, so each gets one more lease period after a restart."""
    value = s.scalar(text("SELECT timezone('UTC', pg_postmaster_start_time())"))
    assert isinstance(value, datetime)
    return value


def is_connection_error(exc: BaseException) -> bool:
    """True when the server could not be reached or dropped the connection (not a SQL error)."""
    orig = getattr(exc, "orig", exc)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the driver is a dependency
        return False
    if isinstance(orig, (psycopg.OperationalError, psycopg.InterfaceError)):
        sqlstate = getattr(orig, "sqlstate", None)
        return sqlstate is None or sqlstate.startswith("08") or sqlstate in SHUTDOWN_STATES
    return False


def lock_queue_order(s: Session) -> None:
    """Serialise position changes of the queue until the transaction ends."""
    s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": QUEUE_ORDER_LOCK})


def is_search_index(name: str) -> bool:
    return any(name == index for index, _column in TRGM_INDEXES)


def lock_for_migration(conn: Connection) -> None:
    """Serialise migrations of one database across processes and machines."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})


def create_prompt_trigram_index(conn: Connection) -> bool:
    """Trigram GIN indexes that make ``ILIKE '%text%'`` prompt search fast, when the server has
    ``pg_trgm`` (a trusted extension since PostgreSQL 13). Without it search still works, slower.
    Returns whether the indexes exist."""
    available = conn.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    if not available:
        return False
    savepoint = conn.begin_nested()
    try:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except Exception:  # noqa: BLE001 - no privilege: fall back to plain ILIKE scans
        savepoint.rollback()
        return False
    savepoint.commit()
    for name, column in TRGM_INDEXES:
        conn.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS {name} ON generations "
                f"USING gin ({column} gin_trgm_ops)"
            )
        )
    return True


def drop_prompt_trigram_index(conn: Connection) -> None:
    for name, _column in TRGM_INDEXES:
        conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
