"""``AppContext``: what every view gets — paths, settings, database, background tasks, notices.

API for views:

* ``ctx.paths`` (``AppPaths`` with the user's outputs/models folders applied), ``ctx.settings``
  (``Settings``; ``get/set/save``; ``get_state/set_state`` for UI state such as splitter sizes),
  ``ctx.db`` (``Database``; pass it to ``wan22_desktop.services`` operations, only inside
  ``ctx.tasks.run_db``; they return frozen rows, never ORM objects).
* ``ctx.tasks`` (``TaskRunner``): ``run_db(fn, on_done, on_error)`` for anything touching the
  database (one thread, serialized), ``run(fn, on_done, on_error)`` for other slow work. Callbacks
  run on the GUI thread. Default ``on_error``: pass ``ctx.notifier.error``.
* ``ctx.notifier`` (``Notifier``): ``error(exc)``, ``info(msg, hint)``, ``warning(msg, hint)``;
  shown in the main window's status area. Never open an error dialog from a view.
* ``ctx.events`` (``AppEvents``): app-wide intents and changes, e.g.
  ``ctx.events.sig_view_requested.emit("player")``, ``sig_play_requested.emit(path)``,
  ``sig_generate_prefill_requested.emit(request, job_id_or_None)``; ``sig_queue_changed`` and
  ``sig_history_changed`` tell views to refresh; ``sig_queue_counts_changed(counts, paused)``
  carries the queue's state (status bar, tray).
* ``ctx.hardware(callback)``: the probed ``Hardware`` (probed once, in a subprocess, lazily;
  ``wait_hardware()`` blocks for it from a worker thread);
  ``ctx.runner``: the ``RunnerController`` (set by the app; may be None in tests).

A view is a ``QWidget`` whose constructor takes ``(ctx, parent=None)``; see ``main_window``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from wan22_desktop.db.database import Database, open_app_database
from wan22_desktop.errors import OperationError, UserInputError
from wan22_desktop.gui.notifier import Notifier
from wan22_desktop.gui.task_runner import TaskRunner
from wan22_desktop.path_map import parse_mappings
from wan22_desktop.paths import AppPaths, app_paths
from wan22_desktop.runtime.hardware import Hardware, probe_in_subprocess
from wan22_desktop.services.rows import set_path_mappings
from wan22_desktop.settings import Settings, effective_paths

log = logging.getLogger(__name__)

SETTINGS_POLL_MS = 2000  # how soon the window sees a setting another process saved


class AppEvents(QObject):
    """App-wide signals: views announce changes and ask for other views without knowing them."""

    # ---- Signals
    sig_view_requested = Signal(str)
    """Show a view. Args: view key ("generate", "queue", "history", "player", "models", "settings")."""

    sig_generate_prefill_requested = Signal(object, object)
    """Open Generate filled from a request. Args: ``GenerationRequest``, job id to edit or None."""

    sig_play_requested = Signal(str)
    """Play a video in the player. Args: file path."""

    sig_queue_changed = Signal()
    """Jobs were added, edited, moved or removed by this window."""

    sig_queue_counts_changed = Signal(dict, bool)
    """The queue's state as last read. Args: {status: count}, whether the queue is paused."""

    sig_history_changed = Signal()
    """Generations were added or changed (a job finished, a mark changed)."""

    sig_models_changed = Signal()
    """A model was installed, imported, registered or removed."""

    sig_model_download_requested = Signal(str)
    """Start a catalogue download in the Models view (a Fast preset's LoRAs). Args: catalogue key."""

    sig_settings_changed = Signal(str)
    """A setting was saved. Args: key."""

    sig_hardware_ready = Signal(object)
    """The hardware probe finished. Args: ``Hardware``."""

    sig_database_state = Signal(bool, str)
    """The database answered (True, "") or could not be reached (False, why). Emitted by the
    Queue view's poll on every change, so a server outage is a banner, not a dialog per poll."""


class AppContext:
    """Shared state for one data dir. Create on the GUI thread; ``close()`` before exit."""

    def __init__(
        self,
        paths: AppPaths,
        settings: Settings,
        db: Database,
        *,
        tasks: TaskRunner | None = None,
        hardware: Hardware | None = None,
        hardware_probe: Callable[[], Hardware] | None = None,
    ) -> None:
        self.base_paths = paths
        self.settings = settings
        self.paths = effective_paths(paths, settings)
        self.db = db
        self.tasks = tasks or TaskRunner()
        self.notifier = Notifier()
        self.events = AppEvents()
        self.runner: Any = None  # RunnerController, attached by the app
        self._hardware = hardware
        self._hardware_ready = (
            threading.Event()
        )  # for the runner thread, which must not probe twice
        if hardware is not None:
            self._hardware_ready.set()
        self._probe = hardware_probe or (
            lambda: probe_in_subprocess((self.paths.models, self.paths.outputs))
        )
        self._probing = False
        self._settings_stamp = settings.file_stamp()
        self._settings_timer: Any = None  # watch_settings_file
        self.tasks.sig_task_failed.connect(self.notifier.error)
        self._apply_path_mappings("path_mappings")
        self.events.sig_settings_changed.connect(self._apply_path_mappings)

    def _apply_path_mappings(self, key: str) -> None:
        if key != "path_mappings":
            return
        try:
            set_path_mappings(parse_mappings(self.settings.get("path_mappings")))
        except UserInputError as exc:  # a hand-edited settings.json: say so, map nothing
            set_path_mappings(())
            self.notifier.warning(exc.message, exc.hint)

    @classmethod
    def open(cls, home: str | None = None, **kwargs: Any) -> AppContext:
        """Open the data dir: settings (a corrupt file is backed up, defaults used), database."""
        paths = app_paths(home).ensure()
        settings = Settings.load(paths, recover=True)
        ctx = cls(paths, settings, open_app_database(paths), **kwargs)
        ctx.paths.ensure()
        if settings.recovered_from is not None:
            ctx.notifier.warning(
                "settings.json was corrupt; defaults are in use",
                f"a copy was saved as {settings.recovered_from.name}",
            )
        return ctx

    # ---- hardware

    def hardware(self, callback: Callable[[Hardware], None] | None = None) -> Hardware | None:
        """The probed hardware, or None while the first probe runs (``callback`` gets it then)."""
        if self._hardware is not None:
            if callback is not None:
                callback(self._hardware)
            return self._hardware
        if callback is not None:
            self.events.sig_hardware_ready.connect(callback, type=_single_shot())
        if not self._probing:
            self._probing = True
            self.tasks.run(self._probe, self._hardware_probed, self._hardware_failed)
        return None

    def wait_hardware(self, timeout_s: float = 300.0) -> Hardware:
        """The probed hardware, waiting for the probe (any thread; start it with ``hardware()``
        on the GUI thread first). Raises ``OperationError`` when it does not arrive in time."""
        if not self._hardware_ready.wait(timeout_s) or self._hardware is None:
            raise OperationError("the hardware check did not finish", "see the log file")
        return self._hardware

    def _hardware_probed(self, hw: Hardware) -> None:
        self._hardware = hw
        self._hardware_ready.set()
        self._probing = False
        if hw.error:
            log.warning("hardware probe: %s", hw.error)
        self.events.sig_hardware_ready.emit(hw)

    def _hardware_failed(self, exc: BaseException) -> None:
        self._probing = False
        log.warning("hardware probe failed: %s", exc)
        self._hardware_probed(Hardware(error=str(exc)))

    # ---- settings

    def save_settings(self) -> None:
        """Save settings; a failure becomes a notice (the app keeps running)."""
        try:
            self.settings.save()
        except Exception as exc:  # noqa: BLE001 - shown, not raised, at shutdown
            self.notifier.error(exc)
        self._settings_stamp = self.settings.file_stamp()

    def watch_settings_file(self, interval_ms: int = SETTINGS_POLL_MS) -> None:
        """Pick up what another process saves to settings.json (``wan22 settings set`` while
        the window is open): poll its stamp (one stat, also on network folders, where file
        watchers stay silent) and announce each changed option like a change made here."""
        from PySide6.QtCore import QTimer

        self._settings_stamp = self.settings.file_stamp()
        self._settings_timer = QTimer(self.events)
        self._settings_timer.setInterval(interval_ms)
        self._settings_timer.timeout.connect(self.check_settings_file)
        self._settings_timer.start()

    def check_settings_file(self) -> None:
        stamp = self.settings.file_stamp()
        if stamp == self._settings_stamp:
            return
        self._settings_stamp = stamp
        changed = self.settings.reload()
        if changed:
            log.info("settings.json changed on disk: %s", ", ".join(changed))
        for key in changed:
            self.events.sig_settings_changed.emit(key)

    def close(self) -> None:
        """Stop the runner and background threads, then close the database."""
        if self.runner is not None:
            self.runner.shutdown()
        self.tasks.shutdown(wait=True)
        self.db.close()


def _single_shot():  # noqa: ANN202 - Qt's connection-type enum
    from PySide6.QtCore import Qt

    return Qt.ConnectionType.SingleShotConnection
