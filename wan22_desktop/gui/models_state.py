"""What the Models view shows, gathered off the GUI thread as plain frozen data (no Qt).

``services.models.installed_copies`` runs on the DB thread; ``check_readiness`` and
``free_bytes`` touch the disk, so they run on the task pool; ``build_rows`` joins it all with the
catalogue and is pure.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from wan22_desktop.downloader.catalog import MODELS, CatalogModel
from wan22_desktop.downloader.manager import ACTIVE, DownloadInfo
from wan22_desktop.model_layout import check_layout
from wan22_desktop.services.models import InstalledCopy
from wan22_desktop.tasks import TASKS


@dataclass(frozen=True)
class TaskReadiness:
    task: str
    ready: bool
    path: str | None  # the folder that is ready (or the first one checked)
    problem: str | None  # why not, in one line; None when ready or when nothing is installed


@dataclass(frozen=True)
class ModelRow:
    model: CatalogModel
    installed: tuple[InstalledCopy, ...]
    download: DownloadInfo | None  # the latest download of this repo, if any

    @property
    def installed_bytes(self) -> int:
        return sum(c.size_bytes for c in self.installed)

    @property
    def downloading(self) -> bool:
        return self.download is not None and self.download.status in ACTIVE

    @property
    def progress(self) -> float | None:
        """0..1 while a download exists and is not done; None otherwise."""
        d = self.download
        if d is None or d.status == "done" or d.total_bytes <= 0:
            return None
        return min(1.0, d.done_bytes / d.total_bytes)


def check_readiness(installed: list[InstalledCopy]) -> list[TaskReadiness]:
    """Per task: is there a complete folder for it (``model_layout.check_layout``)?"""
    out: list[TaskReadiness] = []
    for task in TASKS:
        candidates = [c for c in installed if task in c.tasks]
        first_problem: str | None = None
        first_path: str | None = None
        for c in candidates:
            report = check_layout(Path(c.path), task)
            if report.ok:
                out.append(TaskReadiness(task, True, c.path, None))
                break
            if first_problem is None:
                first_problem = str(report.problems[0]) if report.problems else report.summary()
                first_path = c.path
        else:
            out.append(TaskReadiness(task, False, first_path, first_problem))
    return out


def free_bytes(folder: Path) -> int:
    """Free space where ``folder`` is (or would be created)."""
    p = Path(folder)
    while not p.exists() and p.parent != p:
        p = p.parent
    return shutil.disk_usage(p).free


def build_rows(
    installed: list[InstalledCopy],
    downloads: list[DownloadInfo],
    models: tuple[CatalogModel, ...] = MODELS,
) -> list[ModelRow]:
    rows = []
    for m in models:
        copies = tuple(c for c in installed if c.model_id.lower() == m.model_id.lower())
        mine = [d for d in downloads if d.model_id.lower() == m.model_id.lower()]
        rows.append(ModelRow(m, copies, max(mine, key=lambda d: d.id) if mine else None))
    return rows
