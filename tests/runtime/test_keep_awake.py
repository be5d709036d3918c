"""Keeping the system awake: the platform commands, and holding/releasing a real inhibitor process."""

from __future__ import annotations

import shutil
import sys

import pytest

from wan22_desktop.runtime.keep_awake import KeepAwake, inhibitor_command


def test_inhibitor_command_per_platform():
    found = lambda name: f"/usr/bin/{name}"  # noqa: E731
    linux = inhibitor_command("linux", 7, which=found)
    assert (
        linux[0] == "systemd-inhibit"
        and "--what=idle:sleep" in linux
        and linux[-2:] == ["sleep", "infinity"]
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
