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

The model code is reached through a ``PipelineBackend`` (load / generate / release);
``WAN22_WORKER_BACKEND=module:attr`` selects another one (the supervision tests use a small real
torch loop so they can crash, hang and cancel it at will).
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

from wan22_desktop.errors import UserInputError, Wan22Error
from wan22_desktop.runtime import protocol as P

log = logging.getLogger("wan22_desktop.worker")

BACKEND_ENV = "WAN22_WORKER_BACKEND"
DEFAULT_BACKEND = "wan22_desktop.runtime.worker:WanBackend"
PARENT_GONE_GRACE_S = 10.0  # after stdin closes: time for the job to stop at a step boundary
PARENT_POLL_S = 1.0
OOM_HINT = (
    "turn on offload_model and T5 on the CPU, choose a smaller size or fewer frames, or "
    "use the TI2V-5B model; `wan22 queue retry-safer ID` retries with every memory saver on"
)
# Plan fields that change what is loaded and where; the same values mean the pipeline can stay.
PIPELINE_KEY_FIELDS = (
    "task",
    "device",
    "nproc",
    "ulysses_size",
    "dit_fsdp",
    "t5_fsdp",
    "offload_model",
    "convert_model_dtype",
    "t5_cpu",
    "attention",
)


class JobCancelled(Exception):
    """Raised from the step callback to stop sampling at a step boundary."""


StepCallback = Callable[[int, int, float, "str | None", Any], None]


class PipelineBackend(Protocol):
    """The worker's view of the model code."""

    def load(self, checkpoint: str, task: str, plan: Mapping[str, Any]) -> Any:
        """Load every component the plan needs; the result is passed back to ``generate``."""

    def generate(
        self, pipeline: Any, request: Any, prompt: str, progress: JobProgress
    ) -> np.ndarray:
        """Run one job; return the video ``[3, F, H, W]`` float in [-1, 1]. Report phases with
        ``progress.phase(name)`` and call ``progress.step(...)`` after every denoising step
        (it raises ``JobCancelled`` when the job must stop)."""

    def release(self, pipeline: Any) -> None:
        """Free what ``load`` took (GPU memory first)."""


class WanBackend:
    """The Wan2.2 pipelines (``engine/wan/pipelines``), imported only when a job needs them."""

    # Pipeline phases the protocol does not name are reported as the nearest one it does.
    PHASE_ALIASES = {"image_encoding": "text_encoding", "preparing": None}

    def load(self, checkpoint: str, task: str, plan: Mapping[str, Any]) -> Any:
        import torch

        from wan22_desktop.engine.wan.pipelines import MemoryConfig, WanPipeline

        device = str(plan.get("device") or "cuda")
        # bf16 on CUDA is the official mode; the CPU runs tiny checkpoints in fp32.
        dtype = torch.float32 if device == "cpu" else torch.bfloat16
        memory = MemoryConfig(
            offload_model=bool(plan.get("offload_model")),
            convert_model_dtype=bool(plan.get("convert_model_dtype")),
            t5_cpu=bool(plan.get("t5_cpu")),
        )
        from wan22_desktop.engine.wan.pipelines.distributed import loading_memory

        memory = loading_memory(
            memory, dit_fsdp=bool(plan.get("dit_fsdp")), t5_fsdp=bool(plan.get("t5_fsdp"))
        )
        pipeline = WanPipeline.from_checkpoint(
            checkpoint, task, device=device, dtype=dtype, memory=memory
        )
        self._parallelize(pipeline, plan)
        return pipeline

    @staticmethod
    def _parallelize(pipeline: Any, plan: Mapping[str, Any]) -> None:
        """Ulysses and FSDP over the worker's ranks as the plan says (official
        ``--ulysses_size``, ``--dit_fsdp``, ``--t5_fsdp``). Transparent to the pipeline: every rank
        makes the same call and gets the full output."""
        from wan22_desktop.engine.wan.pipelines.distributed import parallelize

        parallelize(
            pipeline,
            ulysses_size=int(plan.get("ulysses_size") or 1),
            dit_fsdp=bool(plan.get("dit_fsdp")),
            t5_fsdp=bool(plan.get("t5_fsdp")),
        )

    def generate(
        self, pipeline: Any, request: Any, prompt: str, progress: JobProgress
    ) -> np.ndarray:
        from wan22_desktop.engine.wan.pipelines import Cancelled

        def on_step(info: Any) -> None:
            progress.step(info.step, info.total, info.timestep, info.expert, info.latents)

        def on_phase(name: str) -> None:
            name = self.PHASE_ALIASES.get(name, name)  # type: ignore[assignment]
            if name is not None and name != progress.current_phase:
                progress.phase(name)

        try:
            result = pipeline.generate(
                prompt,
                image=request.image,
                size=request.size,
                frame_num=request.frame_num,
                sample_steps=request.sample_steps,
                sample_shift=request.sample_shift,
                guidance=(request.guidance.low, request.guidance.high),
                solver=request.solver,
                seed=request.seed,
                negative_prompt=request.negative_prompt,
                callback=on_step,
                on_phase=on_phase,
            )
        except Cancelled as exc:
            raise JobCancelled() from exc
        return result.video

    def release(self, pipeline: Any) -> None:
        pass  # dropping the last reference frees it; the worker then empties the CUDA cache


def load_backend(spec: str | None = None) -> PipelineBackend:
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
    """Phases, steps, previews, cancellation and memory peaks of the running job."""

    job_id: int
    channel: EventChannel
    cancel: threading.Event
    preview_dir: str | None = None
    preview_every: int = 5
    sync_cancel: Callable[[bool], bool] = lambda flag: flag  # multi-rank: rank 0's flag for all
    current_phase: str | None = None
    last_step: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    peak_cpu_bytes: int = 0
    _phase_started: float = field(default_factory=time.perf_counter)
    _step_started: float | None = None
    _step_times: list[float] = field(default_factory=list)

    def phase(self, name: str) -> None:
        self._close_phase()
        self.current_phase = name
        self._phase_started = time.perf_counter()
        self.channel.emit(P.Phase(self.job_id, name))
        self.check_cancel()

    def _close_phase(self) -> None:
        if self.current_phase is not None:
            took = time.perf_counter() - self._phase_started
            self.timings[self.current_phase] = self.timings.get(self.current_phase, 0.0) + took
        self._sample_memory()

    def finish(self) -> dict[str, float]:
        self._close_phase()
        self.current_phase = None
        return {k: round(v, 4) for k, v in self.timings.items()}

    def check_cancel(self) -> None:
        if self.sync_cancel(self.cancel.is_set()):
            raise JobCancelled()

    def step(
        self, step: int, total: int, timestep: float, expert: str | None, latents: Any
    ) -> None:
        now = time.perf_counter()
        start = self._step_started if self._step_started is not None else self._phase_started
        self._step_times.append(now - start)
        self._step_started = now
        self.last_step = step
        recent = self._step_times[-5:]
        per_step = sum(recent) / len(recent)
        self.channel.emit(
            P.Step(
                self.job_id,
                step,
                total,
                int(timestep),
                expert,
                round(1.0 / per_step, 4) if per_step > 0 else None,
                round(per_step * (total - step), 2),
            )
        )
        if (
            self.preview_dir
            and self.preview_every > 0
            and (step % self.preview_every == 0 or step == total)
        ):
            self._preview(step, latents)
        if step % 5 == 0 or step == total:
            self._sample_memory()
        self.check_cancel()

    def _preview(self, step: int, latents: Any) -> None:
        from wan22_desktop.engine.preview import write_preview

        try:
            array = (
                latents.detach().float().cpu().numpy()
                if hasattr(latents, "detach")
                else np.asarray(latents)
            )
            if array.ndim == 5:  # [B, C, F, H, W]
                array = array[0]
            path = write_preview(array, Path(self.preview_dir) / f"job-{self.job_id}.png")
        except Exception as exc:  # noqa: BLE001 - a preview must never fail a render
            log.warning("preview failed: %s", exc)
            return
        self.channel.emit(P.Preview(self.job_id, step, str(path)))

    def _sample_memory(self) -> None:
        try:
            import psutil

            self.peak_cpu_bytes = max(self.peak_cpu_bytes, psutil.Process().memory_info().rss)
        except Exception:  # noqa: BLE001 - psutil missing or unsupported platform
            pass


# ---- failures ---------------------------------------------------------------------------------


def classify(exc: BaseException, phase: str | None) -> tuple[str, str, str | None]:
    """``(kind, one-line message, hint)`` for a job that raised ``exc`` during ``phase``."""
    if isinstance(exc, JobCancelled):
        return "cancelled", "cancelled by the user", None
    if _is_out_of_memory(exc):
        where = f" while {phase.replace('_', ' ')}" if phase else ""
        return "out_of_memory", f"the GPU ran out of memory{where}", OOM_HINT
    if isinstance(exc, Wan22Error):
        if phase == "loading" and isinstance(exc, UserInputError):
            return "checkpoint", exc.message, exc.hint
        return ("input" if isinstance(exc, UserInputError) else "internal"), exc.message, exc.hint
    if phase == "loading" and isinstance(exc, (OSError, KeyError, ValueError)):
        return (
            "checkpoint",
            f"the checkpoint could not be loaded: {_one_line(exc)}",
            "check the model folder with `wan22 models verify`, or download it again",
        )
    return (
        "internal",
        f"unexpected {type(exc).__name__}: {_one_line(exc)}",
        "the worker log has the details; please report it",
    )


def _is_out_of_memory(exc: BaseException) -> bool:
    names = {c.__name__ for c in type(exc).__mro__}
    if "OutOfMemoryError" in names:
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "CUDA out of memory" in text or "CUDA error: out of memory" in text
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


# ---- the worker -------------------------------------------------------------------------------


def pipeline_key(checkpoint: str, plan: Mapping[str, Any]) -> tuple:
    return (str(checkpoint),) + tuple(plan.get(k) for k in PIPELINE_KEY_FIELDS)


class Worker:
    """Owns the loaded pipeline; executes commands one at a time on the main thread."""

    def __init__(
        self, channel: EventChannel, backend: PipelineBackend, *, rank: int = 0, world_size: int = 1
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
        self._loaded: tuple[tuple, Any] | None = None

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
        if self._loaded is not None:
            _, pipeline = self._loaded
            self._loaded = None
            try:
                self.backend.release(pipeline)
            finally:
                del pipeline
                _free_memory()

    def run_job(self, cmd: P.RunJob) -> None:
        from wan22_desktop.request import GenerationRequest

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
            cmd.preview_dir,
            cmd.preview_every,
            sync_cancel=_broadcast_flag if self.world_size > 1 else (lambda f: f),
        )
        _reset_gpu_peak()
        try:
            request = GenerationRequest.from_dict(cmd.request)
            key = pipeline_key(cmd.checkpoint, cmd.plan)
            warm = self._loaded is not None and self._loaded[0] == key
            self.channel.emit(P.JobStarted(cmd.job_id, warm=warm))
            if not warm:
                self.release()
                progress.phase("loading")
                self._loaded = (key, self.backend.load(cmd.checkpoint, request.task, cmd.plan))
            prompt, warning = self._extend_prompt(request, progress, cmd.plan)
            video = self.backend.generate(self._loaded[1], request, prompt, progress)
            progress.phase("saving")
            outputs, thumb = self._save(video, request, cmd) if self.rank == 0 else ([], None)
            timings = progress.finish()
            _, frames, height, width = video.shape
            self.channel.emit(
                P.Done(
                    cmd.job_id,
                    outputs,
                    request.seed,
                    prompt,
                    thumb,
                    warning,
                    timings,
                    _gpu_peak(),
                    progress.peak_cpu_bytes or None,
                    int(frames),
                    int(width),
                    int(height),
                    request.effective_fps,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a Failed event
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            kind, message, hint = classify(exc, progress.current_phase)
            if kind != "cancelled":
                log.error(
                    "job %s failed in %s: %s",
                    cmd.job_id,
                    progress.current_phase,
                    message,
                    exc_info=exc,
                )
            if kind == "out_of_memory":
                self.release()  # the next job starts from a clean GPU
            self.channel.emit(
                P.Failed(
                    cmd.job_id, kind, message, hint, progress.current_phase, progress.last_step
                )
            )
        finally:
            self.current_job = None

    def _extend_prompt(
        self, request: Any, progress: JobProgress, plan: Mapping[str, Any]
    ) -> tuple[str, str | None]:
        if not request.prompt_extend.enabled:
            return request.prompt, None
        from wan22_desktop.engine.prompt_extend import extend_with_options

        progress.phase("prompt_extension")
        out: tuple[str, str | None] = (request.prompt, None)
        if self.rank == 0:  # once, not once per rank (an API call, or an LLM on every GPU)
            result = extend_with_options(
                request.prompt_extend,
                request.prompt,
                image=request.image,
                seed=request.seed % (2**31),
                device=str(plan.get("device", "cpu")),
            )
            if result is not None:
                out = (result.prompt, result.warning)
        if self.world_size > 1:
            from wan22_desktop.engine.wan.parallel import broadcast_object

            out = broadcast_object(out)  # type: ignore[assignment]
        return out

    def _save(self, video: np.ndarray, request: Any, cmd: P.RunJob) -> tuple[list[str], str | None]:
        from wan22_desktop.engine.video_io import save_thumbnail, save_video

        out = save_video(video, cmd.output_path, request.effective_fps)
        thumb = None
        if cmd.thumbnail_path:
            thumb = str(save_thumbnail(video, cmd.thumbnail_path))
        return [str(out)], thumb


# ---- torch helpers (imported late: the module itself stays importable without torch) ----------


def _free_memory() -> None:
    import gc

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


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
