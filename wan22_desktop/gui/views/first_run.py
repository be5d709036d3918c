"""The first-run guide: this computer, which models fit and why, disk space, where to download
from, one-click downloads with progress, then a first prompt to try.

Shown by the main window while no model is installed (until skipped); reopened from Models. The
decisions live in ``gui.first_run_state`` (pure); downloads go through the Models view's
``DownloadManager`` so they show in both places. The CUDA-wheel command runs in a ``QProcess``.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QLocale, QProcess, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from wan22_desktop.downloader.catalog import SOURCES
from wan22_desktop.downloader.progress import DownloadEvent, human_bytes
from wan22_desktop.errors import UserInputError
from wan22_desktop.gui.first_run_state import (
    GUIDE_TASKS,
    SKIPPED_STATE,
    ModelFit,
    has_cuda_gpu,
    model_fits,
    suggested_prompt,
    suggested_task,
)
from wan22_desktop.gui.i18n import QT_TRANSLATE_NOOP
from wan22_desktop.gui.models_state import free_bytes
from wan22_desktop.gui.models_table import SOURCE_NAMES
from wan22_desktop.gui.plan_text import tr_plan
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.cuda_wheel import cuda_wheel_argv, gpu_names, query_nvidia_smi
from wan22_desktop.runtime.hardware import Hardware
from wan22_desktop.runtime.planner import InstalledModel
from wan22_desktop.runtime.planning import installed_models

# What each model does, in the guide's words (the catalogue's titles are English, shared with the CLI).
MODEL_TITLES = {
    "ti2v-5B": QT_TRANSLATE_NOOP("FirstRunView", "text or image to video, 5B, 720p"),
    "t2v-A14B": QT_TRANSLATE_NOOP("FirstRunView", "text to video, 14B mixture of experts, 720p"),
    "i2v-A14B": QT_TRANSLATE_NOOP("FirstRunView", "image to video, 14B mixture of experts, 720p"),
}


class FirstRunView(QWidget):
    """Built as ``FirstRunView(ctx, parent, models=ModelsView)`` by the main window."""

    sig_closed = Signal()
    """Skip was pressed (the flag is stored); the window shows another view."""

    def __init__(self, ctx: Any, parent: QWidget | None = None, *, models: Any = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.models = models  # the ModelsView: its download() and its event bridge
        self.hardware: Hardware | None = None
        self.installed: dict[str, InstalledModel] = {}
        self.free: int | None = None
        self.fits: list[ModelFit] = []
        self.nvidia_smi: str | None = None
        self.install_argv: list[str] | None = None
        self.process: QProcess | None = None
        self._rows: dict[str, dict[str, Any]] = {}
        self._build()
        if models is not None:
            models.bridge.sig_events.connect(self._on_download_events)
        ctx.events.sig_models_changed.connect(self.refresh)

    # ---- construction

    def _build(self) -> None:
        title = QLabel(self.tr("Welcome to Wan22 Desktop"), self)
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        self.intro = intro = QLabel(self._intro_text(installed=False), self)
        intro.setWordWrap(True)

        self.hardware_label = QLabel(self.tr("Checking this computer…"), self)
        self.hardware_label.setObjectName("firstRunHardware")
        self.hardware_label.setWordWrap(True)
        self.hardware_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cuda_label = QLabel(self)
        self.cuda_label.setWordWrap(True)
        self.cuda_command = QLineEdit(self)
        self.cuda_command.setObjectName("firstRunCudaCommand")
        self.cuda_command.setReadOnly(True)
        self.cuda_run_button = QPushButton(self.tr("Run it"), self)
        self.cuda_run_button.clicked.connect(self.run_cuda_install)
        self.cuda_output = QPlainTextEdit(self)
        self.cuda_output.setObjectName("firstRunCudaOutput")
        self.cuda_output.setReadOnly(True)
        self.cuda_output.setMaximumHeight(140)
        self.cuda_box = QFrame(self)
        cuda = QVBoxLayout(self.cuda_box)
        cuda.setContentsMargins(0, 6, 0, 0)
        cuda.addWidget(self.cuda_label)
        line = QHBoxLayout()
        line.addWidget(self.cuda_command, 1)
        line.addWidget(self.cuda_run_button)
        cuda.addLayout(line)
        cuda.addWidget(self.cuda_output)
        self.cuda_box.hide()
        self.cuda_output.hide()
        computer = QGroupBox(self.tr("This computer"), self)
        box = QVBoxLayout(computer)
        box.addWidget(self.hardware_label)
        box.addWidget(self.cuda_box)

        self.source_combo = QComboBox(self)
        self.source_combo.setObjectName("firstRunSource")
        for s in SOURCES:
            self.source_combo.addItem(SOURCE_NAMES.get(s, s), s)
        index = self.source_combo.findData(self.ctx.settings.get("download_source"))
        self.source_combo.setCurrentIndex(max(index, 0))
        self.mirror_edit = QLineEdit(self)
        self.mirror_edit.setObjectName("firstRunMirror")
        self.mirror_edit.setPlaceholderText(
            self.tr("Mirror endpoint (optional), e.g. https://hf-mirror.com")
        )
        self.mirror_edit.setText(self.ctx.settings.get("hf_endpoint") or "")
        self.source_combo.currentIndexChanged.connect(lambda _i: self._store_source())
        self.mirror_edit.editingFinished.connect(self._store_source)
        source_line = QHBoxLayout()
        source_line.addWidget(QLabel(self.tr("Download from:"), self))
        source_line.addWidget(self.source_combo)
        source_line.addWidget(self.mirror_edit, 1)

        self.disk_label = QLabel(self)
        self.disk_label.setObjectName("firstRunDisk")
        self.disk_label.setWordWrap(True)
        self.models_grid = QGridLayout()
        self.models_grid.setColumnStretch(1, 1)
        self.models_grid.setHorizontalSpacing(12)
        self.models_grid.setVerticalSpacing(4)
        for r, task in enumerate(GUIDE_TASKS):
            self._add_model_row(r, task)
        models_box = QGroupBox(self.tr("Models"), self)
        mbox = QVBoxLayout(models_box)
        mbox.addLayout(source_line)
        mbox.addWidget(self.disk_label)
        mbox.addLayout(self.models_grid)

        self.prompt_label = QLabel(self)
        self.prompt_label.setObjectName("firstRunPrompt")
        self.prompt_label.setWordWrap(True)
        self.prompt_button = QPushButton(self.tr("Try this prompt"), self)
        self.prompt_button.clicked.connect(self.use_prompt)
        self.prompt_box = QGroupBox(self.tr("Your first video"), self)
        pbox = QHBoxLayout(self.prompt_box)
        pbox.addWidget(self.prompt_label, 1)
        pbox.addWidget(self.prompt_button)
        self.prompt_box.hide()

        self.skip_button = QPushButton(self.tr("Skip"), self)
        self.skip_button.setObjectName("firstRunSkip")
        self.skip_button.clicked.connect(self.skip)
        later = QLabel(self.tr("You can open this guide again from Models."), self)
        later.setEnabled(False)
        bottom = QHBoxLayout()
        bottom.addWidget(later, 1)
        bottom.addWidget(self.skip_button)

        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(computer)
        layout.addWidget(models_box)
        layout.addWidget(self.prompt_box)
        layout.addStretch(1)
        layout.addLayout(bottom)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def _intro_text(self, *, installed: bool) -> str:
        if installed:
            return self.tr(
                "This guide shows what this computer can run and downloads more models for you."
            )
        return self.tr(
            "No video model is installed yet. This guide shows what this computer can run "
            "and downloads a model for you."
        )

    def _add_model_row(self, r: int, task: str) -> None:
        name = QLabel(self)
        name.setTextFormat(Qt.TextFormat.PlainText)
        bold = QFont(name.font())
        bold.setBold(True)
        name.setFont(bold)
        fit_label = QLabel(self)
        fit_label.setWordWrap(True)
        fit_label.setObjectName(f"firstRunFit_{task}")
        button = QPushButton(self.tr("Download"), self)
        button.setObjectName(f"firstRunDownload_{task}")
        button.clicked.connect(lambda: self.download(task))
        progress = QProgressBar(self)
        progress.setRange(0, 1000)
        progress.setTextVisible(True)
        progress.setFormat("")
        progress.setMinimumWidth(160)
        progress.hide()
        side = QVBoxLayout()
        side.addWidget(button)
        side.addWidget(progress)
        side.addStretch(1)
        self.models_grid.addWidget(name, 2 * r, 0, 1, 2)
        self.models_grid.addWidget(fit_label, 2 * r + 1, 0, 1, 2)
        self.models_grid.addLayout(side, 2 * r, 2, 2, 1)
        self._rows[task] = {"name": name, "fit": fit_label, "button": button, "progress": progress}

    # ---- main-window hooks

    def on_shown(self) -> None:
        self.refresh()

    def shutdown(self) -> None:
        if self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.kill()
            self.process.waitForFinished(3000)

    # ---- reading state

    def refresh(self) -> None:
        """Re-read installed models and free disk (background), the probe and nvidia-smi."""
        db, folder = self.ctx.db, self.ctx.paths.models
        self.ctx.tasks.run_db(lambda: installed_models(db), self._got_installed)
        self.ctx.tasks.run(lambda: _free_or_none(folder), self._got_free)
        self.ctx.tasks.run(query_nvidia_smi, self._got_nvidia_smi)
        self.ctx.hardware(self._got_hardware)

    def _got_installed(self, installed: dict[str, InstalledModel]) -> None:
        self.installed = dict(installed)
        self._update()

    def _got_free(self, free: int | None) -> None:
        self.free = free
        self._update()

    def _got_nvidia_smi(self, text: str | None) -> None:
        self.nvidia_smi = text
        self._update_hardware()

    def _got_hardware(self, hw: Hardware) -> None:
        self.hardware = hw
        self._update_hardware()
        self._update()

    # ---- showing state

    def _update_hardware(self) -> None:
        hw = self.hardware
        if hw is None:
            return
        lines = [
            self.tr("GPU %1: %2, %3 GiB of video memory")
            .replace("%1", str(g.index))
            .replace("%2", g.name)
            .replace("%3", f"{g.total_gib:.0f}")
            for g in hw.gpus
        ]
        self.install_argv = (
            None
            if has_cuda_gpu(hw)
            else cuda_wheel_argv(self.nvidia_smi, hw.torch_version, hw.cuda_version, sys.executable)
        )
        if self.install_argv is not None:
            lines.append(
                self.tr(
                    "PyTorch cannot use the NVIDIA GPU yet: only tiny test models run until "
                    "its CUDA build is installed (below)."
                )
            )
        elif not has_cuda_gpu(hw):
            lines.append(self.tr("No NVIDIA GPU found: only tiny test models run here."))
        lines.append(
            self.tr("Memory: %1 GiB (%2 GiB free), %3 CPU cores")
            .replace("%1", f"{hw.ram_total_gib:.0f}")
            .replace("%2", f"{hw.ram_available_gib:.0f}")
            .replace("%3", str(hw.cpu_count))
        )
        self.hardware_label.setText("\n".join(lines))
        if self.install_argv is None:
            if self.process is None:
                self.cuda_box.hide()
            return
        names = ", ".join(gpu_names(self.nvidia_smi)) or self.tr("an NVIDIA GPU")
        self.cuda_label.setText(
            self.tr(
                "The NVIDIA driver sees %1, but the installed PyTorch is a CPU-only build. "
                "This command installs the matching CUDA build into the app's environment "
                "(about 3 GB); restart the app afterwards."
            ).replace("%1", names)
        )
        self.cuda_command.setText(_command_line(self.install_argv))
        self.cuda_box.show()

    def _update(self) -> None:
        hw = self.hardware
        if hw is None:
            return
        self.fits = model_fits(hw, self.free, self.installed, words=tr_plan)
        self.intro.setText(self._intro_text(installed=any(r.installed for r in self.fits)))
        if self.free is None:
            self.disk_label.setText(
                self.tr("Models folder: %1").replace("%1", str(self.ctx.paths.models))
            )
        else:
            self.disk_label.setText(
                self.tr("Models folder: %1 — %2 free")
                .replace("%1", str(self.ctx.paths.models))
                .replace("%2", human_bytes(self.free))
            )
        for row in self.fits:
            widgets = self._rows[row.task]
            widgets["name"].setText(
                self.tr("%1 (%2) — %3")
                .replace("%1", row.task)
                .replace(
                    "%2", self.tr(MODEL_TITLES[row.task]) if row.task in MODEL_TITLES else row.title
                )
                .replace("%3", human_bytes(row.size_bytes))
            )
            if row.fits:
                text = self.tr("✓ Fits this computer: %1").replace("%1", row.line)
            else:
                text = self.tr("✗ Does not fit: %1").replace("%1", row.line)
                if row.hint:
                    text += " — " + row.hint
            if row.disk_ok is False and not row.installed:
                text += "\n" + self.tr(
                    "⚠ Not enough free disk space for %1 in the models folder."
                ).replace("%1", human_bytes(row.size_bytes))
            widgets["fit"].setText(text)
            button: QPushButton = widgets["button"]
            if row.installed:
                button.setText(self.tr("Installed"))
                button.setEnabled(False)
                widgets["progress"].hide()
            elif widgets["progress"].isHidden():  # not while a download runs
                button.setText(self.tr("Download"))
                button.setEnabled(self.models is not None)
        task = suggested_task(self.fits)
        if task is not None:
            self.prompt_label.setText(
                self.tr("%1 is ready. Try this prompt:").replace("%1", task)
                + "\n"
                + suggested_prompt(task, QLocale().name())
            )
            self.prompt_box.show()
        else:
            self.prompt_box.hide()

    # ---- actions

    def _store_source(self) -> None:
        settings = self.ctx.settings
        source = self.source_combo.currentData()
        mirror = self.mirror_edit.text().strip()
        changed = []
        if source != settings.get("download_source"):
            settings.set("download_source", source)
            changed.append("download_source")
        if mirror != (settings.get("hf_endpoint") or "") and (
            not mirror or mirror.startswith(("http://", "https://"))
        ):
            settings.set("hf_endpoint", mirror)
            changed.append("hf_endpoint")
        if changed:
            self.ctx.save_settings()
            for key in changed:
                self.ctx.events.sig_settings_changed.emit(key)

    def download(self, task: str) -> None:
        """Start (or continue) the download of ``task`` from the chosen source, via Models."""
        if self.models is None:
            return
        mirror = self.mirror_edit.text().strip()
        if mirror and not mirror.startswith(("http://", "https://")):
            self.ctx.notifier.error(
                UserInputError(
                    self.tr("The mirror endpoint must be an http(s) URL"),
                    self.tr("for example https://hf-mirror.com, or leave it empty"),
                )
            )
            return
        self._store_source()
        widgets = self._rows[task]
        widgets["button"].setEnabled(False)
        widgets["button"].setText(self.tr("Downloading…"))
        widgets["progress"].setValue(0)
        widgets["progress"].setFormat(self.tr("Starting…"))
        widgets["progress"].show()
        self.models.download(task, source=self.source_combo.currentData(), endpoint=mirror)

    def _task_of(self, download_id: int) -> str | None:
        for row in self.models.rows if self.models is not None else ():
            if row.download is not None and row.download.id == download_id:
                return str(row.model.key)
        return None

    def _on_download_events(self, events: list[DownloadEvent]) -> None:
        for e in events:
            task = self._task_of(e.download_id)
            if task not in self._rows:
                continue
            widgets = self._rows[task]
            bar: QProgressBar = widgets["progress"]
            bar.show()
            if e.total > 0:
                bar.setValue(int(1000 * e.done / e.total))
                bar.setFormat(
                    self.tr("%1 of %2")
                    .replace("%1", human_bytes(e.done))
                    .replace("%2", human_bytes(e.total))
                )
            if e.kind == "status" and e.status in ("failed", "cancelled", "paused"):
                bar.setFormat(
                    {
                        "failed": self.tr("Failed"),
                        "cancelled": self.tr("Cancelled"),
                        "paused": self.tr("Paused"),
                    }[e.status]
                )
                widgets["button"].setText(self.tr("Resume"))
                widgets["button"].setEnabled(True)
            elif e.kind == "status" and e.status == "done":
                bar.setValue(1000)
                bar.setFormat(self.tr("Done"))
                self.refresh()

    def use_prompt(self) -> None:
        """Open Generate filled with the suggested prompt for the installed model."""
        task = suggested_task(self.fits)
        if task is None:
            return
        request = GenerationRequest.for_task(task, prompt=suggested_prompt(task, QLocale().name()))
        self.ctx.events.sig_generate_prefill_requested.emit(request, None)

    def skip(self) -> None:
        """Hide the guide for good (it stays reachable from Models)."""
        self.ctx.settings.set_state(SKIPPED_STATE, True)
        self.ctx.save_settings()
        self.sig_closed.emit()

    def run_cuda_install(self) -> None:
        """Run the pip command in a QProcess, its output shown line by line."""
        argv = self.install_argv
        if not argv or (
            self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning
        ):
            return
        self.cuda_output.clear()
        self.cuda_output.show()
        self.cuda_output.appendPlainText("$ " + _command_line(argv))
        self.cuda_run_button.setEnabled(False)
        self.cuda_run_button.setText(self.tr("Installing…"))
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._on_process_output)
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error)
        self.process = process
        process.start(argv[0], argv[1:])

    def _on_process_output(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", "replace")
        for line in text.replace("\r", "\n").splitlines():
            if line.strip():
                self.cuda_output.appendPlainText(line)

    def _on_process_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._on_process_output()
        self.cuda_run_button.setEnabled(True)
        self.cuda_run_button.setText(self.tr("Run it"))
        if code == 0:
            self.cuda_output.appendPlainText(
                self.tr("Finished. Restart Wan22 Desktop to use the GPU.")
            )
        else:
            self.cuda_output.appendPlainText(
                self.tr("The command failed (exit code %1); the output above says why.").replace(
                    "%1", str(code)
                )
            )

    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.cuda_output.appendPlainText(self.tr("The command could not start."))
            self.cuda_run_button.setEnabled(True)
            self.cuda_run_button.setText(self.tr("Run it"))


def _free_or_none(folder: Any) -> int | None:
    try:
        return free_bytes(folder)
    except OSError:
        return None


def _command_line(argv: list[str]) -> str:
    import shlex
    import subprocess

    return subprocess.list2cmdline(argv) if sys.platform == "win32" else shlex.join(argv)
