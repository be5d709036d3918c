"""The Models view's table: one row per catalogue model, with live download progress."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from wan22_desktop.downloader.progress import DownloadEvent, human_bytes, human_eta
from wan22_desktop.gui.column_model import ColumnTableModel
from wan22_desktop.gui.i18n import QT_TRANSLATE_NOOP
from wan22_desktop.gui.models_state import ModelRow

_Index = QModelIndex | QPersistentModelIndex
ProgressRole = Qt.ItemDataRole.UserRole + 1
RowRole = Qt.ItemDataRole.UserRole + 2

translate = QCoreApplication.translate

# The catalogue's titles (English data in downloader.catalog), marked here for translation.
TITLES = {
    "t2v-A14B": QT_TRANSLATE_NOOP("ModelsTable", "Wan2.2 text-to-video, 14B MoE"),
    "i2v-A14B": QT_TRANSLATE_NOOP("ModelsTable", "Wan2.2 image-to-video, 14B MoE"),
    "ti2v-5B": QT_TRANSLATE_NOOP("ModelsTable", "Wan2.2 text/image-to-video, 5B"),
    "qwen-text-small": QT_TRANSLATE_NOOP("ModelsTable", "Prompt extension, text (7B)"),
    "qwen-text-large": QT_TRANSLATE_NOOP("ModelsTable", "Prompt extension, text (14B)"),
    "qwen-vl-small": QT_TRANSLATE_NOOP("ModelsTable", "Prompt extension, image+text (3B)"),
    "qwen-vl-large": QT_TRANSLATE_NOOP("ModelsTable", "Prompt extension, image+text (7B)"),
}

SOURCE_NAMES = {"hf": "Hugging Face", "modelscope": "ModelScope"}
# Installed-copy origins that are another tool's layout, used in place (foreign_layout.py).
ADOPTED_NAMES = {
    "diffusers": QT_TRANSLATE_NOOP("ModelsTable", "diffusers format, in place"),
    "comfyui": QT_TRANSLATE_NOOP("ModelsTable", "ComfyUI files, in place"),
}


def status_text(row: ModelRow, speed: float = 0.0, eta_s: float | None = None) -> str:
    d = row.download
    if d is not None and d.status in ("queued", "running", "verifying"):
        words = {
            "queued": translate("ModelsTable", "Waiting"),
            "running": translate("ModelsTable", "Downloading"),
            "verifying": translate("ModelsTable", "Verifying"),
        }
        extra = (
            f" · {human_bytes(speed)}/s · {human_eta(eta_s)}"
            if d.status == "running" and speed
            else ""
        )
        return f"{words[d.status]} ({SOURCE_NAMES.get(d.source, d.source)}){extra}"
    if d is not None and d.status == "paused":
        return translate("ModelsTable", "Paused")
    if d is not None and d.status == "failed" and not row.installed:
        return translate("ModelsTable", "Failed: %1").replace("%1", d.error_message or "")
    if d is not None and d.status == "cancelled" and not row.installed:
        return translate("ModelsTable", "Cancelled")
    if row.installed:
        adopted = [ADOPTED_NAMES[c.origin] for c in row.installed if c.origin in ADOPTED_NAMES]
        if adopted:  # weights adopted in place from another tool's layout: say whose
            return translate("ModelsTable", "Installed (%1)").replace(
                "%1", translate("ModelsTable", adopted[0])
            )
        return translate("ModelsTable", "Installed")
    return translate("ModelsTable", "Not installed")


class ModelsTableModel(ColumnTableModel):
    COLUMNS = ("model", "status", "progress", "size", "location")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ModelRow] = []
        self._speed: dict[int, tuple[float, float | None]] = {}  # download id -> (speed, eta)

    def set_rows(self, rows: list[ModelRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, r: int) -> ModelRow:
        return self._rows[r]

    @property
    def rows(self) -> list[ModelRow]:
        return list(self._rows)

    def row_for_key(self, key: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.model.key == key), -1)

    def apply_event(self, e: DownloadEvent) -> bool:
        """Update one row from a download event without re-reading the database; False when no
        row shows that download yet (the caller re-reads)."""
        for i, r in enumerate(self._rows):
            if r.download is not None and r.download.id == e.download_id:
                d = replace(
                    r.download,
                    status=e.status,
                    done_bytes=e.done,
                    total_bytes=e.total or r.download.total_bytes,
                    error_message=e.message if e.status == "failed" else r.download.error_message,
                )
                self._rows[i] = replace(r, download=d)
                self._speed[e.download_id] = (e.speed, e.eta)
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.COLUMNS) - 1))
                return True
        return False

    # ---- QAbstractTableModel

    def _titles(self) -> dict[str, str]:
        return {
            "model": translate("ModelsTable", "Model"),
            "status": translate("ModelsTable", "Status"),
            "progress": translate("ModelsTable", "Progress"),
            "size": translate("ModelsTable", "Size"),
            "location": translate("ModelsTable", "Location"),
        }

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = self.COLUMNS[index.column()]
        if role == RowRole:
            return row
        if role == ProgressRole and col == "progress":
            p = row.progress
            return None if p is None else int(round(p * 100))
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.download is not None and row.download.error_message:
                return row.download.error_message + (
                    f"\n{row.download.error_hint}" if row.download.error_hint else ""
                )
            return row.model.repo_id
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if col == "model":
            suffix = translate("ModelsTable", " (optional)") if row.model.optional else ""
            title = row.model.title
            if TITLES.get(row.model.key) == title:
                title = translate("ModelsTable", title)
            return f"{title}{suffix}"
        if col == "status":
            speed, eta_s = (
                self._speed.get(row.download.id, (0.0, None)) if row.download else (0.0, None)
            )
            return status_text(row, speed, eta_s)
        if col == "progress":
            d = row.download
            if d is None or row.progress is None:
                return ""
            return f"{human_bytes(d.done_bytes)} / {human_bytes(d.total_bytes)}"
        if col == "size":
            if row.installed:
                return human_bytes(row.installed_bytes)
            return "~" + human_bytes(
                row.download.total_bytes if row.download else row.model.fallback_size
            )
        if col == "location":
            if row.installed:
                return "; ".join(c.path for c in row.installed)
            return row.download.target_dir if row.download else ""
        return None


class ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column as a progress bar with its byte count."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        value = index.data(ProgressRole)
        if value is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 4, -2, -4)
        bar.minimum, bar.maximum, bar.progress = 0, 100, int(value)
        bar.text = f"{value}% · {index.data()}"
        bar.textVisible = True
        bar.state = option.state
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)
