"""Which checkpoint folders are installed, by task: the one reader of the installed_models table.

The runner, ``wan22 generate``/``queue add`` and the GUI's plan preview all ask here, so what the
form shows and what the queue runs use the same folder. On a shared (PostgreSQL) queue each
machine sees only the folders it recorded (``host``), plus rows with no host (written on a data
folder's own SQLite file, where there is one machine).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from wan22_desktop.db import postgres
from wan22_desktop.db.database import Database
from wan22_desktop.db.downloads import InstalledModel as InstalledRow
from wan22_desktop.tasks import TASKS


@dataclass(frozen=True)
class InstalledCheckpoint:
    task: str
    path: str
    size_bytes: int  # the folder's weights on disk, as recorded at download/import


def this_host(s: Session) -> str:
    """The ``host`` this machine records its folders under: its name on a shared queue, ""
    on a data folder's own SQLite file (one machine, whatever it is called today)."""
    return socket.gethostname() if postgres.is_postgres(s.get_bind()) else ""


def here(s: Session) -> ColumnElement[bool]:
    """The installed_models rows this machine can use (a WHERE clause)."""
    return InstalledRow.host.in_(sorted({"", this_host(s)}))


def installed_checkpoints(db: Database) -> dict[str, InstalledCheckpoint]:
    """Installed folders by task; for a task installed twice, the newest verified wins."""

    def read(s: Session) -> list[tuple[str, str, int | None]]:
        rows = s.execute(
            select(InstalledRow.tasks, InstalledRow.path, InstalledRow.size_bytes)
            .where(here(s))
            .order_by(InstalledRow.verified_at.asc(), InstalledRow.id.asc())
        )
        return [(r[0], r[1], r[2]) for r in rows]

    out: dict[str, InstalledCheckpoint] = {}
    for tasks_csv, path, size in db.read(read):
        for task in filter(None, (t.strip() for t in (tasks_csv or "").split(","))):
            if task in TASKS:
                out[task] = InstalledCheckpoint(task, path, int(size or 0))
    return out
