"""Runner leases.

SQLite (one machine): only one runner (GUI or ``wan22 queue run``) works a data dir's queue; it
holds the ``runner_lease`` row. PostgreSQL (a shared queue, ADR 0011): every runner holds its own
lease, its row in ``runners`` (which also says what it can run). Either way the holder heartbeats
before ``expires_at``; a lease is lost when it has expired, or at once when its holder is a
process on this host that no longer exists (killed, crashed). Lease times on PostgreSQL come from
the server's clock, so machines with skewed clocks agree on who is dead.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psutil
from sqlalchemy import select
from sqlalchemy.orm import Session

from wan22_desktop import __version__
from wan22_desktop.db import postgres
from wan22_desktop.db.base import utcnow
from wan22_desktop.db.database import Database
from wan22_desktop.db.models import RUNNING, Job, Runner, RunnerLease
from wan22_desktop.errors import OperationError

QUEUE_LEASE = "queue"
DEFAULT_TTL_S = 30.0


@dataclass(frozen=True)
class RunnerIdentity:
    """Who a runner is: host + pid for humans and liveness checks, a uuid so ids never repeat."""

    host: str
    pid: int
    token: str

    @property
    def holder(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    @classmethod
    def current(cls) -> RunnerIdentity:
        return cls(host=socket.gethostname(), pid=os.getpid(), token=uuid.uuid4().hex[:12])


@dataclass(frozen=True)
class RunnerInfo:
    """What a runner tells the others about itself when it registers."""

    gpus: Sequence[Mapping[str, Any]] = ()  # [{"name": ..., "vram_bytes": ..., "device": "0"}]
    models: Sequence[str] = ()  # tasks with an installed checkpoint
    version: str = __version__
    mode: str | None = None  # GPU mode: "throughput" | "latency" | "auto" (queue run --gpu-mode)

    @property
    def vram_bytes(self) -> int | None:
        sizes = [int(g.get("vram_bytes") or 0) for g in self.gpus]
        return max(sizes) if sizes else None


def db_now(s: Session) -> datetime:
    """Now, by the clock that decides leases: the server's on PostgreSQL, ours on SQLite."""
    return postgres.server_now(s) if postgres.is_postgres(s.get_bind()) else utcnow()


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host (a zombie counts as dead)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except (psutil.NoSuchProcess, psutil.AccessDenied) as exc:
        return isinstance(exc, psutil.AccessDenied)  # another user's live process


def lease_is_stale(lease: RunnerLease | Runner, *, now: datetime, host: str) -> bool:
    """Expired, or held by a process on this host that is gone."""
    if lease.expires_at <= now:
        return True
    return lease.host == host and not pid_alive(lease.pid)


def acquire_lease(
    db: Database, me: RunnerIdentity, *, ttl_s: float = DEFAULT_TTL_S, name: str = QUEUE_LEASE
) -> RunnerLease:
    """Take the lease or raise ``OperationError`` naming who holds it."""

    def take(s: Session) -> RunnerLease:
        now = utcnow()
        lease = s.get(RunnerLease, name)
        if lease is None:
            lease = RunnerLease(
                name=name,
                holder=me.holder,
                host=me.host,
                pid=me.pid,
                acquired_at=now,
                heartbeat_at=now,
                expires_at=now + timedelta(seconds=ttl_s),
            )
            s.add(lease)
            return lease
        if lease.holder != me.holder and not lease_is_stale(lease, now=now, host=me.host):
            raise OperationError(
                f"the queue is being run by pid {lease.pid} on host {lease.host} "
                f"since {lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC",
                hint="only one runner may work a data folder's queue; stop that one, or wait "
                f"until its lease expires (about {ttl_s:g} s after it stops responding)",
            )
        if lease.holder != me.holder:
            lease.acquired_at = now
        lease.holder, lease.host, lease.pid = me.holder, me.host, me.pid
        lease.heartbeat_at, lease.expires_at = now, now + timedelta(seconds=ttl_s)
        return lease

    return db.transact(take)


def heartbeat(
    db: Database, me: RunnerIdentity, *, ttl_s: float = DEFAULT_TTL_S, name: str = QUEUE_LEASE
) -> None:
    """Extend the lease; raise ``OperationError`` if another runner has taken it meanwhile
    (SQLite), or if other runners presumed this one dead (a shared queue)."""
    if db.shared:
        runner_heartbeat(db, me, ttl_s=ttl_s)
        return

    def beat(s: Session) -> None:
        _touch_runner(s, me, ttl_s)
        lease = s.get(RunnerLease, name)
        if lease is None or lease.holder != me.holder:
            raise OperationError(
                "this runner lost the queue lease to another runner",
                hint="stop this runner; the other one carries on with the queue",
            )
        now = utcnow()
        lease.heartbeat_at, lease.expires_at = now, now + timedelta(seconds=ttl_s)

    db.transact(beat)


def release_lease(db: Database, me: RunnerIdentity, *, name: str = QUEUE_LEASE) -> None:
    """Give the lease back (and the runner's registration): the runner is stopping."""

    def drop(s: Session) -> None:
        if (row := s.get(Runner, me.holder)) is not None:
            s.delete(row)
        if db.shared:
            return
        lease = s.get(RunnerLease, name)
        if lease is not None and lease.holder == me.holder:
            s.delete(lease)

    db.transact(drop)


def current_lease(db: Database, *, name: str = QUEUE_LEASE) -> RunnerLease | None:
    return db.read(lambda s: s.get(RunnerLease, name))


# ---- registration and per-runner leases (the ``runners`` table)


def register_runner(
    db: Database,
    me: RunnerIdentity,
    info: RunnerInfo | None = None,
    *,
    ttl_s: float = DEFAULT_TTL_S,
) -> Runner:
    """Write (or refresh) this runner's row: who it is, what it can run, and its lease."""
    info = info or RunnerInfo()

    def put(s: Session) -> Runner:
        now = db_now(s)
        row = s.get(Runner, me.holder)
        if row is None:
            row = Runner(id=me.holder, host=me.host, pid=me.pid, started_at=now)
            s.add(row)
        row.version = info.version
        row.gpus_json = json.dumps([dict(g) for g in info.gpus], sort_keys=True)
        row.vram_bytes = info.vram_bytes
        row.models_json = json.dumps(sorted(info.models))
        row.mode = info.mode
        row.heartbeat_at, row.expires_at = now, now + timedelta(seconds=ttl_s)
        return row

    return db.transact(put)


def runner_heartbeat(db: Database, me: RunnerIdentity, *, ttl_s: float = DEFAULT_TTL_S) -> None:
    """Extend this runner's own lease; raise ``OperationError`` when it is gone (another runner
    found it expired and took its job back)."""

    def beat(s: Session) -> None:
        if not _touch_runner(s, me, ttl_s):
            raise OperationError(
                "this runner's lease expired and other runners took its job back",
                hint="the database was unreachable or this machine stalled for longer than the "
                "lease; start the runner again",
            )

    db.transact(beat)


def _touch_runner(s: Session, me: RunnerIdentity, ttl_s: float) -> bool:
    row = s.get(Runner, me.holder)
    if row is None:
        return False
    now = db_now(s)
    row.heartbeat_at, row.expires_at = now, now + timedelta(seconds=ttl_s)
    return True


def list_runners(db: Database) -> list[Runner]:
    """Registered runners, oldest first (dead ones too, until some runner clears them)."""
    return db.read(lambda s: list(s.scalars(select(Runner).order_by(Runner.started_at))))


@dataclass(frozen=True)
class RunnerState:
    runner: Runner
    job_id: int | None  # the job it is running
    alive: bool  # its lease holds


def runner_states(db: Database) -> list[RunnerState]:
    """Registered runners, oldest first, with the job each runs and whether it is alive: what
    ``wan22 db status`` and the Queue view list."""

    def read(s: Session) -> list[RunnerState]:
        live, _dead = live_runner_ids(s)
        running = {
            j.runner_id: j.id
            for j in s.scalars(select(Job).where(Job.status == RUNNING))
            if j.runner_id
        }
        return [
            RunnerState(r, running.get(r.id), r.id in live)
            for r in s.scalars(select(Runner).order_by(Runner.started_at))
        ]

    return db.read(read)


def live_runner_ids(s: Session, *, host: str | None = None) -> tuple[set[str], list[Runner]]:
    """Ids of runners whose lease holds, and the rows of those that are dead."""
    now = db_now(s)
    host = host or socket.gethostname()
    started = postgres.server_started(s) if postgres.is_postgres(s.get_bind()) else None
    live: set[str] = set()
    dead: list[Runner] = []
    for row in s.scalars(select(Runner)):
        expired = row.expires_at <= now
        if expired and started is not None:
            # After a server restart every lease may have run out while nobody could renew it:
            # each runner gets one lease period from the restart to come back.
            expired = started + (row.expires_at - row.heartbeat_at) <= now
        stale = expired or (row.host == host and not pid_alive(row.pid))
        (dead.append(row) if stale else live.add(row.id))
    return live, dead
