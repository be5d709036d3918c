"""Which checkpoint folders are installed, by task: the one reader of the installed_models table.

The runner, ``wan22 generate``/``queue add`` and the GUI's plan preview all ask here, so what the
form shows and what the queue runs use the same folder.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wan22_desktop.db.database import Database
from wan22_desktop.db.downloads import InstalledModel as InstalledRow
from wan22_desktop.tasks import TASKS


@dataclass(frozen=True)
class InstalledCheckpoint:
    task: str
    path: str
    size_bytes: int  # the folder's weights on disk, as recorded at download/import


def installed_checkpoints(db: Database) -> dict[str, InstalledCheckpoint]:
    """Installed folders by task; for a task installed twice, the newest verified wins."""

    def read(s: Session) -> list[tuple[str, str, int | None]]:
        rows = s.execute(
            select(InstalledRow.tasks, InstalledRow.path, InstalledRow.size_bytes).order_by(
                InstalledRow.verified_at.asc(), InstalledRow.id.asc()
            )
        )
        return [(r[0], r[1], r[2]) for r in rows]

    out: dict[str, InstalledCheckpoint] = {}
    for tasks_csv, path, size in db.read(read):
        for task in filter(None, (t.strip() for t in (tasks_csv or "").split(","))):
            if task in TASKS:
                out[task] = InstalledCheckpoint(task, path, int(size or 0))
    return out
