"""History: every finished video as a thumbnail grid (animated on hover) or a table, with search,
filters, a detail pane and the actions users take on a result.

All database work goes through ``ctx.tasks.run_db`` and all decoding through ``ctx.tasks.run``;
the widgets only render rows and turn clicks into those calls. Messages go to ``ctx.notifier``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wan22_desktop.errors import UserInputError
from wan22_desktop.gui.history_actions import (
    DATE_CHOICES,
    HOW_MADE_LINK,
    date_range,
    detail_html,
    how_made_html,
    job_how_made,
    last_frame_path,
    next_clip_request,
)
from wan22_desktop.gui.history_frames import last_frame, save_png
from wan22_desktop.gui.history_model import HistoryModel, Row
from wan22_desktop.gui.history_thumbs import THUMB_SIZE, HoverPreview, ThumbnailCache
from wan22_desktop.request import GenerationRequest
from wan22_desktop.request_cli import request_to_cli, unexpressed_fields
from wan22_desktop.services import history as history_ops
from wan22_desktop.services import queue as queue_ops
from wan22_desktop.services.history import DeleteResult, HistoryFilter, HistoryQuery
from wan22_desktop.services.rows import GenerationRow, JobRow
from wan22_desktop.tasks import TASKS

log = logging.getLogger(__name__)

STATE_KEY = "history_view"
SEARCH_DEBOUNCE_MS = 300


class HistoryView(QWidget):
    """The history gallery. Built as ``HistoryView(ctx, parent)`` by the main window."""

    # ---- Signals
    sig_selection_changed = Signal(object)
    """The shown row changed. Args: the ``GenerationRow``/``JobRow``, or None when nothing is
    selected."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.thumbs = ThumbnailCache(ctx.tasks, parent=self)
        self.hover = HoverPreview(ctx.tasks, parent=self)
        self.model = HistoryModel(
            ctx.db, ctx.tasks, thumbs=self.thumbs, hover=self.hover, parent=self
        )
        self._current: Row | None = None
        self._reselect: tuple[str, int] | None = None
        self._stale = False
        self.how_made_open = True  # the "How it was made" section (remembered in the view state)

        self._build_filters()
        self._build_views()
        self._build_detail()
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("historySplitter")
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(self.filter_bar)
        layout.addWidget(self.splitter, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.apply_filters)
        self.model.sig_loaded.connect(self._on_loaded)
        self.model.sig_load_failed.connect(ctx.notifier.error)
        self.model.modelReset.connect(lambda: self._show_row(None))
        ctx.events.sig_history_changed.connect(self._on_history_changed)
        QShortcut(QKeySequence.StandardKey.Delete, self, self.delete_selected)
        self._restore_state()
        self.model.reload()

    # ---- construction

    def _build_filters(self) -> None:
        self.search = QLineEdit(self)
        self.search.setObjectName("historySearch")
        self.search.setPlaceholderText(self.tr("Search prompts…"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.task_combo = QComboBox(self)
        self.task_combo.addItem(self.tr("All tasks"), None)
        for name in TASKS:
            self.task_combo.addItem(name, name)
        self.status_combo = QComboBox(self)
        for label, value in (
            (self.tr("Finished"), "done"),
            (self.tr("Failed"), "failed"),
            (self.tr("Cancelled"), "cancelled"),
            (self.tr("Interrupted"), "interrupted"),
        ):
            self.status_combo.addItem(label, value)
        self.date_combo = QComboBox(self)
        labels = {
            "any": self.tr("Any time"),
            "today": self.tr("Last 24 hours"),
            "week": self.tr("Last 7 days"),
            "month": self.tr("Last 30 days"),
        }
        for key in DATE_CHOICES:
            self.date_combo.addItem(labels[key], key)
        self.fav_check = QCheckBox(self.tr("Favourites"), self)
        self.tag_filter = QLineEdit(self)
        self.tag_filter.setPlaceholderText(self.tr("Tag"))
        self.tag_filter.setMaximumWidth(120)
        self.tag_filter.editingFinished.connect(self.apply_filters)
        for combo in (self.task_combo, self.status_combo, self.date_combo):
            combo.currentIndexChanged.connect(self.apply_filters)
        self.fav_check.toggled.connect(self.apply_filters)

        self.grid_button = QToolButton(self)
        self.grid_button.setText(self.tr("Grid"))
        self.list_button = QToolButton(self)
        self.list_button.setText(self.tr("List"))
        self.mode_group = QButtonGroup(self)
        for i, b in enumerate((self.grid_button, self.list_button)):
            b.setCheckable(True)
            self.mode_group.addButton(b, i)
        self.grid_button.setChecked(True)
        self.mode_group.idClicked.connect(self.set_mode)
        self.count_label = QLabel(self)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        for w in (
            self.task_combo,
            self.status_combo,
            self.date_combo,
            self.fav_check,
            self.tag_filter,
            self.count_label,
            self.grid_button,
            self.list_button,
        ):
            bar.addWidget(w)
        self.filter_bar: QHBoxLayout = bar

    def _build_views(self) -> None:
        self.grid = QListView(self)
        self.grid.setObjectName("historyGrid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)  # lets Qt lay out 10k items without asking each
        self.grid.setIconSize(THUMB_SIZE)
        self.grid.setGridSize(QSize(THUMB_SIZE.width() + 24, THUMB_SIZE.height() + 48))
        self.grid.setWordWrap(True)
        self.grid.setSpacing(6)
        self.grid.setMouseTracking(True)
        self.grid.setModel(self.model)
        self.grid.entered.connect(self._on_hover)
        self.grid.viewportEntered.connect(self.hover.stop)  # over the gaps between items
        self.grid.viewport().installEventFilter(self)

        self.table = QTableView(self)
        self.table.setObjectName("historyTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setIconSize(QSize(64, 36))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(40)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        for col in range(1, self.model.columnCount()):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionModel(self.grid.selectionModel())  # one selection for both modes

        for view in (self.grid, self.table):
            view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            view.doubleClicked.connect(lambda _i: self.play_selected())
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(lambda pos, v=view: self._context_menu(v, pos))
        self.grid.selectionModel().currentChanged.connect(self._on_current_changed)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.table)

    def _build_detail(self) -> None:
        self.detail = QWidget(self)
        self.detail_text = QTextBrowser(self.detail)
        self.detail_text.setObjectName("historyDetail")
        self.detail_text.setOpenLinks(False)
        self.detail_text.anchorClicked.connect(self._on_detail_link)

        def button(text: str, slot: Any, tip: str = "") -> QPushButton:
            b = QPushButton(text, self.detail)
            b.clicked.connect(lambda _c=False: slot())
            if tip:
                b.setToolTip(tip)
            return b

        self.play_button = button(self.tr("Play"), self.play_selected)
        self.rerun_button = button(
            self.tr("Re-run"),
            lambda: self.rerun(new_seed=False),
            self.tr("Queue the same request with the same seed"),
        )
        self.remix_button = button(
            self.tr("Remix"),
            lambda: self.rerun(new_seed=True),
            self.tr("Queue the same request with a new seed"),
        )
        self.continue_button = button(
            self.tr("Continue from last frame"),
            self.use_last_frame,
            self.tr("Start a new image-to-video job from the last frame"),
        )
        self.edit_button = button(self.tr("Edit in Generate"), self.edit_in_generate)
        self.fav_button = button(self.tr("Favourite"), self.toggle_favourite)
        self.fav_button.setCheckable(True)
        self.copy_button = button(
            self.tr("Copy command"),
            self.copy_command,
            self.tr("Copy a wan22 generate command line"),
        )
        self.folder_button = button(self.tr("Open folder"), self.open_folder)
        self.delete_button = button(self.tr("Delete…"), self.delete_selected)
        self.tags_edit = QLineEdit(self.detail)
        self.tags_edit.setPlaceholderText(self.tr("Tags, comma separated (Enter saves)"))
        self.tags_edit.returnPressed.connect(lambda: self.apply_tags(self.tags_edit.text()))
        self.retry_button = button(self.tr("Retry"), self.retry_job)

        rows = [
            (self.play_button, self.fav_button),
            (self.rerun_button, self.remix_button),
            (self.continue_button, self.edit_button),
            (self.copy_button, self.folder_button),
            (self.delete_button, self.retry_button),
        ]
        layout = QVBoxLayout(self.detail)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.detail_text, 1)
        layout.addWidget(self.tags_edit)
        for pair in rows:
            line = QHBoxLayout()
            for b in pair:
                line.addWidget(b)
            layout.addLayout(line)
        self._show_row(None)

    # ---- main-window hooks

    def on_shown(self) -> None:
        """Reload when something finished meanwhile (also by a runner in another process)."""
        if self._stale:
            self._stale = False
            self.reload()
            return
        db = self.ctx.db
        known = max(
            (
                row.id
                for row in (self.model.row(r) for r in range(self.model.rowCount()))
                if isinstance(row, GenerationRow)
            ),
            default=0,
        )
        self.ctx.tasks.run_db(
            lambda: history_ops.newest_generation_id(db),
            lambda top: self.reload() if top > known else None,
            self.ctx.notifier.error,
        )

    def reload(self) -> None:
        """Re-read the first page, keeping the selected row selected if it is still there."""
        if self._current is not None:
            self._reselect = (self._current.kind, self._current.id)
        self.model.reload()

    def save_state(self) -> None:
        self.ctx.settings.set_state(
            STATE_KEY,
            {
                "mode": self.stack.currentIndex(),
                "splitter": self.splitter.sizes(),
                "how_made_open": self.how_made_open,
            },
        )

    def shutdown(self) -> None:
        self._search_timer.stop()
        self.hover.stop()

    def _restore_state(self) -> None:
        state = self.ctx.settings.get_state(STATE_KEY, {}) or {}
        self.set_mode(int(state.get("mode", 0)))
        self.how_made_open = bool(state.get("how_made_open", True))
        sizes = state.get("splitter")
        if isinstance(sizes, list) and len(sizes) == 2:
            self.splitter.setSizes([int(s) for s in sizes])
        else:
            self.splitter.setSizes([900, 340])

    # ---- filters and modes

    def current_query(self) -> HistoryQuery:
        tag = self.tag_filter.text().strip() or None
        flt = HistoryFilter(
            task=self.task_combo.currentData(),
            favourite=True if self.fav_check.isChecked() else None,
            since=date_range(self.date_combo.currentData()),
            tag=tag,
            search=self.search.text().strip() or None,
        )
        return HistoryQuery(flt, self.status_combo.currentData())

    def apply_filters(self) -> None:
        self._search_timer.stop()
        query = self.current_query()
        if query != self.model.query:
            self.model.set_query(query)

    def set_mode(self, mode: int) -> None:
        """0: thumbnail grid, 1: table."""
        mode = 1 if mode == 1 else 0
        self.stack.setCurrentIndex(mode)
        (self.list_button if mode else self.grid_button).setChecked(True)

    def _on_loaded(self, loaded: int, total: int) -> None:
        self.count_label.setText(self.tr("%n result(s)", "", total))
        if self._reselect is not None:
            index = self.model.index_of(*self._reselect)
            self._reselect = None
            if index.isValid():
                self.select_row(index.row())

    def _on_history_changed(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    # ---- hover animation

    def _on_hover(self, index: QModelIndex) -> None:
        row = self.model.row(index.row()) if index.isValid() else None
        if isinstance(row, GenerationRow):
            self.hover.start(row)
        else:
            self.hover.stop()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.grid.viewport() and event.type() == QEvent.Type.Leave:
            self.hover.stop()
        return super().eventFilter(obj, event)

    # ---- selection and detail

    def select_row(self, r: int) -> None:
        index = self.model.index(r, 0)
        self.grid.selectionModel().setCurrentIndex(
            index,
            self.grid.selectionModel().SelectionFlag.ClearAndSelect
            | self.grid.selectionModel().SelectionFlag.Rows,
        )

    def selected_row(self) -> Row | None:
        return self._current

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_row(self.model.row(current.row()) if current.isValid() else None)

    def _show_row(self, row: Row | None) -> None:
        self._current = row
        gen = row if isinstance(row, GenerationRow) else None
        is_gen = gen is not None
        self._render_detail()
        for b in (
            self.play_button,
            self.continue_button,
            self.fav_button,
            self.folder_button,
            self.delete_button,
            self.tags_edit,
        ):
            b.setEnabled(is_gen)
        for b in (self.rerun_button, self.remix_button, self.copy_button, self.edit_button):
            b.setEnabled(row is not None)
        self.retry_button.setVisible(isinstance(row, JobRow))
        self.fav_button.setChecked(gen is not None and gen.favourite)
        self.tags_edit.setText(", ".join(gen.tags) if gen is not None else "")
        self.sig_selection_changed.emit(row)

    def _render_detail(self) -> None:
        row = self._current
        if row is None:
            html = "<p>" + self.tr("Select a video to see its details.") + "</p>"
        elif isinstance(row, GenerationRow):
            html = detail_html(row, how_made_html(row.how_made, expanded=self.how_made_open))
        else:
            html = detail_html(row, how_made_html(job_how_made(row), expanded=self.how_made_open))
        self.detail_text.setHtml(html)

    def toggle_how_made(self) -> None:
        """Open or close the detail pane's "How it was made" section (kept where it was)."""
        self.how_made_open = not self.how_made_open
        bar = self.detail_text.verticalScrollBar()
        at = bar.value()
        self._render_detail()
        bar.setValue(at)

    def _on_detail_link(self, url: QUrl) -> None:
        if url.toString() == HOW_MADE_LINK:
            self.toggle_how_made()

    def _replace_current(self, row: GenerationRow) -> None:
        self.model.update_row(row)
        if isinstance(self._current, GenerationRow) and self._current.id == row.id:
            self._show_row(row)

    def _context_menu(self, view: QAbstractItemView, pos: QPoint) -> None:
        """The detail pane's enabled buttons, as a right-click menu on the item."""
        index = view.indexAt(pos)
        if not index.isValid():
            return
        self.select_row(index.row())
        menu = QMenu(self)
        for b in (
            self.play_button,
            self.rerun_button,
            self.remix_button,
            self.continue_button,
            self.edit_button,
            self.fav_button,
            self.copy_button,
            self.folder_button,
            self.retry_button,
            self.delete_button,
        ):
            if b.isEnabled() and b.isVisible():
                menu.addAction(b.text(), b.click)
        menu.popup(view.viewport().mapToGlobal(pos))

    # ---- actions

    def _request(self, row: Row) -> GenerationRequest:
        if row.request is None:
            raise UserInputError(
                self.tr("the stored request of this row cannot be read"),
                self.tr("the details are in the log file"),
            )
        return row.request

    def _generation(self) -> GenerationRow | None:
        return self._current if isinstance(self._current, GenerationRow) else None

    def play_selected(self) -> None:
        row = self._generation()
        if row is None:
            return
        if not Path(row.video_path).is_file():
            self.ctx.notifier.warning(
                self.tr("The video file is missing"),
                row.video_path
                + " — "
                + self.tr(
                    "if another machine rendered it, mount the shared outputs folder here "
                    "or add a path mapping in Settings → Folders"
                ),
            )
            return
        self.ctx.events.sig_play_requested.emit(row.video_path)

    def rerun(self, new_seed: bool) -> None:
        """Queue the stored request again: same seed (re-run) or a new one (remix)."""
        row = self._current
        if row is None:
            return
        db = self.ctx.db
        if isinstance(row, GenerationRow):
            gid = row.id
            work = lambda: history_ops.rerun(db, gid, new_seed=new_seed)  # noqa: E731
        else:
            try:
                req = self._request(row)
            except UserInputError as exc:
                self.ctx.notifier.error(exc)
                return
            req = req.with_seed(-1) if new_seed else req
            work = lambda: queue_ops.enqueue(db, req)[0]  # noqa: E731
        self.ctx.tasks.run_db(work, self._queued, self.ctx.notifier.error)

    def retry_job(self) -> None:
        row = self._current
        if not isinstance(row, JobRow):
            return
        db, jid = self.ctx.db, row.id
        self.ctx.tasks.run_db(
            lambda: queue_ops.retry(db, jid), self._queued, self.ctx.notifier.error
        )

    def _queued(self, job_id: int) -> None:
        self.ctx.notifier.info(self.tr("Queued job #%1").replace("%1", str(job_id)))
        self.ctx.events.sig_queue_changed.emit()

    def toggle_favourite(self) -> None:
        row = self._generation()
        if row is None:
            return
        db, gid, value = self.ctx.db, row.id, not row.favourite
        self.ctx.tasks.run_db(
            lambda: history_ops.set_favourite(db, gid, value),
            self._replace_current,
            self._mark_failed,
        )

    def apply_tags(self, text: str) -> None:
        row = self._generation()
        if row is None:
            return
        db, gid = self.ctx.db, row.id
        tags = [t for t in text.split(",")]
        self.ctx.tasks.run_db(
            lambda: history_ops.set_tags(db, gid, tags), self._replace_current, self._mark_failed
        )

    def _mark_failed(self, exc: BaseException) -> None:
        self.ctx.notifier.error(exc)
        if self._current is not None:
            self._show_row(self._current)  # undo the optimistic check state

    def confirm_delete(self, row: Row) -> tuple[bool, bool]:
        """Ask before deleting. Returns (delete?, also delete the files?)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Delete from history"),
            self.tr("Delete this video from the history?"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        files = QCheckBox(self.tr("Also delete the video and thumbnail files"), box)
        box.setCheckBox(files)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes, files.isChecked()

    def delete_selected(self) -> None:
        row = self._generation()
        if row is None:
            return
        ok, with_files = self.confirm_delete(row)
        if not ok:
            return
        db, gid, outputs = self.ctx.db, row.id, self.ctx.paths.outputs
        self.hover.stop()

        def done(result: DeleteResult) -> None:
            self.model.remove_row("generation", gid)
            self.thumbs.forget(gid)
            if with_files and result.kept_files:
                self.ctx.notifier.info(
                    self.tr("Deleted; files outside the outputs folder were kept"),
                    ", ".join(result.kept_files),
                )
            else:
                self.ctx.notifier.info(self.tr("Deleted from the history"))

        self.ctx.tasks.run_db(
            lambda: history_ops.delete_generation(
                db, gid, delete_files=with_files, outputs_dir=outputs
            ),
            done,
            self.ctx.notifier.error,
        )

    def open_folder(self) -> None:
        row = self._generation()
        if row is None:
            return
        folder = Path(row.video_path).parent
        if not folder.is_dir():
            self.ctx.notifier.warning(self.tr("The folder no longer exists"), str(folder))
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def copy_command(self) -> str | None:
        """Copy the row's request as a ``wan22 generate`` line; returns the line."""
        row = self._current
        if row is None:
            return None
        try:
            req = self._request(row)
        except UserInputError as exc:
            self.ctx.notifier.error(exc)
            return None
        if isinstance(row, GenerationRow):
            req = req.with_seed(row.seed)
        line = request_to_cli(req)
        QGuiApplication.clipboard().setText(line)
        lost = unexpressed_fields(req)
        if lost:
            self.ctx.notifier.info(
                self.tr("Command copied; these settings have no flag: %1").replace(
                    "%1", ", ".join(lost)
                )
            )
        else:
            self.ctx.notifier.info(self.tr("Command copied to the clipboard"))
        return line

    def edit_in_generate(self) -> None:
        row = self._current
        if row is None:
            return
        try:
            request = self._request(row)
        except UserInputError as exc:
            self.ctx.notifier.error(exc)
            return
        self.ctx.events.sig_generate_prefill_requested.emit(request, None)

    def use_last_frame(self) -> None:
        """Save the last frame as a PNG in the data folder and open Generate with it as the image."""
        row = self._generation()
        if row is None:
            return
        video, target = row.video_path, last_frame_path(self.ctx.paths.data, row.id)
        try:
            previous = self._request(row)
        except UserInputError as exc:
            self.ctx.notifier.error(exc)
            return

        def extract() -> GenerationRequest:
            save_png(last_frame(video), target)
            return next_clip_request(previous, target)

        def done(request: GenerationRequest) -> None:
            self.ctx.events.sig_generate_prefill_requested.emit(request, None)

        self.ctx.tasks.run(extract, done, self.ctx.notifier.error)
