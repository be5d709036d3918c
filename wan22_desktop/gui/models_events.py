"""Download events from worker threads to the GUI thread, coalesced to a few batches per second.

``DownloadManager`` calls ``on_event`` on its file threads, often many times a second per file.
``push`` only stores the newest progress per download under a lock (status changes are all kept,
in order) and, the first time after a flush, wakes the GUI thread through a queued signal; the GUI
thread then flushes at most once per ``interval_ms``. So however fast the bytes come, the view
repaints at most ~10 times a second.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from wan22_desktop.downloader.progress import DownloadEvent

DEFAULT_INTERVAL_MS = 100


class DownloadEventBridge(QObject):
    """Create on the GUI thread; pass ``push`` as the manager's ``on_event``."""

    # ---- Signals
    sig_events = Signal(list)
    """A batch of events, oldest first, at most one progress event per download. Args: list."""

    _sig_wake = Signal()
    """Internal: a worker pushed the first event since the last flush (queued to the GUI thread)."""

    def __init__(
        self, interval_ms: int = DEFAULT_INTERVAL_MS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._lock = threading.Lock()
        self._progress: dict[int, DownloadEvent] = {}
        self._status: list[DownloadEvent] = []
        self._armed = False
        self._last_flush = 0.0
        self.batches = 0  # flushes so far (for tests and the benchmark)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._sig_wake.connect(self._schedule, Qt.ConnectionType.QueuedConnection)

    def push(self, event: DownloadEvent) -> None:
        """Thread-safe; never touches widgets."""
        with self._lock:
            if event.kind == "progress":
                self._progress[event.download_id] = event
            else:
                self._progress.pop(event.download_id, None)  # a later status supersedes it
                self._status.append(event)
            wake, self._armed = not self._armed, True
        if wake:
            self._sig_wake.emit()

    def _schedule(self) -> None:
        wait = self.interval_ms - (time.monotonic() - self._last_flush) * 1000
        self._timer.start(max(0, int(wait)))

    def flush(self) -> None:
        with self._lock:
            batch = self._status + list(self._progress.values())
            self._status, self._progress, self._armed = [], {}, False
        self._last_flush = time.monotonic()
        if batch:
            self.batches += 1
            self.sig_events.emit(batch)

    def stop(self) -> None:
        self._timer.stop()
