"""Keeping the system awake: the platform commands, and holding/releasing a real inhibitor process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from wan22_desktop.runtime.keep_awake import KeepAwake, end_stale_inhibitor, inhibitor_command

REPO = Path(__file__).resolve().parents[2]


def test_inhibitor_command_per_platform():
    found = lambda name: f"/usr/bin/{name}"  # noqa: E731
    linux = inhibitor_command("linux", 7, which=found)
    assert (
        linux[0] == "systemd-inhibit"
        and "--what=idle:sleep" in linux
        and linux[-4:] == ["tail", "--pid=7", "-f", "/dev/null"]  # ends when pid 7 does
    )
    assert inhibitor_command("darwin", 7, which=found) == ["caffeinate", "-i", "-w", "7"]
    assert inhibitor_command("win32", 7, which=found) is None  # SetThreadExecutionState instead
    assert inhibitor_command("linux", 7, which=lambda name: None) is None


@pytest.mark.skipif(
    sys.platform == "win32" or not shutil.which("sleep"), reason="needs a sleep binary"
)
def test_hold_runs_the_inhibitor_until_release():
    awake = KeepAwake(command=["sleep", "60"])
    assert awake.hold() and awake.held
    proc = awake._proc
    assert awake.hold()  # idempotent: still the same process
    assert awake._proc is proc
    awake.release()
    assert not awake.held and proc.poll() is not None


@pytest.mark.skipif(
    sys.platform == "win32" or not shutil.which("false"), reason="needs a false binary"
)
def test_an_inhibitor_that_cannot_start_is_a_quiet_no_op():
    awake = KeepAwake(command=["false"])
    assert not awake.hold() and not awake.held
    awake.release()


def test_disabled_does_nothing():
    with KeepAwake(enabled=False, command=["sleep", "60"]) as awake:
        assert not awake.hold() and awake._proc is None


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG: Linux")
def test_sigkilled_owner_takes_its_inhibitor_with_it(tmp_path):
    """The runner is SIGKILLed while it holds the system awake: no inhibitor remains."""
    state = tmp_path / "keep-awake.json"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from wan22_desktop.runtime.keep_awake import KeepAwake\n"
        f"awake = KeepAwake(command=['sleep', '300'], state_file=Path({str(state)!r}))\n"
        "assert awake.hold()\n"
        "print(awake._proc.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        inhibitor = int(owner.stdout.readline())
        assert psutil.pid_exists(inhibitor) and json.loads(state.read_text())["pid"] == inhibitor
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        assert _gone(inhibitor), "the inhibitor outlived its owner"
    finally:
        owner.kill()
        owner.wait()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a sleep binary")
def test_a_stale_inhibitor_is_ended_at_the_next_start(tmp_path):
    """One that survived its owner anyway (recorded in the state file) is ended by the next
    KeepAwake; a process that merely reuses a recorded pid is not."""
    stale = subprocess.Popen(["sleep", "300"], start_new_session=True)
    dead_owner = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_owner.wait()
    state = tmp_path / "keep-awake.json"
    record = {
        "owner": dead_owner.pid,
        "owner_started": 1.0,
        "pid": stale.pid,
        "started": psutil.Process(stale.pid).create_time(),
    }
    try:
        state.write_text(json.dumps({**record, "started": 1.0}))  # pid reused: not ours
        assert not end_stale_inhibitor(state) and stale.poll() is None
        state.write_text(json.dumps(record))
        KeepAwake(command=["sleep", "60"], state_file=state)
        assert stale.wait(10) is not None and not state.exists()
    finally:
        stale.kill()
        stale.wait()
