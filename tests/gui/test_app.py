"""The shell: main window, views registry, state persistence, translations, no torch in the GUI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from wan22_desktop.errors import OperationError
from wan22_desktop.gui.context import AppContext
from wan22_desktop.gui.main_window import MainWindow
from wan22_desktop.gui.notifier import Notice
from wan22_desktop.gui.view_registry import ViewSpec

ROOT = Path(__file__).resolve().parents[2]


def test_window_lists_views_and_switches(qtbot, ctx):
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    assert win.keys[:2] == ["generate", "queue"] and "settings" in win.keys
    ctx.events.sig_view_requested.emit("settings")
    assert win.current_key() == "settings"
    assert win.stack.currentWidget() is win.view("settings")


def test_errors_shown_as_message_and_hint(qtbot, ctx):
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    ctx.notifier.error(OperationError("disk full", "free some space"))
    assert win.status_area.message.text() == "disk full — free some space"
    ctx.notifier.error(RuntimeError("boom"))
    assert "RuntimeError" in win.status_area.message.text()
    assert "boom" not in win.status_area.message.text()  # details only in the log


LIGHT_VIEWS = tuple(
    ViewSpec(k, k.title(), "tests.gui.light_view:LightView")
    for k in ("generate", "queue", "settings")
)


def test_window_state_persists(qtbot, ctx, wan22_home):
    # Empty views: the offscreen screen is small and real views set minimum sizes.
    win = MainWindow(ctx, views=LIGHT_VIEWS)
    qtbot.addWidget(win)
    win.show()
    win.resize(700, 520)
    win.splitter.setSizes([210, 490])
    win.show_view("queue")
    win.close()  # saves state and settings
    saved = json.loads(ctx.paths.data.joinpath("settings.json").read_text())
    assert saved["ui_state"]["main_window"]["view"] == "queue"

    reopened = AppContext.open(str(wan22_home), hardware=ctx.hardware())
    try:
        win2 = MainWindow(reopened, views=LIGHT_VIEWS)
        qtbot.addWidget(win2)
        win2.show()
        assert win2.current_key() == "queue"
        assert win2.size().width() == 700 and win2.size().height() == 520
        assert win2.splitter.sizes()[0] == 210
    finally:
        reopened.close()


def test_no_torch_after_main_window_is_up(wan22_home):
    """The GUI process must never import torch (it would also slow start-up by seconds)."""
    code = textwrap.dedent("""
        import sys
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from wan22_desktop.gui.context import AppContext
        from wan22_desktop.gui.main_window import MainWindow
        from wan22_desktop.gui.runner_controller import RunnerController
        from wan22_desktop.runtime.hardware import Hardware
        ctx = AppContext.open(hardware=Hardware())  # the probe's own subprocess is not the point
        ctx.settings.set("keep_awake", False)
        win = MainWindow(ctx)
        win.show()
        app.processEvents()
        win._build_all()
        ctx.runner = RunnerController(ctx)  # the real queue runner
        win.attach_runner(ctx.runner)
        import time
        deadline = time.monotonic() + 20
        while ctx.runner.mode != "running" and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        print("RUNNER:", ctx.runner.mode)
        assert len(win._views) == len(win.keys)
        bad = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
        print("TORCH:", bad)
        ctx.close()
    """)
    env = {
        **os.environ,
        "WAN22_HOME": str(wan22_home),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "RUNNER: running" in out.stdout, out.stdout
    assert "TORCH: []" in out.stdout


def test_notice_text_joins_hint():
    assert Notice("info", "saved").text() == "saved"
    assert Notice("error", "a", "b").text() == "a — b"


def test_notifications_for_finished_jobs_and_empty_queue(qtbot, ctx):
    from wan22_desktop.gui.app import app_icon
    from wan22_desktop.gui.tray import Tray

    tray = Tray(ctx, app_icon())
    ctx.events.sig_queue_counts_changed.emit({"running": 1, "queued": 1}, False)
    tray.on_job_event("done", 4, "out.mp4")
    tray.on_job_event("failed", 5, "out of memory")
    ctx.events.sig_queue_counts_changed.emit({"done": 2}, False)
    assert [t for t, _ in tray.sent] == ["Video ready", "Job failed", "Queue finished"]
    assert "out of memory" in tray.sent[1][1]
    if tray.icon is None:  # offscreen: no tray, so the status area carries it
        assert ctx.notifier.last.message.startswith("Queue finished")
    ctx.settings.set("notifications", False)
    tray.on_job_event("done", 6, "")
    assert len(tray.sent) == 3


def test_queue_finished_with_failures_is_not_all_done(qtbot, ctx):
    """Two done and one failed: the status area says so, not "All jobs are done"."""
    from wan22_desktop.gui.app import app_icon
    from wan22_desktop.gui.tray import Tray

    tray = Tray(ctx, app_icon())
    emit = ctx.events.sig_queue_counts_changed.emit
    emit({"done": 4, "failed": 1}, False)  # earlier work, before this batch
    emit({"done": 4, "failed": 1, "queued": 3}, False)
    emit({"done": 5, "failed": 1, "running": 1, "queued": 1}, False)
    emit({"done": 6, "failed": 2}, False)
    title, message = tray.sent[-1]
    assert (title, message) == ("Queue finished", "2 done, 1 failed")
    assert "All jobs are done" not in message
    if tray.icon is None:  # offscreen: no tray, so the status area carries it
        assert ctx.notifier.last.text() == "Queue finished: 2 done, 1 failed"
    emit({"done": 6, "failed": 2, "queued": 1}, False)
    emit({"done": 7, "failed": 2}, False)
    assert tray.sent[-1] == ("Queue finished", "All jobs are done.")


def test_app_icon_has_bitmaps_and_svg(qapp):
    from wan22_desktop.gui.app import app_icon

    icon = app_icon()
    assert not icon.isNull() and 256 in [s.width() for s in icon.availableSizes()]


def test_entry_point_starts_shows_the_window_and_logs(wan22_home):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "wan22_desktop.gui.app",
            "--home",
            str(wan22_home),
            "--no-runner",
            "--quit-after-shown",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "WAN22_SHOWN" in out.stdout
    log = (wan22_home / "logs" / "wan22.log").read_text()
    assert "window shown" in log
    saved = json.loads((wan22_home / "data" / "settings.json").read_text())
    assert "main_window" in saved["ui_state"] and "generate_form" in saved["ui_state"]


def test_excepthook_shows_message_and_logs_traceback(qtbot, ctx, caplog):
    import logging

    from wan22_desktop.gui.app import install_excepthook

    old_hook, old_thread_hook = sys.excepthook, __import__("threading").excepthook
    try:
        install_excepthook(ctx)
        try:
            raise OperationError("the disk is full", "free some space")
        except OperationError as exc:
            with caplog.at_level(logging.ERROR):
                sys.excepthook(type(exc), exc, exc.__traceback__)
        assert ctx.notifier.last.text() == "the disk is full — free some space"
        assert "Traceback" in caplog.text and "OperationError" in caplog.text
    finally:
        sys.excepthook = old_hook
        __import__("threading").excepthook = old_thread_hook


def test_a_view_that_fails_to_start_does_not_take_the_window_down(qtbot, ctx, monkeypatch):
    import types

    broken = types.ModuleType("wan22_desktop_test_broken_view")

    class Broken:
        def __init__(self, *_):
            raise RuntimeError("no multimedia backend")

    broken.View = Broken
    monkeypatch.setitem(sys.modules, broken.__name__, broken)
    views = (
        ViewSpec("generate", "Generate", "tests.gui.light_view:LightView"),
        ViewSpec("player", "Player", f"{broken.__name__}:View"),
    )
    win = MainWindow(ctx, views=views)
    qtbot.addWidget(win)
    win.show_view("player")
    assert win.current_key() == "player"
    assert win.stack.currentWidget().objectName() == "view_player"
    assert win.stack.currentWidget().text() == "The Player view could not start."
    assert "Player view could not start: no multimedia backend" in ctx.notifier.last.message


def test_hardware_is_probed_once_and_shared_with_worker_threads(qtbot, qapp, wan22_home):
    import threading

    from wan22_desktop.runtime.hardware import Hardware

    calls = []

    def probe():
        calls.append(1)
        return Hardware(ram_total_gib=8.0)

    ctx = AppContext.open(str(wan22_home), hardware_probe=probe)
    try:
        got = []
        assert ctx.hardware(got.append) is None  # probing in the background
        assert ctx.hardware() is None
        box = []
        t = threading.Thread(target=lambda: box.append(ctx.wait_hardware(10)))
        t.start()
        qtbot.waitUntil(lambda: bool(got), timeout=5000)
        t.join(5)
        assert calls == [1] and got[0].ram_total_gib == 8.0 and box == got
    finally:
        ctx.close()


def test_bundle_without_worker_env_says_how_to_set_it_up(qtbot, ctx, monkeypatch, tmp_path):
    """In the Linux bundle (ADR 0023) the window names `wan22 runtime setup` until it has run."""
    import sys

    from wan22_desktop import frozen

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    win = MainWindow(ctx, views=LIGHT_VIEWS)
    qtbot.addWidget(win)
    notice = ctx.notifier.last
    assert notice is not None and "wan22 runtime setup" in (notice.hint or "")
    venv = frozen.worker_venv(ctx.paths.data)
    frozen.venv_python(venv).parent.mkdir(parents=True)
    frozen.venv_python(venv).symlink_to(sys.executable)
    (venv / frozen.READY_MARKER).write_text("torch\n")
    ctx.notifier.last = None
    win2 = MainWindow(ctx, views=LIGHT_VIEWS)
    qtbot.addWidget(win2)
    assert ctx.notifier.last is None
