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


def test_placement_says_where_t5_encodes_for_each_card():
    """Streamed and offloaded plans bring T5 to the GPU only to encode; the phrase says so."""
    from wan22_desktop.runtime.plan_view import placement

    want = {
        24: "T5 streamed through the GPU to encode",  # A14B 720p: streaming + FP8
        48: "T5 on the GPU only to encode",  # the official offload recipe
        80: "T5 on the CPU",  # both experts resident, T5 stays off the card
    }
    for card, phrase in want.items():
        p = plan(JobShape("t2v-A14B", 1280, 720, 81), hardware(card, 1))
        assert placement(p).endswith(phrase), (card, placement(p))
