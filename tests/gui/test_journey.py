"""The whole product on a tiny checkpoint: queue a TI2V job from Generate, watch it in Queue, find
it in History, play it in the Player, re-run it and see the second result.

Real parts only: the queue runner in this window, a worker subprocess with the Wan pipelines on a
tiny random-weight checkpoint (CPU), the history and player views.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def make_tiny_ti2v(folder: Path) -> Path:
    """``wan22 dev make-tiny-checkpoint`` in a subprocess: torch stays out of this process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "wan22_desktop.cli",
            "dev",
            "make-tiny-checkpoint",
            "--task",
            "ti2v-5B",
            "--out",
            str(folder),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder


def test_generate_queue_history_player_rerun(qtbot, wan22_home, monkeypatch):
    from wan22_desktop.downloader.local_scan import import_folder
    from wan22_desktop.gui.context import AppContext
    from wan22_desktop.gui.main_window import MainWindow
    from wan22_desktop.gui.runner_controller import RunnerController
    from wan22_desktop.runtime.hardware import Hardware

    monkeypatch.delenv("WAN22_WORKER_BACKEND", raising=False)
    ctx = AppContext.open(
        str(wan22_home), hardware=Hardware(ram_total_gib=64.0, ram_available_gib=32.0)
    )
    ckpt = make_tiny_ti2v(ctx.paths.models / "tiny-ti2v")
    ctx.db.transact(lambda s: import_folder(s, ckpt))
    ctx.settings.set("keep_awake", False)
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    ctx.runner = RunnerController(ctx)
    win.attach_runner(ctx.runner)
    events, progress = [], []
    ctx.runner.sig_job_event.connect(lambda kind, job_id, msg: events.append((kind, job_id, msg)))
    ctx.runner.sig_job_progress.connect(lambda job_id, p: progress.append(p))
    try:
        qtbot.waitUntil(lambda: ctx.runner.mode == "running", timeout=10_000)

        # Generate: a TI2V job, 5 frames, 2 steps, fixed seed.
        generate = win.view("generate")
        generate.task.setCurrentIndex(generate.task.findData("ti2v-5B"))
        generate.reload_installed()
        qtbot.waitUntil(lambda: "ti2v-5B" in generate.installed, timeout=5000)
        generate.prompt.setPlainText("a paper boat drifts on a pond")
        generate.frames.setValue(5)
        generate.advanced.set_expanded(True)
        generate.advanced.steps_custom.setChecked(True)
        generate.advanced.steps.setValue(2)
        generate.seed_random.setChecked(False)
        generate.seed.setText("77")
        generate.refresh_preview()
        assert generate.last_preview.plan.device == "cpu", generate.plan_panel.body.text()
        generate.add_to_queue.click()

        # Queue: live progress, then done.
        qtbot.waitUntil(lambda: any(k == "done" for k, _, _ in events), timeout=120_000)
        failed = [m for k, _, m in events if k == "failed"]
        assert not failed, failed
        assert any(p.get("total") == 2 for p in progress)
        queue = win.view("queue")
        queue.refresh()
        qtbot.waitUntil(lambda: any(j.status == "done" for j in queue.model.jobs), timeout=5000)

        # History: the finished video, with the form's settings.
        win.show_view("history")
        history = win.view("history")
        history.reload()
        qtbot.waitUntil(lambda: history.model.rowCount() == 1, timeout=10_000)
        first = history.model.row(0)
        history.select_row(0)
        video = Path(history.selected_row().video_path)
        assert video.is_file() and video.stat().st_size > 0

        # Player: plays that file.
        ctx.events.sig_play_requested.emit(str(video))
        player = win.view("player")
        assert win.current_key() == "player"
        qtbot.waitUntil(lambda: player.path == video, timeout=5000)

        # Re-run with the same seed: a second generation appears.
        win.show_view("history")
        history.select_row(0)
        history.rerun(new_seed=False)
        qtbot.waitUntil(lambda: sum(k == "done" for k, _, _ in events) == 2, timeout=120_000)
        history.reload()
        qtbot.waitUntil(lambda: history.model.rowCount() == 2, timeout=10_000)
        seeds = {history.model.row(r).seed for r in range(2)}
        assert seeds == {77} and first.id in {history.model.row(r).id for r in range(2)}
    finally:
        if hasattr(win.view("player"), "shutdown"):
            win.view("player").shutdown()
        ctx.close()
