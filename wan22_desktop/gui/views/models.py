"""Models: what is installed and what can be downloaded, whether each task can run, downloads
with progress/pause/resume/cancel and a choice of source, importing a folder already on disk, copies
found in the Hugging Face / ModelScope caches, and disk usage.

The ``DownloadManager`` works on its own threads; its events reach this view through
``DownloadEventBridge`` (coalesced to <= 10 batches a second). DB reads and writes go through
``ctx.tasks.run_db``; layout checks and cache scans (disk I/O) through ``ctx.tasks.run``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from wan22_desktop.downloader import local_scan
from wan22_desktop.downloader.catalog import SOURCES
from wan22_desktop.downloader.local_scan import FoundCopy
from wan22_desktop.downloader.manager import ACTIVE, DownloadManager
from wan22_desktop.downloader.progress import DownloadEvent, human_bytes
from wan22_desktop.errors import OperationError, UserInputError
from wan22_desktop.gui.models_events import DownloadEventBridge
from wan22_desktop.gui.models_state import (
    ModelRow,
    TaskReadiness,
    build_rows,
    check_readiness,
    free_bytes,
)
from wan22_desktop.gui.models_table import SOURCE_NAMES, ModelsTableModel, ProgressDelegate
from wan22_desktop.services import models as model_ops
from wan22_desktop.services.models import InstalledCopy

log = logging.getLogger(__name__)

FINAL_STATUSES = ("done", "failed", "cancelled", "paused")


class ModelsView(QWidget):
    """Built as ``ModelsView(ctx, parent)`` by the main window."""

    # ---- Signals
    sig_refreshed = Signal()
    """Rows, readiness and disk usage were re-read."""

    sig_copies_found = Signal(list)
    """A cache scan finished. Args: list of ``FoundCopy``."""

    sig_models_changed = Signal()
    """A model folder was added (download finished, import, cache copy registered)."""

    def __init__(
        self, ctx: Any, parent: QWidget | None = None, *, manager: DownloadManager | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.bridge = DownloadEventBridge(parent=self)
        self.manager = manager or DownloadManager(
            ctx.db, ctx.paths.models, on_event=self.bridge.push
        )
        if manager is not None:
            manager.on_event = self.bridge.push
        self.hf_cache: Path | None = None  # None: huggingface_hub's own cache folder
        self.ms_cache: Path | None = None  # None: $MODELSCOPE_CACHE or ~/.cache/modelscope/hub
        self.readiness: list[TaskReadiness] = []
        self.found: list[FoundCopy] = []
        self._started: set[int] = set()
        self._refresh_pending = False
        self._refreshing = False

        self.table_model = ModelsTableModel(self)
        self._build()
        self.bridge.sig_events.connect(self._on_events)
        ctx.tasks.run_db(self.manager.recover, lambda _ids: self.refresh(), ctx.notifier.error)

    # ---- construction

    def _build(self) -> None:
        self.disk_label = QLabel(self)
        self.disk_label.setObjectName("modelsDisk")
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.clicked.connect(self.refresh)
        self.guide_button = QPushButton(self.tr("First-run guide…"), self)
        self.guide_button.setObjectName("modelsFirstRunGuide")
        self.guide_button.setToolTip(
            self.tr("What this computer can run, and one-click downloads of a first model")
        )
        self.guide_button.clicked.connect(
            lambda: self.ctx.events.sig_view_requested.emit("first_run")
        )
        top = QHBoxLayout()
        top.addWidget(self.disk_label, 1)
        top.addWidget(self.guide_button)
        top.addWidget(self.refresh_button)

        self.table = QTableView(self)
        self.table.setObjectName("modelsTable")
        self.table.setModel(self.table_model)
        self.table.setItemDelegateForColumn(
            ModelsTableModel.COLUMNS.index("progress"), ProgressDelegate(self.table)
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(2, 220)
        header.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())

        self.source_combo = QComboBox(self)
        for s in SOURCES:
            self.source_combo.addItem(SOURCE_NAMES.get(s, s), s)
        self.endpoint_edit = QLineEdit(self)
        self.endpoint_edit.setPlaceholderText(
            self.tr("Mirror endpoint (optional), e.g. https://hf-mirror.com")
        )
        self.download_button = QPushButton(self.tr("Download"), self)
        self.pause_button = QPushButton(self.tr("Pause"), self)
        self.resume_button = QPushButton(self.tr("Resume"), self)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.download_button.clicked.connect(lambda: self._on_selected(self.download))
        self.pause_button.clicked.connect(lambda: self._on_selected(self.pause))
        self.resume_button.clicked.connect(lambda: self._on_selected(self.resume))
        self.cancel_button.clicked.connect(lambda: self._on_selected(self.cancel))
        actions = QHBoxLayout()
        actions.addWidget(QLabel(self.tr("Source:"), self))
        actions.addWidget(self.source_combo)
        actions.addWidget(self.endpoint_edit, 1)
        for b in (self.download_button, self.pause_button, self.resume_button, self.cancel_button):
            actions.addWidget(b)

        self.readiness_list = QListWidget(self)
        self.readiness_list.setObjectName("modelsReadiness")
        ready_box = QGroupBox(self.tr("Ready to generate"), self)
        QVBoxLayout(ready_box).addWidget(self.readiness_list)

        self.import_button = QPushButton(self.tr("Import folder…"), self)
        self.import_button.setToolTip(
            self.tr("Use a model folder already on disk, in place (no copy)")
        )
        self.import_button.clicked.connect(self._choose_import)
        self.scan_button = QPushButton(self.tr("Look in caches"), self)
        self.scan_button.setToolTip(
            self.tr("Find models downloaded before with huggingface-cli or modelscope")
        )
        self.scan_button.clicked.connect(self.scan_caches)
        self.found_list = QListWidget(self)
        self.found_list.setObjectName("modelsFound")
        self.register_button = QPushButton(self.tr("Use this copy"), self)
        self.register_button.clicked.connect(self._register_selected)
        local_box = QGroupBox(self.tr("Models on this computer"), self)
        local = QVBoxLayout(local_box)
        line = QHBoxLayout()
        line.addWidget(self.import_button)
        line.addWidget(self.scan_button)
        line.addWidget(self.register_button)
        local.addLayout(line)
        local.addWidget(self.found_list)

        bottom = QHBoxLayout()
        bottom.addWidget(ready_box, 1)
        bottom.addWidget(local_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 2)
        layout.addLayout(actions)
        layout.addLayout(bottom, 1)
        self._update_buttons()

    # ---- main-window hooks

    def on_shown(self) -> None:
        self.refresh()

    def shutdown(self) -> None:
        """Pause running downloads (they resume later from their .part files) and join threads."""
        self.bridge.stop()
        for did in list(self._started):
            self.manager.pause(did)
        for did in list(self._started):
            self.manager.wait(did, 10)
        self._started.clear()

    # ---- reading state

    @property
    def rows(self) -> list[ModelRow]:
        return self.table_model.rows

    def refresh(self) -> None:
        """Re-read installed folders and downloads (DB thread), then check layouts and disk (pool)."""
        if self._refreshing:
            self._refresh_pending = True
            return
        self._refreshing = True
        db, manager = self.ctx.db, self.manager
        self.ctx.tasks.run_db(
            lambda: (model_ops.installed_copies(db), manager.list()),
            self._got_db_state,
            self._refresh_failed,
        )

    def _got_db_state(self, state: tuple[list[InstalledCopy], list[Any]]) -> None:
        installed, downloads = state
        self._set_rows(build_rows(installed, downloads))
        models_dir = self.ctx.paths.models
        self.ctx.tasks.run(
            lambda: (check_readiness(installed), free_bytes(models_dir)),
            self._got_disk_state,
            self._refresh_failed,
        )

    def _got_disk_state(self, state: tuple[list[TaskReadiness], int]) -> None:
        self.readiness, free = state
        self.readiness_list.clear()
        for r in self.readiness:
            if r.ready:
                text = (
                    self.tr("✓ %1 — ready (%2)").replace("%1", r.task).replace("%2", r.path or "")
                )
            else:
                why = r.problem if r.problem is not None else self.tr("not installed")
                text = self.tr("✗ %1 — %2").replace("%1", r.task).replace("%2", why)
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, r.task)
            self.readiness_list.addItem(item)
        used = sum(row.installed_bytes for row in self.rows)
        self.disk_label.setText(
            self.tr("Models folder: %1 — %2 free, %3 used by installed models")
            .replace("%1", str(self.ctx.paths.models))
            .replace("%2", human_bytes(free))
            .replace("%3", human_bytes(used))
        )
        self._refreshing = False
        self.sig_refreshed.emit()
        if self._refresh_pending:
            self._refresh_pending = False
            self.refresh()

    def _refresh_failed(self, exc: BaseException) -> None:
        self._refreshing = False
        self.ctx.notifier.error(exc)

    def _set_rows(self, rows: list[ModelRow]) -> None:
        current = self.table.currentIndex().row()
        key = (
            self.table_model.row(current).model.key
            if 0 <= current < self.table_model.rowCount()
            else None
        )
        self.table_model.set_rows(rows)
        if key is not None:
            self.select_model(key)
        self._update_buttons()

    # ---- selection

    def select_model(self, key: str) -> None:
        r = self.table_model.row_for_key(key)
        if r >= 0:
            self.table.selectRow(r)
            self.table.setCurrentIndex(self.table_model.index(r, 0))

    def selected_row(self) -> ModelRow | None:
        r = self.table.currentIndex().row()
        return self.table_model.row(r) if 0 <= r < self.table_model.rowCount() else None

    def _on_selected(self, action: Any) -> None:
        row = self.selected_row()
        if row is not None:
            action(row.model.key)

    def _update_buttons(self) -> None:
        row = self.selected_row()
        d = row.download if row else None
        active = d is not None and d.status in ACTIVE
        self.download_button.setEnabled(row is not None and not active)
        self.pause_button.setEnabled(active)
        self.resume_button.setEnabled(
            d is not None and d.status in ("paused", "failed", "cancelled")
        )
        self.cancel_button.setEnabled(d is not None and d.status in (*ACTIVE, "paused"))
        self.register_button.setEnabled(bool(self.found))

    # ---- downloads

    def download(self, key: str, source: str | None = None, endpoint: str | None = None) -> None:
        """Create (or continue) the download of catalogue model ``key`` and start it."""
        source = source or self.source_combo.currentData()
        endpoint = (endpoint if endpoint is not None else self.endpoint_edit.text()).strip() or None
        if endpoint is not None and not endpoint.startswith(("http://", "https://")):
            self.ctx.notifier.error(
                UserInputError(
                    self.tr("The mirror endpoint must be an http(s) URL"),
                    self.tr("for example https://hf-mirror.com, or leave it empty"),
                )
            )
            return
        manager = self.manager
        self.ctx.tasks.run_db(
            lambda: manager.create(key, source=source, endpoint=endpoint),
            self._start,
            self.ctx.notifier.error,
        )

    def _start(self, download_id: int) -> None:
        self._started.add(download_id)
        self.manager.start(download_id)
        self.refresh()

    def _download_id(self, key: str) -> int | None:
        r = self.table_model.row_for_key(key)
        row = self.table_model.row(r) if r >= 0 else None
        return row.download.id if row is not None and row.download is not None else None

    def pause(self, key: str) -> None:
        did = self._download_id(key)
        if did is not None:
            self.manager.pause(did)

    def resume(self, key: str) -> None:
        did = self._download_id(key)
        if did is not None:
            self._start(did)

    def cancel(self, key: str) -> None:
        did = self._download_id(key)
        if did is None:
            return
        manager = self.manager
        self.ctx.tasks.run_db(
            lambda: manager.cancel(did), lambda _r: self.refresh(), self.ctx.notifier.error
        )

    def _on_events(self, events: list[DownloadEvent]) -> None:
        refresh = False
        for e in events:
            if not self.table_model.apply_event(e):
                refresh = True  # started before the rows were re-read
            if e.kind == "status" and e.status in FINAL_STATUSES:
                refresh = True
                if e.status == "failed" and e.message:
                    self.ctx.notifier.error(OperationError(e.message, e.hint))
                elif e.status == "done":
                    self.ctx.notifier.info(self.tr("Download finished"))
                    self._announce_models_changed()
        self._update_buttons()
        if refresh:
            self.refresh()

    # ---- folders on disk

    def import_folder(self, path: str | Path) -> None:
        """Register an official-layout folder in place (no copy)."""
        db, root = self.ctx.db, Path(path)
        self.ctx.tasks.run_db(
            lambda: model_ops.import_folder(db, root), self._imported, self.ctx.notifier.error
        )

    def _imported(self, summary: str) -> None:
        self.ctx.notifier.info(self.tr("Model folder added: %1").replace("%1", summary))
        self.refresh()
        self._announce_models_changed()

    def _announce_models_changed(self) -> None:
        self.sig_models_changed.emit()
        self.ctx.events.sig_models_changed.emit()  # app-wide: Generate's installed-model list

    def _choose_import(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, self.tr("Choose a model folder"), str(self.ctx.paths.models)
        )
        if path:
            self.import_folder(path)

    def scan_caches(self) -> None:
        hf, ms = self.hf_cache, self.ms_cache
        self.ctx.tasks.run(
            lambda: local_scan.find_copies(hf, ms), self._got_copies, self.ctx.notifier.error
        )
        comfy = self.ctx.settings.get("comfyui_dir")
        if comfy:  # the ComfyUI install named in Settings: its files are used in place
            db, models = self.ctx.db, self.ctx.paths.models
            self.ctx.tasks.run_db(
                lambda: model_ops.adopt_comfyui(db, comfy, models),
                self._comfy_adopted,
                self.ctx.notifier.error,
            )

    def _comfy_adopted(self, tasks: list[str]) -> None:
        if tasks:
            self.ctx.notifier.info(
                self.tr("ComfyUI models used in place: %1").replace("%1", ", ".join(tasks))
            )
            self.refresh()
            self._announce_models_changed()

    def _got_copies(self, found: list[FoundCopy]) -> None:
        installed = {c.path for row in self.rows for c in row.installed}
        self.found = [f for f in found if str(f.path) not in installed]
        self.found_list.clear()
        for f in self.found:
            where = (
                self.tr("Hugging Face cache")
                if f.origin == "hf-cache"
                else self.tr("ModelScope cache")
            )
            self.found_list.addItem(f"{f.repo_id} — {where}: {f.path}")
        if not self.found:
            self.found_list.addItem(self.tr("No other copies found"))
        self._update_buttons()
        self.sig_copies_found.emit(self.found)

    def _register_selected(self) -> None:
        r = self.found_list.currentRow()
        if 0 <= r < len(self.found):
            self.register_copy(self.found[r])

    def register_copy(self, found: FoundCopy) -> None:
        db = self.ctx.db
        self.ctx.tasks.run_db(
            lambda: model_ops.import_folder(
                db, found.path, model=found.repo_id, origin=found.origin
            ),
            self._imported,
            self.ctx.notifier.error,
        )
