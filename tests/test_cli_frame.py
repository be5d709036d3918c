"""The CLI frame: exit codes, one-line errors, tracebacks only with --debug, always in the log.

A probe command module is placed on ``wan22_desktop.commands.__path__`` so the real discovery,
parser and error handling in ``cli.main`` run end to end, in a real subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PROBE = """
from wan22_desktop.errors import OperationError, UserInputError


def register(subparsers):
    p = subparsers.add_parser("probe")
    p.add_argument("outcome", choices=["ok", "user", "operation", "crash", "interrupt"])
    p.set_defaults(func=run)


def run(args):
    if args.outcome == "user":
        raise UserInputError("size 12*34 is not allowed", "write it like 1280*720")
    if args.outcome == "operation":
        raise OperationError("cannot write /outputs/x.mp4: disk full", "free some space")
    if args.outcome == "crash":
        raise ValueError("internal oops")
    if args.outcome == "interrupt":
        raise KeyboardInterrupt
    print("home=" + str(args.home) + " json=" + str(args.json))
    return 0
"""

RUN = (
    "import sys, wan22_desktop.commands as c; c.__path__.append(sys.argv[1]); "
    "from wan22_desktop.cli import main; sys.exit(main(sys.argv[2:]))"
)


@pytest.fixture()
def wan22(tmp_path, wan22_home):
    probe_dir = tmp_path / "probe_cmds"
    probe_dir.mkdir()
    (probe_dir / "zz_probe.py").write_text(PROBE)

    def run(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO), "WAN22_HOME": str(wan22_home)}
        return subprocess.run(
            [sys.executable, "-c", RUN, str(probe_dir), *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def _log(home: Path) -> str:
    return (home / "logs" / "wan22.log").read_text(encoding="utf-8")


def test_ok_and_global_flags(wan22, tmp_path):
    p = wan22("--json", "--home", str(tmp_path / "h"), "probe", "ok")
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.strip() == f"home={tmp_path / 'h'} json=True"
    assert (tmp_path / "h" / "logs" / "wan22.log").exists()  # --home moves the log too


@pytest.mark.parametrize(
    "outcome,code,message,hint,logged",
    [
        (
            "user",
            2,
            "error: size 12*34 is not allowed",
            "hint: write it like 1280*720",
            "UserInputError: size 12*34",
        ),
        (
            "operation",
            1,
            "error: cannot write /outputs/x.mp4: disk full",
            "hint: free some space",
            "disk full",
        ),
        (
            "crash",
            1,
            "error: unexpected ValueError: internal oops",
            "hint: the log file has the details",
            "ValueError: internal oops",
        ),
    ],
)
def test_errors_are_one_line_with_a_hint(wan22, wan22_home, outcome, code, message, hint, logged):
    p = wan22("probe", outcome)
    assert p.returncode == code
    lines = p.stderr.strip().splitlines()
    assert lines[0] == message and lines[1].startswith(hint) and len(lines) == 2
    assert "Traceback" not in p.stderr and p.stdout == ""
    log = _log(wan22_home)
    assert "Traceback (most recent call last)" in log and logged in log


@pytest.mark.parametrize("outcome,exception", [("user", "UserInputError"), ("crash", "ValueError")])
def test_debug_shows_the_traceback(wan22, outcome, exception):
    p = wan22("--debug", "probe", outcome)
    assert p.returncode == 1  # the re-raised exception ends the interpreter
    assert "Traceback (most recent call last)" in p.stderr and exception in p.stderr


def test_interrupt(wan22):
    p = wan22("probe", "interrupt")
    assert p.returncode == 130 and p.stderr.strip() == "interrupted"


@pytest.mark.parametrize("args", [("probe", "sideways"), ("--no-such-flag",), ()])
def test_bad_usage_exits_2(wan22, args):
    p = wan22(*args)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr


def test_real_entry_point_runs():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.run(
        [sys.executable, "-m", "wan22_desktop.cli", "--version"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0 and p.stdout.startswith("wan22 ")
    p = subprocess.run(
        [sys.executable, "-m", "wan22_desktop.cli", "--help"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0 and "doctor" in p.stdout
