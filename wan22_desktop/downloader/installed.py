"""The installed-models table: one row per usable folder, however it got there."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from wan22_desktop.db.base import utcnow
from wan22_desktop.db.downloads import InstalledModel
from wan22_desktop.db.installed import this_host


def register(
    s: Session, repo_id: str, path: Path, *, origin: str, tasks: tuple[str, ...], size: int
) -> None:
    """Record an installed model folder of this machine (idempotent per path)."""
    host = this_host(s)
    row = s.scalars(
        select(InstalledModel).where(InstalledModel.path == str(path), InstalledModel.host == host)
    ).first()
    if row is None:
        row = InstalledModel(model_id=repo_id, path=str(path), origin=origin, host=host)
        s.add(row)
    row.model_id, row.origin = repo_id, origin
    row.tasks, row.size_bytes, row.verified_at = ",".join(tasks), size, utcnow()
