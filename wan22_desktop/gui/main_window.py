"""The main window: a sidebar of views, the views' stack and the status area. Nothing else.

For view authors:

* Register a view with one line in ``view_registry.VIEWS``: ``ViewSpec(key, title, "module:Class")``.
  The class is built as ``Class(ctx, parent)`` (``ctx``: ``AppContext``).
* Optional hooks on a view: ``on_shown()`` (became the current view; refresh here),
  ``save_state()`` (window is closing; write UI state with ``ctx.settings.set_state``),
  ``shutdown()`` (stop timers/threads you own).
* Switch views with ``ctx.events.sig_view_requested.emit(key)``; ``sig_play_requested`` also
  switches to "player" and ``sig_generate_prefill_requested`` to "generate".
* Optional ``on_runner_attached(runner)``: the ``RunnerController`` is ready (also ``ctx.runner``).
* The first view is built before the window shows; the rest right after (one event-loop turn), so
  cold start stays fast and every view exists to receive app events.
* The first-run guide (``views/first_run.py``) is a page outside the sidebar: shown once the views
  are built while no model is installed (until skipped), and by ``show_view("first_run")``.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from wan22_desktop.errors import OperationError
from wan22_desktop.gui.context import AppContext
from wan22_desktop.gui.runner_controller import RunnerController
from wan22_desktop.gui.view_registry import VIEWS, ViewSpec
from wan22_desktop.gui.widgets.status_area import StatusArea

log = logging.getLogger(__name__)

FIRST_RUN_KEY = "first_run"  # show_view() key of the first-run guide (not a sidebar view)

STATE_KEY = "main_window"
SIDEBAR_STYLE = """
QListWidget#sidebar { background: palette(base); font-size: 11pt; outline: 0; }
QListWidget#sidebar::item { padding: 9px 14px; border-radius: 6px; margin: 2px 6px; }
QListWidget#sidebar::item:selected { background: palette(highlight); color: palette(highlighted-text); }
"""


class MainWindow(QMainWindow):
    def __init__(
        self, ctx: AppContext, *, views: tuple[ViewSpec, ...] = VIEWS, icon: QIcon | None = None
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(self.tr("Wan22 Desktop"))
        if icon is not None:
            self.setWindowIcon(icon)
        self._specs = {spec.key: spec for spec in views}
        self._views: dict[str, QWidget] = {}
        self.first_run: QWidget | None = None  # the first-run guide, built when first shown
        self.runtime_setup_dialog: QWidget | None = None  # while `wan22 runtime setup` runs
        self._navigated = False

        self.sidebar = QListWidget(self)
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setMinimumWidth(120)
        self.sidebar.setFrameShape(QListWidget.Shape.NoFrame)
        self.sidebar.setStyleSheet(SIDEBAR_STYLE)
        self.stack = QStackedWidget(self)
        for spec in views:
            item = QListWidgetItem(spec.translated_title())
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            self.sidebar.addItem(item)
            self.stack.addWidget(QWidget(self.stack))  # replaced when the view is built
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([160, 1000])
        self.setCentralWidget(self.splitter)
        self.status_area = StatusArea(self)
        self.statusBar().addWidget(self.status_area, 1)
        self.statusBar().setSizeGripEnabled(True)

        ctx.notifier.sig_notice_posted.connect(self.status_area.show_notice)
        ctx.events.sig_database_state.connect(self.status_area.set_database_state)
        ctx.events.sig_view_requested.connect(self.show_view)
        ctx.events.sig_play_requested.connect(lambda _path: self.show_view("player"))
        ctx.events.sig_generate_prefill_requested.connect(lambda *_: self.show_view("generate"))
        ctx.events.sig_queue_counts_changed.connect(self._on_queue_counts)
        ctx.events.sig_model_download_requested.connect(self._download_model)
        self.sidebar.currentRowChanged.connect(self._on_row_changed)

        self.resize(1280, 820)
        self._restore_state()
        self._navigated = False  # a view was chosen since start: the guide then does not pop up
        QTimer.singleShot(0, self._build_all)
        self._check_worker_env()

    def _check_worker_env(self) -> None:
        """In the Linux bundle (ADR 0023) rendering needs the worker venv: say how to make it."""
        from wan22_desktop.frozen import is_frozen, worker_env_ready

        if is_frozen() and not worker_env_ready(self.ctx.paths.data):
            self.status_area.setup_runtime.setVisible(True)
            self.status_area.setup_runtime.clicked.connect(self.setup_runtime)
            self.ctx.notifier.warning(
                self.tr("Rendering is not set up yet: the worker's torch environment is missing."),
                self.tr(
                    "click Set up rendering (or run `./wan22 runtime setup` in the app's folder; "
                    "it downloads torch, a few GB); the queue, history and downloads work meanwhile"
                ),
            )

    def setup_runtime(self) -> None:
        """``wan22 runtime setup`` with its progress; the button goes once rendering is set up."""
        from wan22_desktop.gui.widgets.runtime_setup import RuntimeSetupDialog, setup_command

        data = self.ctx.paths.data
        dialog = RuntimeSetupDialog(setup_command(data), data, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._runtime_setup_closed(dialog.succeeded))
        self.runtime_setup_dialog = dialog
        dialog.open()  # window-modal; the window keeps painting while it runs
        dialog.start()

    def _runtime_setup_closed(self, succeeded: bool) -> None:
        self.runtime_setup_dialog = None
        if succeeded:
            self.status_area.setup_runtime.setVisible(False)
            self.ctx.notifier.info(self.tr("Rendering is set up: jobs in the queue can run now."))

    def _download_model(self, key: str) -> None:
        """A catalogue download asked for by another view (Generate's Fast presets) runs in the
        Models view, with its progress, pause and cancel."""
        models = self.view("models")
        download = getattr(models, "download", None)
        if download is not None:
            download(key)

    # ---- views

    @property
    def keys(self) -> list[str]:
        return list(self._specs)

    def view(self, key: str) -> QWidget:
        """The view for ``key``, building it on first use."""
        if key not in self._views:
            widget = self._build_view(self._specs[key])
            widget.setObjectName(f"view_{key}")
            index = self.keys.index(key)
            old = self.stack.widget(index)
            self.stack.insertWidget(index, widget)
            if old is not None:  # the placeholder put there at start
                self.stack.removeWidget(old)
                old.deleteLater()
            self._views[key] = widget
            if self.ctx.runner is not None and hasattr(widget, "on_runner_attached"):
                widget.on_runner_attached(self.ctx.runner)
        return self._views[key]

    def _build_view(self, spec: ViewSpec) -> QWidget:
        """The view; one that fails to start (say, no multimedia backend for the player) must not
        take the window down: its page says so, the reason goes to the status area and the log."""
        try:
            return spec.load()(self.ctx, self.stack)
        except Exception as exc:  # noqa: BLE001 - shown as a notice, traceback in the log
            log.error("view %s failed to start", spec.key, exc_info=True)
            self.ctx.notifier.error(
                OperationError(
                    self.tr("The %1 view could not start: %2")
                    .replace("%1", spec.translated_title())
                    .replace("%2", str(exc) or type(exc).__name__),
                    self.tr("the details are in the log file"),
                )
            )
        failed = QLabel(
            self.tr("The %1 view could not start.").replace("%1", spec.translated_title()),
            self.stack,
        )
        failed.setAlignment(Qt.AlignmentFlag.AlignCenter)
        failed.setEnabled(False)
        return failed

    def show_view(self, key: str) -> None:
        if key == FIRST_RUN_KEY:
            self.show_first_run()
            return
        if key not in self._specs:
            log.warning("unknown view %r requested", key)
            return
        self.sidebar.setCurrentRow(self.keys.index(key))

    def current_key(self) -> str:
        row = max(self.sidebar.currentRow(), 0)
        return self.keys[row]

    def _on_row_changed(self, row: int) -> None:
        if row < 0:
            return
        key = self.keys[row]
        self._navigated = True
        widget = self.view(key)
        self.stack.setCurrentWidget(widget)
        if hasattr(widget, "on_shown"):
            widget.on_shown()

    def _build_all(self) -> None:
        for key in self.keys:
            self.view(key)
        self._check_first_run()

    # ---- first-run guide

    def _check_first_run(self) -> None:
        """Show the guide while no model is installed, unless the user skipped it before."""
        from wan22_desktop.gui.first_run_state import SKIPPED_STATE, should_show
        from wan22_desktop.runtime.planning import installed_models

        if self.ctx.settings.get_state(SKIPPED_STATE, False):
            return
        db = self.ctx.db
        self.ctx.tasks.run_db(
            lambda: list(installed_models(db)),
            lambda tasks: self._auto_first_run(should_show(tasks, False)),
        )

    def _auto_first_run(self, show: bool) -> None:
        if show and not self._navigated:
            self.show_first_run()

    def show_first_run(self) -> None:
        """Show the guide in the views' stack; choosing a sidebar view leaves it."""
        if self.first_run is None:
            from wan22_desktop.gui.views.first_run import FirstRunView

            models = self.view("models") if "models" in self._specs else None
            guide = FirstRunView(self.ctx, self.stack, models=models)
            guide.setObjectName(f"view_{FIRST_RUN_KEY}")
            guide.sig_closed.connect(lambda: self.show_view(self.keys[0]))
            self.stack.addWidget(guide)
            self.first_run = guide
        self.sidebar.setCurrentRow(-1)
        self.stack.setCurrentWidget(self.first_run)
        self.first_run.on_shown()  # type: ignore[attr-defined]

    def _on_queue_counts(self, counts: dict, paused: bool) -> None:
        running, queued = counts.get("running", 0), counts.get("queued", 0)
        text = (
            self.tr("Queue: %1 running, %2 waiting")
            .replace("%1", str(running))
            .replace("%2", str(queued))
        )
        if paused:
            text += self.tr(" (paused)")
        self.status_area.set_queue_text(text)

    # ---- runner

    def attach_runner(self, runner: RunnerController) -> None:
        """Show the runner's mode in the status area; views reach it through ``ctx.runner``."""
        self.ctx.runner = runner
        runner.sig_state_changed.connect(self._on_runner_state)
        self._on_runner_state(runner.mode, runner.detail)
        for widget in self._views.values():
            if hasattr(widget, "on_runner_attached"):
                widget.on_runner_attached(runner)

    def _on_runner_state(self, mode: str, detail: str) -> None:
        words = {
            "running": self.tr("Runner: on"),
            "read_only": self.tr("Runner: another process"),
            "stopped": self.tr("Runner: stopped"),
        }
        self.status_area.set_runner_text(words.get(mode, mode), detail)

    # ---- state

    def _restore_state(self) -> None:
        state = self.ctx.settings.get_state(STATE_KEY, {}) or {}
        if geometry := state.get("geometry"):
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode("ascii")))
        if splitter := state.get("splitter"):
            self.splitter.restoreState(QByteArray.fromBase64(splitter.encode("ascii")))
        key = state.get("view")
        if key not in self._specs:
            key = self.keys[0]
        self.show_view(key)

    def save_state(self) -> None:
        """Write geometry, splitter and current view (and each view's own state) to settings."""
        for widget in self._views.values():
            if hasattr(widget, "save_state"):
                widget.save_state()
        self.ctx.settings.set_state(
            STATE_KEY,
            {
                "geometry": bytes(self.saveGeometry().toBase64().data()).decode("ascii"),
                "splitter": bytes(self.splitter.saveState().toBase64().data()).decode("ascii"),
                "view": self.current_key(),
            },
        )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_state()
        self.ctx.save_settings()
        for widget in (*self._views.values(), self.first_run, self.runtime_setup_dialog):
            if widget is not None and hasattr(widget, "shutdown"):
                widget.shutdown()
        super().closeEvent(event)
