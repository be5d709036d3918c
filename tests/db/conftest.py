"""Fixtures for the data layer: a fresh database file per test and request builders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from wan22_desktop.db.base import utcnow
from wan22_desktop.db.database import Database, open_database
from wan22_desktop.db.models import Generation
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


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(db_path)
    yield database
    database.close()
