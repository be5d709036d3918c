"""The Queue view: the live job list, the running job's preview, and what users do to jobs.

State lives in the database: the view polls it on the DB thread every ``POLL_MS`` (and at once
after any action), and overlays live progress from the ``RunnerController``. Actions go to
``services.queue`` on the DB thread; errors land in the status area, never in a dialog.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QItemSelectionModel, QPoint, QSize, Qt, QTimer
from PySide6.QtGui import QImage, QImageReader, QMovie, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wan22_desktop.errors import UserInputError
from wan22_desktop.gui.context import AppContext
from wan22_desktop.gui.queue_model import (
    COLUMNS,
    JobTableModel,
    ProgressRole,
    duration_text,
    phase_text,
)
from wan22_desktop.gui.runner_controller import RUNNING, RunnerController
from wan22_desktop.gui.widgets.progress_delegate import ProgressDelegate
from wan22_desktop.runtime.hardware import Hardware
from wan22_desktop.services import queue as queue_ops
from wan22_desktop.services import queue_eta
from wan22_desktop.services.queue import DatabaseUnreachableError, QueueSnapshot, RunnerRow
from wan22_desktop.services.rows import JobRow

log = logging.getLogger(__name__)

POLL_MS = 500
HIDDEN_POLL_MS = 2000
PREVIEW_SIZE = QSize(320, 180)
HEADER_KEY = "queue_header"
SPLITTER_KEY = "queue_splitter"


def load_preview(path: str) -> QImage:
    """Read and scale a preview image (worker thread: QImage, unlike QPixmap, is thread-safe)."""
    reader = QImageReader(path)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(PREVIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()


def read_animation(path: str) -> bytes:
    """The preview GIF's bytes (worker thread). Played from memory, so the GUI never holds the
    file open while the worker replaces it (Windows cannot replace an open file)."""
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


class QueueView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.runner: RunnerController | None = None
        self._host = socket.gethostname()
        self.snapshot: QueueSnapshot | None = None
        self._polling = False
        self._preview_path: str | None = None
        self._preview_key: tuple[Any, ...] | None = None  # (path, step): which preview is shown
        self._movie: QMovie | None = None
        self._movie_data: QByteArray | None = None
        self._movie_buffer: QBuffer | None = None
        self._db_reachable = True
        # The finish estimate: speeds measured from finished jobs, read again only when the number
        # of done jobs changes (not per poll); the GPU for the table fallback; a clock tests fix.
        self._speeds: queue_eta.Speeds = {}
        self._speeds_done: int | None = None
        self._loading_speeds = False
        self._gpu_name, self._gpu_count = "", 1
        self.now: Callable[[], datetime] = lambda: datetime.now(timezone.utc).replace(tzinfo=None)
        self.model = JobTableModel(self)
        self._build()
        self.model.sig_move_requested.connect(self.move_job)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        ctx.events.sig_queue_changed.connect(self.refresh)
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._restore_state()
        self.refresh()

    # ---- building

    def _build(self) -> None:
        self.table = QTableView(self)
        self.table.setObjectName("jobsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.table.setDragEnabled(True)
        self.table.setAcceptDrops(True)
        self.table.setDropIndicatorShown(True)
        self.table.setDragDropOverwriteMode(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setItemDelegateForColumn(
            COLUMNS.index("progress"), ProgressDelegate(ProgressRole, self.table)
        )
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(28)
        header = self.table.horizontalHeader()
        widths = {
            "id": 44,
            "status": 96,
            "task": 80,
            "progress": 130,
            "phase": 90,
            "step": 60,
            "eta": 90,
            "finish": 80,
            "seed": 110,
        }
        for name, width in widths.items():
            header.resizeSection(COLUMNS.index(name), width)
        header.setSectionResizeMode(COLUMNS.index("prompt"), QHeaderView.ResizeMode.Stretch)

        self.pause = QPushButton(self.tr("Pause queue"), self)
        self.pause.setObjectName("pauseQueue")
        self.pause.setCheckable(True)
        self.cancel = QPushButton(self.tr("Cancel"), self)
        self.cancel.setObjectName("cancelJob")
        self.reroll = QPushButton(self.tr("Stop and re-roll"), self)
        self.reroll.setObjectName("rerollJob")
        self.reroll.setToolTip(
            self.tr(
                "Stop this job and queue it again first with a new seed; other jobs are untouched"
            )
        )
        self.retry = QPushButton(self.tr("Retry"), self)
        self.retry.setObjectName("retryJob")
        self.retry_safer = QPushButton(self.tr("Retry with less GPU memory"), self)
        self.retry_safer.setObjectName("retrySaferJob")
        self.retry_safer.setVisible(False)  # only for a job that ran out of GPU memory
        self.retry_safer.setToolTip(
            self.tr(
                "The job ran out of GPU memory: queue it again with more of the GPU kept free, "
                "so the planner picks a smaller plan"
            )
        )
        self.edit = QPushButton(self.tr("Edit…"), self)
        self.edit.setObjectName("editJob")
        self.remove = QPushButton(self.tr("Remove"), self)
        self.remove.setObjectName("removeJob")
        self.up = QPushButton(self.tr("Move up"), self)
        self.up.setObjectName("moveUp")
        self.down = QPushButton(self.tr("Move down"), self)
        self.down.setObjectName("moveDown")
        self.release = QPushButton(self.tr("Release GPU"), self)
        self.release.setObjectName("releaseGpu")
        self.pause.clicked.connect(self.set_paused)
        self.cancel.clicked.connect(
            lambda: self._on_selected(queue_ops.cancel, self.tr("Cancel requested"))
        )
        self.reroll.clicked.connect(self.reroll_selected)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_context_menu)
        self.retry.clicked.connect(
            lambda: self._on_selected(queue_ops.retry, self.tr("Job queued again"))
        )
        self.retry_safer.clicked.connect(self.retry_safer_selected)
        self.remove.clicked.connect(
            lambda: self._on_selected(queue_ops.remove, self.tr("Job removed"))
        )
        self.up.clicked.connect(lambda: self._move_selected("up"))
        self.down.clicked.connect(lambda: self._move_selected("down"))
        self.edit.clicked.connect(self.edit_selected)
        self.release.clicked.connect(self.release_gpu)
        bar = QHBoxLayout()
        for b in (
            self.pause,
            self.cancel,
            self.reroll,
            self.retry,
            self.retry_safer,
            self.edit,
            self.remove,
            self.up,
            self.down,
        ):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.release)

        self.runner_label = QLabel(self)
        self.runner_label.setObjectName("runnerLabel")
        self.runner_label.setWordWrap(True)
        self.preview = QLabel(self)
        self.preview.setObjectName("livePreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(PREVIEW_SIZE / 2)
        self.preview.setFrameShape(QLabel.Shape.StyledPanel)
        self.running_label = QLabel(self)
        self.running_label.setObjectName("runningLabel")
        self.running_label.setWordWrap(True)
        side = QWidget(self)
        sl = QVBoxLayout(side)
        sl.addWidget(QLabel("<b>" + self.tr("Now rendering") + "</b>", side))
        sl.addWidget(self.preview)
        sl.addWidget(self.running_label)
        sl.addStretch(1)
        self.runners_title = QLabel("<b>" + self.tr("Runners") + "</b>", side)
        self.runners = QTableWidget(0, 4, side)
        self.runners.setObjectName("runnersTable")
        self.runners.setHorizontalHeaderLabels(
            [self.tr("Machine"), self.tr("GPU"), self.tr("Job"), self.tr("Last seen (UTC)")]
        )
        self.runners.verticalHeader().setVisible(False)
        self.runners.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runners.horizontalHeader().setStretchLastSection(True)
        sl.addWidget(self.runners_title)
        sl.addWidget(self.runners)
        sl.addWidget(self.runner_label)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("queueSplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        self.eta_label = QLabel(self)
        self.eta_label.setObjectName("queueEtaLabel")
        self.eta_label.setWordWrap(True)
        lay.addLayout(bar)
        lay.addWidget(self.eta_label)
        lay.addWidget(self.splitter, 1)
        self._show_running(None)
        self.on_runner_attached(None)
        self._update_actions()

    # ---- runner

    def on_runner_attached(self, runner: RunnerController | None) -> None:
        if runner is not None and runner is not self.runner:
            self.runner = runner
            runner.sig_job_progress.connect(self._on_live_progress)
            runner.sig_job_event.connect(lambda *_: self.refresh())
            runner.sig_state_changed.connect(lambda *_: self._update_runner_state())
        self._update_runner_state()

    def _update_runner_state(self) -> None:
        connected = self.runner is not None and self.runner.mode == RUNNING
        self.release.setEnabled(connected)
        self.release.setToolTip(
            self.tr("Stop the worker after the current job to free GPU memory")
            if connected
            else self.tr("Available when this window runs the queue")
        )
        self._show_lease()

    def release_gpu(self) -> None:
        if self.runner is not None:
            self.runner.release_gpu()

    def _on_live_progress(self, job_id: int, progress: dict[str, Any]) -> None:
        self.model.set_live_progress(job_id, progress)
        running = self._running_job()
        if running is not None and running.id == job_id:
            self._show_running(running)

    # ---- polling

    def refresh(self) -> None:
        if self._polling:
            return
        self._polling = True
        self.ctx.tasks.run_db(
            lambda: queue_ops.read_snapshot(self.ctx.db), self._on_snapshot, self._on_poll_error
        )

    def _on_poll_error(self, exc: BaseException) -> None:
        self._polling = False
        if isinstance(exc, DatabaseUnreachableError):
            # The poll goes on; a lasting mark instead of a notice every half second.
            if self._db_reachable:
                self._db_reachable = False
                self.ctx.events.sig_database_state.emit(False, exc.message)
            return
        self.ctx.notifier.error(exc)

    def _on_snapshot(self, snap: QueueSnapshot) -> None:
        self._polling = False
        if not self._db_reachable:
            self._db_reachable = True
            self.ctx.events.sig_database_state.emit(True, "")
        selected = self.selected_job()
        previous, self.snapshot = self.snapshot, snap
        if previous is not None and snap.counts.get("done", 0) > previous.counts.get("done", 0):
            self.ctx.events.sig_history_changed.emit()  # also when another process ran the job
        self.model.set_jobs(list(snap.jobs))
        if selected is not None:
            row = self.model.row_of(selected.id)
            if row is not None and self.table.currentIndex().row() != row:
                self.table.selectionModel().select(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        self.pause.blockSignals(True)
        self.pause.setChecked(snap.paused)
        self.pause.setText(self.tr("Resume queue") if snap.paused else self.tr("Pause queue"))
        self.pause.blockSignals(False)
        self._show_running(self._running_job())
        self._show_lease()
        self._show_runners(snap.runners)
        self._update_eta()
        self._update_actions()
        self.ctx.events.sig_queue_counts_changed.emit(dict(snap.counts), snap.paused)

    # ---- when the queue will be done

    def _update_eta(self) -> None:
        """Recompute the finish estimate (pure, cheap); reload the measured speeds once another
        job has finished."""
        snap = self.snapshot
        if snap is None:
            return
        done = snap.counts.get("done", 0)
        if done != self._speeds_done and not self._loading_speeds:
            self._loading_speeds = True
            self.ctx.tasks.run_db(
                lambda: (done, queue_eta.calibrate(queue_eta.load_runs(self.ctx.db))),
                self._on_speeds,
                self._on_speeds_error,
            )
        if not self._gpu_name and (hw := self.ctx.hardware()) is not None and hw.gpus:
            self._gpu_name, self._gpu_count = hw.gpus[0].name, len(hw.gpus)
        lanes = queue_eta.lanes_from_runners(
            snap.runners, host=self._host, gpu_name=self._gpu_name, gpus=self._gpu_count
        )
        active = [j for j in snap.jobs if j.status in ("running", "queued")]
        eta = queue_eta.estimate_queue(
            active, self._speeds, lanes, paused=snap.paused, now=self.now()
        )
        self.model.set_eta(eta)
        self.eta_label.setText(self.eta_text(eta))
        self.eta_label.setVisible(bool(active))

    def _on_speeds(self, result: tuple[int, queue_eta.Speeds]) -> None:
        self._loading_speeds = False
        self._speeds_done, self._speeds = result
        self._update_eta()

    def _on_speeds_error(self, exc: BaseException) -> None:
        self._loading_speeds = False
        log.warning("queue estimate: could not read the finished jobs: %s", exc)

    def eta_text(self, eta: queue_eta.QueueEta) -> str:
        """ "Queue done about 06:40 · 3 h 10 min (from 4 finished jobs)"."""
        if eta.paused:
            return self.tr("Queue paused: no finish time until it is resumed.")
        if eta.total_s is None or eta.finish_at is None:
            return self.tr(
                "Queue finish time unknown: no job has finished on this PC yet to measure its speed."
            )
        text = (
            self.tr("Queue done about %1 · %2")
            .replace("%1", queue_eta.local_clock(eta.finish_at, eta.now))
            .replace("%2", duration_text(eta.total_s))
        )
        if eta.measured_runs and eta.table_jobs:
            basis = self.tr(
                "from %n finished job(s), partly the official timing table", "", eta.measured_runs
            )
        elif eta.measured_runs:
            basis = self.tr("from %n finished job(s)", "", eta.measured_runs)
        else:
            basis = self.tr("estimate from the official timing table")
        if eta.lanes > 1:
            basis += self.tr(", shared by %n runner(s)", "", eta.lanes)
        return f"{text} ({basis})"

    def _show_lease(self) -> None:
        snap = self.snapshot
        runner = self.runner
        if runner is not None and runner.mode == RUNNING:
            text = self.tr("This window runs the queue.")
        elif snap is not None and snap.lease is not None:
            host, pid = snap.lease.host, snap.lease.pid
            text = (
                self.tr(
                    "The queue is run by another process (pid %1 on %2); this window only shows it."
                )
                .replace("%1", str(pid))
                .replace("%2", host)
            )
        else:
            text = self.tr("No runner is working on this queue.")
        self.runner_label.setText(text)

    def _show_runners(self, runners: tuple[RunnerRow, ...]) -> None:
        """Every machine working this queue; shown once there is more than this window's own."""
        many = len(runners) > 1 or any(r.host != self._host for r in runners)
        self.runners_title.setVisible(many)
        self.runners.setVisible(many)
        self.runners.setRowCount(len(runners))
        for row, r in enumerate(runners):
            job = self.tr("job %1").replace("%1", str(r.job_id)) if r.job_id else self.tr("idle")
            if r.job_id:
                progress = next((j.progress for j in self.model.jobs if j.id == r.job_id), None)
                if progress is not None and progress.step is not None and progress.total:
                    job += f" · {progress.step}/{progress.total}"
            if not r.alive:
                job = self.tr("not responding")
            cells = (
                f"{r.host} (pid {r.pid}" + (f", {r.mode})" if r.mode else ")"),
                ", ".join(r.gpus) or self.tr("no GPU"),
                job,
                r.heartbeat_at.replace("T", " ").removesuffix("Z"),
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(
                    self.tr("version %1; models: %2")
                    .replace("%1", r.version)
                    .replace("%2", ", ".join(r.models) or "-")
                )
                self.runners.setItem(row, col, item)

    # ---- the running job

    def _running_job(self) -> JobRow | None:
        return next((j for j in self.model.jobs if j.status == "running"), None)

    def _show_running(self, job: JobRow | None) -> None:
        if job is None:
            self._stop_movie()
            self.preview.setPixmap(QPixmap())
            self.preview.setText(self.tr("Nothing is rendering"))
            self.running_label.setText("")
            self._preview_path = None
            self._preview_key = None
            return
        progress = self.model.progress_of(job)
        step, total = progress.get("step"), progress.get("total")
        phase = phase_text(progress.get("phase"))
        parts = [f"#{job.id} {job.task}", phase]
        if step is not None and total:
            parts.append(
                self.tr("step %1 of %2").replace("%1", str(step)).replace("%2", str(total))
            )
        self.running_label.setText(" · ".join(p for p in parts if p))
        path = progress.get("preview_path")
        animation = progress.get("preview_animation") or None
        key = (path, progress.get("preview_step"), animation)
        if path and key != self._preview_key and Path(path).is_file():
            self._preview_path, self._preview_key = path, key
            if animation and Path(animation).is_file():
                self.ctx.tasks.run(lambda: read_animation(animation), self._on_animation_loaded)
            else:
                self.ctx.tasks.run(lambda: load_preview(path), self._on_preview_loaded)
        elif not path and self._preview_path is None:
            self.preview.setText(self.tr("Preview appears after the first steps"))

    def _on_preview_loaded(self, image: QImage) -> None:
        if not image.isNull():
            self._stop_movie()
            self.preview.setPixmap(QPixmap.fromImage(image))

    def _on_animation_loaded(self, data: bytes) -> None:
        """Loop the tiny-VAE preview clip in the preview box (scaled like the still image)."""
        if not data or self._preview_key is None:
            return
        self._stop_movie()
        self._movie_data = QByteArray(data)
        self._movie_buffer = QBuffer(self._movie_data, self)
        self._movie_buffer.open(QBuffer.OpenModeFlag.ReadOnly)
        movie = QMovie(self._movie_buffer, QByteArray(b"gif"), self)
        if not movie.isValid():
            self._stop_movie()
            if self._preview_path:  # show the still frame instead
                path = self._preview_path
                self.ctx.tasks.run(lambda: load_preview(path), self._on_preview_loaded)
            return
        movie.jumpToFrame(0)
        size = movie.currentImage().size()
        if size.isValid():
            movie.setScaledSize(size.scaled(PREVIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio))
        self._movie = movie
        self.preview.setMovie(movie)
        movie.start()

    def _stop_movie(self) -> None:
        if self._movie is not None:
            self._movie.stop()
            self.preview.setMovie(None)  # type: ignore[arg-type]
            self._movie.deleteLater()
            self._movie = None
        if self._movie_buffer is not None:
            self._movie_buffer.close()
            self._movie_buffer.deleteLater()
            self._movie_buffer = None
        self._movie_data = None

    # ---- actions

    def selected_job(self) -> JobRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.job(rows[0].row()) if rows else None

    def _update_actions(self, *_: object) -> None:
        job = self.selected_job()
        status = job.status if job else None
        self.cancel.setEnabled(status in ("queued", "running"))
        self.reroll.setEnabled(status in ("queued", "running"))
        self.retry.setEnabled(status in ("failed", "cancelled", "interrupted"))
        oom = job is not None and job.error is not None and job.error.kind == "out_of_memory"
        self.retry_safer.setVisible(oom and status == "failed")
        self.edit.setEnabled(status == "queued")
        self.remove.setEnabled(status is not None and status != "running")
        self.up.setEnabled(status == "queued")
        self.down.setEnabled(status == "queued")

    def _run(self, fn: Callable[[], Any], done_message: str | None = None) -> None:
        def done(_result: Any) -> None:
            if done_message:
                self.ctx.notifier.info(done_message)
            self.ctx.events.sig_queue_changed.emit()

        self.ctx.tasks.run_db(fn, done, self.ctx.notifier.error)

    def _on_selected(self, op: Callable[[Any, int], Any], message: str) -> None:
        job = self.selected_job()
        if job is not None:
            self._run(lambda: op(self.ctx.db, job.id), message)

    def retry_safer_selected(self) -> None:
        """Queue the selected out-of-memory job again with a smaller plan (``services.queue``);
        where no smaller plan exists, the notice says so and what to change."""
        job = self.selected_job()
        if job is None:
            return
        db, job_id, hardware = self.ctx.db, job.id, self.ctx.hardware() or Hardware()

        def done(result: tuple[int, str]) -> None:
            self.ctx.notifier.info(
                self.tr("Job %1 queued again with %2 % of the GPU kept free")
                .replace("%1", str(job_id))
                .replace("%2", str(result[0]))
            )
            self.ctx.events.sig_queue_changed.emit()

        self.ctx.tasks.run_db(
            lambda: queue_ops.retry_safer(db, job_id, hardware), done, self.ctx.notifier.error
        )

    def reroll_selected(self) -> None:
        """Stop the selected job and queue it again first with a new seed (``services.queue``)."""
        job = self.selected_job()
        if job is None:
            return
        db, job_id = self.ctx.db, job.id

        def done(new_id: int) -> None:
            self.ctx.notifier.info(
                self.tr("Job %1 stopped; re-rolled as job %2 with a new seed")
                .replace("%1", str(job_id))
                .replace("%2", str(new_id))
            )
            self.ctx.events.sig_queue_changed.emit()

        self.ctx.tasks.run_db(lambda: queue_ops.reroll(db, job_id), done, self.ctx.notifier.error)

    def context_menu(self) -> QMenu:
        """The selected job's actions, as the buttons above the table offer them."""
        menu = QMenu(self)
        for button in (
            self.reroll,
            self.cancel,
            self.retry,
            self.retry_safer,
            self.edit,
            self.remove,
        ):
            if button.isHidden():  # retry with less GPU memory: only after out-of-memory
                continue
            action = menu.addAction(button.text())
            action.setEnabled(button.isEnabled())
            action.setObjectName(button.objectName())
            action.triggered.connect(button.click)
        return menu

    def _show_context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        self.context_menu().exec(self.table.viewport().mapToGlobal(pos))

    def _move_selected(self, to: queue_ops.MoveTo) -> None:
        job = self.selected_job()
        if job is not None:
            self.move_job(job.id, to)

    def move_job(self, job_id: int, to: queue_ops.MoveTo) -> None:
        self._run(lambda: queue_ops.move(self.ctx.db, job_id, to))

    def set_paused(self, paused: bool) -> None:
        self._run(
            lambda: queue_ops.set_paused(self.ctx.db, paused),
            self.tr("Queue paused: the running job finishes, no new one starts")
            if paused
            else self.tr("Queue resumed"),
        )

    def edit_selected(self) -> None:
        """Open the queued job in Generate; saving there writes it back (``replace_request``)."""
        job = self.selected_job()
        if job is None or job.status != "queued":
            return
        if job.request is None:
            self.ctx.notifier.error(
                UserInputError(
                    self.tr("job %1's stored request cannot be read").replace("%1", str(job.id)),
                    self.tr("remove the job and queue it again"),
                )
            )
            return
        self.ctx.events.sig_generate_prefill_requested.emit(job.request, job.id)

    # ---- view hooks

    def on_shown(self) -> None:
        self._timer.setInterval(POLL_MS)
        self.refresh()

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self._timer.setInterval(HIDDEN_POLL_MS)  # keeps the status bar's counts fresh
        super().hideEvent(event)

    def _restore_state(self) -> None:
        if header := self.ctx.settings.get_state(HEADER_KEY):
            self.table.horizontalHeader().restoreState(
                QByteArray.fromBase64(header.encode("ascii"))
            )
        if splitter := self.ctx.settings.get_state(SPLITTER_KEY):
            self.splitter.restoreState(QByteArray.fromBase64(splitter.encode("ascii")))

    def save_state(self) -> None:
        for key, obj in (
            (HEADER_KEY, self.table.horizontalHeader()),
            (SPLITTER_KEY, self.splitter),
        ):
            self.ctx.settings.set_state(
                key, bytes(obj.saveState().toBase64().data()).decode("ascii")
            )

    def shutdown(self) -> None:
        self._timer.stop()
