"""Running from the PyInstaller bundle (ADR 0023), simulated with ``sys.frozen``: which interpreter
starts the worker and the probe, what doctor says, and `wan22 runtime setup`'s steps."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from wan22_desktop import frozen
from wan22_desktop.errors import OperationError, UserInputError


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    """A fake bundle folder as sys.executable, frozen, with WAN22_HOME in tmp_path."""
    exe = tmp_path / "bundle" / "wan22-desktop"
    exe.parent.mkdir()
    exe.write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    monkeypatch.setenv("WAN22_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(frozen.WORKER_PYTHON_ENV, raising=False)
    return exe.parent


def _ready_venv(data: Path) -> Path:
    venv = frozen.worker_venv(data)
    python = frozen.venv_python(venv)
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    (venv / frozen.READY_MARKER).write_text("torch 2.13.0\n")
    return python


def test_wheel_install_runs_everything_with_its_own_interpreter(monkeypatch):
    monkeypatch.delenv(frozen.WORKER_PYTHON_ENV, raising=False)
    from wan22_desktop.runtime.launcher import worker_command

    assert not frozen.is_frozen()
    assert worker_command()[0] == sys.executable
    assert frozen.module_command("wan22_desktop.cli") == [sys.executable, "-m", "wan22_desktop.cli"]


def test_bundle_without_worker_env_says_how_to_set_it_up(bundle):
    from wan22_desktop.runtime.hardware import probe_in_subprocess
    from wan22_desktop.runtime.launcher import worker_command

    with pytest.raises(OperationError) as exc:
        worker_command()
    assert "not set up" in exc.value.message and "wan22 runtime setup" in exc.value.hint
    hw = probe_in_subprocess()  # no torch to probe with: reported, not raised
    assert hw.error and "not set up" in hw.error
    assert frozen.module_command("wan22_desktop.cli") == [str(bundle / "wan22")]


def test_bundle_runs_worker_probe_and_watcher_with_the_venv(bundle, tmp_path):
    from wan22_desktop.paths import app_paths
    from wan22_desktop.runtime.keep_awake import die_with_parent_command
    from wan22_desktop.runtime.launcher import worker_command

    python = _ready_venv(app_paths().data)
    assert worker_command()[:2] == [str(python), "-m"]
    assert worker_command(2)[:3] == [str(python), "-m", "torch.distributed.run"]
    probe = frozen.module_command("wan22_desktop.runtime.hardware_probe")
    assert probe == [str(python), "-m", "wan22_desktop.runtime.hardware_probe"]
    assert die_with_parent_command(["systemd-inhibit", "sleep"], 1)[0] == str(python)


def test_doctor_in_the_bundle_reports_the_worker_env(bundle, tmp_path):
    from wan22_desktop.commands.doctor import format_report, gather
    from wan22_desktop.paths import app_paths

    report = gather(app_paths())
    w = report["worker_env"]
    assert w["bundle"] and not w["ready"] and w["venv"].endswith("runtime/worker-venv")
    text = format_report(report)
    assert "worker env    not set up: run `wan22 runtime setup`" in text
    _ready_venv(app_paths().data)
    assert "worker env    ready" in format_report(gather(app_paths()))


def test_runtime_setup_without_a_python_is_a_user_error(bundle, monkeypatch):
    from wan22_desktop.commands import runtime

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UserInputError) as exc:
        runtime.find_python(None)
    assert "python3-venv" in exc.value.hint
    with pytest.raises(UserInputError):
        runtime.find_python("/nonexistent/python3")


def test_runtime_setup_steps(bundle, tmp_path, monkeypatch, capsys):
    """The steps in order: venv, pip, torch + the bundled wheel under the pins, import check, ready."""
    from wan22_desktop.commands import runtime
    from wan22_desktop.paths import app_paths

    (bundle / "wheels").mkdir()
    wheel = bundle / "wheels" / "wan22_desktop-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    (bundle / "constraints.txt").write_text("torch==2.13.0\n")
    calls: list[list[str]] = []

    def fake_run(cmd, **kw):
        calls.append([str(c) for c in cmd])
        if cmd[1:3] == ["-m", "venv"]:
            frozen.venv_python(Path(cmd[3])).parent.mkdir(parents=True)
            frozen.venv_python(Path(cmd[3])).write_text("")
        out = "3.12" if cmd[1] == "-c" and "venv" in cmd[2] else "2.13.0+cpu"
        return subprocess.CompletedProcess(cmd, 0, stdout=out, stderr="")

    monkeypatch.setattr(runtime.subprocess, "run", fake_run)
    args = argparse.Namespace(home=None, python=sys.executable, wheel=None, pip_arg=[])
    assert runtime.run_setup(args) == 0
    out = capsys.readouterr().out
    assert [ln[:19] for ln in out.splitlines() if ln.startswith("runtime setup [")] == [
        f"runtime setup [{i}/4]" for i in range(1, 5)
    ]
    venv = frozen.worker_venv(app_paths().data)
    install = next(c for c in calls if "torch" in c and "install" in c)
    assert install[-2:] == ["torch", str(wheel)]
    assert ["-c", str(bundle / "constraints.txt")] == install[install.index("-c") :][:2]
    assert frozen.worker_env_ready() and (venv / frozen.READY_MARKER).read_text().startswith(
        "torch"
    )


def test_bundle_command_needing_torch_says_where_rendering_happens(bundle, monkeypatch, capsys):
    from wan22_desktop import cli

    monkeypatch.setitem(sys.modules, "wan22_desktop.engine.wan.tiny", None)  # not in the bundle
    rc = cli.main(["dev", "make-tiny-checkpoint", "--task", "ti2v-5B", "--out", "x"])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: this command needs torch"), err
    assert "wan22 queue run" in err and "Traceback" not in err and "unexpected" not in err
