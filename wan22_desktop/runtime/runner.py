"""The queue runner: holds the queue lease, claims jobs in order, plans them, drives a worker
process, writes progress to the database and turns results into history rows.

No torch and no Qt: ``wan22 queue run`` calls ``QueueRunner.run()`` in the foreground, the GUI
runs it in a thread and calls ``stop()``; both watch it through ``on_event``. Everything the user
does to the queue (pause, cancel, reorder, edit) goes through the database, which the runner
re-reads between jobs and polls during one, so the GUI and the CLI never talk to it directly.

What it survives: a worker that crashes (job ``crashed``, a fresh worker for the next job), hangs
(no progress for ``hang_factor`` x the median step time, with a floor: killed, job ``hang``), or
ignores a cancel (killed after ``cancel_grace_s``); its own death (the next runner requeues the
job through ``db.queue.start_runner``; the orphaned worker sees its control pipe close and exits).
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database
from wan22_desktop.db.lease import (
    RunnerIdentity,
    RunnerInfo,
    heartbeat,
    pid_alive,
    register_runner,
    release_lease,
)
from wan22_desktop.db.models import Job
from wan22_desktop.engine.video_io import check_writable
from wan22_desktop.errors import (
    Cancelled,
    CheckpointError,
    OperationError,
    OutOfMemory,
    Wan22Error,
)
from wan22_desktop.paths import AppPaths
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime import protocol as P
from wan22_desktop.runtime.hardware import Hardware
from wan22_desktop.runtime.keep_awake import KeepAwake
from wan22_desktop.runtime.launcher import Exited, WorkerProcess, describe_exit
from wan22_desktop.runtime.planner import Plan, PlanError
from wan22_desktop.runtime.planning import (
    HEADROOM_CAP,
    NoSaferPlan,
    installed_models,
    oom_note,
    plan_request,
    safer_retry,
)

log = logging.getLogger(__name__)

CRASH_HINT = (
    "the job can be retried (`wan22 queue retry ID`); if it keeps crashing, the worker "
    "log in the logs folder says why (host out of memory is common: try offload_model off "
    "or a smaller size)"
)
HANG_HINT = "the worker was restarted; retry the job, and see the worker log if it hangs again"
START_HINT = "see worker.log in the logs folder; the runner goes on with the next job"
CLEANUP_EVERY_S = 300.0  # an idle runner looks for leftovers of dead workers this often


PASS_RETRY_S = 300.0  # a shared queue: look again at a job this machine could not run


@dataclass(frozen=True)
class RunnerOptions:
    forever: bool = False  # keep waiting for jobs when the queue is empty
    poll_s: float = 0.5  # how often an idle runner looks for jobs
    lease_ttl_s: float = 30.0
    hang_factor: float = 3.0  # no step for this many median step times: hang
    hang_floor_s: float = 120.0  # ...but never sooner than this
    phase_timeout_s: float = 3600.0  # silence allowed before the first step (loading A14B)
    cancel_grace_s: float = 10.0  # a cancelled worker that has not stopped by then is killed
    pause_cancels: bool = False  # pause: cancel the running job instead of finishing it
    idle_release_s: float = 120.0  # forever mode: stop an idle worker to free the GPU
    max_interruptions: int = 3
    # A shared database server that goes away (restart, network cut): ride it out this long,
    # retrying with backoff while the worker keeps rendering, before giving up.
    db_outage_s: float = 600.0
    keep_awake: bool = True
    preview_every: int = 5
    # Live previews: "rgb" (fast colours) or "taehv" (the tiny VAE, when its file is installed
    # in models/vae_approx or one of ``preview_dirs``); a callable is asked at each job (the
    # GUI's setting, which the user may change while the runner runs).
    preview: str | Callable[[], str] = "rgb"
    preview_dirs: tuple[str, ...] = ()
    progress_interval_s: float = 0.25  # at most this often a progress write to the database
    worker_env: Mapping[str, str] = field(default_factory=dict)  # added to the worker's env
    start_backoff_s: float = 5.0  # a worker that died before ready: wait, doubling, up to 60 s
    max_start_failures: int = 3  # in a row, without --forever: then stop (jobs stay queued)
    # How this runner uses the GPUs (queue run --gpu-mode): "auto" lets the planner pick per
    # job, "latency" spreads every job over all GPUs, "throughput" is one runner of a group
    # with one GPU each (runtime/runner_group.py). Recorded in its ``runners`` row.
    gpu_mode: str = "auto"
    # A runner of a throughput group: the supervising process, whose death stops this runner.
    supervisor_pid: int | None = None


@dataclass(frozen=True)
class RunnerEvent:
    """What the runner tells its owner: ``kind`` is one of started, claimed, planned, worker,
    progress, done, failed, cancelled, requeued, idle, stopped."""

    kind: str
    job_id: int | None = None
    message: str = ""
    data: Any = None


@dataclass
class RunSummary:
    done: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    stopped_reason: str = ""


# ---- pure helpers ---------------------------------------------------------------------------


def output_paths(
    outputs: Path, job_id: int, request: GenerationRequest, now: datetime | None = None
) -> tuple[Path, Path]:
    """(video, thumbnail) paths for a job; names are ours only (no user text), so always safe."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    stem = f"{stamp}_job{job_id}_{request.task}_{request.seed}"
    suffix = {"mp4": ".mp4", "npy": ".npy", "png": ""}[request.output_format]
    return outputs / f"{stem}{suffix}", outputs / ".thumbnails" / f"{stem}.jpg"


@dataclass(frozen=True)
class JobFiles:
    """Where a job reads its model and writes its results: decided in one place
    (``QueueRunner.job_files``) and checked when the job is claimed, before any rendering."""

    checkpoint: str
    video: Path
    thumbnail: Path


def check_job_files(files: JobFiles) -> None:
    """``UserInputError`` naming the folder when the video or thumbnail cannot be written."""
    for folder in (files.video.parent, files.thumbnail.parent):
        check_writable(folder, "another outputs folder (Settings, or `wan22 --home`)")


def hang_limit(step_times: list[float], factor: float, floor: float) -> float:
    """Seconds without progress after which a sampling worker is considered hung."""
    if not step_times:
        return floor
    return max(floor, factor * statistics.median(step_times))


# ---- the runner -------------------------------------------------------------------------------


class _JobEnded(Exception):
    """Internal: the current job reached a final state; the worker may need replacing."""


class QueueRunner:
    """Runs a data dir's queue. ``run()`` blocks; ``stop()`` may be called from any thread."""

    def __init__(
        self,
        db: Database,
        paths: AppPaths,
        options: RunnerOptions | None = None,
        *,
        hardware: Hardware | Callable[[], Hardware] | None = None,
        on_event: Callable[[RunnerEvent], None] | None = None,
        identity: RunnerIdentity | None = None,
    ) -> None:
        self.db, self.paths = db, paths
        self.options = options or RunnerOptions()
        self._hardware_source = hardware
        self._hardware: Hardware | None = hardware if isinstance(hardware, Hardware) else None
        self.on_event = on_event or (lambda ev: None)
        self.me = identity or RunnerIdentity.current()
        self.worker: WorkerProcess | None = None
        self._stop = threading.Event()
        self._release_requested = threading.Event()
        self._requeue_on_stop = True
        self.interrupted = False  # set by a signal handler (Ctrl-C) that called stop()
        self._last_beat = 0.0
        self._idle_since: float | None = None
        self._start_failures = 0
        self._last_cleanup = 0.0
        self._last_supervisor_check = 0.0
        self._passed: dict[int, float] = {}  # job id -> when this runner found it cannot run it
        self.summary = RunSummary()

    # ---- control

    def stop(self, *, requeue_current: bool = True) -> None:
        """Stop soon: the running job is stopped and left queued (or cancelled when
        ``requeue_current`` is False), the worker is shut down and the lease released."""
        self._requeue_on_stop = requeue_current
        self._stop.set()

    def release_worker(self) -> None:
        """Free the GPU: the worker is stopped after the running job (at once when idle)."""
        self._release_requested.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # ---- main loop

    def run(self) -> RunSummary:
        with self.db.reconnect_window(self.options.db_outage_s):
            return self._run()

    def _run(self) -> RunSummary:
        if self.db.shared:
            # Videos must be viewable from every machine (ADR 0011): the outputs folder is the
            # shared one, so find a missing mount or a read-only share before claiming a job.
            check_writable(
                self.paths.outputs,
                "the shared outputs folder (mounted on every machine; Settings: outputs_dir)",
            )
        recovered = q.start_runner(
            self.db,
            self.me,
            ttl_s=self.options.lease_ttl_s,
            max_interruptions=self.options.max_interruptions,
            info=self._info(),
        )
        self._last_beat = time.monotonic()
        for back in recovered:
            self._emit("requeued", back.id, back.status_reason or "")
        self._emit("started", message=f"runner {self.me.holder}")
        self._clean_leftovers()
        awake = KeepAwake(self.options.keep_awake, state_file=self.paths.cache / "keep-awake.json")
        try:
            while not self._stop.is_set():
                self._heartbeat()
                if self._release_requested.is_set():
                    self._release_requested.clear()
                    self._stop_worker("release requested")
                if q.is_paused(self.db):
                    self._stop_worker("the queue is paused")
                    if not self.options.forever:
                        self.summary.stopped_reason = "the queue is paused"
                        break
                    awake.release()
                    self._stop.wait(self.options.poll_s)
                    continue
                job = q.claim_next(self.db, self.me.holder, skip=self._cannot_run())
                if job is None and self.db.shared and self._recover_dead_runners():
                    continue  # a dead runner's job is back in the queue: claim it
                if job is None:
                    awake.release()
                    if not self.options.forever:
                        self.summary.stopped_reason = "the queue is empty"
                        break
                    self._idle()
                    self._stop.wait(self.options.poll_s)
                    continue
                self._idle_since = None
                awake.hold()
                self._run_job(job)
            if not self.summary.stopped_reason:
                self.summary.stopped_reason = "stopped"
        finally:
            awake.release()
            self._stop_worker("the runner is stopping")
            try:
                release_lease(self.db, self.me)
            except Wan22Error as exc:
                log.warning("could not release the queue lease: %s", exc.message)
            self._emit("stopped", message=self.summary.stopped_reason)
        return self.summary

    def _idle(self) -> None:
        now = time.monotonic()
        if now - self._last_cleanup > CLEANUP_EVERY_S:
            self._clean_leftovers()
        if self._idle_since is None:
            self._idle_since = now
            self._emit("idle", message="waiting for jobs")
        elif self.worker is not None and now - self._idle_since > self.options.idle_release_s:
            self._stop_worker("idle")

    def _heartbeat(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.options.supervisor_pid is not None and now - self._last_supervisor_check > 1.0:
            self._last_supervisor_check = now
            if not pid_alive(self.options.supervisor_pid) and not self._stop.is_set():
                # Its group's supervisor was killed: stop as after Ctrl-C (the job stays queued).
                self.summary.stopped_reason = "the supervising `wan22 queue run` is gone"
                self.stop(requeue_current=True)
        if force or now - self._last_beat > self.options.lease_ttl_s / 3:
            heartbeat(self.db, self.me, ttl_s=self.options.lease_ttl_s)
            self._last_beat = now
            if self.db.shared:  # any live runner takes back the jobs of dead ones
                self._recover_dead_runners()

    def _pass(self, job_id: int, exc: Wan22Error) -> None:
        """A shared queue: leave a job this machine cannot run to the other runners."""
        q.pass_job(self.db, job_id, self.me.holder, exc.message)
        self._passed[job_id] = time.monotonic()
        self._emit("requeued", job_id, f"left for another runner: {exc.message}")

    def _cannot_run(self) -> set[int]:
        """Jobs passed recently; looked at again after a while (a model may be installed)."""
        now = time.monotonic()
        for job_id, at in list(self._passed.items()):
            if now - at > PASS_RETRY_S:
                del self._passed[job_id]
        return set(self._passed)

    def _recover_dead_runners(self) -> bool:
        recovered = q.recover_orphans(
            self.db, self.me.holder, max_interruptions=self.options.max_interruptions
        )
        for job in recovered:
            self._emit("requeued", job.id, job.status_reason or "")
        return bool(recovered)

    def _emit(
        self, kind: str, job_id: int | None = None, message: str = "", data: Any = None
    ) -> None:
        try:
            self.on_event(RunnerEvent(kind, job_id, message, data))
        except Exception:  # noqa: BLE001 - a broken display must not stop the queue
            log.exception("runner event handler failed")

    # ---- one job

    def hardware(self) -> Hardware:
        """Probed once per runner, in a subprocess (no torch here), heartbeating meanwhile."""
        if self._hardware is None:
            source = self._hardware_source
            if not callable(source):
                from wan22_desktop.runtime.hardware import probe_in_subprocess

                folders = [self.paths.outputs, self.paths.models]
                source = lambda: probe_in_subprocess(folders)  # noqa: E731
            box: list[Hardware] = []
            t = threading.Thread(target=lambda: box.append(source()), daemon=True, name="probe")
            t.start()
            while t.is_alive():
                t.join(1.0)
                self._heartbeat()
            if not box:
                raise OperationError("the hardware probe failed", "see the log file")
            self._hardware = box[0]
            register_runner(self.db, self.me, self._info(), ttl_s=self.options.lease_ttl_s)
        return self._hardware

    def _info(self) -> RunnerInfo:
        """What this runner registers: its GPUs (once probed) and installed models."""
        pinned = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
        visible = pinned.split(",") if pinned else []
        gpus = [
            {
                "name": g.name,
                "vram_bytes": int(g.total_gib * 2**30),
                # The machine's own number for the card (what CUDA_VISIBLE_DEVICES pinned).
                "device": visible[g.index].strip() if g.index < len(visible) else str(g.index),
            }
            for g in (self._hardware.gpus if self._hardware else ())
        ]
        return RunnerInfo(
            gpus=gpus, models=sorted(installed_models(self.db)), mode=self.options.gpu_mode
        )

    def _run_job(self, job: Job) -> None:
        claimed_at = time.monotonic()
        self._emit("claimed", job.id, job.prompt)
        try:
            request = GenerationRequest.from_json(job.request_json)
            job_plan = plan_request(
                request, self.hardware(), installed_models(self.db), gpu_mode=self.options.gpu_mode
            )
            if carried := q.carried_warnings(job.plan_json):  # retried after out-of-memory
                job_plan = replace(job_plan, warnings=(*job_plan.warnings, *carried))
            files = self.job_files(job.id, request, job_plan)
            check_job_files(files)
        except Wan22Error as exc:  # PlanError included: nothing fits this machine
            if self.db.shared and isinstance(exc, (PlanError, CheckpointError)):
                self._pass(job.id, exc)  # another machine may have the model, or the GPU
                return
            self._fail(job.id, exc.kind, exc.message, exc.hint)
            return
        q.set_plan(self.db, job.id, self.me.holder, job_plan.to_dict())
        self._emit("planned", job.id, job_plan.summary(), job_plan)
        try:
            worker = self._ensure_worker(job_plan.nproc)
        except OperationError as exc:
            self._worker_did_not_start(job.id, exc)
            return
        self._start_failures = 0
        cmd = P.RunJob(
            job.id,
            request.to_dict(),
            job_plan.to_dict(),
            files.checkpoint,
            str(files.video),
            str(files.thumbnail),
            str(self.paths.cache / "previews"),
            self.options.preview_every,
            self._preview_taehv(request.task),
        )
        try:
            if not worker.send(cmd):
                self._worker_died(job.id, worker, "loading", None, None)
                return
            _JobWatch(self, job.id, worker, job_plan, claimed_at).run()
        finally:
            # The preview only means something while the job runs; history has the thumbnail.
            (self.paths.cache / "previews" / f"job-{job.id}.png").unlink(missing_ok=True)
            (self.paths.cache / "previews" / f"job-{job.id}.gif").unlink(missing_ok=True)

    def _preview_taehv(self, task: str) -> str | None:
        """The TAEHV file a job previews with, when the user chose tiny-VAE previews and the
        task's decoder is installed; None: the worker's fast colour previews."""
        from wan22_desktop.downloader.catalog import PREVIEW_FOLDER, find_taehv, taehv_key

        choice = self.options.preview
        try:
            mode = choice() if callable(choice) else choice
        except Exception:  # noqa: BLE001 - a setting must not stop the queue
            mode = "rgb"
        if mode != "taehv":
            return None
        key = taehv_key(task)
        dirs = (self.paths.models / PREVIEW_FOLDER, *map(Path, self.options.preview_dirs))
        found = find_taehv(key, *dirs)
        if found is None:
            log.info("tiny VAE %s is not installed: fast colour previews (Models: %s)", key, key)
        return str(found) if found else None

    def job_files(self, job_id: int, request: GenerationRequest, job_plan: Plan) -> JobFiles:
        """The one place that decides a job's checkpoint folder and output paths: the installed
        model the plan found (the request's own ``ckpt_dir`` when it names one: ``plan_request``
        puts it in the plan), and names of ours in the outputs folder, or the request's own
        ``save_file``."""
        if not job_plan.checkpoint:
            raise CheckpointError(
                f"the {job_plan.task} model is not installed",
                f"download it with `wan22 models download {job_plan.task}` or import a folder",
            )
        video, thumb = output_paths(self.paths.outputs, job_id, request)
        if request.save_file:
            video = Path(request.save_file)
        return JobFiles(job_plan.checkpoint, video, thumb)

    def _clean_leftovers(self) -> None:
        """Partial and orphaned outputs of dead workers (runtime/leftovers.py)."""
        from wan22_desktop.runtime.leftovers import clean_outputs

        self._last_cleanup = time.monotonic()
        try:
            done = clean_outputs(self.db, self.paths.outputs, min_age_s=2.0)
        except Exception:  # noqa: BLE001 - tidying up must never stop the queue
            log.exception("outputs clean-up failed")
            return
        if done:
            self._emit("cleanup", message=done.summary(), data=done.to_dict())

    def _worker_did_not_start(self, job_id: int, exc: OperationError) -> None:
        """The worker died (or hung) before ``ready``: this job fails with the worker's own last
        words, the runner waits (doubling) and goes on; without ``forever`` it stops after
        ``max_start_failures`` in a row, leaving the rest of the queue queued."""
        self._start_failures += 1
        self._fail(job_id, "crashed", exc.message, exc.hint or START_HINT)
        if not self.options.forever and self._start_failures >= self.options.max_start_failures:
            self.summary.stopped_reason = (
                f"the worker failed to start {self._start_failures} times in a row"
            )
            self._stop.set()
            return
        delay = min(60.0, self.options.start_backoff_s * 2 ** (self._start_failures - 1))
        self._emit("idle", message=f"the worker did not start; trying again in {delay:.0f} s")
        self._stop.wait(delay)

    def _ensure_worker(self, nproc: int) -> WorkerProcess:
        if self.worker is not None and (not self.worker.alive or self.worker.nproc != nproc):
            self._stop_worker(
                "a different GPU layout is needed" if self.worker.alive else "it exited"
            )
        if self.worker is None:
            from wan22_desktop.secrets import worker_env

            env = worker_env(os.environ)
            env.update(self.options.worker_env)
            worker = WorkerProcess(nproc=nproc, env=env, log_path=self.paths.logs / "worker.log")
            try:
                ready = worker.wait_ready(tick=self._heartbeat)
            except BaseException:
                worker.kill()
                raise
            self.worker = worker
            self._emit(
                "worker",
                message=f"worker {ready.pid} ready (torch {ready.torch_version})",
                data=ready,
            )
        return self.worker

    def _stop_worker(self, why: str) -> None:
        if self.worker is not None:
            log.info("stopping worker %s: %s", self.worker.pid, why)
            self.worker.shutdown()
            self.worker = None

    def _kill_worker(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    # ---- outcomes

    def _fail(self, job_id: int, kind: str, message: str, hint: str | None) -> None:
        q.fail_job(self.db, job_id, self.me.holder, kind=kind, message=message, hint=hint)
        self.summary.failed.append(job_id)
        self._emit("failed", job_id, message, {"kind": kind, "hint": hint})

    def _out_of_memory(self, job_id: int, failed: Plan, message: str, hint: str | None) -> None:
        """A job that ran out of GPU memory is queued again once, by itself, with more of the
        GPU kept free (``planning.safer_retry``): only from a job planned without headroom,
        and only when the planner then has a plan with a strictly lower modelled peak. Any
        other out-of-memory fails, saying why no retry was made (never a loop)."""
        if failed.device != "cuda":  # the host ran out: GPU headroom changes nothing
            self._fail(job_id, OutOfMemory.kind, message, hint)
            return
        try:
            request = GenerationRequest.from_json(q.get_job(self.db, job_id).request_json)
            kept = request.memory.vram_headroom
            if 0 < kept < HEADROOM_CAP:  # at the cap, safer_retry says so
                raise NoSaferPlan(
                    f"not retried by itself: it already kept {kept} % of the GPU free",
                    f"`wan22 queue retry-safer {job_id}` plans it with more of the GPU kept "
                    "free; or choose a smaller size or fewer frames",
                )
            safer, new_plan = safer_retry(
                request,
                self.hardware(),
                installed_models(self.db),
                failed=failed,
                gpu_mode=self.options.gpu_mode,
            )
        except Wan22Error as exc:  # NoSaferPlan, or the job cannot be read or planned now
            self._fail(job_id, OutOfMemory.kind, f"{message}; {exc.message}", exc.hint or hint)
            return
        note = oom_note(safer.memory.vram_headroom)
        q.requeue_after_oom(self.db, job_id, self.me.holder, safer, note, failed.to_dict())
        self.summary.requeued.append(job_id)
        self._emit(
            "requeued",
            job_id,
            f"{note} (about {new_plan.est_vram_gib:.0f} GiB instead of {failed.est_vram_gib:.0f})",
            {"kind": OutOfMemory.kind, "vram_headroom": safer.memory.vram_headroom},
        )

    def _worker_died(
        self,
        job_id: int,
        worker: WorkerProcess,
        phase: str | None,
        step: int | None,
        total: int | None,
        returncode: int | None = None,
    ) -> None:
        where = f" during {phase.replace('_', ' ')}" if phase else ""
        if step is not None:
            where += f" (step {step}" + (f" of {total})" if total else ")")
        if worker is self.worker:
            self._kill_worker()
        self._fail(job_id, "crashed", f"{describe_exit(returncode)}{where}", CRASH_HINT)

    def _requeue_current(self, job_id: int) -> None:
        """Ctrl-C / stop: the job goes back to the front of the queue, as if this runner had died."""
        q.requeue_own(
            self.db, job_id, self.me.holder, max_interruptions=self.options.max_interruptions + 1
        )
        self.summary.requeued.append(job_id)
        self._emit("requeued", job_id, "stopped by the user; the job stays queued")


class _JobWatch:
    """Follows one job's events: progress, cancel, pause, hang and crash detection."""

    def __init__(
        self,
        runner: QueueRunner,
        job_id: int,
        worker: WorkerProcess,
        job_plan: Plan,
        claimed_at: float,
    ) -> None:
        self.r, self.job_id, self.worker, self.plan = runner, job_id, worker, job_plan
        self.claimed_at = claimed_at
        self.phase: str | None = None
        self.step: int | None = None
        self.total: int | None = None
        self.eta: float | None = None
        self.step_times: list[float] = []
        self.last_progress = time.monotonic()
        self.last_step_at: float | None = None
        self.first_step_s: float | None = None
        self.last_write = 0.0
        self.last_cancel_poll = 0.0
        self.cancel_sent_at: float | None = None
        self.cancel_is_stop = False

    def run(self) -> None:
        opts = self.r.options
        while True:
            ev = self.worker.next_event(timeout=0.1)
            now = time.monotonic()
            self.r._heartbeat()
            if ev is not None and self._handle(ev, now):
                return
            self._check_cancel(now)
            if self.cancel_sent_at is not None and now - self.cancel_sent_at > opts.cancel_grace_s:
                self.r._kill_worker()
                self._end_cancelled(
                    f"the worker did not stop within {opts.cancel_grace_s:g} s and was killed"
                )
                return
            limit = (
                hang_limit(self.step_times, opts.hang_factor, opts.hang_floor_s)
                if self.step is not None and self.phase == "sampling"
                else opts.phase_timeout_s
            )
            if self.cancel_sent_at is None and now - self.last_progress > limit:
                self.r._kill_worker()
                where = f"during {(self.phase or 'start-up').replace('_', ' ')}"
                if self.step is not None:
                    where += f" after step {self.step} of {self.total}"
                self.r._fail(
                    self.job_id, "hang", f"no progress for {limit:.0f} s {where}", HANG_HINT
                )
                return

    def _handle(self, ev: P.Message | Exited, now: float) -> bool:
        r = self.r
        if isinstance(ev, Exited):
            if self.cancel_sent_at is not None:
                r._kill_worker()
                self._end_cancelled("the worker exited while stopping")
            else:
                r._worker_died(
                    self.job_id, self.worker, self.phase, self.step, self.total, ev.returncode
                )
            return True
        if (jid := getattr(ev, "job_id", None)) is not None and jid != self.job_id:
            return False  # a late event of an earlier job
        if isinstance(ev, P.Phase):
            self.phase, self.last_progress = ev.phase, now
            self._write(now, force=True)
        elif isinstance(ev, P.JobStarted):
            self.last_progress = now
        elif isinstance(ev, P.Step):
            if self.last_step_at is not None:
                self.step_times.append(now - self.last_step_at)
            if self.first_step_s is None:
                self.first_step_s = now - self.claimed_at
            self.last_step_at = self.last_progress = now
            self.phase, self.step, self.total, self.eta = "sampling", ev.step, ev.total, ev.eta_s
            self._write(now, force=ev.step in (1, ev.total))
        elif isinstance(ev, P.Preview):
            self.last_progress = now
        elif isinstance(ev, P.Log):
            # getLevelName maps a known name to its number (getLevelNamesMapping is 3.11+).
            named = logging.getLevelName(ev.level.upper())
            level = named if isinstance(named, int) else logging.INFO
            log.log(level, "worker: %s", ev.message)
            return False
        elif isinstance(ev, P.Done):
            self._done(ev, now)
            return True
        elif isinstance(ev, P.Failed):
            if ev.kind == Cancelled.kind or self.cancel_sent_at is not None:
                self._end_cancelled("cancelled")
            else:
                where = ""
                if ev.phase:
                    where = f" (during {ev.phase.replace('_', ' ')}" + (
                        f", step {ev.step})" if ev.step is not None else ")"
                    )
                if ev.kind == OutOfMemory.kind:
                    r._out_of_memory(self.job_id, self.plan, ev.message + where, ev.hint)
                else:
                    r._fail(self.job_id, ev.kind, ev.message + where, ev.hint)
            return True
        r._emit("progress", self.job_id, self.phase or "", ev)
        return False

    def _write(self, now: float, force: bool = False) -> None:
        if not force and now - self.last_write < self.r.options.progress_interval_s:
            return
        self.last_write = self.last_cancel_poll = now
        cancel = q.update_progress(
            self.r.db,
            self.job_id,
            self.r.me.holder,
            step=self.step,
            total=self.total,
            phase=self.phase,
            eta_s=self.eta,
        )
        if cancel:
            self._send_cancel(stop=False)

    def _check_cancel(self, now: float) -> None:
        r = self.r
        if r.stopping and self.cancel_sent_at is None:
            self._send_cancel(stop=True)
            return
        if now - self.last_cancel_poll < max(r.options.progress_interval_s, 0.2):
            return
        self.last_cancel_poll = now
        if self.cancel_sent_at is None:
            job = q.get_job(r.db, self.job_id)
            if job.cancel_requested:
                self._send_cancel(stop=False)
            elif r.options.pause_cancels and q.is_paused(r.db):
                self._send_cancel(stop=True)

    def _send_cancel(self, *, stop: bool) -> None:
        if self.cancel_sent_at is not None:
            return
        self.cancel_is_stop = stop
        self.cancel_sent_at = time.monotonic()
        if not self.worker.send(P.Cancel(self.job_id)):
            self.cancel_sent_at -= self.r.options.cancel_grace_s  # gone already: kill at once

    def _end_cancelled(self, how: str) -> None:
        r = self.r
        if self.cancel_is_stop and (r.stopping and r._requeue_on_stop or not r.stopping):
            r._requeue_current(self.job_id)  # stopped by pause/Ctrl-C, not cancelled by the user
            return
        q.mark_cancelled(r.db, self.job_id, r.me.holder)
        r.summary.cancelled.append(self.job_id)
        r._emit("cancelled", self.job_id, how)

    def _done(self, ev: P.Done, now: float) -> None:
        r = self.r
        timings = dict(ev.timings)
        timings["total"] = round(now - self.claimed_at, 4)
        if self.first_step_s is not None:
            timings["claim_to_first_step"] = round(self.first_step_s, 4)
        fps = float(ev.fps or 0)
        result = q.GenerationResult(
            video_path=ev.outputs[0] if ev.outputs else "",
            final_prompt=ev.final_prompt,
            thumbnail_path=ev.thumbnail,
            frames=ev.frames or 0,
            width=ev.width or 0,
            height=ev.height or 0,
            fps=fps,
            duration_s=(ev.frames or 0) / fps if fps else 0.0,
            timings=timings,
            peak_memory_bytes=ev.peak_gpu_bytes or ev.peak_cpu_bytes,
            model_path=self.plan.checkpoint,
            warnings=tuple(ev.notes),
            sampling=ev.sampling,
        )
        for note in ev.notes:  # e.g. an attention kernel replaced by SDPA mid-job
            log.warning("job %s: %s", self.job_id, note)
        gen = q.finish_job(r.db, self.job_id, r.me.holder, result)
        r.summary.done.append(self.job_id)
        r._emit("done", self.job_id, result.video_path, {"generation_id": gen.id, "event": ev})
