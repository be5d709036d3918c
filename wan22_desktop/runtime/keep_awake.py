"""Keep the computer from sleeping while jobs run, and let it sleep again when the queue is idle.

Linux: ``systemd-inhibit --what=idle:sleep ... sleep infinity`` held for as long as we need it;
macOS: ``caffeinate -i -w <our pid>`` (it also ends when we die); Windows:
``SetThreadExecutionState(ES_CONTINUOUS | ES_SYSTEM_REQUIRED)`` on the holding thread. Where none
is available (a container, no session bus) holding is a logged no-op: renders still run.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

log = logging.getLogger(__name__)

WHY = "rendering videos"
ES_CONTINUOUS = 0x80000000
ES_SYSTEM_REQUIRED = 0x00000001
START_CHECK_S = 0.3  # an inhibitor that dies this fast could not take the lock (no session bus)


def inhibitor_command(platform: str, pid: int, which=shutil.which) -> list[str] | None:
    """The command that holds the system awake while it runs, or None (Windows, or nothing found)."""
    if platform.startswith("linux") and which("systemd-inhibit"):
        return [
            "systemd-inhibit",
            "--what=idle:sleep",
            "--who=Wan22 Desktop",
            f"--why={WHY}",
            "--mode=block",
            "sleep",
            "infinity",
        ]
    if platform == "darwin" and which("caffeinate"):
        return ["caffeinate", "-i", "-w", str(pid)]
    return None


class KeepAwake:
    """``hold()`` when a job starts, ``release()`` when idle; both idempotent. A context manager
    releases on exit."""

    def __init__(self, enabled: bool = True, command: Sequence[str] | None = None) -> None:
        self.enabled = enabled
        self._command = list(command) if command is not None else None
        self._proc: subprocess.Popen | None = None
        self._windows_held = False

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
        try:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            log.info("cannot keep the system awake: %s", exc)
            return False
        try:
            _, err = self._proc.communicate(timeout=START_CHECK_S)
        except subprocess.TimeoutExpired:
            log.info("keeping the system awake while jobs run (%s)", cmd[0])
            return True
        log.info(
            "cannot keep the system awake: %s", (err or b"").decode(errors="replace").strip()[:200]
        )
        self._proc = None
        return False

    def release(self) -> None:
        if self._windows_held:
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

    def __enter__(self) -> KeepAwake:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()
