"""Opening databases: pragmas, sessions, corrupt files, lock contention, schema/ORM agreement."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from wan22_desktop.db import postgres, queue, sqlite
from wan22_desktop.db.database import Database, open_app_database, open_database
from wan22_desktop.db.models import Base, Job
from wan22_desktop.errors import OperationError
from wan22_desktop.paths import app_paths

from .conftest import make_request


def test_pragmas_are_set_on_every_connection(db_path: Path) -> None:
    db = open_database(db_path)
    with db.session() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    db.close()


def test_session_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    req = make_request()
    with db.session(write=True) as s:
        s.add(Job(request_json=req.to_json(), task=req.task, prompt="kept"))
    with pytest.raises(RuntimeError):
        with db.session(write=True) as s:
            s.add(Job(request_json=req.to_json(), task=req.task, prompt="dropped"))
            s.flush()
            raise RuntimeError("boom")
    with db.session() as s:
        assert [j.prompt for j in s.query(Job)] == ["kept"]


def test_open_app_database_uses_the_data_dir(tmp_path: Path) -> None:
    paths = app_paths(tmp_path / "home")
    with open_app_database(paths) as db:
        assert db.path == paths.database
    assert paths.database.is_file()


def test_missing_file_without_create_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OperationError, match="no database at"):
        open_database(tmp_path / "absent.sqlite3", create=False)
    assert not (tmp_path / "absent.sqlite3").exists()


@pytest.mark.parametrize(
    "content", [b"this is not a database at all" * 50, b"SQLite format 3\x00" + b"\xff" * 4000]
)
def test_corrupt_file_is_named_and_left_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "wan22.sqlite3"
    path.write_bytes(content)
    with pytest.raises(OperationError) as info:
        open_database(path)
    assert str(path) in info.value.message
    assert "untouched" in (info.value.hint or "")
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wan22.sqlite3"]  # no backup, no -wal


def test_locked_database_retries_a_bounded_time_then_says_so(db_path: Path) -> None:
    db = open_database(db_path, busy_timeout_s=0.1, lock_retries=2)
    holder = sqlite3.connect(db_path, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        start = time.monotonic()
        with pytest.raises(OperationError) as info:
            queue.enqueue(db, make_request())
        elapsed = time.monotonic() - start
    finally:
        holder.rollback()
        holder.close()
    assert "is busy" in info.value.message and str(db_path) in info.value.message
    assert info.value.hint
    # 3 tries x 0.1 s busy timeout + short pauses: bounded, not hanging.
    assert 0.25 <= elapsed < 3.0
    assert len(queue.enqueue(db, make_request())) == 1  # works again once the lock is gone
    db.close()


def test_lock_released_during_retries_succeeds(db_path: Path) -> None:
    import threading

    db = open_database(db_path, busy_timeout_s=0.05, lock_retries=5)
    holder = sqlite3.connect(db_path, timeout=0, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    threading.Timer(0.15, holder.rollback).start()
    try:
        assert len(queue.enqueue(db, make_request())) == 1
    finally:
        time.sleep(0.2)
        holder.close()
        db.close()


def test_orm_models_match_the_migrated_schema(db: Database) -> None:
    def ignore_fts(obj, name, type_, reflected, compare_to):  # noqa: ANN001 - alembic hook
        # The search indexes are created by hand in migrations: FTS5 tables, pg_trgm indexes.
        if type_ == "index" and name and postgres.is_search_index(name):
            return False
        return not (type_ == "table" and name and sqlite.is_fts_table(name))

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": ignore_fts, "compare_type": True}
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_threads_share_one_database_safely(db: Database) -> None:
    import threading

    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                queue.enqueue(db, make_request(seed=n * 100 + i))
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    positions = [j.position for j in queue.list_jobs(db)]
    assert len(positions) == 40 and len(set(positions)) == 40  # write lock taken up front


def test_too_old_sqlite_library_is_explained() -> None:
    assert sqlite.library_problem((3, 40, 1)) is None
    problem = sqlite.library_problem((3, 31, 1))
    assert problem is not None and "3.31.1" in problem and "3.35.0" in problem
