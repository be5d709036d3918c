"""Model folders for the views: what is installed (every copy) and registering a folder on disk.

``db.installed.installed_checkpoints`` answers "which folder runs task X"; this lists every
registered copy, as the Models view shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from wan22_desktop.db.database import Database
from wan22_desktop.db.downloads import InstalledModel
from wan22_desktop.db.installed import here
from wan22_desktop.downloader import local_scan


@dataclass(frozen=True)
class InstalledCopy:
    model_id: str  # repo id
    path: str
    origin: str  # download | import | hf-cache | modelscope-cache | diffusers | comfyui
    tasks: tuple[str, ...]
    size_bytes: int


def installed_copies(db: Database) -> list[InstalledCopy]:
    """Every registered model folder, oldest first."""

    def read(s: Session) -> list[InstalledCopy]:
        return [
            InstalledCopy(
                r.model_id,
                r.path,
                r.origin,
                tuple(t for t in r.tasks.split(",") if t),
                r.size_bytes or 0,
            )
            for r in s.scalars(select(InstalledModel).where(here(s)).order_by(InstalledModel.id))
        ]

    return db.read(read)


def import_folder(
    db: Database, root: Path, *, model: str | None = None, origin: str = "import"
) -> str:
    """Check an official-layout folder and register it in place (no copy); a one-line summary.
    Raises ``UserInputError`` listing what is missing."""
    with db.session(write=True) as s:
        return local_scan.import_folder(s, Path(root), model=model, origin=origin).summary


def adopt_comfyui(db: Database, folder: Path, models_dir: Path) -> list[str]:
    """Pair the Wan2.2 files of a ComfyUI install into complete sets and register them in place
    (``local_scan.adopt_comfyui``); the tasks registered. Raises ``UserInputError`` when the
    folder holds no Wan2.2 file."""
    with db.session(write=True) as s:
        result = local_scan.adopt_comfyui(s, Path(folder), Path(models_dir))
    return [task for task, _ in result.registered]
