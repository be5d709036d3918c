"""Throughput mode of ``wan22 queue run``: one runner per GPU, each a child process.

Each child is a plain ``wan22 queue run`` (a ``QueueRunner`` with one GPU: its environment pins
``CUDA_VISIBLE_DEVICES``) that registers and claims on its own, exactly as runners on several
machines share a PostgreSQL queue (ADR 0011). This process only supervises: on SQLite it holds
the data folder's queue lease for the group (so no other runner, the GUI's included, starts on
the same folder while the children share the queue among themselves), relays what the children
say, forwards Ctrl-C / SIGTERM, and ends with one summary once all of them have stopped. A child
that dies is reported, never restarted silently; its siblings take its job back (its pid is gone).

No torch and no Qt here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database
from wan22_desktop.db.lease import RunnerIdentity, acquire_lease, heartbeat, release_lease
from wan22_desktop.frozen import module_command
from wan22_desktop.runtime.hardware import GPU
from wan22_desktop.terminal_text import escape_control

SUMMARY_KEYS = ("done", "failed", "cancelled", "requeued")


@dataclass
class Child:
    """One runner of the group: the GPU it was given and what it said."""

    device: str  # the machine's number for its GPU (CUDA_VISIBLE_DEVICES)
    proc: subprocess.Popen[str]
    summary: dict[str, Any] | None = None  # its final {"summary": ...}, once it printed one
    last_error: str = ""  # its last stderr line (why it died, when it did)
    readers: list[threading.Thread] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"gpu{self.device}"


def child_env(base: dict[str, str], gpu: GPU) -> dict[str, str]:
    """A child's environment: only its own GPU visible (it sees it as cuda:0)."""
    return {**base, "CUDA_VISIBLE_DEVICES": str(gpu.index)}


def child_argv(home: str | None, run_args: Sequence[str], supervisor_pid: int) -> list[str]:
    """``wan22 [--home HOME] --json queue run RUN_ARGS`` for one runner of the group (no home:
    the child resolves the same data folder as this process, from the same environment)."""
    return [
        *module_command("wan22_desktop.cli"),  # the bundle's own `wan22` there (ADR 0023)
        *(["--home", home] if home is not None else []),
        "--json",
        "queue",
        "run",
        *run_args,
        "--gpu-mode",
        "throughput",
        "--group-supervisor",
        str(supervisor_pid),
    ]


def summarize(children: Sequence[Child], still_queued: int) -> dict[str, Any]:
    """The group's summary: the jobs of every child together, and each child's own line."""
    total: dict[str, list[int]] = {k: [] for k in SUMMARY_KEYS}
    runners = []
    for c in children:
        s = c.summary or {}
        for k in SUMMARY_KEYS:
            total[k] += list(s.get(k, ()))
        runners.append(
            {
                "runner": c.name,
                "pid": c.proc.pid,
                "exit_code": c.proc.returncode,
                "stopped_reason": s.get("stopped_reason")
                or f"died without a summary (exit code {c.proc.returncode})"
                + (f": {c.last_error}" if c.last_error else ""),
                **{k: list(s.get(k, ())) for k in SUMMARY_KEYS},
            }
        )
    return {**{k: sorted(v) for k, v in total.items()}, "queued": still_queued, "runners": runners}


class RunnerGroup:
    """Starts one child runner per GPU and supervises them until all have stopped."""

    def __init__(
        self,
        db: Database,
        home: str | None,
        gpus: Sequence[GPU],
        run_args: Sequence[str],
        *,
        json_lines: bool,
        say: Callable[[str], None] = lambda line: print(line, flush=True),
        lease_ttl_s: float = 30.0,
    ) -> None:
        self.db, self.home, self.gpus, self.run_args = db, home, tuple(gpus), list(run_args)
        self.json_lines, self.say, self.lease_ttl_s = json_lines, say, lease_ttl_s
        self.children: list[Child] = []
        self.interrupted = False
        self.me = RunnerIdentity.current()
        self._lock = threading.Lock()

    def run(self) -> dict[str, Any]:
        """Run the group to its end; the summary (see ``summarize``)."""
        holds_lease = not self.db.shared
        if holds_lease:  # SQLite: the group works this folder's queue, nobody else
            acquire_lease(self.db, self.me, ttl_s=self.lease_ttl_s)
        restore = self._forward_signals()
        try:
            self._note(
                f"throughput mode: {len(self.gpus)} GPUs, one runner each "
                f"({', '.join(f'gpu{g.index}' for g in self.gpus)})"
            )
            for gpu in self.gpus:
                if self.interrupted:  # Ctrl-C while starting: start no more
                    break
                self._start(gpu)
            self._supervise(holds_lease)
        finally:
            restore()
            for c in self.children:  # the parent is leaving: no child outlives it unasked
                if c.proc.poll() is None:
                    c.proc.send_signal(signal.SIGTERM)
            for c in self.children:
                try:
                    c.proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    c.proc.kill()
                    c.proc.wait()
                for t in c.readers:
                    t.join(timeout=5)
            if holds_lease:
                release_lease(self.db, self.me)
        return summarize(self.children, q.counts_by_status(self.db).get("queued", 0))

    def stop(self) -> None:
        """Ctrl-C / SIGTERM: every child stops as its own Ctrl-C would (its job stays queued)."""
        self.interrupted = True
        for c in self.children:
            if c.proc.poll() is None:
                c.proc.send_signal(signal.SIGINT)

    def _start(self, gpu: GPU) -> None:
        proc = subprocess.Popen(
            child_argv(self.home, self.run_args, os.getpid()),
            env=child_env(dict(os.environ), gpu),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            # Its own session: a terminal's Ctrl-C reaches only this process, which forwards it
            # once, so every child sees exactly one stop.
            start_new_session=True,
        )
        child = Child(str(gpu.index), proc)
        self.children.append(child)
        child.readers = [
            threading.Thread(target=self._relay_out, args=(child,), daemon=True),
            threading.Thread(target=self._relay_err, args=(child,), daemon=True),
        ]
        for t in child.readers:
            t.start()
        self._note(
            f"{child.name}: runner pid {proc.pid} started (CUDA_VISIBLE_DEVICES={gpu.index})"
        )

    def _supervise(self, holds_lease: bool) -> None:
        last_beat = time.monotonic()
        reported: set[int] = set()
        while True:
            running = [c for c in self.children if c.proc.poll() is None]
            for c in self.children:
                if c.proc.returncode is not None and c.proc.pid not in reported:
                    reported.add(c.proc.pid)
                    for t in c.readers:
                        t.join(timeout=5)  # its last lines (the summary) first
                    self._report_exit(c)
            if not running:
                return
            if holds_lease and time.monotonic() - last_beat > self.lease_ttl_s / 3:
                heartbeat(self.db, self.me, ttl_s=self.lease_ttl_s)
                last_beat = time.monotonic()
            time.sleep(0.2)

    def _report_exit(self, c: Child) -> None:
        if c.summary is not None:
            s = c.summary
            self._note(
                f"{c.name}: runner stopped ({s.get('stopped_reason', '')}): "
                f"{len(s.get('done', ()))} done, {len(s.get('failed', ()))} failed, "
                f"{len(s.get('cancelled', ()))} cancelled"
            )
            return
        why = f": {c.last_error}" if c.last_error else ""
        self._note(
            f"{c.name}: runner pid {c.proc.pid} DIED (exit code {c.proc.returncode}){why}; "
            "it is not restarted, the other runners go on and take its job back",
            event="runner_died",
        )

    def _relay_out(self, c: Child) -> None:
        assert c.proc.stdout is not None
        for line in c.proc.stdout:
            line = line.rstrip("\n")
            try:
                data = json.loads(line)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                if line.strip():
                    self._emit_line(f"{c.name}: {line}")
                continue
            if "summary" in data:
                c.summary = data["summary"]
                continue
            if self.json_lines:
                self._emit_line(json.dumps({**data, "runner": c.name}, ensure_ascii=False))
            elif text := _event_text(data):
                self._emit_line(f"{c.name}: {text}")

    def _relay_err(self, c: Child) -> None:
        assert c.proc.stderr is not None
        for line in c.proc.stderr:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            c.last_error = line.strip()
            if not self.json_lines:
                self._emit_line(f"{c.name}: {escape_control(line)}")
            else:
                print(f"{c.name}: {line}", file=sys.stderr, flush=True)

    def _note(self, text: str, event: str = "group") -> None:
        if self.json_lines:
            self._emit_line(json.dumps({"event": event, "job_id": None, "message": text}))
        else:
            self._emit_line(text)

    def _emit_line(self, line: str) -> None:
        with self._lock:
            self.say(line)

    def _forward_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(_signum: int, _frame: Any) -> None:
            self.stop()

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for s, h in old.items():
                signal.signal(s, h)

        return restore


def _event_text(ev: dict[str, Any]) -> str:
    """A child's JSON event as one line of text; progress is left out (several bars at once
    would be noise: ``wan22 queue list`` shows every job's step)."""
    kind, job_id, message = ev.get("event"), ev.get("job_id"), str(ev.get("message") or "")
    if kind in ("progress", "idle", "worker", "stopped", None):  # "stopped": the summary says it
        return ""
    prefix = f"job {job_id}: " if job_id is not None else ""
    return escape_control(f"{prefix}{event_word(kind, ev.get('data'))} {message}".strip())


EVENT_WORDS = {
    "claimed": "started",
    "planned": "plan",
    "done": "done ->",
    "failed": "FAILED:",
    "cancelled": "cancelled:",
    "requeued": "left queued:",
}


def event_word(kind: str, data: Any) -> str:
    """How a runner event's line starts in ``queue run``'s text output (one runner or a group)."""
    if kind == "requeued" and isinstance(data, dict) and "vram_headroom" in data:
        return "queued again:"  # the out-of-memory fallback, not a stop
    return EVENT_WORDS.get(kind, kind)
