"""The tray icon (queue state in its tooltip) and the notifications for finished work.

Notifications go to the system tray when there is one, else to the status area, and only when
the user's ``notifications`` setting is on. "Queue empty" fires when the last running or waiting
job leaves the queue, whichever runner did the work (counts come from the queue view's polling).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from wan22_desktop.gui.context import AppContext

if TYPE_CHECKING:
    from wan22_desktop.gui.runner_controller import RunnerController


class Tray(QObject):
    # ---- Signals
    sig_show_requested = Signal()
    """The user asked for the window (tray click or menu)."""

    sig_quit_requested = Signal()
    """The user chose Quit in the tray menu."""

    def __init__(self, ctx: AppContext, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sent: list[tuple[str, str]] = []  # (title, message) of every notification, newest last
        self._active = 0
        self._last_counts: dict[str, int] = {}
        self._batch_start: dict[str, int] | None = None  # counts when the queue became busy
        self.icon: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QSystemTrayIcon(icon, self)
            menu = QMenu()
            show = QAction(self.tr("Show Wan22 Desktop"), menu)
            quit_ = QAction(self.tr("Quit"), menu)
            show.triggered.connect(self.sig_show_requested)
            quit_.triggered.connect(self.sig_quit_requested)
            menu.addAction(show)
            menu.addAction(quit_)
            self._menu = menu
            self.icon.setContextMenu(menu)
            self.icon.activated.connect(lambda _reason: self.sig_show_requested.emit())
            self.icon.setToolTip(self.tr("Wan22 Desktop"))
            self.icon.show()
        ctx.events.sig_queue_counts_changed.connect(self.on_counts)

    def attach_runner(self, runner: RunnerController) -> None:
        runner.sig_job_event.connect(self.on_job_event)

    def on_counts(self, counts: dict[str, int], paused: bool) -> None:
        running, queued = counts.get("running", 0), counts.get("queued", 0)
        if self.icon is not None:
            tip = (
                self.tr("Wan22 Desktop — %1 running, %2 waiting")
                .replace("%1", str(running))
                .replace("%2", str(queued))
            )
            self.icon.setToolTip(tip + (self.tr(" (paused)") if paused else ""))
        active = running + queued
        if active > 0 and self._batch_start is None:
            self._batch_start = self._last_counts if self._active == 0 else dict(counts)
        if self._active > 0 and active == 0:
            done, failed, cancelled = finished_since(self._batch_start or {}, counts)
            self.notify(self.tr("Queue finished"), self._finished_text(done, failed, cancelled))
            self._batch_start = None
        self._active = active
        self._last_counts = dict(counts)

    def _finished_text(self, done: int, failed: int, cancelled: int) -> str:
        """ "All jobs are done." only when none failed or was cancelled; else the counts."""
        if not failed and not cancelled:
            return self.tr("All jobs are done.")
        text = self.tr("%1 done, %2 failed").replace("%1", str(done)).replace("%2", str(failed))
        if cancelled:
            text += self.tr(", %1 cancelled").replace("%1", str(cancelled))
        return text

    def on_job_event(self, kind: str, job_id: int, message: str) -> None:
        if kind == "done":
            self.notify(
                self.tr("Video ready"), self.tr("Job %1 finished.").replace("%1", str(job_id))
            )
        elif kind == "failed":
            self.notify(
                self.tr("Job failed"),
                self.tr("Job %1: %2").replace("%1", str(job_id)).replace("%2", message),
            )

    def notify(self, title: str, message: str) -> None:
        if not self.ctx.settings.get("notifications"):
            return
        self.sent.append((title, message))
        if self.icon is not None and self.icon.supportsMessages():
            self.icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 8000)
        else:
            self.ctx.notifier.info(f"{title}: {message}")


def finished_since(before: dict[str, int], after: dict[str, int]) -> tuple[int, int, int]:
    """(done, failed, cancelled) jobs that finished between two status counts of the queue;
    interrupted jobs count as failed. Jobs removed meanwhile never make a count negative."""

    def grew(*statuses: str) -> int:
        return max(0, sum(after.get(s, 0) - before.get(s, 0) for s in statuses))

    return grew("done"), grew("failed", "interrupted"), grew("cancelled")
