"""The bottom strip of the main window: the latest notice (message + hint) and queue state."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from wan22_desktop.gui.notifier import ERROR, INFO, WARNING, Notice

_COLOURS = {INFO: "palette(window-text)", WARNING: "#b26a00", ERROR: "#c62828"}
INFO_TIMEOUT_MS = 8000


class StatusArea(QWidget):
    """Shows one notice at a time; errors stay until dismissed, info fades after a few seconds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel(self)
        self.message.setObjectName("statusMessage")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setWordWrap(False)
        self.dismiss = QToolButton(self)
        self.dismiss.setText("×")
        self.dismiss.setAutoRaise(True)
        self.dismiss.setToolTip(self.tr("Dismiss"))
        self.dismiss.clicked.connect(self.clear)
        # The bundle's one lasting action (ADR 0023): make the worker's torch environment.
        self.setup_runtime = QPushButton(self.tr("Set up rendering…"), self)
        self.setup_runtime.setObjectName("setupRuntime")
        self.setup_runtime.setToolTip(
            self.tr("Runs `wan22 runtime setup`: downloads PyTorch (a few GB), with progress")
        )
        self.setup_runtime.setVisible(False)
        self.queue_state = QLabel(self)
        self.queue_state.setObjectName("queueState")
        self.runner_state = QLabel(self)
        self.runner_state.setObjectName("runnerState")
        self.database_state = QLabel(self)
        self.database_state.setObjectName("databaseState")
        self.database_state.setStyleSheet(f"color: {_COLOURS[ERROR]}; font-weight: bold;")
        self.database_state.setVisible(False)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 8, 2)
        lay.addWidget(self.database_state)
        lay.addWidget(self.message, 1)
        lay.addWidget(self.dismiss)
        lay.addWidget(self.setup_runtime)
        lay.addSpacing(12)
        lay.addWidget(self.queue_state)
        lay.addSpacing(12)
        lay.addWidget(self.runner_state)
        self._timer = QTimer(self, singleShot=True, interval=INFO_TIMEOUT_MS)
        self._timer.timeout.connect(self.clear)
        self.clear()

    def show_notice(self, notice: Notice) -> None:
        self.message.setText(notice.text())
        self.message.setToolTip(notice.text())
        self.message.setStyleSheet(f"color: {_COLOURS.get(notice.level, _COLOURS[INFO])};")
        self.dismiss.setVisible(True)
        if notice.level == INFO:
            self._timer.start()
        else:
            self._timer.stop()

    def clear(self) -> None:
        self.message.clear()
        self.message.setToolTip("")
        self.dismiss.setVisible(False)

    def set_queue_text(self, text: str) -> None:
        self.queue_state.setText(text)

    def set_runner_text(self, text: str, tooltip: str = "") -> None:
        self.runner_state.setText(text)
        self.runner_state.setToolTip(tooltip)

    def set_database_state(self, reachable: bool, why: str = "") -> None:
        """A lasting mark while the database server is away; it goes when the server is back."""
        self.database_state.setVisible(not reachable)
        self.database_state.setText("" if reachable else self.tr("Database unreachable"))
        self.database_state.setToolTip(
            ""
            if reachable
            else why + "\n" + self.tr("The queue and history reload on their own when it is back.")
        )
