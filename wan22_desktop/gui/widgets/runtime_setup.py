"""``wan22 runtime setup`` from the window (the Linux bundle, ADR 0023): its lines streamed into
a dialog with the step as progress, Cancel, and a failure shown as its ``error:``/``hint:`` lines.

The command runs in its own session, so Cancel kills it together with the pip and venv processes
it started; the half-made ``worker-venv`` is then removed (``runtime setup`` removes its ready
marker first and never marks a venv it did not finish, so the folder is of no use), and the next
setup starts clean.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wan22_desktop.frozen import module_command, worker_env_ready, worker_venv
from wan22_desktop.paths import app_paths

log = logging.getLogger(__name__)

STEP = re.compile(r"^runtime setup \[(\d+)/(\d+)\] (.*)$")
MAX_LOG_LINES = 5000


def setup_command(data: Path) -> list[str]:
    """``wan22 [--home HOME] runtime setup`` for the data folder ``data``."""
    home = None if app_paths().data == data else str(data.parent)
    return [
        *module_command("wan22_desktop.cli"),
        *(["--home", home] if home is not None else []),
        "runtime",
        "setup",
    ]


class RuntimeSetupDialog(QDialog):
    """Runs ``argv`` (the setup command) once it is shown with ``start()``."""

    sig_line = Signal(str)  # from the reader thread
    sig_exited = Signal(int)  # from the reader thread, after the last line

    def __init__(self, argv: Sequence[str], data: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Set up rendering"))
        self.argv, self.data = list(argv), data
        self.venv = worker_venv(data)
        self.proc: subprocess.Popen[str] | None = None
        self.cancelled = False
        self.succeeded = False
        self.error_text = ""
        self._hint = ""
        self.step = QLabel(self.tr("Starting…"), self)
        self.step.setObjectName("setupStep")
        self.step.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # busy until the first step line says how many there are
        self.log = QPlainTextEdit(self)
        self.log.setObjectName("setupLog")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(MAX_LOG_LINES)
        self.log.setMinimumSize(640, 240)
        self.outcome = QLabel(self)
        self.outcome.setObjectName("setupResult")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.hide()
        buttons = QDialogButtonBox(self)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.close_button = QPushButton(self.tr("Close"), self)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button.hide()  # after addButton, which shows it
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.accept)
        lay = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "Downloading PyTorch and setting up the environment the app renders with "
                "(a few GB on the first run)."
            ),
            self,
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        lay.addWidget(self.step)
        lay.addWidget(self.bar)
        lay.addWidget(self.log, 1)
        lay.addWidget(self.outcome)
        lay.addWidget(buttons)
        self.sig_line.connect(self._on_line)
        self.sig_exited.connect(self._on_exited)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def start(self) -> None:
        self.log.appendPlainText("$ " + " ".join(self.argv))
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                bufsize=1,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # Cancel ends pip and venv with it
            )
        except OSError as exc:
            self._finish_failed(
                self.tr("The setup command could not start: %1").replace("%1", str(exc)), ""
            )
            return
        threading.Thread(target=self._read, name="wan22-runtime-setup", daemon=True).start()

    def _read(self) -> None:
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        for line in proc.stdout:
            for part in line.rstrip("\n").split("\r"):
                if part.strip():
                    self.sig_line.emit(part)
        self.sig_exited.emit(proc.wait())

    def cancel(self) -> None:
        """Kill the setup (and everything it started); the half venv goes when it has exited."""
        if not self.running:
            self.reject()
            return
        self.cancelled = True
        self.cancel_button.setEnabled(False)
        self.step.setText(self.tr("Cancelling…"))
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if hasattr(os, "killpg"):
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:  # Windows: no process groups from start_new_session; the command itself
                self.proc.kill()

    def shutdown(self) -> None:
        """The app is closing: cancel now and clean up before it goes (no event loop after)."""
        if not self.running:
            return
        self.cancel()
        assert self.proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self._remove_half_venv()

    # ---- on the GUI thread

    def _on_line(self, line: str) -> None:
        self.log.appendPlainText(line)
        if m := STEP.match(line):
            n, total, text = int(m.group(1)), int(m.group(2)), m.group(3)
            self.bar.setRange(0, total)
            self.bar.setValue(n - 1)
            self.step.setText(
                self.tr("Step %1 of %2: %3")
                .replace("%1", str(n))
                .replace("%2", str(total))
                .replace("%3", text)
            )
        elif line.startswith("error: "):
            self.error_text = line.removeprefix("error: ")
        elif line.startswith("hint: "):
            self._hint = line.removeprefix("hint: ")

    def _on_exited(self, code: int) -> None:
        if self.cancelled:
            self._remove_half_venv()
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.step.setText(self.tr("Cancelled."))
            self._show_result(
                self.tr("Setup was cancelled; no half-made environment was left behind.")
            )
            return
        if code == 0 and worker_env_ready(self.data):
            self.succeeded = True
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
            self.step.setText(self.tr("Done."))
            self._show_result(self.tr("Rendering is set up: jobs in the queue can run now."))
            return
        message = self.error_text or self.tr("the setup command failed (exit code %1)").replace(
            "%1", str(code)
        )
        self._finish_failed(message, self._hint)

    def _finish_failed(self, message: str, hint: str) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.step.setText(self.tr("Setup failed."))
        text = self.tr("Setup failed: %1").replace("%1", message)
        if hint:
            text += "\n" + hint
        self.outcome.setStyleSheet("color: #c62828;")
        self._show_result(text + "\n" + self.tr("The log above has the details."))

    def _show_result(self, text: str) -> None:
        self.outcome.setText(text)
        self.outcome.show()
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setDefault(True)

    def _remove_half_venv(self) -> None:
        if (
            self.venv.name == "worker-venv"
            and self.venv.exists()
            and not worker_env_ready(self.data)
        ):
            shutil.rmtree(self.venv, ignore_errors=True)
            log.info("runtime setup cancelled: removed %s", self.venv)

    def reject(self) -> None:
        """Escape or the window's close button while it runs: cancel first."""
        if self.running:
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.running:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)
