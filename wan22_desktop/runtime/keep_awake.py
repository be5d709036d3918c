"""Keep the computer from sleeping while jobs run, and let it sleep again when the queue is idle.

Linux: ``systemd-inhibit --what=idle:sleep ... tail --pid=<our pid> -f /dev/null`` held for as
long as we need it; macOS: ``caffeinate -i -w <our pid>``; Windows:
``SetThreadExecutionState(ES_CONTINUOUS | ES_SYSTEM_REQUIRED)`` on the holding thread. Where none
is available (a container, no session bus) holding is a logged no-op: renders still run.

The inhibitor dies with its owner, however the owner dies (SIGKILL included): on Linux the child
gets ``PR_SET_PDEATHSIG`` and the command it runs watches our pid, on macOS ``caffeinate -w`` does
the watching. A state file (pid and start time of the inhibitor and of its owner) lets the next
start end one that survived anyway (another platform, an owner thread that is gone).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from wan22_desktop.errors import OperationError

log = logging.getLogger(__name__)

WHY = "rendering videos"
ES_CONTINUOUS = 0x80000000
ES_SYSTEM_REQUIRED = 0x00000001
START_CHECK_S = 0.5  # an inhibitor that dies this fast could not take the lock (no session bus)


def inhibitor_command(platform: str, pid: int, which=shutil.which) -> list[str] | None:
    """The command that holds the system awake while it runs, or None (Windows, or nothing found)."""
    if platform.startswith("linux") and which("systemd-inhibit") and which("tail"):
        return [
            "systemd-inhibit",
            "--what=idle:sleep",
            "--who=Wan22 Desktop",
            f"--why={WHY}",
            "--mode=block",
            # holds the lock until we are gone (even if the death signal below never comes)
            "tail",
            f"--pid={pid}",
            "-f",
            "/dev/null",
        ]
    if platform == "darwin" and which("caffeinate"):
        return ["caffeinate", "-i", "-w", str(pid)]
    return None


class KeepAwake:
    """``hold()`` when a job starts, ``release()`` when idle; both idempotent. A context manager
    releases on exit."""

    def __init__(
        self,
        enabled: bool = True,
        command: Sequence[str] | None = None,
        *,
        state_file: Path | None = None,
    ) -> None:
        self.enabled = enabled
        self._command = list(command) if command is not None else None
        self._proc: subprocess.Popen | None = None
        self._windows_held = False
        self.state_file = state_file
        if enabled and state_file is not None:
            end_stale_inhibitor(state_file)

    @property
    def held(self) -> bool:
        return self._windows_held or (self._proc is not None and self._proc.poll() is None)

    def hold(self) -> bool:
        """Start inhibiting sleep; True when something really holds it."""
        if not self.enabled or self.held:
            return self.held
        if sys.platform == "win32" and self._command is None:
            import ctypes

            ok = ctypes.windll.kernel32.SetThreadExecutionState(ES_CONTINUOUS | ES_SYSTEM_REQUIRED)
            self._windows_held = bool(ok)
            return self._windows_held
        cmd = self._command or inhibitor_command(sys.platform, os.getpid())
        if cmd is None:
            log.info("no way to keep this system awake was found; it may sleep during renders")
            return False
        if sys.platform.startswith("linux"):
            cmd = die_with_parent_command(cmd, os.getpid())
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C in our terminal is ours to handle, not its
            )
        except OSError as exc:
            log.info("cannot keep the system awake: %s", exc)
            return False
        try:
            _, err = self._proc.communicate(timeout=START_CHECK_S)
        except subprocess.TimeoutExpired:
            log.info("keeping the system awake while jobs run (%s)", cmd[0])
            self._write_state()
            return True
        log.info(
            "cannot keep the system awake: %s", (err or b"").decode(errors="replace").strip()[:200]
        )
        self._proc = None
        return False

    def release(self) -> None:
        if self._windows_held and sys.platform == "win32":
            import ctypes

            ctypes.windll.kernel32.SetThreadExecutionState(ES_CONTINUOUS)
            self._windows_held = False
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None
            if self.state_file is not None:
                self.state_file.unlink(missing_ok=True)

    def _write_state(self) -> None:
        if self.state_file is None or self._proc is None:
            return
        state = {
            "owner": os.getpid(),
            "owner_started": _started(os.getpid()),
            "pid": self._proc.pid,
            "started": _started(self._proc.pid),
        }
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_name(self.state_file.name + ".tmp")
            tmp.write_text(json.dumps(state), encoding="utf-8")
            os.replace(tmp, self.state_file)
        except OSError as exc:
            log.info("cannot record the keep-awake inhibitor: %s", exc)

    def __enter__(self) -> KeepAwake:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


# Runs in the child: ask for SIGTERM when the parent dies (PR_SET_PDEATHSIG survives exec), give
# up if the parent is already gone, then become the inhibitor (same pid). A Python step rather
# than preexec_fn, which may deadlock in a process with threads (the runner has several).
_PDEATHSIG_EXEC = (
    "import ctypes, os, signal, sys\n"
    "try:\n"
    "    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)\n"
    "except (OSError, AttributeError):\n"
    "    pass\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(0)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def die_with_parent_command(cmd: Sequence[str], parent_pid: int) -> list[str]:
    """``cmd`` started so that it gets SIGTERM when ``parent_pid`` dies, however it dies (Linux)."""
    python = sys.executable
    from wan22_desktop.frozen import is_frozen, worker_python

    if is_frozen():  # the bundle's executable is no interpreter: use the worker venv's
        try:
            python = worker_python()
        except OperationError:
            return list(cmd)  # no venv yet: the inhibitor runs unwatched
    return [python, "-c", _PDEATHSIG_EXEC, str(parent_pid), *cmd]


def _started(pid: int) -> float | None:
    """A process's start time, to tell it from a later process that got the same pid."""
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:  # noqa: BLE001 - gone, or psutil unavailable
        return None


def end_stale_inhibitor(state_file: Path) -> bool:
    """End the inhibitor a dead owner left behind (as recorded in ``state_file``); True if one
    was ended. A live owner's inhibitor, and any process that merely reuses the pid, are left
    alone."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        owner, pid = int(state["owner"]), int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    owner_alive = state.get("owner_started") is not None and _started(owner) == state.get(
        "owner_started"
    )
    if owner_alive and owner != os.getpid():
        return False  # another runner's, and it is alive
    ended = False
    if state.get("started") is not None and _started(pid) == state["started"]:
        try:
            os.kill(pid, signal.SIGTERM)
            ended = True
            log.info("ended the keep-awake inhibitor %s left by process %s", pid, owner)
        except OSError:
            pass
    state_file.unlink(missing_ok=True)
    return ended
