"""When will the queue be done: expected start and finish of each queued job, and the total.

A job's time is modelled as ``before + rate x units + after``: ``units`` = steps x DiT forwards
per step (guidance, Lightning and warm-up rules: ``render_eta.forwards_per_step``) x tokens **
``TOKEN_EXPONENT`` (attention grows faster than the token count; the exponent is the one the
official table shows between 480P and 720P). ``rate``, ``before`` (loading, text/image encoding)
and ``after`` (decoding, saving) are calibrated per machine and model family (TI2V-5B, A14B)
from the recorded phase times of the last finished jobs (``timings`` of their history rows, jobs
that failed or were cancelled never count). A machine that has not finished a job of the family
yet falls back to the official timing table (``render_eta.estimate``, after loading) and says so.

The queue is run by the live runners, each job going to the first runner that is free and can run
its task (as they claim jobs), at the speed measured on that runner's machine: with several
machines on a shared queue the times are theirs together, not this machine's alone. Without a
live runner the queue is assumed to start now on this machine. A paused queue has no finish time.

Pure: no Qt, no torch, no clock (``now`` is passed in); ``load_runs`` is the one DB read.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from wan22_desktop.db.database import Database
from wan22_desktop.db.speed import finished_runs
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.planner import dit_tokens
from wan22_desktop.services.queue import RunnerRow
from wan22_desktop.services.render_eta import (
    OFFICIAL_SECONDS,
    REFERENCE_JOB,
    estimate,
    format_duration,
    forwards_per_step,
)
from wan22_desktop.services.rows import JobRow
from wan22_desktop.tasks import parse_size

RECENT_RUNS = 10  # per machine and family: the newest runs tell this machine's speed now
AFTER_PHASES = ("decoding", "saving")


def _fitted_exponent() -> float:
    (w1, h1, f1, _), (w2, h2, f2, _) = (
        REFERENCE_JOB[("A14B", "480P")],
        REFERENCE_JOB[("A14B", "720P")],
    )
    s1, s2 = (
        OFFICIAL_SECONDS[("H100", "A14B", "480P")][0],
        OFFICIAL_SECONDS[("H100", "A14B", "720P")][0],
    )
    t1, t2 = dit_tokens("A14B", w1, h1, f1), dit_tokens("A14B", w2, h2, f2)
    return math.log(s2 / s1) / math.log(t2 / t1)


TOKEN_EXPONENT = _fitted_exponent()


def family(task: str) -> str:
    """The model family a task runs on (the speed differs per family, not per task)."""
    return "5B" if task.startswith("ti2v") else "A14B"


def work_units(request: GenerationRequest) -> float:
    """What sampling time is proportional to: forwards x tokens ** exponent."""
    w, h = parse_size(request.size)
    tokens = dit_tokens(family(request.task), w, h, request.frame_num)
    return request.sample_steps * forwards_per_step(request) * tokens**TOKEN_EXPONENT


@dataclass(frozen=True)
class FinishedRun:
    """A finished job as the calibration needs it (``load_runs``)."""

    host: str
    request: GenerationRequest
    timings: Mapping[str, float]


@dataclass(frozen=True)
class Speed:
    """A machine's measured speed for a model family."""

    rate: float  # seconds per work unit while sampling
    before_s: float  # loading, prompt extension, encoding
    after_s: float  # decoding, saving
    runs: int  # finished jobs it is the median of

    def seconds(self, request: GenerationRequest) -> float:
        return self.before_s + self.rate * work_units(request) + self.after_s


Speeds = Mapping[tuple[str, str], Speed]  # (host, family) -> Speed


def calibrate(runs: Iterable[FinishedRun]) -> dict[tuple[str, str], Speed]:
    """Medians over the newest ``RECENT_RUNS`` runs (given newest first) per machine and family;
    runs without sampling and total times (older rows, other tools) are skipped."""
    grouped: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for run in runs:
        t = run.timings
        sampling, total = t.get("sampling"), t.get("total")
        if not sampling or not total or sampling <= 0 or total < sampling:
            continue
        units = work_units(run.request)
        if units <= 0:
            continue
        after = sum(float(t.get(p) or 0.0) for p in AFTER_PHASES)
        before = max(0.0, float(total) - float(sampling) - after)
        rows = grouped.setdefault((run.host, family(run.request.task)), [])
        if len(rows) < RECENT_RUNS:
            rows.append((float(sampling) / units, before, after))
    return {
        key: Speed(
            statistics.median(r[0] for r in rows),
            statistics.median(r[1] for r in rows),
            statistics.median(r[2] for r in rows),
            len(rows),
        )
        for key, rows in grouped.items()
    }


@dataclass(frozen=True)
class Lane:
    """A runner taking jobs: the machine it is on, what it can run, its GPU for the table."""

    host: str
    models: tuple[str, ...] = ()  # tasks it can run (empty: any)
    gpu_name: str = ""
    gpus: int = 1
    job_id: int | None = None  # the job it runs now


@dataclass(frozen=True)
class JobEta:
    start_s: float | None  # seconds from now (0 for the running job)
    finish_s: float | None
    seconds: float | None  # the job's whole render time as estimated
    basis: str  # "measured", "table" or "" (no estimate)


@dataclass(frozen=True)
class QueueEta:
    now: datetime
    jobs: Mapping[int, JobEta] = field(default_factory=dict)
    total_s: float | None = None  # until the last job is done; None: paused, empty or unknown
    paused: bool = False
    measured_runs: int = 0  # finished jobs behind the measured speeds used (0: table only)
    table_jobs: int = 0  # jobs estimated from the official table
    unknown_jobs: int = 0  # jobs with no estimate at all
    lanes: int = 1  # runners the jobs were laid out on

    @property
    def finish_at(self) -> datetime | None:
        return None if self.total_s is None else self.now + timedelta(seconds=self.total_s)

    def basis_text(self) -> str:
        """Where the times come from, in English (the CLI; the GUI translates its own)."""
        parts = []
        if self.measured_runs:
            n = self.measured_runs
            parts.append(f"from {n} finished job{'s' if n != 1 else ''}")
        if self.table_jobs:
            parts.append("official timing table")
        text = " + ".join(parts) or "no estimate"
        if self.lanes > 1:
            text += f", {self.lanes} runners"
        return text


def _remaining(job: JobRow, whole: float | None, after_s: float, now: datetime) -> float | None:
    """Time left of a running job: the worker's sampling ETA plus decoding and saving, else the
    estimate less the time it has run."""
    if job.progress.eta_s is not None:
        return max(0.0, job.progress.eta_s) + after_s
    if whole is None:
        return None
    if job.started_at:
        try:
            started = datetime.fromisoformat(job.started_at.removesuffix("Z"))
        except ValueError:
            return whole
        return max(0.0, whole - (now - started).total_seconds())
    return whole


def estimate_queue(
    jobs: Sequence[JobRow],
    speeds: Speeds,
    lanes: Sequence[Lane],
    *,
    paused: bool,
    now: datetime,
) -> QueueEta:
    """Expected start and finish of the running and queued ``jobs`` (in run order, as
    ``list_jobs`` gives them) on ``lanes`` (the live runners; at least one)."""
    lanes = list(lanes) or [Lane(host="")]
    free: list[float | None] = [0.0] * len(lanes)
    out: dict[int, JobEta] = {}
    used: set[tuple[str, str]] = set()
    table = unknown = 0

    def job_seconds(req: GenerationRequest | None, lane: Lane) -> tuple[float | None, str]:
        if req is None:
            return None, ""
        speed = speeds.get((lane.host, family(req.task)))
        if speed is not None:
            used.add((lane.host, family(req.task)))
            return speed.seconds(req), "measured"
        w, h = parse_size(req.size)
        est = estimate(
            req.task,
            w,
            h,
            req.frame_num,
            req.sample_steps,
            lane.gpus,
            lane.gpu_name,
            forwards_per_step=forwards_per_step(req),
        )
        if est is None:
            return None, ""
        return math.sqrt(est.low_s * est.high_s), "table"

    running = [j for j in jobs if j.status == "running"]
    for job in running:
        i = next((k for k, lane in enumerate(lanes) if lane.job_id == job.id), None)
        if i is None:  # its runner is not among the live ones (yet): the first lane with room
            i = next((k for k, lane in enumerate(lanes) if lane.job_id is None), 0)
        lane = lanes[i]
        whole, basis = job_seconds(job.request, lane)
        speed = speeds.get((lane.host, family(job.task)))
        left = _remaining(job, whole, speed.after_s if speed else 0.0, now)
        if basis == "table":
            table += 1
        if left is None:
            unknown += 1
            free[i] = None
            out[job.id] = JobEta(0.0, None, whole, basis)
            continue
        free[i] = (free[i] or 0.0) + left
        out[job.id] = JobEta(0.0, free[i], whole, basis or "measured")
    queued = [j for j in jobs if j.status == "queued"]
    if paused:
        for job in queued:
            out[job.id] = JobEta(None, None, None, "")
    else:
        for job in queued:
            able = [k for k, lane in enumerate(lanes) if not lane.models or job.task in lane.models]
            able = able or list(range(len(lanes)))
            known = [k for k in able if free[k] is not None]
            if not known:
                unknown += 1
                out[job.id] = JobEta(None, None, None, "")
                continue
            i = min(known, key=lambda k: (free[k], k))
            whole, basis = job_seconds(job.request, lanes[i])
            start = free[i] or 0.0
            if whole is None:
                unknown += 1
                free[i] = None
                out[job.id] = JobEta(start, None, None, "")
                continue
            table += basis == "table"
            free[i] = start + whole
            out[job.id] = JobEta(start, start + whole, whole, basis)
    finishes = [e.finish_s for e in out.values() if e.finish_s is not None]
    total = None
    if out and not unknown and not (paused and queued) and finishes:
        total = max(finishes)
    return QueueEta(
        now=now,
        jobs=out,
        total_s=total,
        paused=paused,
        measured_runs=sum(speeds[k].runs for k in used),
        table_jobs=table,
        unknown_jobs=unknown,
        lanes=len(lanes),
    )


def runner_host(runner_id: str | None) -> str:
    """The machine of a runner id (``RunnerIdentity.holder``: "host:pid:token")."""
    if not runner_id:
        return ""
    parts = runner_id.rsplit(":", 2)
    return parts[0] if len(parts) == 3 else runner_id


def lanes_from_runners(
    runners: Iterable[RunnerRow], *, host: str, gpu_name: str = "", gpus: int = 1
) -> list[Lane]:
    """The live runners as lanes; none alive: this machine alone (``gpu_name``, ``gpus``: its
    GPUs, for the table fallback)."""
    runners = list(runners)
    lanes = [
        Lane(
            host=r.host,
            models=r.models,
            gpu_name=r.gpus[0] if r.gpus else (gpu_name if r.host == host else ""),
            gpus=max(1, len(r.gpus)) if r.mode == "latency" else 1,
            job_id=r.job_id,
        )
        for r in runners
        if r.alive
    ]
    if not lanes and not gpu_name:  # a runner of this machine that has stopped knew its GPU
        gpu_name = next((r.gpus[0] for r in runners if r.host == host and r.gpus), "")
    return lanes or [Lane(host=host, gpu_name=gpu_name, gpus=max(1, gpus))]


def load_runs(db: Database, limit: int = 200) -> list[FinishedRun]:
    """The newest finished jobs with their recorded phase times (one query; the GUI calls it
    when the number of done jobs changes, not per poll)."""
    runs = []
    for row in finished_runs(db, limit=limit):
        try:
            request = GenerationRequest.from_json(row.request_json)
        except Exception:  # noqa: BLE001 - an unreadable stored request just doesn't count
            continue
        timings = {k: float(v) for k, v in row.timings.items() if isinstance(v, int | float)}
        runs.append(FinishedRun(runner_host(row.runner_id), request, timings))
    return runs


def utc_text(moment: datetime) -> str:
    """ISO 8601 UTC like the rest of the JSON ("...Z"); ``moment`` is naive UTC."""
    return moment.isoformat(timespec="seconds") + "Z"


def local_clock(moment: datetime, now: datetime) -> str:
    """A naive-UTC moment as this machine's wall clock: "06:40", or "Mon 06:40" on another day."""
    local, today = (m.replace(tzinfo=timezone.utc).astimezone() for m in (moment, now))
    return local.strftime("%H:%M" if local.date() == today.date() else "%a %H:%M")


def to_json(eta: QueueEta) -> dict[str, Any]:
    """The estimate for ``--json``: seconds from ``now`` and UTC clock times."""

    def at(seconds: float | None) -> str | None:
        return None if seconds is None else utc_text(eta.now + timedelta(seconds=seconds))

    return {
        "now": utc_text(eta.now),
        "paused": eta.paused,
        "total_s": None if eta.total_s is None else round(eta.total_s, 1),
        "finish_at": None if eta.finish_at is None else utc_text(eta.finish_at),
        "basis": eta.basis_text(),
        "runners": eta.lanes,
        "jobs": [
            {
                "id": job_id,
                "start_s": None if e.start_s is None else round(e.start_s, 1),
                "finish_s": None if e.finish_s is None else round(e.finish_s, 1),
                "start_at": at(e.start_s),
                "finish_at": at(e.finish_s),
                "basis": e.basis or None,
            }
            for job_id, e in eta.jobs.items()
        ],
    }


def summary_text(eta: QueueEta) -> str:
    """One English line for the CLI: "Queue done about 06:40 · 3 h 10 min (from 4 finished
    jobs)"."""
    if eta.paused:
        return "Queue paused: no finish time until it is resumed"
    if not eta.jobs:
        return "Queue empty"
    if eta.total_s is None or eta.finish_at is None:
        return (
            "Queue finish: unknown (no finished job on this machine yet and no GPU to scale from)"
        )
    clock = local_clock(eta.finish_at, eta.now)
    return f"Queue done about {clock} · {format_duration(eta.total_s)} ({eta.basis_text()})"
