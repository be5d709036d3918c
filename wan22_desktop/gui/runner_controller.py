"""``RunnerController``: the GUI's one handle on the queue runner for its data dir.

The runner (``wan22_desktop.runtime.runner.QueueRunner``, plain Python, no Qt) runs in a daemon thread;
its events arrive on that thread and are turned into Qt signals on the GUI thread here. Progress
is coalesced: at most one ``sig_job_progress`` per job per ``COALESCE_MS`` (10 per second), however
fast the worker reports. If another process holds the queue lease (say a headless
``wan22 queue run``), the window stays read-only — it shows the queue from the database and who
runs it — and retries quietly until the lease is free; it never takes a live lease over.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from wan22_desktop.errors import LeaseHeld, OperationError, Wan22Error
from wan22_desktop.paths import app_paths
from wan22_desktop.runtime.hardware import GPU
from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions
from wan22_desktop.runtime.runner_group import RunnerGroup

log = logging.getLogger(__name__)

COALESCE_MS = 100
LEASE_RETRY_MS = 5000

# Modes
STOPPED = "stopped"
RUNNING = "running"
READ_ONLY = "read_only"  # another runner holds the lease


class RunnerController(QObject):
    """Owns the runner thread; everything public is called on the GUI thread."""

    # ---- Signals
    sig_state_changed = Signal(str, str)
    """The runner's mode changed. Args: mode (running/read_only/stopped), detail."""

    sig_job_progress = Signal(int, object)
    """Live progress of the running job. Args: job id, dict with step, total, phase, eta_s and
    preview_path (each may be None)."""

    sig_job_event = Signal(str, int, str)
    """A job changed state (claimed, planned, done, failed, cancelled, requeued). Args: kind,
    job id, message."""

    sig_queue_idle = Signal()
    """The runner has nothing left to do."""

    def __init__(
        self, ctx: Any, *, start: bool = True, runner_factory: Callable[..., Any] | None = None
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.mode = STOPPED
        self.detail = ""
        self._factory = runner_factory
        self._runner: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending: dict[int, dict[str, Any]] = {}
        self._progress: dict[int, dict[str, Any]] = {}
        self._flush_timer = QTimer(self, interval=COALESCE_MS)
        self._flush_timer.timeout.connect(self._flush)
        self._retry_timer = QTimer(self, interval=LEASE_RETRY_MS, singleShot=True)
        self._retry_timer.timeout.connect(self.start)
        self._shutting_down = False
        self._busy: set[int] = set()  # jobs this window's runner has claimed and not finished
        self._restart_pending = False  # the GPU mode changed: restart once no job runs
        ctx.events.sig_settings_changed.connect(self._setting_changed)
        if start:
            self.start()

    # ---- state

    @property
    def connected(self) -> bool:
        """True while this window runs the queue (so it can release the GPU, etc.)."""
        return self.mode == RUNNING

    def progress(self, job_id: int) -> dict[str, Any] | None:
        """The last coalesced progress of ``job_id`` seen by this window."""
        return self._progress.get(job_id)

    # ---- control

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        factory = self._factory or _make_runner
        self._shutting_down = False
        self._runner = factory(self.ctx, self._on_event_from_thread)
        self._thread = threading.Thread(target=self._run, name="wan22-runner", daemon=True)
        self._flush_timer.start()
        self._thread.start()

    def release_gpu(self) -> None:
        """Ask the runner to stop its worker (after the running job), freeing GPU memory."""
        if self._runner is not None and self.connected:
            if isinstance(self._runner, GroupRunner):
                self.ctx.notifier.info(
                    self.tr(
                        "In the one-job-per-GPU mode each GPU's runner keeps its model loaded; "
                        "choose another GPU mode in Settings to free the GPUs."
                    )
                )
                return
            self._runner.release_worker()
            self.ctx.notifier.info(self.tr("The GPU will be released when the current job ends."))

    def _setting_changed(self, key: str) -> None:
        """A new GPU mode takes effect as soon as no job runs (never interrupting one)."""
        if key != "gpu_mode":
            return
        self._restart_pending = True
        self._restart_if_idle()

    def _restart_if_idle(self) -> None:
        if not self._restart_pending or self._busy or self._shutting_down:
            return
        self._restart_pending = False
        if self.mode != RUNNING:  # stopped or read-only: the next start builds the new runner
            return
        log.info("GPU mode changed to %s: restarting the queue runner", self._gpu_mode())
        self.shutdown()
        self.start()

    def _gpu_mode(self) -> str:
        return str(self.ctx.settings.get("gpu_mode"))

    def shutdown(self, timeout_s: float = 15.0) -> None:
        """Stop the runner (the running job goes back to the queue) and wait for its thread."""
        self._shutting_down = True
        self._retry_timer.stop()
        self._flush_timer.stop()
        if self._runner is not None:
            self._runner.stop()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("runner thread did not stop within %.0f s", timeout_s)
        self._thread = None

    # ---- the runner thread

    def _run(self) -> None:
        try:
            self._runner.run()  # "running" once it reports "started" (it holds the lease then)
        except Wan22Error as exc:
            message, hint = exc.message, exc.hint or ""
            # db.lease raises a plain OperationError today; the text check goes once it raises
            # LeaseHeld everywhere.
            held = isinstance(exc, LeaseHeld) or "queue is being run by" in message
            self.ctx.tasks.post(lambda: self._runner_refused(message, hint, held))
        except Exception as exc:  # noqa: BLE001 - shown as a notice; the window stays up
            log.exception("queue runner crashed")
            # Bind the exception now: Python unbinds ``exc`` when the except block ends, and the
            # lambda runs later on the GUI thread.
            crash: BaseException = exc
            self.ctx.tasks.post(lambda: self._runner_crashed(crash))
        else:
            self.ctx.tasks.post(lambda: self._set_mode(STOPPED, ""))

    def _on_event_from_thread(self, event: Any) -> None:
        kind, job_id = event.kind, event.job_id
        if kind == "progress" and job_id is not None:
            update = _progress_fields(event)
            with self._lock:
                self._pending.setdefault(job_id, {}).update(update)
            return
        message = event.message or ""
        self.ctx.tasks.post(lambda: self._deliver(kind, job_id, message))

    # ---- on the GUI thread

    def _deliver(self, kind: str, job_id: int | None, message: str) -> None:
        if kind == "started":
            self._set_mode(RUNNING, message)
            return
        if kind == "stopped":
            self._set_mode(STOPPED, message)
            return
        if kind == "idle":
            self.sig_queue_idle.emit()
            self._restart_if_idle()
            return
        if job_id is None:
            return
        self._flush()
        if kind == "claimed":
            self._busy.add(job_id)
        if kind in ("done", "failed", "cancelled", "requeued"):
            self._progress.pop(job_id, None)
            self._busy.discard(job_id)
        self.sig_job_event.emit(kind, job_id, message)
        self.ctx.events.sig_queue_changed.emit()
        if kind == "done":
            self.ctx.events.sig_history_changed.emit()
        self._restart_if_idle()

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for job_id, update in pending.items():
            merged = {**self._progress.get(job_id, {}), **update}
            self._progress[job_id] = merged
            self.sig_job_progress.emit(job_id, dict(merged))

    def _runner_refused(self, message: str, hint: str, held: bool) -> None:
        self._thread = None
        if held:
            self._set_mode(READ_ONLY, message)
            if not self._shutting_down:
                self._retry_timer.start()
        else:
            self._set_mode(STOPPED, message)
            self.ctx.notifier.error(Wan22Error(message, hint))

    def _runner_crashed(self, exc: BaseException) -> None:
        """Show what went wrong in words (the traceback is already in the log)."""
        self._thread = None
        reason = str(exc) or type(exc).__name__
        self._set_mode(STOPPED, reason)
        self.ctx.notifier.error(
            OperationError(
                self.tr("The queue runner stopped: %1").replace("%1", reason),
                self.tr("the details are in the log file"),
            )
        )

    def _set_mode(self, mode: str, detail: str) -> None:
        if (mode, detail) == (self.mode, self.detail):
            return
        self.mode, self.detail = mode, detail
        self.sig_state_changed.emit(mode, detail)


def _progress_fields(event: Any) -> dict[str, Any]:
    """What the queue view shows, picked from a runner progress event and its worker message."""
    data = event.data
    out: dict[str, Any] = {}
    if event.message:
        out["phase"] = event.message
    for name in ("step", "total", "eta_s", "phase"):
        value = getattr(data, name, None)
        if value is not None:
            out[name] = value
    if getattr(data, "type", None) == "preview" and getattr(data, "path", None):
        out["preview_path"] = data.path
        out["preview_step"] = data.step  # the same file is rewritten: this says it is new
        out["preview_animation"] = getattr(data, "animation", None) or ""
    return out


def worker_env() -> dict[str, str]:
    """The worker imports the same ``wan22_desktop`` as this window, installed or run from a
    checkout (then only ``PYTHONPATH`` finds it)."""
    package_root = str(Path(__file__).resolve().parents[2])
    current = os.environ.get("PYTHONPATH", "")
    paths = [package_root] + [p for p in current.split(os.pathsep) if p and p != package_root]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def _make_runner(ctx: Any, on_event: Callable[[Any], None]) -> QueueRunner | GroupRunner:
    """The real queue runner for this window's data dir and settings: in the one-job-per-GPU
    mode with several GPUs, a group of runner processes (``GroupRunner``)."""
    from wan22_desktop.downloader.catalog import comfyui_preview_dirs

    mode = str(ctx.settings.get("gpu_mode"))
    probed = ctx.hardware()
    if mode == "throughput" and probed is not None and len(probed.gpus) > 1:
        return GroupRunner(ctx, on_event, probed.gpus)
    options = RunnerOptions(
        forever=True,
        keep_awake=bool(ctx.settings.get("keep_awake")),
        max_interruptions=int(ctx.settings.get("max_attempts")),
        hang_factor=float(ctx.settings.get("hang_timeout_factor")),
        worker_env=worker_env(),
        gpu_mode=mode,
        preview=lambda: str(ctx.settings.get("live_preview")),  # asked at each job
        preview_dirs=comfyui_preview_dirs(str(ctx.settings.get("comfyui_dir"))),
    )
    # One probe per window: the runner waits (heartbeating) for the one the GUI started.
    hardware = probed or ctx.wait_hardware
    return QueueRunner(ctx.db, ctx.paths, options, on_event=on_event, hardware=hardware)


def home_arg(data: Path) -> str | None:
    """``--home`` for a child ``wan22`` that must use this window's data folder (None: the
    default folders, which the child resolves the same way)."""
    if app_paths().data == data:
        return None
    return str(data.parent)


class GroupRunner:
    """``queue run --gpu-mode throughput`` for the GUI: one child runner process per GPU
    (``runtime.runner_group.RunnerGroup``, which holds this folder's lease for the group), behind
    the surface the controller uses (``run``/``stop``/``release_worker``). The children's JSON
    lines become the same events a ``QueueRunner`` sends; "idle" once every child is idle."""

    def __init__(self, ctx: Any, on_event: Callable[[Any], None], gpus: Sequence[GPU]) -> None:
        self.on_event, self.gpus = on_event, tuple(gpus)
        self.group = RunnerGroup(
            ctx.db,
            home_arg(ctx.base_paths.data),
            self.gpus,
            ["--forever"] + ([] if ctx.settings.get("keep_awake") else ["--no-keep-awake"]),
            json_lines=True,
            say=self._line,
        )
        self._started = False
        self._idle: set[str] = set()

    def run(self) -> Any:
        return self.group.run()

    def stop(self, **_: Any) -> None:
        self.group.stop()

    def release_worker(self) -> None:
        """Each child keeps its worker (the controller says so instead)."""

    def _line(self, line: str) -> None:
        try:
            ev = json.loads(line)
        except ValueError:
            log.info("%s", line)
            return
        if not isinstance(ev, dict):
            return
        kind, runner = str(ev.get("event") or ""), str(ev.get("runner") or "")
        message = str(ev.get("message") or "")
        if kind == "group":
            log.info("%s", message)
            if not self._started:  # the group holds the lease and starts its children
                self._started = True
                self._emit("started", None, message)
            return
        if kind == "runner_died":
            log.warning("%s", message)
            return
        if kind in ("started", "stopped", "worker"):  # each child's own; the group's count
            return
        if kind == "idle":
            self._idle.add(runner)
            if len(self._idle) >= len(self.gpus):
                self._emit("idle", None, message)
            return
        if kind == "claimed":
            self._idle.discard(runner)
        data = ev.get("data")
        self._emit(
            kind,
            ev.get("job_id"),
            message,
            SimpleNamespace(**data) if isinstance(data, dict) else None,
        )

    def _emit(self, kind: str, job_id: Any, message: str, data: Any = None) -> None:
        self.on_event(SimpleNamespace(kind=kind, job_id=job_id, message=message, data=data))
