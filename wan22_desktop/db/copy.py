"""Copy a queue and its history from one database to another (``wan22 db copy``), typically a
data folder's SQLite file into a new shared PostgreSQL database.

Ids are kept, so a job's ``generation_id`` and anything a user noted down still point at the
same rows; the target's id sequences are moved past the copied ids. A job that was running in
the source has no runner in the target: it arrives queued at the front of its lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from wan22_desktop.db import postgres
from wan22_desktop.db.base import utcnow
from wan22_desktop.db.database import Database
from wan22_desktop.db.downloads import InstalledModel
from wan22_desktop.db.installed import here, this_host
from wan22_desktop.db.models import QUEUED, RUNNING, Generation, Job
from wan22_desktop.errors import UserInputError

BATCH = 500


@dataclass(frozen=True)
class CopyResult:
    generations: int
    jobs: int
    requeued: int  # running in the source, queued in the target
    models: int = 0  # installed model folders recorded for this machine in the target


def copy_queue_and_history(src: Database, dst: Database) -> CopyResult:
    """Copy every generation and job; refuse a target that already has some (no merging)."""
    existing = dst.read(
        lambda s: (
            (s.scalar(select(func.count()).select_from(Job)) or 0)
            + (s.scalar(select(func.count()).select_from(Generation)) or 0)
        )
    )
    if existing:
        raise UserInputError(
            f"the target database {dst.label} already holds {existing} jobs and generations",
            "copy into a new, empty database (`wan22 db migrate` creates its tables)",
            field="to",
        )
    counts: dict[str, int] = {}
    requeued = 0
    tables: list[Table] = [Generation.__table__, Job.__table__]  # type: ignore[list-item]
    for table in tables:  # generations first: jobs refer to them
        rows = src.read(partial(_rows, table))
        if table.name == Job.__tablename__:
            for row in rows:
                if row["status"] == RUNNING:
                    row.update(status=QUEUED, runner_id=None, status_reason="copied while running")
                    requeued += 1
        dst.transact(partial(_insert, table, rows))
        counts[table.name] = len(rows)
    models = dst.transact(partial(_adopt_models, src.read(_installed)))
    return CopyResult(counts["generations"], counts["jobs"], requeued, models)


def _installed(s: Session) -> list[tuple[str, str, str, str, int]]:
    return [
        (r.model_id, r.path, r.origin, r.tasks, r.size_bytes)
        for r in s.scalars(select(InstalledModel).where(here(s)))
    ]


def _adopt_models(rows: list[tuple[str, str, str, str, int]], s: Session) -> int:
    """The source's model folders, recorded in the target as this machine's (new ids: other
    machines may have rows there already); folders the target already knows are skipped."""
    host = this_host(s)
    known = set(s.scalars(select(InstalledModel.path).where(InstalledModel.host == host)))
    added = 0
    for model_id, path, origin, tasks, size in rows:
        if path not in known:
            s.add(
                InstalledModel(
                    model_id=model_id,
                    path=path,
                    origin=origin,
                    tasks=tasks,
                    size_bytes=size,
                    host=host,
                    verified_at=utcnow(),
                )
            )
            added += 1
    return added


def _rows(table: Table, s: Session) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in s.execute(select(table))]


def _insert(table: Table, rows: list[dict[str, Any]], s: Session) -> None:
    for i in range(0, len(rows), BATCH):
        s.execute(insert(table), rows[i : i + BATCH])
    if postgres.is_postgres(s.get_bind()) and rows:
        # Explicit ids do not move PostgreSQL's sequence: the next new row would collide.
        s.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT max(id) FROM {table.name}))"
            )
        )
