"""Queue operations for the views: read a snapshot, add, edit, move, cancel, retry, remove, pause.

Thin wrappers over ``db.queue`` that take and return plain values (job ids, ``JobRow``), so a view
never holds an ORM row or a session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database
from wan22_desktop.db.database import DatabaseUnreachableError as DatabaseUnreachableError
from wan22_desktop.db.lease import current_lease, runner_states
from wan22_desktop.db.views import job_to_dict
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.hardware import Hardware
from wan22_desktop.services.rows import JobRow, job_row

JOB_LIMIT = 500
# DatabaseUnreachableError is re-exported: the GUI tells it apart (a banner while the server is
# away, not a notice per poll) and may not import db/.
MoveTo = q.MoveTo


@dataclass(frozen=True)
class LeaseInfo:
    """Who runs the queue now (another process, or this window's runner)."""

    holder: str
    host: str
    pid: int


@dataclass(frozen=True)
class RunnerRow:
    """A registered runner as the Queue view lists it (every machine on a shared queue)."""

    id: str
    host: str
    pid: int
    version: str
    gpus: tuple[str, ...]  # "NVIDIA RTX 4090 (24 GiB)"; "gpu1: ..." when the card's number is known
    models: tuple[str, ...]  # tasks it can run
    job_id: int | None  # the job it is rendering
    heartbeat_at: str  # ISO 8601, UTC ("...Z")
    alive: bool  # its lease holds (False: presumed dead, its job goes back to the queue)
    mode: str = ""  # queue run --gpu-mode: "throughput", "latency", "auto" ("": not recorded)


@dataclass(frozen=True)
class QueueSnapshot:
    jobs: tuple[JobRow, ...]
    paused: bool
    counts: Mapping[str, int]  # {status: number of jobs}
    lease: LeaseInfo | None
    runners: tuple[RunnerRow, ...] = ()


def _gpu_text(gpu: Mapping[str, object]) -> str:
    size = gpu.get("vram_bytes")
    name = str(gpu.get("name") or "GPU")
    if gpu.get("device") not in (None, ""):  # the machine's number for it (one runner per GPU)
        name = f"gpu{gpu['device']}: {name}"
    return f"{name} ({int(size) / 1024**3:.0f} GiB)" if isinstance(size, int) and size else name


def list_runners(db: Database) -> tuple[RunnerRow, ...]:
    """Registered runners, oldest first, each with the job it runs and whether it is alive."""
    return tuple(
        RunnerRow(
            id=r.runner.id,
            host=r.runner.host,
            pid=r.runner.pid,
            version=r.runner.version,
            gpus=tuple(_gpu_text(g) for g in r.runner.gpus),
            models=tuple(r.runner.models),
            job_id=r.job_id,
            heartbeat_at=r.runner.heartbeat_at.isoformat(timespec="seconds") + "Z",
            alive=r.alive,
            mode=r.runner.mode or "",
        )
        for r in runner_states(db)
    )


def read_snapshot(db: Database, limit: int = JOB_LIMIT) -> QueueSnapshot:
    """Everything the Queue view shows, read in one go."""
    jobs = tuple(job_row(job_to_dict(j)) for j in q.list_jobs(db, limit=limit))
    lease = current_lease(db)
    return QueueSnapshot(
        jobs,
        q.is_paused(db),
        dict(q.counts_by_status(db)),
        LeaseInfo(lease.holder, lease.host, lease.pid) if lease else None,
        list_runners(db),
    )


def list_jobs(db: Database, statuses: tuple[str, ...], limit: int = JOB_LIMIT) -> list[JobRow]:
    return [job_row(job_to_dict(j)) for j in q.list_jobs(db, statuses=list(statuses), limit=limit)]


def enqueue(
    db: Database,
    request: GenerationRequest,
    *,
    count: int = 1,
    lane: str = "normal",
    random_seeds: bool = False,
) -> list[int]:
    """Queue ``count`` seed variations of ``request``; the new job ids."""
    jobs = q.enqueue(db, request, count=count, lane=lane, random_seeds=random_seeds)
    return [j.id for j in jobs]


def replace_request(db: Database, job_id: int, request: GenerationRequest) -> int:
    """Write ``request`` into a job that is still queued (edit from Generate)."""
    changes = {f.name: getattr(request, f.name) for f in fields(request)}
    return q.edit_job(db, job_id, **changes).id


def move(db: Database, job_id: int, to: MoveTo) -> None:
    q.move_job(db, job_id, to)


def cancel(db: Database, job_id: int) -> None:
    q.cancel_job(db, job_id)


def retry(db: Database, job_id: int) -> int:
    """Queue a failed, cancelled or interrupted job again; its id."""
    return q.retry_job(db, job_id).id


def retry_safer(db: Database, job_id: int, hardware: Hardware) -> tuple[int, str]:
    """Queue a job that ran out of GPU memory again with a smaller plan (more of the GPU kept
    free, ``runtime.planning.safer_for_job``): (its headroom in percent, what that changes).
    ``NoSaferPlan`` (a UserInputError) when the same plan would run again."""
    from wan22_desktop.runtime.planning import installed_models, safer_for_job

    job = q.get_job(db, job_id)
    request = GenerationRequest.from_json(job.request_json)
    safer, how = safer_for_job(request, job.plan_json, hardware, installed_models(db))
    q.retry_job(db, job_id)
    q.edit_job(db, job_id, memory=safer.memory)
    return safer.memory.vram_headroom, how


def reroll(db: Database, job_id: int) -> int:
    """Stop a queued or running job and queue it again with a new seed, first; the new id."""
    return q.reroll_job(db, job_id).id


def remove(db: Database, job_id: int) -> None:
    q.delete_job(db, job_id)


def set_paused(db: Database, paused: bool) -> None:
    q.set_paused(db, paused)
