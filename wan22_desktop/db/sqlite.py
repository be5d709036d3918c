"""Everything that is SQLite-only lives here: connection pragmas, locking, file checks and FTS5.

Keeping it in one module leaves the rest of ``db/`` portable, so a shared PostgreSQL queue later
is a matter of a different URL plus a sibling of this file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

SQLITE_HEADER = b"SQLite format 3\x00"
FTS_TABLE = "generations_fts"
# Trigram tokenizer: matches any substring of 3+ characters, which is what makes search work for
# Chinese prompts (no spaces between words) as well as for English.
FTS_MIN_QUERY_CHARS = 3


# UPDATE ... RETURNING (the atomic claim) needs 3.35; the FTS5 trigram tokenizer needs 3.34.
MIN_SQLITE = (3, 35, 0)


def library_problem(version: tuple[int, int, int] = sqlite3.sqlite_version_info) -> str | None:
    """Why the SQLite library Python was built with is too old for us, or None."""
    if version < MIN_SQLITE:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_SQLITE))
        return f"this Python's SQLite library is {have}; Wan22 Desktop needs {need} or newer"
    return None


def is_sqlite(engine_or_conn: Engine | Connection) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


def check_sqlite_file(path: Path) -> str | None:
    """Why ``path`` is not a usable SQLite file, or None. Reads the header only, never writes."""
    if not path.exists():
        return None
    if path.is_dir():
        return "it is a folder"
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if len(head) == 0:
        return None  # an empty file is what sqlite itself creates; it becomes a new database
    if head != SQLITE_HEADER:
        return "it is not an SQLite database (wrong header)"
    return None


def configure_engine(engine: Engine, *, busy_timeout_s: float) -> None:
    """Set WAL, foreign keys and the busy timeout on every new connection, and let a write session
    ask for ``BEGIN IMMEDIATE``: taking the write lock up front means the busy timeout applies,
    instead of failing at once when a read transaction later tries to write."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys = ON")
            if _is_file_database(dbapi_conn):
                cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, much faster commits
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _is_file_database(dbapi_conn: sqlite3.Connection) -> bool:
    rows = dbapi_conn.execute("PRAGMA database_list").fetchall()
    return any(r[1] == "main" and r[2] for r in rows)


def write_execution_options() -> dict[str, str]:
    """Execution options for a session that will write (see ``configure_engine``)."""
    return {"sqlite_begin": "IMMEDIATE"}


def is_locked_error(exc: BaseException) -> bool:
    """True for SQLite's 'database is locked' / 'database is busy' errors."""
    orig = getattr(exc, "orig", exc)
    msg = str(orig).lower()
    return isinstance(exc, (OperationalError, sqlite3.OperationalError)) and (
        "database is locked" in msg
        or "database is busy" in msg
        or "database table is locked" in msg
    )


def is_corrupt_error(exc: BaseException) -> bool:
    msg = str(getattr(exc, "orig", exc)).lower()
    return "file is not a database" in msg or "malformed" in msg or "file is encrypted" in msg


# ---- Full-text search over prompts (FTS5, external content: the text lives in ``generations``)

FTS_CREATE = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "prompt, final_prompt, content='generations', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER generations_fts_ai AFTER INSERT ON generations BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, prompt, final_prompt) "
    "VALUES (new.id, new.prompt, coalesce(new.final_prompt, '')); END",
    f"CREATE TRIGGER generations_fts_ad AFTER DELETE ON generations BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, prompt, final_prompt) "
    "VALUES ('delete', old.id, old.prompt, coalesce(old.final_prompt, '')); END",
    f"CREATE TRIGGER generations_fts_au AFTER UPDATE OF prompt, final_prompt ON generations BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, prompt, final_prompt) "
    "VALUES ('delete', old.id, old.prompt, coalesce(old.final_prompt, '')); "
    f"INSERT INTO {FTS_TABLE}(rowid, prompt, final_prompt) "
    "VALUES (new.id, new.prompt, coalesce(new.final_prompt, '')); END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",  # index rows that already exist
]

FTS_DROP = [
    "DROP TRIGGER IF EXISTS generations_fts_au",
    "DROP TRIGGER IF EXISTS generations_fts_ad",
    "DROP TRIGGER IF EXISTS generations_fts_ai",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


def create_prompt_fts(conn: Connection) -> None:
    for stmt in FTS_CREATE:
        conn.execute(text(stmt))


def drop_prompt_fts(conn: Connection) -> None:
    for stmt in FTS_DROP:
        conn.execute(text(stmt))


def fts_phrase(query: str) -> str:
    """The user's text as one FTS5 phrase, so quotes and operators in it are taken literally."""
    return '"' + query.replace('"', '""') + '"'


def fts_rowids_sql() -> str:
    """SQL selecting the matching generation ids; bind ``:fts_query`` to ``fts_phrase(q)``."""
    return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_query"


def fts_count_sql() -> str:
    return f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_query"


def is_fts_table(name: str) -> bool:
    return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
