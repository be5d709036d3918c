"""The GPU mode in Settings (ADR 0022 for the GUI's own runner): offered with several GPUs only,
saved, used by the runner the window starts, and applied once no job runs."""

from __future__ import annotations

import types
from dataclasses import replace

import psutil
import pytest

from tests.gui.conftest import PROBED
from wan22_desktop.db.lease import list_runners
from wan22_desktop.gui.runner_controller import GroupRunner, RunnerController, _make_runner
from wan22_desktop.gui.views.settings import SettingsView
from wan22_desktop.runtime.runner import QueueRunner
from wan22_desktop.settings import Settings

TWO = replace(PROBED, gpus=(PROBED.gpus[0], replace(PROBED.gpus[0], index=1)))


def _row_shown(view: SettingsView) -> bool:
    form, cell = view._gpu_mode_row
    return form.isRowVisible(cell)


@pytest.mark.parametrize("hardware,shown", [(PROBED, False), (TWO, True)])
def test_gpu_mode_is_offered_only_with_several_gpus(qtbot, ctx, hardware, shown):
    view = SettingsView(ctx)
    qtbot.addWidget(view)
    assert _row_shown(view) is shown


@pytest.mark.parametrize("hardware", [TWO])
def test_choosing_a_mode_is_saved_and_used_by_the_runner(qtbot, ctx, hardware):
    view = SettingsView(ctx)
    qtbot.addWidget(view)
    combo = view.editors["gpu_mode"]
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels == [
        "Automatic (the planner decides per job)",
        "One job per GPU (more jobs at once)",
        "Every GPU on one job (each job sooner)",
    ]
    combo.setCurrentIndex(combo.findData("latency"))
    assert Settings.load(ctx.paths).get("gpu_mode") == "latency"  # persisted
    runner = _make_runner(ctx, lambda ev: None)
    assert isinstance(runner, QueueRunner) and runner.options.gpu_mode == "latency"
    combo.setCurrentIndex(combo.findData("throughput"))
    group = _make_runner(ctx, lambda ev: None)
    assert isinstance(group, GroupRunner) and [g.index for g in group.gpus] == [0, 1]


def test_throughput_on_one_gpu_is_one_plain_runner(ctx):
    ctx.settings.set("gpu_mode", "throughput")
    runner = _make_runner(ctx, lambda ev: None)
    assert isinstance(runner, QueueRunner) and runner.options.gpu_mode == "throughput"


class IdleRunner:
    """Reports started, one job, idle; then waits to be stopped."""

    made: list[IdleRunner] = []

    def __init__(self, ctx, on_event):
        import threading

        self.on_event, self.stopped = on_event, threading.Event()
        self.mode = ctx.settings.get("gpu_mode")
        IdleRunner.made.append(self)

    def run(self):
        ev = types.SimpleNamespace
        self.on_event(ev(kind="started", job_id=None, message="me", data=None))
        self.on_event(ev(kind="claimed", job_id=3, message="", data=None))
        self.stopped.wait(10)  # the job "runs" until the test ends it

    def stop(self, **_):
        self.stopped.set()

    def release_worker(self):
        pass


def test_a_new_mode_restarts_the_runner_only_once_no_job_runs(qtbot, ctx):
    IdleRunner.made.clear()
    ctrl = RunnerController(ctx, start=False, runner_factory=IdleRunner)
    ctrl.start()
    qtbot.waitUntil(lambda: 3 in ctrl._busy, timeout=3000)
    ctx.settings.set("gpu_mode", "latency")
    ctx.events.sig_settings_changed.emit("gpu_mode")
    assert len(IdleRunner.made) == 1  # job 3 runs: nothing is interrupted
    ctrl._deliver("done", 3, "out.mp4")  # as the runner thread would post it
    assert [r.mode for r in IdleRunner.made] == ["auto", "latency"]
    assert IdleRunner.made[0].stopped.is_set()
    ctrl.shutdown()


@pytest.mark.parametrize("hardware", [TWO])
def test_gui_throughput_runs_one_runner_process_per_gpu(qtbot, ctx, hardware, monkeypatch):
    """The real group: two child ``wan22 queue run`` processes (fake GPUs), idle on an empty
    queue; shutting the window down stops both."""
    monkeypatch.setenv("WAN22_FAKE_GPUS", "2x24")
    ctx.settings.set("gpu_mode", "throughput")
    ctx.settings.set("keep_awake", False)
    ctrl = RunnerController(ctx, start=False)
    idle = []
    ctrl.sig_queue_idle.connect(lambda: idle.append(True))
    ctrl.start()
    qtbot.waitUntil(lambda: ctrl.mode == "running", timeout=60000)
    qtbot.waitUntil(lambda: bool(idle), timeout=120000)
    group = ctrl._runner
    assert isinstance(group, GroupRunner)
    pids = [c.proc.pid for c in group.group.children]
    assert len(pids) == 2
    modes = {r.mode for r in list_runners(ctx.db)}
    assert modes == {"throughput"}, modes
    ctrl.shutdown(timeout_s=60)
    assert ctrl._thread is None
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]


def test_group_children_run_the_bundles_own_wan22_there(monkeypatch):
    """In the bundle ``sys.executable`` is the GUI binary, not Python: the children run ``wan22``."""
    from wan22_desktop import frozen
    from wan22_desktop.runtime.runner_group import child_argv

    monkeypatch.setattr(frozen, "is_frozen", lambda: True)
    argv = child_argv(None, ["--forever"], 1)
    assert argv[0].endswith("/wan22") and argv[1:3] == ["--json", "queue"]
