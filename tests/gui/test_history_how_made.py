"""History detail pane: the collapsible "How it was made" section over rows written through the
db layer (with a sampling record, and an old row without one), in English and in zh_CN."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QUrl

from wan22_desktop.db import queue as dbq
from wan22_desktop.gui.history_actions import HOW_MADE_LINK, HOW_MADE_TEMPLATES
from wan22_desktop.gui.views.history import HistoryView
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.planning import plan_request
from wan22_desktop.services.how_made import TEMPLATES

from .conftest import PROBED, drain

RUNNER = "test-runner"
HIGH, LOW = "high_noise_model", "low_noise_model"
BIG_GPU = replace(
    PROBED,
    gpus=(replace(PROBED.gpus[0], total_gib=80.0, free_gib=79.0),),
    ram_total_gib=256.0,
    ram_available_gib=200.0,
)
SAMPLING = {
    "experts": [HIGH] * 4 + [LOW] * 4,
    "skipped_steps": [5],
    "phases": [
        {"steps": [0, 2], "expert": HIGH, "guidance": 1.0, "loras": False},
        {"steps": [2, 4], "expert": HIGH, "guidance": 4.0, "loras": True},
        {"steps": [4, 8], "expert": LOW, "guidance": 3.0, "loras": True},
    ],
}


def finish(ctx, *, sampling: dict | None, plan: bool = True) -> int:
    """A t2v-A14B job finished as the runner records it; the generation id."""
    req = GenerationRequest.for_task(
        "t2v-A14B", prompt="a paper boat", seed=5, sample_steps=8, warmup_steps=2,
        warmup_guidance=1.0,
    )  # fmt: skip
    job = dbq.enqueue(ctx.db, req)[0]
    assert dbq.claim_next(ctx.db, RUNNER).id == job.id
    if plan:
        dbq.set_plan(ctx.db, job.id, RUNNER, plan_request(req, BIG_GPU, {}).to_dict())
    result = dbq.GenerationResult(
        video_path=str(ctx.paths.outputs / f"job{job.id}.mp4"),
        timings={"loading": 20.0, "sampling": 80.0, "total": 110.0} if sampling else {},
        peak_memory_bytes=(30 << 30) if sampling else None,
        sampling=sampling,
    )
    return dbq.finish_job(ctx.db, job.id, RUNNER, result).id


def shown(qtbot, ctx) -> HistoryView:
    view = HistoryView(ctx)
    qtbot.addWidget(view)
    drain(qtbot, ctx)
    assert view.model.rowCount() >= 1
    view.select_row(0)  # the newest
    return view


def test_the_catalogue_marks_every_template_for_translation() -> None:
    assert HOW_MADE_TEMPLATES == TEMPLATES


def test_detail_pane_shows_how_it_was_made_and_collapses(qtbot, ctx) -> None:
    finish(ctx, sampling=SAMPLING)
    view = shown(qtbot, ctx)
    text = view.detail_text.toPlainText()
    assert "How it was made" in text
    assert "high-noise 1–4, low-noise 5–8" in text
    assert "steps 1–2, high-noise, guidance 1, LoRAs off" in text
    assert "steps 3–4, high-noise, guidance 4, LoRAs on" in text
    assert "skipped 1 of 8 steps: 6" in text
    assert "sampling 80.0 s, 10.00 s per step, total 110 s" in text
    assert text.index("a paper boat") < text.index("How it was made") < text.index("Parameters")

    view.detail_text.anchorClicked.emit(QUrl(HOW_MADE_LINK))
    closed = view.detail_text.toPlainText()
    assert "How it was made" in closed and "high-noise 1–4" not in closed
    view.save_state()
    again = HistoryView(ctx)  # the choice is remembered
    qtbot.addWidget(again)
    drain(qtbot, ctx)
    again.select_row(0)
    assert "high-noise 1–4" not in again.detail_text.toPlainText()
    again.toggle_how_made()
    assert "high-noise 1–4" in again.detail_text.toPlainText()


def test_an_old_row_without_plan_or_sampling_says_not_recorded(qtbot, ctx) -> None:
    finish(ctx, sampling=None, plan=False)
    view = shown(qtbot, ctx)
    text = view.detail_text.toPlainText()
    assert "Steps by expert" in text and "not recorded" in text
    assert "Prompt" in text  # the rest of the pane is there


def test_detail_pane_speaks_chinese(qtbot, ctx, chinese) -> None:
    finish(ctx, sampling=SAMPLING)
    text = shown(qtbot, ctx).detail_text.toPlainText()
    assert "生成过程" in text
    assert "各专家的步" in text and "高噪声 1–4" in text and "低噪声 5–8" in text
    assert "第 1–2 步" in text and "LoRA 关" in text and "LoRA 开" in text
    assert "跳过了 8 步中的 1 步：6" in text
    assert "每步 10.00 秒" in text
    assert "How it was made" not in text and "not recorded" not in text


def test_a_failed_job_shows_what_was_asked_and_planned(qtbot, ctx) -> None:
    req = GenerationRequest.for_task("t2v-A14B", prompt="a storm", seed=3, sample_steps=8)
    job = dbq.enqueue(ctx.db, req)[0]
    assert dbq.claim_next(ctx.db, RUNNER).id == job.id
    dbq.set_plan(ctx.db, job.id, RUNNER, plan_request(req, BIG_GPU, {}).to_dict())
    dbq.fail_job(ctx.db, job.id, RUNNER, kind="out_of_memory", message="CUDA out of memory")
    view = HistoryView(ctx)
    qtbot.addWidget(view)
    drain(qtbot, ctx)
    view.status_combo.setCurrentIndex(view.status_combo.findData("failed"))
    drain(qtbot, ctx)
    view.select_row(0)
    text = view.detail_text.toPlainText()
    assert "CUDA out of memory" in text and "How it was made" in text
    assert "8 steps, solver unipc" in text and "Seed\t3" in text.replace("\n", "\t")
    assert "not recorded" not in text and "Steps by expert" not in text
