"""Start, talk to and stop worker processes; no torch here (the runner and the GUI use it).

A worker runs in a process group (session) of its own, so stopping it reaches everything it
started: torchrun's ranks, ffmpeg, a compile helper. Events are read by a thread into a queue, so
the caller polls with a timeout and never blocks on a silent worker; end of stream becomes an
``Exited`` pseudo-event carrying the exit code (negative: the signal, as ``subprocess`` reports).
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from wan22_desktop.errors import OperationError
from wan22_desktop.logs import redact
from wan22_desktop.runtime import protocol as P

log = logging.getLogger(__name__)

WORKER_MODULE = "wan22_desktop.runtime.worker"
READY_TIMEOUT_S = 120.0  # torch import + CUDA init on a cold disk can take a minute
SHUTDOWN_GRACE_S = 5.0
LOG_MAX_BYTES = 20 * 1024**2


@dataclass(frozen=True)
class Exited:
    """Not a protocol message: the worker's event stream ended (it exited or was killed)."""

    returncode: int | None


def worker_command(
    nproc: int = 1, *, python: str | None = None, parent_pid: int | None = None
) -> list[str]:
    """The argv that starts a worker: plain, or under torchrun with ``nproc`` ranks."""
    if python is None:
        from wan22_desktop.frozen import worker_python

        python = worker_python()  # sys.executable, or the bundle's worker venv (ADR 0023)
    if nproc <= 1:
        cmd = [python, "-m", WORKER_MODULE]
        if parent_pid is not None:
            cmd += ["--parent-pid", str(parent_pid)]
        return cmd
    # The ranks' parent is torchrun's agent, so they watch that, not us (no --parent-pid).
    return [
        python,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        WORKER_MODULE,
    ]


def rotate_log(path: Path, max_bytes: int = LOG_MAX_BYTES) -> None:
    """Keep one previous worker log: an overnight queue must not grow it without bound."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.stat().st_size > max_bytes:
            os.replace(path, path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "the worker stopped answering"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the worker was killed by {name}"
    return f"the worker exited with code {returncode}"


class WorkerProcess:
    """One running worker (or torchrun group). Thread-safe ``send``; ``next_event`` from one thread."""

    def __init__(
        self,
        *,
        nproc: int = 1,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        cwd: str | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.nproc = nproc
        cmd = worker_command(nproc, parent_pid=os.getpid()) + list(extra_args)
        self._log_file: IO[bytes] | None = None
        self.log_path = log_path
        self._log_start = 0
        stderr: int | IO[bytes] = subprocess.DEVNULL
        if log_path is not None:
            rotate_log(log_path)
            self._log_file = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
            self._log_start = self._log_file.tell()
            stderr = self._log_file
        kwargs: dict[str, Any] = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            kwargs["start_new_session"] = True
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            **kwargs,
        )
        self.pid = self.proc.pid
        self._events: queue.Queue[P.Message | Exited] = queue.Queue()
        self._send_lock = threading.Lock()
        self.started_at = time.monotonic()
        self.ready: P.Ready | None = None
        threading.Thread(target=self._read, daemon=True, name=f"worker-{self.pid}-events").start()

    # ---- events

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            # redact: a failure message may quote a server reply that quoted a secret
            line = redact(raw.decode("utf-8", errors="replace"))
            if not line.strip():
                continue
            try:
                self._events.put(P.decode(line, P.EVENTS))
            except P.ProtocolError as exc:
                log.warning("worker %s: %s", self.pid, exc)
        self._events.put(Exited(self.proc.wait()))

    def next_event(self, timeout: float | None) -> P.Message | Exited | None:
        """The next event, or None after ``timeout`` seconds without one."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait_ready(
        self, timeout: float = READY_TIMEOUT_S, tick: Callable[[], None] | None = None
    ) -> P.Ready:
        """Wait for ``ready``; ``tick`` is called about once a second meanwhile (lease heartbeat)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ev = self.next_event(min(left, 1.0))
            if tick is not None:
                tick()
            if isinstance(ev, P.Ready):
                self.ready = ev
                return ev
            if isinstance(ev, Exited):
                said = self.last_log_lines()
                raise OperationError(
                    f"the worker did not start: {describe_exit(ev.returncode)}"
                    + (f"; its log ends: {said}" if said else ""),
                    "see worker.log in the logs folder",
                )
            if isinstance(ev, P.Log):
                log.info("worker %s: %s", self.pid, ev.message)
        self.kill()
        raise OperationError(
            f"the worker did not start within {timeout:.0f} s",
            "see the worker log in the logs folder",
        )

    def last_log_lines(self, n: int = 3, max_chars: int = 400) -> str:
        """The last ``n`` non-empty lines this worker wrote to its log, joined on one line
        (redacted, control characters escaped): the reason to show when it died early."""
        if self.log_path is None:
            return ""
        return log_tail(self.log_path, n, max_chars, start=self._log_start)

    # ---- commands

    def send(self, msg: P.Message) -> bool:
        """Write one command; False when the worker is gone."""
        if self.proc.stdin is None:
            return False
        with self._send_lock:
            try:
                self.proc.stdin.write(msg.to_line().encode("utf-8"))
                self.proc.stdin.flush()
                return True
            except (BrokenPipeError, OSError, ValueError):
                return False

    # ---- lifetime

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker's whole process tree at once: its group, and the groups of
        descendants that made their own (torchrun starts every rank in a new session)."""
        if os.name == "nt":
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(self.pid)], capture_output=True)
        else:
            for pgid in [self.pid] + _descendant_pids(self.pid):
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.error("worker %s did not die after SIGKILL", self.pid)
        self._close()

    def shutdown(self, grace: float = SHUTDOWN_GRACE_S) -> None:
        """Ask politely (the worker frees the GPU and exits), then kill."""
        if self.alive and self.send(P.Shutdown()):
            if self.proc.stdin is not None:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        if self.alive:
            self.kill()
        else:
            self.kill_leftovers()
            self._close()

    def kill_leftovers(self) -> None:
        """Anything still in the worker's group after it exited (a rank, a helper) goes too."""
        if os.name != "nt":
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def tree(self) -> list[int]:
        """The worker's pid and every descendant's (ranks, helpers)."""
        return [self.pid] + _descendant_pids(self.pid)

    def _close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def log_tail(path: Path, n: int = 3, max_chars: int = 400, *, start: int = 0) -> str:
    """The last ``n`` non-empty lines of ``path`` from byte ``start`` on, as one safe line."""
    from wan22_desktop.terminal_text import escape_control

    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            f.seek(max(start, end - 16 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()][-n:]
    joined = " | ".join(escape_control(line) for line in lines)
    return redact(joined if len(joined) <= max_chars else "…" + joined[-max_chars:])


def _descendant_pids(pid: int) -> list[int]:
    try:
        import psutil

        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except Exception:  # noqa: BLE001 - gone already, or psutil unavailable
        return []
