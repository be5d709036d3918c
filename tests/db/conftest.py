"""Fixtures for the data layer: a fresh database per test, on SQLite and on PostgreSQL (the
``backend`` parameter), and request builders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wan22_desktop.db import queue
from wan22_desktop.db.base import utcnow
from wan22_desktop.db.database import Database, open_database
from wan22_desktop.db.models import Generation, Job, Runner
from wan22_desktop.request import GenerationRequest


def make_request(**overrides: Any) -> GenerationRequest:
    values: dict[str, Any] = {"prompt": "a red fox runs through snow", "seed": 42}
    values.update(overrides)
    return GenerationRequest.for_task(values.pop("task", "ti2v-5B"), **values)


def add_generation(
    db: Database,
    *,
    prompt: str = "a fox",
    task: str = "ti2v-5B",
    created_at: datetime | None = None,
    **fields: Any,
) -> Generation:
    """A history row written directly (the queue path is tested on its own)."""
    req = make_request(task=task, prompt=prompt)
    values: dict[str, Any] = dict(
        request_json=req.to_json(),
        task=task,
        prompt=prompt,
        seed=req.seed,
        video_path="/nowhere/video.mp4",
        frames=121,
        width=1280,
        height=704,
        fps=24.0,
        duration_s=5.04,
        favourite=False,
        tags_json="[]",
        created_at=created_at or utcnow(),
    )
    values.update(fields)
    with db.session(write=True) as s:
        gen = Generation(**values)
        s.add(gen)
        s.flush()
        return gen


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "wan22.sqlite3"


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, db_path: Path, request: pytest.FixtureRequest) -> str:
    """Where this test's database is: a SQLite file path or a fresh PostgreSQL database URL."""
    if backend == "sqlite":
        return str(db_path)
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()


def claim(db: Database, runner_id: str) -> Job | None:
    """``queue.claim_next`` as ``runner_id``. On a shared queue only a runner with a live lease
    of its own may claim, so one on another host is registered first (once)."""
    if db.shared:
        with db.session(write=True) as s:
            if s.get(Runner, runner_id) is None:
                far = utcnow() + timedelta(hours=1)
                s.add(
                    Runner(
                        id=runner_id,
                        host="another-host",
                        pid=1,
                        version="test",
                        gpus_json="[]",
                        models_json="[]",
                        started_at=utcnow(),
                        heartbeat_at=utcnow(),
                        expires_at=far,
                    )
                )
    return queue.claim_next(db, runner_id)


def die(db: Database, runner_id: str) -> None:
    """A runner stops heartbeating: on a shared queue its lease expires (SQLite: the next lease
    holder treats every other runner id as dead anyway)."""
    if db.shared:
        with db.session(write=True) as s:
            if (row := s.get(Runner, runner_id)) is not None:
                row.expires_at = datetime(2000, 1, 1)
