"""``JobTableModel``: the queue as a Qt table over ``JobRow``s (``services.queue``).

The rows come from a DB read on the DB thread; live progress from the runner (coalesced by
``RunnerController``) is laid over them by job id, so the bar moves between DB polls. Dragging a
queued row onto another queued row of the same lane asks for a move (``sig_move_requested``); the
database decides, and the next refresh shows the result.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor

from wan22_desktop.gui.i18n import QT_TRANSLATE_NOOP
from wan22_desktop.gui.plan_text import tr_plan
from wan22_desktop.services.queue_eta import QueueEta, local_clock
from wan22_desktop.services.render_eta import format_duration
from wan22_desktop.services.rows import JobRow

MIME = "application/x-wan22-job-id"
STATUS_COLOURS = {"failed": "#d32f2f", "interrupted": "#d32f2f", "running": "#1e88e5"}
ProgressRole = Qt.ItemDataRole.UserRole + 1  # (done, total) or None
JobRole = Qt.ItemDataRole.UserRole + 2  # the JobRow
Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("id", "status", "prompt", "task", "progress", "phase", "step", "eta", "finish", "seed")
_HEADERS = {
    "id": "#",
    "status": QT_TRANSLATE_NOOP("JobTableModel", "Status"),
    "prompt": QT_TRANSLATE_NOOP("JobTableModel", "Prompt"),
    "task": QT_TRANSLATE_NOOP("JobTableModel", "Task"),
    "progress": QT_TRANSLATE_NOOP("JobTableModel", "Progress"),
    "phase": QT_TRANSLATE_NOOP("JobTableModel", "Phase"),
    "step": QT_TRANSLATE_NOOP("JobTableModel", "Step"),
    "eta": QT_TRANSLATE_NOOP("JobTableModel", "ETA"),
    "finish": QT_TRANSLATE_NOOP("JobTableModel", "Done at"),
    "seed": QT_TRANSLATE_NOOP("JobTableModel", "Seed"),
}
_STATUS_WORDS = {
    "queued": QT_TRANSLATE_NOOP("JobTableModel", "Queued"),
    "running": QT_TRANSLATE_NOOP("JobTableModel", "Running"),
    "done": QT_TRANSLATE_NOOP("JobTableModel", "Done"),
    "failed": QT_TRANSLATE_NOOP("JobTableModel", "Failed"),
    "cancelled": QT_TRANSLATE_NOOP("JobTableModel", "Cancelled"),
    "interrupted": QT_TRANSLATE_NOOP("JobTableModel", "Interrupted"),
}


# Worker phases (runtime.protocol.PHASES) as shown to users.
PHASE_WORDS = {
    "loading": QT_TRANSLATE_NOOP("JobTableModel", "loading model"),
    "prompt_extension": QT_TRANSLATE_NOOP("JobTableModel", "extending prompt"),
    "text_encoding": QT_TRANSLATE_NOOP("JobTableModel", "encoding text"),
    "sampling": QT_TRANSLATE_NOOP("JobTableModel", "sampling"),
    "decoding": QT_TRANSLATE_NOOP("JobTableModel", "decoding"),
    "saving": QT_TRANSLATE_NOOP("JobTableModel", "saving"),
}


def _t(text: str) -> str:
    return QCoreApplication.translate("JobTableModel", text)


def phase_text(phase: str | None) -> str:
    if not phase:
        return ""
    word = PHASE_WORDS.get(phase)
    return _t(word) if word else phase.replace("_", " ")


def duration_text(seconds: float) -> str:
    """``format_duration`` with translated units."""
    return format_duration(seconds, units=(_t("s"), _t("min"), _t("h")))


def merged_progress(job: JobRow, live: dict[str, Any] | None) -> dict[str, Any]:
    """The job's DB progress overlaid with the runner's newer live values (pure)."""
    out: dict[str, Any] = asdict(job.progress)
    if live and job.status == "running":
        out.update({k: v for k, v in live.items() if v is not None})
    return out


class JobTableModel(QAbstractTableModel):
    # ---- Signals
    sig_move_requested = Signal(int, int)
    """A queued job was dropped onto another. Args: job id, 1-based target position in its lane."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.jobs: list[JobRow] = []
        self.live: dict[int, dict[str, Any]] = {}
        self.eta: QueueEta | None = None  # services.queue_eta: expected start/finish per job

    # ---- data in

    def set_jobs(self, jobs: list[JobRow]) -> None:
        """Replace the rows; cheap when only values changed (same ids in the same order)."""
        if [j.id for j in jobs] == [j.id for j in self.jobs]:
            self.jobs = jobs
            if jobs:
                self.dataChanged.emit(self.index(0, 0), self.index(len(jobs) - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self.jobs = jobs
        self.live = {k: v for k, v in self.live.items() if any(j.id == k for j in jobs)}
        self.endResetModel()

    def set_live_progress(self, job_id: int, progress: dict[str, Any]) -> None:
        self.live[job_id] = dict(progress)
        row = self.row_of(job_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def set_eta(self, eta: QueueEta | None) -> None:
        """The queue's finish estimate (the view recomputes it per poll; cheap, no DB)."""
        self.eta = eta
        if self.jobs:
            column = COLUMNS.index("finish")
            self.dataChanged.emit(self.index(0, column), self.index(len(self.jobs) - 1, column))

    def row_of(self, job_id: int) -> int | None:
        return next((i for i, j in enumerate(self.jobs) if j.id == job_id), None)

    def job(self, row: int) -> JobRow | None:
        return self.jobs[row] if 0 <= row < len(self.jobs) else None

    def progress_of(self, job: JobRow) -> dict[str, Any]:
        return merged_progress(job, self.live.get(job.id))

    # ---- Qt model

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _t(_HEADERS[COLUMNS[section]])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        job = self.job(index.row()) if index.isValid() else None
        if job is None:
            return None
        column = COLUMNS[index.column()]
        if role == JobRole:
            return job
        progress = self.progress_of(job)
        if role == ProgressRole and column == "progress":
            step, total = progress.get("step"), progress.get("total")
            if job.status == "done":
                return (1, 1)
            return (step or 0, total) if total else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, column, progress)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._finish_tooltip(job) if column == "finish" else self._tooltip(job)
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == "status"
            and job.status in STATUS_COLOURS
        ):
            return QColor(STATUS_COLOURS[job.status])
        return None

    def _display(self, job: JobRow, column: str, progress: dict[str, Any]) -> str:
        if column == "id":
            return str(job.id)
        if column == "status":
            word = _t(_STATUS_WORDS.get(job.status, job.status))
            if job.status == "queued" and job.lane == "now":
                word += " ⏫"
            if job.cancel_requested and job.status == "running":
                word = QCoreApplication.translate("JobTableModel", "Cancelling…")
            return word
        if column == "prompt":
            return " ".join(job.prompt.split())
        if column == "task":
            return job.task
        if column == "phase":
            return phase_text(progress.get("phase")) if job.status == "running" else ""
        if column == "step":  # units for the ETA column, listed for the translation tools:
            (
                QT_TRANSLATE_NOOP("JobTableModel", "s"),
                QT_TRANSLATE_NOOP("JobTableModel", "min"),
                QT_TRANSLATE_NOOP("JobTableModel", "h"),
            )
            step, total = progress.get("step"), progress.get("total")
            return f"{step}/{total}" if step is not None and total else ""
        if column == "eta":
            eta = progress.get("eta_s")
            return duration_text(eta) if eta is not None and job.status == "running" else ""
        if column == "seed":
            return "" if job.seed is None else str(job.seed)
        if column == "finish":
            return self._finish_text(job)
        return ""

    def _finish_text(self, job: JobRow) -> str:
        """ "~06:40" on this machine's clock; "paused" for a queued job of a paused queue."""
        eta = self.eta
        e = eta.jobs.get(job.id) if eta is not None else None
        if eta is None or e is None:
            return ""
        if e.finish_s is None:
            return (
                QCoreApplication.translate("JobTableModel", "paused")
                if eta.paused and job.status == "queued"
                else ""
            )
        return "~" + local_clock(eta.now + timedelta(seconds=e.finish_s), eta.now)

    def _finish_tooltip(self, job: JobRow) -> str:
        eta = self.eta
        e = eta.jobs.get(job.id) if eta is not None else None
        if eta is None or e is None or e.finish_s is None:
            return ""
        lines = []
        if e.start_s is not None and job.status == "queued":
            start = local_clock(eta.now + timedelta(seconds=e.start_s), eta.now)
            lines.append(
                QCoreApplication.translate("JobTableModel", "Starts about %1").replace("%1", start)
            )
        if e.seconds is not None:
            lines.append(
                QCoreApplication.translate("JobTableModel", "Takes about %1").replace(
                    "%1", duration_text(e.seconds)
                )
            )
        lines.append(
            QCoreApplication.translate("JobTableModel", "Measured on the machine that runs it")
            if e.basis == "measured"
            else QCoreApplication.translate(
                "JobTableModel",
                "Scaled from the official timing table (no comparable job finished yet)",
            )
        )
        return "\n".join(lines)

    def _tooltip(self, job: JobRow) -> str:
        lines = [job.prompt]
        if job.error is not None:
            lines.append(job.error.text())
        elif job.status_reason:
            lines.append(tr_plan(job.status_reason))  # e.g. the out-of-memory retry note
        return "\n".join(line for line in lines if line)

    # ---- drag to reorder

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():
            return base | Qt.ItemFlag.ItemIsDropEnabled
        job = self.job(index.row())
        if job and job.status == "queued":
            return base | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled
        return base

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        data = QMimeData()
        rows = sorted({i.row() for i in indexes})
        data.setData(MIME, json.dumps([self.jobs[r].id for r in rows]).encode())
        return data

    def dropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,  # noqa: N802
        parent: Index,
    ) -> bool:
        if action != Qt.DropAction.MoveAction or not data.hasFormat(MIME):
            return False
        ids = json.loads(bytes(data.data(MIME).data()).decode())
        target_row = parent.row() if parent.isValid() else row
        if not ids or target_row is None or target_row < 0:
            target_row = len(self.jobs) - 1
        position = self.lane_position(ids[0], target_row)
        if position is None:
            return False
        self.sig_move_requested.emit(ids[0], position)
        return False  # the DB moves it; the refresh redraws (Qt must not remove the source row)

    def lane_position(self, job_id: int, target_row: int) -> int | None:
        """1-based position in ``job_id``'s lane that dropping on ``target_row`` means."""
        row = self.row_of(job_id)
        if row is None:
            return None
        lane = self.jobs[row].lane
        queued = [i for i, j in enumerate(self.jobs) if j.status == "queued" and j.lane == lane]
        if not queued:
            return None
        target_row = min(max(target_row, queued[0]), queued[-1])
        before = [i for i in queued if i <= target_row]
        return max(1, len(before))
