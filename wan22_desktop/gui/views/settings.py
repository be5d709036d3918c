"""The Settings view: one editor per ``settings.OPTIONS`` entry, built from its type, plus the
DashScope key (kept in the OS keyring, shown masked).

Changes apply at once (validated by the option, saved atomically); folders and the language take
effect at the next start, which the page says. Keyring calls and the key test run off the GUI
thread (a keyring may block on D-Bus; the test is a network call in a subprocess).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QSignalBlocker
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from wan22_desktop import secrets
from wan22_desktop.errors import Wan22Error
from wan22_desktop.gui.context import AppContext
from wan22_desktop.gui.i18n import LANGUAGES, QT_TRANSLATE_NOOP
from wan22_desktop.services import database as db_ops
from wan22_desktop.settings import OPTIONS, Option, check_folder

log = logging.getLogger(__name__)

RESTART_KEYS = ("outputs_dir", "models_dir", "language", "theme")
KEY_TEST_TIMEOUT_S = 30.0
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        QT_TRANSLATE_NOOP("SettingsView", "Folders"),
        ("outputs_dir", "models_dir", "comfyui_dir", "path_mappings"),
    ),
    (QT_TRANSLATE_NOOP("SettingsView", "New jobs"), ("default_task", "default_quality")),
    (QT_TRANSLATE_NOOP("SettingsView", "Appearance"), ("language", "theme")),
    (
        QT_TRANSLATE_NOOP("SettingsView", "While rendering"),
        (
            "notifications",
            "keep_awake",
            "live_preview",
            "gpu_mode",
            "max_attempts",
            "hang_timeout_factor",
        ),
    ),
    (
        QT_TRANSLATE_NOOP("SettingsView", "Prompt extension"),
        (
            "prompt_extend_enabled",
            "prompt_extend_method",
            "prompt_extend_model",
            "prompt_extend_target_lang",
        ),
    ),
    (
        QT_TRANSLATE_NOOP("SettingsView", "Downloads"),
        ("download_source", "hf_endpoint", "auto_fallback_source"),
    ),
)
CHOICE_LABELS: dict[str, str] = {
    "draft": QT_TRANSLATE_NOOP("Options", "Draft"),
    "standard": QT_TRANSLATE_NOOP("Options", "Standard"),
    "official": QT_TRANSLATE_NOOP("Options", "Official"),
    "system": QT_TRANSLATE_NOOP("Options", "System"),
    "light": QT_TRANSLATE_NOOP("Options", "Light"),
    "dark": QT_TRANSLATE_NOOP("Options", "Dark"),
    "local_qwen": QT_TRANSLATE_NOOP("Options", "Local Qwen"),
    "dashscope": QT_TRANSLATE_NOOP("Options", "DashScope (online)"),
    "zh": QT_TRANSLATE_NOOP("Options", "Chinese"),
    "en": QT_TRANSLATE_NOOP("Options", "English"),
    "hf": QT_TRANSLATE_NOOP("Options", "Hugging Face"),
    "modelscope": QT_TRANSLATE_NOOP("Options", "ModelScope"),
    "rgb": QT_TRANSLATE_NOOP("Options", "Fast colours (instant, low detail)"),
    "taehv": QT_TRANSLATE_NOOP("Options", "Tiny VAE (near-true frames, small download)"),
}
# ``gpu_mode`` (several GPUs only): the runner modes of ADR 0022 in a user's words.
GPU_MODE_LABELS: dict[str, str] = {
    "auto": QT_TRANSLATE_NOOP("Options", "Automatic (the planner decides per job)"),
    "throughput": QT_TRANSLATE_NOOP("Options", "One job per GPU (more jobs at once)"),
    "latency": QT_TRANSLATE_NOOP("Options", "Every GPU on one job (each job sooner)"),
}
# The option titles from settings.OPTIONS, listed so the translation tools find them.
OPTION_TITLES = (
    QT_TRANSLATE_NOOP("Options", "Task selected when the app starts"),
    QT_TRANSLATE_NOOP("Options", "Quality preset for new jobs"),
    QT_TRANSLATE_NOOP("Options", "Folder for finished videos (empty: the default)"),
    QT_TRANSLATE_NOOP("Options", "Folder for downloaded models (empty: the default)"),
    QT_TRANSLATE_NOOP(
        "Options",
        "Where this machine sees folders that runners on other machines recorded "
        "(one FROM => TO per line)",
    ),
    QT_TRANSLATE_NOOP(
        "Options", "A ComfyUI install whose Wan2.2 files are used in place (empty: none)"
    ),
    QT_TRANSLATE_NOOP("Options", "Interface language"),
    QT_TRANSLATE_NOOP("Options", "Colour theme"),
    QT_TRANSLATE_NOOP("Options", "Notify when a job finishes or fails"),
    QT_TRANSLATE_NOOP("Options", "Keep the computer awake while jobs run"),
    QT_TRANSLATE_NOOP("Options", "How queued jobs use several GPUs"),
    QT_TRANSLATE_NOOP("Options", "Live preview of the running job"),
    QT_TRANSLATE_NOOP("Options", "Extend prompts with an LLM by default"),
    QT_TRANSLATE_NOOP("Options", "Prompt extension backend"),
    QT_TRANSLATE_NOOP("Options", "Prompt extension model (empty: the default)"),
    QT_TRANSLATE_NOOP("Options", "Language of extended prompts"),
    QT_TRANSLATE_NOOP("Options", "Where models are downloaded from"),
    QT_TRANSLATE_NOOP("Options", "Hugging Face mirror URL (empty: huggingface.co)"),
    QT_TRANSLATE_NOOP("Options", "Try the other source when a download fails"),
    QT_TRANSLATE_NOOP(
        "Options", "Times a job is retried after a crash before it is marked interrupted"
    ),
    QT_TRANSLATE_NOOP(
        "Options", "A job is treated as hung when a step takes this many times longer than expected"
    ),
)


def _opt(text: str) -> str:
    return QCoreApplication.translate("Options", text)


def choice_label(option: Option, value: Any) -> str:
    if option.key == "language":
        return LANGUAGES.get(value, str(value))
    if option.key == "gpu_mode":
        return _opt(GPU_MODE_LABELS.get(str(value), str(value)))
    label = CHOICE_LABELS.get(str(value))
    return _opt(label) if label else str(value)


def check_dashscope_key(timeout_s: float = KEY_TEST_TIMEOUT_S) -> tuple[bool, str]:
    """One short prompt-extension call in a subprocess (the GUI never loads the engine).

    The child reads the key itself (keyring or DASH_API_KEY); it never travels through argv.
    Returns (ok, message) where message is the failure's reason and hint, or the reply's start.
    """
    from wan22_desktop.frozen import module_command

    cmd = [
        *module_command("wan22_desktop.cli"),
        "--json",
        "prompt",
        "extend",
        "a cat",
        "--method",
        "dashscope",
        "--lang",
        "en",
        "--timeout",
        str(timeout_s),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])),
    }
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s + 30, env=env)
    except subprocess.TimeoutExpired:
        return False, "the test call did not finish in time"
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        err = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return False, err
    data = json.loads(lines[-1])
    if data.get("ok"):
        return True, data.get("prompt", "")[:120]
    return False, data.get("warning") or "the test call failed"


_ROOT = Path(__file__).resolve().parents[3]


def _show_error(label: QLabel, exc: BaseException) -> None:
    """An error under the control that caused it: the message and its hint, in red."""
    text = exc.message if isinstance(exc, Wan22Error) else str(exc)
    hint = exc.hint if isinstance(exc, Wan22Error) else None
    label.setText(f"{text} — {hint}" if hint else text)
    label.setStyleSheet("color: #c62828;")


class SettingsView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        inner = QWidget(self)
        col = QVBoxLayout(inner)
        for title, keys in GROUPS:
            box = QGroupBox(QCoreApplication.translate("SettingsView", title), inner)
            form = QFormLayout(box)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # title above its editor
            for key in keys:
                option = OPTIONS[key]
                editor = self._editor(option)
                self.editors[key] = editor
                err = QLabel(box)
                err.setStyleSheet("color: #c62828;")
                err.setVisible(False)
                self.errors[key] = err
                cell = QVBoxLayout()
                cell.addWidget(editor)
                cell.addWidget(err)
                if key == "live_preview":
                    cell.addWidget(self._preview_download_row(box))
                text = _opt(option.title) + (" *" if key in RESTART_KEYS else "")
                if isinstance(editor, QCheckBox):  # a switch carries its own title
                    editor.setText(text)
                    form.addRow(cell)
                    continue
                label = QLabel(text, box)
                if key in RESTART_KEYS:
                    label.setToolTip(self.tr("Takes effect when the app starts again"))
                form.addRow(label, cell)
                if key == "gpu_mode":
                    self._gpu_mode_row = (form, cell)
                    label.setToolTip(
                        self.tr(
                            "Changes apply when no job is running: the queue runner restarts "
                            "in the new mode."
                        )
                    )
            col.addWidget(box)
        col.addWidget(self._database_box(inner))
        col.addWidget(self._key_box(inner))
        note = QLabel(self.tr("* takes effect when the app starts again"), inner)
        note.setEnabled(False)
        col.addWidget(note)
        col.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(inner)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(scroll)
        if ctx.settings.read_only_reason:
            ctx.notifier.warning(
                ctx.settings.read_only_reason, self.tr("changes will not be saved")
            )
        self.refresh_key_status()
        self._show_gpu_mode(None)
        ctx.hardware(self._show_gpu_mode)
        ctx.events.sig_settings_changed.connect(self.show_value)

    def _show_gpu_mode(self, _hw: object) -> None:
        """The GPU mode is a choice only where there is one: more than one GPU probed."""
        hw = self.ctx.hardware()
        form, cell = self._gpu_mode_row
        form.setRowVisible(cell, hw is not None and len(hw.gpus) > 1)

    def show_value(self, key: str) -> None:
        """Show an option's current value in its editor without applying it again (another
        process saved it: ``AppContext.check_settings_file``)."""
        editor = self.editors.get(key)
        if editor is None:
            return
        value = self.ctx.settings.get(key)
        if not isinstance(editor, QComboBox | QCheckBox | QSpinBox | QDoubleSpinBox | QLineEdit):
            editor = editor.findChild(QLineEdit, f"path_{key}") or editor  # a folder row
        blocker = QSignalBlocker(editor)
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(editor.findData(value), 0))
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value))
        elif isinstance(editor, QLineEdit):
            editor.setText(str(value))
        blocker.unblock()
        self.errors[key].setVisible(False)

    # ---- one editor per option

    def _editor(self, option: Option) -> QWidget:
        value = self.ctx.settings.get(option.key)
        key = option.key

        def apply(v: Any) -> None:
            self.apply(key, v)

        if option.is_path:
            return self._path_editor(option, value, apply)
        if option.choices is not None:
            combo = QComboBox(self)
            for choice in option.choices:
                combo.addItem(choice_label(option, choice), choice)
            combo.setCurrentIndex(max(combo.findData(value), 0))
            combo.currentIndexChanged.connect(lambda _i, c=combo: apply(c.currentData()))
            widget: QWidget = combo
        elif option.type is bool:
            box = QCheckBox(self)
            box.setChecked(bool(value))
            box.toggled.connect(apply)
            widget = box
        elif option.type is int:
            spin = QSpinBox(self)
            spin.setRange(int(option.minimum or 0), int(option.maximum or 10**6))
            spin.setValue(int(value))
            spin.valueChanged.connect(apply)
            widget = spin
        elif option.type is float:
            dspin = QDoubleSpinBox(self)
            dspin.setRange(option.minimum or 0.0, option.maximum or 1e6)
            dspin.setDecimals(1)
            dspin.setValue(float(value))
            dspin.valueChanged.connect(apply)
            widget = dspin
        else:
            line = QLineEdit(str(value), self)
            line.setPlaceholderText(self.tr("default"))
            line.editingFinished.connect(lambda ln=line: apply(ln.text().strip()))
            widget = line
        widget.setObjectName(f"opt_{option.key}")
        return widget

    def _path_editor(self, option: Option, value: str, apply: Callable[[Any], None]) -> QWidget:
        row = QWidget(self)
        row.setObjectName(f"opt_{option.key}")
        line = QLineEdit(value, row)
        line.setObjectName(f"path_{option.key}")
        default = (
            self.ctx.base_paths.outputs
            if option.key == "outputs_dir"
            else self.ctx.base_paths.models
        )
        line.setPlaceholderText(str(default))
        choose = QPushButton(self.tr("Choose…"), row)
        reset = QPushButton(self.tr("Default"), row)
        line.editingFinished.connect(lambda: apply(line.text().strip()))

        def pick() -> None:
            folder = QFileDialog.getExistingDirectory(
                self, _opt(option.title), line.text() or str(default)
            )
            if folder:
                line.setText(folder)
                apply(folder)

        def to_default() -> None:
            line.clear()
            apply("")

        choose.clicked.connect(pick)
        reset.clicked.connect(to_default)
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(line, 1)
        h.addWidget(choose)
        h.addWidget(reset)
        return row

    def apply(self, key: str, value: Any) -> None:
        """Validate and save one setting; a bad value is explained next to its editor."""
        err = self.errors[key]
        try:
            check_folder(OPTIONS[key], value)
            self.ctx.settings.set(key, value)
        except Wan22Error as exc:
            err.setText(f"{exc.message} — {exc.hint}" if exc.hint else exc.message)
            err.setVisible(True)
            return
        err.setVisible(False)
        self.ctx.save_settings()
        self.ctx.events.sig_settings_changed.emit(key)
        if key in ("live_preview", "models_dir", "comfyui_dir"):
            self.refresh_preview_files()
        if key in RESTART_KEYS:
            self.ctx.notifier.info(self.tr("Saved. This takes effect when the app starts again."))

    # ---- the tiny VAE files of the live preview

    def _preview_download_row(self, parent: QWidget) -> QWidget:
        row = QWidget(parent)
        self.preview_row = row
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        self.preview_files = QLabel(row)
        self.preview_files.setObjectName("previewFiles")
        self.preview_files.setWordWrap(True)
        self.preview_download = QPushButton(self.tr("Download"), row)
        self.preview_download.setObjectName("previewDownload")
        self.preview_download.setToolTip(self.tr("Download the tiny VAE files (Models view)"))
        self.preview_download.clicked.connect(self.download_preview_files)
        h.addWidget(self.preview_files, 1)
        h.addWidget(self.preview_download)
        self._preview_downloading: set[str] = set()
        self.refresh_preview_files()
        return row

    def missing_preview_files(self) -> list[str]:
        """The TAEHV catalogue keys not installed here (models folder or a ComfyUI install)."""
        from wan22_desktop.downloader.catalog import (
            PREVIEW_FOLDER,
            comfyui_preview_dirs,
            find_taehv,
        )

        dirs = [self.ctx.paths.models / PREVIEW_FOLDER]
        dirs += [Path(d) for d in comfyui_preview_dirs(str(self.ctx.settings.get("comfyui_dir")))]
        return [k for k in ("taew2_1", "taew2_2") if find_taehv(k, *dirs) is None]

    def refresh_preview_files(self) -> None:
        """Say which tiny VAE files the chosen preview still needs, and offer them."""
        if not hasattr(self, "preview_files"):
            return
        chosen = self.ctx.settings.get("live_preview") == "taehv"
        missing = self.missing_preview_files() if chosen else []
        self.preview_row.setVisible(chosen)
        self.preview_download.setVisible(bool(missing))
        if not chosen:
            return
        if not missing:
            self.preview_files.setText(self.tr("Tiny VAE files installed."))
        elif set(missing) <= self._preview_downloading:
            self.preview_files.setText(
                self.tr("Downloading %1 in the Models view…").replace("%1", ", ".join(missing))
            )
        else:
            self.preview_files.setText(
                self.tr(
                    "Not downloaded yet: %1 (about 23 MB each). Until then previews use the "
                    "fast colours."
                ).replace("%1", ", ".join(missing))
            )

    def download_preview_files(self) -> None:
        """Start the missing tiny VAE downloads through the Models view's downloader."""
        missing = self.missing_preview_files()
        for key in missing:
            self.ctx.events.sig_model_download_requested.emit(key)
        self._preview_downloading.update(missing)
        self.refresh_preview_files()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self.refresh_preview_files()  # a download may have finished meanwhile

    # ---- DashScope key

    # ---- the database (this folder's SQLite file, or a shared PostgreSQL queue)

    def _database_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox(self.tr("Queue database") + " *", parent)
        self.db_current = QLabel(box)
        self.db_current.setObjectName("dbCurrent")
        self.db_current.setWordWrap(True)
        self.db_url = QLineEdit(box)
        self.db_url.setObjectName("dbUrl")
        self.db_url.setPlaceholderText("postgresql://user@host/wan22?sslmode=require")
        self.db_password = QLineEdit(box)
        self.db_password.setObjectName("dbPassword")
        self.db_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.db_password.setPlaceholderText(self.tr("password (stored in the OS keyring)"))
        self.db_use = QPushButton(self.tr("Use shared database"), box)
        self.db_use.setObjectName("dbUse")
        self.db_local = QPushButton(self.tr("Use this folder's own database"), box)
        self.db_local.setObjectName("dbLocal")
        self.db_result = QLabel(box)
        self.db_result.setObjectName("dbResult")
        self.db_result.setWordWrap(True)
        self.db_use.clicked.connect(self.use_shared_database)
        self.db_local.clicked.connect(self.use_local_database)
        row = QHBoxLayout()
        row.addWidget(self.db_url, 2)
        row.addWidget(self.db_password, 1)
        row.addWidget(self.db_use)
        lay = QVBoxLayout(box)
        lay.addWidget(self.db_current)
        lay.addLayout(row)
        lay.addWidget(self.db_local)
        lay.addWidget(self.db_result)
        self._show_database()
        return box

    def _show_database(self) -> None:
        shared = self.ctx.settings.database_url is not None
        where = db_ops.current(self.ctx.base_paths, self.ctx.settings)
        self.db_current.setText(
            (
                self.tr("A shared queue: %1")
                if shared
                else self.tr("This data folder's own database: %1")
            ).replace("%1", where)
        )
        self.db_local.setEnabled(shared)

    def _db_done(self, text: str) -> None:
        self.db_use.setEnabled(True)
        self.db_result.setStyleSheet("")
        self.db_result.setText(text + " " + self.tr("Restart the app to switch."))
        self._show_database()

    def _db_error(self, exc: BaseException) -> None:
        self.db_use.setEnabled(True)
        _show_error(self.db_result, exc)

    def use_shared_database(self) -> None:
        url, password = self.db_url.text().strip(), self.db_password.text() or None
        self.db_password.clear()  # the password never stays in a widget longer than needed
        self.db_use.setEnabled(False)
        self.db_result.setStyleSheet("")
        self.db_result.setText(self.tr("Connecting…"))

        def store(_: object) -> None:  # on the GUI thread: the settings object lives here
            try:
                db_ops.use_database(self.ctx.settings, url, password=password, check=False)
            except Wan22Error as exc:
                self._db_error(exc)
                return
            self._db_done(self.tr("The queue is now the shared database."))

        self.ctx.tasks.run(lambda: db_ops.check_reachable(url, password), store, self._db_error)

    def use_local_database(self) -> None:
        db_ops.use_database(self.ctx.settings, None)
        self._db_done(self.tr("The queue is now this data folder's own database."))

    def _key_box(self, parent: QWidget) -> QGroupBox:
        box = QGroupBox(self.tr("DashScope API key (for online prompt extension)"), parent)
        self.key_status = QLabel(box)
        self.key_status.setObjectName("keyStatus")
        self.key_status.setWordWrap(True)
        self.key_input = QLineEdit(box)
        self.key_input.setObjectName("keyInput")
        self.key_input.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_input.setPlaceholderText(
            self.tr("paste a key (sk-…) to store it in the OS keyring")
        )
        self.key_save = QPushButton(self.tr("Save key"), box)
        self.key_save.setObjectName("keySave")
        self.key_remove = QPushButton(self.tr("Remove key"), box)
        self.key_remove.setObjectName("keyRemove")
        self.key_test = QPushButton(self.tr("Test"), box)
        self.key_test.setObjectName("keyTest")
        self.key_result = QLabel(box)
        self.key_result.setObjectName("keyResult")
        self.key_result.setWordWrap(True)
        self.key_save.clicked.connect(self.save_key)
        self.key_remove.clicked.connect(self.remove_key)
        self.key_test.clicked.connect(self.run_key_test)
        row = QHBoxLayout()
        row.addWidget(self.key_input, 1)
        row.addWidget(self.key_save)
        row.addWidget(self.key_remove)
        row.addWidget(self.key_test)
        lay = QVBoxLayout(box)
        lay.addWidget(self.key_status)
        lay.addLayout(row)
        lay.addWidget(self.key_result)
        return box

    def refresh_key_status(self) -> None:
        self.ctx.tasks.run(secrets.key_status, self._show_key_status, self._key_error)

    def _show_key_status(self, st: secrets.KeyStatus) -> None:
        if st.source == "env":
            text = self.tr("In use: %1 from the DASH_API_KEY environment variable").replace(
                "%1", st.masked or ""
            )
        elif st.source == "keyring":
            text = self.tr("Stored in the OS keyring: %1").replace("%1", st.masked or "")
        else:
            text = self.tr("No key stored")
        if st.keyring_error:
            text += "\n" + st.keyring_error + " — " + secrets.KEYRING_HINT
        self.key_status.setText(text)
        self.key_remove.setEnabled(st.source == "keyring")

    def _key_error(self, exc: BaseException) -> None:
        _show_error(self.key_result, exc)

    def save_key(self) -> None:
        key = self.key_input.text()
        self.key_input.clear()  # the key never stays in a widget longer than needed

        def done(_: object) -> None:
            self.key_result.setStyleSheet("")
            self.key_result.setText(self.tr("Key saved in the OS keyring."))
            self.refresh_key_status()

        self.ctx.tasks.run(lambda: secrets.set_dashscope_key(key), done, self._key_error)

    def remove_key(self) -> None:
        def done(removed: bool) -> None:
            self.key_result.setStyleSheet("")
            self.key_result.setText(
                self.tr("Key removed.") if removed else self.tr("No key was stored.")
            )
            self.refresh_key_status()

        self.ctx.tasks.run(secrets.delete_dashscope_key, done, self._key_error)

    def run_key_test(self) -> None:
        self.key_test.setEnabled(False)
        self.key_result.setStyleSheet("")
        self.key_result.setText(self.tr("Testing…"))

        def done(result: tuple[bool, str]) -> None:
            self.key_test.setEnabled(True)
            ok, message = result
            self.key_result.setStyleSheet("" if ok else "color: #c62828;")
            self.key_result.setText((self.tr("The key works.") + " " if ok else "") + message)

        def failed(exc: BaseException) -> None:
            self.key_test.setEnabled(True)
            self._key_error(exc)

        self.ctx.tasks.run(check_dashscope_key, done, failed)
