"""Schema migrations with Alembic, run in code: the scripts ship inside the package, no alembic.ini.

Before an existing, non-empty SQLite database is migrated it is copied to a timestamped backup
next to it, so a failed or unwanted upgrade can always be undone by hand.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from wan22_desktop.db import postgres
from wan22_desktop.errors import OperationError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def has_user_tables(engine: Engine) -> bool:
    return any(t != "alembic_version" for t in inspect(engine).get_table_names())


def upgrade(engine: Engine, target: str = "head") -> None:
    """Bring the schema to ``target`` (a revision id or "head") in one transaction."""
    cfg = _config()
    with engine.begin() as conn:
        if postgres.is_postgres(conn):
            postgres.lock_for_migration(conn)  # runners starting together: one migrates
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)


def needs_upgrade(engine: Engine, target: str = "head") -> bool:
    current = current_revision(engine)
    wanted = head_revision() if target == "head" else target
    if current is not None and current not in known_revisions():
        raise OperationError(
            f"the database {engine.url.database} was made by a newer Wan22 Desktop "
            f"(schema {current}; this version knows up to {head_revision()})",
            hint="update Wan22 Desktop on this machine (every runner on a shared database needs "
            "the newest version), or point --home at another data folder",
        )
    return current != wanted


def backup_sqlite(path: Path, *, now: datetime | None = None) -> Path:
    """Copy a live SQLite file (WAL included) to ``<name>.backup-<UTC time><suffix>`` beside it."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.backup-{stamp}{path.suffix}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.stem}.backup-{stamp}-{n}{path.suffix}")
        n += 1
    # The backup API copies a consistent snapshot, including pages still in the -wal file.
    src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    log.info("backed up %s to %s before migrating", path, target)
    return target
