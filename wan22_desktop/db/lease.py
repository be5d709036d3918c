"""The runner lease: only one runner (GUI or ``wan22 queue run``) works a data dir's queue.

The holder heartbeats before ``expires_at``. A lease may be taken over when it has expired, or at
once when its holder is a process on this host that no longer exists (killed, crashed).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import psutil
from sqlalchemy.orm import Session

from wan22_desktop.db.base import utcnow
from wan22_desktop.db.database import Database
from wan22_desktop.db.models import RunnerLease
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


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host (a zombie counts as dead)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied) as exc:
        return isinstance(exc, psutil.AccessDenied)  # another user's live process


def lease_is_stale(lease: RunnerLease, *, now: datetime, host: str) -> bool:
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
    """Extend the lease; raise ``OperationError`` if another runner has taken it meanwhile."""

    def beat(s: Session) -> None:
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
    def drop(s: Session) -> None:
        lease = s.get(RunnerLease, name)
        if lease is not None and lease.holder == me.holder:
            s.delete(lease)

    db.transact(drop)


def current_lease(db: Database, *, name: str = QUEUE_LEASE) -> RunnerLease | None:
    return db.read(lambda s: s.get(RunnerLease, name))
