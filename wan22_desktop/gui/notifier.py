"""The one place errors and notices are turned into words for the user.

Views never show dialogs for errors: they hand the exception to ``Notifier.error`` and the main
window's status area (and the tray) shows ``message`` + ``hint``. A ``Wan22Error`` already carries
both; anything else is a bug, so the user sees a short generic line and the traceback goes to the
log file only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, Signal

from wan22_desktop.errors import Wan22Error

log = logging.getLogger(__name__)

INFO, WARNING, ERROR = "info", "warning", "error"


@dataclass(frozen=True)
class Notice:
    level: str  # "info", "warning" or "error"
    message: str
    hint: str | None = None

    def text(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


def notice_for(exc: BaseException) -> Notice:
    """What the user reads for ``exc``: its message and hint, or a generic line for a bug."""
    if isinstance(exc, Wan22Error):
        return Notice(ERROR, exc.message, exc.hint)
    return Notice(
        ERROR,
        QCoreApplication.translate("Notifier", "Unexpected error: %1").replace(
            "%1", type(exc).__name__
        ),
        QCoreApplication.translate("Notifier", "the details are in the log file"),
    )


class Notifier(QObject):
    """Collects notices from anywhere on the GUI thread and broadcasts them."""

    # ---- Signals
    sig_notice_posted = Signal(object)
    """A notice to show. Args: ``Notice``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.last: Notice | None = None

    def info(self, message: str, hint: str | None = None) -> None:
        self._post(Notice(INFO, message, hint))

    def warning(self, message: str, hint: str | None = None) -> None:
        self._post(Notice(WARNING, message, hint))

    def error(self, exc: BaseException) -> None:
        """Show ``exc``; log the traceback unless it is an expected user-facing error."""
        if isinstance(exc, Wan22Error):
            log.info("shown to user: %s (%s)", exc.message, exc.hint)
        else:
            log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
        self._post(notice_for(exc))

    def _post(self, notice: Notice) -> None:
        self.last = notice
        self.sig_notice_posted.emit(notice)
