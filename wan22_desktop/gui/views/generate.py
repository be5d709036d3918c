"""The Generate view: the form that builds a ``GenerationRequest``, a live plan preview, and
"Generate now" / "Add to queue" (or "Save changes" when editing a queued job).

The widgets only read and show values: ``generate_form`` holds the rules (quality presets, Auto,
output sizes, validation, plan), the database work goes through ``ctx.tasks.run_db``.
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QLocale, QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wan22_desktop.errors import UserInputError
from wan22_desktop.gui import generate_form as gf
from wan22_desktop.gui.context import AppContext
from wan22_desktop.gui.i18n import QT_TRANSLATE_NOOP
from wan22_desktop.gui.plan_text import tr_plan
from wan22_desktop.gui.widgets.advanced_fields import MEMORY_SWITCHES, AdvancedFields
from wan22_desktop.gui.widgets.chips import ChipPanel
from wan22_desktop.gui.widgets.collapsible import Collapsible
from wan22_desktop.gui.widgets.image_drop import ImageDropZone, image_size
from wan22_desktop.gui.widgets.lora_picker import LoraPicker
from wan22_desktop.gui.widgets.plan_panel import PlanPanel
from wan22_desktop.presets import LORA_FOLDER, all_presets
from wan22_desktop.prompt_chips import CHIPS, Chip, insert_phrase, remove_phrase
from wan22_desktop.request import SEED_MAX, GenerationRequest
from wan22_desktop.runtime.planner import InstalledModel
from wan22_desktop.runtime.planning import installed_models
from wan22_desktop.services import queue as queue_ops
from wan22_desktop.tasks import DEFAULT_NEGATIVE_PROMPT, frames_for_seconds, get_task
from wan22_desktop.video_metadata import (
    IMAGE_SUFFIXES,
    NO_METADATA_HINT,
    VIDEO_SUFFIXES,
    read_settings,
)

log = logging.getLogger(__name__)

STATE_KEY = "generate_form"
SPLITTER_KEY = "generate_splitter"
DEBOUNCE_MS = 120
DICE_MAX = 2**32 - 1  # a dice seed is easy to read back; any 0..SEED_MAX may be typed
# UserInputError.field (a GenerationRequest field) -> the form field to highlight
_FORM_FIELD = {
    "prompt": "prompt",
    "image": "image",
    "frame_num": "frames",
    "size": "size",
    "sample_steps": "steps",
    "sample_shift": "shift",
    "guidance": "guidance",
    "seed": "seed",
    "loras": "loras",
    "preset": "quality",
    "switch_step": "switch",
    "step_cache": "turbo",
}
# Errors that name no field yet: (keyword in the message) -> form field to highlight
_FIELD_OF_MESSAGE = (
    ("prompt", "prompt"),
    ("image", "image"),
    ("frame", "frames"),
    ("size", "size"),
    ("steps", "steps"),
    ("shift", "shift"),
    ("guidance", "guidance"),
    ("seed", "seed"),
)


# Size names from generate_form (Qt-free), listed here so the translation tools find them.
SIZE_WORDS = (
    QT_TRANSLATE_NOOP("GenerateView", "720p landscape"),
    QT_TRANSLATE_NOOP("GenerateView", "720p portrait"),
    QT_TRANSLATE_NOOP("GenerateView", "480p landscape"),
    QT_TRANSLATE_NOOP("GenerateView", "480p portrait"),
)
# Fast preset titles from resources/presets.json, listed for the translation tools.
PRESET_TITLES = (
    QT_TRANSLATE_NOOP("GenerateView", "Fast: Lightning 4 steps (text to video, A14B)"),
    QT_TRANSLATE_NOOP("GenerateView", "Fast: Lightning 4 steps (image to video, A14B)"),
)


class GenerateView(QWidget):
    # ---- Signals
    sig_request_queued = Signal(list)
    """Jobs were queued from this form. Args: list of job ids."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.installed: dict[str, InstalledModel] = {}
        self.editing_job: int | None = None
        self.lora_dir = ctx.paths.models / LORA_FOLDER  # where a Fast preset's LoRAs download to
        self._quality = "official"  # the Quality choice before the current one
        self._warmup: tuple[int, float | None] = (0, None)  # no widget: set_values carries it
        self._downloading: set[str] = set()  # catalogue keys whose download this form started
        self.last_preview: gf.Preview | None = None
        self._image_wh: tuple[int, int] | None = None
        self._loading = False
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh_preview)
        self._build()
        self._connect()
        self.setAcceptDrops(True)  # a video (or PNG) with settings inside fills the form
        initial = gf.FormValues.from_state(ctx.settings.get_state(STATE_KEY))
        if ctx.settings.get_state(STATE_KEY) is None:
            initial = replace(
                initial,
                task=ctx.settings.get("default_task"),
                quality=ctx.settings.get("default_quality"),
                extend_enabled=ctx.settings.get("prompt_extend_enabled"),
                extend_method=ctx.settings.get("prompt_extend_method"),
                extend_lang=ctx.settings.get("prompt_extend_target_lang"),
            )
        try:
            self.set_values(initial)
        except (TypeError, ValueError, OverflowError):  # hand-edited or old UI state: start clean
            log.warning("ignoring unusable saved form values", exc_info=True)
            self.set_values(gf.FormValues(task=ctx.settings.get("default_task")))
        if splitter := ctx.settings.get_state(SPLITTER_KEY):
            from PySide6.QtCore import QByteArray

            self.splitter.restoreState(QByteArray.fromBase64(splitter.encode("ascii")))
        ctx.events.sig_generate_prefill_requested.connect(self.prefill)
        ctx.events.sig_models_changed.connect(self.reload_installed)
        ctx.events.sig_settings_changed.connect(self._setting_changed)
        self.reload_installed()
        if ctx.hardware(self._on_hardware) is None:
            self.plan_panel.show_waiting()

    # ---- building

    def _build(self) -> None:
        """The form (left, scrollable) and the image, plan and actions (right), in a splitter."""
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._build_prompt_section(form)
        self._build_size_section(form)
        self._build_quality_section(form)
        self._build_lora_section(form)
        self._build_advanced_section(form)
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.addLayout(form)
        column.addStretch(1)  # rows keep their natural height; spare space goes below
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(left)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        right = QWidget(self)
        rl = QVBoxLayout(right)
        rl.addWidget(self._build_image_section())
        rl.addWidget(self._build_plan_section(), 1)
        rl.addLayout(self._build_buttons_section())

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("generateSplitter")
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.addWidget(self.splitter)
        self._set_editing(None)

    def _build_prompt_section(self, form: QFormLayout) -> None:
        """Task, prompt, style chips and the negative prompt."""
        self.task = QComboBox(self)
        self.task.setObjectName("task")
        for key, label in (
            (gf.AUTO, self.tr("Auto (let the planner choose)")),
            ("t2v-A14B", self.tr("Text → Video (A14B)")),
            ("i2v-A14B", self.tr("Image → Video (A14B)")),
            ("ti2v-5B", self.tr("Text/Image → Video (5B)")),
        ):
            self.task.addItem(label, key)
        self.task_note = QLabel(self)
        self.task_note.setWordWrap(True)
        self.task_note.setObjectName("taskNote")

        self.prompt = QPlainTextEdit(self)
        self.prompt.setObjectName("prompt")
        self.prompt.setPlaceholderText(
            self.tr("Describe the video: subject, action, scene, style…")
        )
        self.prompt.setMinimumHeight(90)
        self.prompt.setMaximumHeight(160)
        self.chips = ChipPanel(self, ui_language=QLocale().name())
        self.chips.setMaximumHeight(96)
        self.chip_lang = QComboBox(self)
        self.chip_lang.setObjectName("chipLanguage")
        self.chip_lang.addItem(self.tr("Auto"), "auto")
        self.chip_lang.setToolTip(
            self.tr("Language of the inserted phrases (Auto: the prompt's language)")
        )
        self.chip_lang.addItem("中文", "zh")
        self.chip_lang.addItem("English", "en")
        self.chips.setCornerWidget(self.chip_lang, Qt.Corner.TopRightCorner)

        self.negative_custom = QCheckBox(self.tr("Use my own negative prompt"), self)
        self.negative = QPlainTextEdit(self)
        self.negative.setObjectName("negativePrompt")
        self.negative.setPlaceholderText(DEFAULT_NEGATIVE_PROMPT)
        self.negative.setMaximumHeight(80)
        self.negative_box = Collapsible(self.tr("Negative prompt (official default)"), self)
        nl = QVBoxLayout(self.negative_box.body)
        nl.setContentsMargins(16, 0, 0, 0)
        nl.addWidget(self.negative_custom)
        nl.addWidget(self.negative)

        form.addRow(self.tr("Task"), self.task)
        form.addRow("", self.task_note)
        form.addRow(self.tr("Prompt"), self.prompt)
        form.addRow(self.tr("Style"), self.chips)
        form.addRow("", self.negative_box)

    def _build_size_section(self, form: QFormLayout) -> None:
        """Size preset and duration (seconds and frames, kept in step)."""
        self.size_combo = QComboBox(self)
        self.size_combo.setObjectName("size")
        self.seconds = QDoubleSpinBox(self)
        self.seconds.setObjectName("seconds")
        self.seconds.setRange(0.2, 15.0)
        self.seconds.setDecimals(1)
        self.seconds.setSingleStep(0.5)
        self.seconds.setSuffix(self.tr(" s"))
        self.frames = QSpinBox(self)
        self.frames.setObjectName("frames")
        self.frames.setRange(5, 241)
        self.frames.setSingleStep(4)
        self.frames.setSuffix(self.tr(" frames"))
        self.fps_note = QLabel(self)
        duration_row = QHBoxLayout()
        duration_row.addWidget(self.seconds)
        duration_row.addWidget(self.frames)
        duration_row.addWidget(self.fps_note)
        duration_row.addStretch(1)
        form.addRow(self.tr("Size"), self.size_combo)
        form.addRow(self.tr("Duration"), duration_row)

    def _build_quality_section(self, form: QFormLayout) -> None:
        """Quality preset, seed, prompt extension and batch size."""
        self.quality = QComboBox(self)
        self.quality.setObjectName("quality")
        self._fill_quality(gf.AUTO)
        self.fast_message = QLabel(self)
        self.fast_message.setObjectName("fastPresetMessage")
        self.fast_message.setWordWrap(True)
        self.fast_download = QPushButton(self.tr("Download"), self)
        self.fast_download.setObjectName("fastPresetDownload")
        self.fast_download.setToolTip(self.tr("Download the preset's LoRA files (Models view)"))
        self.fast_box = QWidget(self)
        fast_row = QHBoxLayout(self.fast_box)
        fast_row.setContentsMargins(0, 0, 0, 0)
        fast_row.addWidget(self.fast_message, 1)
        fast_row.addWidget(self.fast_download)
        self.fast_box.setVisible(False)

        self.seed_random = QCheckBox(self.tr("Random"), self)
        self.seed_random.setObjectName("seedRandom")
        self.seed = QLineEdit(self)
        self.seed.setObjectName("seed")
        self.seed.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,19}"), self))
        self.seed.setPlaceholderText("0 … " + str(SEED_MAX))
        self.dice = QToolButton(self)
        self.dice.setObjectName("dice")
        self.dice.setText(self.tr("Roll"))
        self.dice.setToolTip(self.tr("Roll a new seed"))
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_random)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.dice)

        self.extend = QCheckBox(self.tr("Extend the prompt with an LLM"), self)
        self.extend.setObjectName("extend")
        self.extend_method = QComboBox(self)
        self.extend_method.setObjectName("extendMethod")
        self.extend_method.addItem(self.tr("Local Qwen"), "local_qwen")
        self.extend_method.addItem(self.tr("DashScope (online)"), "dashscope")
        self.extend_lang = QComboBox(self)
        self.extend_lang.setObjectName("extendLang")
        self.extend_lang.addItem(self.tr("Chinese"), "zh")
        self.extend_lang.addItem(self.tr("English"), "en")
        extend_row = QHBoxLayout()
        extend_row.addWidget(self.extend)
        extend_row.addWidget(self.extend_method)
        extend_row.addWidget(self.extend_lang)
        extend_row.addStretch(1)

        self.count = QSpinBox(self)
        self.count.setObjectName("count")
        self.count.setRange(1, 100)
        self.variation = QComboBox(self)
        self.variation.setObjectName("variation")
        self.variation.addItem(self.tr("consecutive seeds"), False)
        self.variation.addItem(self.tr("random seeds"), True)
        batch_row = QHBoxLayout()
        batch_row.addWidget(self.count)
        batch_row.addWidget(QLabel(self.tr("videos with"), self))
        batch_row.addWidget(self.variation)
        batch_row.addStretch(1)

        form.addRow(self.tr("Quality"), self.quality)
        form.addRow("", self.fast_box)
        form.addRow(self.tr("Seed"), seed_row)
        form.addRow(self.tr("Prompt extension"), extend_row)
        form.addRow(self.tr("Batch"), batch_row)

    def _build_lora_section(self, form: QFormLayout) -> None:
        """LoRA files with a strength per expert (the library: the app's and adopted folders)."""
        from wan22_desktop.lora_library import FOLDERS_STATE_KEY, library_folder

        adopted = [Path(p) for p in self.ctx.settings.get_state(FOLDERS_STATE_KEY, []) or []]
        self.loras = LoraPicker([library_folder(self.ctx.paths.data), *adopted], self)
        self.loras.setObjectName("loras")
        form.addRow(self.tr("LoRAs"), self.loras)

    def _build_advanced_section(self, form: QFormLayout) -> None:
        """Steps, guidance, shift, solver, memory switches and GPUs (collapsed by default)."""
        self.advanced = AdvancedFields(self)
        form.addRow("", self.advanced)

    def _build_image_section(self) -> QGroupBox:
        self.image = ImageDropZone(self)
        self.image_box = QGroupBox(self.tr("Start image"), self)
        QVBoxLayout(self.image_box).addWidget(self.image)
        return self.image_box

    def _build_plan_section(self) -> PlanPanel:
        self.plan_panel = PlanPanel(self)
        return self.plan_panel

    def _build_buttons_section(self) -> QVBoxLayout:
        """The edit banner, the validation message and the actions under them."""
        self.message = QLabel(self)
        self.message.setObjectName("validationMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828;")
        self.edit_banner = QLabel(self)
        self.edit_banner.setObjectName("editBanner")
        self.generate_now = QPushButton(self.tr("Generate now"), self)
        self.generate_now.setObjectName("generateNow")
        self.generate_now.setToolTip(self.tr("Put this job at the front of the queue"))
        self.add_to_queue = QPushButton(self)
        self.add_to_queue.setObjectName("addToQueue")
        self.add_to_queue.setDefault(True)
        self.save_edit = QPushButton(self.tr("Save changes"), self)
        self.save_edit.setObjectName("saveEdit")
        self.cancel_edit = QPushButton(self.tr("Cancel editing"), self)
        self.cancel_edit.setObjectName("cancelEdit")
        actions = QHBoxLayout()
        actions.addStretch(1)
        for b in (self.cancel_edit, self.save_edit, self.generate_now, self.add_to_queue):
            actions.addWidget(b)
        box = QVBoxLayout()
        box.addWidget(self.edit_banner)
        box.addWidget(self.message)
        box.addLayout(actions)
        return box

    def _connect(self) -> None:
        changed = self._schedule
        self.task.currentIndexChanged.connect(self._on_task_changed)
        self.prompt.textChanged.connect(self._on_prompt_changed)
        self.chips.sig_chip_toggled.connect(self._on_chip)
        self.negative_custom.toggled.connect(self._on_negative_toggled)
        self.negative.textChanged.connect(changed)
        self.image.sig_image_changed.connect(self._on_image)
        self.size_combo.currentIndexChanged.connect(changed)
        self.seconds.valueChanged.connect(self._on_seconds)
        self.frames.valueChanged.connect(self._on_frames)
        self.quality.currentIndexChanged.connect(self._on_quality)
        self.advanced.steps_custom.toggled.connect(self._on_steps_custom)
        self.advanced.turbo.toggled.connect(changed)
        self.fast_download.clicked.connect(self.download_preset_loras)
        for w in (
            self.advanced.switch_step,
            self.advanced.turbo_threshold,
            self.advanced.steps,
            self.advanced.guidance_low,
            self.advanced.guidance_high,
            self.advanced.shift,
            self.advanced.gpus,
            self.advanced.vram_headroom,
            self.count,
        ):
            w.valueChanged.connect(changed)
        for combo in (
            self.advanced.solver,
            self.variation,
            self.extend_method,
            self.extend_lang,
            *self.advanced.memory.values(),
        ):
            combo.currentIndexChanged.connect(changed)
        self.count.valueChanged.connect(self._update_buttons_text)
        self.seed_random.toggled.connect(self._on_seed_random)
        self.seed.textChanged.connect(changed)
        self.dice.clicked.connect(self.roll_seed)
        self.extend.toggled.connect(self._on_extend_toggled)
        self.loras.sig_changed.connect(changed)
        self.generate_now.clicked.connect(lambda: self.submit("now"))
        self.add_to_queue.clicked.connect(lambda: self.submit("normal"))
        self.save_edit.clicked.connect(self.save_changes)
        self.cancel_edit.clicked.connect(lambda: self._set_editing(None))

    # ---- values in and out

    def values(self) -> gf.FormValues:
        task = self.task.currentData()
        custom_steps = self.advanced.steps_custom.isChecked()
        seed_text = self.seed.text().strip()
        seed = -1 if self.seed_random.isChecked() or not seed_text else int(seed_text)
        return gf.FormValues(
            task=task,
            prompt=self.prompt.toPlainText(),
            negative_prompt=self.negative.toPlainText()
            if self.negative_custom.isChecked()
            else None,
            image=self.image.path if gf.takes_image(task) else None,
            size=self.size_combo.currentData(),
            frame_num=self.frames.value(),
            quality=self.quality.currentData(),
            steps=self.advanced.steps.value() if custom_steps else None,
            guidance_low=None if task == gf.AUTO else self.advanced.guidance_low.value(),
            guidance_high=None if task == gf.AUTO else self.advanced.guidance_high.value(),
            shift=None if task == gf.AUTO else self.advanced.shift.value(),
            solver=self.advanced.solver.currentData(),
            seed=seed,
            extend_enabled=self.extend.isChecked(),
            extend_method=self.extend_method.currentData(),
            extend_lang=self.extend_lang.currentData(),
            offload_model=self.advanced.memory["offload_model"].currentData(),
            convert_model_dtype=self.advanced.memory["convert_model_dtype"].currentData(),
            t5_cpu=self.advanced.memory["t5_cpu"].currentData(),
            vram_headroom=self.advanced.vram_headroom.value(),
            gpus=self.advanced.gpus.value() or None,
            count=self.count.value(),
            random_seeds=bool(self.variation.currentData()),
            loras=self.loras.rows(),
            switch_step=None
            if task == gf.AUTO or self.advanced.switch_step.value() < 0
            else self.advanced.switch_step.value(),
            step_cache=self.advanced.turbo_threshold.value()
            if self.advanced.turbo.isChecked()
            else 0.0,
            warmup_steps=self._warmup[0],
            warmup_guidance=self._warmup[1],
        )

    def set_values(self, v: gf.FormValues) -> None:
        """Fill every widget from ``v`` (task defaults where ``v`` says None)."""
        self._loading = True
        try:
            _select(self.task, v.task)
            self._apply_task(v.task, keep_size=v.size, frames=v.frame_num)
            self.prompt.setPlainText(v.prompt)
            self.negative_custom.setChecked(v.negative_prompt is not None)
            self.negative.setPlainText(v.negative_prompt if v.negative_prompt is not None else "")
            self.negative.setEnabled(v.negative_prompt is not None)
            self.image.set_image(v.image, emit=False)
            self._image_wh = image_size(v.image) if v.image else None
            _select(self.quality, v.quality)
            self._quality = self.quality.currentData()
            self._warmup = (v.warmup_steps, v.warmup_guidance)
            self.advanced.switch_step.setValue(-1 if v.switch_step is None else v.switch_step)
            self.advanced.turbo.setChecked(v.step_cache > 0)
            self.advanced.turbo_threshold.setValue(v.step_cache or gf.STEP_CACHE_DEFAULT)
            if v.task != gf.AUTO:
                spec = get_task(v.task)
                self.advanced.guidance_low.setValue(
                    v.guidance_low if v.guidance_low is not None else spec.guidance[0]
                )
                self.advanced.guidance_high.setValue(
                    v.guidance_high if v.guidance_high is not None else spec.guidance[1]
                )
                self.advanced.shift.setValue(v.shift if v.shift is not None else spec.sample_shift)
            self.advanced.steps_custom.setChecked(v.steps is not None)
            self._sync_steps(v.steps)
            _select(self.advanced.solver, v.solver)
            self.seed_random.setChecked(v.seed < 0)
            self.seed.setText("" if v.seed < 0 else str(v.seed))
            self.seed.setEnabled(v.seed >= 0)
            self.extend.setChecked(v.extend_enabled)
            _select(self.extend_method, v.extend_method)
            _select(self.extend_lang, v.extend_lang)
            self.extend_method.setEnabled(v.extend_enabled)
            self.extend_lang.setEnabled(v.extend_enabled)
            for name in MEMORY_SWITCHES:
                _select(self.advanced.memory[name], getattr(v, name))
            self.advanced.gpus.setValue(v.gpus or 0)
            self.advanced.vram_headroom.setValue(v.vram_headroom)
            self.count.setValue(v.count)
            _select(self.variation, v.random_seeds)
            self.loras.set_rows(v.loras)
        finally:
            self._loading = False
        self._update_buttons_text()
        self.chips.sync(self.prompt.toPlainText(), CHIPS)
        self.refresh_preview()

    def prefill(self, request: GenerationRequest, job_id: int | None = None) -> None:
        """Fill the form from a request (history re-run, queue edit); ``job_id``: edit that job."""
        self.set_values(gf.values_from_request(request))
        self._set_editing(job_id)

    def save_state(self) -> None:
        self.ctx.settings.set_state(STATE_KEY, self.values().to_state())
        self.ctx.settings.set_state(
            SPLITTER_KEY, bytes(self.splitter.saveState().toBase64().data()).decode("ascii")
        )

    # ---- a dropped video: its settings fill the form

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if _dropped_settings_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = _dropped_settings_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.load_settings_from(path)

    def load_settings_from(self, path: str) -> bool:
        """Fill the form from the settings inside ``path`` (ours, Wan2GP's, ComfyUI's); what
        could not be used is listed in a notice, nothing blocks. False when the file has none."""
        try:
            settings = read_settings(path)
            task = {} if settings.fields.get("task") else {"task": self.values().task}
            request = settings.request(**task)
        except UserInputError as exc:
            if path.lower().endswith(IMAGE_SUFFIXES) and exc.hint == NO_METADATA_HINT:
                self.image.set_image(path)  # a plain picture dropped beside the image box
                return False
            self.ctx.notifier.error(exc)
            return False
        self._set_editing(None)
        self.set_values(gf.values_from_request(request))
        name = os.path.basename(path)
        if settings.unmapped:
            self.ctx.notifier.warning(
                self.tr("Settings taken from %1 (%2)")
                .replace("%1", name)
                .replace("%2", settings.source_name),
                self.tr("not used: %1").replace("%1", "; ".join(settings.unmapped)),
            )
        else:
            self.ctx.notifier.info(
                self.tr("Settings taken from %1 (%2)")
                .replace("%1", name)
                .replace("%2", settings.source_name)
            )
        return True

    # ---- reactions

    def _schedule(self, *_: object) -> None:
        if not self._loading:
            self._debounce.start()

    def _on_task_changed(self) -> None:
        if self._loading:
            return
        task = self.task.currentData()
        old = self.values()
        self._loading = True
        try:
            self._apply_task(task, keep_size=self.size_combo.currentData(), frames=None)
            if task != gf.AUTO:
                self.advanced.load_task_defaults(task)
            if all_presets().get(self._quality) is not None:  # the old task's Fast preset
                left = gf.choose_quality(
                    replace(old, quality=self._quality),
                    self._quality_task(),
                    "official",
                    self.lora_dir,
                )
                _select(self.advanced.solver, left.solver)
                self.advanced.switch_step.setValue(-1)
                self.loras.set_rows(left.loras)
                self._warmup = (left.warmup_steps, left.warmup_guidance)
            self._quality = self.quality.currentData()
            self._sync_steps(
                None if not self.advanced.steps_custom.isChecked() else self.advanced.steps.value()
            )
        finally:
            self._loading = False
        self.refresh_preview()

    def _apply_task(self, task: str, *, keep_size: str | None, frames: int | None) -> None:
        """Size presets, fps, image and advanced fields that depend on the task."""
        sizes = gf.sizes_for(task)
        self.size_combo.clear()
        for s in sizes:
            w, h = s.split("*")
            name = gf.SIZE_NAMES.get(s, "")
            self.size_combo.addItem(f"{w}×{h}" + (f"  ({self.tr(name)})" if name else ""), s)
        _select(self.size_combo, keep_size if keep_size in sizes else gf.default_size(task))
        fps = gf.fps_for(task)
        default_frames = 81 if task == gf.AUTO else get_task(task).frame_num
        self.frames.setValue(frames or default_frames)
        self.seconds.setValue(self.frames.value() / fps)
        self.fps_note.setText(self.tr("at %1 fps").replace("%1", str(fps)))
        self.image_box.setEnabled(gf.takes_image(task))
        self.image_box.setTitle(
            self.tr("Start image (required)")
            if task == "i2v-A14B"
            else self.tr("Start image (optional)")
            if gf.takes_image(task)
            else self.tr("Start image (not used by this task)")
        )
        self.advanced.show_task(task, auto=task == gf.AUTO)
        self._fill_quality(task)
        self.task_note.setVisible(task == gf.AUTO)
        self.loras.set_task(task)

    def _sync_steps(self, custom: int | None) -> None:
        task = self.task.currentData()
        if custom is not None:
            self.advanced.steps.setValue(custom)
        elif task != gf.AUTO:
            self.advanced.steps.setValue(gf.steps_for(task, self.quality.currentData()))
        self.advanced.steps.setEnabled(self.advanced.steps_custom.isChecked() and task != gf.AUTO)

    def _fill_quality(self, task: str) -> None:
        """The quality presets, then the Fast presets made for ``task``; keeps the choice when
        the new list has it (else Official)."""
        current = self.quality.currentData() or "official"
        presets = all_presets()
        self.quality.blockSignals(True)
        try:
            self.quality.clear()
            labels = {
                "draft": self.tr("Draft (fast preview)"),
                "standard": self.tr("Standard"),
                "official": self.tr("Official (best)"),
            }
            for key in gf.quality_choices(task):
                self.quality.addItem(labels.get(key) or self.tr(presets[key].title), key)
                if key in presets:
                    self.quality.setItemData(
                        self.quality.count() - 1,
                        self._preset_tooltip(key),
                        Qt.ItemDataRole.ToolTipRole,
                    )
            _select(self.quality, current if current in gf.quality_choices(task) else "official")
        finally:
            self.quality.blockSignals(False)

    def _preset_tooltip(self, name: str) -> str:
        """What a Fast preset sets, from its data (the JSON's description is English only)."""
        preset = all_presets()[name]
        f = preset.fields
        guidance = f.get("guidance") or {}
        text = (
            self.tr("%1 steps, guidance %2, shift %3, solver %4; LoRAs: %5")
            .replace("%1", str(f.get("sample_steps", "")))
            .replace("%2", "/".join(f"{g:g}" for g in guidance.values()))
            .replace("%3", f"{f.get('sample_shift', '')}")
            .replace("%4", str(f.get("solver", "")))
            .replace("%5", ", ".join(sorted({x.catalog for x in preset.loras})) or "-")
        )
        if f.get("warmup_steps"):  # the three-phase presets: a guided first phase, LoRAs off
            text += (
                self.tr("; first %1 step(s): guidance %2, no LoRA")
                .replace("%1", str(f["warmup_steps"]))
                .replace("%2", f"{f.get('warmup_guidance', '-')}")
            )
        return text

    def _quality_task(self) -> str:
        """The task the previous Fast preset was made for (the form's task when none)."""
        preset = all_presets().get(self._quality)
        return preset.task if preset is not None else self.task.currentData()

    def _on_quality(self) -> None:
        if self._loading:
            return
        quality = self.quality.currentData()
        task = self.task.currentData()
        previous = replace(self.values(), quality=self._quality)
        self._quality = quality
        if task != gf.AUTO and (
            gf.fast_preset(task, quality) is not None or gf.fast_preset(task, previous.quality)
        ):
            # A Fast preset fills the form (or leaving one puts the task's defaults back).
            self.set_values(gf.choose_quality(previous, task, quality, self.lora_dir))
            return
        self._sync_steps(
            None if not self.advanced.steps_custom.isChecked() else self.advanced.steps.value()
        )
        self._schedule()

    def download_preset_loras(self) -> None:
        """Start the Fast preset's catalogue downloads through the Models view's downloader;
        the form unblocks when they finish (``sig_models_changed`` re-checks the files)."""
        keys = self.last_preview.missing_downloads if self.last_preview else ()
        for key in keys:
            self.ctx.events.sig_model_download_requested.emit(key)
        self._downloading.update(keys)
        if self.last_preview is not None:
            self._show_fast_preset(self.values(), self.last_preview)

    def _on_steps_custom(self, on: bool) -> None:
        self.advanced.steps.setEnabled(on)
        if not on:
            self._sync_steps(None)
        self._schedule()

    def _on_prompt_changed(self) -> None:
        self.chips.sync(self.prompt.toPlainText(), CHIPS)
        self._schedule()

    def _on_chip(self, chip: Chip, on: bool) -> None:
        text = self.prompt.toPlainText()
        lang = self.chip_lang.currentData()
        lang = None if lang == "auto" else lang
        if on:
            text = insert_phrase(text, chip.phrase(lang or _lang_of(text)), lang)
        else:
            text = remove_phrase(remove_phrase(text, chip.en), chip.zh)
        self.prompt.setPlainText(text)
        cursor = self.prompt.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.prompt.setTextCursor(cursor)

    def _on_negative_toggled(self, on: bool) -> None:
        self.negative.setEnabled(on)
        if on and not self.negative.toPlainText():
            self.negative.setPlainText(DEFAULT_NEGATIVE_PROMPT)
        self._schedule()

    def _on_image(self, path: str | None) -> None:
        self._image_wh = image_size(path) if path else None
        self._schedule()

    def _on_seconds(self, seconds: float) -> None:
        if self._loading:
            return
        fps = gf.fps_for(self.task.currentData())
        frames = min(max(frames_for_seconds(seconds, fps), 5), 241)
        self._loading = True
        try:
            self.frames.setValue(frames)
        finally:
            self._loading = False
        self._schedule()

    def _on_frames(self, frames: int) -> None:
        if self._loading:
            return
        snapped = 4 * round((frames - 1) / 4) + 1
        self._loading = True
        try:
            if snapped != frames:
                self.frames.setValue(snapped)
            self.seconds.setValue(snapped / gf.fps_for(self.task.currentData()))
        finally:
            self._loading = False
        self._schedule()

    def _on_seed_random(self, on: bool) -> None:
        self.seed.setEnabled(not on)
        if not on and not self.seed.text():
            self.roll_seed()
        self._schedule()

    def roll_seed(self) -> None:
        """The dice: a fresh fixed seed (so the result can be reproduced)."""
        self.seed_random.setChecked(False)
        self.seed.setText(str(random.SystemRandom().randint(0, DICE_MAX)))

    def _on_extend_toggled(self, on: bool) -> None:
        self.extend_method.setEnabled(on)
        self.extend_lang.setEnabled(on)
        self._schedule()

    def _on_hardware(self, _hw: object) -> None:
        self.refresh_preview()

    # ---- preview and validation

    def reload_installed(self) -> None:
        self.ctx.tasks.run_db(
            lambda: installed_models(self.ctx.db), self._on_installed, self.ctx.notifier.error
        )

    def _on_installed(self, installed: dict[str, InstalledModel]) -> None:
        self.installed = installed
        self.refresh_preview()

    def _setting_changed(self, key: str) -> None:
        if key == "gpu_mode":  # a latency runner spreads jobs over every GPU: plan as it will
            self.refresh_preview()

    def refresh_preview(self) -> None:
        self._debounce.stop()
        values = self.values()
        pv = gf.preview(
            values,
            self.ctx.hardware(),
            self.installed,
            self._image_wh,
            lora_dir=self.lora_dir,
            gpu_mode=str(self.ctx.settings.get("gpu_mode")),
        )
        self.last_preview = pv
        if self.ctx.hardware() is None:
            self.plan_panel.show_waiting()
        else:
            self.plan_panel.show_preview(pv)
        if pv.task_reason:
            self.task_note.setText(tr_plan(pv.task_reason))
        if pv.output_size is not None and self.image.path:
            w, h = pv.output_size
            self.image.set_caption(
                self.tr("Output: %1×%2 (%3)")
                .replace("%1", str(w))
                .replace("%2", str(h))
                .replace("%3", gf.aspect_text(w, h))
            )
        elif self.image.path:
            self.image.set_caption("")
        self._show_validation(pv)
        self._show_fast_preset(values, pv)

    def _show_fast_preset(self, values: gf.FormValues, pv: gf.Preview) -> None:
        """The missing-LoRA message with its Download button, and whether Turbo is offered."""
        keys = pv.missing_downloads
        self.fast_box.setVisible(bool(keys))
        if keys and set(keys) <= self._downloading:
            # The button stays on: a failed, paused or cancelled download resumes from it.
            self.fast_message.setText(
                self.tr(
                    "Downloading %1… (progress in the Models view). If it stops, Download "
                    "resumes it."
                ).replace("%1", ", ".join(keys))
            )
        elif keys:
            self.fast_message.setText(
                self.tr(
                    "This Fast preset needs LoRA files that are not downloaded yet (%1). "
                    "Queueing waits until they are there, or choose another quality."
                ).replace("%1", ", ".join(keys))
            )
        self.advanced.set_turbo_refusal(
            gf.step_cache_refusal(values.task, values.quality, values.steps)
        )

    def _show_validation(self, pv: gf.Preview) -> None:
        err = pv.error
        self.message.setText(
            ""
            if err is None
            else (
                f"{tr_plan(err.message)} — {tr_plan(err.hint)}"
                if err.hint
                else tr_plan(err.message)
            )
        )
        bad = _field_for(err) if err is not None else None
        for name, widget in self._field_widgets().items():
            widget.setProperty("invalid", name == bad)
            widget.setStyleSheet("border: 1px solid #c62828;" if name == bad else "")
        ok = not pv.blocked
        for b in (self.generate_now, self.add_to_queue, self.save_edit):
            b.setEnabled(ok)

    def _field_widgets(self) -> dict[str, QWidget]:
        return {
            "prompt": self.prompt,
            "image": self.image,
            "frames": self.frames,
            "size": self.size_combo,
            "steps": self.advanced.steps,
            "shift": self.advanced.shift,
            "guidance": self.advanced.guidance_high,
            "seed": self.seed,
            "loras": self.loras,
            "quality": self.quality,
            "switch": self.advanced.switch_step,
            "turbo": self.advanced.turbo,
        }

    def _update_buttons_text(self) -> None:
        n = self.count.value()
        self.add_to_queue.setText(
            self.tr("Add to queue") if n == 1 else self.tr("Add %1 to queue").replace("%1", str(n))
        )

    # ---- actions

    def submit(self, lane: str) -> None:
        """Queue the form's request ``count`` times (seed variations) in ``lane``."""
        self.refresh_preview()
        pv = self.last_preview
        if pv is None or pv.request is None:
            return
        values = self.values()
        request, count = pv.request, values.count
        db = self.ctx.db

        def work() -> list[int]:
            return queue_ops.enqueue(
                db, request, count=count, lane=lane, random_seeds=values.random_seeds
            )

        self.ctx.tasks.run_db(work, self._on_queued, self.ctx.notifier.error)

    def _on_queued(self, ids: list[int]) -> None:
        n = len(ids)
        self.ctx.notifier.info(self.tr("Queued %n job(s)", "", n))
        self.sig_request_queued.emit(ids)
        self.ctx.events.sig_queue_changed.emit()

    def save_changes(self) -> None:
        """Write the form into the job being edited (only while it is still queued)."""
        self.refresh_preview()
        pv, job_id = self.last_preview, self.editing_job
        if pv is None or pv.request is None or job_id is None:
            return
        request, db = pv.request, self.ctx.db
        self.ctx.tasks.run_db(
            lambda: queue_ops.replace_request(db, job_id, request),
            self._on_saved,
            self.ctx.notifier.error,
        )

    def _on_saved(self, job_id: int) -> None:
        self.ctx.notifier.info(self.tr("Job %1 updated").replace("%1", str(job_id)))
        self._set_editing(None)
        self.ctx.events.sig_queue_changed.emit()
        self.ctx.events.sig_view_requested.emit("queue")

    def _set_editing(self, job_id: int | None) -> None:
        self.editing_job = job_id
        editing = job_id is not None
        self.edit_banner.setVisible(editing)
        self.edit_banner.setText(
            self.tr("Editing queued job %1").replace("%1", str(job_id)) if editing else ""
        )
        self.save_edit.setVisible(editing)
        self.cancel_edit.setVisible(editing)
        self.generate_now.setVisible(not editing)
        self.add_to_queue.setVisible(not editing)
        self.count.setEnabled(not editing)


def _dropped_settings_file(event: QDragEnterEvent | QDropEvent) -> str | None:
    """The first dropped local video or image that may carry settings."""
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    for url in urls:
        name = url.toLocalFile().lower() if url.isLocalFile() else ""
        if name.endswith(VIDEO_SUFFIXES + IMAGE_SUFFIXES):
            return url.toLocalFile()
    return None


def _select(combo: QComboBox, data: object) -> None:
    i = combo.findData(data)
    if i >= 0:
        combo.setCurrentIndex(i)


def _lang_of(text: str) -> str:
    from wan22_desktop.prompt_chips import prompt_language

    return prompt_language(text)


def _field_for(err: UserInputError) -> str | None:
    """The form field to mark: the one the error names, else a guess from its message."""
    if err.field is not None:
        return _FORM_FIELD.get(err.field.split(".")[0])
    low = err.message.lower()
    for word, name in _FIELD_OF_MESSAGE:
        if word in low:
            return name
    return None
