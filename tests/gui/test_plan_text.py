"""The planner's lines in the user's language (ADR 0024): every line the pure planner can
produce over a matrix of GPUs, models, sizes and pins has a template with a zh_CN translation, and
the plan panel and the first-run guide in zh_CN show no planner English."""

from __future__ import annotations

import re

import pytest

from tests.gui.plan_matrix import planner_lines
from tests.gui.test_i18n import sources
from wan22_desktop.gui.first_run_state import model_fits
from wan22_desktop.gui.generate_form import Preview
from wan22_desktop.gui.i18n import I18N_DIR, install_translators, remove_translators
from wan22_desktop.gui.plan_text import CONTEXT, SEPARATORS, TEMPLATES, tr_plan, translate
from wan22_desktop.gui.widgets.plan_panel import PlanPanel
from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.runtime.planner import JobShape, PlanError, plan
from wan22_desktop.runtime.vram_table import hardware

# Names that stay as they are in Chinese: products, units, switches.
TECHNICAL = {
    "GiB", "GPU", "GPUs", "CPU", "CUDA", "NVIDIA", "VRAM", "RAM", "DiT", "VAE", "FSDP",
    "Ulysses", "SDPA", "PyTorch", "FlashAttention", "SageAttention", "Hopper", "CFG", "TI2V",
    "bf16", "fp16", "fp32", "FP8", "auto", "sm90", "sm86", "sm75", "t2v", "i2v", "ti2v", "A14B",
}  # fmt: skip
# Values the matrix passes through: backend names, pinned bad values, the probe's error text.
VALUES = {"flash3", "flash2", "sage", "sdpa", "nope", "fp64", "sm80", "libcudart", "cuInit"}
ENGLISH = re.compile(r"\b[A-Za-z][A-Za-z0-9]{2,}\b")


@pytest.fixture(scope="module")
def lines() -> set[str]:
    return planner_lines()


@pytest.fixture
def zh(qapp):
    translators = install_translators(qapp, "zh_CN")
    assert translators, "zh_CN.qm did not load"
    yield
    remove_translators(qapp, translators)


def english_words(text: str) -> list[str]:
    text = re.sub(r"<[^>]+>", " ", text)
    return [w for w in ENGLISH.findall(text) if w not in TECHNICAL | VALUES]


def test_every_planner_line_has_a_template_with_a_finished_translation(lines):
    assert len(lines) > 300  # the matrix reaches the planner's branches, not a handful
    ts = sources(I18N_DIR / "zh_CN.ts")
    used: set[str] = set()

    def lookup(source: str) -> str:
        used.add(source)
        return source

    uncovered = [line for line in sorted(lines) if translate(line, lookup) != line]
    assert not uncovered, f"planner lines without a template in gui/plan_text.py: {uncovered}"
    untranslated = sorted(s for s in used | set(SEPARATORS) if not ts.get((CONTEXT, s)))
    assert not untranslated, f"templates without a zh_CN translation: {untranslated}"
    assert set(TEMPLATES) <= {s for (c, s) in ts if c == CONTEXT}


def test_every_planner_line_reads_chinese_from_the_compiled_qm(lines, zh):
    english = {line: words for line in lines if (words := english_words(tr_plan(line)))}
    # What is left is values (an error's text, a card's name), never the planner's own words.
    assert not english, list(english.items())[:10]


def test_nested_reasons_are_split_where_every_part_is_a_template(zh):
    line = (
        "PyTorch SDPA: FlashAttention 3 runs on Hopper (sm90) only; this GPU is sm86; "
        "FlashAttention 2 is not installed"
    )
    assert tr_plan(line) == (
        "PyTorch SDPA：FlashAttention 3 仅支持 Hopper（sm90）；此 GPU 为 sm86；FlashAttention 2 未安装"
    )
    assert translate("a line the planner never wrote", lambda s: s) is None
    assert tr_plan("a line the planner never wrote") == "a line the planner never wrote"


def test_cli_words_stay_english():
    """The planner itself is untouched: ``wan22 plan`` and the stored plan keep English."""
    p = plan(JobShape("t2v-A14B", 1280, 720, 81), hardware(24, 1))
    assert p.reasons["fp8"].startswith("on: FP8 weights keep")


PANEL_CASES = [
    (JobShape("t2v-A14B", 1280, 720, 81), hardware(24, 1)),  # streaming + FP8 + tiled VAE
    (JobShape("t2v-A14B", 1280, 720, 81), hardware(80, 1)),  # resident, T5 on the CPU
    (JobShape("t2v-A14B", 1280, 720, 81), hardware(80, 4)),  # Ulysses + FSDP
    (JobShape("ti2v-5B", 1000, 500, 121), hardware(24, 1)),  # size moved to a preset
    (JobShape("auto", 1280, 704, 121), hardware(24, 1)),  # Auto falls back to TI2V-5B
    (JobShape("t2v-A14B", 1920, 1088, 241), hardware(8, 1)),  # refused: needs N GiB per GPU
    (JobShape("ti2v-5B", 1280, 704, 121), Hardware(ram_total_gib=64.0)),  # no GPU at all
]


@pytest.mark.parametrize("shape,hw", PANEL_CASES)
def test_plan_panel_in_zh_cn_shows_no_planner_english(qtbot, zh, shape, hw):
    panel = PlanPanel()
    qtbot.addWidget(panel)
    try:
        p = plan(shape, hw)
        pv = Preview(plan=p, task_reason=p.reasons["task"] if shape.task == "auto" else "")
    except PlanError as exc:
        pv = Preview(plan_error=exc)
    panel.show_preview(pv)
    text = panel.body.text() + "\n" + panel.body.toolTip()
    assert not english_words(text), (english_words(text), text)
    assert "计划" in panel.title()


def test_first_run_guide_lines_in_zh_cn(zh):
    small = Hardware(
        gpus=(GPU(0, "RTX 3060", 11.7, 11.0, (8, 6)),), ram_total_gib=32.0, ram_available_gib=8.0
    )
    for hw in (small, hardware(80, 1), Hardware(ram_total_gib=16.0)):
        for row in model_fits(hw, None, {}, words=tr_plan):
            shown = row.line + (row.hint or "")
            assert not english_words(shown), (row.task, shown)


def test_history_detail_shows_the_stored_reasons_in_zh_cn(qtbot, ctx, zh):
    """A finished job's stored plan (English, as the runner wrote it) reads in Chinese."""
    from tests.gui.test_history import add_finished, open_view

    add_finished(ctx, "a lighthouse in a storm", seed=77)
    view = open_view(qtbot, ctx)
    view.select_row(0)
    text = view.detail_text.toPlainText()
    assert "gpus: 1 个 GPU" in text
    assert "ti2v-5B 模型尚未安装：请先下载或导入" in text
    assert "is not installed" not in text
