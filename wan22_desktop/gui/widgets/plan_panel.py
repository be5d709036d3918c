"""The plan preview: model, device, memory savers, expected VRAM/RAM, an ETA range, warnings."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from wan22_desktop.gui.generate_form import Preview, aspect_text
from wan22_desktop.gui.i18n import QT_TRANSLATE_NOOP
from wan22_desktop.gui.plan_text import tr_join, tr_plan
from wan22_desktop.runtime.plan_view import placement_parts, savers

WARN, ERR = "#b26a00", "#c62828"
# The plan's decisions by name (the tooltip lists each with its reason); English keeps the names
# ``wan22 plan --json`` prints.
REASON_NAMES = {
    "task": QT_TRANSLATE_NOOP("PlanPanel", "task"),
    "size": QT_TRANSLATE_NOOP("PlanPanel", "size"),
    "device": QT_TRANSLATE_NOOP("PlanPanel", "device"),
    "gpus": QT_TRANSLATE_NOOP("PlanPanel", "gpus"),
    "offload_model": QT_TRANSLATE_NOOP("PlanPanel", "offload_model"),
    "convert_model_dtype": QT_TRANSLATE_NOOP("PlanPanel", "convert_model_dtype"),
    "t5_cpu": QT_TRANSLATE_NOOP("PlanPanel", "t5_cpu"),
    "stream_blocks": QT_TRANSLATE_NOOP("PlanPanel", "stream_blocks"),
    "fp8": QT_TRANSLATE_NOOP("PlanPanel", "fp8"),
    "vae": QT_TRANSLATE_NOOP("PlanPanel", "vae"),
    "vae_offload": QT_TRANSLATE_NOOP("PlanPanel", "vae_offload"),
    "dit_fsdp": QT_TRANSLATE_NOOP("PlanPanel", "dit_fsdp"),
    "vram": QT_TRANSLATE_NOOP("PlanPanel", "vram"),
    "attention": QT_TRANSLATE_NOOP("PlanPanel", "attention"),
    "precision": QT_TRANSLATE_NOOP("PlanPanel", "precision"),
    "compile": QT_TRANSLATE_NOOP("PlanPanel", "compile"),
    "cfg_batch": QT_TRANSLATE_NOOP("PlanPanel", "cfg_batch"),
}


class PlanPanel(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Plan on this machine"), parent)
        self.body = QLabel(self)
        self.body.setObjectName("planText")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        QVBoxLayout(self).addWidget(self.body)

    def show_waiting(self) -> None:
        self.body.setText(self.tr("Checking this machine's GPUs…"))

    def show_preview(self, pv: Preview) -> None:
        rows: list[tuple[str, str]] = []
        if pv.task_reason:
            rows.append((self.tr("Task"), tr_plan(pv.task_reason)))
        p = pv.plan
        if p is not None:
            rows.append((self.tr("Model"), f"{p.task}"))
            rows.append((self.tr("Checkpoint"), p.checkpoint or self.tr("not installed")))
            if p.device == "cpu":
                where = self.tr("CPU (tiny test model)")
            elif p.nproc > 1:
                where = (
                    self.tr("%1 GPUs, Ulysses %2")
                    .replace("%1", str(p.nproc))
                    .replace("%2", str(p.ulysses_size))
                )
            else:
                where = self.tr("1 GPU")
            rows.append((self.tr("Runs on"), where))
            if p.device != "cpu":
                rows.append((self.tr("Placement"), tr_join(placement_parts(p))))
            rows.append((self.tr("Memory savers"), tr_join(savers(p)) or self.tr("none")))
            rows.append(
                (
                    self.tr("Expected memory"),
                    self.tr("~%1 GiB VRAM per GPU (sampling %2, decoding %3), ~%4 GiB RAM")
                    .replace("%1", f"{p.est_vram_gib:.0f}")
                    .replace("%2", f"{p.est_vram_sampling_gib:.1f}")
                    .replace("%3", f"{p.est_vram_decode_gib:.1f}")
                    .replace("%4", f"{p.est_ram_gib:.0f}"),
                )
            )
        if pv.output_size is not None:
            w, h = pv.output_size
            rows.append((self.tr("Output"), f"{w}×{h} ({aspect_text(w, h)})"))
        if pv.request is not None:
            r = pv.request
            rows.append(
                (
                    self.tr("Length"),
                    self.tr("%1 frames, %2 s at %3 fps")
                    .replace("%1", str(r.frame_num))
                    .replace("%2", f"{r.frame_num / r.effective_fps:.1f}")
                    .replace("%3", str(r.effective_fps)),
                )
            )
        if pv.eta is not None:
            units = (self.tr("s"), self.tr("min"), self.tr("h"))
            rows.append((self.tr("Estimated time"), pv.eta.text(units)))
        parts = ["<table cellspacing='2'>"]
        for k, v in rows:
            parts.append(
                f"<tr><td style='color:palette(mid);padding-right:8px'>{html.escape(k)}</td>"
                f"<td>{html.escape(v)}</td></tr>"
            )
        parts.append("</table>")
        notes: list[tuple[str, str]] = []
        if pv.plan_error is not None and pv.plan_error is not pv.error:
            hint = pv.plan_error.hint
            notes.append((ERR, _line(tr_plan(pv.plan_error.message), hint and tr_plan(hint))))
        for warning in pv.plan.warnings if pv.plan else ():
            notes.append((WARN, tr_plan(warning)))
        for warning in pv.warnings:
            notes.append((WARN, warning))
        for colour, text in notes:
            parts.append(f"<p style='color:{colour};margin:2px 0'>{html.escape(text)}</p>")
        if pv.eta is not None:
            note = self.tr(
                "Time is an estimate scaled from the official timings, model loading not included."
            )
            parts.append(f"<p style='color:palette(mid);font-size:small'>{html.escape(note)}</p>")
        self.body.setText("".join(parts))
        if p is not None:
            self.body.setToolTip(
                "\n".join(f"{self._name(k)}: {tr_plan(v)}" for k, v in p.reasons.items())
            )
        if pv.eta is not None:
            self.setToolTip(pv.eta.basis)

    def _name(self, key: str) -> str:
        return self.tr(REASON_NAMES[key]) if key in REASON_NAMES else key


def _line(message: str, hint: str | None) -> str:
    return f"{message} — {hint}" if hint else message
