"""The plan panel shows what ``wan22 plan`` prints: placement, savers, VRAM per phase, reasons."""

from __future__ import annotations

from wan22_desktop.gui.generate_form import Preview
from wan22_desktop.gui.widgets.plan_panel import PlanPanel
from wan22_desktop.runtime.plan_view import plan_fields
from wan22_desktop.runtime.planner import JobShape, plan
from wan22_desktop.runtime.vram_table import hardware


def test_panel_shows_streaming_fp8_and_both_phases(qtbot):
    p = plan(JobShape("t2v-A14B", 1280, 720, 81), hardware(24, 1))
    panel = PlanPanel()
    qtbot.addWidget(panel)
    panel.show_preview(Preview(plan=p))
    text = panel.body.text()
    fields = plan_fields(p)
    assert fields["placement"] in text
    assert "streaming (" in text and "FP8 weights" in text
    assert f"sampling {p.est_vram_sampling_gib:.1f}" in text
    assert f"decoding {p.est_vram_decode_gib:.1f}" in text
    assert "stream_blocks: " in panel.body.toolTip() and "fp8: on" in panel.body.toolTip()
