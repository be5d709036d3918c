"""The Generate form's advanced section: steps, guidance (one per expert for A14B), shift,
solver, the expert switch step, step caching ("Turbo"), the memory switches and the GPU count.
Shows what a task uses; the view reads the values."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from wan22_desktop.gui.generate_form import STEP_CACHE_DEFAULT
from wan22_desktop.gui.widgets.collapsible import Collapsible
from wan22_desktop.request import VRAM_HEADROOM_MAX
from wan22_desktop.tasks import STEP_CACHE_MAX, get_task

MEMORY_SWITCHES = ("offload_model", "convert_model_dtype", "t5_cpu")


class AdvancedFields(Collapsible):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Advanced"), parent)
        self.steps = QSpinBox(self)
        self.steps.setObjectName("steps")
        self.steps.setRange(1, 200)
        self.steps_custom = QCheckBox(self.tr("custom"), self)
        self.guidance_high = QDoubleSpinBox(self)
        self.guidance_high.setObjectName("guidanceHigh")
        self.guidance_low = QDoubleSpinBox(self)
        self.guidance_low.setObjectName("guidanceLow")
        for box in (self.guidance_high, self.guidance_low):
            box.setRange(0.0, 30.0)
            box.setSingleStep(0.5)
            box.setDecimals(1)
        self.shift = QDoubleSpinBox(self)
        self.shift.setObjectName("shift")
        self.shift.setRange(0.1, 100.0)
        self.shift.setDecimals(1)
        self.solver = QComboBox(self)
        self.solver.setObjectName("solver")
        self.solver.addItem("UniPC", "unipc")
        self.solver.addItem("DPM++", "dpm++")
        self.solver.addItem("Euler", "euler")  # the step-distilled Fast presets' solver
        self.switch_step = QSpinBox(self)
        self.switch_step.setObjectName("switchStep")
        self.switch_step.setRange(-1, 200)  # -1: the official boundary (request: None)
        self.switch_step.setSpecialValueText(self.tr("official boundary"))
        self.switch_step.setToolTip(
            self.tr("The step at which the low-noise expert takes over from the high-noise one")
        )
        self.switch_step_label = QLabel(self.tr("Expert switch step"), self)
        self.turbo = QCheckBox(self.tr("Step caching (Turbo)"), self)
        self.turbo.setObjectName("turbo")
        self.turbo_threshold = QDoubleSpinBox(self)
        self.turbo_threshold.setObjectName("turboThreshold")
        self.turbo_threshold.setRange(0.01, STEP_CACHE_MAX)
        self.turbo_threshold.setDecimals(2)
        self.turbo_threshold.setSingleStep(0.01)
        self.turbo_threshold.setValue(STEP_CACHE_DEFAULT)
        self.turbo_threshold.setToolTip(
            self.tr("Higher thresholds skip more steps: faster, and the video changes more")
        )
        self.turbo_threshold.setEnabled(False)
        self.turbo.toggled.connect(self.turbo_threshold.setEnabled)
        self.memory: dict[str, QComboBox] = {}
        for name in MEMORY_SWITCHES:
            switch = QComboBox(self)
            switch.setObjectName(name)
            switch.addItem(self.tr("auto"), "auto")
            switch.addItem(self.tr("on"), "on")
            switch.addItem(self.tr("off"), "off")
            self.memory[name] = switch
        self.vram_headroom = QSpinBox(self)
        self.vram_headroom.setObjectName("vramHeadroom")
        self.vram_headroom.setRange(0, VRAM_HEADROOM_MAX)
        self.vram_headroom.setSingleStep(10)
        self.vram_headroom.setSuffix(" %")
        self.vram_headroom.setSpecialValueText(self.tr("none"))
        self.vram_headroom.setToolTip(
            self.tr(
                "Plan for less of the GPU's memory, leaving this share free for other programs. "
                "A job that runs out of GPU memory is retried once with 20 % kept free."
            )
        )
        self.gpus = QSpinBox(self)
        self.gpus.setObjectName("gpus")
        self.gpus.setRange(0, 64)
        self.gpus.setSpecialValueText(self.tr("all that help"))
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps)
        steps_row.addWidget(self.steps_custom)
        turbo_row = QHBoxLayout()
        turbo_row.addWidget(self.turbo)
        turbo_row.addWidget(QLabel(self.tr("threshold"), self))
        turbo_row.addWidget(self.turbo_threshold)
        turbo_row.addStretch(1)
        self.guidance_high_label = QLabel(self.tr("Guidance (high-noise expert)"), self)
        self.guidance_low_label = QLabel(self.tr("Guidance (low-noise expert)"), self)
        form = QFormLayout(self.body)
        form.addRow(self.tr("Steps"), steps_row)
        form.addRow(self.guidance_high_label, self.guidance_high)
        form.addRow(self.guidance_low_label, self.guidance_low)
        form.addRow(self.tr("Shift"), self.shift)
        form.addRow(self.tr("Solver"), self.solver)
        form.addRow(self.switch_step_label, self.switch_step)
        form.addRow(self.tr("Speed"), turbo_row)
        form.addRow(self.tr("Offload model to CPU"), self.memory["offload_model"])
        form.addRow(self.tr("bf16 weights"), self.memory["convert_model_dtype"])
        form.addRow(self.tr("T5 on CPU"), self.memory["t5_cpu"])
        form.addRow(self.tr("Keep GPU memory free"), self.vram_headroom)
        form.addRow(self.tr("GPUs"), self.gpus)

    def show_task(self, task: str, *, auto: bool) -> None:
        """Per-expert guidance only for two-expert tasks; Auto uses the chosen task's defaults."""
        moe = not auto and get_task(task).is_moe
        self.guidance_low.setVisible(moe)
        self.guidance_low_label.setVisible(moe)
        self.switch_step.setVisible(moe)
        self.switch_step_label.setVisible(moe)
        self.guidance_high_label.setText(
            self.tr("Guidance (high-noise expert)") if moe else self.tr("Guidance")
        )
        for w in (
            self.guidance_high,
            self.guidance_low,
            self.shift,
            self.steps,
            self.steps_custom,
            self.switch_step,
        ):
            w.setEnabled(not auto)

    def set_turbo_refusal(self, reason: str | None) -> None:
        """Step caching is offered unless the request rules refuse it (``reason``: their message,
        shown as the tooltip). Left enabled while on, so the user can turn it off."""
        self.turbo.setEnabled(reason is None or self.turbo.isChecked())
        self.turbo.setToolTip(
            reason
            if reason is not None
            else self.tr("Reuse the model's output on steps where it barely changes (faster)")
        )

    def load_task_defaults(self, task: str) -> None:
        spec = get_task(task)
        self.guidance_low.setValue(spec.guidance[0])
        self.guidance_high.setValue(spec.guidance[1])
        self.shift.setValue(spec.sample_shift)
        self.switch_step.setValue(-1)
