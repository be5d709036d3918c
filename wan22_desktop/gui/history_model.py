"""The history as a Qt item model: pages of rows fetched on demand, off the GUI thread.

One model feeds both the grid (column 0: thumbnail + prompt) and the table (all columns). Rows are
frozen ``GenerationRow``s (failed/cancelled jobs as ``JobRow``s) from ``services.history``, so
nothing ORM-bound crosses threads. Only the pages the view scrolls to are
loaded (``fetchMore``), so 10,000 generations open as fast as 100.

A filter change bumps an epoch: pages that arrive for an older filter are dropped.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPixmap

from wan22_desktop.db.database import Database
from wan22_desktop.gui.column_model import ColumnTableModel
from wan22_desktop.gui.history_thumbs import HoverPreview, ThumbnailCache
from wan22_desktop.services.history import HistoryFilter, HistoryPage, HistoryQuery, load_page
from wan22_desktop.services.rows import GenerationRow, HistoryRow, JobRow

log = logging.getLogger(__name__)

PAGE_SIZE = 120
Row = HistoryRow
_Index = QModelIndex | QPersistentModelIndex
translate = QCoreApplication.translate


def short_prompt(row: Row, limit: int = 60) -> str:
    text = " ".join(row.prompt.split()) or translate("HistoryModel", "(no prompt)")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def created_label(row: Row) -> str:
    ts = row.created_at if isinstance(row, GenerationRow) else row.finished_at
    if not ts:
        return ""
    try:
        return datetime.fromisoformat(ts.rstrip("Z")).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return ts


class HistoryModel(ColumnTableModel):
    """Paged generations. Columns: prompt, task, size, frames, seed, created, favourite, tags."""

    COLUMNS = ("prompt", "task", "size", "frames", "seed", "created", "favourite", "tags")
    RowRole = Qt.ItemDataRole.UserRole + 1
    IdRole = Qt.ItemDataRole.UserRole + 2

    # ---- Signals
    sig_loaded = Signal(int, int)
    """A page arrived. Args: rows now loaded, total rows matching the query."""

    sig_load_failed = Signal(object)
    """Reading the history failed. Args: the exception (for the notifier)."""

    def __init__(
        self,
        db: Database,
        tasks: Any,
        *,
        thumbs: ThumbnailCache | None = None,
        hover: HoverPreview | None = None,
        page_size: int = PAGE_SIZE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._db = db
        self._tasks = tasks  # TaskRunner: run_db(fn, on_done, on_error)
        self.thumbs = thumbs
        self.hover = hover
        self.page_size = page_size
        self.query = HistoryQuery()
        self._rows: list[Row] = []
        self._row_of: dict[tuple[str, int], int] = {}
        self._total = 0
        self._next_page = 0
        self._loading = False
        self._epoch = 0
        self._placeholder = QPixmap()
        if thumbs is not None:
            thumbs.sig_thumbnail_ready.connect(self._repaint_id)
        if hover is not None:
            hover.sig_frame_changed.connect(self._repaint_id)

    # ---- queries

    @property
    def total(self) -> int:
        return self._total

    @property
    def loading(self) -> bool:
        return self._loading

    def set_query(self, query: HistoryQuery) -> None:
        self.query = query
        self.reload()

    def set_filter(self, flt: HistoryFilter) -> None:
        self.set_query(replace(self.query, filter=flt))

    def reload(self) -> None:
        """Drop the rows and load the first page again (after a filter change or a refresh)."""
        self._epoch += 1
        self.beginResetModel()
        self._rows, self._row_of, self._total, self._next_page = [], {}, 0, 0
        self._loading = False
        self.endResetModel()
        self._load_next()

    def row(self, r: int) -> Row:
        return self._rows[r]

    def index_of(self, kind: str, rid: int) -> QModelIndex:
        r = self._row_of.get((kind, rid))
        return QModelIndex() if r is None else self.index(r, 0)

    def update_row(self, new: Row) -> None:
        """Replace a row after a change (favourite, tags) without reloading the page."""
        r = self._row_of.get((new.kind, new.id))
        if r is None:
            return
        self._rows[r] = new
        self.dataChanged.emit(self.index(r, 0), self.index(r, self.columnCount() - 1))

    def remove_row(self, kind: str, rid: int) -> None:
        r = self._row_of.get((kind, rid))
        if r is None:
            return
        self.beginRemoveRows(QModelIndex(), r, r)
        del self._rows[r]
        self._total -= 1
        self._reindex()
        self.endRemoveRows()

    # ---- paging (Qt calls these as the view scrolls)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._loading and len(self._rows) < self._total

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:
        if self.canFetchMore(parent):
            self._load_next()

    def _load_next(self) -> None:
        self._loading = True
        epoch, page, query, db, size = (
            self._epoch,
            self._next_page,
            self.query,
            self._db,
            self.page_size,
        )
        self._tasks.run_db(
            lambda: load_page(db, query, page, size),
            lambda result: self._page_loaded(epoch, page, result),
            lambda exc: self._page_failed(epoch, exc),
        )

    def _page_loaded(self, epoch: int, page: int, result: HistoryPage) -> None:
        if epoch != self._epoch:
            return  # an older query's page
        self._loading = False
        self._total = result.total
        self._next_page = page + 1
        fresh = [r for r in result.rows if (r.kind, r.id) not in self._row_of]
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            for i, r in enumerate(fresh, start=first):
                self._row_of[(r.kind, r.id)] = i
            self.endInsertRows()
        if not result.rows:
            self._total = len(self._rows)  # rows were deleted meanwhile: stop asking
        self.sig_loaded.emit(len(self._rows), self._total)

    def _page_failed(self, epoch: int, exc: BaseException) -> None:
        if epoch != self._epoch:
            return
        self._loading = False
        self._total = len(self._rows)
        self.sig_load_failed.emit(exc)

    def _reindex(self) -> None:
        self._row_of = {(r.kind, r.id): i for i, r in enumerate(self._rows)}

    def _repaint_id(self, gid: int) -> None:
        r = self._row_of.get(("generation", gid))
        if r is not None:
            idx = self.index(r, 0)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    # ---- QAbstractTableModel

    def _titles(self) -> dict[str, str]:
        return {
            "prompt": translate("HistoryModel", "Prompt"),
            "task": translate("HistoryModel", "Task"),
            "size": translate("HistoryModel", "Size"),
            "frames": translate("HistoryModel", "Frames"),
            "seed": translate("HistoryModel", "Seed"),
            "created": translate("HistoryModel", "Created"),
            "favourite": translate("HistoryModel", "★"),
            "tags": translate("HistoryModel", "Tags"),
        }

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        col = self.COLUMNS[index.column()]
        if role == self.RowRole:
            return row
        if role == self.IdRole:
            return row.id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == Qt.ItemDataRole.DecorationRole and col == "prompt":
            return self._decoration(row)
        if role == Qt.ItemDataRole.ToolTipRole and col == "prompt":
            final = row.final_prompt if isinstance(row, GenerationRow) else None
            return final or row.prompt or None
        if role == Qt.ItemDataRole.ForegroundRole and isinstance(row, JobRow):
            return QColor("#c0392b")
        return None

    def _display(self, row: Row, col: str) -> Any:
        if col == "prompt":
            star = isinstance(row, GenerationRow) and row.favourite
            return ("★ " if star else "") + short_prompt(row)
        if col == "task":
            return row.task
        if col == "created":
            return created_label(row)
        if isinstance(row, JobRow):
            if col == "seed":
                return row.seed
            if col == "tags":
                return row.status + (f": {row.error.message}" if row.error else "")
            return None
        if col == "size":
            return f"{row.width}×{row.height}"
        if col == "frames":
            return row.frames
        if col == "seed":
            return str(row.seed)
        if col == "favourite":
            return "★" if row.favourite else ""
        if col == "tags":
            return ", ".join(row.tags)
        return None

    def _decoration(self, row: Row) -> QPixmap | None:
        if not isinstance(row, GenerationRow):
            return None
        if self.hover is not None and (frame := self.hover.frame(row.id)) is not None:
            return frame
        if self.thumbs is None:
            return None
        pix = self.thumbs.get(row)
        return pix if pix is not None else self._placeholder_pixmap()

    def _placeholder_pixmap(self) -> QPixmap:
        if self._placeholder.isNull() and self.thumbs is not None:
            self._placeholder = QPixmap(self.thumbs.size)
            self._placeholder.fill(QColor("#2b2b2b"))
        return self._placeholder
