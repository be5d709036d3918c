"""`wan22 runtime setup` from the window (the bundle): progress from its step lines, a failure as
its error and hint, Cancel that kills it with what it started and leaves no half venv. The
command is a small Python script standing in for the real one (no pip here)."""

from __future__ import annotations

import sys
import textwrap

import psutil
import pytest
from PySide6.QtCore import Qt

from wan22_desktop import frozen
from wan22_desktop.gui.main_window import MainWindow
from wan22_desktop.gui.widgets import runtime_setup
from wan22_desktop.gui.widgets.runtime_setup import RuntimeSetupDialog, setup_command

FAKE = textwrap.dedent(
    """
    import os, pathlib, subprocess, sys, time
    venv, mode = pathlib.Path(sys.argv[1]), sys.argv[2]
    print("runtime setup [1/4] creating", venv, flush=True)
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "bin" / "python").write_text("")
    print("runtime setup [2/4] updating pip", flush=True)
    print("Downloading torch (1.2 GB)\\r 10%\\r 55%", flush=True)
    if mode == "hang":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        print("pip pid", child.pid, flush=True)
        time.sleep(120)
    if mode == "fail":
        print("error: pip could not install the worker environment", file=sys.stderr, flush=True)
        print("hint: check the network, then run it again", file=sys.stderr, flush=True)
        sys.exit(1)
    print("runtime setup [3/4] installing torch", flush=True)
    print("runtime setup [4/4] checking", flush=True)
    (venv / ".wan22-ready").write_text("torch 2.13\\n")
    print("runtime setup: done", flush=True)
    """
)


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / "fake_setup.py"
    script.write_text(FAKE)
    return script


def dialog_for(qtbot, ctx, fake, mode: str) -> RuntimeSetupDialog:
    venv = frozen.worker_venv(ctx.paths.data)
    dialog = RuntimeSetupDialog([sys.executable, str(fake), str(venv), mode], ctx.paths.data)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    return dialog


def test_setup_streams_its_steps_and_succeeds(qtbot, ctx, fake):
    dialog = dialog_for(qtbot, ctx, fake, "ok")
    qtbot.waitUntil(lambda: dialog.close_button.isVisible(), timeout=30000)
    assert dialog.succeeded, (dialog.outcome.text(), dialog.log.toPlainText())
    assert frozen.worker_env_ready(ctx.paths.data)
    assert (dialog.bar.maximum(), dialog.bar.value()) == (1, 1)
    log = dialog.log.toPlainText()
    assert "runtime setup [3/4] installing torch" in log and " 55%" in log.splitlines()
    assert "Rendering is set up" in dialog.outcome.text()


def test_a_failed_setup_shows_its_error_and_hint(qtbot, ctx, fake):
    dialog = dialog_for(qtbot, ctx, fake, "fail")
    qtbot.waitUntil(lambda: dialog.close_button.isVisible(), timeout=30000)
    assert not dialog.succeeded
    text = dialog.outcome.text()
    assert "Setup failed: pip could not install the worker environment" in text
    assert "check the network, then run it again" in text
    assert dialog.step.text() == "Setup failed."


def test_cancel_kills_the_setup_and_what_it_started_and_removes_the_half_venv(qtbot, ctx, fake):
    dialog = dialog_for(qtbot, ctx, fake, "hang")
    qtbot.waitUntil(lambda: "pip pid" in dialog.log.toPlainText(), timeout=30000)
    assert dialog.step.text() == "Step 2 of 4: updating pip" and dialog.bar.value() == 1
    [pip_line] = [ln for ln in dialog.log.toPlainText().splitlines() if ln.startswith("pip pid")]
    pip = psutil.Process(int(pip_line.split()[-1]))
    venv = frozen.worker_venv(ctx.paths.data)
    assert venv.is_dir()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.close_button.isVisible(), timeout=30000)
    assert dialog.cancelled and not venv.exists()
    assert "cancelled" in dialog.outcome.text()
    psutil.wait_procs([pip], timeout=10)
    assert not pip.is_running() or pip.status() == psutil.STATUS_ZOMBIE


def test_setup_command_uses_this_windows_data_folder(ctx, monkeypatch):
    argv = setup_command(ctx.paths.data)
    assert argv[-2:] == ["runtime", "setup"]
    assert argv[:3] == [sys.executable, "-m", "wan22_desktop.cli"]
    monkeypatch.setattr(frozen, "is_frozen", lambda: True)
    assert setup_command(ctx.paths.data)[0].endswith("/wan22")


def test_the_bundle_window_offers_the_setup_until_it_succeeded(qtbot, ctx, fake, monkeypatch):
    monkeypatch.setattr(frozen, "is_frozen", lambda: True)
    venv = frozen.worker_venv(ctx.paths.data)
    monkeypatch.setattr(
        runtime_setup,
        "setup_command",
        lambda data: [sys.executable, str(fake), str(venv), "ok"],
    )
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    button = win.status_area.setup_runtime
    assert not button.isHidden()
    assert "Set up rendering" in win.status_area.message.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = win.runtime_setup_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.close_button.isVisible(), timeout=30000)
    assert dialog.succeeded, dialog.log.toPlainText()
    dialog.close_button.click()
    assert button.isHidden() and win.runtime_setup_dialog is None
