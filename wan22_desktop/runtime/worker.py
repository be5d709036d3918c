"""``python -m wan22_desktop.runtime.worker``: runs generation jobs in a process of its own.

Commands arrive as protocol JSON lines on stdin; events leave on the process's *original* stdout,
which is set aside at start-up while fd 1 is pointed at stderr, so a library that prints can
never corrupt the protocol (its text lands in the worker log instead).

Why a separate process: torch/CUDA crashes, OOMs and hangs must never take the GUI or the queue
runner down. The worker stays up between jobs and keeps the loaded pipeline when the next job
needs the same checkpoint and plan (loading A14B takes minutes). A reader thread answers pings
and cancels while the main thread computes; when stdin closes (the parent died) the job is
cancelled at its next step and the process exits, with a hard exit after a grace period in case
the job is stuck inside one long operation, so no orphan keeps a GPU busy.

Under ``torchrun`` (several GPUs) rank 0 speaks the protocol and passes each command to the
other ranks with a broadcast; the cancel flag is broadcast at every step so all ranks stop at
the same step.

A job runs through ``engine/wan/pipelines/job.run_job``, the same path as ``wan22 generate``
(extend the prompt, load or reuse the pipeline, encode, sample, decode, save); this module only
adapts it to the protocol. The model code behind it is a ``job.Engine`` (load / generate /
release); ``WAN22_WORKER_BACKEND=module:attr`` selects another one (the supervision tests use a
small real torch loop so they can crash, hang and cancel it at will).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from wan22_desktop.errors import Cancelled, Wan22Error
from wan22_desktop.runtime import protocol as P

log = logging.getLogger("wan22_desktop.worker")

BACKEND_ENV = "WAN22_WORKER_BACKEND"
DEFAULT_BACKEND = "wan22_desktop.engine.wan.pipelines.job:WanEngine"
PARENT_GONE_GRACE_S = 10.0  # after stdin closes: time for the job to stop at a step boundary
PARENT_POLL_S = 1.0
# Pipeline phases the protocol does not name are reported as the nearest one it does.
PHASE_ALIASES = {"image_encoding": "text_encoding"}


def load_backend(spec: str | None = None) -> Any:
    """The model code (``job.Engine``): ``WanEngine``, or the one ``WAN22_WORKER_BACKEND`` names."""
    spec = spec or os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)()


# ---- the event channel ------------------------------------------------------------------------


class EventChannel:
    """Thread-safe writer of protocol lines; a no-op on ranks other than 0."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, msg: P.Message) -> None:
        if self._stream is None:
            return
        with self._lock:
            try:
                self._stream.write(msg.to_line())
                self._stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                self._stream = None  # the parent is gone; the stdin reader notices and ends us


def take_stdout_for_events() -> TextIO:
    """Keep the real stdout for events and send everything else written to fd 1 to stderr."""
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(fd, "w", encoding="utf-8", buffering=1)


# ---- progress inside one job ------------------------------------------------------------------


@dataclass
class JobProgress:
    """What the running job tells the runner: phases, steps, previews; it also answers cancels
    (``Cancelled`` at a phase start or after a step) and samples the memory peak. The seconds per
    phase are the job's ``PhaseClock``'s, which calls ``phase``."""

    job_id: int
    channel: EventChannel
    cancel: threading.Event
    preview_dir: str | None = None
    preview_every: int = 5
    preview_taehv: str | None = None  # decode previews with this TAEHV file (else colours)
    # The run's sigma schedule and timesteps (``preview_schedule``): previews show the x0
    # estimate instead of the noisy latents; None: the latents as they are.
    preview_sigmas: tuple[float, ...] | None = None
    preview_timesteps: tuple[int, ...] | None = None
    sync_cancel: Callable[[bool], bool] = lambda flag: flag  # multi-rank: rank 0's flag for all
    last_phase: str | None = None
    last_step: int | None = None
    peak_cpu_bytes: int = 0
    _step_started: float = field(default_factory=time.perf_counter)
    _step_times: list[float] = field(default_factory=list)
    _before: Any = None  # the latents before a preview step (for its x0 estimate)

    def phase(self, name: str) -> None:
        self._sample_memory()
        self._step_started = time.perf_counter()
        name = PHASE_ALIASES.get(name, name)
        if name != self.last_phase:
            self.last_phase = name
            self.channel.emit(P.Phase(self.job_id, name))
        self.check_cancel()

    def check_cancel(self) -> None:
        if self.sync_cancel(self.cancel.is_set()):
            raise Cancelled("cancelled by the user")

    def step(self, info: Any) -> None:
        """After every denoising step (``loop.StepInfo``)."""
        step, total = info.step, info.total
        now = time.perf_counter()
        self._step_times.append(now - self._step_started)
        self._step_started = now
        self.last_step = step
        recent = self._step_times[-5:]
        per_step = sum(recent) / len(recent)
        self.channel.emit(
            P.Step(
                self.job_id,
                step,
                total,
                int(info.timestep),
                info.expert,
                round(1.0 / per_step, 4) if per_step > 0 else None,
                round(per_step * (total - step), 2),
            )
        )
        if self._previews_at(step, total):
            self._preview(step, self._denoised(info))
        if self._previews_at(step + 1, total) and hasattr(info.latents, "detach"):
            self._before = info.latents.detach().clone()  # one latent copy, for the next x0
        if step % 5 == 0 or step == total:
            self._sample_memory()
        self.check_cancel()

    def _previews_at(self, step: int, total: int) -> bool:
        return bool(
            self.preview_dir
            and self.preview_every > 0
            and step <= total
            and (step % self.preview_every == 0 or step == total)
        )

    def _denoised(self, info: Any) -> Any:
        """The x0 estimate after step ``s`` (what the video is heading for; the latents
        themselves are mostly noise early on): with the latents ``x_{s-1}`` kept from the step
        before, ``v = (x_s - x_{s-1}) / (sigma_s - sigma_{s-1})`` and ``x0 = x_s - sigma_s v``
        (flow matching; the model's own estimate for Euler, the solver's effective one for
        UniPC and DPM++). The latents as they are when the step before was not kept or the
        schedule does not match the loop's timesteps."""
        before, self._before = self._before, None
        sig, ts, s, x = self.preview_sigmas, self.preview_timesteps, info.step, info.latents
        if (
            before is None
            or sig is None
            or ts is None
            or not 1 <= s < len(sig)
            or s > len(ts)
            or int(ts[s - 1]) != int(info.timestep)
            or getattr(before, "shape", None) != getattr(x, "shape", None)
        ):
            return x
        now, prev = sig[s], sig[s - 1]
        if prev - now <= 1e-6:
            return x
        return x - now * (x - before) / (now - prev)

    def _preview(self, step: int, latents: Any) -> None:
        from wan22_desktop.engine.preview import write_preview

        if self.preview_dir is None:
            return
        target = Path(self.preview_dir) / f"job-{self.job_id}.png"
        if self.preview_taehv and hasattr(latents, "detach"):
            if self._preview_taehv(step, latents, target):
                return
        try:
            array = (
                latents.detach().float().cpu().numpy()
                if hasattr(latents, "detach")
                else np.asarray(latents)
            )
            if array.ndim == 5:  # [B, C, F, H, W]
                array = array[0]
            path = write_preview(array, target)
        except Exception as exc:  # noqa: BLE001 - a preview must never fail a render
            log.warning("preview failed: %s", exc)
            return
        self.channel.emit(P.Preview(self.job_id, step, str(path)))

    def _preview_taehv(self, step: int, latents: Any, target: Path) -> bool:
        """A near-true preview through the tiny VAE; False (after one log line for the job) when
        it cannot run, so the caller writes the colour preview instead."""
        from wan22_desktop.engine.taehv_preview import previewer_for, write_taehv_preview

        try:
            lat = latents[0] if latents.ndim == 5 else latents
            frames = previewer_for(str(self.preview_taehv)).frames(lat)
            files = write_taehv_preview(frames, target)
        except Exception as exc:  # noqa: BLE001 - a preview must never fail a render
            text = str(exc).strip().splitlines() or [type(exc).__name__]
            reason = getattr(exc, "message", None) or text[0][:200]
            log.warning("tiny VAE preview unavailable (%s); fast colour previews instead", reason)
            self.preview_taehv = None  # once per job: the rest of it uses the colours
            return False
        animation = str(files.animation) if files.animation else None
        self.channel.emit(P.Preview(self.job_id, step, str(files.image), animation))
        return True

    def _sample_memory(self) -> None:
        try:
            import psutil

            self.peak_cpu_bytes = max(self.peak_cpu_bytes, psutil.Process().memory_info().rss)
        except Exception:  # noqa: BLE001 - psutil missing or unsupported platform
            pass


def preview_schedule(
    request: dict[str, Any],
) -> tuple[tuple[float, ...] | None, tuple[int, ...] | None]:
    """The sigmas (float32, N+1) and timesteps a request samples with, as its pipeline builds
    them (``make_solver(solver, steps, shift)``); ``(None, None)`` when they cannot be made.
    ``JobProgress`` checks them against the loop's timesteps before using them."""
    try:
        from wan22_desktop.engine.wan.solvers import make_solver
        from wan22_desktop.request import GenerationRequest

        r = GenerationRequest.from_dict(request)
        solver = make_solver(r.solver, r.sample_steps, r.sample_shift)
        return (
            tuple(float(x) for x in solver.sigmas.tolist()),
            tuple(int(t) for t in solver.timesteps.tolist()),
        )
    except Exception:  # noqa: BLE001 - previews then show the latents as they are
        return None, None


# ---- failures ---------------------------------------------------------------------------------


def classify(exc: BaseException) -> tuple[str, str, str | None]:
    """``(kind, one-line message, hint)`` of a failed job, by the exception's type: the engine
    raises typed errors (``errors.py``: ``OutOfMemory``, ``CheckpointError``, ``UserInputError``,
    ``DiskFull``, ``Cancelled``...) whose ``kind`` crosses the process boundary; anything else
    is a bug ("internal")."""
    if isinstance(exc, Cancelled):
        return exc.kind, "cancelled by the user", None
    if isinstance(exc, Wan22Error):
        return exc.kind, exc.message, exc.hint
    text = str(exc).strip().splitlines()
    return (
        "internal",
        f"unexpected {type(exc).__name__}: {(text[0] if text else '')[:300]}".rstrip(": "),
        "the worker log has the details; please report it",
    )


# ---- the worker -------------------------------------------------------------------------------


class Worker:
    """Owns the loaded pipeline; executes commands one at a time on the main thread."""

    def __init__(
        self, channel: EventChannel, backend: Any, *, rank: int = 0, world_size: int = 1
    ) -> None:
        self.channel = channel
        self.backend = backend
        self.rank, self.world_size = rank, world_size
        self.commands: queue.Queue[P.Message | None] = queue.Queue()
        self.cancel = threading.Event()
        self.parent_gone = threading.Event()
        self.current_job: int | None = None
        self.cancelled_ids: set[int] = set()
        self._job_lock = threading.Lock()  # current_job and the cancel flag change together
        self._cache: Any = None  # job.PipelineCache, made on the first job (it imports torch)

    # -- the reader side (rank 0 only): runs in a thread, never blocks on the job

    def read_commands(self, stream: TextIO) -> None:
        for line in stream:
            if not line.strip():
                continue
            try:
                msg = P.decode(line, P.COMMANDS)
            except P.ProtocolError as exc:
                self.channel.emit(P.Log("error", f"bad command ignored: {exc}"))
                continue
            if isinstance(msg, P.Ping):
                self.channel.emit(P.Pong())
            elif isinstance(msg, P.Cancel):
                with self._job_lock:
                    self.cancelled_ids.add(msg.job_id)  # also a job still waiting in the queue
                    if msg.job_id == self.current_job:
                        self.cancel.set()
            else:
                self.commands.put(msg)
                if isinstance(msg, P.Shutdown):
                    self.cancel.set()
                    return
        self.on_parent_gone("the control pipe closed")

    def on_parent_gone(self, why: str) -> None:
        if self.parent_gone.is_set():
            return
        log.warning("parent gone (%s): stopping", why)
        if self.rank != 0:
            os._exit(3)  # a rank waits in collectives that will never complete: just go
        self.parent_gone.set()
        self.cancel.set()
        self.commands.put(None)
        # A job stuck inside one long operation never reaches a step boundary: end it anyway.
        timer = threading.Timer(PARENT_GONE_GRACE_S, lambda: os._exit(3))
        timer.daemon = True
        timer.start()

    def watch_parent(self, parent_pid: int) -> None:
        while not self.parent_gone.wait(PARENT_POLL_S):
            if os.getppid() != parent_pid:
                self.on_parent_gone(f"parent process {parent_pid} exited")

    # -- the main side

    def next_command(self) -> P.Message | None:
        msg = self.commands.get() if self.rank == 0 else None
        if self.world_size > 1:
            msg = _broadcast_command(msg)
        return msg

    def serve(self) -> int:
        while True:
            msg = self.next_command()
            if msg is None or isinstance(msg, P.Shutdown):
                self.release()
                return 0
            if isinstance(msg, P.Release):
                self.release()
                self.channel.emit(P.Log("info", "pipeline released"))
            elif isinstance(msg, P.RunJob):
                self.run_job(msg)

    def release(self) -> None:
        if self._cache is not None:
            self._cache.release()

    def run_job(self, cmd: P.RunJob) -> None:
        """One job through ``job.run_job`` (the path ``wan22 generate`` takes too); this adapter
        only turns its phases, steps and result into protocol events."""
        from wan22_desktop.engine.wan.pipelines.clock import PhaseClock
        from wan22_desktop.engine.wan.pipelines.job import PipelineCache, pipeline_key, run_job
        from wan22_desktop.request import GenerationRequest
        from wan22_desktop.runtime.planner import Plan

        with self._job_lock:
            self.current_job = cmd.job_id
            if not self.parent_gone.is_set() and cmd.job_id not in self.cancelled_ids:
                self.cancel.clear()
            else:
                self.cancel.set()  # cancelled before it started: stops at the first check
        progress = JobProgress(
            cmd.job_id,
            self.channel,
            self.cancel,
            cmd.preview_dir if self.rank == 0 else None,  # one rank writes the preview
            cmd.preview_every,
            cmd.preview_taehv,
            *preview_schedule(cmd.request),
            sync_cancel=_broadcast_flag if self.world_size > 1 else (lambda f: f),
        )
        clock = PhaseClock(progress.phase)
        if self._cache is None:
            self._cache = PipelineCache(self.backend)
        _reset_gpu_peak()
        try:
            request = GenerationRequest.from_dict(cmd.request)
            plan = Plan.from_dict(cmd.plan)
            warm = self._cache.is_warm(pipeline_key(cmd.checkpoint, plan))
            self.channel.emit(P.JobStarted(cmd.job_id, warm=warm))
            progress.check_cancel()
            result = run_job(
                request,
                plan,
                cmd.checkpoint,
                cmd.output_path,
                cache=self._cache,
                clock=clock,
                on_step=progress.step,
                thumbnail=cmd.thumbnail_path,
            )
            self.channel.emit(
                P.Done(
                    cmd.job_id,
                    [str(p) for p in result.outputs],
                    result.seed,
                    result.prompt,
                    str(result.thumbnail) if result.thumbnail else None,
                    result.prompt_extension_warning,
                    result.timings,
                    _gpu_peak(),
                    progress.peak_cpu_bytes or None,
                    result.frame_num,
                    result.size[0],
                    result.size[1],
                    result.fps,
                    list(result.notes),
                    getattr(result, "sampling", None) or None,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a Failed event
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            kind, message, hint = classify(exc)
            phase = PHASE_ALIASES.get(clock.current or "", clock.current)
            if kind != Cancelled.kind:
                log.error("job %s failed in %s: %s", cmd.job_id, phase, message, exc_info=exc)
            self.channel.emit(P.Failed(cmd.job_id, kind, message, hint, phase, progress.last_step))
        finally:
            self.current_job = None


# ---- torch helpers (imported late: the module itself stays importable without torch) ----------


def _reset_gpu_peak() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def _gpu_peak() -> int | None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return int(torch.cuda.max_memory_allocated())
    return None


def _broadcast_command(msg: P.Message | None) -> P.Message | None:
    """Rank 0's command, on every rank (as its protocol line, so every rank decodes the same)."""
    from wan22_desktop.engine.wan.parallel import broadcast_object

    line = broadcast_object(None if msg is None else msg.to_line())
    return None if line is None else P.decode(str(line), P.COMMANDS)


def _broadcast_flag(flag: bool) -> bool:
    """Rank 0's cancel flag on every rank, so all ranks leave the loop at the same step."""
    from wan22_desktop.engine.wan.parallel import broadcast_object

    return bool(broadcast_object(flag))


def _die_with_parent() -> None:
    """Linux: SIGKILL this rank when its parent (torchrun's agent) dies, however it dies."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(
                1, int(signal.SIGKILL)
            )  # PR_SET_PDEATHSIG
        except OSError:
            pass


def _ready(channel: EventChannel) -> None:
    torch_version, devices = None, []
    try:
        import torch

        torch_version = torch.__version__
        if torch.cuda.is_available():
            devices = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception as exc:  # noqa: BLE001 - reported, the runner decides
        channel.emit(P.Log("warning", f"torch is not usable: {exc}"))
    channel.emit(P.Ready(os.getpid(), torch_version, devices))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wan22_desktop.runtime.worker")
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="exit when this process is no longer our parent",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    from wan22_desktop.logs import setup_stream_logging

    setup_stream_logging(  # redacted, like every log: stderr is the worker log file
        sys.stderr,
        level=args.log_level,
        fmt="%(asctime)s worker[%(process)d] %(levelname)s %(message)s",
    )
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    events = take_stdout_for_events()
    channel = EventChannel(events if rank == 0 else None)
    worker = Worker(channel, load_backend(), rank=rank, world_size=world)
    if world > 1:
        from wan22_desktop.engine.wan.parallel import init_distributed

        _die_with_parent()
        init_distributed()  # nccl on CUDA, gloo on CPU; from torchrun's environment
    if rank == 0:
        threading.Thread(
            target=worker.read_commands, args=(sys.stdin,), daemon=True, name="commands"
        ).start()
    parent = args.parent_pid if args.parent_pid is not None else os.getppid()
    threading.Thread(target=worker.watch_parent, args=(parent,), daemon=True, name="parent").start()
    _ready(channel)
    try:
        return worker.serve()
    finally:
        if world > 1:
            from wan22_desktop.engine.wan.parallel import shutdown_distributed

            shutdown_distributed()


if __name__ == "__main__":
    sys.exit(main())
