"""Migrations: an old schema with data upgrades to head, keeps its rows and leaves a backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from wan22_desktop.db import history, migrate
from wan22_desktop.db.database import open_database
from wan22_desktop.errors import OperationError

from .conftest import make_request

NOW = "2026-01-02 03:04:05"


def _fill_revision_1(path: Path) -> None:
    """Rows as revision 1 stores them, written with plain SQL (not today's ORM)."""
    req = make_request(prompt="一只熊猫在竹林里吃竹子").to_json()
    con = sqlite3.connect(path)
    with con:
        con.execute(
            "INSERT INTO generations (id, request_json, task, prompt, final_prompt, seed, video_path,"
            " frames, width, height, fps, duration_s, favourite, tags_json, created_at) VALUES"
            " (1, ?, 'ti2v-5B', '一只熊猫在竹林里吃竹子', 'a panda eats bamboo in a grove', 42,"
            " '/v/1.mp4', 121, 1280, 704, 24.0, 5.04, 1, '[\"zoo\"]', ?)",
            (req, NOW),
        )
        con.execute(
            "INSERT INTO jobs (id, request_json, task, prompt, status, priority, position,"
            " cancel_requested, attempts, interruptions, created_at, updated_at, generation_id)"
            " VALUES (1, ?, 'ti2v-5B', 'p', 'done', 1, 1, 0, 1, 0, ?, ?, 1)",
            (req, NOW, NOW),
        )
        con.execute(
            "INSERT INTO downloads (id, model_id, source, target_dir, status, total_bytes,"
            " done_bytes, created_at, updated_at) VALUES"
            " (1, 'Wan-AI/Wan2.2-TI2V-5B', 'hf', '/m', 'done', 10, 10, ?, ?)",
            (NOW, NOW),
        )
    con.close()


def test_upgrade_from_revision_1_keeps_rows_and_backs_up(tmp_path: Path) -> None:
    path = tmp_path / "wan22.sqlite3"
    old = open_database(path, migrate_to="0001")
    assert migrate.current_revision(old.engine) == "0001"
    old.close()
    _fill_revision_1(path)

    db = open_database(path)
    assert migrate.current_revision(db.engine) == migrate.head_revision() != "0001"
    with db.session() as s:
        assert s.execute(text("SELECT count(*) FROM jobs")).scalar() == 1
        assert s.execute(text("SELECT generation_id FROM jobs")).scalar() == 1
        assert s.execute(text("SELECT model_id FROM downloads")).scalar() == "Wan-AI/Wan2.2-TI2V-5B"
    gen = history.get_generation(db, 1)
    assert (gen.prompt, gen.favourite, gen.tags) == ("一只熊猫在竹林里吃竹子", True, ["zoo"])
    # The new search index covers rows that existed before it.
    assert [g.id for g in history.search(db, "熊猫在").items] == [1]
    assert [g.id for g in history.search(db, "bamboo").items] == [1]
    db.close()

    backups = sorted(tmp_path.glob("wan22.backup-*.sqlite3"))
    assert len(backups) == 1
    con = sqlite3.connect(backups[0])
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    assert con.execute("SELECT prompt FROM generations").fetchone() == ("一只熊猫在竹林里吃竹子",)
    con.close()


def test_no_backup_for_a_new_or_current_database(tmp_path: Path) -> None:
    path = tmp_path / "wan22.sqlite3"
    open_database(path).close()
    open_database(path).close()
    assert list(tmp_path.glob("*.backup-*")) == []


def test_database_from_a_newer_app_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wan22.sqlite3"
    open_database(path).close()
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.close()
    with pytest.raises(OperationError, match="newer Wan22 Desktop"):
        open_database(path)


def test_downgrade_to_revision_1_removes_the_search_index(tmp_path: Path) -> None:
    from alembic import command

    path = tmp_path / "wan22.sqlite3"
    db = open_database(path)
    cfg = migrate._config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    with db.session() as s:
        names = {r[0] for r in s.execute(text("SELECT name FROM sqlite_master"))}
    assert "generations_fts" not in names and "generations" in names
    db.close()


def test_head_revision_constant_matches_alembic():
    from wan22_desktop.db import migrate
    from wan22_desktop.db.database import HEAD_REVISION

    assert HEAD_REVISION == migrate.head_revision()


def test_opening_a_database_at_head_does_not_import_alembic(tmp_path):
    import subprocess
    import sys

    from wan22_desktop.db.database import open_database

    open_database(tmp_path / "db.sqlite3").close()  # create and migrate once
    code = (
        "import sys; from wan22_desktop.db.database import open_database; "
        f"open_database({str(tmp_path / 'db.sqlite3')!r}).close(); "
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_upgrade_to_0003_keeps_jobs_and_never_reuses_an_id(tmp_path: Path) -> None:
    from wan22_desktop.db import queue as q

    path = tmp_path / "wan22.sqlite3"
    open_database(path, migrate_to="0002").close()
    _fill_revision_1(path)  # the same rows are valid at 0002 (it only added indexes)
    con = sqlite3.connect(path)
    with con:  # job 2 and 3 exist at 0002; 3 is then removed, as `queue rm` would
        for job_id in (2, 3):
            con.execute(
                "INSERT INTO jobs (id, request_json, task, prompt, status, priority, position,"
                " cancel_requested, attempts, interruptions, created_at, updated_at) VALUES"
                " (?, ?, 'ti2v-5B', 'p', 'queued', 1, ?, 0, 0, 0, ?, ?)",
                (job_id, make_request().to_json(), job_id, NOW, NOW),
            )
    con.close()

    db = open_database(path)
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    with db.session() as s:
        sql = s.execute(text("SELECT sql FROM sqlite_master WHERE name = 'jobs'")).scalar()
        assert "AUTOINCREMENT" in sql.upper()
        assert [r[0] for r in s.execute(text("SELECT id FROM jobs ORDER BY id"))] == [1, 2, 3]
        assert s.execute(text("SELECT generation_id FROM jobs WHERE id = 1")).scalar() == 1
        names = {r[0] for r in s.execute(text("SELECT name FROM sqlite_master"))}
    assert {"ix_jobs_claim", "ix_jobs_finished_at"} <= names
    q.delete_job(db, 3)
    (new,) = q.enqueue(db, make_request(seed=5))
    assert new.id == 4  # not 3 again
    db.close()


def test_add_rm_add_gives_a_new_higher_id(tmp_path: Path) -> None:
    from wan22_desktop.db import queue as q

    db = open_database(tmp_path / "wan22.sqlite3")
    first, second = q.enqueue(db, make_request(seed=1), count=2)
    q.delete_job(db, second.id)
    (third,) = q.enqueue(db, make_request(seed=9))
    assert third.id > second.id > first.id
    db.close()


# ---- the same migrations on PostgreSQL (a shared queue, ADR 0011)


def test_postgres_upgrades_from_revision_1_with_rows_and_searches(pg_url: str) -> None:
    old = open_database(pg_url, migrate_to="0001")
    with old.session(write=True) as s:
        req = make_request(prompt="一只熊猫在竹林里吃竹子").to_json()
        s.execute(
            text(
                "INSERT INTO generations (id, request_json, task, prompt, final_prompt, seed,"
                " video_path, frames, width, height, fps, duration_s, favourite, tags_json,"
                " created_at) VALUES (1, :r, 'ti2v-5B', '一只熊猫在竹林里吃竹子',"
                " 'A Panda eats bamboo', 42, '/v/1.mp4', 121, 1280, 704, 24.0, 5.04, true,"
                " '[\"zoo\"]', :t)"
            ),
            {"r": req, "t": NOW},
        )
    old.close()

    db = open_database(pg_url)
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    assert [g.id for g in history.search(db, "熊猫在").items] == [1]
    assert [g.id for g in history.search(db, "panda EATS").items] == [1]  # any case, as FTS5
    with db.session() as s:
        indexes = {r[0] for r in s.execute(text("SELECT indexname FROM pg_indexes"))}
    assert {"ix_jobs_claim", "ix_jobs_finished_at", "ix_runners_expires_at"} <= indexes
    db.close()


def test_postgres_schema_from_a_newer_app_is_refused(pg_url: str) -> None:
    db = open_database(pg_url)
    with db.session(write=True) as s:
        s.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    db.close()
    with pytest.raises(OperationError, match="newer Wan22 Desktop") as info:
        open_database(pg_url)
    assert "9999" in info.value.message and "every runner" in info.value.hint


def test_postgres_downgrade_and_upgrade_again(pg_url: str) -> None:
    from alembic import command

    db = open_database(pg_url)
    cfg = migrate._config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert migrate.current_revision(db.engine) == "0001"
    db.close()
    db = open_database(pg_url)
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    db.close()


def test_unreachable_postgres_is_one_clear_error(pg_server) -> None:  # noqa: ANN001
    url = pg_server.url("postgres").replace(str(pg_server.port), "1")  # nothing listens on 1
    with pytest.raises(OperationError, match="unreachable") as info:
        open_database(url)
    assert "wan22 db status" in info.value.hint
